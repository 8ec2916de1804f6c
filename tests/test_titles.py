"""A title written with HTML is published as its text: in every format, the page, the digest.

And a store that read such titles before keeps no HTML title: its posts are
re-titled once, by the next collect, and only the feeds showing them change.
"""

from __future__ import annotations

import json
from datetime import timedelta

import feedparser
import pytest
from lxml import etree
from sqlalchemy import text

from syndicate.collect.collector import collect
from syndicate.collect.titles import TITLES_KEY, plain_title
from syndicate.digest.subscribers import Entry, import_entries
from syndicate.publish.build import build

from .conftest import NOW
from .serving import SECRET, digest_site, outbox, send

HTML_TITLE = "<b>要闻</b> 标题 AT&amp;T"
TEXT_TITLE = "要闻 标题 AT&T"


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        (HTML_TITLE, TEXT_TITLE),
        ("AT&T", "AT&T"),  # a bare & is text
        ("AT&amp;amp;T", "AT&amp;T"),  # entities are decoded once, not twice
        ("&lt;b&gt;粗体&lt;/b&gt;", "<b>粗体</b>"),
        ("1 < 2 &gt; 0", "1 < 2 > 0"),
        ("<script>alert(1)</script>标题", "标题"),  # script and style go with their content
        ("<style>p{}</style><!-- note -->正文", "正文"),
        ("  多个\n\t空白&nbsp;字符 ", "多个 空白 字符"),  # whitespace runs become one space
        ('<a href="x">链接</a>标题<br/>第二行', "链接标题第二行"),  # as jekyll-feed's strip_html
        ("普通标题", "普通标题"),
        ("", ""),
    ],
)
def test_plain_title(raw, plain):
    assert plain_title(raw) == plain


def html_title_site(site):
    digest_site(site)
    site.post(
        "2022-02-14-html.md",
        title=HTML_TITLE,
        categories="caijing",
        date="2022-02-14 09:00:00 +0800",
    )
    site.post("2022-02-13-keji.md", title="科技新闻", categories="keji")
    store = site.store()
    collect(site.cfg(), store, now=NOW)
    build(site.cfg(), store)
    return store


def feed_titles(site, key: str = "caijing") -> dict[str, list[str]]:
    """Each format's entry titles as a reader gets them, and the page's."""
    root = site.root / "feeds"
    out = {}
    for fmt in ("rss", "atom"):
        data = (root / f"{key}.{fmt}").read_bytes()
        tag = "item/title" if fmt == "rss" else "{http://www.w3.org/2005/Atom}entry/"
        doc = etree.fromstring(data)
        if fmt == "rss":
            out[fmt] = [t.text for t in doc.iterfind("channel/item/title")]
        else:
            out[fmt] = [t.text for t in doc.iterfind(tag + "{http://www.w3.org/2005/Atom}title")]
        out[f"{fmt} (feedparser)"] = [e.title for e in feedparser.parse(data).entries]
    items = json.loads((root / f"{key}.json").read_text(encoding="utf-8"))["items"]
    out["json"] = [i["title"] for i in items]
    page = etree.HTML((root / f"{key}.html").read_text(encoding="utf-8"))
    out["page"] = [a.xpath("string(.)") for a in page.xpath("//ol[@id='feed-items']/li/a")]
    return out


def test_an_html_title_is_text_in_every_format_and_the_page(site):
    html_title_site(site)
    for where, titles in feed_titles(site).items():
        assert titles[0] == TEXT_TITLE, where
    for fmt in ("rss", "atom", "json", "html"):
        data = (site.root / "feeds" / f"caijing.{fmt}").read_text(encoding="utf-8")
        assert "&lt;b&gt;" not in data and "<b>" not in data, fmt
    # the index page's newest title too
    index = (site.root / "feeds" / "index.html").read_text(encoding="utf-8")
    assert "要闻 标题 AT&amp;T" in index and "&lt;b&gt;" not in index


def test_an_html_title_is_text_in_the_digest(site, monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    store = html_title_site(site)
    import_entries(store, [Entry("reader@example.com", "读者")], source="test", now=NOW)
    send(site, store, NOW)
    (mail,) = outbox(site)
    plain = mail.get_body(("plain",)).get_content()
    assert TEXT_TITLE in plain and "<b>" not in plain and "&amp;" not in plain
    html = mail.get_body(("html",)).get_content()
    assert "&lt;b&gt;" not in html and "<b>要闻" not in html
    assert TEXT_TITLE in etree.HTML(html).xpath("string(//body)")


def test_a_store_read_before_keeps_no_html_title(site):
    store = html_title_site(site)
    # what a store from before plain titles holds: the title as written, no mark in meta
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE posts SET title = :t WHERE title = :plain"),
            {"t": HTML_TITLE, "plain": TEXT_TITLE},
        )
        conn.execute(text("DELETE FROM meta WHERE key = :k"), {"k": TITLES_KEY})
    build(site.cfg(), store, force=True)
    assert feed_titles(site)["rss"][0] == HTML_TITLE  # the old store's feeds
    later = NOW + timedelta(hours=1)
    collect(site.cfg(), store, now=later)  # no file changed: none is read again
    (post,) = [p for p in store.feed_heads(category="caijing", limit=10) if p.title == TEXT_TITLE]
    assert post.changed_at == later and post.updated.year == 2022  # re-titled, not "edited"
    result = build(site.cfg(), store)
    # only the feeds that show the post are rendered again
    assert {n.rsplit(".", 1)[0] for n in result.written} == {"all", "caijing", "index"}
    for where, titles in feed_titles(site).items():
        assert titles[0] == TEXT_TITLE, where


def test_the_pass_over_old_titles_runs_once(site):
    site.post("2022-02-14-amp.md", title="AT&amp;amp;T")  # its text is "AT&amp;T"
    store = site.store()
    collect(site.cfg(), store, now=NOW)
    assert store.get_meta(TITLES_KEY) is not None
    collect(site.cfg(), store, now=NOW + timedelta(hours=1))
    collect(site.cfg(), store, now=NOW + timedelta(hours=2))
    # decoding the stored title again would make it "AT&T": it never runs twice
    (post,) = store.feed_heads(category="caijing", limit=10)
    assert post.title == "AT&amp;T" and post.changed_at == NOW
