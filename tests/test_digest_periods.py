"""Editions by period (``digest/periods.py``): weekly digests, offer_weekly, the slot per period.

Real SQLite files (or the PostgreSQL database of ``make test-pg``) and a real
Maildir outbox: every count below is read from the messages written.
"""

from __future__ import annotations

import mailbox
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from syndicate.cli import main
from syndicate.digest import editions, ledger, periods
from syndicate.digest.subscribers import Entry
from syndicate.model import Period
from syndicate.store import editions as editions_table

from .conftest import NOW
from .digest_support import SECRET, collect_at, configure, subscribe, write_posts

# NOW is Friday 2026-11-27 08:00 in Shanghai: ISO week 48 (Monday 23 to Sunday 29)
MONDAY = NOW + timedelta(days=3)  # 2026-11-30 08:00 +08:00, week 49
A, B, C = "a@example.org", "b@example.org", "c@example.org"


@pytest.fixture(autouse=True)
def secret(monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)


def messages(site) -> list[EmailMessage]:
    box = mailbox.Maildir(site.root / "outbox", factory=None, create=True)
    out = []
    for key in box.iterkeys():
        msg = message_from_bytes(box.get_bytes(key), policy=policy.default)
        assert isinstance(msg, EmailMessage)
        out.append(msg)
    return out


def per_recipient(site) -> dict[str, list[EmailMessage]]:
    out: dict[str, list[EmailMessage]] = {}
    for msg in messages(site):
        out.setdefault(str(msg["To"].addresses[0].addr_spec), []).append(msg)
    return out


def text(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def titles_in(msg: EmailMessage, tags: list[str]) -> set[str]:
    body = text(msg)
    return {t for t in tags if f"财经{t}新闻000" in body}


def post_on(site, store, tag: str, when: datetime, day: int) -> None:
    """One caijing post first seen at ``when`` (its title names ``tag``)."""
    write_posts(site, {"caijing": 1}, tag=tag, day=day)
    collect_at(site, store, when)


# -- the slot ---------------------------------------------------------------


def test_the_slot_is_the_local_day_or_the_iso_week(site):
    configure(site)
    cfg = site.cfg()
    sunday_night = datetime(2026, 11, 29, 15, 59, tzinfo=UTC)  # 23:59 Sunday in Shanghai
    monday = sunday_night + timedelta(minutes=1)  # 00:00 Monday there, still Sunday in UTC
    assert periods.slot(cfg, Period.DAY, sunday_night) == "2026-11-29"
    assert periods.slot(cfg, Period.WEEK, sunday_night) == "2026-W48"
    assert periods.slot(cfg, Period.DAY, monday) == "2026-11-30"
    assert periods.slot(cfg, Period.WEEK, monday) == "2026-W49"
    # ISO weeks cross the year: 1 January 2027 (a Friday) is in 2026's 53rd week
    assert periods.slot(cfg, Period.WEEK, datetime(2027, 1, 1, 4, tzinfo=UTC)) == "2026-W53"


# -- a weekly digest ----------------------------------------------------------


@pytest.fixture
def weekly(site):
    configure(site, digest_extra="period: week\nsubject: 周报 {{ edition.date }}\n")
    store = site.store()
    post_on(site, store, "旧", NOW - timedelta(days=8), day=1)  # before the week: never sent
    post_on(site, store, "周一", NOW - timedelta(days=4), day=2)  # Monday of week 48
    post_on(site, store, "周四", NOW - timedelta(hours=1), day=3)
    subscribe(store, [Entry(A), Entry(B)])
    return store


def test_a_weekly_digest_sends_once_a_week_however_often_it_runs(site, weekly):
    store = weekly
    (first,) = editions.send_due(site.cfg(), store, now=NOW)
    assert (first.status, first.date, first.sent) == ("sent", "2026-W48", 2)
    # the first weekly edition covers the 7 days before it, not everything ever collected
    assert first.window_start == NOW - timedelta(days=7)
    mail = per_recipient(site)
    assert {len(m) for m in mail.values()} == {1}
    assert titles_in(mail[A][0], ["旧", "周一", "周四"]) == {"周一", "周四"}
    assert mail[A][0]["Subject"] == "周报 2026-W48"

    # sent again and again in the same week, with new posts in between: nothing goes
    for n, hours in enumerate((1, 20, 50, 63)):  # the last is Sunday 23:00 local
        post_on(site, store, f"周末{n}", NOW + timedelta(hours=hours - 0.5), day=4 + n)
        (again,) = editions.send_due(site.cfg(), store, now=NOW + timedelta(hours=hours))
        assert again.status == "already-sent" and again.date == "2026-W48"
        assert again.summary().endswith("(already sent this week)")
    assert len(messages(site)) == 2

    # Monday: week 49's edition has everything first seen since week 48's, and only that
    (second,) = editions.send_due(site.cfg(), store, now=MONDAY)
    assert (second.status, second.date, second.sent) == ("sent", "2026-W49", 2)
    assert second.window_start == NOW
    mail = per_recipient(site)
    assert {len(m) for m in mail.values()} == {2}
    newest = max(mail[B], key=lambda m: m["Date"].datetime)
    weekend = [f"周末{n}" for n in range(4)]
    assert titles_in(newest, ["旧", "周一", "周四", *weekend]) == set(weekend)
    assert [r.date for r in ledger.history(store, "daily")] == ["2026-W49", "2026-W48"]
    # the archive page is named by the week, and `status`/`retry` find it by that name
    assert (site.root / "feeds" / "digests" / "daily" / "2026-W49.html").is_file()
    assert ledger.find(store, "daily", "2026-W49", Period.WEEK) is not None


def test_a_missed_week_is_caught_up_once_in_the_week_it_was_due(site, weekly):
    """A Sunday-evening slot caught up after midnight still counts for its own week."""
    store = weekly
    sunday = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)  # 20:00 Sunday in Shanghai, week 48
    late = sunday + timedelta(hours=5)  # 01:00 Monday there: week 49 by the clock
    (caught,) = editions.send_due(site.cfg(), store, now=late, period=Period.WEEK, due=sunday)
    assert (caught.status, caught.date, caught.sent) == ("sent", "2026-W48", 2)
    (again,) = editions.send_due(site.cfg(), store, now=late, period=Period.WEEK, due=sunday)
    assert again.status == "already-sent"
    # the next Sunday's edition is week 49's: not refused as "already sent this week"
    post_on(site, store, "新周", sunday + timedelta(days=3), day=9)
    nxt = sunday + timedelta(days=7)
    (second,) = editions.send_due(site.cfg(), store, now=nxt, period=Period.WEEK, due=nxt)
    assert (second.status, second.date, second.sent) == ("sent", "2026-W49", 2)
    assert len(messages(site)) == 4


