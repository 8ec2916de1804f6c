"""Read a Jekyll site's ``_config.yml`` (and what its posts use) into a typed record.

``read_site`` is what ``syndicate init`` knows about a site: the settings
that decide its feeds' contents, links and ids (title, description,
``url`` + ``baseurl``, ``timezone``, ``permalink``, ``author``, ``lang``,
``future``), whether it uses jekyll-feed (``plugins`` or the older ``gems``)
and that plugin's ``feed:`` settings, and the categories and tags its posts
use, read by the collector's own parser so that init and collect agree.

Invariants: nothing is written; a value of the wrong shape is a
``ConfigError`` naming ``_config.yml``, its line and the key; a setting that
is absent gets Jekyll's (or jekyll-feed's) own default, so the record says
what Jekyll would have done.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from yaml.nodes import MappingNode, Node

from ..config import PostsSource, SiteConfig, yaml_mapping
from ..errors import ConfigError
from ..model import ParsedPost, Rejection

CONFIG_FILE = "_config.yml"
JEKYLL_FEED = "jekyll-feed"
# what `jekyll serve` gives site.url when _config.yml has none; feeds need an absolute one
PLACEHOLDER_URL = "http://localhost:4000"
POSTS_LIMIT = 10  # jekyll-feed's default for feed.posts_limit


@dataclass(frozen=True)
class FeedSettings:
    """jekyll-feed's ``feed:`` mapping, with the plugin's defaults filled in."""

    path: str = "/feed.xml"
    categories: tuple[str, ...] = ()
    posts_limit: int = POSTS_LIMIT
    excerpt_only: bool = False
    tags: bool = False
    tags_only: tuple[str, ...] | None = None
    tags_except: tuple[str, ...] = ()
    tags_path: str = "/feed/by_tag/"
    collections: tuple[str, ...] = ()  # feeds of other collections: not reproduced


@dataclass(frozen=True)
class JekyllSite:
    root: Path
    config_file: Path
    title: str
    description: str
    url: str  # url + baseurl, no trailing slash; PLACEHOLDER_URL when url is empty
    url_given: bool
    timezone: str
    timezone_given: bool
    permalink: str
    author: str
    email: str
    language: str
    future: bool
    plugins: tuple[str, ...]
    feed: FeedSettings
    posts: int = 0
    rejected: tuple[Rejection, ...] = ()
    categories: dict[str, tuple[str, int]] = field(default_factory=dict)  # slug → (name, posts)
    tags: dict[str, int] = field(default_factory=dict)  # name → posts
    has_xslt: bool = False  # the site styles jekyll-feed's feed with /feed.xslt.xml
    # url ends in "/": Jekyll's absolute_url then writes "//" (https://x.org//feed.xml)
    url_slash: bool = False

    @property
    def uses_jekyll_feed(self) -> bool:
        return JEKYLL_FEED in self.plugins


class _Doc:
    """The parsed ``_config.yml`` with the line of each key, for messages that name both."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        node, data = yaml_mapping(
            text, path, "_config.yml must be a mapping of settings (title: …)"
        )
        self.data: dict[str, Any] = data
        self.lines: dict[tuple[str, ...], int] = {}
        if node is not None:
            self._index(node, ())

    def _index(self, node: Node, path: tuple[str, ...]) -> None:
        if isinstance(node, MappingNode):
            for key, value in node.value:
                here = (*path, str(key.value))
                self.lines[here] = key.start_mark.line + 1
                self._index(value, here)

    def error(self, key: str, reason: str) -> ConfigError:
        parts = tuple(key.split("."))
        while parts and parts not in self.lines:
            parts = parts[:-1]
        line = self.lines.get(parts)
        return ConfigError(f"{self.path}{f':{line}' if line else ''}: {key}: {reason}")

    def get(self, key: str) -> Any:
        value: Any = self.data
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def text(self, key: str, default: str = "") -> str:
        value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool | list | dict):
            raise self.error(key, f"must be text, not {_kind(value)}")
        return str(value).strip()

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, not {value!r}")
        return value

    def names(self, key: str) -> tuple[str, ...]:
        """A list of names; Jekyll also takes one name, or several separated by spaces."""
        value = self.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            return tuple(value.split())
        if not isinstance(value, list) or any(isinstance(v, list | dict) for v in value):
            raise self.error(key, f"must be a list of names, not {_kind(value)}")
        return tuple(str(v).strip() for v in value if v is not None and str(v).strip())


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a mapping"
    return "a list" if isinstance(value, list) else type(value).__name__


def read_site(site_dir: Path, *, now: datetime | None = None) -> JekyllSite:
    """The site at ``site_dir``: its settings and what its posts use (reads, never writes)."""
    root = site_dir.expanduser().resolve()
    config_file = root / CONFIG_FILE
    if not root.is_dir():
        raise ConfigError(f"{root}: not a folder (give the Jekyll site's folder)")
    try:
        text = config_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{config_file}: not found: is {root} a Jekyll site?") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{config_file}: cannot read: {exc}") from None
    doc = _Doc(config_file, text)
    site = _settings(doc, root)
    return _with_posts(site, now or datetime.now(UTC))


