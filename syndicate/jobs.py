"""What the daemon runs: one function per step, and ``run_job`` for APScheduler.

APScheduler stores jobs by textual reference (``syndicate.jobs:run_job``)
with the job's name as the only argument: a row that cannot be unpickled is
silently dropped, so nothing else goes into the job store. The config and the
store come from the running daemon (``set_runtime``).

Every run is recorded in the store (job, scheduled time, start, end, outcome,
counts, error). Digest jobs first claim their wall-clock slot in
``job_slots``: a second run for the same slot (a restart, a repeated hour)
never starts a second edition. A digest job sends one edition of its digest
(``edition: day | week``, default the digest's period); the edition's own
slot (a day, an ISO week: ``digest/periods.py``) then keeps a job that runs
more often than its period to one edition per period.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import logs, stopping
from .config import Config
from .model import Period, RunOutcome
from .observe import metrics
from .store import Store
from .timeutil import now_utc, parse_duration
from .triggers import job_timezone, latest_fire

log = logging.getLogger("syndicate.jobs")


@dataclass
class Runtime:
    cfg: Config
    store: Store
    # the queue's leader sets this: a job is then deferred to the workers, not run here
    dispatch: Callable[[str, datetime | None], str] | None = None


_runtime: Runtime | None = None
_local = threading.local()


def set_runtime(runtime: Runtime | None) -> None:
    global _runtime
    _runtime = runtime


def set_scheduled_time(when: datetime | None) -> None:
    """Called by the daemon's executor just before a job runs."""
    _local.scheduled = when


@dataclass
class StepResult:
    counts: dict[str, Any] = field(default_factory=dict)
    changed: bool = False
    outcome: RunOutcome = RunOutcome.OK
    note: str = ""


@dataclass
class JobOutcome:
    job: str
    step: str
    outcome: RunOutcome
    duration: float
    counts: dict[str, Any]
    error: str | None = None
    chained: list[JobOutcome] = field(default_factory=list)
    changed: bool = False


def _collect(
    cfg: Config, store: Store, name: str, scheduled: datetime | None, source: str | None = None
) -> StepResult:
    from .collect.collector import collect, summary_counts

    counts = collect(cfg, store, record=False, only=source)
    outcome = (
        RunOutcome.INTERRUPTED
        if stopping.requested()
        else (RunOutcome.PARTIAL if counts.rejected else RunOutcome.OK)
    )
    return StepResult(summary_counts(counts), counts.changed, outcome)


def _build(cfg: Config, store: Store, name: str, scheduled: datetime | None) -> StepResult:
    from .publish.build import build

    result = build(cfg, store)
    counts = {"feeds": result.feeds, "written": len(result.written)}
    return StepResult(
        counts, result.changed, RunOutcome.OK, "nothing changed" if result.skipped else ""
    )


def _bounces(cfg: Config, store: Store, name: str, scheduled: datetime | None) -> StepResult:
    """Read the bounce mailbox: bounced and complaining subscribers stop getting digests."""
    from .digest import feedback, tokens

    counts = feedback.process(cfg, store, key=tokens.secret(), now=now_utc())
    log.info("%s", counts.describe())
    changed = bool(counts.bounced or counts.unsubscribed)
    return StepResult(counts.as_json(), changed, RunOutcome.OK)


def slot_key(cfg: Config, name: str, when: datetime) -> str:
    """The wall-clock slot a scheduled time stands for, in the job's own zone."""
    return when.astimezone(job_timezone(cfg, cfg.jobs[name])).strftime("%Y-%m-%d %H:%M:%S")


def slot_time(cfg: Config, name: str, key: str) -> datetime:
    """The scheduled time a slot key stands for (``slot_key`` read back)."""
    local = datetime.strptime(key, "%Y-%m-%d %H:%M:%S")
    return local.replace(tzinfo=job_timezone(cfg, cfg.jobs[name]))


def job_edition(cfg: Config, name: str) -> Period:
    """The edition a digest job sends: its ``edition``, else its digest's period."""
    job = cfg.jobs[name]
    if job.edition is not None:
        return Period(job.edition)
    return Period(next(d.period for d in cfg.digests if d.name == job.digest))


def claim_slot(store: Store, job: str, slot: str) -> bool:
    """Take the slot; False when a run (here or in another daemon) already took it."""
    return store.claim_slot(job, slot, now_utc())


def slot_claimed(store: Store, job: str, slot: str) -> bool:
    return store.slot_claimed(job, slot)


# what a digest job sends: (digest, one edition or None for each it has, when it was due)
Wanted = tuple[str, Period | None, datetime | None]


