"""Each feed's HTML page (``<key>.html``): what it shows, how the feeds and the index lead to it.

How a browser gets it (serve, disk, a static server) is in test_serve.py and
test_browser.py; the W3C-style validity of the feeds that link to it is
checked here with the same checks as test_build.py.
"""

from __future__ import annotations

import json

import feedparser
from lxml import etree

from syndicate.collect.collector import collect
from syndicate.publish.build import build

from .conftest import NOW
from .test_build import ATOM, check_atom, check_rss

BASE = "https://finews.withounder.com/feeds/"


def built(site):
    store = site.store()
    collect(site.cfg(), store, now=NOW)
    return build(site.cfg(), store), store


def page_of(site, key: str) -> etree._Element:
    return etree.HTML((site.root / "feeds" / f"{key}.html").read_text(encoding="utf-8"))


def seeded(site):
    site.add_seed()
    site.post(
        "2022-02-12-b.md",
        title="第二篇",
        categories="caijing",
        date="2022-02-12 08:00:00 +0000",  # 16:00 in the site's Asia/Shanghai
        body="<p>第二篇的正文。</p>",
    )
    site.post(
        "2022-02-13-c.md",
        title="第三篇",
        categories="caijing",
        date="2022-02-13 08:00:00 +0800",
        extra="excerpt: 第三篇的摘要。",
    )
    return site


def test_every_feed_has_its_page(site):
    seeded(site).extend_config("feeds:\n  tags: true\n")
    site.post("2022-02-14-t.md", title="有标签", categories="caijing", tags="人民币")
    result, _ = built(site)
    keys = ["all", "caijing", "wangxinzhongguo", "tags/renminbi"]
    for key in keys:
        assert f"{key}.html" in result.written
        page = page_of(site, key)
        assert page.xpath("string(//code[@id='feed-url'])") == f"{BASE}{key}.rss"
        assert page.xpath("//a/@href[. = '" + BASE + "index.html']")


def test_the_page_shows_the_feed(site):
    built(seeded(site))
    page = page_of(site, "caijing")
    assert page.xpath("string(/html/@lang)") == "zh-CN"
    assert page.xpath("string(//h1[@id='feed-title'])") == "金融资讯网 · 财经"
    assert "金融资讯网「财经」栏目" in page.xpath("string(//body)")
    assert page.xpath("//div[@id='feed-note']//strong")  # what a feed is, how to subscribe
    # the formats, each its own address, and the site's own page for the category
    assert page.xpath("//p[@class='formats']/a/@href") == [
        f"{BASE}caijing.rss",
        f"{BASE}caijing.atom",
        f"{BASE}caijing.json",
    ]
    assert page.xpath("//a/@href[. = 'https://finews.withounder.com/category/caijing.html']")
    # the entries, newest first, with their dates in the site's timezone and summaries
    items = page.xpath("//ol[@id='feed-items']/li")
    assert [li.xpath("string(a)") for li in items] == ["第三篇", "第二篇"]
    assert items[0].xpath("string(a/@href)").startswith("https://finews.withounder.com/caijing/")
    assert items[0].xpath("string(.//time)") == "2022年2月13日 08:00"
    assert items[1].xpath("string(.//time)") == "2022年2月12日 16:00"
    assert items[1].xpath("string(.//time/@datetime)") == "2022-02-12T08:00:00+00:00"
    assert items[0].xpath("string(p)") == "第三篇的摘要。"
    assert items[1].xpath("string(p)") == "第二篇的正文。"


def test_the_page_runs_nothing_and_loads_nothing(site):
    built(seeded(site))
    page = page_of(site, "all")
    assert not page.xpath("//script | //iframe | //img | //object | //embed")
    assert not page.xpath("//link[@rel='stylesheet'] | //*[@src] | //@*[starts-with(name(), 'on')]")
    # every link is absolute: the same bytes work under /feeds/x.atom, /feeds/x.html, on disk
    for href in page.xpath("//@href"):
        assert href.startswith("https://"), href


def test_an_english_site_and_other_formats(site):
    seeded(site).extend_config("feeds:\n  formats: [atom, json]\n")
    text = site.config_path.read_text(encoding="utf-8").replace("language: zh-CN", "language: en")
    site.write_config(text)
    assert site.cfg().site.language == "en"
    built(site)
    page = page_of(site, "caijing")
    assert page.xpath("string(/html/@lang)") == "en"
    assert page.xpath("string(//code[@id='feed-url'])") == f"{BASE}caijing.atom"
    assert page.xpath("//p[@class='formats']/a/@href") == [
        f"{BASE}caijing.atom",
        f"{BASE}caijing.json",
    ]
    assert page.xpath("string(//ol/li[2]//time)") == "Feb 12, 2022 4:00\u202fPM"
    assert not (site.root / "feeds" / "caijing.rss").exists()


def test_an_empty_feed_has_a_page_too(site):
    site.add_seed()
    built(site)  # caijing is configured, with no posts
    page = page_of(site, "caijing")
    assert page.xpath("//*[@id='feed-items-none']") and not page.xpath("//ol")
    assert page.xpath("string(//code[@id='feed-url'])") == f"{BASE}caijing.rss"


def test_feeds_link_to_their_page_and_keep_the_site_as_alternate(site):
    built(seeded(site))
    root = site.root / "feeds"
    page_url = f"{BASE}caijing.html"
    home = "https://finews.withounder.com/category/caijing.html"
    doc = check_atom(root / "caijing.atom").getroot()
    links = [(x.get("rel"), x.get("type"), x.get("href")) for x in doc.findall(f"{ATOM}link")]
    assert ("related", "text/html", page_url) in links
    # RFC 4287 4.1.1: one alternate per type and hreflang, and it is the site's page
    assert [lnk for lnk in links if lnk[0] == "alternate"] == [("alternate", "text/html", home)]
    rss = check_rss(root / "caijing.rss", site.cfg()).getroot()
    related = rss.find(f"channel/{ATOM}link[@rel='related']")
    assert (related.get("type"), related.get("href")) == ("text/html", page_url)
    assert rss.findtext("channel/link") == home
    # what readers take as the site's link is still the site's page
    for fmt in ("atom", "rss"):
        assert feedparser.parse((root / f"caijing.{fmt}").read_bytes()).feed.link == home
    feed = json.loads((root / "caijing.json").read_text(encoding="utf-8"))
    assert feed["home_page_url"] == home and feed["_syndicate"] == {"page_url": page_url}
    # and the index page's row for the feed
    index = etree.HTML((root / "index.html").read_text(encoding="utf-8"))
    assert index.xpath(f"//tr[@id='caijing']//a[@href='{page_url}']")


def test_a_build_with_nothing_new_renders_no_page(site):
    result, store = built(seeded(site))
    assert "caijing.html" in result.written
    again = build(site.cfg(), store)
    assert again.skipped and not again.written
    (site.root / "feeds" / "caijing.html").unlink()  # a file gone is written again
    again = build(site.cfg(), store)
    assert again.written == ["caijing.html"]
