"""The feed builder: store → feeds/ (RSS, Atom, JSON Feed, feed pages, OPML, index, snippets).

A build first compares a fingerprint of the store's content and the config
with the one recorded by the last build: when nothing changed it writes
nothing at all. Otherwise each feed whose entries (ids and change times of
its newest ``limit`` posts) are what the last build rendered, with the same
config, templates and names, is left as it is; every other file is rendered
and written only if its bytes differ, so a new post re-renders and rewrites
just the feeds that contain it. ``--force`` renders everything.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .. import __version__, i18n, templating
from ..config import Config
from ..model import Post
from ..observe import metrics
from ..slugs import is_slug
from ..store import Store
from ..store.records import FeedHead
from ..terms import CategoryRegistry
from ..writer import Output
from . import layout
from .feedpage import PAGE, page_bytes
from .formats import EPOCH, FeedSpec, feed_updated, render
from .listing import Listing, index_bytes, opml_bytes, snippet, subscribe_snippet
from .websub import ping

log = logging.getLogger(__name__)
FINGERPRINT_KEY = "build_fingerprint"
# what the feed files depend on; each is the site folder's file, else the package's
TEMPLATES = (
    "index.html.j2",
    "snippet.html.j2",
    "feed.css",
    "feed.html.j2",
    "web/subscribe_form.html.j2",
)


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
            name=i18n.gettext(site.language, "All posts"),
            home_url=site.url + "/",
            description=site.description or site.title,
            excerpt_only=cfg.feeds.excerpt_only or "all" in excerpt,
            stem=layout.all_stem(cfg),
        )
    ]
    for cat in store.all_categories():
        if not is_slug(cat.slug):  # never let a slug become a path (or too long a name)
            log.error("skipping category with unsafe slug %r", cat.slug)
            continue
        out.append(
            FeedSpec(
                key=cat.slug,
                title=f"{site.title} · {cat.name}",
                name=cat.name,
                home_url=_page_url(cfg, cfg.feeds.category_url, cat.slug),
                description=i18n.gettext(
                    site.language, "The “{category}” section of {site}"
                ).format(category=cat.name, site=site.title),
                excerpt_only=cfg.feeds.excerpt_only or cat.slug in excerpt,
                stem=layout.category_stem(cfg, cat.slug),
            )
        )
    if cfg.feeds.tags:
        for tag in store.all_tags():
            if not is_slug(tag.slug):
                log.error("skipping tag with unsafe slug %r", tag.slug)
                continue
            stem = layout.tag_stem(cfg, tag.slug, tag.name)
            if stem is None:  # left out by jekyll-feed's feed.tags only/except
                continue
            out.append(
                FeedSpec(
                    key=f"tags/{tag.slug}",
                    title=f"{site.title} · #{tag.name}",
                    name=f"#{tag.name}",
                    home_url=_page_url(cfg, cfg.feeds.tag_url, tag.slug),
                    description=i18n.gettext(site.language, "{site}: tag “{tag}”").format(
                        tag=tag.name, site=site.title
                    ),
                    excerpt_only=cfg.feeds.excerpt_only,
                    stem=stem,
                )
            )
    return out


def all_snippets(cfg: Config, store: Store) -> dict[str, str]:
    out = {spec.key: snippet(cfg, spec) for spec in specs(cfg, store) if spec.key != "all"}
    form = signup_form(cfg, store)
    if form is not None:
        out["subscribe"] = subscribe_snippet(cfg, form)
    return out


def signup_form(cfg: Config, store: Store) -> dict[str, object] | None:
    """The sign-up form the index page and the snippet carry; None without digests."""
    if not cfg.digests:
        return None
    from ..digest.options import form_context  # the digest modules: only for a site with digests

    return form_context(cfg, store, action=f"{cfg.public_url}/subscribe")


def _config_state(cfg: Config) -> dict[str, object]:
    return {
        "version": __version__,
        "site": cfg.site.model_dump(mode="json"),
        "feeds": cfg.feeds.model_dump(mode="json"),
        "categories": cfg.categories,
        # the sign-up form on the index page: where it posts, which digests it offers
        "signup": [
            cfg.public_url,
            [[d.name, d.categories, d.offer_weekly] for d in cfg.digests],  # weekly: its radios
        ],
        # an edited (or new, or removed) override changes this, so the next build renders
        "templates": [
            hashlib.sha256(templating.read_bytes(t, cfg.templates)).hexdigest() for t in TEMPLATES
        ],
        "catalog": i18n.fingerprint(cfg.site.language),  # a new translation renders again
    }


def _hash(state: object) -> str:
    return hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()


def _fingerprint(cfg: Config, store: Store) -> str:
    return _hash({**_config_state(cfg), "store": store.content_state().as_json()})


def _shared_state(cfg: Config, store: Store) -> str:
    """What every feed depends on besides its own entries: config, templates, names.

    (A post's category and tag links only change with the post, which moves
    its ``changed_at``; category and tag names are shared by all feeds.)
    """
    names = {
        "categories": [[c.slug, c.name] for c in store.all_categories()],
        "tags": [[t.slug, t.name] for t in store.all_tags()],
    }
    return _hash({**_config_state(cfg), **names})


def _feed_state(spec: FeedSpec, heads: list[FeedHead]) -> str:
    """A feed's entries as ids and change times: equal means the same bytes would be rendered."""
    return _hash(
        [
            [spec.key, spec.title, spec.name, spec.home_url, spec.description, spec.excerpt_only],
            [[p.id, p.changed_at.isoformat()] for p in heads],
        ]
    )


