"""Upstream feed sources against a real HTTP server on 127.0.0.1 (no mocked HTTP).

The server serves fixture feeds and scripted replies: redirects, errors,
validators, a hang, a trickle, a 50 MB stream (written in chunks, never held
in memory) and compressed bodies.
"""

from __future__ import annotations

import email.utils
import gzip
import logging
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import brotli
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from syndicate import __version__
from syndicate.cli import main
from syndicate.collect import guard
from syndicate.collect.collector import collect
from syndicate.collect.upstream import collect_feed_sources
from syndicate.config import FeedSource
from syndicate.store import post_categories, post_tags, posts, sources

from .conftest import DATA, NOW

FEEDS = DATA / "feeds"
RSS = "application/rss+xml; charset=utf-8"


@dataclass
class Reply:
    status: int = 200
    body: bytes | Iterator[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds of silence before the status line
    trickle: float = 0.0  # seconds between body chunks


Route = Callable[[dict[str, str]], Reply]


class FeedServer:
    """A ThreadingHTTPServer whose routes are functions of the request headers."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.stop = threading.Event()
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                with server._lock:
                    server.requests.append((self.path, headers))
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                self.counted = True
                try:
                    route = server.routes.get(self.path)
                    reply = route(headers) if route else Reply(404, b"not found")
                    self._send(reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it should
                finally:
                    self._uncount()

            def _uncount(self) -> None:
                # Before the first byte goes out: the client cannot start its
                # next request on this lane until it has read this reply, so
                # the count never overlaps one lane's consecutive fetches.
                if self.counted:
                    self.counted = False
                    with server._lock:
                        server.in_flight -= 1

            def _send(self, reply: Reply) -> None:
                if reply.delay and server.stop.wait(reply.delay):
                    return
                self._uncount()
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                if isinstance(reply.body, bytes):
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                chunks = [reply.body] if isinstance(reply.body, bytes) else reply.body
                for chunk in chunks:
                    self.wfile.write(chunk)
                    if reply.trickle and server.stop.wait(reply.trickle):
                        return

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.host = host
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def route(self, path: str, *replies: Reply | Route) -> None:
        """Fixed replies in turn (the last one repeats), or one function of the headers."""
        if len(replies) == 1 and callable(replies[0]):
            self.routes[path] = replies[0]
            return
        queue = list(replies)

        def next_reply(_headers: dict[str, str]) -> Reply:
            return queue.pop(0) if len(queue) > 1 else queue[0]  # type: ignore[return-value]

        self.routes[path] = next_reply

    def feed(self, path: str, fixture: str, content_type: str = RSS, **headers: str) -> None:
        body = (FEEDS / fixture).read_bytes()
        self.route(path, Reply(200, body, {"Content-Type": content_type, **headers}))

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    srv = FeedServer()
    yield srv
    srv.close()


def configure(site, *sources: str, extra: str = "") -> None:
    site.write_config(
        """\
site:
  title: 金融资讯网
  url: https://finews.withounder.com
  timezone: Asia/Shanghai
sources:
  - name: local
    posts: site/_posts
"""
        + "".join(sources)
        + """\
categories:
  caijing: 财经
store:
  url: sqlite:///var/test.db
"""
        + extra
    )


def src(name: str, url: str, **opts: object) -> str:
    opts = {"allow_private": True, "timeout": 2, **opts}
    lines = [f"  - name: {name}", f"    feed: {url}"]
    for k, v in opts.items():
        v = str(v).lower() if isinstance(v, bool) else v
        lines.append(f"    {k}: {v}")
    return "\n".join(lines) + "\n"


def run(site, store, *, now=NOW, force=False):
    cfg = site.cfg()
    feeds = [s for s in cfg.sources if isinstance(s, FeedSource)]
    return collect_feed_sources(cfg, store, feeds, now=now, force=force)


def rows(store, source: str | None = None) -> dict[str, dict]:
    q = select(posts, sources.c.name.label("source")).join(
        sources, sources.c.id == posts.c.source_id
    )
    if source:
        q = q.where(sources.c.name == source)
    with store.connect() as conn:
        return {r["key"]: dict(r) for r in conn.execute(q).mappings()}


def state(store, name: str) -> dict:
    with store.connect() as conn:
        return dict(conn.execute(select(sources).where(sources.c.name == name)).mappings().one())


def terms(store, post_id: int) -> tuple[list[str], list[str]]:
    with store.connect() as conn:
        cats = conn.execute(
            select(post_categories.c.category_slug)
            .where(post_categories.c.post_id == post_id)
            .order_by(post_categories.c.position)
        ).scalars()
        tags = conn.execute(
            select(post_tags.c.tag_slug)
            .where(post_tags.c.post_id == post_id)
            .order_by(post_tags.c.position)
        ).scalars()
        return list(cats), list(tags)


# -- formats, categories, content --------------------------------------------


def test_rss_atom_rdf_with_local_posts(site, server):
    site.add_seed()
    server.feed("/rss", "rss20.xml")
    server.feed("/atom", "atom.xml", "application/atom+xml")
    server.feed("/rdf", "rdf.xml", "application/rdf+xml")
    configure(
        site,
        src("cac-news", server.url("/rss"), category="wangxinzhongguo"),
        src("fx", server.url("/atom"), categories_from_feed=True),
        src("world", server.url("/rdf"), category="guoji", categories_from_feed=True),
    )
    store = site.store()
    c = collect(site.cfg(), store, now=NOW)  # what `syndicate collect` runs
    assert (c.new, c.rejected) == (1 + 3 + 2 + 1, 0)

    rss = rows(store, "cac-news")
    a = rss["news-2022-0001"]
    assert a["guid"] == "news-2022-0001"
    assert a["title"] == "国家网信办发布新规"
    assert a["link"] == "https://news.example.org/2022/02/10/a.html"
    assert (a["date"].isoformat(), a["date_offset"]) == ("2022-02-10T03:48:47+00:00", 480)
    assert a["first_seen"] == NOW
    assert a["author"] == "记者 张三"
    # cleaned like a local post: credit taken out and used, URLs absolute against the entry link
    assert a["source_name"] == "网信中国"
    assert "文章来源" not in a["content_html"]
    assert 'src="https://news.example.org/img/a.png"' in a["content_html"]
    assert 'href="https://news.example.org/2022/02/10/full.html"' in a["content_html"]
    assert a["summary"] == "国家互联网信息办公室今日发布新规。规定自三月一日起施行。详见全文。"
    # `category:` only; the entry's own categories are kept as tags
    assert terms(store, a["id"]) == (["wangxinzhongguo"], ["wangxinzhongguo", "caijing"])
    b = rss["https://news.example.org/2022/02/11/b.html"]
    assert b["title"] == "第二篇 & 更多" and b["source_name"] == "网信中国"
    # no guid: the normalized link (case, fragment, utm_*, query order)
    assert "https://news.example.org/2022/02/12/c.html?a=1&b=2" in rss

    fx = rows(store, "fx")
    one = fx["tag:atom.example.org,2022:1"]
    assert one["title"] == "人民币汇率走强"  # an HTML title loses its tags
    assert one["updated"].isoformat() == "2022-02-10T03:00:00+00:00"
    assert terms(store, one["id"]) == (["gupiao"], [])  # categories_from_feed: label 股票
    two = fx["tag:atom.example.org,2022:2"]
    assert (two["date"].isoformat(), two["date_offset"]) == ("2022-02-09T08:00:00+00:00", 0)

    world = rows(store, "world")["https://rdf.example.org/world/1"]
    assert world["title"] == "国际要闻一则" and world["source_name"] == "国际新闻"
    assert terms(store, world["id"]) == (["guoji"], [])  # 国际 → guoji, once

    ua = {h["user-agent"] for _, h in server.requests}
    assert ua == {f"syndicate/{__version__} (+https://finews.withounder.com)"}
    assert "br" in server.requests[0][1]["accept-encoding"]
    # the seed post went in beside them, as before
    assert "_posts/2022-02-10-NW202202102272322133.md" in rows(store, "local")


@pytest.mark.parametrize(
    "content_type",
    ["text/xml; charset=iso-8859-1", "application/rss+xml; charset=utf-8", "text/xml"],
)
def test_gb2312_feed_with_wrong_or_no_charset_header(site, server, content_type):
    server.feed("/gb", "gb2312.xml", content_type)
    configure(site, src("gb", server.url("/gb"), categories_from_feed=True))
    store = site.store()
    assert run(site, store).new == 1
    row = rows(store)["gb-1"]
    assert row["title"] == "央行宣布降准"
    assert row["summary"] == "中国人民银行决定下调金融机构存款准备金率。"
    assert row["source_name"] == "国标编码新闻"
    assert terms(store, row["id"]) == (["hongguanjingji"], [])


def test_scripts_and_javascript_links_are_removed(site, server):
    server.feed("/evil", "evil.xml")
    configure(site, src("evil", server.url("/evil")))
    store = site.store()
    run(site, store)
    row = rows(store)["evil-1"]
    html = row["content_html"]
    for bad in ("<script", "alert", "javascript:", "onclick", "onerror", "<iframe", "<style"):
        assert bad not in html, bad
    assert 'href="https://evil.example.org/safe"' in html
    assert row["link"] == "https://evil.example.org/"  # a javascript: link is no link
    assert row["title"] == "脚本"


def test_duplicate_guids_do_not_hide_entries(site, server):
    body = (FEEDS / "dupes.xml").read_bytes()
    items = body.split(b"<item>")
    reordered = items[0] + b"<item>" + b"<item>".join(reversed(items[1:-1])) + b"<item>" + items[-1]
    server.route("/d", Reply(200, body, {"Content-Type": RSS}), Reply(200, reordered, {}))
    configure(site, src("dupes", server.url("/d")))
    store = site.store()
    c = run(site, store)
    assert (c.new, c.files) == (3, 3)  # the exact repeat of 甲 is the same entry
    r = rows(store)
    base = "https://dupes.example.org/"
    assert r[base]["title"] == "甲"
    titles = {row["title"] for key, row in r.items() if key.startswith(base + "#")}
    assert titles == {"乙", "丙"}
    assert all(row["guid"] == key for key, row in r.items())
    # the same entries in another order are the same posts
    c = run(site, store, now=NOW + timedelta(hours=1), force=True)
    assert (c.new, c.updated, c.unchanged) == (0, 0, 3)
    assert {k: v["title"] for k, v in rows(store).items()} == {k: v["title"] for k, v in r.items()}


def test_missing_and_future_dates_and_titles(site, server, caplog):
    server.feed("/n", "nodates.xml")
    configure(site, src("nodates", server.url("/n")))
    store = site.store()
    with caplog.at_level(logging.WARNING):
        run(site, store)
    r = rows(store)
    untitled = r["https://nodates.example.org/1"]
    assert untitled["date"] == NOW and untitled["date_offset"] == 480  # first_seen, site's zone
    assert untitled["title"] == "这条没有标题也没有日期。它的摘要做标题。"
    future = r["https://nodates.example.org/2"]
    assert future["date"] == NOW
    assert "in the future" in caplog.text and "2099" in caplog.text
    soon = r["https://nodates.example.org/3"]  # hours ahead is clock skew, not the future
    assert soon["date"].isoformat() == "2026-11-27T10:00:00+00:00"
    # later fetches keep first_seen as the date: nothing changes
    c = run(site, store, now=NOW + timedelta(hours=5), force=True)
    assert (c.unchanged, c.updated) == (3, 0)
    assert rows(store)["https://nodates.example.org/1"]["date"] == NOW


def test_changed_entry_updates_in_place_and_vanished_stays(site, server):
    first = (FEEDS / "rss20.xml").read_bytes()
    edited = first.replace("国家网信办发布新规".encode(), "国家网信办发布新规（更新）".encode())
    edited = edited.split(b"<item>")
    edited = b"<item>".join(edited[:2]) + b"</channel></rss>"  # only the first entry is left
    server.route(
        "/f", Reply(200, first, {"Content-Type": RSS}), Reply(200, edited, {"Content-Type": RSS})
    )
    configure(site, src("f", server.url("/f")))
    store = site.store()
    run(site, store)
    before = rows(store)
    later = NOW + timedelta(hours=1)
    c = run(site, store, now=later)
    assert (c.new, c.updated, c.unchanged) == (0, 1, 0)
    after = rows(store)
    a0, a1 = before["news-2022-0001"], after["news-2022-0001"]
    assert a1["id"] == a0["id"] and a1["guid"] == a0["guid"]
    assert a1["title"] == "国家网信办发布新规（更新）"
    assert a1["updated"] == later and a1["updated_offset"] == 480
    assert a1["first_seen"] == NOW and a1["date"] == a0["date"]
    # entries that left the feed stay, not withdrawn
    assert len(after) == 3 and not any(r["withdrawn"] for r in after.values())


# -- malformed and unusable feeds --------------------------------------------


def test_malformed_but_usable_feed_is_collected(site, server, caplog):
    server.feed("/bad", "malformed.xml")
    server.feed("/html", "notafeed.html", "text/html; charset=utf-8")
    server.route("/empty", Reply(200, b"", {"Content-Type": RSS}))
    server.feed("/good", "rdf.xml")
    configure(
        site,
        src("bad", server.url("/bad")),
        src("html", server.url("/html")),
        src("empty", server.url("/empty")),
        src("good", server.url("/good")),
    )
    store = site.store()
    with caplog.at_level(logging.WARNING):
        c = run(site, store)
    assert c.new == 2 + 1
    assert "bad: feed is malformed but usable" in caplog.text
    assert rows(store, "bad")["bad-1"]["title"] == "还能读的条目 & 未转义"
    reasons = {r.path: r.reason for r in c.rejections}
    assert set(reasons) == {"html", "empty"} and c.rejected == 2
    assert "not a usable feed" in reasons["html"]
    st = state(store, "html")
    assert st["error_count"] == 1 and "not a usable feed" in st["last_result"]
    assert st["etag"] is None


# -- HTTP behaviour ------------------------------------------------------------


def test_etag_second_fetch_is_304_and_new_validators_are_stored(site, server):
    body = (FEEDS / "atom.xml").read_bytes()
    version = {"etag": '"v1"', "body": body}

    def conditional(headers: dict[str, str]) -> Reply:
        if headers.get("if-none-match") == version["etag"]:
            return Reply(304, b"", {"ETag": version["etag"]})
        return Reply(200, version["body"], {"ETag": version["etag"], "Content-Type": RSS})

    server.route("/e", conditional)
    configure(site, src("etag", server.url("/e")))
    store = site.store()
    assert run(site, store).new == 2
    assert state(store, "etag")["etag"] == '"v1"'
    before = rows(store)
    later = NOW + timedelta(minutes=31)
    c = run(site, store, now=later)
    assert (c.files, c.new, c.updated, c.unchanged) == (0, 0, 0, 0)
    assert server.requests[-1][1]["if-none-match"] == '"v1"'
    st = state(store, "etag")
    assert st["last_result"] == "304 not modified" and st["next_fetch"] == later + timedelta(
        minutes=30
    )
    assert rows(store) == before
    # a new version: new validators are stored with the new content
    version["etag"] = '"v2"'
    version["body"] = body.replace("中间价上调".encode(), "中间价下调".encode())
    c = run(site, store, now=later + timedelta(hours=1))
    assert c.updated == 1
    assert state(store, "etag")["etag"] == '"v2"'


def test_last_modified_second_fetch_is_304(site, server):
    stamp = "Thu, 10 Feb 2022 04:00:00 GMT"
    body = (FEEDS / "rss20.xml").read_bytes()

    def conditional(headers: dict[str, str]) -> Reply:
        if headers.get("if-modified-since") == stamp:
            return Reply(304)
        return Reply(200, body, {"Last-Modified": stamp, "Content-Type": RSS})

    server.route("/lm", conditional)
    configure(site, src("lm", server.url("/lm")))
    store = site.store()
    assert run(site, store).new == 3
    assert state(store, "lm")["last_modified"] == stamp
    c = run(site, store, force=True)
    assert (c.new, c.updated, c.files) == (0, 0, 0)
    assert server.requests[-1][1]["if-modified-since"] == stamp
    assert state(store, "lm")["last_result"] == "304 not modified"


def test_permanent_redirect_is_adopted_after_three_fetches(site, server):
    server.route("/old", Reply(301, b"", {"Location": "/new"}))
    server.feed("/new", "rdf.xml")
    configure(site, src("moving", server.url("/old")))
    store = site.store()
    for n in (1, 2):
        assert run(site, store, now=NOW + timedelta(hours=n)).rejected == 0
        st = state(store, "moving")
        assert st["url"] == server.url("/old")
        assert (st["redirect_url"], st["redirect_count"]) == (server.url("/new"), n)
    run(site, store, now=NOW + timedelta(hours=3))
    st = state(store, "moving")
    assert st["url"] == server.url("/new") and st["redirect_url"] is None
    assert server.hits("/old") == 3
    run(site, store, now=NOW + timedelta(hours=4))
    assert server.hits("/old") == 3 and server.hits("/new") == 4
    assert len(rows(store)) == 1  # same entry all along: ids do not depend on the URL


def test_permanent_redirect_count_restarts_when_interrupted(site, server):
    server.route(
        "/old",
        Reply(308, b"", {"Location": "/new"}),
        Reply(200, (FEEDS / "rdf.xml").read_bytes(), {"Content-Type": RSS}),
        Reply(301, b"", {"Location": "/new"}),
    )
    server.feed("/new", "rdf.xml")
    configure(site, src("moving", server.url("/old")))
    store = site.store()
    for n in range(1, 5):
        run(site, store, now=NOW + timedelta(hours=n))
    st = state(store, "moving")  # 308, 200 (resets), 301, 301: two in a row so far
    assert st["url"] == server.url("/old") and st["redirect_count"] == 2


def test_temporary_redirect_never_changes_the_url(site, server):
    server.route("/tmp", Reply(302, b"", {"Location": "/feed"}))
    server.route("/tmp7", Reply(307, b"", {"Location": server.url("/feed")}))
    server.feed("/feed", "rdf.xml")
    configure(site, src("t302", server.url("/tmp")), src("t307", server.url("/tmp7")))
    store = site.store()
    for n in range(1, 6):
        assert run(site, store, now=NOW + timedelta(hours=n)).rejected == 0
    for name, path in (("t302", "/tmp"), ("t307", "/tmp7")):
        st = state(store, name)
        assert st["url"] == server.url(path) and st["redirect_url"] is None
    assert server.hits("/tmp") == 5


def test_redirect_loop_is_an_error(site, server):
    server.route("/loop", Reply(302, b"", {"Location": "/loop"}))
    configure(site, src("loop", server.url("/loop")))
    store = site.store()
    c = run(site, store)
    assert c.rejected == 1 and "more than 5 redirects" in c.rejections[0].reason
    assert server.hits("/loop") == 6


def test_gone_disables_the_source(site, server, caplog, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")  # rich wraps table cells to the terminal's width
    server.route("/gone", Reply(410, b"gone"))
    configure(site, src("gone", server.url("/gone")))
    store = site.store()
    with caplog.at_level(logging.WARNING):
        c = run(site, store)
    assert c.rejected == 1 and "410" in c.rejections[0].reason
    assert "disabled" in caplog.text
    st = state(store, "gone")
    assert st["disabled"] is True and st["next_fetch"] is None
    c = run(site, store, now=NOW + timedelta(days=30))
    assert (c.rejected, server.hits("/gone")) == (0, 1)  # not fetched again
    result = CliRunner().invoke(main, ["--config", str(site.config_path), "status"])
    assert result.exit_code == 0, result.output
    assert "feed sources" in result.output and "disabled until" in result.output
    # a new URL in schedule.yaml starts over
    server.feed("/moved", "rdf.xml")
    configure(site, src("gone", server.url("/moved")))
    assert run(site, store, now=NOW + timedelta(days=31)).new == 1
    assert state(store, "gone")["disabled"] is False


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds_is_honoured(site, server, status):
    server.route("/busy", Reply(status, b"slow down", {"Retry-After": "7200"}))
    configure(site, src("busy", server.url("/busy")))
    store = site.store()
    assert run(site, store).rejected == 1
    st = state(store, "busy")
    assert st["next_fetch"] == NOW + timedelta(hours=2)
    assert st["retry_after"] == NOW + timedelta(hours=2)
    assert st["error_count"] == 1
    run(site, store, now=NOW + timedelta(hours=1))
    assert server.hits("/busy") == 1  # not before the server said


def test_retry_after_http_date_uses_the_servers_clock(site, server):
    # the server's Date is its real clock; the collector's `now` is another: only the gap counts
    later = email.utils.formatdate(time.time() + 3 * 3600, usegmt=True)
    server.route("/busy", Reply(429, b"", {"Retry-After": later}))
    configure(site, src("busy", server.url("/busy")))
    store = site.store()
    run(site, store)
    wait = state(store, "busy")["next_fetch"] - NOW
    assert timedelta(hours=3) - timedelta(seconds=5) <= wait <= timedelta(hours=3)


def test_server_errors_back_off_up_to_a_day_and_recover(site, server):
    server.route("/flaky", Reply(500, b"oops"))
    configure(site, src("flaky", server.url("/flaky"), every="30m"))
    store = site.store()
    now, waits = NOW, []
    for _ in range(9):
        run(site, store, now=now)
        nxt = state(store, "flaky")["next_fetch"]
        waits.append(nxt - now)
        run(site, store, now=nxt - timedelta(seconds=1))  # not due yet: no request
        now = nxt
    assert server.hits("/flaky") == 9
    hours = [w / timedelta(hours=1) for w in waits]
    assert hours == [0.5, 1, 2, 4, 8, 16, 24, 24, 24]
    st = state(store, "flaky")
    assert st["error_count"] == 9 and st["disabled"] is False
    assert st["last_result"] == "error: HTTP 500"
    server.feed("/flaky", "rdf.xml")
    run(site, store, now=now)
    st = state(store, "flaky")
    assert (st["error_count"], st["next_fetch"]) == (0, now + timedelta(minutes=30))


def test_hang_past_the_timeout(site, server):
    server.route("/hang", Reply(200, b"<rss/>", delay=10))
    body = (FEEDS / "rss20.xml").read_bytes()
    # a trickle: each read succeeds in time, only the total deadline stops it
    server.route(
        "/trickle", Reply(200, iter([body[:10]] * 1000), {"Content-Type": RSS}, trickle=0.2)
    )
    server.feed("/ok", "rdf.xml")
    configure(
        site,
        src("hang", server.url("/hang"), timeout=1),
        src("trickle", server.url("/trickle"), timeout=1),
        src("ok", server.url("/ok"), timeout=1),
    )
    store = site.store()
    started = time.monotonic()
    c = run(site, store)
    elapsed = time.monotonic() - started
    assert elapsed < 2.5, elapsed
    reasons = {r.path: r.reason for r in c.rejections}
    assert set(reasons) == {"hang", "trickle"}
    assert all("timed out after 1s" in r for r in reasons.values())
    assert c.new == 1  # the other source went on


def _stream(total: int, chunk: int = 64 * 1024) -> Iterator[bytes]:
    block = b"<!-- " + b"x" * (chunk - 9) + b" -->"
    yield b'<?xml version="1.0"?><rss version="2.0"><channel>'
    for _ in range(total // chunk):
        yield block


def test_fifty_megabyte_body_is_cut_at_the_cap(site, server):
    size = 50 * 1024 * 1024
    server.route("/huge", Reply(200, _stream(size), {"Content-Type": RSS}))  # no length given
    server.route(
        "/huge-len", Reply(200, _stream(size), {"Content-Type": RSS, "Content-Length": str(size)})
    )
    configure(site, src("huge", server.url("/huge")), src("huge-len", server.url("/huge-len")))
    store = site.store()
    started = time.monotonic()
    c = run(site, store)
    assert time.monotonic() - started < 10
    reasons = {r.path: r.reason for r in c.rejections}
    assert reasons.keys() == {"huge", "huge-len"}
    assert all(f"body larger than {15 * 1024 * 1024:,} bytes" in r for r in reasons.values())


def _compress(kind: str, data: bytes) -> bytes:
    if kind == "gzip":
        return gzip.compress(data)
    if kind == "deflate":
        return zlib.compress(data)
    if kind == "raw-deflate":
        c = zlib.compressobj(wbits=-15)
        return c.compress(data) + c.flush()
    return brotli.compress(data)


@pytest.mark.parametrize("kind", ["gzip", "deflate", "raw-deflate", "br"])
def test_compressed_bodies(site, server, kind):
    body = _compress(kind, (FEEDS / "rss20.xml").read_bytes())
    encoding = "deflate" if kind == "raw-deflate" else kind
    server.route("/z", Reply(200, body, {"Content-Type": RSS, "Content-Encoding": encoding}))
    configure(site, src("z", server.url("/z")))
    store = site.store()
    assert run(site, store).new == 3
    assert rows(store)["news-2022-0001"]["title"] == "国家网信办发布新规"


def test_compression_bomb_is_cut_after_decompression(site, server):
    bomb = gzip.compress(b"<rss>" + b" " * (20 * 1024 * 1024))  # ~20 KB on the wire
    server.route("/bomb", Reply(200, bomb, {"Content-Type": RSS, "Content-Encoding": "gzip"}))
    configure(site, src("bomb", server.url("/bomb"), max_bytes=1024 * 1024))
    store = site.store()
    c = run(site, store)
    assert c.rejected == 1 and "body larger than 1,048,576 bytes" in c.rejections[0].reason


# -- where a source may connect --------------------------------------------------


def test_private_address_is_refused_by_default(site, server):
    server.feed("/rss", "rss20.xml")
    configure(site, src("private", server.url("/rss"), allow_private=False))
    store = site.store()
    c = run(site, store)
    assert c.rejected == 1
    assert "refused: 127.0.0.1 resolves to non-public address 127.0.0.1" in c.rejections[0].reason
    assert server.requests == []  # not even connected to
    assert "refused" in state(store, "private")["last_result"]


def test_redirect_to_a_forbidden_address_is_refused(site, server, monkeypatch):
    other = FeedServer("127.0.0.2")
    try:
        other.feed("/secret", "rss20.xml")
        server.route("/rss", Reply(302, b"", {"Location": other.url("/secret")}))
        # pretend 127.0.0.1 is public, so only the redirect's target is forbidden
        monkeypatch.setattr(guard, "is_forbidden", lambda ip: str(ip) == "127.0.0.2")
        configure(site, src("hop", server.url("/rss"), allow_private=False))
        c = run(site, site.store())
        assert server.hits("/rss") == 1 and other.requests == []
        assert c.rejected == 1 and "127.0.0.2" in c.rejections[0].reason
    finally:
        other.close()


# -- scheduling and concurrency ---------------------------------------------------


def test_only_due_sources_are_fetched(site, server):
    server.feed("/a", "rdf.xml")
    configure(site, src("a", server.url("/a"), every="1h"))
    store = site.store()
    run(site, store)
    run(site, store, now=NOW + timedelta(minutes=59))
    assert server.hits("/a") == 1
    run(site, store, now=NOW + timedelta(minutes=59), force=True)
    assert server.hits("/a") == 2
    run(site, store, now=NOW + timedelta(minutes=59 + 60))
    assert server.hits("/a") == 3


def test_at_most_two_fetches_per_host(site, server):
    body = (FEEDS / "rdf.xml").read_bytes()
    for i in range(6):
        server.route(f"/s{i}", Reply(200, body, {"Content-Type": RSS}, delay=0.15))
    configure(site, *(src(f"s{i}", server.url(f"/s{i}")) for i in range(6)))
    store = site.store()
    c = run(site, store)
    assert c.rejected == 0 and len(server.requests) == 6
    assert server.max_in_flight == 2


def test_status_lists_feed_sources(site, server, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    server.feed("/rss", "rss20.xml")
    server.route("/down", Reply(500))
    configure(site, src("up", server.url("/rss")), src("down", server.url("/down")))
    store = site.store()
    run(site, store)
    result = CliRunner().invoke(main, ["--config", str(site.config_path), "status"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "feed sources" in out
    assert server.url("/rss") in out and "200 ok: 3 new, 0 updated" in out
    assert "error: HTTP 500" in out


def test_example_schedule_has_a_commented_feed_source():
    text = (Path(__file__).resolve().parent.parent / "schedule.yaml").read_text(encoding="utf-8")
    assert "  #   feed: https://" in text
