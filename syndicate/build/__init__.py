"""The feed builder: store → feeds/ (RSS, Atom, JSON Feed, OPML, index page, XSL, snippets).

A build first compares a fingerprint of the store's content and the config
with the one recorded by the last build: when nothing changed it writes
nothing at all. Otherwise every file is rendered and written only if its
bytes differ, so a new post rewrites just the feeds that contain it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .. import __version__
from ..config import Config
from ..slugs import SLUG_RE
from ..store import Store
from ..templating import package_file
from ..terms import CategoryRegistry
from .feeds import EPOCH, RENDERERS, FeedSpec, feed_updated
from .pages import Listing, index_bytes, opml_bytes, snippet
from .websub import ping
from .writer import Output

log = logging.getLogger(__name__)
FINGERPRINT_KEY = "build_fingerprint"
TEMPLATES = ("index.html.j2", "snippet.html.j2", "feed.xsl")


@dataclass
class BuildResult:
    feeds: int = 0
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: bool = False
    index: Path | None = None
    ping_errors: list[str] = field(default_factory=list)
    snippets: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.written)


def _page_url(cfg: Config, pattern: str, slug: str) -> str:
    return cfg.site.url + pattern.replace(":slug", slug)


def specs(cfg: Config, store: Store) -> list[FeedSpec]:
    site = cfg.site
    excerpt = set(cfg.feeds.excerpt_only_for)
    out = [
        FeedSpec(
            key="all",
            title=site.title,
            name="全部文章" if site.language.startswith("zh") else "All posts",
            home_url=site.url + "/",
            description=site.description or site.title,
            excerpt_only=cfg.feeds.excerpt_only or "all" in excerpt,
        )
    ]
    for cat in store.all_categories():
        if not SLUG_RE.match(cat.slug):  # never let a slug become a path
            log.error("skipping category with unsafe slug %r", cat.slug)
            continue
        out.append(
            FeedSpec(
                key=cat.slug,
                title=f"{site.title} · {cat.name}",
                name=cat.name,
                home_url=_page_url(cfg, cfg.feeds.category_url, cat.slug),
                description=f"{site.title}「{cat.name}」栏目",
                excerpt_only=cfg.feeds.excerpt_only or cat.slug in excerpt,
            )
        )
    if cfg.feeds.tags:
        for tag in store.all_tags():
            if not SLUG_RE.match(tag.slug):
                continue
            out.append(
                FeedSpec(
                    key=f"tags/{tag.slug}",
                    title=f"{site.title} · #{tag.name}",
                    name=f"#{tag.name}",
                    home_url=_page_url(cfg, cfg.feeds.tag_url, tag.slug),
                    description=f"{site.title}：标签「{tag.name}」",
                    excerpt_only=cfg.feeds.excerpt_only,
                )
            )
    return out


def all_snippets(cfg: Config, store: Store) -> dict[str, str]:
    return {spec.key: snippet(cfg, spec) for spec in specs(cfg, store) if spec.key != "all"}


def _fingerprint(cfg: Config, store: Store) -> str:
    state = {
        "version": __version__,
        "site": cfg.site.model_dump(mode="json"),
        "feeds": cfg.feeds.model_dump(mode="json"),
        "categories": cfg.categories,
        "templates": [hashlib.sha256(package_file(t)).hexdigest() for t in TEMPLATES],
        "store": store.content_state(),
    }
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()


def build(cfg: Config, store: Store, *, force: bool = False) -> BuildResult:
    with store.begin() as conn:
        CategoryRegistry(conn, cfg.categories)  # config display names win
    root = Path(cfg.feeds.dir)
    result = BuildResult(index=root / "index.html")
    fingerprint = _fingerprint(cfg, store)
    recorded = json.loads(store.get_meta(FINGERPRINT_KEY) or "{}")
    if (
        not force
        and recorded.get("fingerprint") == fingerprint
        and all((root / f).exists() for f in recorded.get("files", []))
    ):
        result.skipped = True
        result.feeds = recorded.get("feeds", 0)
        return result

    out = Output(root)
    listings: list[Listing] = []
    newest_overall: datetime = EPOCH
    stats = {s["slug"]: s for s in store.category_stats()}
    for spec in specs(cfg, store):
        posts = store.posts(
            category=None if spec.key == "all" or spec.key.startswith("tags/") else spec.key,
            tag=spec.key[5:] if spec.key.startswith("tags/") else None,
            limit=cfg.feeds.limit,
        )
        for fmt in cfg.feeds.formats:
            out.put(f"{spec.key}.{fmt}", RENDERERS[fmt](cfg, spec, posts))
        result.feeds += 1
        newest_overall = max(newest_overall, feed_updated(posts))
        if spec.key.startswith("tags/"):
            continue
        if spec.key == "all":
            count = store.count_posts(withdrawn=False)
        else:
            count = stats.get(spec.key, {}).get("posts", 0)
        listings.append(
            Listing(
                spec,
                count,
                posts[0].date if posts else None,
                posts[0].display_title if posts else "",
            )
        )
        if cfg.feeds.snippets and spec.key != "all":
            html = snippet(cfg, spec)
            result.snippets[spec.key] = html
            out.put(f"snippets/{spec.key}.html", html.encode("utf-8"))

    out.put("feeds.opml", opml_bytes(cfg, listings, newest_overall))
    out.put("index.html", index_bytes(cfg, listings, newest_overall))
    out.put("feed.xsl", package_file("feed.xsl"))
    result.written, result.unchanged = out.written, out.unchanged

    if cfg.feeds.hub:
        changed_feeds = [
            f"{cfg.feeds_base_url}{name}"
            for name in out.written
            if name.rsplit(".", 1)[-1] in RENDERERS
        ]
        result.ping_errors = ping(cfg.feeds.hub, changed_feeds)
    store.set_meta(
        FINGERPRINT_KEY,
        json.dumps(
            {
                "fingerprint": fingerprint,
                "files": sorted(out.written + out.unchanged),
                "feeds": result.feeds,
            }
        ),
    )
    return result
