"""The daemon as operators run it: real processes, short schedules, a real store."""

from __future__ import annotations

import json
import signal

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from syndicate.cli import main
from syndicate.store import Store, runs

from .conftest import ON_POSTGRES
from .daemon_util import DaemonProcess, wait_for
from .test_stale_runs import run_left_by_a_process_that_exits

JOBS = """\
jobs:
  collect: {every: 1s}
  build: {after: collect}
daemon: {heartbeat: 1s, shutdown_timeout: 10}
"""


def count_runs(store: Store, job: str, outcome: str | None = None) -> int:
    with store.connect() as conn:
        q = select(func.count()).select_from(runs).where(runs.c.job == job)
        if outcome:
            q = q.where(runs.c.outcome == outcome)
        return int(conn.execute(q).scalar() or 0)


@pytest.fixture
def daemon_site(site):
    site.add_seed()
    site.extend_config(JOBS)
    return site


def cli(site, *args):
    return CliRunner().invoke(main, ["--config", str(site.config_path), *args])


def test_collects_on_interval_builds_after_and_stops_cleanly(daemon_site):
    d = DaemonProcess(daemon_site.config_path)
    store = daemon_site.store()
    try:
        wait_for(lambda: count_runs(store, "collect") >= 2, what="two collects")
        feed = daemon_site.root / "feeds" / "caijing.atom"
        wait_for(feed.exists, what="the first build")
        daemon_site.post("2022-03-01-new.md", title="守护进程收集的新文章")
        wait_for(lambda: "守护进程收集的新文章" in feed.read_text(encoding="utf-8"), what="rebuild")
        assert cli(daemon_site, "health").exit_code == 0
        listing = cli(daemon_site, "jobs")
        assert "collect" in listing.output and "after collect" in listing.output
    finally:
        code = d.stop()
    assert code == 0, d.output()
    out = d.output()
    assert "job=collect step=collect outcome=ok" in out
    assert "job=build step=build outcome=ok" in out
    assert "received SIGTERM" in out and "daemon stopped" in out
    assert count_runs(store, "collect", "running") == 0  # every run was closed
    assert cli(daemon_site, "health").exit_code == 1  # not running any more


def test_runs_left_running_by_a_dead_process_are_closed(daemon_site):
    store = daemon_site.store()
    # recorded by a process that then died (on PostgreSQL the daemon may not close the
    # runs of live processes: they may be workers; on SQLite it closes every older run)
    dead = run_left_by_a_process_that_exits(store)
    d = DaemonProcess(daemon_site.config_path)
    try:
        wait_for(lambda: count_runs(store, "collect", "ok") >= 1, what="a collect")
    finally:
        assert d.stop() == 0
    with store.connect() as conn:
        row = conn.execute(select(runs).where(runs.c.id == dead)).mappings().one()
    assert row["outcome"] == "interrupted" and row["finished_at"] is not None
    assert "marked 1 run(s) left unfinished by a dead process interrupted" in d.output()


@pytest.mark.sqlite_only("the lock file beside the store; PostgreSQL elects: test_cluster.py")
def test_second_daemon_refuses_and_stale_lock_is_taken_over(daemon_site):
    first = DaemonProcess(daemon_site.config_path)
    store = daemon_site.store()
    try:
        wait_for(lambda: count_runs(store, "collect") >= 1, what="first daemon running")
        second = DaemonProcess(daemon_site.config_path)
        assert second.proc.wait(20) == 1
        assert f"pid {first.proc.pid}" in second.output()
        assert "another syndicate daemon is running" in second.output()
        second.stop()
    finally:
        first.kill()  # SIGKILL: the lock file stays behind, the flock does not
    third = DaemonProcess(daemon_site.config_path)
    try:
        before = count_runs(store, "collect")
        wait_for(lambda: count_runs(store, "collect") > before, what="third daemon working")
        assert f"took over a stale lock from pid {first.proc.pid}" in third.output()
    finally:
        assert third.stop() == 0