def build(cfg: Config, store: Store, *, force: bool = False) -> BuildResult:
    with store.transaction() as tx:
        CategoryRegistry(store, tx).register_configured(cfg.categories)  # config names win
    root = Path(cfg.feeds.dir)
    result = BuildResult(index=root / layout.index_file(cfg))
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
    counts = store.category_counts()
    shared = _shared_state(cfg, store)
    previous: dict[str, str] = {}
    if not force and recorded.get("shared") == shared:
        previous = recorded.get("feed_states", {})
    states: dict[str, str] = {}
    feed_files: dict[str, str] = {}  # every feed file → its format, whatever the layout
    for spec in specs(cfg, store):
        category = None if spec.key == "all" or spec.key.startswith("tags/") else spec.key
        tag = spec.key[5:] if spec.key.startswith("tags/") else None
        limit = cfg.feeds.limit
        # enough for the index page and OPML
        heads = store.feed_heads(category=category, tag=tag, limit=limit)
        states[spec.key] = _feed_state(spec, heads)
        posts: Sequence[Post | FeedHead] = heads
        names = [spec.file(cfg, fmt) for fmt in cfg.feeds.formats]
        feed_files.update(zip(names, cfg.feeds.formats, strict=True))
        names.append(spec.file(cfg, PAGE))
        if previous.get(spec.key) == states[spec.key] and all((root / n).exists() for n in names):
            out.unchanged.extend(names)  # same entries as last time: same bytes, not rendered
        else:
            rendered = store.posts(category=category, tag=tag, limit=limit)
            for fmt, data in render(cfg, spec, rendered, cfg.feeds.formats).items():
                out.put(spec.file(cfg, fmt), data)
            out.put(spec.file(cfg, PAGE), page_bytes(cfg, spec, rendered))
            posts = rendered
        result.feeds += 1
        newest_overall = max(newest_overall, feed_updated(posts))
        if spec.key.startswith("tags/"):
            continue
        all_posts = spec.key == "all"
        count = store.count_posts(withdrawn=False) if all_posts else counts.get(spec.key, 0)
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
            out.put(layout.snippet_file(cfg, spec.key), html.encode("utf-8"))

    form = signup_form(cfg, store)
    if form is not None and cfg.feeds.snippets:
        html = subscribe_snippet(cfg, form)
        result.snippets["subscribe"] = html
        out.put(layout.snippet_file(cfg, "subscribe"), html.encode("utf-8"))
    out.put(layout.OPML_FILE, opml_bytes(cfg, listings, newest_overall))
    out.put(layout.index_file(cfg), index_bytes(cfg, listings, newest_overall, signup=form))
    out.put(layout.CSS_FILE, templating.read_bytes(layout.CSS_FILE, cfg.templates))
    result.written, result.unchanged = out.written, out.unchanged
    metrics.feeds_written(feed_files[n] for n in out.written if n in feed_files)

    if cfg.feeds.hub:
        changed_feeds = [layout.file_url(cfg, name) for name in out.written if name in feed_files]
        result.ping_errors = ping(cfg.feeds.hub, changed_feeds)
    store.set_meta(
        FINGERPRINT_KEY,
        json.dumps(
            {
                "fingerprint": fingerprint,
                "files": sorted(out.written + out.unchanged),
                "feeds": result.feeds,
                "shared": shared,
                "feed_states": states,
            }
        ),
    )
    return result
