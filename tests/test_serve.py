"""`syndicate serve`, the static side: feeds with validators, types, gzip, no way out of feeds/.

Every test talks HTTP to the real app under uvicorn on 127.0.0.1.
"""

from __future__ import annotations

import gzip
import os
import signal
import socket
import subprocess
import sys
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest

from syndicate.collect.collector import collect
from syndicate.publish.build import build
from syndicate.store import Store

from .conftest import NOW, STORE_ENV, Site
from .serving import SECRET, LiveServer, raw

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SECURITY = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def make_built(site: Site) -> tuple[Site, Store]:
    site.add_seed()
    site.post("2022-02-12-b.md", title="第二篇", categories="caijing", tags="人民币")
    store = site.store()
    collect(site.cfg(), store, now=NOW)
    build(site.cfg(), store)
    return site, store


@pytest.fixture
def built(site):
    """A built site of its own, for tests that change it."""
    return make_built(site)


@pytest.fixture
def own(built, monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    site, _ = built
    with LiveServer(site.cfg()) as server:
        yield server


@pytest.fixture(scope="module")
def shared(tmp_path_factory, stores):
    """One built site and server for the tests that only read (a store of their own)."""
    with pytest.MonkeyPatch.context() as mp, stores.fresh() as url:
        mp.setenv("SYNDICATE_SECRET", SECRET)
        mp.setenv(STORE_ENV, url)  # each test's own store_url replaces it in the environment
        site, store = make_built(Site(tmp_path_factory.mktemp("served")))
        with LiveServer(site.cfg()) as server:
            yield site, store, server


@pytest.fixture
def live(shared):
    return shared[2]


def feeds(site) -> Path:
    return site.root / "feeds"


def test_conditional_get_and_etag_follows_the_bytes(built, own):
    site, store = built
    live = own
    with httpx.Client(base_url=live.url, headers={"accept-encoding": "identity"}) as c:
        first = c.get("/feeds/caijing.rss")
        assert first.status_code == 200
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        assert etag.startswith('"') and not etag.startswith("W/")
        assert first.content == (feeds(site) / "caijing.rss").read_bytes()
        assert first.headers["cache-control"] == "public, max-age=300"

        again = c.get("/feeds/caijing.rss", headers={"if-none-match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag
        assert (
            c.get("/feeds/caijing.rss", headers={"if-modified-since": modified}).status_code == 304
        )
        old = formatdate(0, usegmt=True)
        assert c.get("/feeds/caijing.rss", headers={"if-modified-since": old}).status_code == 200
        # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
        both = {"if-none-match": '"other"', "if-modified-since": modified}
        assert c.get("/feeds/caijing.rss", headers=both).status_code == 200

        seed_etag = c.get("/feeds/wangxinzhongguo.rss").headers["etag"]
        # a build with nothing new writes nothing: the validators stay
        assert build(site.cfg(), store).skipped
        assert c.get("/feeds/caijing.rss").headers["etag"] == etag
        # touching the file without changing it keeps the ETag (a hash of the bytes)
        os.utime(feeds(site) / "caijing.rss", (1e9, 1e9))
        assert c.get("/feeds/caijing.rss").headers["etag"] == etag

        site.post("2022-02-13-c.md", title="第三篇", categories="caijing")
        collect(site.cfg(), store, now=NOW)
        result = build(site.cfg(), store)
        assert "caijing.rss" in result.written
        changed = c.get("/feeds/caijing.rss", headers={"if-none-match": etag})
        assert changed.status_code == 200 and changed.headers["etag"] != etag
        assert "第三篇" in changed.text
        # the seed's own feed did not change, and neither did its validator
        assert c.get("/feeds/wangxinzhongguo.rss").headers["etag"] == seed_etag


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/feeds/caijing.rss", "application/rss+xml; charset=utf-8"),
        ("/feeds/caijing.atom", "application/atom+xml; charset=utf-8"),
        ("/feeds/caijing.json", "application/feed+json; charset=utf-8"),
        ("/feeds/feeds.opml", "text/x-opml; charset=utf-8"),
        ("/feeds/feed.css", "text/css; charset=utf-8"),
        ("/feeds/caijing.html", "text/html; charset=utf-8"),
        ("/feeds/index.html", "text/html; charset=utf-8"),
        ("/feeds/", "text/html; charset=utf-8"),
        ("/feeds/snippets/caijing.html", "text/html; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
    ],
)
def test_content_types(live, path, media_type):
    r = httpx.get(live.url + path)
    assert r.status_code == 200
    assert r.headers["content-type"] == media_type


# what feed readers send (and send nothing): the feed, never the page
READER_ACCEPTS = [
    None,
    "*/*",
    "application/atom+xml,application/rss+xml,application/xml;q=0.9,*/*;q=0.8",
    "application/rss+xml, application/rdf+xml;q=0.8, application/atom+xml;q=0.6, "
    "application/xml;q=0.4, text/xml;q=0.4",
    "application/feed+json, application/json;q=0.9",
    "text/html, */*",  # a tie is the feed: what the URL names
    "text/html;q=0.5, application/xml, application/json",
]
# what browsers send when they navigate (Chromium, Firefox, Safari) and a plain HTML ask
PAGE_ACCEPTS = [
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    BROWSER_ACCEPT,
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "text/html",
]


def vary(headers: dict[str, str]) -> list[str]:
    return [v.strip() for v in headers.get("vary", "").split(",")]


def _get(live, path: str, accept: str | None, **headers: str) -> tuple[int, dict[str, str], bytes]:
    if accept is not None:
        headers["accept"] = accept
    headers.setdefault("accept-encoding", "identity")
    return raw(live.url, path, headers=headers)


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
@pytest.mark.parametrize("accept", READER_ACCEPTS)
def test_feed_readers_get_the_feed_bytes(shared, fmt, accept):
    site, _, live = shared
    status, headers, body = _get(live, f"/feeds/caijing.{fmt}", accept)
    assert status == 200
    assert body == (feeds(site) / f"caijing.{fmt}").read_bytes()
    assert headers["content-type"].startswith(
        ("application/rss+xml", "application/atom+xml", "application/feed+json")
    )
    assert "Accept" in vary(headers)
    assert headers["cache-control"] == "public, max-age=300"


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
@pytest.mark.parametrize("accept", PAGE_ACCEPTS)
def test_browsers_get_the_feed_page(shared, fmt, accept):
    site, _, live = shared
    status, headers, body = _get(live, f"/feeds/caijing.{fmt}", accept)
    assert status == 200
    assert body == (feeds(site) / "caijing.html").read_bytes()
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert "Accept" in vary(headers)
    # no shared cache keeps the page under the feed's URL (readers could be handed it)
    assert headers["cache-control"] == "private, max-age=300"
    # the page runs nothing and loads nothing: serve's strict policy holds as it is
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp


def test_each_representation_has_its_own_etag_and_304(shared):
    _, _, live = shared
    browser, reader = PAGE_ACCEPTS[0], READER_ACCEPTS[2]
    _, page, _ = _get(live, "/feeds/caijing.atom", browser)
    _, feed, _ = _get(live, "/feeds/caijing.atom", reader)
    _, direct, _ = _get(live, "/feeds/caijing.html", browser)
    assert page["etag"] != feed["etag"]
    assert page["etag"] == direct["etag"]  # the page is the same bytes wherever it is asked for
    assert "Accept" not in vary(direct)  # the .html URL is not negotiated
    assert direct["cache-control"] == "public, max-age=300"
    for accept, etag in ((browser, page["etag"]), (reader, feed["etag"])):
        status, headers, body = _get(live, "/feeds/caijing.atom", accept, **{"if-none-match": etag})
        assert (status, body) == (304, b"")
        assert headers["etag"] == etag and "Accept" in vary(headers)
    # the other representation's validator is not this one's: the full answer comes
    status, headers, _ = _get(
        live, "/feeds/caijing.atom", browser, **{"if-none-match": feed["etag"]}
    )
    assert status == 200 and headers["etag"] == page["etag"]
    status, headers, _ = _get(
        live, "/feeds/caijing.atom", reader, **{"if-none-match": page["etag"]}
    )
    assert status == 200 and headers["etag"] == feed["etag"]
    # gzip keeps the two apart too
    _, zipped, _ = _get(live, "/feeds/caijing.atom", browser, **{"accept-encoding": "gzip"})
    assert zipped["etag"] == page["etag"][:-1] + '-gzip"'
    status, _, _ = _get(
        live,
        "/feeds/caijing.atom",
        browser,
        **{"accept-encoding": "gzip", "if-none-match": zipped["etag"]},
    )
    assert status == 304


def test_no_page_for_a_feed_that_does_not_exist(built, own):
    site, _ = built
    assert _get(own, "/feeds/nosuch.atom", PAGE_ACCEPTS[0])[0] == 404
    # a page without its feed (a format switched off) is not shown under the feed's URL
    (feeds(site) / "caijing.json").unlink()
    assert _get(own, "/feeds/caijing.json", PAGE_ACCEPTS[0])[0] == 404
    # a build from before feed pages: the browser gets the feed, as it did
    (feeds(site) / "caijing.html").unlink()
    status, _, body = _get(own, "/feeds/caijing.atom", PAGE_ACCEPTS[0])
    assert status == 200 and body == (feeds(site) / "caijing.atom").read_bytes()


def test_head_has_the_headers_and_no_body(live):
    get = httpx.get(live.url + "/feeds/all.atom", headers={"accept-encoding": "identity"})
    head = httpx.head(live.url + "/feeds/all.atom", headers={"accept-encoding": "identity"})
    assert head.status_code == 200 and head.content == b""
    for name in ("etag", "last-modified", "content-type", "content-length"):
        assert head.headers[name] == get.headers[name]


def test_gzip_when_asked(shared):
    site, _, live = shared
    data = (feeds(site) / "all.rss").read_bytes()
    with httpx.Client(base_url=live.url) as c:
        plain = c.get("/feeds/all.rss", headers={"accept-encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert "Accept-Encoding" in plain.headers["vary"]

        zipped = c.stream("GET", "/feeds/all.rss", headers={"accept-encoding": "gzip"})
        with zipped as r:
            body = b"".join(r.iter_raw())
            assert r.headers["content-encoding"] == "gzip"
            assert int(r.headers["content-length"]) == len(body) < len(data)
            assert gzip.decompress(body) == data
            # a different representation gets a different strong validator
            assert r.headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'
            gz_etag = r.headers["etag"]
        again = c.get(
            "/feeds/all.rss", headers={"accept-encoding": "gzip", "if-none-match": gz_etag}
        )
        assert again.status_code == 304

        refused = c.get("/feeds/all.rss", headers={"accept-encoding": "gzip;q=0, identity"})
        assert "content-encoding" not in refused.headers


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/../schedule.yaml",
        "/feeds/%2e%2e/schedule.yaml",
        "/feeds/..%2fschedule.yaml",
        "/feeds/%2e%2e%2fschedule.yaml",
        "/feeds/..%2Fschedule.yaml",
        "/feeds/..\\schedule.yaml",
        "/feeds/..%5cschedule.yaml",
        "/feeds/./../schedule.yaml",
        "/feeds//schedule.yaml",
        "/feeds/caijing.rss%00.html",
        "/feeds/%2fetc/passwd",
        "/feeds/.build_fingerprint",
        "/feeds/snippets/../../schedule.yaml",
        "/digests/..%2f..%2fschedule.yaml",
        "/../schedule.yaml",
        "/schedule.yaml",
    ],
)
def test_no_path_leaves_feeds_dir(live, path):
    status, headers, body = raw(live.url, path)
    assert status == 404, (path, status)
    assert b"site:" not in body and b"finews" not in body
    assert headers["x-content-type-options"] == "nosniff"


def test_symlinks_pointing_outside_are_not_followed(built, own, tmp_path):
    site, _ = built
    live = own
    root = feeds(site)
    (root / "leak.rss").symlink_to(site.config_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.rss").write_text("secret", encoding="utf-8")
    (root / "linked").symlink_to(outside, target_is_directory=True)
    (root / "alias.rss").symlink_to(root / "caijing.rss")  # inside: fine
    assert raw(live.url, "/feeds/leak.rss")[0] == 404
    assert raw(live.url, "/feeds/linked/secret.rss")[0] == 404
    assert raw(live.url, "/feeds/linked/")[0] == 404
    status, _, body = raw(live.url, "/feeds/alias.rss")
    assert status == 200 and body == (root / "caijing.rss").read_bytes()


def test_index_page_and_missing_build(site):
    with LiveServer(site.cfg()) as live:
        r = httpx.get(live.url + "/")
        assert r.status_code == 404 and "syndicate build" in r.text
        assert httpx.get(live.url + "/feeds/").status_code == 404
        store = site.store()
        site.add_seed()
        collect(site.cfg(), store, now=NOW)
        build(site.cfg(), store)
        r = httpx.get(live.url + "/")
        assert r.status_code == 200
        assert r.content == (feeds(site) / "index.html").read_bytes()
        assert "wangxinzhongguo.rss" in r.text
        moved = httpx.get(live.url + "/feeds")
        assert moved.status_code == 308 and moved.headers["location"] == "/feeds/"


def test_security_headers_everywhere(live):
    with httpx.Client(base_url=live.url) as c:
        responses = [
            c.get("/"),
            c.get("/feeds/caijing.rss"),
            c.get("/feeds/nope.rss"),
            c.post("/feeds/caijing.rss"),
            c.get("/unsubscribe?t=bad"),
            c.get("/healthz"),
            c.get("/digests/"),
            c.get("/robots.txt"),
        ]
    assert [r.status_code for r in responses] == [200, 200, 404, 405, 400, 200, 200, 200]
    for r in responses:
        for name, value in SECURITY.items():
            if name == "referrer-policy" and r.url.path in ("/", "/digests/"):
                # pages without a token whose sign-up form needs its Origin sent
                value = "same-origin"
            assert r.headers[name] == value, (r.url, name)
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp.split("script-src", 1)[-1] or "script-src" not in csp
        assert "unsafe-eval" not in csp
        assert "set-cookie" not in r.headers
        assert "server" not in r.headers


def test_request_bodies_are_capped(live):
    big = b"List-Unsubscribe=One-Click&x=" + b"a" * (17 * 1024)
    form = {"content-type": "application/x-www-form-urlencoded"}
    status, headers, _ = raw(live.url, "/unsubscribe?t=x", method="POST", headers=form, body=big)
    assert status == 413 and headers["referrer-policy"] == "no-referrer"

    def chunks():  # no Content-Length: the cap applies while reading (fields of 3 KB each)
        for _ in range(7):
            yield b"category=" + b"a" * 3000 + b"&"

    r = httpx.post(live.url + "/preferences?t=x", content=chunks(), headers=form)
    assert r.status_code == 413


def test_healthz(shared, tmp_path, monkeypatch, unopenable_store):
    site, _, live = shared
    r = httpx.get(live.url + "/healthz")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    data = r.json()
    assert data["status"] == "ok"
    runs = {run["job"]: run for run in data["runs"]}
    assert runs["collect"]["outcome"] == "ok"
    assert runs["collect"]["started_at"].endswith("+00:00")

    broken = tmp_path / "broken"
    broken.mkdir()
    text = site.config_path.read_text(encoding="utf-8")
    (broken / "schedule.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv(STORE_ENV, unopenable_store[0])
    from syndicate.config import load

    with LiveServer(load(broken / "schedule.yaml")) as down:
        r = httpx.get(down.url + "/healthz")
        assert r.status_code == 503
        assert r.json() == {"status": "unavailable", "reason": "the store cannot be opened"}


def test_syndicate_serve_command(built):
    site, _ = built
    env = {**os.environ, "SYNDICATE_SECRET": "x" * 32}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "syndicate",
            "--config",
            str(site.config_path),
            "serve",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("serving 金融资讯网 on http://127.0.0.1:"), line
        url = line.split(" on ", 1)[1].split()[0]
        assert httpx.get(url + "healthz").status_code == 200
        assert httpx.get(url + "feeds/caijing.rss").status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err


def test_serve_says_when_the_port_is_taken(site, capsys):
    from syndicate.web.server import serve

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert serve(site.cfg(), "127.0.0.1", port) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
