"""The feed builder: validity, content, determinism, incremental writes, safety."""

from __future__ import annotations

import email.utils
import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

import feedparser
import pytest
from click.testing import CliRunner
from lxml import etree

from syndicate.cli import main
from syndicate.collect.collector import collect
from syndicate.errors import UnsafePath
from syndicate.publish.build import build
from syndicate.text import strip_control
from syndicate.writer import inside

from .conftest import DATA, NOW, STORE_ENV

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
RELAXNG = etree.RelaxNG(etree.parse(str(DATA / "atom.rng")))


def built(site, **kw):
    store = site.store()
    collect(site.cfg(), store, now=NOW)
    return build(site.cfg(), store, **kw), store


def feeds_dir(site) -> Path:
    return site.root / "feeds"


def check_atom(path: Path) -> etree._ElementTree:
    doc = etree.parse(str(path))
    assert RELAXNG.validate(doc), RELAXNG.error_log
    parsed = feedparser.parse(path.read_bytes())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return doc


def check_rss(path: Path, cfg) -> etree._ElementTree:
    data = path.read_bytes()
    parsed = feedparser.parse(data)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    doc = etree.fromstring(data)
    assert doc.tag == "rss" and doc.get("version") == "2.0"
    assert doc.nsmap.get("content") == CONTENT.strip("{}")
    channel = doc.find("channel")
    for required in ("title", "link", "description"):
        assert (channel.findtext(required) or "").strip(), required
    self_link = channel.find(f"{ATOM}link[@rel='self']")
    assert self_link.get("href") == f"{cfg.feeds_base_url}{path.stem}.rss"
    assert self_link.get("type") == "application/rss+xml"
    assert channel.findtext("language") == cfg.site.language
    for item in channel.findall("item"):
        assert item.findtext("title") and item.findtext("link")
        guid = item.find("guid")
        assert guid.get("isPermaLink") == (
            "true" if guid.text == item.findtext("link") else "false"
        )
        stamp = item.findtext("pubDate")
        assert email.utils.parsedate_to_datetime(stamp).tzinfo is not None
        assert stamp == email.utils.format_datetime(email.utils.parsedate_to_datetime(stamp))
        for html in (item.findtext("description"), item.findtext(f"{CONTENT}encoded")):
            assert "<script" not in (html or "")
            for ref in etree.HTML(html or "<p/>").xpath("//@href | //@src"):
                assert ref.startswith(("https://", "http://", "mailto:")), ref
    return etree.ElementTree(doc)


@pytest.fixture
def seeded(site):
    site.add_seed()
    site.post("2022-02-12-b.md", title="第二篇", categories="caijing", tags="[财经要闻, 人民币]")
    site.post(
        "2022-02-13-c.md",
        title="第三篇",
        categories="caijing 宏观经济",
        date="2022-02-13 08:00:00 +0800",
        body='<p>正文。<img src="/img/a.png"><a href="rel/page.html">相对链接</a></p>',
    )
    return site


def test_every_feed_is_valid(seeded):
    result, _ = built(seeded)
    cfg = seeded.cfg()
    root = feeds_dir(seeded)
    assert result.feeds == 4  # all, caijing, hongguanjingji, wangxinzhongguo
    for key in ("all", "caijing", "wangxinzhongguo", "hongguanjingji"):
        check_atom(root / f"{key}.atom")
        check_rss(root / f"{key}.rss", cfg)
        data = json.loads((root / f"{key}.json").read_text(encoding="utf-8"))
        assert data["version"] == "https://jsonfeed.org/version/1.1"
        assert data["feed_url"] == f"{cfg.feeds_base_url}{key}.json"
        for item in data["items"]:
            assert isinstance(item["id"], str) and item["content_html"] and item["summary"]
            assert datetime.fromisoformat(item["date_published"]).utcoffset() is not None