def test_sighup_reload(daemon_site):
    d = DaemonProcess(daemon_site.config_path)
    store = daemon_site.store()
    try:
        wait_for(lambda: count_runs(store, "collect") >= 1, what="running")
        good = daemon_site.config_path.read_text()
        daemon_site.config_path.write_text(good + "bogus_key: 1\n")
        d.signal(signal.SIGHUP)
        wait_for(lambda: "reload refused" in d.output(), what="refused reload")
        assert "bogus_key: unknown key" in d.output()
        n = count_runs(store, "collect")
        wait_for(lambda: count_runs(store, "collect") > n + 1, what="old schedule still running")
        daemon_site.config_path.write_text(
            good.replace(
                "  build: {after: collect}\n",
                "  build: {after: collect}\n  extra: {run: build, every: 1s}\n",
            )
        )
        d.signal(signal.SIGHUP)
        wait_for(lambda: count_runs(store, "extra") >= 1, what="new job from the reloaded file")
    finally:
        assert d.stop() == 0, d.output()


def test_a_failing_job_does_not_stop_the_daemon(daemon_site):
    (daemon_site.root / "blocker").write_text("a file where a folder should be")
    daemon_site.extend_config("feeds:\n  dir: blocker/feeds\n")
    daemon_site.config_path.write_text(
        daemon_site.config_path.read_text().replace("build: {after: collect}", "build: {every: 1s}")
    )
    d = DaemonProcess(daemon_site.config_path)
    store = daemon_site.store()
    try:
        wait_for(lambda: count_runs(store, "build", "error") >= 3, what="three failed builds")
        assert count_runs(store, "collect", "ok") >= 2  # the rest goes on
        health = cli(daemon_site, "health")
        assert health.exit_code == 1 and "job build failed 3 times in a row" in health.output
    finally:
        assert d.stop() == 0
    assert "job build raised" in d.output() and "Traceback" in d.output()
    with store.connect() as conn:
        error = conn.execute(
            select(runs.c.error).where(runs.c.job == "build", runs.c.outcome == "error")
        ).first()[0]
    assert "NotADirectoryError" in error or "FileExistsError" in error


def test_json_logs(daemon_site):
    d = DaemonProcess(daemon_site.config_path, "--log-format", "json")
    store = daemon_site.store()
    try:
        wait_for(lambda: count_runs(store, "collect") >= 1, what="a collect")
        wait_for(lambda: '"job": "collect"' in d.output(), what="the job log line")
    finally:
        assert d.stop() == 0
    lines = [json.loads(line) for line in d.output().splitlines() if line.strip()]
    job_lines = [x for x in lines if x.get("job") == "collect"]
    assert job_lines[0]["outcome"] == "ok" and job_lines[0]["counts"]["files"] == 1
    assert "duration" in job_lines[0] and job_lines[0]["level"] == "info"


def test_jobs_listing_does_not_start_a_scheduler(daemon_site):
    d = DaemonProcess(daemon_site.config_path)
    store = daemon_site.store()
    try:
        wait_for(lambda: count_runs(store, "collect") >= 1, what="a collect")
    finally:
        d.stop()
    # the job store beside a SQLite store (a leader on PostgreSQL keeps its triggers in memory)
    db = daemon_site.root / "var" / "jobs.sqlite"
    assert db.exists() != ON_POSTGRES
    before = (db.stat().st_mtime_ns, db.read_bytes()) if db.exists() else None
    n = count_runs(store, "collect")
    result = cli(daemon_site, "jobs")
    assert result.exit_code == 0 and "every 1s" in result.output
    assert ((db.stat().st_mtime_ns, db.read_bytes()) if db.exists() else None) == before
    assert count_runs(store, "collect") == n  # nothing fired


def test_wrong_job_definitions_fail_at_load(site):
    site.extend_config("jobs:\n  x: {every: 1m, cron: '0 8 * * *'}\n")
    result = cli(site, "jobs")
    assert result.exit_code == 1 and "schedule.yaml:14: jobs.x: give exactly one trigger" in (
        result.output
    )
    site.write_config(
        site.config_path.read_text().replace(
            "x: {every: 1m, cron: '0 8 * * *'}", "x: {cron: '61 8 * * *'}"
        )
    )
    assert "invalid cron expression" in cli(site, "jobs").output
    site.write_config(
        site.config_path.read_text().replace(
            "x: {cron: '61 8 * * *'}", "x: {run: build, after: nope}"
        )
    )
    assert "jobs.x: after: no job named 'nope'" in cli(site, "jobs").output
    site.write_config(
        site.config_path.read_text().replace(
            "x: {run: build, after: nope}", "x: {digest: nope, at: '08:00'}"
        )
    )
    assert "not a configured digest" in cli(site, "jobs").output
