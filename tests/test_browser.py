"""End to end in headless Chromium: the index page, a styled feed, signing up, unsubscribing.

Debian's ``chromium`` driven by Playwright for Python (never ``playwright
install``: no browser download). Without either, these tests are skipped
and say why. The site's public origin (https://finews.withounder.com) is
mapped to the local server, as a proxy in front of `syndicate serve` would.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from syndicate.cli import main
from syndicate.collect.collector import collect
from syndicate.digest import subscribers as subs
from syndicate.digest.subscribers import Entry, import_entries

from .conftest import NOW
from .serving import (
    SECRET,
    SITE_URL,
    LiveServer,
    digest_site,
    local,
    outbox,
    populate,
    send,
    text_of,
    to,
    unsubscribe_url,
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


def test_index_page_leads_to_a_styled_feed(chromium, page, site, monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    digest_site(site)
    populate(site)
    with LiveServer(site.cfg()) as live:
        serve_public_origin(page, live.url)
        page.goto(live.url + "/")
        assert page.title().endswith("订阅源")
        if page.evaluate("typeof XSLTProcessor") == "undefined":
            pytest.skip("this Chromium has dropped XSLT, so no browser can style a feed with it")
        link = page.locator("tr#caijing a[href$='/caijing.rss']")
        link.click()
        page.wait_for_url(SITE_URL + "/feeds/caijing.rss")
        note = page.locator("#feed-note")
        note.wait_for(state="visible")
        assert "这是一个订阅源" in note.inner_text()
        assert "财经" in page.locator("#feed-title").inner_text()
        assert page.locator("#feed-items li").count() == 2
        # the XSL's inline <style> applied (CSP allows inline styles, not scripts)
        background = page.locator("#feed-note").evaluate("e => getComputedStyle(e).backgroundColor")
        assert background == "rgb(255, 248, 197)"


def test_unsubscribe_from_a_real_digest_in_the_browser(chromium, page, site, monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    digest_site(site)
    store = populate(site)
    import_entries(store, [Entry(ALICE, "Alice"), Entry(BOB, "Bob")], source="test", now=NOW)
    cli(site, "digest", "send", "daily", "--now", NOW.isoformat())
    first = outbox(site)
    assert sorted(to(m) for m in first) == [ALICE, BOB]
    message = next(m for m in first if to(m) == ALICE)

    with LiveServer(site.cfg()) as live:
        page.goto(local(unsubscribe_url(message), live.url))
        button = page.locator("form button")
        assert button.count() == 1
        assert "确认退订" in button.inner_text()
        assert subs.get(store, ALICE).status == subs.ACTIVE  # opening the link changed nothing
        button.click()
        page.locator("#unsubscribed").wait_for(state="visible")
        assert "已退订" in page.locator("#unsubscribed").inner_text()
    assert subs.get(store, ALICE).status == subs.UNSUBSCRIBED
    assert subs.get(store, BOB).status == subs.ACTIVE

    site.post("2022-02-20-new.md", title="退订之后的新文章", categories="caijing")
    collect(site.cfg(), store, now=NOW + timedelta(hours=12))  # between the two editions
    cli(site, "digest", "send", "daily", "--now", (NOW + timedelta(days=1)).isoformat())
    second = outbox(site)[len(first) :]
    assert [to(m) for m in second] == [BOB]


READER = "reader@example.net"
CONFIRM_LINK = re.compile(re.escape(SITE_URL) + r"/confirm\?t=[^\s<>\"']+")


def test_sign_up_on_the_index_page_confirm_and_get_the_next_edition(
    chromium, page, site, monkeypatch
):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    digest_site(site)
    store = populate(site)
    before = len(outbox(site))

    with LiveServer(site.cfg()) as live:
        serve_public_origin(page, live.url)
        # the index page as readers see it, at the public origin, posting to its /subscribe
        page.goto(SITE_URL + "/feeds/")
        form = page.locator("#subscribe-form")
        assert form.get_attribute("action") == SITE_URL + "/subscribe"
        form.locator("input[name=email]").fill(READER)
        form.locator("input[name=name]").fill("读者")
        caijing = form.locator("input[name=category][value=caijing]")
        keji = form.locator("input[name=category][value=keji]")
        assert caijing.is_checked() and keji.is_checked()
        keji.uncheck()
        assert form.locator("input[name=digest][value=daily]").is_checked()
        form.locator("#subscribe").click()
        page.locator("#sent").wait_for(state="visible")
        assert page.url == SITE_URL + "/subscribe"
        assert subs.get(store, READER) is None  # a sign-up is not a subscriber

        new = outbox(site)[before:]
        assert [to(m) for m in new] == [READER]
        mail = new[0]
        assert mail.get_body(("plain",)) is not None
        assert mail.get_body(("html",)) is not None
        links = CONFIRM_LINK.findall(text_of(mail))
        assert links, text_of(mail)
        link = links[0]

        page.goto(link)  # opening the link (as a mail scanner would) confirms nothing
        button = page.locator("#confirm")
        assert button.count() == 1
        assert subs.get(store, READER) is None
        button.click()
        page.locator("#confirmed").wait_for(state="visible")
        assert page.locator("#preferences").count() == 1
    reader = subs.get(store, READER)
    assert reader is not None
    assert reader.status == subs.ACTIVE
    assert reader.name == "读者"
    assert (reader.categories, reader.digests) == (("caijing",), ())  # all digests ticked: ()
    assert reader.consent is not None and reader.consent.method == "form"
    assert reader.consent.page == SITE_URL + "/feeds/"
    assert len(outbox(site)) == before + 1  # confirming mails nothing

    site.post(
        "2022-02-20-caijing-next.md",
        title="下一期的财经文章",
        categories="caijing",
        date="2022-02-20 09:00:00 +0800",
    )
    site.post(
        "2022-02-21-keji-next.md",
        title="下一期的科技文章",
        categories="keji",
        date="2022-02-21 09:00:00 +0800",
    )
    collect(site.cfg(), store, now=NOW + timedelta(hours=12))
    sent_before = len(outbox(site))
    send(site, store, NOW + timedelta(days=1))
    digest = [m for m in outbox(site)[sent_before:] if to(m) == READER]
    assert len(digest) == 1
    text = text_of(digest[0])
    assert "下一期的财经文章" in text
    assert "下一期的科技文章" not in text
    assert "科技" not in text and "keji第" not in text  # no keji section at all
    assert "读者" in text  # the name given on the form