def test_digest_send_cli_names_the_week(site, weekly):
    runner = CliRunner()
    args = ["--config", str(site.config_path), "digest", "send", "daily"]
    env = {"SYNDICATE_SECRET": SECRET}
    first = runner.invoke(main, [*args, "--now", NOW.isoformat()], env=env)
    assert first.exit_code == 0, first.output
    assert "daily 2026-W48: 2 sent, 0 failed, 0 pending" in first.output
    again = runner.invoke(main, [*args, "--now", (NOW + timedelta(days=1)).isoformat()], env=env)
    assert "(already sent this week)" in again.output
    wrong = runner.invoke(main, [*args, "--edition", "day"], env=env)
    assert wrong.exit_code == 1
    assert "digest daily has no daily edition (it has: week" in wrong.output
    status = runner.invoke(main, ["--config", str(site.config_path), "digest", "status"], env=env)
    assert status.exit_code == 0 and "2026-W48" in status.output, status.output


# -- offer_weekly: the same digest, daily or weekly by the subscriber's choice ----


@pytest.fixture
def offered(site):
    configure(site, digest_extra="offer_weekly: true\n")
    store = site.store()
    post_on(site, store, "第0天", NOW - timedelta(hours=1), day=1)
    subscribe(store, [Entry(A), Entry(B, weekly=("daily",)), Entry(C, weekly=("daily",))])
    return store


def test_offer_weekly_splits_the_audience_each_once_per_period(site, offered):
    store = offered
    days = 10  # Friday of week 48 to Sunday of week 49
    for day in range(days):
        when = NOW + timedelta(days=day)
        if day:
            post_on(site, store, f"第{day}天", when - timedelta(hours=1), day=1 + day)
        for _ in range(2):  # run twice a day: still once per period
            for r in editions.send_due(site.cfg(), store, now=when):
                assert r.ok, r.summary()
    mail = per_recipient(site)
    assert len(mail[A]) == days  # daily: one a day, every day had a new post
    # weekly: week 48 (sent on Friday) and week 49 (on Monday), nothing else
    assert len(mail[B]) == len(mail[C]) == 2
    tags = [f"第{d}天" for d in range(days)]
    first, second = sorted(mail[B], key=lambda m: m["Date"].datetime)
    assert titles_in(first, tags) == {"第0天"}
    # Monday's weekly edition has what came since Friday's: Saturday to Monday
    assert titles_in(second, tags) == {"第1天", "第2天", "第3天"}
    assert all(titles_in(m, tags) != set() for m in mail[A])
    ids = [m["Message-ID"] for m in messages(site)]
    assert len(set(ids)) == len(ids)

    rows = ledger.history(store, "daily", 100)
    assert sorted(r.date for r in rows if r.period is Period.WEEK) == ["2026-W48", "2026-W49"]
    assert len([r for r in rows if r.period is Period.DAY]) == days
    # the ledger has the split too: a weekly reader has no row in any daily edition
    bob = store.subscriber(B)
    assert bob is not None and bob.weekly == ("daily",)
    assert {d.date for d in store.delivery_history(bob.id)} == {"2026-W48", "2026-W49"}
    with store.connect() as conn:
        stored = conn.execute(select(editions_table.c.period).distinct()).scalars()
        assert sorted(stored) == ["day", "week"]


def test_both_editions_at_the_same_instant_are_two_editions(site, offered):
    """``run --once`` sends both in one call with one ``now``: the period keeps them apart."""
    store = offered
    results = editions.send_due(site.cfg(), store, now=NOW)
    assert sorted((r.period, r.date, r.sent) for r in results) == [
        (Period.DAY, "2026-11-27", 1),
        (Period.WEEK, "2026-W48", 2),
    ]
    assert {r.window_end for r in results} == {NOW}


def test_preview_and_dry_run_follow_the_choice(site, offered):
    store = offered
    daily = editions.preview(site.cfg(), store, "daily", now=NOW, address=A)
    weekly = editions.preview(site.cfg(), store, "daily", now=NOW, address=B)
    assert daily is not None and weekly is not None
    assert (daily.plan.period, daily.plan.date) == (Period.DAY, "2026-11-27")
    assert (weekly.plan.period, weekly.plan.date) == (Period.WEEK, "2026-W48")
    counts = {r.period: r.sent for r in editions.send_due(site.cfg(), store, now=NOW, dry_run=True)}
    assert counts == {Period.DAY: 1, Period.WEEK: 2}
    assert messages(site) == []