def test_seed_entry_in_every_format(seeded):
    built(seeded)
    root = feeds_dir(seeded)
    guid = "https://finews.withounder.com/wangxinzhongguo/2022/02/10/NW202202102272322133"
    link = guid + ".html"
    original = "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202202102272322133"

    atom = feedparser.parse((root / "wangxinzhongguo.atom").read_bytes())
    e = atom.entries[0]
    assert e.id == guid and e.link == link
    assert e.published == "2022-02-10T11:48:47+08:00"
    assert e.content[0].type == "text/html" and "京东集团总裁徐雷" in e.content[0].value
    assert e.summary.startswith("1月28日下午，中央网信办会同国家发展改革委")
    assert [(t.term, t.label) for t in e.tags] == [
        ("wangxinzhongguo", "网信中国"),
        ("wangxinzhongguoxinwen", "网信中国新闻"),
    ]
    assert {"rel": "via", "href": original, "title": "网信中国"}.items() <= next(
        lnk for lnk in e.links if lnk.rel == "via"
    ).items()
    assert atom.feed.language == "zh-CN"

    rss = etree.parse(str(root / "wangxinzhongguo.rss")).getroot()
    item = rss.find("channel/item")
    assert item.findtext("guid") == guid and item.find("guid").get("isPermaLink") == "false"
    assert item.findtext("pubDate") == "Thu, 10 Feb 2022 11:48:47 +0800"
    assert item.findtext("description").startswith("1月28日下午")
    assert "返回" not in item.findtext(f"{CONTENT}encoded")
    assert [c.text for c in item.findall("category")] == ["网信中国", "网信中国新闻"]
    assert item.find("source").get("url") == original and item.findtext("source") == "网信中国"
    assert item.findtext("{http://purl.org/dc/elements/1.1/}creator") == "金融资讯网"
    channel = rss.find("channel")
    # the channel <link> is the category page, not the self link
    assert channel.findtext("link") == "https://finews.withounder.com/category/wangxinzhongguo.html"
    assert channel.findtext("lastBuildDate") == "Thu, 10 Feb 2022 11:48:47 +0800"

    data = json.loads((root / "wangxinzhongguo.json").read_text(encoding="utf-8"))
    item = data["items"][0]
    assert item["id"] == guid and item["url"] == link and item["external_url"] == original
    assert item["date_published"] == "2022-02-10T11:48:47+08:00"
    assert item["tags"] == ["网信中国", "网信中国新闻"]


def test_no_cdata_and_html_content_type(seeded):
    built(seeded)
    for path in feeds_dir(seeded).glob("*.*"):
        if path.suffix in (".rss", ".atom"):
            assert b"CDATA" not in path.read_bytes()
    atom = etree.parse(str(feeds_dir(seeded) / "all.atom")).getroot()
    assert {c.get("type") for c in atom.iter(f"{ATOM}content")} == {"html"}


def test_relative_urls_are_absolute(seeded):
    built(seeded)
    data = json.loads((feeds_dir(seeded) / "caijing.json").read_text(encoding="utf-8"))
    html = next(i["content_html"] for i in data["items"] if i["title"] == "第三篇")
    assert 'src="https://finews.withounder.com/img/a.png"' in html
    assert (
        'href="https://finews.withounder.com/caijing/hongguanjingji/2022/02/13/rel/page.html"'
        in (html)
    )
    assert 'alt=""' in html


def test_order_newest_first_ties_by_id_and_limit(site):
    for name in ("a", "b", "c", "d"):
        site.post(f"2022-02-11-{name}.md", title=name, date="2022-02-11 09:00:00 +0800")
    site.post("2022-02-12-z.md", title="z", date="2022-02-12 09:00:00 +0800")
    site.extend_config("feeds:\n  limit: 4\n")
    built(site)
    atom = feedparser.parse((feeds_dir(site) / "caijing.atom").read_bytes())
    assert [e.title for e in atom.entries] == ["z", "d", "c", "b"]
    rss = etree.parse(str(feeds_dir(site) / "caijing.rss")).getroot()
    assert [i.findtext("title") for i in rss.iter("item")] == ["z", "d", "c", "b"]


