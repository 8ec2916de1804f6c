"""What the leader defers, and the leader's rounds: catch-up, open rows, stalled tasks.

Invariants:

- Every defer is behind ``fence`` (the leader's lease, ``store/advisory.py``):
  a process that cannot prove it leads defers nothing.
- Queueing locks name the unit (``collect:<source>``, ``build:<job>``,
  ``compose:<digest>:<job>``, ``deliver:<edition>:<n>``), so deferring twice while the
  first waits queues it once; what still runs twice is made harmless by the
  slot ledger (``compose``) and the delivery ledger (``deliver``).
- Procrastinate's periodic tasks are not used: the APScheduler triggers of
  the leader decide when, and ``catch_up`` asks the slot ledger what a
  previous leader missed (within ``misfire_grace``; older slots are recorded
  ``missed``, as APScheduler does on one machine).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .. import jobs
from ..config import Config
from ..digest import ledger
from ..store import Store
from ..timeutil import now_utc
from ..triggers import latest_fire
from .queue_app import defer

log = logging.getLogger("syndicate.dispatch")

Fence = Callable[[], bool]


class Deposed(Exception):
    """This process can no longer prove it leads: nothing more is deferred."""


def _always() -> bool:
    return True


def _check(fence: Fence) -> None:
    if not fence():
        raise Deposed("not the leader (its lease could not be proven): nothing deferred")


def defer_job(
    app: Any,
    cfg: Config,
    store: Store,
    name: str,
    *,
    scheduled: datetime | None = None,
    fence: Fence = _always,
) -> int:
    """Queue the tasks of one configured job; how many were queued."""
    step = cfg.job_step(name)
    queued = 0
    if step == "collect":
        for source in cfg.sources:
            _check(fence)
            queued += (
                defer(app, "collect", lock=f"collect:{source.label}", job=name, source=source.label)
                is not None
            )
    elif step in ("build", "bounces"):
        _check(fence)
        queued += defer(app, step, lock=f"{step}:{name}", job=name) is not None
    elif step == "digest":
        job = cfg.jobs[name]
        assert job.digest is not None
        slot = scheduled or latest_fire(cfg, job, now_utc())
        key = jobs.slot_key(cfg, name, slot) if slot is not None else None
        _check(fence)
        queued += _defer_compose(app, name, job.digest, key) is not None
    else:  # pipeline: `run --once` only, never the daemon's
        log.warning("job %s: step %s is not run through the queue; skipped", name, step)
    return queued


def _defer_compose(app: Any, job: str, digest: str, slot: str | None) -> int | None:
    """One ``compose`` per digest job waiting at a time (its slot decides the rest).

    Locked by the job, not the digest: a digest's daily and weekly editions
    (``offer_weekly``) are two jobs whose composes may wait side by side.
    """
    return defer(app, "compose", lock=f"compose:{digest}:{job}", job=job, digest=digest, slot=slot)


def defer_chunks(app: Any, cfg: Config, store: Store, edition_id: int) -> int:
    """One ``deliver`` task per ``daemon.chunk`` pending rows of the edition."""
    pending = ledger.counts(store, edition_id)[ledger.PENDING]
    n = math.ceil(pending / cfg.daemon.chunk)
    return sum(
        defer(app, "deliver", lock=f"deliver:{edition_id}:{k}", edition_id=edition_id, index=k)
        is not None
        for k in range(n)
    )


def catch_up(
    app: Any,
    cfg: Config,
    store: Store,
    *,
    fence: Fence,
    known_since: Callable[[str], datetime],
) -> int:
    """Defer each digest slot that passed unserved within its grace; record older ones missed."""
    queued = 0
    for slot in jobs.overdue_slots(cfg, store, now_utc(), known_since=known_since):
        _check(fence)
        if slot.late:
            jobs.record_missed(store, slot)
            continue
        if _defer_compose(app, slot.job, slot.digest, slot.key) is not None:
            log.info("catching up %s: slot %s was not served", slot.job, slot.key)
            queued += 1
    return queued


def sweep(app: Any, cfg: Config, store: Store, *, fence: Fence) -> int:
    """Chunks for the pending rows of unfinished editions (a failed or lost chunk's rows)."""
    queued = 0
    for digest in cfg.digests:
        for row in ledger.unfinished(store, digest.name):
            if ledger.counts(store, row.id)[ledger.PENDING]:
                _check(fence)
                queued += defer_chunks(app, cfg, store, row.id)
    return queued


def retry_stalled(app: Any, *, after: float) -> int:
    """Put back in the queue the tasks whose worker stopped beating for ``after`` seconds.

    ``app`` is an app of its own, made once (``make_app``) and opened here for
    each round: Procrastinate's stalled-job calls exist only as coroutines, and
    the leader's deferring app is open synchronously.
    """

    async def run() -> int:
        async with app.open_async():
            stalled = list(await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=after))
            retried = 0
            for job in stalled:
                try:
                    await app.job_manager.retry_job(job)
                except Exception as exc:  # e.g. a task of the same queueing lock waits already
                    log.warning("task %s (%s) lost its worker; not requeued: %s", job.id,
                                job.task_name, exc)  # fmt: skip
                    continue
                log.warning("task %s (%s) lost its worker: queued again", job.id, job.task_name)
                retried += 1
            return retried

    return asyncio.run(run())
