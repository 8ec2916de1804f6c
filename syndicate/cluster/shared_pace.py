"""A relay's ``rate`` held across every process and machine that sends through it.

``deliver.Pacer`` spaces one process's messages; a relay's limit is per
account, so with several workers each message takes its instant from the
relay's row in the store (``Store.reserve_send_slot``, one statement on the
database's clock) and sleeps until then.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..config import SmtpConfig
from ..digest.deliver import Pacer
from ..store import Store


class SharedPacer(Pacer):
    """``rate`` messages a second for the whole cluster (0: no limit, no statement)."""

    def __init__(self, store: Store, name: str, rate: float) -> None:
        super().__init__(rate)
        self.store, self.name = store, name

    def wait(self) -> None:
        if self.rate <= 0:
            return
        delay = self.store.reserve_send_slot(self.name, 1.0 / self.rate)
        if delay > 0:
            time.sleep(delay)


def pacer_for(store: Store) -> Callable[[SmtpConfig], Pacer]:
    """The factory ``deliver.transports_for`` takes: one shared pacer per relay."""
    made: dict[str, Pacer] = {}

    def get(relay: SmtpConfig) -> Pacer:
        name = f"smtp://{relay.username + '@' if relay.username else ''}{relay.host}:{relay.port}"
        if name not in made:
            made[name] = SharedPacer(store, name, relay.rate)
        return made[name]

    return get
