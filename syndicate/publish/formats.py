"""RSS 2.0 and Atom 1.0 with feedgen, JSON Feed 1.1 by hand.

feedgen pitfalls, each handled here and covered by tests:
- ``add_entry`` prepends by default: entries are added with ``order="append"``
  after sorting newest first;
- the feed's ``updated``/``lastBuildDate`` and every entry's ``updated`` default
  to ``now()``: all are set explicitly from the posts, so the same store gives
  the same bytes;
- the RSS channel ``<link>`` is the *last* link added: the self link is added
  first, the alternate link last;
- ``description()`` also sets Atom content: only ``summary()`` then
  ``content(type="html")`` are used, in that order (never ``CDATA``);
- RSS ``<author>`` must be an e-mail address: names go to ``dc:creator``.

JSON Feed has no library in DESIGN.md's list and is plain JSON; it is built
with ``json.dumps`` (hand-written on purpose).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from lxml import etree

from .. import __version__
from ..config import Config
from ..model import Post
from ..store.records import FeedHead
from ..text import strip_control
from . import layout

if TYPE_CHECKING:
    from feedgen.feed import FeedGenerator

ATOM_NS = "http://www.w3.org/2005/Atom"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MEDIA_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}


@dataclass(frozen=True)
class FeedSpec:
    key: str  # "all", "<category>", "tags/<tag>": the file name without extension
    title: str
    name: str
    home_url: str
    description: str
    excerpt_only: bool = False
    stem: str = ""  # its files' path without the extension (layout.py); "" is the key

    def file(self, cfg: Config, fmt: str) -> str:
        return layout.feed_file(cfg, self.stem or self.key, fmt)

    def self_url(self, cfg: Config, fmt: str) -> str:
        return layout.file_url(cfg, self.file(cfg, fmt))

    def page_url(self, cfg: Config) -> str:
        """The feed's HTML page (``publish/feedpage.py``), written beside it."""
        return layout.file_url(cfg, self.file(cfg, "html"))

    @property
    def css_href(self) -> str:
        return layout.css_href(self.stem or self.key)


def _clean(text: str) -> str:
    return strip_control(text)


def _seconds(dt: datetime) -> datetime:
    return dt.replace(microsecond=0)


def feed_updated(posts: Sequence[Post | FeedHead]) -> datetime:
    """The newest entry's updated time; never the build time."""
    return _seconds(max((p.updated for p in posts), default=EPOCH))


def _author(cfg: Config, post: Post) -> str:
    return post.author or cfg.site.author or cfg.site.title


@dataclass(frozen=True, slots=True)
class _Entry:
    """A post's strings as every format writes them, cleaned once per feed, not per format."""

    post: Post
    title: str
    summary: str  # the summary, or the title when there is none
    content: str
    author: str
    source_name: str


def _entries(cfg: Config, posts: Sequence[Post]) -> list[_Entry]:
    return [
        _Entry(
            post,
            _clean(post.display_title),
            _clean(post.summary or post.display_title),
            _clean(post.content_html),
            _author(cfg, post),
            _clean(post.source_name),
        )
        for post in posts
    ]


def _generator(cfg: Config, spec: FeedSpec, entries: list[_Entry]) -> FeedGenerator:
    """One generator for both XML formats: the entries are added once, links per format."""
    from feedgen.feed import FeedGenerator  # a build that renders nothing never loads it

    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    fg.id(spec.self_url(cfg, "atom"))
    fg.title(_clean(spec.title))
    fg.subtitle(_clean(spec.description or spec.title))
    fg.description(_clean(spec.description or spec.title))
    fg.language(cfg.site.language)
    fg.author({"name": cfg.site.author or cfg.site.title})
    fg.generator("syndicate", version=__version__, uri="https://pypi.org/project/syndicate/")
    updated = feed_updated([e.post for e in entries])
    fg.updated(updated)  # also lastBuildDate
    if entries:
        fg.pubDate(_seconds(max(e.post.date for e in entries)))
    for e in entries:
        post = e.post
        fe = fg.add_entry(order="append")
        fe.id(post.guid)
        fe.guid(post.guid, permalink=post.guid == post.link)
        fe.title(e.title)
        fe.link(href=post.link, rel="alternate", type="text/html")
        if post.original_url:
            fe.source(url=post.original_url, title=e.source_name or _clean(cfg.site.title))
        fe.published(_seconds(post.date))
        fe.updated(_seconds(post.updated))
        fe.author({"name": e.author})
        fe.dc.dc_creator(e.author)
        for c in post.categories:
            fe.category(term=c.slug, label=c.name, scheme=f"{cfg.site.url}/category/")
        for t in post.tags:
            fe.category(term=t.slug, label=t.name, scheme=f"{cfg.site.url}/tag/")
        fe.summary(e.summary)
        if not spec.excerpt_only:
            fe.content(e.content, type="html")
    return fg


def _links(fg: FeedGenerator, cfg: Config, spec: FeedSpec, fmt: str) -> None:
    # self first, alternate last: RSS takes its channel <link> from the last link
    fg.link(href=spec.self_url(cfg, fmt), rel="self", type=MEDIA_TYPES[fmt], replace=True)
    if cfg.feeds.hub and fmt == "atom":
        fg.link(href=cfg.feeds.hub, rel="hub")
    if fmt == "atom":
        # the feed's own page is "related", not a second text/html "alternate": RFC 4287
        # 4.1.1 allows one alternate per type and hreflang, and that one is the site's page
        fg.link(href=spec.page_url(cfg), rel="related", type="text/html")
    fg.link(href=spec.home_url, rel="alternate", type="text/html")


