"""Each ``run`` and ``worker`` process's row in ``nodes``, kept fresh by a heartbeat thread.

The row is only for people (``syndicate status``): who leads is the advisory
lock's answer. A row is removed when its process stops cleanly; a killed
process's row ages and is pruned by ``Store.list_nodes``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime

from ..errors import StoreError
from ..store import Store
from ..store.records import NodeRecord
from ..timeutil import now_utc

log = logging.getLogger("syndicate.nodes")

BEAT = 5.0  # seconds between two writes of the row


class NodeBeat:
    def __init__(self, store: Store, *, kind: str, role: str) -> None:
        self.store = store
        self.kind, self.role = kind, role
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.started = self.role_since = now_utc()
        self.id = f"{kind}:{self.host}:{self.pid}:{int(self.started.timestamp())}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def record(self, now: datetime) -> NodeRecord:
        return NodeRecord(
            id=self.id,
            kind=self.kind,
            host=self.host,
            pid=self.pid,
            started_at=self.started,
            heartbeat_at=now,
            role=self.role,
            role_since=self.role_since,
        )

    def set_role(self, role: str) -> None:
        self.role, self.role_since = role, now_utc()
        self.beat()

    def beat(self) -> None:
        try:
            self.store.beat_node(self.record(now_utc()))
        except StoreError as exc:  # a store that is away for a moment must not stop the process
            log.warning("cannot write this process's heartbeat: %s", exc)

    def start(self) -> NodeBeat:
        def loop() -> None:
            while not self._stop.is_set():
                self.beat()
                self._stop.wait(BEAT)

        self._thread = threading.Thread(target=loop, name="node-heartbeat", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self.store.remove_node(self.id)
        except StoreError as exc:
            log.warning("cannot remove this process's row: %s", exc)
