"""Statements whose SQL differs between SQLite and PostgreSQL, behind one function each.

Everything else in the store is written once for both. The other places
that look at the dialect: ``core`` (SQLite's pragmas, ``enter_wal`` here;
a server's pool tests its connections), ``versions`` (SQLite's upgrade
engine and foreign-key check, PostgreSQL's upgrade lock), ``history``
(SQLite's secure delete and checkpoint), ``cluster_state`` (pacing on the
server's clock, the leader and the queue, PostgreSQL only).
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from sqlalchemy import Table, literal, select
from sqlalchemy.engine import Connection


def insert_if_absent(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    """Insert the row unless its primary key is taken; True when it went in.

    One statement, ``INSERT … ON CONFLICT DO NOTHING`` on SQLite and
    PostgreSQL: never an ``IntegrityError``, even against a concurrent
    transaction inserting the same key (PostgreSQL makes the second wait for
    the first, then inserts nothing; SQLite's write lock orders them). Other
    dialects: ``INSERT … SELECT … WHERE NOT EXISTS``.
    """
    key = [c.name for c in table.primary_key.columns]
    name = conn.dialect.name
    stmt: Any
    if name == "postgresql":
        from sqlalchemy.dialects import postgresql

        stmt = postgresql.insert(table).values(values).on_conflict_do_nothing(index_elements=key)
    elif name == "sqlite":
        from sqlalchemy.dialects import sqlite

        stmt = sqlite.insert(table).values(values).on_conflict_do_nothing(index_elements=key)
    else:
        cols = list(values)
        taken = select(*[table.c[k] for k in key]).where(*[table.c[k] == values[k] for k in key])
        source = select(*[literal(values[c], table.c[c].type) for c in cols]).where(~taken.exists())
        stmt = table.insert().from_select([table.c[c] for c in cols], source)
    # an INSERT's rowcount is only kept when asked for (psycopg's cursor is closed by then)
    res = conn.execute(stmt.execution_options(preserve_rowcount=True))
    return bool(res.rowcount and res.rowcount > 0)


def upsert(conn: Connection, table: Table, values: dict[str, Any]) -> None:
    """Insert the row, or update the one whose primary key it has: one statement.

    ``INSERT … ON CONFLICT DO UPDATE`` on SQLite and PostgreSQL, so two
    writers of the same new key never meet a unique violation. Other
    dialects: an ``UPDATE``, then an ``INSERT`` when it changed nothing.
    """
    key = [c.name for c in table.primary_key.columns]
    changes = {c: v for c, v in values.items() if c not in key}
    name = conn.dialect.name
    if name in ("postgresql", "sqlite"):
        from sqlalchemy.dialects import postgresql, sqlite

        dml = postgresql if name == "postgresql" else sqlite
        stmt = dml.insert(table).values(values)
        conn.execute(stmt.on_conflict_do_update(index_elements=key, set_=changes))
        return
    where = [table.c[k] == values[k] for k in key]
    res = conn.execute(
        table.update().where(*where).values(changes).execution_options(preserve_rowcount=True)
    )
    if not res.rowcount:
        conn.execute(table.insert().values(values))


def enter_wal(cursor: Any, timeout: float = 30.0) -> None:
    """SQLite: ``PRAGMA journal_mode=WAL`` on a new connection, waiting for another one.

    Switching a new file to WAL needs it to itself, and SQLite answers
    "database is locked" at once (its busy timeout does not apply) while
    another connection is switching or creating it: two commands started
    together on a new store. So it is tried again, for up to ``timeout``.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
