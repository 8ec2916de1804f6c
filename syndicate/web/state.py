"""What every request handler needs: the config, the store, the token key, the files.

The store handle fails closed. An unsubscribe answered 200 has to be in the
file the daemon reads, so before a write (and on every use) it checks that
the path still names the file it opened (device and inode: a replaced or
deleted file keeps taking writes through the open connections, and they
are lost) and that the file can be written; a write that fails anyway is
reported, never acknowledged. One stat and a few access() calls a request.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError

from ..config import Config
from ..errors import StoreUnavailable
from ..publish import layout
from ..store import Store, StoreError, open_store
from .static import FileServer

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_AFTER = "120"  # seconds, on every 503 caused by the store
# /healthz keeps reporting a failed write this long, unless a later write succeeds
WRITE_FAILURE_HOLD = 300.0
STORE_ERRORS = (StoreError, SQLAlchemyError, OSError)


def _file_id(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


class StoreHandle:
    """Opens the store on first use (and again after a failure to open), then guards it.

    The server starts even when the database is down (the feeds are files and
    still served); the pages that need the store answer 503 until it is back.
    A store file replaced or deleted under the server stays refused until
    ``serve`` restarts: reopening would read a restore the operator has not
    vetted, or create an empty store in which every link is "invalid".
    """

    def __init__(self, url: str, store: Store | None = None) -> None:
        self.url = url
        self._store: Store | None = None
        self._opened: tuple[int, int] | None = None  # (st_dev, st_ino) of the file opened
        self._lost = ""  # "replaced" or "deleted", for good once seen
        self._write_failed_at: float | None = None
        self._lock = threading.Lock()
        if store is not None:
            self._adopt(store)

    def _adopt(self, store: Store) -> None:
        if store.path is not None:
            try:
                self._opened = _file_id(store.path)
            except OSError:
                log.warning("store file vanished as it was opened")
                raise StoreUnavailable("the store cannot be opened") from None
        self._store = store

    def get(self) -> Store:
        """The store for reading: it opened, and it is still the file at its path."""
        with self._lock:
            if self._store is None:
                try:
                    store = open_store(self.url)
                except STORE_ERRORS as exc:
                    log.warning("store unavailable: %s", exc)
                    raise StoreUnavailable("the store cannot be opened") from None
                self._adopt(store)
            assert self._store is not None
            self._check_identity(self._store)
            return self._store

    def _check_identity(self, store: Store) -> None:
        if not self._lost and self._opened is not None and store.path is not None:
            try:
                now = _file_id(store.path)
            except FileNotFoundError:
                self._lost = "deleted"
            except OSError:
                raise StoreUnavailable("the store file cannot be checked") from None
            else:
                if now != self._opened:
                    self._lost = "replaced"
            if self._lost:
                log.error(
                    "store file %s was %s after serve opened it: writes answer 503 "
                    "until `syndicate serve` restarts",
                    store.path,
                    self._lost,
                )
        if self._lost:
            raise StoreUnavailable(f"the store file was {self._lost} after serve opened it")

    def writable(self) -> Store:
        """The store for a write: as ``get``, and the file can be written now."""
        store = self.get()
        problem = _unwritable(store.path)
        if problem:
            # connections opened while read-only stay read-only: open new ones once fixed
            store.engine.dispose()
            raise StoreUnavailable(problem)
        return store

    def write(self, change: Callable[[Store], T]) -> T:
        """Run ``change`` (one transaction); StoreUnavailable unless it surely landed.

        Surely: the checks passed before, the write raised nothing, and the
        path still names the file opened afterwards (else it may have gone
        to the old one).
        """
        store = self.writable()
        try:
            result = change(store)
        except STORE_ERRORS as exc:
            log.error("a write to the store failed: %s", exc)
            with self._lock:
                self._write_failed_at = time.monotonic()
            store.engine.dispose()  # a read-only or broken connection is not reused
            raise StoreUnavailable("the last write to the store failed") from None
        self.get()
        with self._lock:
            self._write_failed_at = None
        return result

    def problem(self) -> str:
        """Why the store cannot take writes now, for /healthz; "" when it can."""
        try:
            store = self.get()
        except StoreUnavailable as exc:
            return str(exc)
        problem = _unwritable(store.path)
        if problem:
            return problem
        with self._lock:
            failed = self._write_failed_at
        if failed is not None and time.monotonic() - failed < WRITE_FAILURE_HOLD:
            return "the last write to the store failed"
        return ""


def _unwritable(path: Path | None) -> str:
    """Why SQLite could not write ``path`` (and its WAL files), or "" (no path: not SQLite)."""
    if path is None:
        return ""
    if not os.access(path, os.W_OK):
        return "the store file is read-only"
    folder_ok: bool | None = None
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            if not os.access(side, os.W_OK):
                return "the store's write-ahead log is read-only"
            continue
        if folder_ok is None:  # SQLite has to create it
            folder_ok = os.access(path.parent, os.W_OK | os.X_OK)
        if not folder_ok:
            return "the store folder is read-only"
    return ""


@dataclass
class WebState:
    cfg: Config
    store: StoreHandle
    key: bytes | None  # SYNDICATE_SECRET; None: token pages answer 503
    files: FileServer = field(init=False)

    def __post_init__(self) -> None:
        self.files = FileServer(self.cfg.feeds.dir, feed_types=layout.feed_types(self.cfg))
