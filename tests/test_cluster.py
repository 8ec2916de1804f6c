"""Several machines on one PostgreSQL store, as separate processes on this one.

Real ``syndicate run`` and ``syndicate worker`` processes, a real PostgreSQL
(``tests/pg_server.py``), a real SMTP server (aiosmtpd on 127.0.0.1). What
must hold whatever is killed or stopped: each subscriber gets an edition
exactly once (at most the messages in flight at a kill twice, with the same
Message-ID), one process leads at a time, a leader that cannot prove its
lease defers nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from syndicate.digest.subscribers import Entry
from syndicate.errors import ConfigError
from syndicate.store import Store, deliveries, editions
from syndicate.store.advisory import LeaderLock
from syndicate.timeutil import now_utc

from .conftest import Site
from .daemon_util import DaemonProcess, wait_for
from .digest_support import SECRET, collect_at, configure, subscribe, write_posts
from .smtp_server import Recorder, addresses, smtp_server

pytestmark = pytest.mark.pg_only

ENV = {"SYNDICATE_SECRET": SECRET}
SHANGHAI = ZoneInfo("Asia/Shanghai")


def daily_in(seconds: int) -> tuple[datetime, str]:
    """A daily job whose slot is ``seconds`` from now (Shanghai wall clock, cron with seconds)."""
    when = (datetime.now(SHANGHAI) + timedelta(seconds=seconds)).replace(microsecond=0)
    cron = f"{when.second} {when.minute} {when.hour} * * *"
    return when, f'jobs:\n  daily: {{digest: daily, cron: "{cron}"}}\n'


def cli(site: Site, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syndicate", "--config", str(site.config_path), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **ENV},
        timeout=60,
    )


def setup_cluster(
    site: Site,
    port: int,
    n: int,
    *,
    rate: float = 0,
    chunk: int = 500,
    slot_in: int = 3,
) -> tuple[Store, list[str], datetime]:
    """Store, subscribers, and the daily slot ``slot_in`` seconds after the setup ends."""

    def write(jobs: str) -> None:
        configure(
            site,
            smtp_port=port,
            smtp_extra=f"rate: {rate}\n" if rate else "",
            extra=jobs
            + f"daemon: {{execute: queue, chunk: {chunk}, leader_poll: 0.5, heartbeat: 1s}}\n",
        )

    write("")
    done = cli(site, "store", "upgrade")  # the schema and the queue's tables, as an operator does
    assert done.returncode == 0, done.stderr
    assert "work queue" in done.stdout
    write_posts(site, {"caijing": 3, "keji": 2})
    store = site.store()
    collect_at(site, store)
    people = list(addresses(n))
    subscribe(store, [Entry(a) for a in people])
    when, jobs = daily_in(slot_in)
    write(jobs)
    return store, people, when


def worker(site: Site) -> DaemonProcess:
    return DaemonProcess(site.config_path, env=ENV, command=("worker",))


def leader_of(runs: list[DaemonProcess]) -> DaemonProcess:
    leading = [d for d in runs if "leading from now on" in d.output()]
    assert len(leading) == 1, [d.output()[-400:] for d in runs]
    return leading[0]


def done_count(store: Store) -> int:
    with store.connect() as conn:
        q = select(func.count()).where(deliveries.c.status.in_(("sent", "skipped")))
        return int(conn.execute(q.select_from(deliveries)).scalar() or 0)


def edition_count(store: Store) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(editions)).scalar() or 0)


def message_ids(server: Recorder, address: str) -> list[str]:
    return [str(m.message()["Message-ID"]) for m in server.for_recipient(address)]


def stop_all(procs: list[DaemonProcess]) -> None:
    for p in procs:
        if p.proc.poll() is None:
            p.signal(signal.SIGTERM)
    for p in procs:
        try:
            p.stop(30)
        except subprocess.TimeoutExpired:
            p.kill()


def test_queue_mode_needs_postgresql(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SYNDICATE_STORE_URL")
    site.extend_config("daemon: {execute: queue}\n")
    with pytest.raises(ConfigError, match=r"daemon\.execute: queue needs a PostgreSQL store"):
        site.cfg()


def test_leader_killed_mid_edition_the_standby_leads_and_everyone_gets_one(site: Site) -> None:
    with smtp_server() as (server, port):
        store, people, _when = setup_cluster(site, port, 5000, rate=700)
        runs = [DaemonProcess(site.config_path, env=ENV)]
        wait_for(lambda: "leading from now on" in runs[0].output(), what="a leader")
        runs.append(DaemonProcess(site.config_path, env=ENV))
        workers = [worker(site) for _ in range(3)]
        procs = runs + workers
        try:
            wait_for(lambda: "standing by" in runs[1].output(), what="a standby")
            status = cli(site, "status").stdout
            assert f"leader: pid {runs[0].proc.pid}" in status
            assert f"standby: pid {runs[1].proc.pid}" in status
            assert status.count("worker: pid") == 3
            wait_for(lambda: server.count() >= 500, timeout=60, what="the edition under way")
            t0 = time.monotonic()
            runs[0].kill()
            wait_for(lambda: "leading from now on" in runs[1].output(), what="the takeover")
            took = time.monotonic() - t0
            assert took < 15, f"the standby took {took:.1f}s to lead"
            assert server.count() < len(people)  # the edition was still going at the kill
            wait_for(lambda: done_count(store) == len(people), timeout=120, what="every delivery")
            assert cli(site, "health").returncode == 0
        finally:
            stop_all(procs)
    per = server.per_recipient()
    assert set(per) == set(people)
    assert max(per.values()) == 1, [a for a, n in per.items() if n > 1][:5]
    assert edition_count(store) == 1


def test_worker_killed_mid_chunk_only_unsent_rows_go_again(site: Site) -> None:
    with smtp_server() as (server, port):
        store, people, _when = setup_cluster(site, port, 1200, rate=150, chunk=300)
        procs = [DaemonProcess(site.config_path, env=ENV), worker(site), worker(site)]
        try:
            wait_for(lambda: server.count() >= 100, timeout=60, what="the chunks under way")
            procs[1].kill()  # mid-chunk: it holds claimed rows
            before = server.count()
            assert before < len(people)
            # its task is given back once its heartbeat is stale; the other worker sends the rest
            wait_for(lambda: done_count(store) == len(people), timeout=120, what="every delivery")
            assert "lost its worker: queued again" in procs[0].output()
        finally:
            stop_all(procs)
    per = server.per_recipient()
    assert set(per) == set(people)
    twice = [a for a, n in per.items() if n > 1]
    assert len(twice) <= 1  # one connection per worker: at most the message in flight
    for a in twice:
        assert len(set(message_ids(server, a))) == 1  # the same message, not a second one


def test_a_stopped_leader_is_fenced_and_exits_when_resumed(site: Site) -> None:
    with smtp_server() as (server, port):
        store, people, _when = setup_cluster(site, port, 50)
        first = DaemonProcess(site.config_path, env=ENV)
        wait_for(lambda: "leading from now on" in first.output(), what="a leader")
        second = DaemonProcess(site.config_path, env=ENV)
        w = worker(site)
        try:
            wait_for(lambda: "standing by" in second.output(), what="a standby")
            wait_for(lambda: done_count(store) == len(people), timeout=60, what="the edition")
            first.signal(signal.SIGSTOP)
            # the server ends the silent session (idle_session_timeout): the lock is free
            wait_for(lambda: "leading from now on" in second.output(), timeout=30, what="takeover")
            lines_before = first.output().count("\n")
            first.signal(signal.SIGCONT)
            assert first.proc.wait(20) == 75  # EX_TEMPFAIL: a service manager restarts it
            after = first.output().splitlines()[lines_before:]
            assert any("no longer the leader" in line for line in after), after
            assert not any("deferred" in line for line in after), after
            assert f"leader: pid {second.proc.pid}" in cli(site, "status").stdout
        finally:
            stop_all([first, second, w])
    assert max(server.per_recipient().values()) == 1
    assert edition_count(store) == 1


def test_missed_slot_caught_up_once_and_the_next_day_once_more(site: Site) -> None:
    with smtp_server() as (server, port):
        store, people, when = setup_cluster(site, port, 30, slot_in=8)
        # a leader schedules the job, then every daemon is down when its slot passes
        first = DaemonProcess(site.config_path, env=ENV)
        wait_for(lambda: "added job daily" in first.output(), what="the job scheduled")
        assert first.stop() == 0
        assert datetime.now(SHANGHAI) < when
        wait_for(lambda: datetime.now(SHANGHAI) > when + timedelta(seconds=1), what="the slot")
        assert server.count() == 0
        procs = [DaemonProcess(site.config_path, env=ENV), worker(site)]
        try:
            wait_for(lambda: done_count(store) == len(people), timeout=60, what="the edition")
        finally:
            stop_all(procs)
        assert "catching up daily" in procs[0].output()
        # all down again, then up: the slot ledger says it was served, nothing is sent
        procs = [DaemonProcess(site.config_path, env=ENV), worker(site)]
        try:
            wait_for(lambda: "leading from now on" in procs[0].output(), what="a leader")
            time.sleep(3)  # a few leader rounds
        finally:
            stop_all(procs)
        assert "catching up" not in procs[0].output()
        assert edition_count(store) == 1
        # the next day (the store moved back one day): yesterday's edition and slot, new posts
        yesterday = timedelta(days=1)
        with store.begin() as conn:
            (slot,) = conn.execute(text("SELECT slot FROM job_slots")).one()
            day_before = (datetime.fromisoformat(slot) - yesterday).isoformat(" ")
            conn.execute(text("UPDATE job_slots SET slot = :s"), {"s": day_before})
            conn.execute(
                editions.update().values(
                    date=(now_utc().astimezone(SHANGHAI) - yesterday).strftime("%Y-%m-%d"),
                    window_end=now_utc() - timedelta(hours=20),
                )
            )
        write_posts(site, {"guoji": 2}, tag="次日", day=2)
        collect_at(site, store, now_utc() - timedelta(hours=1))
        procs = [DaemonProcess(site.config_path, env=ENV), worker(site)]
        try:
            wait_for(lambda: done_count(store) == 2 * len(people), timeout=60, what="day two")
            time.sleep(3)
        finally:
            stop_all(procs)
        assert edition_count(store) == 2
    per = server.per_recipient()
    assert set(per.values()) == {2}  # one message per edition per subscriber
    assert len({mid for a in people[:3] for mid in message_ids(server, a)}) == 6


def test_the_rate_is_shared_by_every_worker(site: Site) -> None:
    rate = 40.0
    with smtp_server() as (server, port):
        store, people, _when = setup_cluster(site, port, 120, rate=rate, chunk=20)
        procs = [DaemonProcess(site.config_path, env=ENV), worker(site), worker(site), worker(site)]
        try:
            wait_for(lambda: server.count() >= 1, timeout=60, what="the first message")
            t0 = time.monotonic()
            wait_for(lambda: done_count(store) == len(people), timeout=60, what="every delivery")
            elapsed = time.monotonic() - t0
        finally:
            stop_all(procs)
    # three workers, one budget: never faster than the relay's rate (a lower bound only)
    assert elapsed >= (len(people) - 1) / rate * 0.9, elapsed
    with store.connect() as conn:
        names = [r[0] for r in conn.execute(text("SELECT name FROM send_pace"))]
    assert names == [f"smtp://127.0.0.1:{port}"]


def test_health_fails_without_a_leader_and_with_a_stuck_queue(site: Site) -> None:
    with smtp_server() as (_server, port):
        setup_cluster(site, port, 5)
        down = cli(site, "health")
        assert down.returncode == 1
        assert "no `syndicate run` leads" in down.stdout
        site.write_config(
            site.config_path.read_text(encoding="utf-8").replace(
                "leader_poll: 0.5,", "leader_poll: 0.5, stuck_after: 1s,"
            )
        )
        run = DaemonProcess(site.config_path, env=ENV)  # a leader, but no worker
        try:
            wait_for(lambda: "deferred compose" in run.output(), what="a deferred task")
            time.sleep(2)
            stuck = cli(site, "health")
            assert stuck.returncode == 1
            assert "queue stuck: 1 syndicate:compose task(s) waiting" in stuck.stdout
            assert f"leader: pid {run.proc.pid}" in stuck.stdout
        finally:
            stop_all([run])


def test_the_lease_ends_when_the_session_does(store_url: str, site: Site) -> None:
    a = LeaderLock(store_url, pid=1, host="a")
    b = LeaderLock(store_url, pid=2, host="b")
    try:
        assert a.try_acquire(now_utc()) and a.leading()
        assert not b.try_acquire(now_utc())
        store = Store(store_url)
        leader = store.current_leader()
        assert leader is not None and (leader.host, leader.pid) == ("a", 1)
        with store.connect() as conn:  # the server ends the leader's session (a lost network)
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name LIKE 'syndicate run 1@a%'"
                )
            )
        assert not a.refresh() and not a.leading()
        assert b.try_acquire(now_utc())
        store.close()
    finally:
        a.release()
        b.release()


def test_each_app_keeps_its_own_tasks(site: Site, store_url: str) -> None:
    """The leader makes a second app (stalled-task rounds): the first must still defer."""
    from syndicate.cluster.queue_app import make_app

    cfg = site.cfg()
    first, second = make_app(cfg, role="leader"), make_app(cfg, role="leader", pool_size=1)
    for app in (first, second):
        task = app.tasks["syndicate:deliver"]
        assert task.name == "syndicate:deliver" and task.blueprint is app


def test_daily_and_weekly_editions_through_the_queue(site: Site) -> None:
    """offer_weekly on workers: each job's compose claims its slot and makes its own edition."""
    with smtp_server() as (server, port):
        store, people, _ = setup_cluster(site, port, 6)
        weekly = people[:2]
        subscribe(store, [Entry(a, weekly=("daily",)) for a in weekly])
        configure(
            site,
            smtp_port=port,
            digest_extra="offer_weekly: true\n",
            extra="jobs:\n"
            '  daily: {digest: daily, cron: "*/2 * * * * *"}\n'
            '  daily-weekly: {digest: daily, edition: week, cron: "*/2 * * * * *"}\n'
            "daemon: {execute: queue, leader_poll: 0.5, heartbeat: 1s}\n",
        )
        procs = [DaemonProcess(site.config_path, env=ENV), worker(site)]
        try:
            wait_for(lambda: done_count(store) == len(people), timeout=60, what="both editions")
            time.sleep(5)  # more slots of both jobs: their periods are served
        finally:
            stop_all(procs)
        assert edition_count(store) == 2
        assert server.per_recipient() == dict.fromkeys(people, 1)
        with store.connect() as conn:
            rows = conn.execute(select(editions.c.period, editions.c.date)).all()
        assert sorted(p for p, _ in rows) == ["day", "week"]
        assert any("-W" in d for p, d in rows if p == "week")
