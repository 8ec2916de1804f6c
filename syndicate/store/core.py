"""The ``Store``: the engine, its connections and the ``meta`` table; one mixin per table group.

``Store`` is composed of the mixins of ``content`` (posts, categories, tags),
``sourcestate`` (sources), ``runlog`` (runs, job slots), ``audience``
(subscribers), ``pending`` (sign-ups awaiting confirmation), ``history``
(events, erasure, forgotten addresses), ``feedback_log`` (bounces read)
and ``mailings`` (editions,
deliveries); every public method
they define raises ``StoreError``, never SQLAlchemy's errors (``wrapping``).

The one SQLite-only piece here (WAL and busy timeout pragmas) is in
``_sqlite_pragmas`` and only runs on SQLite connections; ``dialect`` names
every other place where SQLite and PostgreSQL differ.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Engine,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from ..errors import StoreError
from ..logs import one_line
from . import versions
from .audience import AudienceMixin
from .cluster_state import ClusterMixin
from .content import ContentMixin
from .dialect import enter_wal, upsert
from .feedback_log import FeedbackMixin
from .history import HistoryMixin
from .mailings import MailingsMixin
from .pending import PendingMixin
from .runlog import RunLogMixin
from .schema import META_KEY_LENGTH, meta
from .sourcestate import SourceStateMixin
from .versions import HEAD, Revision

log = logging.getLogger("syndicate.store")


def _sqlite_pragmas(engine: Engine) -> None:
    """SQLite only: WAL so readers never block the collector, and a busy timeout."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=30000")
        enter_wal(cur)
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()


