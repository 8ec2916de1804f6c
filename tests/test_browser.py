"""End to end in headless Chromium: the feed pages, a feed opened as XML, signing up, unsubscribing.

Debian's ``chromium`` driven by Playwright for Python (never ``playwright
install``: no browser download). Without either, these tests are skipped
and say why. The site's public origin (https://finews.withounder.com) is
mapped to the local server, as a proxy in front of `syndicate serve` would.
Chromium runs with XSLT switched off (``--disable-features=XSLT``), as
browsers are about to ship: nothing here may depend on it.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from syndicate.cli import main

from .serving import (
    SECRET,
    SITE_URL,
    LiveServer,
    StaticServer,
    digest_site,
    local,
    populate,
)

CHROMIUM = os.environ.get("SYNDICATE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-features=XSLT",
]
ALICE, BOB = "alice@example.com", "bob@example.com"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests need Playwright for Python: pip install -e '.[test]'")
    if not Path(CHROMIUM).is_file():
        pytest.skip(
            f"browser tests need Debian's chromium at {CHROMIUM}: apt-get install chromium "
            "(.ci/run installs it)"
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(locale="zh-CN")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def serve_public_origin(page: Any, base: str) -> None:
    """Requests to the site's https origin go to the local server (same path and query)."""

    def forward(route: Any) -> None:
        response = route.fetch(url=local(route.request.url, base))
        route.fulfill(response=response)

    page.context.route(re.compile("^" + re.escape(SITE_URL) + "/"), forward)


def cli(site: Any, *args: str) -> str:
    result = CliRunner().invoke(main, ["--config", str(site.config_path), *args])
    assert result.exit_code == 0, result.output
    return result.output


def check_feed_page(page: Any, key: str, name: str, entries: int) -> None:
    """The feed page as a person sees it: title, the note, the address, the entries."""
    assert page.evaluate("document.contentType") == "text/html"
    title = page.locator("#feed-title")
    title.wait_for(state="visible")
    assert name in title.inner_text()
    assert page.locator("#feed-note").is_visible()
    address = page.locator("#feed-url")
    assert address.is_visible()
    assert address.inner_text() == f"{SITE_URL}/feeds/{key}.rss"
    # one click selects the whole address, ready to copy
    assert address.evaluate("e => getComputedStyle(e).userSelect") == "all"
    items = page.locator("#feed-items li")
    assert items.count() == entries
    for i in range(entries):
        assert items.nth(i).locator("a").first.is_visible()
        assert items.nth(i).locator("time").inner_text()
    hrefs = page.locator(".formats a").evaluate_all("links => links.map(a => a.href)")
    assert hrefs == [f"{SITE_URL}/feeds/{key}.{fmt}" for fmt in ("rss", "atom", "json")]
    # the inline <style> applied (CSP allows inline styles); no script, nothing loaded
    background = page.locator("#feed-note").evaluate("e => getComputedStyle(e).backgroundColor")
    assert background == "rgb(255, 248, 197)"
    assert page.evaluate("document.scripts.length") == 0
    loaded = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    # (the browser asks for /favicon.ico by itself; the page names nothing)
    assert [url for url in loaded if not url.endswith("/favicon.ico")] == [], loaded


