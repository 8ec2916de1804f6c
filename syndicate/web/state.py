"""What every request handler needs: the config, the store, the token key, the files."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from ..config import Config
from ..store import Store, StoreError
from .feeds import FileServer

log = logging.getLogger(__name__)


class StoreUnavailable(Exception):
    """The store cannot be opened or queried right now (health says 503)."""


class StoreHandle:
    """Opens the store on first use and again after a failure.

    The server starts even when the database is down (the feeds are files and
    still served); the pages that need the store answer 503 until it is back.
    """

    def __init__(self, url: str, store: Store | None = None) -> None:
        self.url = url
        self._store = store
        self._lock = threading.Lock()

    def get(self) -> Store:
        with self._lock:
            if self._store is None:
                try:
                    self._store = Store(self.url)
                except (StoreError, SQLAlchemyError, OSError) as exc:
                    log.warning("store unavailable: %s", exc)
                    raise StoreUnavailable(str(exc)) from None
            return self._store


@dataclass
class WebState:
    cfg: Config
    store: StoreHandle
    key: bytes | None  # SYNDICATE_SECRET; None: token pages answer 503
    files: FileServer = field(init=False)

    def __post_init__(self) -> None:
        self.files = FileServer(self.cfg.feeds.dir)