def _serialize(root: etree._Element, css_href: str) -> bytes:
    tree = root.getroottree()
    # CSS, not XSLT: browsers are removing XSLT, every one of them still applies CSS to XML
    pi = etree.ProcessingInstruction("xml-stylesheet", f'type="text/css" href="{css_href}"')
    root.addprevious(pi)
    return etree.tostring(tree, pretty_print=True, encoding="UTF-8", xml_declaration=True)


def _rss(cfg: Config, spec: FeedSpec, fg: FeedGenerator) -> bytes:
    _links(fg, cfg, spec, "rss")
    root, _ = fg._create_rss()  # the tree, so we can add the stylesheet and hub
    channel = root.find("channel")
    assert channel is not None
    self_link = channel.find(f"{{{ATOM_NS}}}link")
    assert self_link is not None
    # feedgen writes only the self link of RSS: the page (as in Atom) and the hub by hand
    page = etree.Element(
        f"{{{ATOM_NS}}}link", href=spec.page_url(cfg), rel="related", type="text/html"
    )
    self_link.addnext(page)
    if cfg.feeds.hub:
        hub = etree.Element(f"{{{ATOM_NS}}}link", href=cfg.feeds.hub, rel="hub")
        self_link.addnext(hub)
    gen = channel.find("generator")
    if gen is not None:
        gen.text = f"syndicate {__version__}"
    docs = channel.find("docs")
    if docs is not None:
        docs.text = "https://www.rssboard.org/rss-specification"
    return _serialize(root, spec.css_href)


def _atom(cfg: Config, spec: FeedSpec, fg: FeedGenerator, entries: list[_Entry]) -> bytes:
    _links(fg, cfg, spec, "atom")
    root, _ = fg._create_atom()
    # feedgen 1.0 drops rel/type/title on entry links (a shadowed variable), which
    # would turn the "via" link into a second alternate; write entry links here.
    # (feedgen's tree uses un-namespaced tags under a default xmlns)
    for entry, e in zip(root.findall("entry"), entries, strict=True):
        post = e.post
        for old in entry.findall("link") + entry.findall("source"):
            entry.remove(old)
        title = entry.find("title")
        assert title is not None
        alt = etree.Element("link", href=post.link, rel="alternate", type="text/html")
        title.addnext(alt)
        if post.original_url:
            via = etree.Element("link", href=post.original_url, rel="via")
            if e.source_name:
                via.set("title", e.source_name)
            alt.addnext(via)
    return _serialize(root, spec.css_href)


def _json(cfg: Config, spec: FeedSpec, entries: list[_Entry]) -> bytes:
    feed: dict[str, object] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": _clean(spec.title),
        "home_page_url": spec.home_url,
        "feed_url": spec.self_url(cfg, "json"),
        "description": _clean(spec.description or spec.title),
        "language": cfg.site.language,
        "authors": [{"name": cfg.site.author or cfg.site.title}],
        "_syndicate": {"page_url": spec.page_url(cfg)},  # JSON Feed has no field for it
    }
    if cfg.feeds.hub:
        feed["hubs"] = [{"type": "WebSub", "url": cfg.feeds.hub}]
    items = []
    for e in entries:
        post = e.post
        item: dict[str, object] = {"id": post.guid, "url": post.link, "title": e.title}
        if post.original_url:
            item["external_url"] = post.original_url
        if not spec.excerpt_only:
            item["content_html"] = e.content
        else:
            item["content_text"] = e.summary
        item["summary"] = _clean(post.summary)
        item["date_published"] = _seconds(post.date).isoformat()
        item["date_modified"] = _seconds(post.updated).isoformat()
        item["authors"] = [{"name": e.author}]
        item["tags"] = [c.name for c in post.categories] + [t.name for t in post.tags]
        item["language"] = cfg.site.language
        extension = {
            "categories": [{"slug": c.slug, "name": c.name} for c in post.categories],
            "source_name": e.source_name,
        }
        item["_syndicate"] = extension
        items.append(item)
    feed["items"] = items
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


FORMATS = ("rss", "atom", "json")


def render(
    cfg: Config, spec: FeedSpec, posts: Sequence[Post], formats: Sequence[str]
) -> dict[str, bytes]:
    """Each requested format of one feed; per-entry work is done once for all of them."""
    entries = _entries(cfg, posts)
    out: dict[str, bytes] = {}
    fg = _generator(cfg, spec, entries) if {"rss", "atom"} & set(formats) else None
    for fmt in formats:
        if fmt == "rss":
            assert fg is not None
            out[fmt] = _rss(cfg, spec, fg)
        elif fmt == "atom":
            assert fg is not None
            out[fmt] = _atom(cfg, spec, fg, entries)
        elif fmt == "json":
            out[fmt] = _json(cfg, spec, entries)
        else:
            raise ValueError(f"unknown feed format {fmt!r}")
    return out


def rss_bytes(cfg: Config, spec: FeedSpec, posts: Sequence[Post]) -> bytes:
    return render(cfg, spec, posts, ["rss"])["rss"]


def atom_bytes(cfg: Config, spec: FeedSpec, posts: Sequence[Post]) -> bytes:
    return render(cfg, spec, posts, ["atom"])["atom"]


def json_bytes(cfg: Config, spec: FeedSpec, posts: Sequence[Post]) -> bytes:
    return render(cfg, spec, posts, ["json"])["json"]
