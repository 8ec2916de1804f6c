"""The daemon and the digest together: signals, restarts and missed slots never double-send."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from syndicate.digest import ledger, periods
from syndicate.digest.subscribers import Entry
from syndicate.model import Period
from syndicate.store import deliveries, runs

from .conftest import ON_POSTGRES
from .daemon_util import DaemonProcess, wait_for
from .digest_support import SECRET, collect_at, configure, subscribe, write_posts
from .smtp_server import addresses, smtp_server

ENV = {"SYNDICATE_SECRET": SECRET}
SHANGHAI = ZoneInfo("Asia/Shanghai")
# A restarted daemon finds its job again: in the job store beside a SQLite store; on
# PostgreSQL (triggers in memory) the leader catches the slot up from the slot ledger
CAUGHT_UP = "catching up daily" if ON_POSTGRES else "keeping job daily"
STARTED_AGAIN = "daemon started" if ON_POSTGRES else "keeping job daily"


def setup(site, port: int, jobs: str, n: int, rate: float = 0) -> list[str]:
    configure(
        site,
        smtp_port=port,
        smtp_extra=f"rate: {rate}\n" if rate else "",
        extra=jobs + "daemon: {heartbeat: 1s, shutdown_timeout: 20}\n",
    )
    write_posts(site, {"caijing": 3, "keji": 2})
    store = site.store()
    collect_at(site, store)
    people = list(addresses(n))
    subscribe(store, [Entry(a) for a in people])
    return people


def pending(store) -> int:
    with store.connect() as conn:
        q = select(func.count()).select_from(deliveries).where(deliveries.c.status != "sent")
        return int(conn.execute(q).scalar() or 0)


def test_sigterm_mid_edition_then_restart_serves_everyone_once(site):
    with smtp_server() as (server, port):
        people = setup(
            site, port, 'jobs:\n  daily: {digest: daily, cron: "*/3 * * * * *"}\n', 40, rate=8
        )
        store = site.store()
        d = DaemonProcess(site.config_path, env=ENV)
        try:
            wait_for(lambda: server.count() >= 4, what="the edition under way")
        finally:
            d.signal(signal.SIGTERM)
            code = d.proc.wait(20)
        assert code == 0, d.output()
        sent_before = server.count()
        assert 4 <= sent_before < len(people)
        assert pending(store) == len(people) - sent_before  # nothing half-sent, the rest waits
        assert "received SIGTERM" in d.output()

        again = DaemonProcess(site.config_path, env=ENV)
        try:
            wait_for(lambda: server.count() >= len(people), timeout=30, what="the rest")
            time.sleep(3.5)  # at least one more slot fires: nothing more may go out
        finally:
            assert again.stop() == 0, again.output()
        per = server.per_recipient()
        assert set(per) == set(people) and set(per.values()) == {1}
        assert pending(store) == 0
        ids = [m.message()["Message-ID"] for m in server.received]
        assert len(set(ids)) == len(people)


def _daily_at(seconds_ahead: int) -> tuple[datetime, str]:
    when = (datetime.now(SHANGHAI) + timedelta(seconds=seconds_ahead)).replace(microsecond=0)
    return when, f"{when.second} {when.minute} {when.hour} * * *"


def test_missed_digest_within_grace_is_sent_once_after_restart(site):
    with smtp_server() as (server, port):
        when, cron = _daily_at(5)
        people = setup(
            site, port, f'jobs:\n  daily: {{digest: daily, cron: "{cron}", misfire_grace: 1h}}\n', 5
        )
        store = site.store()
        d = DaemonProcess(site.config_path, env=ENV)
        wait_for(lambda: "added job daily" in d.output(), what="the job stored")
        assert d.stop() == 0  # down before the digest's time
        assert datetime.now(SHANGHAI) < when
        wait_for(lambda: datetime.now(SHANGHAI) > when + timedelta(seconds=1), what="the slot")
        assert server.count() == 0

        d = DaemonProcess(site.config_path, env=ENV)
        try:
            wait_for(lambda: server.count() >= len(people), what="the catch-up edition")
            assert CAUGHT_UP in d.output()
            # the last message is accepted a moment before the run is recorded: a stop
            # in between would rightly make the run `interrupted`
            wait_for(lambda: _outcomes(store, "daily") != ["running"], what="the run recorded")
        finally:
            assert d.stop() == 0
        d = DaemonProcess(site.config_path, env=ENV)
        try:
            wait_for(lambda: STARTED_AGAIN in d.output(), what="second restart")
            time.sleep(2)
        finally:
            assert d.stop() == 0
        assert server.per_recipient() == {p: 1 for p in people}
        with store.connect() as conn:
            daily = conn.execute(select(runs.c.outcome).where(runs.c.job == "daily")).scalars()
            assert list(daily) == ["ok"]


def test_missed_digest_past_grace_is_skipped_and_logged(site):
    with smtp_server() as (server, port):
        when, cron = _daily_at(5)
        setup(
            site, port, f'jobs:\n  daily: {{digest: daily, cron: "{cron}", misfire_grace: 1s}}\n', 3
        )
        store = site.store()
        d = DaemonProcess(site.config_path, env=ENV)
        wait_for(lambda: "added job daily" in d.output(), what="the job stored")
        assert d.stop() == 0
        wait_for(lambda: datetime.now(SHANGHAI) > when + timedelta(seconds=3), what="past grace")
        d = DaemonProcess(site.config_path, env=ENV)
        try:
            wait_for(lambda: "missed past its grace time" in d.output(), what="the missed log")
        finally:
            assert d.stop() == 0
        assert server.count() == 0
        with store.connect() as conn:
            outcomes = conn.execute(select(runs.c.outcome).where(runs.c.job == "daily")).scalars()
            assert list(outcomes) == ["missed"]


def _outcomes(store, job):
    with store.connect() as conn:
        return list(conn.execute(select(runs.c.outcome).where(runs.c.job == job)).scalars())


def _weekly_setup(site, port: int, digest: str, jobs: str, people: dict[str, tuple[str, ...]]):
    """A digest of posts first seen an hour ago (by the real clock: a weekly edition covers
    the 7 days before it), and subscribers with their weekly choices."""
    configure(
        site,
        smtp_port=port,
        digest_extra=digest,
        extra=jobs + "daemon: {heartbeat: 1s, shutdown_timeout: 20}\n",
    )
    write_posts(site, {"caijing": 2, "keji": 1})
    store = site.store()
    collect_at(site, store, datetime.now(SHANGHAI) - timedelta(hours=1))
    subscribe(store, [Entry(a, weekly=w) for a, w in people.items()])
    return store


def test_daily_and_weekly_jobs_each_send_their_edition_once(site):
    """offer_weekly under the daemon: two jobs firing every few seconds, one message each."""
    daily = [f"day{i}@example.org" for i in range(3)]
    weekly = [f"week{i}@example.org" for i in range(2)]
    with smtp_server() as (server, port):
        store = _weekly_setup(
            site,
            port,
            "offer_weekly: true\n",
            "jobs:\n"
            '  daily: {digest: daily, cron: "*/2 * * * * *"}\n'
            '  daily-weekly: {digest: daily, edition: week, cron: "*/3 * * * * *"}\n',
            {**dict.fromkeys(daily, ()), **dict.fromkeys(weekly, ("daily",))},
        )
        d = DaemonProcess(site.config_path, env=ENV)
        try:
            wait_for(lambda: server.count() >= 5, what="both editions")
            # several more fires of each job: their slots are new, their periods' are not
            wait_for(lambda: d.output().count("already sent") >= 4, what="more fires")
        finally:
            assert d.stop() == 0, d.output()
        assert server.per_recipient() == dict.fromkeys(daily + weekly, 1)
        kinds = {r.period: r.date for r in ledger.history(store, "daily")}
        assert set(kinds) == {Period.DAY, Period.WEEK}
        assert kinds[Period.WEEK] == periods.slot(site.cfg(), Period.WEEK, datetime.now(UTC))


def test_a_missed_weekly_slot_is_caught_up_once(site):
    with smtp_server() as (server, port):
        when, cron = _daily_at(5)
        cron = cron[: -len("*")] + when.strftime("%a").lower()  # today's weekday only
        people = [f"user{i}@example.org" for i in range(3)]
        store = _weekly_setup(
            site,
            port,
            "period: week\n",
            f'jobs:\n  daily: {{digest: daily, cron: "{cron}", misfire_grace: 1h}}\n',
            dict.fromkeys(people, ()),
        )
        d = DaemonProcess(site.config_path, env=ENV)
        wait_for(lambda: "added job daily" in d.output(), what="the job stored")
        assert d.stop() == 0  # down when the week's slot comes
        wait_for(lambda: datetime.now(SHANGHAI) > when + timedelta(seconds=1), what="the slot")
        assert server.count() == 0
        for _ in range(2):  # started twice after the slot: the week's edition goes once
            d = DaemonProcess(site.config_path, env=ENV)
            try:
                wait_for(lambda: server.count() >= len(people), what="the catch-up edition")
                wait_for(lambda: _outcomes(store, "daily") != ["running"], what="the run")
                time.sleep(1)
            finally:
                assert d.stop() == 0
        assert server.per_recipient() == dict.fromkeys(people, 1)
        (edition,) = ledger.history(store, "daily")
        assert edition.period is Period.WEEK and edition.date == periods.slot(
            site.cfg(), Period.WEEK, when
        )