def test_byte_identical_and_nothing_written_when_unchanged(seeded, tmp_path, stores):
    result, store = built(seeded)
    assert result.written and not result.skipped
    root = feeds_dir(seeded)
    snapshot = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}
    again = build(seeded.cfg(), store)
    assert again.skipped and not again.written
    forced = build(seeded.cfg(), store, force=True)
    assert forced.written == []  # same bytes: nothing rewritten even when forced
    for p, (data, mtime) in snapshot.items():
        assert p.read_bytes() == data and p.stat().st_mtime_ns == mtime
    # a second store from the same files gives the same bytes
    other = seeded.root / "copy.yaml"
    other.write_text(
        seeded.config_path.read_text()
        .replace("var/test.db", "var/other.db")
        .replace("store:", "feeds:\n  dir: feeds2\nstore:"),
        encoding="utf-8",
    )
    from syndicate.config import load
    from syndicate.store import open_store

    with stores.fresh() as url, pytest.MonkeyPatch.context() as mp:
        mp.setenv(STORE_ENV, url)  # the other store, on a server too
        cfg2 = load(other)
        store2 = open_store(cfg2.store.url)
        assert store2.count_posts() == 0
        collect(cfg2, store2, now=NOW + timedelta(days=3))
        build(cfg2, store2)
        store2.close()
    for p in root.rglob("*"):
        if p.is_file():
            assert (seeded.root / "feeds2" / p.relative_to(root)).read_bytes() == p.read_bytes(), p


def test_new_post_rewrites_only_its_feeds(seeded):
    seeded.extend_config("feeds:\n  tags: true\n")
    result, store = built(seeded)
    seeded.post("2022-02-20-new.md", title="新文章", categories="caijing", tags="人民币")
    collect(seeded.cfg(), store, now=NOW + timedelta(hours=1))
    result = build(seeded.cfg(), store)
    assert sorted(result.written) == sorted(
        [
            f"{k}.{f}"
            for k in ("all", "caijing", "tags/renminbi")
            for f in ("rss", "atom", "json", "html")
        ]
        + ["index.html"]
    )
    rss = etree.parse(str(feeds_dir(seeded) / "tags/renminbi.rss")).getroot()
    assert rss.getroottree().docinfo is not None
    # a tag feed is a folder down: its stylesheet is the one beside the category feeds
    stylesheet = b'<?xml-stylesheet type="text/css" href="../feed.css"?>'
    assert stylesheet in (feeds_dir(seeded) / "tags/renminbi.rss").read_bytes()
    assert (feeds_dir(seeded) / "feed.css").is_file()


def test_excerpt_only(seeded):
    seeded.extend_config("feeds:\n  excerpt_only_for: [wangxinzhongguo]\n")
    built(seeded)
    root = feeds_dir(seeded)
    rss = etree.parse(str(root / "wangxinzhongguo.rss")).getroot()
    assert rss.find(f"channel/item/{CONTENT}encoded") is None
    assert rss.findtext("channel/item/description").startswith("1月28日")
    check_atom(root / "wangxinzhongguo.atom")
    assert b"<content" not in (root / "wangxinzhongguo.atom").read_bytes()
    assert rss.find("channel/item") is not None
    assert b"content:encoded" in (root / "all.rss").read_bytes()


def test_hostile_content(site):
    site.post(
        "2022-02-11-x.md",
        title="<script>alert(1)</script>标题\\a",  # YAML's escape for BEL (\x07)
        body=(
            '<p onclick="steal()">正文<script>alert(1)</script>'
            '<img src="x.png" onerror="alert(1)"><a href="javascript:alert(1)">点我</a>'
            "<iframe src='https://evil.example'></iframe>\x0b控制字符。</p>"
        ),
    )
    site.post("2022-02-12-empty-title.md", title="", body="<p>只有正文的摘要。</p>")
    site.post("2022-02-13-nothing.md", title="", body="<p><img src='a.png'></p>")
    big = "<p>" + "长" * (1024 * 1024) + "。</p>"
    site.post("2022-02-14-big.md", title="大文章", body=big)
    built(site)
    root = feeds_dir(site)
    for key in ("caijing", "all"):
        check_atom(root / f"{key}.atom")
        check_rss(root / f"{key}.rss", site.cfg())
    raw = b"".join((root / f"caijing.{f}").read_bytes() for f in ("rss", "atom", "json", "html"))
    for bad in (
        b"onclick",
        b"onerror",
        b"javascript:",
        b"iframe",
        b"\x07",
        b"\x0b",
        b"<script",
        b"&lt;script",
        b"alert(",
    ):
        assert bad not in raw, bad
    titles = [e.title for e in feedparser.parse((root / "caijing.atom").read_bytes()).entries]
    assert "只有正文的摘要。" in titles and "(untitled)" in titles
    assert "标题" in titles  # a title is the text its HTML reads as: no tag, no script


def test_strip_control_characters():
    assert strip_control("a\x00b\x1fc\ud800d\ufffee\tf\n") == "abcde\tf\n"


