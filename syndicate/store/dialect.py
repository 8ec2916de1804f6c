"""Statements whose SQL differs between SQLite and PostgreSQL, behind one function each.

Everything else in the store is written once for both. The other places
that look at the dialect: ``core`` (SQLite's pragmas), ``versions`` (SQLite's
upgrade engine, its foreign-key check), ``history`` (SQLite's secure delete
and checkpoint), ``cluster_state`` (pacing on the server's clock, the
leader and the queue, PostgreSQL only).
"""

from __future__ import annotations

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
