"""Which ``syndicate run`` leads on a PostgreSQL store, and what happens when that changes.

A standby asks for the advisory lock every ``daemon.leader_poll`` seconds;
the leader refreshes it just as often and acts only while its lease is
provable (``store/advisory.py``). A leader that loses the lock calls
``on_lost`` at once: the daemon stops deferring and exits, and its service
manager starts it again as a standby. Taking over is bounded by the poll
plus the time the server needs to end the old session: at once when the
process died, ``IDLE_TIMEOUT`` when it is stopped or its machine vanished.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

from ..config import Config
from ..store.advisory import LeaderLock
from ..timeutil import now_utc

log = logging.getLogger("syndicate.leader")


class Leadership:
    def __init__(self, cfg: Config) -> None:
        self.poll = cfg.daemon.leader_poll
        self.lock = LeaderLock(cfg.store.url, pid=os.getpid())
        self._done = threading.Event()

    def wait_until_leader(self, stop: threading.Event) -> bool:
        """Stand by until the lock is ours (True) or ``stop`` is set (False)."""
        while not stop.is_set():
            if self.lock.try_acquire(now_utc()):
                return True
            stop.wait(self.poll)
        return False

    def keep(self, on_lost: Callable[[str], None]) -> None:
        """Refresh the lease in a thread of its own; ``on_lost`` once it cannot be proven."""

        def loop() -> None:
            while not self._done.wait(self.poll):
                if not self.lock.refresh():
                    on_lost("the leader's lock connection was lost")
                    return

        threading.Thread(target=loop, name="leader-lease", daemon=True).start()

    def leading(self) -> bool:
        return self.lock.leading()

    def release(self) -> None:
        self._done.set()
        self.lock.release()