def _settings(doc: _Doc, root: Path) -> JekyllSite:
    written = doc.text("url")
    url = written.rstrip("/")
    if url and not re.match(r"^https?://[^/\s]+", url):
        raise doc.error("url", f"{url!r} must be an absolute http(s) URL, e.g. https://example.org")
    baseurl = doc.text("baseurl").strip("/")
    zone = doc.text("timezone")
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise doc.error("timezone", f"unknown time zone {zone!r} (an IANA name)") from None
    author, email = _author(doc)
    plugins = doc.names("plugins") + doc.names("gems")  # gems: Jekyll 2's name for plugins
    return JekyllSite(
        root=root,
        config_file=doc.path,
        title=doc.text("title") or doc.text("name") or root.name,
        description=" ".join(doc.text("description").split()),
        url=(url or PLACEHOLDER_URL) + (f"/{baseurl}" if baseurl else ""),
        url_given=bool(url),
        timezone=zone or local_zone(),
        timezone_given=bool(zone),
        permalink=doc.text("permalink") or "date",
        author=author,
        email=email or doc.text("email"),
        language=doc.text("lang") or doc.text("locale").replace("_", "-") or "en",
        future=doc.flag("future"),
        plugins=tuple(dict.fromkeys(plugins)),
        feed=_feed(doc),
        has_xslt=(root / "feed.xslt.xml").is_file(),
        url_slash=written.endswith("/"),
    )


def _author(doc: _Doc) -> tuple[str, str]:
    value = doc.get("author")
    if value is None:
        return "", ""
    if isinstance(value, dict):
        for key in ("name", "email"):
            if isinstance(value.get(key), list | dict | bool):
                raise doc.error(f"author.{key}", "must be text")
        return str(value.get("name") or "").strip(), str(value.get("email") or "").strip()
    return doc.text("author"), ""


def _feed(doc: _Doc) -> FeedSettings:
    feed = doc.get("feed")
    if feed is None:
        return FeedSettings()
    if not isinstance(feed, dict):
        raise doc.error("feed", f"must be a mapping of jekyll-feed settings, not {_kind(feed)}")
    limit = doc.get("feed.posts_limit")
    if limit is None:
        limit = POSTS_LIMIT
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise doc.error("feed.posts_limit", f"must be a whole number of at least 1, not {limit!r}")
    path = doc.text("feed.path") or "/feed.xml"
    if not path.endswith(".xml") or ".." in path.split("/"):
        raise doc.error("feed.path", f"{path!r}: syndicate writes the Atom feed at a .xml path")
    tags = doc.get("feed.tags")
    only: tuple[str, ...] | None = None
    excepted: tuple[str, ...] = ()
    tags_path = "/feed/by_tag/"
    if isinstance(tags, dict):
        unknown = set(tags) - {"only", "except", "path"}
        if unknown:
            raise doc.error(f"feed.tags.{sorted(unknown)[0]}", "unknown key (only, except, path)")
        only = doc.names("feed.tags.only") if "only" in tags else None
        excepted = doc.names("feed.tags.except")
        tags_path = doc.text("feed.tags.path") or tags_path
    elif tags is not None and not isinstance(tags, bool):
        raise doc.error("feed.tags", "must be true, false or a mapping with only/except/path")
    collections = doc.get("feed.collections")
    return FeedSettings(
        path="/" + path.lstrip("/"),
        categories=doc.names("feed.categories"),
        posts_limit=limit,
        excerpt_only=doc.flag("feed.excerpt_only"),
        tags=tags is not None and tags is not False,
        tags_only=only,
        tags_except=excepted,
        tags_path=tags_path,
        collections=tuple(map(str, collections)) if isinstance(collections, list | dict) else (),
    )


def local_zone() -> str:
    """The machine's IANA zone, which Jekyll uses when _config.yml names none.

    By hand because it matters and the standard library cannot name it: a
    post's date without an offset is read in this zone, and its day is in the
    post's URL and so in its feed id. ``TZ``, then /etc/localtime's link, then
    /etc/timezone (Debian), else UTC.
    """
    candidates = [os.environ.get("TZ", "").removeprefix(":")]
    with contextlib.suppress(OSError):
        candidates.append(os.readlink("/etc/localtime").split("zoneinfo/", 1)[-1])
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    for name in candidates:
        if name and not name.startswith("/"):
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
            return name
    return "UTC"


def _with_posts(site: JekyllSite, now: datetime) -> JekyllSite:
    """Every post parsed as ``collect`` will parse it: counts, categories, tags, rejections."""
    from dataclasses import replace

    from ..collect import posts as reader  # the collector's parser, not a second one

    cfg = SiteConfig(
        title=site.title, url=site.url, timezone=site.timezone, permalink=site.permalink
    )
    source = PostsSource(posts=site.root, future=site.future)
    ctx = reader.context(cfg, source, now, {})
    count = 0
    rejected: list[Rejection] = []
    categories: dict[str, tuple[str, int]] = {}
    tags: Counter[str] = Counter()
    for entry in reader.scan(source):
        if isinstance(entry, Rejection):
            rejected.append(entry)
            continue
        result = reader.parse_file(entry, ctx)
        if isinstance(result, Rejection):
            rejected.append(result)
        if not isinstance(result, ParsedPost):
            continue
        count += 1
        for name, slug in zip(result.categories, result.guessed_slugs, strict=True):
            first, n = categories.get(slug, (name, 0))
            categories[slug] = (first, n + 1)
        tags.update(result.tags)
    return replace(
        site,
        posts=count,
        rejected=tuple(rejected),
        categories=dict(sorted(categories.items())),
        tags=dict(sorted(tags.items())),
    )
