"""``syndicate run``: the APScheduler 3 daemon driven by schedule.yaml.

- One daemon per SQLite store (``lock.DaemonLock``), APScheduler's job table in
  its own SQLite file beside the store (``jobs.sqlite``), one worker thread so
  steps never overlap.
- On PostgreSQL, one daemon per machine: each stands by until it holds the
  leader's advisory lock (``cluster/leadership.py``); the leader keeps its
  triggers in memory (no job store is shared), catches up what the slot
  ledger says was missed, and with ``execute: queue`` only defers tasks
  behind its lease (``cluster/dispatch.py``). Losing the lock stops it at once
  (exit 75: a restart stands by).
- Jobs are reconciled, never re-added: a job's id carries a hash of its
  definition, so an unchanged job keeps its stored next run (and catches up
  after downtime within its grace time); a changed or new job is added; a
  vanished one removed. ``replace_existing`` would recompute the next run from
  now and silently drop a missed digest.
- SIGTERM/SIGINT: set the stop flag (steps stop at a unit boundary), shut the
  scheduler down waiting for the running job, exit 0 within
  ``daemon.shutdown_timeout``. SIGHUP: reload schedule.yaml; an invalid file
  is logged and the old schedule kept, and the watched folders are re-read.
- ``daemon.watch``: a change in a posts folder (``collect/watch.py``) queues one
  run of the collect job (and what it chains: build, which pings the hub) on
  the same single worker as the scheduled jobs, so no two collects overlap;
  changes arriving while that run waits are merged into it, changes arriving
  while it runs queue exactly one more. Only a leader watches (a standby never
  reaches the scheduler); with ``execute: queue`` the run defers the tasks.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import logging
import os
import signal
import socket
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.executors.base import run_job as aps_run_job
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.schedulers.blocking import BlockingScheduler

from . import jobs, stopping
from .collect.watch import Batch, Watcher, watched_folders
from .config import Config, JobConfig, load
from .errors import ConfigError
from .lock import DaemonLock, lock_path
from .observe import exposition, metrics
from .store import open_store
from .timeutil import now_utc, parse_duration
from .triggers import make_trigger

log = logging.getLogger("syndicate.daemon")
JOB_REF = "syndicate.jobs:run_job"
ROUNDS = 5  # leader polls between two rounds of the queue's leader (sweep, stalled tasks)


def _run_with_time(job: Any, alias: str, run_times: list[datetime], logger: str) -> Any:
    jobs.set_scheduled_time(run_times[-1] if run_times else None)
    try:
        return aps_run_job(job, alias, run_times, logger)
    finally:
        jobs.set_scheduled_time(None)


class SlotExecutor(ThreadPoolExecutor):
    """APScheduler's thread pool, telling the job which time it was scheduled for."""

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        def callback(f: Any) -> None:
            exc = f.exception()
            if exc:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, f.result())

        future = self._pool.submit(
            _run_with_time, job, job._jobstore_alias, run_times, self._logger.name
        )
        future.add_done_callback(callback)


def job_id(cfg: Config, name: str, job: JobConfig) -> str:
    """Name + hash of the definition (and the zone it is read in)."""
    dump = job.model_dump(mode="json")
    if dump.get("edition") is None:  # a job from before editions keeps its stored id
        dump.pop("edition", None)
    data = {"job": dump, "tz": job.timezone or cfg.site.timezone}
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]
    return f"{name}-{digest}"


def jobs_db(cfg: Config) -> Path:
    return lock_path(cfg).with_name("jobs.sqlite")


def watch_job(cfg: Config) -> str | None:
    """The job a watched change runs: the first collect job not chained to another.

    Its run chains what the config chains (``build: {after: collect}``), so a
    watched change takes exactly the scheduled path: collect, build, hub ping.
    """
    for name, job in cfg.jobs.items():
        if cfg.job_step(name) == "collect" and job.after is None:
            return name
    return None


