"""``syndicate store …``: where the store's schema is, and bringing it to this release's head.

These commands open the store with ``Store()`` (which changes nothing) rather
than through ``Ctx.store`` (which upgrades a SQLite store on the spot), so that
``status`` reports a store as it is and ``upgrade`` is the one step that
changes it: the explicit step a PostgreSQL store needs after an upgrade of
syndicate (a SQLite store gets it from any command anyway).
"""

from __future__ import annotations

import click

from ..store import Store
from .context import Ctx, fail, handled, out


def _store(obj: Ctx) -> Store:
    with handled():
        return Store(obj.cfg.store.url)


@click.group()
def store() -> None:
    """The store's schema: its Alembic revision, and upgrading it to this release's.

    A SQLite store is upgraded by every command as it starts; any other
    store only by `syndicate store upgrade` (every other command refuses a
    store that is behind).
    """


@store.command()
@click.pass_obj
def status(obj: Ctx) -> None:
    """The store's revision, this syndicate's head, and whether an upgrade is due."""
    s = _store(obj)
    try:
        with handled():
            now = s.revision()
    finally:
        s.close()
    out.print(f"store: {s.label}")
    out.print(f"revision: {now.describe()}")
    out.print(f"head: {now.head}")
    if now.newer:
        fail(now.newer_problem())
    if now.due:
        out.print("upgrade due: yes (run `syndicate store upgrade`)")
    else:
        out.print("upgrade due: no")


@store.command()
@click.pass_obj
def upgrade(obj: Ctx) -> None:
    """Apply the revisions this store has not had (all in one transaction); print from → to.

    A new store is created, one from before Alembic is stamped at its schema
    version first, one newer than this syndicate is refused; nothing else changes.
    On PostgreSQL the work queue's tables (Procrastinate's) are added when missing.
    """
    s = _store(obj)
    try:
        with handled():
            before, after = s.upgrade()
            queue = False
            if s.engine.dialect.name == "postgresql":
                from ..cluster.queue_app import ensure_schema

                queue = ensure_schema(obj.cfg, s)
    finally:
        s.close()
    if before.due:
        out.print(f"upgraded {s.label}: {before.describe()} → {after.current}")
    else:
        out.print(f"{s.label} is at {after.current} (head): nothing to do")
    if queue:
        out.print("added the work queue's tables (Procrastinate's schema)")
