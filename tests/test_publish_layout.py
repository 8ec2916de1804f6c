"""Where the build puts each file (``syndicate/publish/layout.py``), in both layouts.

The jekyll-feed layout end to end on the checked-in site: the files at
jekyll-feed's paths, and every place that names a feed's URL (self links in
each format, the OPML, the index page, the snippets, the stylesheet link,
WebSub pings, the digest's feed link) naming the same new location.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree

from syndicate.collect.collector import collect
from syndicate.config import Config, load, loads
from syndicate.digest.compose import feed_url
from syndicate.publish import layout
from syndicate.publish.build import build
from syndicate.setup.jekyll_config import read_site
from syndicate.setup.schedule_writer import write

from .conftest import DATA, NOW
from .serving import LiveServer, raw
from .test_build import Hub, hub  # noqa: F401 (the fixture: a real HTTP server on 127.0.0.1)

ATOM = "{http://www.w3.org/2005/Atom}"
BASE = "https://notes.example.org/field/"


def _cfg(tmp_path: Path, feeds: str) -> Config:
    text = f"site:\n  title: t\n  url: https://e.org/blog\nfeeds:\n{feeds}"
    return loads(text, tmp_path / "schedule.yaml")


def test_the_default_layout_is_unchanged(tmp_path):
    cfg = _cfg(tmp_path, "  tags: true\n")
    assert cfg.feeds_base_url == "https://e.org/blog/feeds/"
    assert layout.feed_file(cfg, layout.all_stem(cfg), "atom") == "all.atom"
    assert layout.feed_file(cfg, layout.category_stem(cfg, "keji"), "rss") == "keji.rss"
    assert layout.tag_stem(cfg, "c", "C++") == "tags/c"
    assert layout.index_file(cfg) == "index.html"
    assert layout.snippet_file(cfg, "keji") == "snippets/keji.html"
    assert layout.served_routes(cfg) == [] and layout.feed_types(cfg) == {}


def test_jekyll_feed_paths(tmp_path):
    cfg = _cfg(
        tmp_path,
        "  layout: jekyll-feed\n  tags: true\n"
        "  jekyll_feed:\n    categories: [news, 网信中国, Big News]\n"
        "    tags: {except: [secret], path: /tag-}\n",
    )
    assert cfg.feeds_base_url == "https://e.org/blog/"  # the site root, as jekyll-feed's
    stem = layout.all_stem(cfg)
    assert [layout.feed_file(cfg, stem, f) for f in ("atom", "rss", "json", "html")] == [
        "feed.xml",
        "feed.rss",
        "feed.json",
        "feed.html",
    ]
    assert layout.category_stem(cfg, "news") == "feed/news"
    assert layout.category_stem(cfg, "wangxinzhongguo") == "feed/网信中国"  # as listed
    assert layout.category_stem(cfg, "big-news") == "feed/Big News"
    assert layout.category_stem(cfg, "other") == "feed/other"  # not listed: at its slug
    url = layout.file_url(cfg, layout.feed_file(cfg, "feed/网信中国", "atom"))
    assert url == "https://e.org/blog/feed/%E7%BD%91%E4%BF%A1%E4%B8%AD%E5%9B%BD.xml"
    assert layout.tag_stem(cfg, "ruby_on", "Ruby_On") == "tag-Ruby_On"
    assert layout.tag_stem(cfg, "c", "c++") == "tag-c"  # jekyll-feed skips it: its slug
    assert layout.tag_stem(cfg, "secret", "secret") is None  # except
    assert layout.css_href("feed/by_tag/x") == "../../feed.css"
    assert layout.index_file(cfg) == "feed/index.html"  # never the site's own index.html
    assert layout.served_routes(cfg) == [
        "/feed.rss",
        "/feed.xml",
        "/feed.json",
        "/feed.html",
        "/feed.css",
        "/feeds.opml",
        "/feed/{path:path}",
        "/tag-{name}",
    ]
    assert layout.feed_types(cfg) == {".xml": "application/atom+xml"}


@pytest.mark.parametrize(
    ("feeds", "message"),
    [
        ("  jekyll_feed:\n    path: /feed.atom\n", "feeds.jekyll_feed.path: '/feed.atom' must end"),
        ("  jekyll_feed:\n    path: ../up.xml\n", "must be a path inside the site"),
        ("  jekyll_feed:\n    categories: [.hidden]\n", "category '.hidden' cannot be a file name"),
        ("  jekyll_feed:\n    tags: {path: /a/../b/}\n", "feeds.jekyll_feed.tags.path"),
        ("  layout: jekyll\n", "feeds.layout: Input should be 'syndicate' or 'jekyll-feed'"),
    ],
)
def test_bad_layout_settings_name_the_key(tmp_path, feeds, message):
    with pytest.raises(Exception) as err:
        _cfg(tmp_path, feeds)
    assert message in str(err.value)


@pytest.fixture
def fixture_site(tmp_path: Path) -> Config:
    """The checked-in Jekyll site, through init: jekyll-feed layout, feed.path /atom.xml."""
    shutil.copytree(DATA / "jekyll-site", tmp_path / "site")
    out = tmp_path / "work" / "schedule.yaml"
    write(read_site(tmp_path / "site"), out)
    return load(out)


def _built(cfg: Config) -> Path:
    store = cfg_store(cfg)
    collect(cfg, store, now=NOW)
    build(cfg, store)
    return cfg.feeds.dir


def cfg_store(cfg: Config):
    from syndicate.store import open_store

    return open_store(cfg.store.url)


def test_the_build_writes_jekyll_feeds_paths_and_links_them_everywhere(fixture_site):
    cfg = fixture_site
    root = _built(cfg)
    files = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    atom = {f for f in files if f.endswith(".xml")}
    assert atom == {
        "atom.xml",
        "feed/notes.xml",
        "feed/Field Trips.xml",
        "feed/Unused.xml",  # listed, no post yet: an empty feed, as jekyll-feed's
        "feed/tagged/birds.xml",
        "feed/tagged/Rocks_2.xml",  # only: [birds, Rocks_2, trees], except: [trees]
    }
    assert {"atom.rss", "atom.json", "feed/Field Trips.rss", "feed/tagged/birds.json"} <= files
    assert {"feed.css", "feeds.opml", "feed/index.html", "feed/snippets/notes.html"} <= files
    # each feed's HTML page sits beside it, as <stem>.html
    assert {"atom.html", "feed/Field Trips.html", "feed/tagged/birds.html"} <= files
    assert "index.html" not in files and not any(f.startswith("tags/") for f in files)

    # self links and ids in each format name the file's own URL
    trips = etree.parse(str(root / "feed/Field Trips.xml")).getroot()
    assert trips.find(f"{ATOM}link[@rel='self']").get("href") == BASE + "feed/Field%20Trips.xml"
    assert trips.findtext(f"{ATOM}id") == BASE + "feed/Field%20Trips.xml"
    assert len(trips.findall(f"{ATOM}entry")) == 2
    rss = etree.parse(str(root / "feed/tagged/birds.rss")).getroot()
    assert (
        rss.find(f"channel/{ATOM}link[@rel='self']").get("href") == BASE + "feed/tagged/birds.rss"
    )
    assert json.loads((root / "atom.json").read_text())["feed_url"] == BASE + "atom.json"
    # the stylesheet link is relative to each file's folder
    text = (root / "feed/tagged/birds.xml").read_text()
    assert 'href="../../feed.css"' in text
    assert 'href="feed.css"' in (root / "atom.xml").read_text()
    # a feed's page leads to this layout's index page, not to the site's home page
    assert f'href="{BASE}feed/index.html"' in (root / "feed/Field Trips.html").read_text()
    related = trips.find(f"{ATOM}link[@rel='related']").get("href")
    assert related == BASE + "feed/Field%20Trips.html"

    opml = etree.parse(str(root / "feeds.opml")).getroot()
    urls = {o.get("xmlUrl") for o in opml.iter("outline") if o.get("xmlUrl")}
    assert BASE + "atom.xml" in urls and BASE + "feed/Field%20Trips.rss" in urls
    assert not any("/feeds/" in u for u in urls)
    index = (root / "feed/index.html").read_text()
    assert f'href="{BASE}feed/notes.xml"' in index and f'href="{BASE}feeds.opml"' in index
    snippet = (root / "feed/snippets/notes.html").read_text()
    assert f'href="{BASE}feed/notes.xml"' in snippet and f'href="{BASE}feed/notes.rss"' in snippet
    # the digest's "follow in a feed reader" link
    assert feed_url(cfg, "field-trips") == BASE + "feed/Field%20Trips.rss"


def test_hub_pings_name_the_new_locations(tmp_path, fixture_site, hub):  # noqa: F811
    text = fixture_site.path.read_text().replace(
        '  dir: "feeds"', f'  dir: "feeds"\n  hub: "{hub}"'
    )
    fixture_site.path.write_text(text)
    cfg = load(fixture_site.path)
    store = cfg_store(cfg)
    collect(cfg, store, now=NOW)
    assert build(cfg, store).ping_errors == []
    pinged = {r["hub.url"][0] for r in Hub.received}
    assert BASE + "atom.xml" in pinged and BASE + "feed/Field%20Trips.json" in pinged
    assert BASE + "feed/tagged/birds.rss" in pinged and len(pinged) == 6 * 3
    # a new post in notes: only the feeds it is in are pinged again
    Hub.received = []
    post = cfg.sources[0].posts / "notes/_posts/2024-05-09-later.md"  # type: ignore[union-attr]
    post.write_text("---\ntitle: Later\n---\nLater.\n")
    collect(cfg, store, now=NOW + timedelta(hours=1))
    build(cfg, store)
    assert {r["hub.url"][0] for r in Hub.received} == {
        BASE + f
        for f in (
            "atom.xml",
            "atom.rss",
            "atom.json",
            "feed/notes.xml",
            "feed/notes.rss",
            "feed/notes.json",
        )
    }


def test_serve_answers_the_layouts_paths(fixture_site):
    cfg = fixture_site
    root = _built(cfg)
    with LiveServer(cfg) as server:
        for path, kind in (
            ("/atom.xml", "application/atom+xml"),
            ("/atom.rss", "application/rss+xml"),
            ("/feed/Field%20Trips.xml", "application/atom+xml"),
            ("/feed/tagged/Rocks_2.json", "application/feed+json"),
            ("/feeds.opml", "text/x-opml"),
        ):
            status, headers, body = raw(server.url, path)
            assert status == 200, path
            assert headers["content-type"] == f"{kind}; charset=utf-8", path
        assert body == (root / "feeds.opml").read_bytes()
        # a browser opening the Atom .xml gets the feed's page, a reader the feed
        status, headers, body = raw(server.url, "/atom.xml", headers={"Accept": "text/html"})
        assert headers["content-type"] == "text/html; charset=utf-8"
        assert "Accept" in headers["vary"] and body == (root / "atom.html").read_bytes()
        status, headers, body = raw(server.url, "/feed/Field%20Trips.xml")
        assert "Accept" in headers["vary"] and body == (root / "feed/Field Trips.xml").read_bytes()
        assert raw(server.url, "/feed")[0] == 308  # to /feed/, the index page
        assert raw(server.url, "/feed/")[2] == (root / "feed/index.html").read_bytes()
        assert raw(server.url, "/feed/../schedule.yaml")[0] == 404
        assert raw(server.url, "/healthz")[0] in (200, 503)  # the server's own routes stay


def test_metrics_count_the_layouts_atom_files(fixture_site):
    """jekyll-feed's Atom file is .xml: the build names each file's format, not its suffix."""
    from syndicate.observe import metrics

    def written(fmt: str) -> float:
        value = metrics.REGISTRY.get_sample_value("syndicate_feeds_written_total", {"format": fmt})
        return value or 0.0

    before = {fmt: written(fmt) for fmt in ("atom", "rss", "json")}
    root = _built(fixture_site)
    for fmt, suffix in (("atom", "xml"), ("rss", "rss"), ("json", "json")):
        files = [p for p in root.rglob(f"*.{suffix}") if "digests" not in p.parts]
        assert written(fmt) - before[fmt] == len(files) > 0, fmt


def test_serves_own_pages_and_the_archive_feed_follow_the_layout(
    fixture_site, tmp_path, monkeypatch
):
    """The footer's feeds link, and the archive feed at its self link (the site root here)."""
    from syndicate.digest import archive
    from syndicate.digest.editions import send_due
    from syndicate.digest.subscribers import Entry, import_entries
    from syndicate.web import rendering

    monkeypatch.setenv("SYNDICATE_SECRET", "layout-test-secret")

    schedule = tmp_path / "work" / "schedule.yaml"
    schedule.write_text(
        schedule.read_text(encoding="utf-8")
        + "digests:\n  - name: daily\n    from: Notes <d@example.org>\n"
        + "delivery:\n  maildir: outbox\n",
        encoding="utf-8",
    )
    cfg = load(schedule)
    page = bytes(rendering.page(cfg, "digests.html.j2", names=[], signup=None).body).decode()
    assert '<a href="/feed/">' in page
    store = cfg_store(cfg)
    collect(cfg, store, now=NOW)
    build(cfg, store)
    import_entries(store, [Entry("a@example.org", "A")], source="test", now=NOW)
    assert all(r.ok for r in send_due(cfg, store, now=NOW, names=["daily"]))
    feed = archive.folder(cfg, "daily") / "index.atom"
    self_link = etree.parse(str(feed)).getroot().find(f"{ATOM}link[@rel='self']").get("href")
    assert self_link == BASE + "digests/daily/index.atom"
    with LiveServer(cfg) as server:
        assert raw(server.url, "/feed/")[0] == 200  # where the footer leads
        status, headers, body = raw(server.url, "/digests/daily/index.atom")
        assert status == 200 and body == feed.read_bytes()
        assert headers["content-type"] == "application/atom+xml; charset=utf-8"
        assert raw(server.url, "/digests/daily/other.atom")[0] == 404


def test_tag_feeds_at_the_root_have_their_pages_routed(tmp_path):
    cfg = _cfg(
        tmp_path, "  layout: jekyll-feed\n  tags: true\n  jekyll_feed:\n    tags: {path: /}\n"
    )
    routes = layout.served_routes(cfg)
    assert {"/{name}.xml", "/{name}.rss", "/{name}.json", "/{name}.html"} <= set(routes)