class Daemon:
    def __init__(self, config_path: str | os.PathLike[str] | None) -> None:
        self.config_path = config_path
        self.cfg = load(config_path)
        self.store = open_store(self.cfg.store.url)
        # on PostgreSQL several daemons may run: one leads (an advisory lock), the others wait
        self.clustered = self.store.engine.dialect.name == "postgresql"
        self.lock = DaemonLock(lock_path(self.cfg))
        self.started = now_utc()
        self.scheduler: BlockingScheduler | None = None
        self.exit_code = 0
        self._loop_ended = threading.Event()
        self._standby_stop = threading.Event()
        self.leadership: Any = None  # cluster.leadership.Leadership when clustered
        self.node: Any = None  # cluster.nodes.NodeBeat when clustered
        self.queue: Any = None  # the Procrastinate app the leader defers to (execute: queue)
        self._runtime_dispatch: Any = None  # what jobs.Runtime defers through (execute: queue)
        self.watcher: Watcher | None = None
        self._watch_switch = threading.Lock()  # start and reload replace the watcher
        self._watch_lock = threading.Lock()
        self._watch_pending: Batch | None = None  # changes no watch run has taken yet
        self._watch_ids = itertools.count(1)
        self.metrics: exposition.MetricsServer | None = None  # daemon.metrics_port

    # -- lifecycle ------------------------------------------------------

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_reload)
        stopping.STOP.clear()
        if self.clustered:
            self._serve_metrics()  # a standby is scraped too: it shows it is alive
            if not self._stand_by():
                return self.exit_code
            # only this host's dead processes: workers elsewhere may be running theirs
            self.store.close_stale_runs()
        else:
            self.lock.acquire(self.started)
            if self.lock.previous and self.lock.previous.get("pid"):
                log.warning(
                    "took over a stale lock from pid %s on %s (that daemon is gone)",
                    self.lock.previous.get("pid"),
                    self.lock.previous.get("host"),
                )
            # the lock is ours: every run begun before this start is over (the store logs how many)
            self.store.close_stale_runs(self.started)
            self._serve_metrics()
        dispatch = None
        if self.cfg.daemon.execute == "queue":
            from .cluster.queue_app import make_app

            self.queue = make_app(self.cfg, role="leader").open()
            dispatch = self._dispatch
        self._runtime_dispatch = dispatch
        jobs.set_runtime(jobs.Runtime(self.cfg, self.store, dispatch))
        # a leader of a cluster keeps its triggers in memory: no job store is ever
        # shared, and what a previous leader missed is found in the slot ledger
        jobstore: Any = (
            MemoryJobStore()
            if self.clustered
            else SQLAlchemyJobStore(url=f"sqlite:///{jobs_db(self.cfg)}")
        )
        self.scheduler = BlockingScheduler(
            # "watch": the one-off runs a watched change queues (in memory, never reconciled)
            jobstores={"default": jobstore, "watch": MemoryJobStore()},
            executors={"default": SlotExecutor(max_workers=1)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=self.cfg.site.tz,
        )
        self.scheduler.add_listener(self._on_event, EVENT_JOB_MISSED | EVENT_JOB_ERROR)
        from apscheduler.events import EVENT_SCHEDULER_STARTED

        self.scheduler.add_listener(lambda _e: self._started(), EVENT_SCHEDULER_STARTED)
        log.info(
            "daemon started: pid %s, %d jobs, store %s%s",
            os.getpid(),
            len(self.cfg.jobs),
            self.store.label,
            ", deferring to the workers" if dispatch else "",
        )
        try:
            if not stopping.requested():
                self.scheduler.start()
        finally:
            self._loop_ended.set()
            if self.watcher is not None:
                self.watcher.stop()
            self._write_health(state="stopped")
            jobs.set_runtime(None)
            if self.queue is not None:
                self.queue.close()
            if self.clustered:
                self.leadership.release()
                self.node.stop()
            else:
                self.lock.release()
            if self.metrics is not None:
                self.metrics.stop()
            log.info("daemon stopped")
        return self.exit_code

    def _serve_metrics(self) -> None:
        """``daemon.metrics_port``: a port in use fails the start (the lock handed back)."""
        port = self.cfg.daemon.metrics_port
        if port is None:
            return
        metrics.prepare(self.cfg)
        try:
            self.metrics = exposition.start(
                self.cfg.daemon.metrics_host,
                port,
                self.store.last_successes,
                key="daemon.metrics_port",
            )
        except Exception:
            if not self.clustered:
                self.lock.release()
            raise

    def _stand_by(self) -> bool:
        """Wait for the leader's lock; False when asked to stop first."""
        from .cluster.leadership import Leadership
        from .cluster.nodes import NodeBeat

        self.node = NodeBeat(self.store, kind="run", role="standby").start()
        self.leadership = Leadership(self.cfg)
        if not self.leadership.lock.try_acquire(now_utc()):
            holder = self.store.current_leader()
            who = f"pid {holder.pid} on {holder.host}" if holder else "another daemon"
            log.info("standing by: %s leads (asking every %.0fs)", who, self.leadership.poll)
            self._write_health(state="standby")
            if not self.leadership.wait_until_leader(self._standby_stop):
                self.leadership.release()
                self.node.stop()
                self._write_health(state="stopped")
                log.info("daemon stopped (was standing by)")
                return False
        log.info("leading from now on (pid %s on %s)", os.getpid(), self.node.host)
        self.node.set_role("leader")
        self.leadership.keep(self._lost_lead)
        return True

    def _lost_lead(self, why: str) -> None:
        """Fencing: nothing more is deferred or started; exit for a restart as a standby."""
        log.error("%s: no longer the leader; stopping now (a restart stands by)", why)
        self.exit_code = 75  # EX_TEMPFAIL: systemd's Restart= brings it back
        self._on_stop(signal.SIGTERM, None)

    def _dispatch(self, name: str, scheduled: datetime | None) -> str:
        from .cluster import dispatch

        try:
            n = dispatch.defer_job(
                self.queue,
                self.cfg,
                self.store,
                name,
                scheduled=scheduled,
                fence=self.leadership.leading,
            )
        except dispatch.Deposed as exc:
            log.error("job %s: %s", name, exc)
            return "refused"
        log.info("job %s: %d task(s) deferred", name, n)
        return "deferred"

    def _leader_rounds(self) -> None:
        """The queue's leader: catch up missed slots once, then sweep and recover stalled tasks."""
        from .cluster import dispatch
        from .cluster.queue_app import make_app
        from .cluster.worker import STALLED_AFTER

        fence = self.leadership.leading
        recovery = make_app(self.cfg, role="leader", pool_size=1)
        first = True
        while not self._loop_ended.is_set() and not stopping.requested():
            try:
                if first:
                    dispatch.catch_up(
                        self.queue, self.cfg, self.store, fence=fence, known_since=self._known_since
                    )
                    first = False
                dispatch.sweep(self.queue, self.cfg, self.store, fence=fence)
                if fence():
                    dispatch.retry_stalled(recovery, after=STALLED_AFTER)
            except dispatch.Deposed as exc:
                log.error("%s", exc)
                return
            except Exception:  # a store away for a moment: the next round tries again
                log.exception("leader round failed")
            self._loop_ended.wait(ROUNDS * self.cfg.daemon.leader_poll)

    def _known_since(self, name: str) -> datetime:
        """When a daemon first scheduled this job definition (set now if none did)."""
        key = f"job-since:{job_id(self.cfg, name, self.cfg.jobs[name])}"
        stored = self.store.get_meta(key)
        if stored:
            return datetime.fromisoformat(stored)
        self.store.set_meta(key, self.started.isoformat())
        return self.started

    def _catch_up_inline(self) -> None:
        """A new leader that does the work itself: the slots its predecessor missed, once."""
        for slot in jobs.overdue_slots(
            self.cfg, self.store, now_utc(), known_since=self._known_since
        ):
            if slot.late:
                jobs.record_missed(self.store, slot)
                continue
            log.info("catching up %s: slot %s was not served", slot.job, slot.fire)
            jobs.set_scheduled_time(slot.fire)
            try:
                jobs.execute(self.cfg, self.store, slot.job, scheduled=slot.fire)
            finally:
                jobs.set_scheduled_time(None)

    def _started(self) -> None:
        self.reconcile(self.cfg)
        # the heartbeat is a plain thread, not a scheduler job: a job that asks the
        # scheduler for its jobs would deadlock with shutdown(wait=True)
        threading.Thread(target=self._heartbeat, name="heartbeat", daemon=True).start()
        if self.clustered and self.queue is not None:
            threading.Thread(target=self._leader_rounds, name="leader-rounds", daemon=True).start()
        elif self.clustered and self.scheduler is not None:
            self.scheduler.add_job(self._catch_up_inline, id="catch-up", name="catch-up")
        self._switch_watch(self.cfg)

    # -- watching the posts folders ----------------------------------------

    def _switch_watch(self, cfg: Config) -> None:
        """Watch what ``cfg`` says (maybe nothing), replacing a watcher that watches otherwise."""
        with self._watch_switch:
            folders: dict[str, str] = {}
            if not cfg.daemon.watch:
                pass
            elif watch_job(cfg) is None:
                log.info("daemon.watch: no job runs collect; the posts folders are not watched")
            else:
                folders = watched_folders(cfg)
            old = self.watcher
            same = (
                old is not None
                and old.alive
                and old.folders == folders
                and (old.settle, old.max_wait)
                == (cfg.daemon.watch_settle, cfg.daemon.watch_max_wait)
            )
            if same or stopping.requested():
                return
            if old is not None:
                old.stop()
                self.watcher = None
            if folders:
                self.watcher = Watcher(
                    folders,
                    self._on_changes,
                    settle=cfg.daemon.watch_settle,
                    max_wait=cfg.daemon.watch_max_wait,
                ).start()

    def _on_changes(self, batch: Batch) -> None:
        """From the watcher's thread: merge into the waiting run, or queue one."""
        if stopping.requested() or self.scheduler is None:
            return
        with self._watch_lock:
            waiting = self._watch_pending is not None
            self._watch_pending = (
                batch if self._watch_pending is None else self._watch_pending.merge(batch)
            )
        if waiting:
            return
        try:
            # a fresh id each time: APScheduler refuses a second instance of a job id
            # (max_instances) while the first still runs, and the change would be lost
            self.scheduler.add_job(
                self._watch_run,
                id=f"watch-{next(self._watch_ids)}",
                name="watch",
                jobstore="watch",
                misfire_grace_time=None,
            )
        except Exception:  # the scheduler is shutting down: the next start collects anyway
            log.exception("daemon.watch: cannot queue a run")

    def _watch_run(self) -> None:
        """On the scheduler's worker: collect (and what the config chains) for the changes."""
        with self._watch_lock:
            batch, self._watch_pending = self._watch_pending, None
        cfg = self.cfg
        name = watch_job(cfg)
        if batch is None or name is None or stopping.requested():
            return
        where = ", ".join(sorted(batch.sources))
        # one changed source of several: collect that one only (a due upstream feed
        # would otherwise hold the new post back for its fetch)
        only = next(iter(batch.sources)) if len(batch.sources) == 1 < len(cfg.sources) else None
        extra = {
            "ctx_job": "watch",
            "ctx_changes": batch.changes,
            "ctx_sources": sorted(batch.sources),
        }
        if self.queue is not None:
            result = self._dispatch(name, None)
            latency = time.time() - batch.first
            log.info(
                "watch: %d change(s) in %s: %s %s %.2fs after the first change (workers build)",
                batch.changes, where, name, result, latency,
                extra={**extra, "ctx_latency": round(latency, 3)},
            )  # fmt: skip
            return
        outcome = jobs.execute(cfg, self.store, name, source=only)
        latency = time.time() - batch.first
        steps = _flatten(outcome)
        built = [o for o in steps if o.step == "build"]
        done = " → ".join(f"{o.job} {o.outcome}" for o in steps)
        what = "feeds written" if any(o.changed for o in built) else "no feed changed"
        log.info(
            "watch: %d change(s) in %s: %s; %s %.2fs after the first change",
            batch.changes, where, done, what, latency,
            extra={**extra, "ctx_latency": round(latency, 3)},
        )  # fmt: skip

    def _heartbeat(self) -> None:
        beat = max(1.0, parse_duration(self.cfg.daemon.heartbeat).total_seconds())
        while not self._loop_ended.is_set() and not stopping.requested():
            try:
                self._write_health()
            except Exception:  # a full disk must not kill the daemon
                log.exception("cannot write the health file")
            self._loop_ended.wait(beat)

    def reconcile(self, cfg: Config) -> None:
        assert self.scheduler is not None
        stored = {j.id: j for j in self.scheduler.get_jobs(jobstore="default")}
        wanted: dict[str, tuple[str, JobConfig]] = {}
        for name, job in cfg.jobs.items():
            if make_trigger(cfg, job) is not None:
                wanted[job_id(cfg, name, job)] = (name, job)
        for jid in stored.keys() - wanted.keys():
            log.info("removing job %s (no longer in the config)", stored[jid].name)
            self.scheduler.remove_job(jid, jobstore="default")
        for jid, (name, job) in wanted.items():
            if self.clustered and job.digest:
                self._known_since(name)  # from now on its slots are due (catch-up)
            grace = int(parse_duration(job.misfire_grace).total_seconds())
            if jid in stored:
                log.info("keeping job %s, next run %s", name, stored[jid].next_run_time)
                continue
            self.scheduler.add_job(
                JOB_REF,
                make_trigger(cfg, job),
                args=[name],
                id=jid,
                name=name,
                jobstore="default",
                misfire_grace_time=grace,
                coalesce=True,
                max_instances=1,
                # an interval job new to the store runs at once (collect on start)
                **({"next_run_time": now_utc()} if job.every else {}),
            )
            log.info("added job %s", name)

    def _on_event(self, event: JobExecutionEvent) -> None:
        name = event.job_id.rsplit("-", 1)[0]
        if event.code == EVENT_JOB_MISSED:
            jobs.log_missed(self.store, name, event.scheduled_run_time)
        elif event.code == EVENT_JOB_ERROR:
            log.error("job %s failed: %s", name, event.exception)

    # -- signals --------------------------------------------------------

    def _on_stop(self, signum: int, _frame: Any) -> None:
        if stopping.requested():
            return
        if self.scheduler is None:  # still standing by (or not started): just leave
            stopping.STOP.set()
            self._standby_stop.set()
            return
        log.info(
            "received %s: finishing the running job, then exiting", signal.Signals(signum).name
        )
        stopping.STOP.set()
        if self.watcher is not None:
            self.watcher.stop_event.set()  # joined in run(): not in a signal handler
        threading.Thread(target=self._shutdown, name="shutdown", daemon=True).start()

    def _shutdown(self) -> None:
        assert self.scheduler is not None
        done = threading.Event()

        def stop() -> None:
            assert self.scheduler is not None
            # the signal may arrive while the scheduler is still starting
            while self.scheduler.state == STATE_STOPPED and not self._loop_ended.is_set():
                time.sleep(0.05)
            with contextlib.suppress(SchedulerNotRunningError):
                self.scheduler.shutdown(wait=True)
            done.set()

        threading.Thread(target=stop, daemon=True).start()
        if not done.wait(self.cfg.daemon.shutdown_timeout):
            log.error(
                "running job did not stop within %.0fs: exiting anyway",
                self.cfg.daemon.shutdown_timeout,
            )
            self._write_health(state="killed")
            self.lock.release()
            os._exit(1)

    def _on_reload(self, _signum: int, _frame: Any) -> None:
        threading.Thread(target=self.reload, name="reload", daemon=True).start()

    def reload(self) -> None:
        try:
            cfg = load(self.config_path)
        except ConfigError as exc:
            log.error("reload refused, keeping the running schedule:\n%s", exc)
            return
        self.cfg = cfg
        metrics.prepare(cfg)  # a source or job new in the file shows at 0 from now on
        # the leader of a queue keeps deferring after a reload (execute is not reloaded)
        jobs.set_runtime(jobs.Runtime(cfg, self.store, self._runtime_dispatch))
        self.reconcile(cfg)
        self._switch_watch(cfg)
        log.info("reloaded %s: %d jobs", cfg.path, len(cfg.jobs))

    # -- health ---------------------------------------------------------

    def _write_health(self, state: str = "running") -> None:
        info: dict[str, Any] = {
            "state": state,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": self.started.isoformat(),
            "heartbeat": now_utc().isoformat(),
            "jobs": {},
            "watching": sorted(self.watcher.folders)
            if self.watcher and self.watcher.watching
            else [],
        }
        if self.scheduler is not None and state == "running":
            for job in self.scheduler.get_jobs(jobstore="default"):
                info["jobs"][job.name] = {
                    "next_run": job.next_run_time.isoformat() if job.next_run_time else None
                }
        path = Path(self.cfg.daemon.health_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(info, indent=2), encoding="utf-8")
        os.replace(tmp, path)


def _flatten(outcome: jobs.JobOutcome) -> list[jobs.JobOutcome]:
    out = [outcome]
    for c in outcome.chained:
        out.extend(_flatten(c))
    return out


def stored_jobs(cfg: Config) -> dict[str, datetime | None]:
    """Next run per job, read from the job store without starting a scheduler.

    A paused scheduler still fires due jobs on shutdown, so listing must not
    create one: the job table is read directly.
    """
    db = jobs_db(cfg)
    if not db.exists():
        return {}
    store = SQLAlchemyJobStore(url=f"sqlite:///{db}")
    try:
        return {job.name: job.next_run_time for job in store.get_all_jobs()}
    except Exception as exc:  # an unreadable job table is reported, not fatal
        log.warning("cannot read %s: %s", db, exc)
        return {}
    finally:
        store.shutdown()