def _send(cfg: Config, store: Store, wanted: list[Wanted], *, new_editions: bool) -> StepResult:
    from .digest.editions import send_due

    if not wanted:
        return StepResult({"editions": 0, "sent": 0}, False, RunOutcome.OK, "no digest due")
    results = []
    for digest, period, due in wanted:
        results += send_due(
            cfg,
            store,
            now=now_utc(),
            names=[digest],
            new_editions=new_editions,
            record=False,
            period=period,
            due=due,
        )
    counts: dict[str, Any] = {"editions": 0, "sent": 0, "failed": 0, "pending": 0}
    for r in results:
        log.info("%s", r.summary())
        if r.edition_id is not None and r.status not in ("no-items", "already-sent"):
            counts["editions"] += 1
        counts["sent"] += r.sent_now
        counts["failed"] += r.failed
        counts["pending"] += r.pending
    interrupted = stopping.requested() or any(r.status == "interrupted" for r in results)
    failed = counts["failed"] or any(r.status in ("aborted", "incomplete") for r in results)
    outcome = (
        RunOutcome.INTERRUPTED if interrupted else (RunOutcome.PARTIAL if failed else RunOutcome.OK)
    )
    return StepResult(counts, bool(counts["sent"]), outcome)


def _digest(cfg: Config, store: Store, name: str, scheduled: datetime | None) -> StepResult:
    job = cfg.jobs[name]
    assert job.digest is not None
    slot = scheduled or latest_fire(cfg, job, now_utc())
    fresh = True
    if slot is not None and not claim_slot(store, name, slot_key(cfg, name, slot)):
        log.info("%s: slot %s already handled; only resuming unfinished editions", name, slot)
        fresh = False
    result = _send(cfg, store, [(job.digest, job_edition(cfg, name), slot)], new_editions=fresh)
    if not fresh:
        result.note = "slot already handled"
    return result


def _pipeline(cfg: Config, store: Store, name: str, scheduled: datetime | None) -> StepResult:
    """collect → build → every digest that is due (``run --once``)."""
    first = _collect(cfg, store, name, scheduled)
    second = _build(cfg, store, name, scheduled)
    counts = {**first.counts, **{f"build_{k}": v for k, v in second.counts.items()}}
    due = due_digests(cfg, store, now_utc())
    if due:
        third = _send_due_slots(cfg, store, due)
        counts.update({f"digest_{k}": v for k, v in third.counts.items()})
    outcome = RunOutcome.PARTIAL if first.outcome == RunOutcome.PARTIAL else RunOutcome.OK
    if stopping.requested():
        outcome = RunOutcome.INTERRUPTED
    return StepResult(counts, first.changed or second.changed, outcome)


Due = dict[tuple[str, Period | None], tuple[str, str | None, datetime | None]]


def due_digests(cfg: Config, store: Store, now: datetime) -> Due:
    """(digest, edition) → (job name, slot, fire) for each edition whose latest slot is not
    yet served.

    A digest with no job of its own is due on every run, every edition it has
    (edition None: its windows and its periods' slots decide).
    """
    due: Due = {}
    scheduled = {
        (job.digest, job_edition(cfg, name)): name
        for name, job in cfg.jobs.items()
        if job.digest and cfg.job_step(name) == "digest"
    }
    for digest in cfg.digests:
        if not any(d == digest.name for d, _ in scheduled):
            due[digest.name, None] = (digest.name, None, None)
            continue
        for (name, period), job_name in scheduled.items():
            if name != digest.name:
                continue
            fire = latest_fire(cfg, cfg.jobs[job_name], now)
            if fire is None:
                continue
            key = slot_key(cfg, job_name, fire)
            if not slot_claimed(store, job_name, key):
                due[digest.name, period] = (job_name, key, fire)
    return due


@dataclass(frozen=True)
class Overdue:
    """A digest slot that passed with no run: caught up (within its grace) or recorded missed."""

    job: str
    digest: str
    fire: datetime
    key: str
    late: bool  # past misfire_grace: recorded ``missed``, never sent


def overdue_slots(
    cfg: Config, store: Store, now: datetime, *, known_since: Callable[[str], datetime]
) -> list[Overdue]:
    """The slots a new leader must settle: each digest job's latest, unless already served.

    A slot before ``known_since(job)`` (when any daemon first scheduled this
    job definition) was never due, as for a job new to APScheduler's store.
    """
    out = []
    for name, job in cfg.jobs.items():
        if not job.digest:
            continue
        fire = latest_fire(cfg, job, now)
        if fire is None or fire < known_since(name):
            continue
        key = slot_key(cfg, name, fire)
        if slot_claimed(store, name, key):
            continue
        late = now - fire > parse_duration(job.misfire_grace)
        out.append(Overdue(name, job.digest, fire, key, late))
    return out


