"""Where each published file goes: the one mapping from (feed, format) to a path.

Two layouts (``feeds.layout``):

- ``syndicate`` (the default): ``all.atom``, ``<slug>.rss``, ``tags/<slug>.json``,
  ``index.html``, ``feeds.opml``, ``snippets/<slug>.html`` under ``feeds.dir``,
  published at ``site.url/feeds/``;
- ``jekyll-feed``: the paths jekyll-feed 0.17 gives the same feeds, published
  at the site root, so a site that replaces the plugin keeps every
  subscriber's URL: Atom at ``/feed.xml`` (or ``feed.path``), ``/feed/<category>.xml``
  with the category as ``feed.categories`` spells it, ``/feed/by_tag/<tag>.xml``
  (or ``feed.tags.path``). RSS and JSON Feed sit beside the Atom file with
  their own extension (``/feed.rss``, ``/feed/news.json``); the index page and
  the snippets go under ``feed/`` so that they never replace the site's own
  ``index.html``.

Invariants: every path is relative to ``feeds.dir`` and to ``feeds_base_url``
alike; a path is a pure function of the config and the feed's key and name,
so the build, the digest's links and ``serve`` agree without the store; the
feed's file without its extension (its *stem*) also decides the relative
``feed.css`` link, which sits at the top of ``feeds.dir`` in both layouts, and
the feed's HTML page, ``<stem>.html`` beside it.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from ..config import Config
from ..terms import guess_slug

JEKYLL = "jekyll-feed"
CSS_FILE = "feed.css"
OPML_FILE = "feeds.opml"
SUFFIXES = {
    "syndicate": {"rss": ".rss", "atom": ".atom", "json": ".json"},
    # jekyll-feed writes Atom only, as .xml; the other formats take their usual extension
    JEKYLL: {"rss": ".rss", "atom": ".xml", "json": ".json"},
}
# jekyll-feed skips a tag with any other character (generator.rb, generate_tag_feed)
JEKYLL_TAG_RE = re.compile(r"^[A-Za-z0-9_]+$")
URL_SAFE = "/:@!$&'()*+,;=-._~"


def jekyll(cfg: Config) -> bool:
    return cfg.feeds.layout == JEKYLL


def feed_file(cfg: Config, stem: str, fmt: str) -> str:
    """The file of one format of the feed whose stem is ``stem`` (any other format: ``.fmt``)."""
    return stem + SUFFIXES[cfg.feeds.layout].get(fmt, f".{fmt}")


def file_url(cfg: Config, path: str) -> str:
    """The public URL of a file under ``feeds.dir`` (a category's name may need escaping)."""
    return cfg.feeds_base_url + quote(path, safe=URL_SAFE)


def all_stem(cfg: Config) -> str:
    if not jekyll(cfg):
        return "all"
    return cfg.feeds.jekyll_feed.path.lstrip("/").removesuffix(".xml")


def category_slug(cfg: Config, name: str) -> str:
    """The slug a category named ``name`` gets, as ``terms.CategoryRegistry`` gives it.

    (The store gives another slug only to a pinyin collision, ``-2``: name such
    a category in ``categories``.)
    """
    return guess_slug(name, {display: slug for slug, display in cfg.categories.items()})


def category_stem(cfg: Config, slug: str) -> str:
    """``<slug>``, or jekyll-feed's ``feed/<name>`` with the name ``feed.categories`` gives."""
    if not jekyll(cfg):
        return slug
    for name in cfg.feeds.jekyll_feed.categories:
        if category_slug(cfg, name) == slug:
            return f"feed/{name}"
    # jekyll-feed writes only the listed categories; the others get theirs at the slug
    return f"feed/{slug}"


def tag_stem(cfg: Config, slug: str, name: str) -> str | None:
    """``tags/<slug>``, or jekyll-feed's ``feed/by_tag/<tag>``; None: no feed for this tag."""
    if not jekyll(cfg):
        return f"tags/{slug}"
    tags = cfg.feeds.jekyll_feed.tags
    if (tags.only is not None and name not in tags.only) or name in tags.except_:
        return None
    # jekyll-feed concatenates path and tag; a tag it would skip gets a feed at its slug
    return tags.path.lstrip("/") + (name if JEKYLL_TAG_RE.match(name) else slug)


def index_file(cfg: Config) -> str:
    return "feed/index.html" if jekyll(cfg) else "index.html"


def index_path(cfg: Config) -> str:
    """Where ``serve`` answers the index page: the URL path of ``index_file``'s folder."""
    return "/feed/" if jekyll(cfg) else "/feeds/"


def snippet_file(cfg: Config, key: str) -> str:
    return f"{'feed/' if jekyll(cfg) else ''}snippets/{key}.html"


def css_href(stem: str) -> str:
    """The stylesheet link of a feed file, relative so that a copied tree keeps working."""
    return "../" * stem.count("/") + CSS_FILE


def served_routes(cfg: Config) -> list[str]:
    """The URL paths (Starlette patterns) ``serve`` answers from ``feeds.dir`` at the root.

    Empty for the default layout, whose files are all under ``/feeds/``. The
    jekyll-feed layout's are at the site root beside the server's own pages,
    so only these are routed: the all-posts files, the two shared files,
    ``feed/…`` and the tag folder.
    """
    if not jekyll(cfg):
        return []
    stem = all_stem(cfg)
    routes = [f"/{feed_file(cfg, stem, fmt)}" for fmt in (*cfg.feeds.formats, "html")]
    routes += [f"/{CSS_FILE}", f"/{OPML_FILE}", "/feed/{path:path}"]
    tags = cfg.feeds.jekyll_feed.tags.path
    if cfg.feeds.tags and not tags.startswith("/feed/"):
        # "/tags/" → /tags/{path}; "/tag-" → /tag-{name} (jekyll-feed joins the strings);
        # "/" → /{name}.xml …, never a route that would take every path
        if tags == "/":
            suffixes = [SUFFIXES[JEKYLL][fmt] for fmt in cfg.feeds.formats] + [".html"]
            routes += [f"/{{name}}{suffix}" for suffix in suffixes]  # .html: the feed's page
        else:
            routes.append(tags + "{path:path}" if tags.endswith("/") else tags + "{name}")
    return list(dict.fromkeys(routes))


def feed_types(cfg: Config) -> dict[str, str]:
    """File suffixes that are feeds beyond .rss and .atom: jekyll-feed's Atom is ``.xml``."""
    return {".xml": "application/atom+xml"} if jekyll(cfg) else {}