def redact_url(url: str) -> str:
    """The URL as messages may show it: the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a URL)"  # might still hold a password: never echoed


def _folder_problem(db_path: Path, exc: OSError) -> str:
    """Why the store's folder cannot be made: a file in the way, or the OS's reason."""
    for parent in reversed(db_path.parents):
        if parent.exists() and not parent.is_dir():
            return f"{parent} is not a directory"
    return f"cannot create {exc.filename or db_path.parent}: {exc.strerror or exc}"


def _file_problem(db_path: Path) -> str | None:
    """The OS's reason SQLite could not open the file (its own says only "unable to open").

    Only called once SQLite has failed: opening the file read-write (or creating,
    then removing, it) gives the real errno, which holds for root too.
    """
    try:
        if db_path.exists():
            os.close(os.open(db_path, os.O_RDWR))
        else:
            os.close(os.open(db_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            db_path.unlink()
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


class Store(
    ContentMixin,
    SourceStateMixin,
    RunLogMixin,
    AudienceMixin,
    PendingMixin,
    HistoryMixin,
    FeedbackMixin,
    MailingsMixin,
    ClusterMixin,
):
    """The store: the engine and connections here, each table group's queries in its mixin."""

    def __init__(self, url: str) -> None:
        """The engine only: no folder made, no connection, no table touched.

        So that reading a store (``syndicate store status``, a check before a
        command) never changes it; ``upgrade`` (or ``open_store``) is the step
        that makes the folder and brings the schema to the head. A bad URL or
        a missing driver is already a ``StoreError`` here.
        """
        self.url = url
        self.path: Path | None = None
        if url.startswith("sqlite") and ":///" in url and ":memory:" not in url:
            self.path = Path(url.split(":///", 1)[1])
        # a server's connections can end under the pool (a restart, a failover, an idle
        # timeout): each is tested as it is taken, so a long-running daemon never gets one
        options: dict[str, Any] = {} if url.startswith("sqlite") else {"pool_pre_ping": True}
        try:
            self.engine = create_engine(url, future=True, **options)
        except (ArgumentError, ImportError) as exc:
            raise StoreError(f"store.url {redact_url(url)}: {one_line(str(exc))}") from exc
        if self.engine.dialect.name == "sqlite":
            _sqlite_pragmas(self.engine)

    @property
    def label(self) -> str:
        """The store's file, or its URL without the password: how messages name it."""
        if self.path is not None:
            return str(self.path)
        return redact_url(self.url)

    def _open_problem(self, exc: DBAPIError) -> str:
        driver = one_line(str(exc.orig))
        if self.path is None:
            return f"cannot open {self.label}: {driver}"
        reason = _file_problem(self.path)
        return f"cannot open {self.path}: " + (f"{reason} (sqlite: {driver})" if reason else driver)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    # -- schema ---------------------------------------------------------

    def revision(self) -> Revision:
        """Where the schema is (``Revision.due``: an upgrade would change it); changes nothing.

        Every way of failing to open it (a file that cannot be read or is not
        a database, a server that does not answer) is one ``StoreError``
        naming the file or URL and the reason, rather than the driver's
        traceback. A SQLite file that does not exist yet is an empty store,
        answered without connecting (which would create the file).
        """
        if self.path is not None and not self.path.exists():
            return Revision(None, HEAD)
        try:
            with self.connect() as conn:
                return versions.revision(conn)
        except DBAPIError as exc:
            raise StoreError(self._open_problem(exc)) from exc

    def schema_version(self) -> int:
        """The revision as a number (revision N is the old schema version N; 0: empty)."""
        return int(self.revision().current or 0)

    def upgrade(self) -> tuple[Revision, Revision]:
        """Make the folder (SQLite) and bring the schema to the head: (before, after).

        An empty store gets every revision, a store from before Alembic is
        stamped at its schema version and upgraded, a store newer than this
        syndicate is refused; all of it in one transaction. Failing to make
        the folder or open the file is one ``StoreError`` naming it.
        """
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot open {self.path}: {_folder_problem(self.path, exc)}"
                ) from exc
        try:
            with self.connect() as conn:  # the usual path: already at the head, one query
                now = versions.revision(conn)
            if now.newer:
                raise StoreError(now.newer_problem())
            if not now.due:
                return now, now
            # SQLite files: an engine of the upgrade's own (see migration_engine)
            engine = versions.migration_engine(self.url) if self.path is not None else self.engine
            try:
                with engine.begin() as conn:
                    return versions.upgrade(conn)
            finally:
                if engine is not self.engine:
                    engine.dispose()
        except DBAPIError as exc:
            self.engine.dispose()
            raise StoreError(self._open_problem(exc)) from exc

    # -- meta -----------------------------------------------------------
    # Any key may be given: one longer than the column is stored under ``meta_key``'s
    # short form of it (PostgreSQL enforces the column's length, SQLite does not).

    def get_meta(self, key: str) -> str | None:
        key = meta_key(key)
        with self.connect() as conn:
            return conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar()

    def set_meta(self, key: str, value: str) -> None:
        with self.begin() as conn:
            upsert(conn, meta, {"key": meta_key(key), "value": value})

    def replace_meta(self, key: str, value: str | None) -> None:
        """Set ``key`` to ``value``, or delete it (None), in one commit."""
        key = meta_key(key)
        with self.begin() as conn:
            conn.execute(meta.delete().where(meta.c.key == key))
            if value is not None:
                conn.execute(meta.insert().values(key=key, value=value))


def meta_key(key: str) -> str:
    """``key`` as the ``meta`` table holds it: as given when it fits, else cut and hashed.

    The cut keeps the key readable (``subscribers-file:/srv/…``) and the hash
    of the whole keeps two long keys apart.
    """
    if len(key) <= META_KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{key[: META_KEY_LENGTH - 17]}#{digest}"


def open_store(url: str) -> Store:
    """The store ready for use: SQLite is upgraded on the spot, other dialects are checked.

    A SQLite store belongs to this installation, so it is created and
    upgraded automatically (as ``Store()`` used to); a server's schema is
    shared with whatever else uses it, so it is upgraded only on request
    (``syndicate store upgrade``) and a store that is behind is refused here.
    """
    store = Store(url)
    try:
        if store.engine.dialect.name == "sqlite":
            store.upgrade()
            return store
        now = store.revision()
        if now.newer:
            raise StoreError(now.newer_problem())
        if now.due:
            raise StoreError(
                f"{store.label} is at revision {now.describe()}, this syndicate needs {HEAD}: "
                "run `syndicate store upgrade`"
            )
    except BaseException:
        store.close()
        raise
    return store
