"""Schema versions: the Alembic revisions under ``migrations/``, and bringing a store to the head.

Revision ids are sequence numbers (``0001``, ``0002``, …) and revision N is
the schema the hand-written migrations called version N, so a store from
before Alembic (``meta.schema_version = N``, no ``alembic_version`` table) is
stamped at revision N and upgraded from there, every row kept.

``meta.schema_version`` is kept, written as the head's number after every
upgrade: syndicate releases from before Alembic read only that row, and it
is what makes them refuse a store newer than they are instead of using it.
The revision itself is read from ``alembic_version``.

Alembic is imported only when a store is behind (or a command asks): a store
already at ``HEAD`` is recognised with one query, so commands start fast.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection

from ..errors import StoreError
from .dialect import enter_wal
from .schema import meta, metadata

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

# The newest revision under migrations/versions/ (tests/test_store.py checks it is).
HEAD = "0007"
SCHEMA_VERSION = int(HEAD)  # what meta.schema_version says once a store is at HEAD

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# pg_advisory_xact_lock(int4, int4) held by an upgrade on PostgreSQL: ('SYND', 2)
UPGRADE_KEY = (0x53594E44, 2)

# Alembic's own table, read without importing Alembic; never created from here.
alembic_version = Table(
    "alembic_version", MetaData(), Column("version_num", String(32), primary_key=True)
)


@dataclass(frozen=True)
class Revision:
    """Where a store is: its revision (None: empty), the head, and how that was read."""

    current: str | None
    head: str
    legacy: bool = False  # read from meta.schema_version: no alembic_version table yet
    newer: bool = False  # a revision this syndicate does not know: a newer release made it

    @property
    def due(self) -> bool:
        """An upgrade would change the store: behind, or not stamped by Alembic yet.

        Never true of a newer store: that one is refused.
        """
        return not self.newer and (self.current != self.head or self.legacy)

    def describe(self) -> str:
        """The current revision as the commands print it."""
        if self.current is None:
            return "none (empty store)"
        if self.legacy:
            return f"{self.current} (schema_version {int(self.current)}, before Alembic)"
        return self.current

    def newer_problem(self) -> str:
        label = f"schema version {int(self.current or 0)}" if self.legacy else "revision"
        value = "" if self.legacy else f" {self.current}"
        return f"store {label}{value} is newer than this syndicate; upgrade syndicate"


def _read(conn: Connection) -> tuple[str | None, bool]:
    """The store's revision and whether it came from the legacy row, as stored."""
    insp = inspect(conn)
    if insp.has_table("alembic_version"):
        found = list(conn.execute(select(alembic_version.c.version_num)).scalars())
        if len(found) > 1:  # branches: never made by syndicate's linear chain
            raise StoreError(f"store has several revisions ({', '.join(sorted(found))})")
        return (found[0] if found else None), False
    if insp.has_table("meta"):
        value = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).scalar()
        if value is not None:
            try:
                return f"{int(value):04d}", True
            except ValueError:
                raise StoreError(f"store schema_version {value!r} is not a number") from None
    ours = set(insp.get_table_names()) & set(metadata.tables)
    if ours:  # a store neither Alembic nor the hand-written migrations stamped
        raise StoreError(
            f"store has syndicate's tables ({', '.join(sorted(ours))}) but no schema revision"
        )
    return None, False


@functools.cache
def _script() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


def _config(conn: Connection | None = None) -> Any:
    """Alembic's config, built in code: no alembic.ini to ship or to find."""
    from alembic.config import Config

    cfg = Config()
    # Config values are interpolated: a % in the install path must be doubled
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if conn is not None:
        cfg.attributes["connection"] = conn
    return cfg


def known_revisions() -> list[str]:
    """Every revision this syndicate ships, oldest first."""
    return [r.revision for r in reversed(list(_script().walk_revisions()))]


def script_head() -> str:
    """The head as the revision files say (HEAD must equal it)."""
    head = _script().get_current_head()
    assert head is not None
    return head


def revision(conn: Connection) -> Revision:
    """Where the store behind ``conn`` is; Alembic is loaded only if it is not at HEAD."""
    current, legacy = _read(conn)
    if current == HEAD:
        return Revision(current, HEAD, legacy)
    newer = current is not None and current not in known_revisions()
    return Revision(current, HEAD, legacy, newer)


def migration_engine(url: str) -> Engine:
    """SQLite: an engine of its own for the upgrade, one real transaction for all of it.

    pysqlite runs DDL outside any transaction (it only opens one before DML),
    so a failed revision would leave half a schema: with the driver's own
    transaction handling off and an explicit ``BEGIN IMMEDIATE`` (SQLAlchemy's
    documented recipe) every revision and the version stamp commit together
    or not at all, and the write lock taken up front makes a second process
    starting at the same moment wait, then find the store already upgraded.
    Foreign keys are off on this connection only: batch mode rebuilds a
    table by copying it and dropping the old one, which enforcement would
    refuse (or cascade); ``PRAGMA foreign_key_check`` runs before the commit.
    """
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=30000")
        enter_wal(cur)
        cur.execute("PRAGMA foreign_keys=OFF")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def upgrade(conn: Connection) -> tuple[Revision, Revision]:
    """Bring the store to HEAD inside the caller's transaction: (before, after).

    An empty store runs every revision from 0001; a legacy store is stamped
    at its schema version first; a store newer than this syndicate is refused.
    On PostgreSQL a transaction-level advisory lock comes first, so that a
    second upgrade started at the same moment waits, then finds the store
    upgraded (SQLite's ``BEGIN IMMEDIATE`` does that there: ``migration_engine``).
    """
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:k1, :k2)"),
            dict(zip(("k1", "k2"), UPGRADE_KEY, strict=True)),
        )
    before = revision(conn)
    if before.newer:
        raise StoreError(before.newer_problem())
    if not before.due:
        return before, before
    from alembic import command

    cfg = _config(conn)
    if before.legacy:
        assert before.current is not None  # a legacy store has a version to stamp
        command.stamp(cfg, before.current)
    command.upgrade(cfg, "head")
    if conn.dialect.name == "sqlite":
        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise StoreError(f"upgrade left {len(broken)} rows with a broken reference; undone")
    _set_schema_version(conn, SCHEMA_VERSION)
    return before, revision(conn)


def _set_schema_version(conn: Connection, version: int) -> None:
    """The legacy row, for the releases before Alembic (see the module's docstring)."""
    row = conn.execute(select(meta.c.key).where(meta.c.key == "schema_version")).first()
    if row:
        conn.execute(meta.update().where(meta.c.key == "schema_version").values(value=str(version)))
    else:
        conn.execute(meta.insert().values(key="schema_version", value=str(version)))


def analyze(conn: Connection) -> None:
    """Refresh the query planner's statistics (after a large change to the posts).

    Without them SQLite looks a post up by its rowid, reading the whole row,
    rather than through a covering index; PostgreSQL's autovacuum keeps its
    own, but an explicit ANALYZE does no harm. Other dialects: nothing.
    """
    if conn.dialect.name in ("sqlite", "postgresql"):
        conn.exec_driver_sql("ANALYZE")