def test_empty_category_gives_valid_empty_feed(site):
    site.add_seed()
    built(site)  # "caijing" is configured but has no posts
    root = feeds_dir(site)
    check_atom(root / "caijing.atom")
    check_rss(root / "caijing.rss", site.cfg())
    assert json.loads((root / "caijing.json").read_text())["items"] == []
    updated = etree.parse(str(root / "caijing.atom")).getroot().findtext(f"{ATOM}updated")
    assert updated == "1970-01-01T00:00:00+00:00"


def test_opml_index_pages_and_snippets(seeded):
    built(seeded)
    root = feeds_dir(seeded)
    opml = etree.parse(str(root / "feeds.opml")).getroot()
    groups = {o.get("text"): o for o in opml.find("body")}
    assert {"全部文章", "网信中国", "财经", "宏观经济"} <= set(groups)
    urls = [o.get("xmlUrl") for o in groups["网信中国"]]
    assert urls == [
        "https://finews.withounder.com/feeds/wangxinzhongguo.rss",
        "https://finews.withounder.com/feeds/wangxinzhongguo.atom",
    ]
    index = (root / "index.html").read_text(encoding="utf-8")
    page = etree.HTML(index)
    alternates = page.xpath("//head/link[@rel='alternate']/@href")
    assert "https://finews.withounder.com/feeds/wangxinzhongguo.atom" in alternates
    row = page.xpath("//tr[@id='wangxinzhongguo']")[0]
    assert "网信中国" in "".join(row.itertext()) and "2022/2/10 11:48" in "".join(row.itertext())
    assert page.xpath("//a[@href='https://finews.withounder.com/feeds/feeds.opml']")
    # each row leads to its feed's page as well as to the feeds
    assert row.xpath(".//a[@href='https://finews.withounder.com/feeds/wangxinzhongguo.html']")
    assert not (root / "feed.xsl").exists()
    snippet = (root / "snippets/wangxinzhongguo.html").read_text(encoding="utf-8")
    assert 'type="application/atom+xml"' in snippet and "金融资讯网 · 网信中国 (Atom)" in snippet
    out = CliRunner().invoke(main, ["--config", str(seeded.config_path), "build", "--snippets"])
    assert out.exit_code == 0 and "<!-- wangxinzhongguo -->" in out.output
    assert "nothing changed" in out.output


def test_output_paths_stay_inside(tmp_path):
    assert inside(tmp_path, "a/b.rss") == (tmp_path / "a/b.rss").resolve()
    for bad in ("../x.rss", "/etc/passwd", "a/../../x"):
        with pytest.raises(UnsafePath):
            inside(tmp_path, bad)