def test_feed_url_through_serve_shows_the_feed_page(chromium, page, site, monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    digest_site(site)
    populate(site)
    assert page.evaluate("typeof XSLTProcessor") == "undefined"  # XSLT is really off
    with LiveServer(site.cfg()) as live:
        serve_public_origin(page, live.url)
        page.goto(live.url + "/")
        # a visitor clicks a feed link on the index page: the feed's URL, its page
        page.locator("tr#caijing a[href$='/caijing.rss']").click()
        page.wait_for_url(SITE_URL + "/feeds/caijing.rss")
        check_feed_page(page, "caijing", "财经", 2)
        response = page.goto(SITE_URL + "/feeds/keji.atom")
        assert response is not None and "Accept" in response.headers["vary"].split(", ")
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
        check_feed_page(page, "keji", "科技", 2)
        # the index page's own link to the page
        page.goto(SITE_URL + "/feeds/")
        page.locator("tr#keji a.page").click()
        page.wait_for_url(SITE_URL + "/feeds/keji.html")
        check_feed_page(page, "keji", "科技", 2)


def test_static_feed_page_renders_from_disk(chromium, page, site, monkeypatch):
    digest_site(site)
    populate(site)
    feeds = site.root / "feeds"
    page.goto((feeds / "caijing.html").as_uri())
    check_feed_page(page, "caijing", "财经", 2)
    page.goto((feeds / "all.html").as_uri())
    check_feed_page(page, "all", "", 4)


# Chromium's own messages when it cannot style an XML document
XML_VIEWER = ("cannot be formatted as intended", "does not appear to have any style information")
FEED_PARTS = [
    ("atom", "entry", ("title", "published", "summary"), ("id", "content", "author")),
    ("rss", "item", ("title", "pubDate", "description"), ("guid", "encoded", "creator")),
]


def check_styled_feed(page: Any, fmt: str, entry: str, shown: Any, hidden: Any) -> None:
    """The document is the feed itself, styled by feed.css: not Chromium's XML tree viewer."""
    assert page.evaluate("document.getElementById('webkit-xml-viewer-source-xml')") is None
    root = page.evaluate("document.documentElement.localName")
    assert root == ("feed" if fmt == "atom" else "rss")
    text = page.evaluate("document.documentElement.textContent")
    assert not any(message in text for message in XML_VIEWER)
    display = """([sel, pseudo]) => {
        const e = document.querySelector(sel);
        return e && getComputedStyle(e, pseudo).display;
    }"""
    for name in shown:
        assert page.evaluate(display, [f"{entry} > {name}", None]) == "block", name
    for name in hidden:
        assert page.evaluate(display, [f"{entry} > {name}", None]) in ("none", None), name
    height = f"document.querySelector('{entry} > title').getBoundingClientRect().height"
    assert page.evaluate(height) > 0
    # the page's address stands under the feed's title
    before = "getComputedStyle(document.querySelector('link[rel=related]'), '::before').content"
    assert f"{SITE_URL}/feeds/caijing.html" in page.evaluate(before)


@pytest.mark.parametrize(("fmt", "entry", "shown", "hidden"), FEED_PARTS)
def test_xml_feed_opened_from_disk_is_styled_by_css(
    chromium, page, site, fmt, entry, shown, hidden
):
    digest_site(site)
    populate(site)
    page.goto((site.root / "feeds" / f"caijing.{fmt}").as_uri())
    check_styled_feed(page, fmt, entry, shown, hidden)


@pytest.mark.parametrize(("fmt", "entry", "shown", "hidden"), FEED_PARTS)
def test_xml_feed_from_a_static_server(chromium, page, site, fmt, entry, shown, hidden):
    """What a feed copied to any web server shows when opened directly, by its type."""
    digest_site(site)
    populate(site)
    folder = site.root / "feeds"
    # sent as XML (.xml files, or a server that maps the feed suffixes to it): styled
    with StaticServer(folder, {f".{fmt}": "application/xml"}) as served:
        page.goto(served.url(f"caijing.{fmt}"))
        check_styled_feed(page, fmt, entry, shown, hidden)
    # sent as application/atom+xml or rss+xml, Chromium shows any feed as its source text
    # (its choice, not the stylesheet's): readable, and no XSLT error either
    with StaticServer(folder) as served:
        page.goto(served.url(f"caijing.{fmt}"))
        assert page.evaluate("document.contentType") == "text/plain"
        text = page.locator("body").inner_text()
        assert not any(message in text for message in XML_VIEWER)
        assert "caijing第0篇" in text and f"{SITE_URL}/feeds/caijing.html" in text
