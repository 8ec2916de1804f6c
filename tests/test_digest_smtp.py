"""Delivery against a real SMTP server (aiosmtpd on 127.0.0.1): exactly once, retries, refusals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import lxml.html
from sqlalchemy import select

from syndicate.digest import editions, ledger, tokens
from syndicate.digest.subscribers import BOUNCED, Entry, get
from syndicate.store import deliveries

from .conftest import NOW
from .digest_support import SECRET, collect_at, configure, subscribe, write_posts
from .smtp_server import Recorder, addresses, free_port, smtp_server

CHOICES = [(), ("caijing",), ("keji", "guoji"), ("gupiao",), ("caijing", "gupiao")]
NAMES = {"caijing": "财经", "keji": "科技", "guoji": "国际", "gupiao": "股票"}


def sections_of(received) -> set[str]:
    html = received.message().get_body(("html",)).get_content()
    doc = lxml.html.fromstring(html)
    return {a.text_content() for a in doc.xpath('//a[contains(@class, "section-name")]')}


def test_500_subscribers_each_get_exactly_one_message(site, monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    with smtp_server() as (rec, port):
        configure(site, smtp_port=port, smtp_extra="connections: 3\nbatch: 50\n")
        write_posts(site, {"caijing": 3, "keji": 2, "guoji": 2, "gupiao": 2})
        store = site.store()
        collect_at(site, store)
        people = list(addresses(500))
        entries = [Entry(a, f"读者{i}", CHOICES[i % 5]) for i, a in enumerate(people)]
        entries += [Entry(f"fc{i}@example.com", "", ("fangchan",)) for i in range(3)]
        subscribe(store, entries)
        started = time.monotonic()
        (result,) = editions.send_due(site.cfg(), store, now=NOW)
        elapsed = time.monotonic() - started
    assert (result.sent, result.failed, result.pending, result.skipped) == (500, 0, 0, 3)
    assert result.status == "sent" and result.summary().startswith(
        "daily 2026-11-27: 500 sent, 0 failed, 0 pending, 3 skipped → smtp://127.0.0.1:"
    )
    counts = rec.per_recipient()
    assert set(counts) == set(people) and set(counts.values()) == {1}
    ids = set()
    for i, address in enumerate(people):
        (got,) = rec.for_recipient(address)
        msg = got.message()
        ids.add(msg["Message-ID"])
        # the envelope sender is VERP: it names the subscriber, the From: does not change
        assert got.mail_from.startswith("bounces+")
        assert got.mail_from.endswith("@finews.withounder.com")
        sub = get(store, address)
        assert sub is not None and tokens.verify_verp(got.mail_from, SECRET.encode()) == sub.id
        assert "digest@finews.withounder.com" in str(msg["From"])
        wanted = CHOICES[i % 5] or tuple(NAMES)
        assert sections_of(got) == {NAMES[c] for c in wanted}, address
        assert msg["To"].addresses[0].display_name == f"读者{i}"
    assert len(ids) == 500
    print(f"500 messages in {elapsed:.2f}s")
    # running again the same day sends nothing
    with smtp_server() as (rec2, port2):
        configure(site, smtp_port=port2)
        (again,) = editions.send_due(site.cfg(), store, now=NOW + timedelta(hours=2))
    assert again.status == "already-sent" and rec2.count() == 0


def test_451_then_250_is_delivered_once(site, monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    with smtp_server(Recorder(tempfail_data=1)) as (rec, port):
        configure(site, smtp_port=port)
        write_posts(site, {"caijing": 1})
        store = site.store()
        collect_at(site, store)
        subscribe(store, [Entry(a) for a in addresses(3)])
        (result,) = editions.send_due(site.cfg(), store, now=NOW)
    assert rec.tempfailed == 1
    assert (result.sent, result.failed, result.pending) == (3, 0, 0)
    assert sorted(rec.per_recipient().values()) == [1, 1, 1]


def test_a_recipient_that_keeps_answering_451_stays_pending(site, monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    slow = "slow@example.org"
    handler = Recorder(greylist={slow})
    with smtp_server(handler) as (rec, port):
        configure(site, smtp_port=port)
        write_posts(site, {"caijing": 1})
        store = site.store()
        collect_at(site, store)
        subscribe(store, [Entry(slow), *[Entry(a) for a in addresses(3)]])
        (first,) = editions.send_due(site.cfg(), store, now=NOW)
        assert (first.status, first.sent, first.pending) == ("incomplete", 3, 1)
        assert "retries them" in first.summary()
        handler.greylist.clear()
        (second,) = editions.send_due(site.cfg(), store, now=NOW + timedelta(minutes=30))
    assert (second.status, second.sent, second.pending) == ("sent", 4, 0)
    assert rec.per_recipient() == {slow: 1, **{a: 1 for a in addresses(3)}}


def test_550_recipient_fails_others_are_sent_and_three_in_a_row_bounce(site, monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    bad = "nobody@example.org"
    with smtp_server(Recorder(refuse={bad})) as (rec, port):
        configure(site, smtp_port=port)
        store = site.store()
        subscribe(store, [Entry(bad), *[Entry(a) for a in addresses(3)]])
        for day in range(4):
            write_posts(site, {"caijing": 1}, tag=f"d{day}", day=day + 1)
            when = NOW + timedelta(days=day)
            collect_at(site, store, when - timedelta(hours=1))
            (result,) = editions.send_due(site.cfg(), store, now=when)
            if day < 3:
                assert (result.sent, result.failed, result.pending) == (3, 1, 0), day
                assert (result.bounced == 1) == (day == 2)
            else:  # bounced: no longer in the ledger of a new edition
                assert (result.sent, result.failed) == (3, 0)
    assert get(store, bad).status == BOUNCED
    assert rec.per_recipient() == {a: 4 for a in addresses(3)}
    with store.connect() as conn:
        errors = conn.execute(
            select(deliveries.c.error).where(deliveries.c.status == ledger.FAILED)
        ).scalars()
        assert all(e.startswith("550 5.1.1") for e in errors)


def test_unreachable_server_leaves_the_edition_pending_then_resumes(site, monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    configure(site, smtp_port=free_port())  # nobody listens there
    write_posts(site, {"caijing": 1})
    store = site.store()
    collect_at(site, store)
    subscribe(store, [Entry(a) for a in addresses(4)])
    (result,) = editions.send_due(site.cfg(), store, now=NOW)
    assert result.status == "aborted" and result.pending == 4 and result.sent == 0
    assert "resumes" in result.summary()
    with smtp_server() as (rec, port):
        configure(site, smtp_port=port)
        (resumed,) = editions.send_due(site.cfg(), store, now=NOW + timedelta(hours=1))
    assert (resumed.status, resumed.sent, resumed.pending) == ("sent", 4, 0)
    assert resumed.date == "2026-11-27" and sorted(rec.per_recipient().values()) == [1] * 4


def test_killed_sender_restarts_and_serves_everyone_once(site):
    n = 300
    with smtp_server() as (rec, port):
        configure(site, smtp_port=port, smtp_extra="rate: 150\n")
        write_posts(site, {"caijing": 2, "keji": 1})
        store = site.store()
        collect_at(site, store)
        subscribe(store, [Entry(a) for a in addresses(n)])
        env = {**os.environ, "SYNDICATE_SECRET": SECRET}
        cmd = [sys.executable, "-m", "syndicate", "--config", str(site.config_path)]
        cmd += ["digest", "send", "daily", "--now", NOW.isoformat()]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while rec.count() < 60:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the sender never got going"
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert 60 <= rec.count() < n
        configure(site, smtp_port=port)  # full speed for the restart
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"daily 2026-11-27: {n} sent, 0 failed, 0 pending" in done.stdout
    counts = rec.per_recipient()
    assert set(counts) == set(addresses(n))
    twice = [a for a, k in counts.items() if k > 1]
    # only the message in flight at the kill may have gone twice, with the same Message-ID
    assert len(twice) <= 1 and max(counts.values()) <= 2
    for address in twice:
        assert len({m.message()["Message-ID"] for m in rec.for_recipient(address)}) == 1
    with store.connect() as conn:
        statuses = conn.execute(select(deliveries.c.status)).scalars().all()
    assert statuses == [ledger.SENT] * n
