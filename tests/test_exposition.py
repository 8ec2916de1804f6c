"""Scraping the real processes: ``syndicate run`` on daemon.metrics_port, ``serve``'s /metrics.

Each test starts the process an operator would (a daemon, the web app
under uvicorn, a worker on PostgreSQL), drives real work through it (posts
collected, feeds built, a digest to aiosmtpd, a fetch that fails, an
unsubscribe), scrapes over HTTP and parses with prometheus_client's own
parser. The counters must move by exactly what the work did.
"""

from __future__ import annotations

import socket
import sys
import time

import httpx
import pytest
from sqlalchemy import func, select

from syndicate.digest.subscribers import Entry
from syndicate.lock import lock_path, read_holder
from syndicate.observe.exposition import LAST_SUCCESS
from syndicate.store import runs

from .conftest import ON_POSTGRES, Site
from .daemon_util import DaemonProcess, wait_for
from .digest_support import SECRET, configure, subscribe, write_posts
from .scraping import Samples, listening_ports, metrics_url, parse, scrape, value
from .serving import SECRET as SERVE_SECRET
from .serving import LiveServer, local, mail_first_edition, outbox, to, unsubscribe_url
from .smtp_server import Recorder, addresses, free_port, smtp_server

ENV = {"SYNDICATE_SECRET": SECRET}
MESSAGES = "syndicate_digest_messages_total"
JOBS = """\
jobs:
  collect: {every: 1s}
  build: {after: collect}
  daily: {digest: daily, cron: "*/2 * * * * *"}
"""
linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads the process's sockets in /proc"
)


def daemon_site(site: Site, smtp_port: int, *, metrics: str, feed_port: int | None = None) -> None:
    """The digest test site, with the daemon's jobs, ``metrics`` in ``daemon:`` and maybe a feed."""
    daemon = "daemon: {heartbeat: 1s, shutdown_timeout: 10" + (f", {metrics}" if metrics else "")
    configure(site, smtp_port=smtp_port, extra=JOBS + daemon + "}\n")
    if feed_port is not None:  # nothing listens there: every fetch fails
        text = site.config_path.read_text(encoding="utf-8")
        feed = (
            "  - name: upstream\n"
            f"    feed: http://127.0.0.1:{feed_port}/feed.xml\n"
            "    allow_private: true\n    timeout: 2\n"
        )
        site.config_path.write_text(
            text.replace("    posts: site/_posts\n", "    posts: site/_posts\n" + feed, 1),
            encoding="utf-8",
        )


def sent(url: str, n: int) -> Samples | None:
    """The scrape once the daily digest's sent messages reach ``n``."""
    s = scrape(url)
    return s if value(s, MESSAGES, digest="daily", outcome="sent") >= n else None


def count_runs(site: Site) -> int:
    with site.store().connect() as conn:
        return int(conn.execute(select(func.count()).select_from(runs)).scalar() or 0)


