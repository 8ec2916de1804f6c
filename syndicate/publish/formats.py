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

    def self_url(self, cfg: Config, fmt: str) -> str:
        return f"{cfg.feeds_base_url}{self.key}.{fmt}"

    @property
    def xsl_href(self) -> str:
        return "../" * self.key.count("/") + "feed.xsl"


def _clean(text: str) -> str:
    return strip_control(text)


def _seconds(dt: datetime) -> datetime:
    return dt.replace(microsecond=0)


def feed_updated(posts: Sequence[Post | FeedHead]) -> datetime:
    """The newest entry's updated time; never the build time."""
    return _seconds(max((p.updated for p in posts), default=EPOCH))


def _author(cfg: Config, post: Post) -> str:
    return post.author or cfg.site.author or cfg.site.title


def _generator(cfg: Config, spec: FeedSpec, posts: list[Post], fmt: str) -> FeedGenerator:
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
    # self first, alternate last: RSS takes its channel <link> from the last link
    fg.link(href=spec.self_url(cfg, fmt), rel="self", type=MEDIA_TYPES[fmt])
    if cfg.feeds.hub and fmt == "atom":
        fg.link(href=cfg.feeds.hub, rel="hub")
    fg.link(href=spec.home_url, rel="alternate", type="text/html")
    updated = feed_updated(posts)
    fg.updated(updated)  # also lastBuildDate
    if posts:
        fg.pubDate(_seconds(max(p.date for p in posts)))
    for post in posts:
        fe = fg.add_entry(order="append")
        fe.id(post.guid)
        fe.guid(post.guid, permalink=post.guid == post.link)
        fe.title(_clean(post.display_title))
        fe.link(href=post.link, rel="alternate", type="text/html")
        if post.original_url:
            fe.source(url=post.original_url, title=_clean(post.source_name or cfg.site.title))
        fe.published(_seconds(post.date))
        fe.updated(_seconds(post.updated))
        author = _author(cfg, post)
        fe.author({"name": author})
        fe.dc.dc_creator(author)
        for c in post.categories:
            fe.category(term=c.slug, label=c.name, scheme=f"{cfg.site.url}/category/")
        for t in post.tags:
            fe.category(term=t.slug, label=t.name, scheme=f"{cfg.site.url}/tag/")
        fe.summary(_clean(post.summary or post.display_title))
        if not spec.excerpt_only:
            fe.content(_clean(post.content_html), type="html")
    return fg


def _serialize(root: etree._Element, xsl_href: str) -> bytes:
    tree = root.getroottree()
    pi = etree.ProcessingInstruction("xml-stylesheet", f'type="text/xsl" href="{xsl_href}"')
    root.addprevious(pi)
    return etree.tostring(tree, pretty_print=True, encoding="UTF-8", xml_declaration=True)


def rss_bytes(cfg: Config, spec: FeedSpec, posts: list[Post]) -> bytes:
    fg = _generator(cfg, spec, posts, "rss")
    root, _ = fg._create_rss()  # the tree, so we can add the stylesheet and hub
    channel = root.find("channel")
    assert channel is not None
    if cfg.feeds.hub:
        hub = etree.Element(f"{{{ATOM_NS}}}link", href=cfg.feeds.hub, rel="hub")
        self_link = channel.find(f"{{{ATOM_NS}}}link")
        assert self_link is not None
        self_link.addnext(hub)
    gen = channel.find("generator")
    if gen is not None:
        gen.text = f"syndicate {__version__}"
    docs = channel.find("docs")
    if docs is not None:
        docs.text = "https://www.rssboard.org/rss-specification"
    return _serialize(root, spec.xsl_href)


def atom_bytes(cfg: Config, spec: FeedSpec, posts: list[Post]) -> bytes:
    fg = _generator(cfg, spec, posts, "atom")
    root, _ = fg._create_atom()
    # feedgen 1.0 drops rel/type/title on entry links (a shadowed variable), which
    # would turn the "via" link into a second alternate; write entry links here.
    # (feedgen's tree uses un-namespaced tags under a default xmlns)
    entries = root.findall("entry")
    for entry, post in zip(entries, posts, strict=True):
        for old in entry.findall("link") + entry.findall("source"):
            entry.remove(old)
        title = entry.find("title")
        assert title is not None
        alt = etree.Element("link", href=post.link, rel="alternate", type="text/html")
        title.addnext(alt)
        if post.original_url:
            via = etree.Element("link", href=post.original_url, rel="via")
            if post.source_name:
                via.set("title", _clean(post.source_name))
            alt.addnext(via)
    return _serialize(root, spec.xsl_href)


def json_bytes(cfg: Config, spec: FeedSpec, posts: list[Post]) -> bytes:
    feed: dict[str, object] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": _clean(spec.title),
        "home_page_url": spec.home_url,
        "feed_url": spec.self_url(cfg, "json"),
        "description": _clean(spec.description or spec.title),
        "language": cfg.site.language,
        "authors": [{"name": cfg.site.author or cfg.site.title}],
    }
    if cfg.feeds.hub:
        feed["hubs"] = [{"type": "WebSub", "url": cfg.feeds.hub}]
    items = []
    for post in posts:
        item: dict[str, object] = {
            "id": post.guid,
            "url": post.link,
            "title": _clean(post.display_title),
        }
        if post.original_url:
            item["external_url"] = post.original_url
        if not spec.excerpt_only:
            item["content_html"] = _clean(post.content_html)
        else:
            item["content_text"] = _clean(post.summary or post.display_title)
        item["summary"] = _clean(post.summary)
        item["date_published"] = _seconds(post.date).isoformat()
        item["date_modified"] = _seconds(post.updated).isoformat()
        item["authors"] = [{"name": _author(cfg, post)}]
        item["tags"] = [c.name for c in post.categories] + [t.name for t in post.tags]
        item["language"] = cfg.site.language
        extension = {
            "categories": [{"slug": c.slug, "name": c.name} for c in post.categories],
            "source_name": _clean(post.source_name),
        }
        item["_syndicate"] = extension
        items.append(item)
    feed["items"] = items
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


RENDERERS = {"rss": rss_bytes, "atom": atom_bytes, "json": json_bytes}
