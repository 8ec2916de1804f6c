"""Helpers for the `syndicate serve` tests: a live server on 127.0.0.1, raw requests, Maildir."""

from __future__ import annotations

import email
import email.policy
import functools
import http.client
import threading
import time
from datetime import datetime
from email.message import EmailMessage
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import ClassVar
from urllib.parse import urlsplit

from syndicate.collect.collector import collect
from syndicate.config import Config
from syndicate.digest.editions import send_due
from syndicate.digest.subscribers import Entry, import_entries
from syndicate.publish.build import build
from syndicate.store import Store
from syndicate.web.server import make_server

from .conftest import NOW, Site, config_text

SECRET = "serve-test-secret-0123456789"
SITE_URL = "https://finews.withounder.com"
CONFIG = config_text(
    {"caijing": "财经", "keji": "科技"},
    """\
digests:
  - name: daily
    from: 金融资讯网 <digest@finews.withounder.com>
delivery:
  maildir: outbox
""",
)


class LiveServer:
    """The real app under uvicorn in a thread, on a free port of 127.0.0.1."""

    def __init__(self, cfg: Config) -> None:
        self.server = make_server(cfg, "127.0.0.1", 0)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = ""

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        self.url = self.server.url.rstrip("/")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.should_exit = True
        self.thread.join(10)


class StaticServer:
    """A plain static web server on 127.0.0.1 for a folder: the feeds copied to any host.

    Feed types as nginx's mime.types gives them (``.atom``, ``.rss``), with
    ``charset=utf-8`` as nginx's ``charset utf-8;`` adds, whatever the
    machine's own mime database says, unless ``types`` replaces some.
    """

    TYPES: ClassVar[dict[str, str]] = {
        ".atom": "application/atom+xml; charset=utf-8",
        ".rss": "application/rss+xml; charset=utf-8",
        ".json": "application/json; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".html": "text/html; charset=utf-8",
    }

    def __init__(self, folder: Path, types: dict[str, str] | None = None) -> None:
        mapping = {**SimpleHTTPRequestHandler.extensions_map, **self.TYPES, **(types or {})}

        class Handler(SimpleHTTPRequestHandler):
            extensions_map = mapping

            def log_message(self, format: str, *args: object) -> None:
                pass

        handler = functools.partial(Handler, directory=str(folder))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{path}"

    def __enter__(self) -> StaticServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


def raw(
    base: str,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """A request with the path sent exactly as written (httpx would normalize ``..``).

    A ``Host`` in ``headers`` replaces the one http.client would add, so a
    test can send a forged one and still connect to 127.0.0.1.
    """
    parts = urlsplit(base)
    own_host = any(name.lower() == "host" for name in headers or {})
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        conn.putrequest(method, path, skip_host=own_host, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def digest_site(site: Site) -> None:
    """Two categories, a daily digest and a Maildir outbox."""
    site.write_config(CONFIG)


def populate(site: Site, when: datetime = NOW) -> Store:
    """Two posts in each of caijing and keji, collected and built."""
    for i, slug in enumerate(("caijing", "caijing", "keji", "keji")):
        site.post(
            f"2022-02-1{i}-{slug}{i}.md",
            title=f"{slug}第{i}篇",
            categories=slug,
            date=f"2022-02-1{i} 09:00:00 +0800",
        )
    store = site.store()
    collect(site.cfg(), store, now=when)
    build(site.cfg(), store)
    return store


def mail_first_edition(site: Site, addresses: list[tuple[str, str]]) -> Store:
    """A digest site whose first edition went to ``addresses`` (email, name)."""
    digest_site(site)
    store = populate(site)
    import_entries(store, [Entry(a, n) for a, n in addresses], source="test", now=NOW)
    send(site, store, NOW)
    return store


def send(site: Site, store: Store, when: datetime) -> None:
    for result in send_due(site.cfg(), store, now=when, names=["daily"]):
        assert result.ok, result.summary()


def outbox(site: Site) -> list[EmailMessage]:
    """Every message in the Maildir, oldest first."""
    folder = site.root / "outbox" / "new"
    files = sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime_ns) if folder.is_dir() else []
    return [_message(p) for p in files]


def _message(path: Path) -> EmailMessage:
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def to(msg: EmailMessage) -> str:
    return str(msg["To"].addresses[0].addr_spec)


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def unsubscribe_url(msg: EmailMessage) -> str:
    """The https URL of the List-Unsubscribe header (RFC 2369: <url>, <mailto:…>)."""
    for item in str(msg["List-Unsubscribe"]).split(","):
        url = item.strip().strip("<>")
        if url.startswith("https://"):
            return url
    raise AssertionError(f"no https List-Unsubscribe in {msg['List-Unsubscribe']!r}")


def local(url: str, base: str) -> str:
    """The site's public URL on the test server: same path and query, local origin."""
    assert url.startswith(SITE_URL), url
    return base + url[len(SITE_URL) :]