def record_missed(store: Store, slot: Overdue) -> bool:
    """Settle a slot past its grace: claimed (so once), logged and recorded ``missed``."""
    if not claim_slot(store, slot.job, slot.key):
        return False
    log_missed(store, slot.job, slot.fire)
    return True


def log_missed(store: Store, job: str, fire: datetime | None) -> None:
    """A run that never happened: logged and recorded ``missed`` (shown by ``status``)."""
    log.warning("job %s scheduled at %s was missed past its grace time: skipped", job, fire)
    run = store.start_run(job, RunOutcome.MISSED.value, now_utc(), fire)
    store.finish_run(run, now_utc(), RunOutcome.MISSED, {}, "missed past the grace time")
    metrics.job_finished(job, RunOutcome.MISSED, None)


def _send_due_slots(cfg: Config, store: Store, due: Due) -> StepResult:
    wanted: list[Wanted] = []
    for (digest, period), (job_name, key, fire) in due.items():
        if key is None or claim_slot(store, job_name, key):
            wanted.append((digest, period, fire))
    return _send(cfg, store, wanted, new_editions=True)


STEPS: dict[str, Callable[[Config, Store, str, datetime | None], StepResult]] = {
    "collect": _collect,
    "build": _build,
    "digest": _digest,
    "pipeline": _pipeline,
    "bounces": _bounces,
}


def execute(
    cfg: Config,
    store: Store,
    name: str,
    *,
    step: str | None = None,
    scheduled: datetime | None = None,
    chain: bool = True,
    source: str | None = None,
    run: Callable[[], StepResult] | None = None,
    then: Callable[[str], object] | None = None,
) -> JobOutcome:
    """Run one job now, record it, log one line, then run the jobs chained ``after`` it.

    The queue's tasks pass ``source`` (collect that source only), ``run`` (a
    step of their own, recorded the same way) and ``then`` (chained jobs are
    deferred to it rather than run here).
    """
    step = step or cfg.job_step(name)
    started = now_utc()
    t0 = time.monotonic()
    run_id = store.start_run(name, step, started, scheduled)
    error = None
    try:
        if run is not None:
            result = run()
        elif step == "collect":
            result = _collect(cfg, store, name, scheduled, source)
        else:
            result = STEPS[step](cfg, store, name, scheduled)
    except Exception as exc:
        # first line: what and where (shown by `status`, printed by a command); then the trace
        summary = logs.describe(exc, store.label)
        trace = traceback.format_exc().rstrip()
        error = f"{summary}\n\n{trace}"
        # a daemon's log is read after the fact: the trace goes there; a command
        # (`run --once`, `jobs run`) prints the summary, the trace only under debug
        level = logging.ERROR if _runtime is not None else logging.DEBUG
        log.log(level, "job %s raised: %s\n%s", name, summary, trace)
        result = StepResult(outcome=RunOutcome.ERROR)
    duration = time.monotonic() - t0
    store.finish_run(run_id, now_utc(), result.outcome, result.counts, error)
    metrics.job_finished(name, result.outcome, duration)
    counts = " ".join(f"{k}={v}" for k, v in result.counts.items())
    log.info(
        "job=%s step=%s outcome=%s duration=%.2fs %s%s",
        name,
        step,
        result.outcome,
        duration,
        counts,
        f" ({result.note})" if result.note else "",
        extra={
            "ctx_job": name,
            "ctx_step": step,
            "ctx_outcome": result.outcome,
            "ctx_duration": round(duration, 3),
            "ctx_counts": result.counts,
        },
    )
    outcome = JobOutcome(
        name, step, result.outcome, duration, result.counts, error, changed=result.changed
    )
    if chain and result.outcome in (RunOutcome.OK, RunOutcome.PARTIAL) and not stopping.requested():
        for other, job in cfg.jobs.items():
            if job.after == name and (result.changed or step != "collect"):
                if then is not None:
                    then(other)
                else:
                    outcome.chained.append(execute(cfg, store, other))
    return outcome


def run_job(name: str) -> str:
    """The daemon's entry point for every stored job (kept tiny and importable)."""
    if _runtime is None:
        raise RuntimeError("syndicate.jobs.run_job called outside the daemon")
    scheduled = getattr(_local, "scheduled", None)
    rt = _runtime
    if name not in rt.cfg.jobs:
        log.warning("job %s is no longer configured; skipped", name)
        return "skipped"
    if rt.dispatch is not None:
        return rt.dispatch(name, scheduled)
    return execute(rt.cfg, rt.store, name, scheduled=scheduled).outcome