class Hub(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, list[str]]]] = []
    status = 204

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        Hub.received.append(parse_qs(self.rfile.read(length).decode()))
        self.send_response(Hub.status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hub():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Hub.received = []
    Hub.status = 204
    yield f"http://127.0.0.1:{server.server_port}/hub"
    server.shutdown()


def test_websub_hub_link_and_ping(seeded, hub):
    seeded.extend_config(f"feeds:\n  hub: {hub}\n")
    result, store = built(seeded)
    assert result.ping_errors == []
    pinged = {r["hub.url"][0] for r in Hub.received}
    assert all(r["hub.mode"] == ["publish"] for r in Hub.received)
    assert "https://finews.withounder.com/feeds/caijing.atom" in pinged
    assert len(pinged) == 12  # 4 feeds x 3 formats
    root = feeds_dir(seeded)
    rss = etree.parse(str(root / "caijing.rss")).getroot()
    assert rss.find(f"channel/{ATOM}link[@rel='hub']").get("href") == hub
    check_atom(root / "caijing.atom")
    # one new post: only the changed feeds are pinged; a failing hub is not fatal
    Hub.received, Hub.status = [], 500
    seeded.post("2022-02-20-new.md", title="新", categories="caijing")
    collect(seeded.cfg(), store, now=NOW + timedelta(hours=1))
    result = build(seeded.cfg(), store)
    assert {urlparse(r["hub.url"][0]).path for r in Hub.received} == {
        f"/feeds/{k}.{f}" for k in ("all", "caijing") for f in ("rss", "atom", "json")
    }
    assert len(result.ping_errors) == 6 and "500" in result.ping_errors[0]


@pytest.mark.parametrize("excerpt_only", [False, True])
def test_formats_rendered_together_equal_each_alone(seeded, excerpt_only):
    # the build renders a feed's formats from one set of entries and one feedgen
    # generator; a format must not see what rendering another left behind
    from dataclasses import replace

    from syndicate.publish import formats
    from syndicate.publish.build import specs

    seeded.extend_config("feeds:\n  hub: https://hub.example/\n")
    seeded.post(
        "2022-02-14-d.md",
        title="第四篇",
        categories="caijing",
        body="正文。\n\n（文章来源：新华社）\n\n<http://finews.zning.xyz/x?infoCode=1>",
    )
    _, store = built(seeded)
    cfg = seeded.cfg()
    spec = replace(
        next(s for s in specs(cfg, store) if s.key == "caijing"), excerpt_only=excerpt_only
    )
    posts = store.posts(category="caijing", limit=cfg.feeds.limit)
    assert any(p.original_url for p in posts)
    together = formats.render(cfg, spec, posts, ["rss", "atom", "json"])
    assert together["rss"] == formats.rss_bytes(cfg, spec, posts)
    assert together["atom"] == formats.atom_bytes(cfg, spec, posts)
    assert together["json"] == formats.json_bytes(cfg, spec, posts)
    assert together == formats.render(cfg, spec, posts, ["json", "atom", "rss"])
    assert b'rel="hub"' in together["atom"] and b'rel="hub"' in together["rss"]


def test_offering_the_weekly_edition_rebuilds_the_sign_up_form(site):
    """The form on the index page (and its snippet) carries the daily-or-weekly choice of an
    offer_weekly digest: turning the offer on or off must render them again."""
    site.post("2022-02-10-a.md", title="财经一", categories="caijing")
    digest = "digests:\n  - name: daily\n    from: 金融资讯网 <digest@finews.withounder.com>\n"
    weekly = (
        "    offer_weekly: true\n"
        "jobs:\n  daily: {digest: daily, cron: '0 8 * * *'}\n"
        "  weekly: {digest: daily, edition: week, cron: '0 8 * * 1'}\n"
    )
    base = site.config_path.read_text(encoding="utf-8")
    site.write_config(base + digest)
    store = site.store()
    collect(site.cfg(), store, now=NOW)
    build(site.cfg(), store)
    index = site.root / "feeds" / "index.html"
    assert "edition-daily" not in index.read_text(encoding="utf-8")
    for text, shown in ((base + digest + weekly, True), (base + digest, False)):
        site.write_config(text)
        result = build(site.cfg(), store)
        assert "index.html" in result.written
        assert ('name="edition-daily"' in index.read_text(encoding="utf-8")) is shown


def _clear_catalog_caches() -> None:
    from syndicate import i18n, templating

    for cached in (i18n.available, i18n.catalog_name, i18n.translations):
        cached.cache_clear()
    templating._environment.cache_clear()


@pytest.fixture
def own_catalogs(tmp_path, monkeypatch):
    """A copy of the catalogs to edit; the package's own are back (and reloaded) after."""
    import shutil

    from syndicate import i18n

    locale = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, locale, ignore=shutil.ignore_patterns("*.mo"))
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale)
    _clear_catalog_caches()
    yield locale
    monkeypatch.undo()
    _clear_catalog_caches()


def test_an_edited_translation_renders_the_pages_again(site, own_catalogs):
    """The catalogs are in the build's fingerprint (hashed without loading Babel)."""
    site.post("2022-02-10-a.md", title="财经一", categories="caijing")
    store = site.store()
    collect(site.cfg(), store, now=NOW)
    assert "index.html" in build(site.cfg(), store).written
    assert build(site.cfg(), store).skipped  # nothing changed: nothing rendered
    po = own_catalogs / "zh_CN" / "LC_MESSAGES" / "syndicate.po"
    text = po.read_text(encoding="utf-8")
    assert 'msgstr "网页"' in text  # the index page's and every feed page's link to a page
    po.write_text(text.replace('msgstr "网页"', 'msgstr "网页版"'), "utf-8")
    _clear_catalog_caches()  # a new process would load the edited catalog
    result = build(site.cfg(), store)
    assert not result.skipped and "index.html" in result.written
    assert "网页版" in (site.root / "feeds" / "index.html").read_text(encoding="utf-8")
