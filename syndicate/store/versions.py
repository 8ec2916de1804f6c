"""Schema versions: the steps that bring an older store to the head, run once each."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    inspect,
    select,
)
from sqlalchemy.engine import Connection

from .schema import meta, posts, runs

SCHEMA_VERSION = 3

# Migrations: MIGRATIONS[n] brings a store from schema version n+1 to n+2.
# A new store is created at the head (create_all) and stamped, like
# `alembic stamp head`; an existing one runs every step it has not seen, each
# in its own transaction, so a release never drops data.
Migration = Callable[[Connection], None]


def _covering_indexes(conn: Connection) -> None:
    """Schema 2: the posts table's covering indexes (see its definition); nothing dropped."""
    for index in posts.indexes:
        if index.name in ("ix_posts_stat", "ix_posts_id_visible", "ix_posts_changed_at"):
            index.create(conn, checkfirst=True)
    analyze(conn)


def _run_owner(conn: Connection) -> None:
    """Schema 3: which process records each run (null for the runs before it), and the
    index that finds the runs still running."""
    have = {c["name"] for c in inspect(conn).get_columns("runs")}
    for column in (runs.c.pid, runs.c.host, runs.c.pid_started):
        if column.name not in have:
            kind = column.type.compile(conn.dialect)
            conn.exec_driver_sql(f"ALTER TABLE runs ADD COLUMN {column.name} {kind}")
    for index in runs.indexes:
        if index.name == "ix_runs_outcome":
            index.create(conn, checkfirst=True)


MIGRATIONS: list[Migration] = [_covering_indexes, _run_owner]


def _set_version(conn: Connection, version: int) -> None:
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
