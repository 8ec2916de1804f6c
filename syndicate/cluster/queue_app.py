"""The Procrastinate app over the store's PostgreSQL database, and deferring to it.

Invariants:

- One queue (``syndicate``), task names ``syndicate:<step>``; the tasks of
  ``tasks.py`` are attached to each app made here (each its own task objects).
- Every defer carries a queueing lock: a second defer of the same unit while
  the first still waits is refused by the database (``AlreadyEnqueued``) and
  reported as ``None``, never as a second task.
- Procrastinate's schema lives beside the store's tables and is applied by
  ``syndicate store upgrade`` (``ensure_schema``), never by a worker.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from sqlalchemy.engine import make_url

from ..config import Config
from ..errors import StoreError
from ..store import Store

log = logging.getLogger("syndicate.queue")

QUEUE = "syndicate"
NAMESPACE = "syndicate"


def conninfo(url: str) -> str:
    """The libpq connection string of a ``postgresql+psycopg://`` store URL."""
    u = make_url(url)
    if not u.drivername.startswith("postgresql"):
        raise StoreError(f"the queue needs a PostgreSQL store, not {u.drivername}")
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def make_app(cfg: Config, *, role: str, pool_size: int = 4) -> Any:
    """A Procrastinate ``App`` on the store's database, with syndicate's tasks attached."""
    try:
        import procrastinate
    except ImportError as exc:  # pragma: no cover - an install without the extra
        raise StoreError(
            "the queue needs the postgres extra: pip install 'syndicate[postgres]'"
        ) from exc
    from .tasks import register

    name = f"syndicate {role} {os.getpid()}@{socket.gethostname()}"[:63]
    connector = procrastinate.PsycopgConnector(
        conninfo=conninfo(cfg.store.url),
        min_size=1,
        max_size=pool_size,
        kwargs={"application_name": name},
    )
    app = procrastinate.App(connector=connector)
    register(app, NAMESPACE)
    return app


def task_name(step: str) -> str:
    return f"{NAMESPACE}:{step}"


def defer(app: Any, step: str, *, lock: str, **kwargs: Any) -> int | None:
    """Queue one task; None when the same unit (``lock``) is already waiting."""
    from procrastinate.exceptions import AlreadyEnqueued

    try:
        job_id = app.configure_task(task_name(step), queueing_lock=lock, queue=QUEUE).defer(
            **kwargs
        )
    except AlreadyEnqueued:
        log.debug("%s (%s) is already queued", step, lock)
        return None
    log.info("deferred %s %s (task %s)", step, lock, job_id)
    return int(job_id)


def ensure_schema(cfg: Config, store: Store) -> bool:
    """Apply Procrastinate's tables to the store's database when missing; True if applied."""
    if store.has_queue():
        return False
    app = make_app(cfg, role="upgrade", pool_size=1)
    with app.open():
        app.schema_manager.apply_schema()
    return True