def test_daemon_counts_collect_fetch_build_jobs_and_digest_by_the_amounts_done(site):
    refused = "refused@example.org"
    people = [*addresses(3), refused]
    with smtp_server(Recorder(refuse={refused})) as (server, port):
        daemon_site(site, port, metrics="metrics_port: 0", feed_port=free_port())
        write_posts(site, {"caijing": 3, "keji": 2})
        subscribe(site.store(), [Entry(a) for a in people])
        started = time.time()
        d = DaemonProcess(site.config_path, env=ENV)
        try:
            url = wait_for(lambda: metrics_url(d.output()), what="the metrics URL")
            assert isinstance(url, str) and url.startswith("http://127.0.0.1:")

            wait_for(lambda: sent(url, 3), timeout=30, what="the edition sent")
            s = scrape(url)
            assert server.count() == 3
            assert value(s, MESSAGES, digest="daily", outcome="sent") == 3
            assert value(s, MESSAGES, digest="daily", outcome="failed") == 1
            deferred = frozenset({("digest", "daily"), ("outcome", "deferred")})
            assert s[(MESSAGES, deferred)] == 0
            assert value(s, "syndicate_posts_collected_total", source="local", change="new") == 5
            assert value(s, "syndicate_posts_rejected_total", source="local") == 0
            errors = value(s, "syndicate_feed_fetches_total", source="upstream", outcome="error")
            assert errors >= 1
            assert value(s, "syndicate_feed_fetches_total", source="upstream", outcome="ok") == 0
            # every failed fetch is the source rejected once
            assert value(s, "syndicate_posts_rejected_total", source="upstream") == errors
            assert value(s, "syndicate_job_runs_total", job_name="collect", outcome="partial") >= 1
            collects = sum(
                value(s, "syndicate_job_runs_total", job_name="collect", outcome=o)
                for o in ("ok", "partial", "error", "interrupted", "skipped", "missed")
            )
            assert value(s, "syndicate_job_duration_seconds_count", job_name="collect") == collects
            # one recipient refused: the edition's runs are partial, never an error
            assert value(s, "syndicate_job_runs_total", job_name="daily", outcome="partial") >= 1
            assert value(s, "syndicate_job_runs_total", job_name="daily", outcome="error") == 0
            # each feed file was written once by the first build, and never since
            # (digests/ holds the archive's feed, which the digest writes, not the build)
            feeds = site.root / "feeds"
            for fmt in ("rss", "atom", "json"):
                files = len([p for p in feeds.rglob(f"*.{fmt}") if "digests" not in p.parts])
                assert files >= 3
                assert value(s, "syndicate_feeds_written_total", format=fmt) == files
            for job in ("collect", "build", "daily"):
                when = value(s, LAST_SUCCESS, job_name=job)
                assert started - 1 <= when <= time.time(), job

            # one new post: collected once, and the two feeds holding it (all, caijing) rewritten
            before = value(s, "syndicate_feeds_written_total", format="atom")
            site.post("2022-03-09-more.md", title="又一篇", date="2022-03-09 09:00:00 +0800")

            def rebuilt() -> object:
                now = scrape(url)
                return value(now, "syndicate_feeds_written_total", format="atom") > before and now

            s2 = wait_for(rebuilt, what="the rebuild")
            assert isinstance(s2, dict)
            assert value(s2, "syndicate_posts_collected_total", source="local", change="new") == 6
            for fmt in ("rss", "atom", "json"):
                assert (
                    value(s2, "syndicate_feeds_written_total", format=fmt)
                    == value(s, "syndicate_feeds_written_total", format=fmt) + 2
                )
            assert value(s2, MESSAGES, digest="daily", outcome="sent") == 3
        finally:
            code = d.stop()
        assert code == 0, d.output()
    # the port is free again once the daemon is gone
    with socket.create_server(("127.0.0.1", int(url.rsplit(":", 1)[1].split("/")[0]))):
        pass


@linux_only
def test_daemon_opens_no_port_without_metrics_port(site):
    with smtp_server() as (_server, port):
        daemon_site(site, port, metrics="")
        write_posts(site, {"caijing": 1})
        d = DaemonProcess(site.config_path, env=ENV)
        try:
            wait_for(lambda: count_runs(site) >= 2, what="the daemon at work")
            assert listening_ports(d.proc.pid) == set()
            assert metrics_url(d.output()) is None
        finally:
            code = d.stop()
        assert code == 0, d.output()


@linux_only
def test_daemon_listens_where_metrics_port_says(site):
    with smtp_server() as (_server, port):
        metrics_port = free_port()
        daemon_site(site, port, metrics=f"metrics_port: {metrics_port}")
        d = DaemonProcess(site.config_path, env=ENV)
        try:
            wait_for(lambda: metrics_url(d.output()), what="the metrics URL")
            assert listening_ports(d.proc.pid) == {metrics_port}
            assert metrics_url(d.output()) == f"http://127.0.0.1:{metrics_port}/metrics"
            s = scrape(f"http://127.0.0.1:{metrics_port}/")  # any path, as Prometheus may ask
            # configured series exist from the start, at 0 (so a first failure is an increase)
            daily_errors = frozenset({("job_name", "daily"), ("outcome", "error")})
            assert s[("syndicate_job_runs_total", daily_errors)] == 0
            assert value(s, "process_resident_memory_bytes") > 0
        finally:
            code = d.stop()
        assert code == 0, d.output()


