"""`syndicate serve`, the reader side: unsubscribe (page and RFC 8058), preferences, archive.

The tokens come from real digest messages in the Maildir outbox, and the
effects are checked in the store and in the next edition.
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from lxml import html as lxml_html

from syndicate.collect.collector import collect
from syndicate.digest import subscribers as subs
from syndicate.digest import tokens
from syndicate.digest.subscribers import Entry, import_entries

from .conftest import NOW
from .serving import (
    CONFIG,
    SECRET,
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

FORM = {"content-type": "application/x-www-form-urlencoded"}
ALICE, BOB = "alice@example.com", "bob@example.com"


@pytest.fixture
def mailed(site, monkeypatch):
    """A site whose first edition went to Alice and Bob; the server runs."""
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    digest_site(site)
    store = populate(site)
    entries = [Entry(ALICE, "Alice"), Entry(BOB, "Bob")]
    import_entries(store, entries, source="test", now=NOW)
    send(site, store, NOW)
    with LiveServer(site.cfg()) as live:
        yield site, store, live


def link_for(site, address: str, base: str) -> str:
    (msg,) = [m for m in outbox(site) if to(m) == address]
    return local(unsubscribe_url(msg), base)


def status_of(store, address: str) -> str:
    sub = subs.get(store, address)
    assert sub is not None
    return sub.status


def test_get_shows_one_button_and_never_unsubscribes(mailed):
    site, store, live = mailed
    url = link_for(site, ALICE, live.url)
    assert httpx.head(url).status_code == 200
    for _ in range(3):  # a mail scanner following the link, then the person
        r = httpx.get(url)
        assert r.status_code == 200
        assert r.headers["cache-control"] == "no-store"
        assert status_of(store, ALICE) == subs.ACTIVE
    doc = lxml_html.fromstring(r.text)
    forms = doc.xpath("//form")
    assert len(forms) == 1 and forms[0].get("method") == "post"
    assert len(doc.xpath("//form//button")) == 1
    assert forms[0].get("action") == url[len(live.url) :]
    assert "<script" not in r.text and "a***@example.com" in r.text
    assert ALICE not in r.text

    done = httpx.post(url, data={})
    assert done.status_code == 200 and "已退订" in done.text
    assert status_of(store, ALICE) == subs.UNSUBSCRIBED
    assert status_of(store, BOB) == subs.ACTIVE
    again = httpx.post(url, data={})  # idempotent
    assert again.status_code == 200 and status_of(store, ALICE) == subs.UNSUBSCRIBED
    shown = httpx.get(url)
    assert "已退订" in shown.text and "<form" not in shown.text


def test_one_click_post(mailed):
    """RFC 8058: the mailbox provider POSTs List-Unsubscribe=One-Click, no page, no cookie."""
    site, store, live = mailed
    msg = next(m for m in outbox(site) if to(m) == BOB)
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = local(unsubscribe_url(msg), live.url)
    for _ in range(2):
        r = httpx.post(url, content=b"List-Unsubscribe=One-Click", headers=FORM)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/plain")
        assert "set-cookie" not in r.headers and "location" not in r.headers
        assert status_of(store, BOB) == subs.UNSUBSCRIBED
    # multipart/form-data is allowed by RFC 8058 as well
    alice = link_for(site, ALICE, live.url)
    r = httpx.post(alice, files={"List-Unsubscribe": (None, "One-Click")})
    assert r.status_code == 200 and r.text == "unsubscribed\n"
    assert status_of(store, ALICE) == subs.UNSUBSCRIBED


def test_bad_tokens_get_a_plain_400_that_reveals_nothing(mailed):
    site, store, live = mailed
    good = link_for(site, ALICE, live.url).split("t=", 1)[1]
    sid, mac = good.split(".")
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    bad = [
        "",
        "garbage",
        f"{sid}.{flipped}",  # tampered MAC
        f"{int(sid, 36) + 1:x}.{mac}",  # somebody else's id with Alice's MAC
        tokens.make(999, SECRET.encode()),  # a valid MAC for nobody
        tokens.make(1, b"another-key"),  # signed with another key
        good + "x",
    ]
    bodies = set()
    for token in bad:
        for path in ("/unsubscribe", "/preferences"):
            r = httpx.get(f"{live.url}{path}", params={"t": token} if token else None)
            assert r.status_code == 400, (path, token)
            assert r.headers["content-type"].startswith("text/plain")
            bodies.add(r.text)
        r = httpx.post(
            f"{live.url}/unsubscribe", params={"t": token}, content=b"List-Unsubscribe=One-Click"
        )
        assert r.status_code == 400
        bodies.add(r.text)
    assert len(bodies) == 1  # all alike: nothing tells a forged id from a wrong MAC
    (body,) = bodies
    assert "@" not in body and "Alice" not in body
    assert status_of(store, ALICE) == subs.ACTIVE and status_of(store, BOB) == subs.ACTIVE


def test_token_pages_need_the_secret(mailed, monkeypatch):
    site, _, _ = mailed
    monkeypatch.delenv("SYNDICATE_SECRET")
    with LiveServer(site.cfg()) as keyless:
        url = link_for(site, ALICE, keyless.url)
        assert httpx.get(url).status_code == 503
        assert httpx.get(keyless.url + "/feeds/caijing.rss").status_code == 200


def preferences_url(site, address: str, base: str) -> str:
    return link_for(site, address, base).replace("/unsubscribe?", "/preferences?")


def test_preferences_are_saved_and_the_next_edition_follows(mailed):
    site, store, live = mailed
    first = next(m for m in outbox(site) if to(m) == BOB)
    assert "caijing第0篇" in text_of(first) and "keji第2篇" in text_of(first)
    url = preferences_url(site, BOB, live.url)
    assert url.split("?")[1] in text_of(first)  # the digest links to this very page

    page = httpx.get(url)
    assert page.status_code == 200
    doc = lxml_html.fromstring(page.text)
    labels = [
        " ".join(x.text_content().split()) for x in doc.xpath("//fieldset[@id='categories']//label")
    ]
    assert labels == ["财经 caijing", "科技 keji"]
    assert doc.xpath("//input[@name='category' and @checked]/@value") == ["caijing", "keji"]
    assert doc.xpath("//input[@name='digest' and @checked]/@value") == ["daily"]
    assert len(doc.xpath("//form")) == 1 and doc.xpath("//form/@method") == ["post"]

    saved = httpx.post(url, data={"category": ["keji"], "digest": ["daily"]})
    assert saved.status_code == 200 and "已保存" in saved.text
    doc = lxml_html.fromstring(saved.text)
    assert doc.xpath("//input[@name='category' and @checked]/@value") == ["keji"]
    bob = subs.get(store, BOB)
    assert bob is not None and bob.categories == ("keji",) and bob.digests == ()
    # the subscribers file changing later does not undo the subscriber's own choice
    import_entries(
        store, [Entry(ALICE, "Alice"), Entry(BOB, "Robert", ("caijing",))], source="test", now=NOW
    )
    bob = subs.get(store, BOB)
    assert bob is not None and bob.categories == ("keji",) and bob.name == "Robert"

    site.post("2022-02-20-c.md", title="财经新的一篇", categories="caijing")
    site.post("2022-02-21-k.md", title="科技新的一篇", categories="keji")
    collect(site.cfg(), store, now=NOW + timedelta(hours=12))
    before = len(outbox(site))
    send(site, store, NOW + timedelta(days=1))
    new = outbox(site)[before:]
    assert sorted(to(m) for m in new) == [ALICE, BOB]
    bob_text = text_of(next(m for m in new if to(m) == BOB))
    assert "科技新的一篇" in bob_text and "财经新的一篇" not in bob_text
    alice_text = text_of(next(m for m in new if to(m) == ALICE))
    assert "科技新的一篇" in alice_text and "财经新的一篇" in alice_text


def test_preferences_refuse_nothing_or_unknown(mailed):
    site, store, live = mailed
    url = preferences_url(site, BOB, live.url)
    for data in ({"digest": ["daily"]}, {"category": ["keji", "../../x"], "digest": ["daily"]}):
        r = httpx.post(url, data=data)
        assert r.status_code == 400 and 'id="error"' in r.text
    r = httpx.post(url, data={"category": ["caijing"]})  # no digest chosen
    assert r.status_code == 400
    bob = subs.get(store, BOB)
    assert bob is not None and bob.categories == () and bob.digests == ()
    # choosing everything stores "everything" (new categories included), not a list
    r = httpx.post(url, data={"category": ["caijing", "keji"], "digest": ["daily"]})
    assert r.status_code == 200
    bob = subs.get(store, BOB)
    assert bob is not None and bob.categories == ()


def test_archive_lists_editions_with_its_feed(mailed):
    site, store, live = mailed
    site.post("2022-02-20-c.md", title="财经新的一篇", categories="caijing")
    collect(site.cfg(), store, now=NOW + timedelta(hours=12))
    send(site, store, NOW + timedelta(days=1))

    r = httpx.get(live.url + "/digests/daily/")
    assert r.status_code == 200 and r.headers["cache-control"] == "public, max-age=300"
    doc = lxml_html.fromstring(r.text)
    assert doc.xpath("//ol[@id='editions']/li/a/@href") == ["2026-11-28.html", "2026-11-27.html"]
    feed = doc.xpath("//link[@rel='alternate']/@href")
    assert feed == ["/feeds/digests/daily/index.atom"]
    atom = httpx.get(live.url + feed[0])
    assert atom.status_code == 200
    assert atom.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert "2026-11-28.html" in atom.text

    edition = httpx.get(live.url + "/digests/daily/2026-11-27.html")
    assert edition.status_code == 200 and "caijing第0篇" in edition.text
    assert edition.headers["etag"] and edition.headers["content-type"].startswith("text/html")
    for page in (r.text, edition.text, atom.text):  # no personal data in the public archive
        assert ALICE not in page and BOB not in page and "Alice" not in page
        assert not re.search(r"[?&]t=[0-9a-z]+\.", page)

    assert httpx.get(live.url + "/digests/daily").status_code in (307, 308)
    assert httpx.get(live.url + "/digests/").status_code == 200
    for missing in ("/digests/weekly/", "/digests/daily/2020-01-01.html", "/digests/daily/x.txt"):
        assert httpx.get(live.url + missing).status_code == 404, missing


def test_get_only_and_post_only(mailed):
    site, _, live = mailed
    url = link_for(site, ALICE, live.url)
    assert httpx.put(url).status_code == 405
    assert httpx.delete(url).status_code == 405
    assert httpx.post(live.url + "/digests/daily/").status_code == 405


def test_choosing_the_weekly_edition_moves_the_subscriber(site, monkeypatch):
    """offer_weekly: the preferences page's daily-or-weekly choice decides which edition comes."""
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    site.write_config(
        CONFIG.replace(
            "    from: 金融资讯网 <digest@finews.withounder.com>\n",
            "    from: 金融资讯网 <digest@finews.withounder.com>\n    offer_weekly: true\n",
        )
    )
    store = populate(site)
    import_entries(store, [Entry(ALICE, "Alice"), Entry(BOB, "Bob")], source="test", now=NOW)
    send(site, store, NOW)  # the daily edition goes to both; nobody chose the weekly yet
    assert sorted(to(m) for m in outbox(site)) == [ALICE, BOB]
    with LiveServer(site.cfg()) as live:
        url = preferences_url(site, BOB, live.url)
        doc = lxml_html.fromstring(httpx.get(url).text)
        assert doc.xpath("//fieldset[@id='edition-daily']//input/@value") == ["day", "week"]
        assert doc.xpath("//input[@name='edition-daily' and @checked]/@value") == ["day"]

        wrong = httpx.post(url, data={"category": ["caijing", "keji"], "edition-daily": "month"})
        assert wrong.status_code == 400
        assert subs.get(store, BOB).weekly == ()  # type: ignore[union-attr]

        form = {"category": ["caijing", "keji"], "digest": ["daily"], "edition-daily": "week"}
        saved = httpx.post(url, data=form)
        assert saved.status_code == 200 and "已保存" in saved.text
        doc = lxml_html.fromstring(saved.text)
        assert doc.xpath("//input[@name='edition-daily' and @checked]/@value") == ["week"]
        bob = subs.get(store, BOB)
        assert bob is not None and bob.weekly == ("daily",)
        # the file changing later does not undo the choice made on the page
        import_entries(store, [Entry(ALICE, "Alice"), Entry(BOB, "Bob")], source="test", now=NOW)
        assert subs.get(store, BOB).weekly == ("daily",)  # type: ignore[union-attr]

        site.post("2022-02-20-c.md", title="财经新的一篇", categories="caijing")
        collect(site.cfg(), store, now=NOW + timedelta(hours=12))
        before = len(outbox(site))
        send(site, store, NOW + timedelta(days=1))  # Saturday: the daily to Alice only
        assert [to(m) for m in outbox(site)[before:]] == [ALICE]
        before = len(outbox(site))
        send(site, store, NOW + timedelta(days=3))  # Monday: week 49's edition, to Bob only
        (weekly,) = outbox(site)[before:]
        assert to(weekly) == BOB and "财经新的一篇" in text_of(weekly)

        # and back to the daily edition: from the next day on, Bob is with Alice again
        back = httpx.post(url, data={**form, "edition-daily": "day"})
        assert back.status_code == 200
        assert subs.get(store, BOB).weekly == ()  # type: ignore[union-attr]
        site.post("2022-02-22-k.md", title="科技又一篇", categories="keji")
        collect(site.cfg(), store, now=NOW + timedelta(days=3, hours=2))
        before = len(outbox(site))
        send(site, store, NOW + timedelta(days=4))
        assert sorted(to(m) for m in outbox(site)[before:]) == [ALICE, BOB]

        # the archive lists both kinds of edition, newest sent first; the week's page is served
        archive = lxml_html.fromstring(httpx.get(live.url + "/digests/daily/").text)
        pages = [h for h in archive.xpath("//a/@href") if h.endswith(".html")]
        assert [h.rsplit("/", 1)[-1] for h in pages] == [
            "2026-12-01.html",  # Tuesday's daily edition
            "2026-W49.html",  # Monday's weekly one
            "2026-11-28.html",
            "2026-W48.html",  # Friday's weekly one (no reader had chosen it yet)
            "2026-11-27.html",  # Friday's daily one
        ]
        assert httpx.get(live.url + "/digests/daily/2026-W49.html").status_code == 200
