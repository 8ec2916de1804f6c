"""Alembic's environment for the store: run the revisions on the connection it is given.

``syndicate.store.versions.upgrade`` passes its connection, already inside the
one transaction the whole upgrade runs in, as ``config.attributes["connection"]``
(Alembic's documented recipe for programmatic use): nothing is committed here,
and no engine is made from a URL, so a password never passes through Alembic's
config (its ``%`` interpolation would mangle one anyway).

For a developer running the ``alembic`` command itself (``alembic -x
url=sqlite:///var/dev.db revision --autogenerate --rev-id 0004 -m …``), a URL
given with ``-x url=…`` is used instead; ``--sql`` prints the DDL.

``render_as_batch`` makes autogenerate write ``op.batch_alter_table`` blocks,
which SQLite needs for any ALTER beyond ADD COLUMN and which are plain ALTERs
elsewhere. ``logging.config.fileConfig`` is never called: it would replace
syndicate's logging setup.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import create_engine

from syndicate.store.schema import metadata

config = context.config
connection = config.attributes.get("connection")
options: dict[str, Any] = {
    "target_metadata": metadata,
    "render_as_batch": True,
    "compare_type": True,
}

if connection is not None:
    context.configure(connection=connection, **options)
    with context.begin_transaction():  # the caller's transaction: no commit here
        context.run_migrations()
else:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("give the store: alembic -x url=sqlite:///path/to/store.db …")
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
    else:
        engine = create_engine(url)
        with engine.begin() as conn:
            context.configure(connection=conn, **options)
            with context.begin_transaction():
                context.run_migrations()
        engine.dispose()