def test_a_taken_metrics_port_fails_the_start_with_the_key_and_takes_nothing(site):
    with smtp_server() as (_server, port), socket.create_server(("127.0.0.1", 0)) as taken:
        busy = taken.getsockname()[1]
        daemon_site(site, port, metrics=f"metrics_port: {busy}")
        write_posts(site, {"caijing": 1})
        d = DaemonProcess(site.config_path, env=ENV)
        code = d.proc.wait(30)
        out = d.output()
        d.stop()
    assert code == 1, out
    assert (
        f"syndicate: error: daemon.metrics_port: cannot listen on 127.0.0.1:{busy}:"
        " Address already in use" in out
    )
    assert "Traceback" not in out
    assert count_runs(site) == 0  # no job ran
    if not ON_POSTGRES:
        assert read_holder(lock_path(site.cfg())) is None  # handed back, not left to look stale


def test_metrics_port_is_checked_at_load(site):
    from syndicate.errors import ConfigError

    site.extend_config("daemon: {metrics_port: 70000}\n")
    with pytest.raises(ConfigError, match=r"schedule\.yaml:\d+: daemon\.metrics_port: "):
        site.cfg()


# -- syndicate serve ---------------------------------------------------------

ALICE, BOB = "alice@example.com", "bob@example.com"


def test_serve_counts_unsubscribes_and_shows_the_stores_last_successes(site, monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SERVE_SECRET)
    store = mail_first_edition(site, [(ALICE, "Alice"), (BOB, "Bob")])
    links = {to(m): unsubscribe_url(m) for m in outbox(site)}
    with LiveServer(site.cfg()) as live:
        before = scrape(f"{live.url}/metrics")
        r = httpx.post(local(links[ALICE], live.url), data={})  # the page's button
        assert r.status_code == 200
        r = httpx.post(local(links[BOB], live.url), data={"List-Unsubscribe": "One-Click"})
        assert r.status_code == 200
        r = httpx.post(local(links[BOB], live.url), data={"List-Unsubscribe": "One-Click"})
        assert r.status_code == 200  # again: already unsubscribed, not counted twice
        after = scrape(f"{live.url}/metrics")
        head = httpx.get(f"{live.url}/metrics")
    assert head.headers["cache-control"] == "no-store"
    name = "syndicate_unsubscribes_total"
    for via, moved in (("web", 1), ("one-click", 1), ("reply", 0), ("cli", 0)):
        assert value(after, name, via=via) - value(before, name, via=via) == moved, via
    last = store.last_successes()
    assert {"collect", "digest:daily"} <= set(last)
    for job, when in last.items():
        assert value(after, LAST_SUCCESS, job_name=job) == pytest.approx(when.timestamp())


def test_serve_metrics_answer_while_the_store_cannot_be_read(site, unopenable_store, monkeypatch):
    url, _reason = unopenable_store
    monkeypatch.setenv("SYNDICATE_STORE_URL", url)
    with LiveServer(site.cfg()) as live:
        r = httpx.get(f"{live.url}/metrics")
    assert r.status_code == 200
    s = parse(r.text)
    assert not [k for k in s if k[0] == LAST_SUCCESS]  # no store, no sample (and no guess)
    assert "# TYPE syndicate_job_last_success_timestamp_seconds gauge" in r.text
    assert ("syndicate_posts_rejected_total", frozenset({("source", "local")})) in s


# -- syndicate worker (queue mode, PostgreSQL) ---------------------------------


@pytest.mark.pg_only
def test_worker_serves_what_its_tasks_did(site):
    from .test_cluster import setup_cluster, stop_all

    with smtp_server() as (server, port):
        store, people, _when = setup_cluster(site, port, 3, slot_in=4)
        run = DaemonProcess(site.config_path, env=ENV)
        w = DaemonProcess(site.config_path, env=ENV, command=("worker", "--metrics-port", "0"))
        try:
            url = wait_for(lambda: metrics_url(w.output()), what="the worker's metrics URL")
            assert isinstance(url, str)
            wait_for(lambda: server.count() >= len(people), timeout=40, what="the edition")
            s = wait_for(lambda: sent(url, len(people)), what="the worker's count")
            assert isinstance(s, dict)
            assert value(s, "syndicate_job_runs_total", job_name="daily", outcome="ok") == 1
            assert value(s, LAST_SUCCESS, job_name="daily") > 0
        finally:
            stop_all([run, w])
    assert store.last_successes()["daily"].timestamp() == pytest.approx(
        value(s, LAST_SUCCESS, job_name="daily")
    )
