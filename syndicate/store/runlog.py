"""Runs and job slots: what every command and job recorded, and which slots are taken.

A run is written ``running`` when it starts and gets its real outcome when it
ends; one whose process died is closed ``interrupted`` by the next command
(``close_stale_runs``). A (job, slot) row is inserted once: the unique key
decides which of two racing daemons starts a scheduled digest.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..model import RunOutcome
from ..timeutil import now_utc
from .processes import HOST, process_alive, process_start
from .records import RunRecord
from .schema import job_slots, runs
from .wrapping import StoreBase, new_id

log = logging.getLogger("syndicate.store")


class RunLogMixin(StoreBase):
    def start_run(
        self, job: str, step: str, started: datetime, scheduled: datetime | None = None
    ) -> int:
        pid = os.getpid()
        with self.engine.begin() as conn:
            res = conn.execute(
                runs.insert().values(
                    job=job,
                    step=step,
                    started_at=started,
                    scheduled_at=scheduled,
                    counts="{}",
                    pid=pid,
                    host=HOST,
                    pid_started=process_start(pid),
                )
            )
            return new_id(res)

    def finish_run(
        self,
        run_id: int,
        finished: datetime,
        outcome: RunOutcome,
        counts: dict[str, Any],
        error: str | None = None,
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                runs.update()
                .where(runs.c.id == run_id)
                .values(
                    finished_at=finished,
                    outcome=str(outcome),
                    counts=json.dumps(counts, ensure_ascii=False, sort_keys=True),
                    error=error,
                )
            )

    def close_stale_runs(self, before: datetime | None = None) -> int:
        """Mark ``interrupted`` the runs still ``running`` whose process died (SIGKILL, power loss).

        Every command calls it when it opens the store, so a killed collect is
        never shown as running for long. A run is dead when the process that
        recorded it is gone from this host; a live one (a collect in another
        terminal) and one from another host are left alone. A daemon that has
        just taken the lock also passes ``before``, its start: every run begun
        before it is closed, even one whose owner cannot be checked (the
        rows from before schema 3); a run that is in fact still going records its
        real outcome when it ends.
        """
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    runs.c.id, runs.c.started_at, runs.c.pid, runs.c.host, runs.c.pid_started
                ).where(runs.c.outcome == RunOutcome.RUNNING.value)
            ).all()
        stale = [
            r.id
            for r in rows
            if (before is not None and r.started_at < before)
            or (r.pid is not None and r.host == HOST and not process_alive(r.pid, r.pid_started))
        ]
        if not stale:  # nothing written: a read-only store can still be looked at
            return 0
        with self.engine.begin() as conn:
            res = conn.execute(
                update(runs)
                .where(runs.c.id.in_(stale), runs.c.outcome == RunOutcome.RUNNING.value)
                .values(
                    outcome=RunOutcome.INTERRUPTED.value,
                    finished_at=before or now_utc(),
                    error="its process stopped before the run ended",
                )
            )
            closed = int(res.rowcount or 0)
        if closed:
            log.warning("marked %d run(s) left unfinished by a dead process interrupted", closed)
        return closed

    def last_successes(self) -> dict[str, datetime]:
        """When each job last ended ``ok`` or ``partial`` (the metrics' last-success gauge).

        Read at every scrape: per job, the newest such run found backwards along
        ``ix_runs_job_started`` (a few rows), not a scan of every run ever recorded.
        """
        done = [RunOutcome.OK.value, RunOutcome.PARTIAL.value]
        job = select(runs.c.job).distinct().subquery()
        newest = (
            select(runs.c.finished_at)
            .where(runs.c.job == job.c.job, runs.c.outcome.in_(done))
            .order_by(runs.c.started_at.desc())
            .limit(1)
            .scalar_subquery()
        )
        with self.engine.connect() as conn:
            rows = conn.execute(select(job.c.job, newest)).all()
        return {name: when for name, when in rows if when is not None}

    def last_runs(self, step: str | None = None) -> list[RunRecord]:
        """The newest run of each job (optionally of one step)."""
        with self.engine.connect() as conn:
            newest = select(runs.c.job, func.max(runs.c.id).label("id")).group_by(runs.c.job)
            if step:
                newest = newest.where(runs.c.step == step)
            sub = newest.subquery()
            rows = conn.execute(
                select(runs).join(sub, runs.c.id == sub.c.id).order_by(runs.c.job)
            ).all()
            return [
                RunRecord(
                    id=r.id,
                    job=r.job,
                    step=r.step,
                    scheduled_at=r.scheduled_at,
                    started_at=r.started_at,
                    finished_at=r.finished_at,
                    outcome=RunOutcome(r.outcome),
                    counts=json.loads(r.counts or "{}"),
                    error=r.error,
                    pid=r.pid,
                    host=r.host,
                    pid_started=r.pid_started,
                )
                for r in rows
            ]

    def finished_outcomes(self, job: str, limit: int) -> list[RunOutcome]:
        """The outcomes of the job's newest finished runs, newest first (for ``health``)."""
        with self.engine.connect() as conn:
            outcomes = conn.execute(
                select(runs.c.outcome)
                .where(runs.c.job == job, runs.c.outcome != RunOutcome.RUNNING.value)
                .order_by(runs.c.id.desc())
                .limit(limit)
            ).scalars()
            return [RunOutcome(o) for o in outcomes]

    # -- job slots ------------------------------------------------------

    def claim_slot(self, job: str, slot: str, now: datetime) -> bool:
        """Take (job, slot); False when it was already taken (by this or another daemon)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(job_slots).values(job=job, slot=slot, claimed_at=now))
            return True
        except IntegrityError:
            return False

    def slot_claimed(self, job: str, slot: str) -> bool:
        with self.engine.connect() as conn:
            q = select(job_slots.c.slot).where(job_slots.c.job == job, job_slots.c.slot == slot)
            return conn.execute(q).first() is not None
