"""The sources table: one row per configured source (named by ``name``), with a feed's state.

A name belongs to one kind of source; the columns after ``location`` are an
upstream feed's state (``FeedState``) and unused by other kinds.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy import select

from .records import FeedState, SourceRow
from .schema import sources
from .wrapping import StoreBase, Tx, new_id

_STATE_COLUMNS = [
    f.name for f in fields(FeedState) if f.name not in ("source_id", "name", "location")
]


def _source_row(row: Any) -> SourceRow:
    m = row._mapping
    state = FeedState(
        source_id=m["id"],
        name=m["name"],
        location=m["location"],
        **{c: m[c] for c in _STATE_COLUMNS},
    )
    return SourceRow(m["kind"], state)


class SourceStateMixin(StoreBase):
    def source_id(self, tx: Tx, name: str, kind: str, location: str) -> int:
        """The source's id, its row created on first sight (kind and location kept current)."""
        row = tx.conn.execute(select(sources.c.id).where(sources.c.name == name)).first()
        if row:
            tx.conn.execute(
                sources.update().where(sources.c.id == row[0]).values(kind=kind, location=location)
            )
            return int(row[0])
        res = tx.conn.execute(sources.insert().values(name=name, kind=kind, location=location))
        return new_id(res)

    def source_row(self, tx: Tx, name: str) -> SourceRow | None:
        row = tx.conn.execute(select(sources).where(sources.c.name == name)).first()
        return _source_row(row) if row is not None else None

    def add_source(self, tx: Tx, name: str, kind: str, location: str) -> int:
        res = tx.conn.execute(sources.insert().values(name=name, kind=kind, location=location))
        return new_id(res)

    def save_feed_state(self, tx: Tx, kind: str, state: FeedState) -> None:
        tx.conn.execute(
            sources.update()
            .where(sources.c.id == state.source_id)
            .values(
                kind=kind,
                location=state.location,
                **{c: getattr(state, c) for c in _STATE_COLUMNS},
            )
        )
