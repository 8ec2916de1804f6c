"""A feed's HTML page (``<key>.html``): what a browser shows for a feed, now that XSLT is gone.

Browsers are dropping XSLT, so a feed can no longer style itself into a
page. The build writes each feed's page beside it, from the posts it has
just rendered the feed from (no query of its own, and only when that feed
is rendered), and ``syndicate serve`` answers a browser asking for the
feed's URL with it (``web/static.py``). Invariants: the page holds no script
and loads nothing (its CSS is inline), so the strict CSP of ``serve``
holds; its links are absolute, so the same bytes work at ``/feeds/x.atom``,
at ``/feeds/x.html`` and opened from disk.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import i18n
from ..config import Config
from ..model import Post
from ..templating import template
from . import layout
from .formats import FeedSpec
from .listing import feed_links

TEMPLATE = "feed.html.j2"
PAGE = "html"  # the suffix of a feed's page: <key>.html


def page_bytes(cfg: Config, spec: FeedSpec, posts: Sequence[Post]) -> bytes:
    """The page of one feed, newest entry first, as the feed lists them."""
    tz, language = cfg.site.tz, cfg.site.language
    entries = [
        {
            "title": post.display_title,
            "link": post.link,
            "date": i18n.format_moment(language, post.date, tz),
            "iso": post.date.isoformat(),
            "summary": post.summary,
        }
        for post in posts
    ]
    links = feed_links(cfg, spec)
    html = template(TEMPLATE, cfg.templates, language=cfg.site.language).render(
        site=cfg.site,
        feed=spec,
        address=links[0]["href"] if links else "",
        links=links,
        entries=entries,
        index_url=layout.file_url(cfg, layout.index_file(cfg)),
    )
    return html.encode("utf-8")
