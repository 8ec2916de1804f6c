"""The units of work a ``syndicate worker`` runs: one Procrastinate task each.

``collect`` (one source), ``build`` (the feeds), ``bounces`` (the bounce
mailbox), ``compose`` (claim a digest's slot, create its edition, defer its
chunks) and ``deliver`` (one chunk of an edition's ledger rows).

Invariants:

- The ledger, not the queue, decides what was sent. A ``deliver`` task
  claims its rows as ``task:<job id>`` (``FOR UPDATE SKIP LOCKED``, with the
  ledger's lease); a retry of the same job (Procrastinate keeps the id) hands
  those rows back and claims again, so only unsent rows go out and at most
  the messages in flight at a kill go twice, with the same Message-ID.
- The slot ledger, not the queue, decides whether a digest slot was done:
  ``compose`` claims the slot itself, so a second ``compose`` for the same
  slot (deferred by a new leader) only resumes unfinished editions; the
  edition's period slot (``digest/periods.py``) keeps it to one per period.
- Every task records its run like the daemon's jobs do (``jobs.execute``),
  except ``deliver``, which logs one line per chunk.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from procrastinate import App, JobContext

from .. import jobs
from ..config import Config
from ..model import RunOutcome
from ..store import Store
from ..timeutil import now_utc
from . import dispatch
from .shared_pace import pacer_for

log = logging.getLogger("syndicate.tasks")


@dataclass
class WorkerRuntime:
    cfg: Config
    store: Store
    app: Any  # the worker's own Procrastinate app, for the tasks a task defers


_runtime: WorkerRuntime | None = None


def set_runtime(rt: WorkerRuntime | None) -> None:
    global _runtime
    _runtime = rt


def _rt() -> WorkerRuntime:
    if _runtime is None:
        raise RuntimeError("syndicate's tasks run in `syndicate worker` only")
    return _runtime


def _then(rt: WorkerRuntime) -> Any:
    return lambda other: dispatch.defer_job(rt.app, rt.cfg, rt.store, other)


def collect(job: str, source: str) -> str:
    rt = _rt()
    outcome = jobs.execute(rt.cfg, rt.store, job, step="collect", source=source, then=_then(rt))
    return str(outcome.outcome)


def build(job: str) -> str:
    rt = _rt()
    return str(jobs.execute(rt.cfg, rt.store, job, step="build", then=_then(rt)).outcome)


def bounces(job: str) -> str:
    rt = _rt()
    return str(jobs.execute(rt.cfg, rt.store, job, step="bounces", then=_then(rt)).outcome)


def compose(job: str, digest: str, slot: str | None) -> str:
    """Claim the slot, then create the edition; its delivery is left to ``deliver`` tasks."""
    from ..digest import editions

    rt = _rt()

    def run() -> jobs.StepResult:
        fresh = slot is None or jobs.claim_slot(rt.store, job, slot)
        known = job in rt.cfg.jobs  # the job's edition (and its slot's time), when configured
        rows, why = editions.prepare(
            rt.cfg,
            rt.store,
            digest,
            now=now_utc(),
            new_edition=fresh,
            period=jobs.job_edition(rt.cfg, job) if known else None,
            due=jobs.slot_time(rt.cfg, job, slot) if known and slot else None,
        )
        chunks = sum(dispatch.defer_chunks(rt.app, rt.cfg, rt.store, r.id) for r in rows)
        note = why.summary() if why is not None else ""
        if not fresh:
            note = "slot already handled; only unfinished editions resumed"
        return jobs.StepResult({"editions": len(rows), "chunks": chunks}, bool(rows), note=note)

    return str(jobs.execute(rt.cfg, rt.store, job, step="digest", run=run, then=_then(rt)).outcome)


def deliver(context: JobContext, edition_id: int, index: int) -> str:
    """One chunk: at most ``daemon.chunk`` rows of the edition, paced for the whole cluster."""
    from ..digest import editions

    rt = _rt()
    assert context.job is not None and context.job.id is not None
    result = editions.deliver_chunk(
        rt.cfg,
        rt.store,
        edition_id,
        claimer=f"task:{context.job.id}",
        limit=rt.cfg.daemon.chunk,
        pacer_for=pacer_for(rt.store),
    )
    log.info("chunk %d of edition %d: %s", index, edition_id, result.summary())
    if result.status == "aborted":
        return str(RunOutcome.PARTIAL)
    return str(RunOutcome.OK)


def register(app: App, namespace: str) -> None:
    """Attach the tasks to ``app`` as ``<namespace>:<name>``.

    Directly, not through a shared ``Blueprint``: ``add_tasks_from`` moves a
    blueprint's task objects to the newest app, so a second app made in the
    same process (the leader makes one per stalled-task round) would take the
    tasks from under the first.
    """
    for func in (collect, build, bounces, compose):
        app.task(name=f"{namespace}:{func.__name__}")(func)
    app.task(name=f"{namespace}:deliver", pass_context=True)(deliver)
