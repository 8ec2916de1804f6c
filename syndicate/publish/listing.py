"""The files around the feeds: OPML, the index page, autodiscovery and sign-up snippets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from lxml import etree

from .. import i18n
from ..config import Config
from ..templating import template
from . import layout
from .formats import MEDIA_TYPES, FeedSpec

FORMAT_LABELS = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}


@dataclass
class Listing:
    """One feed as the index page and OPML show it."""

    spec: FeedSpec
    posts: int
    newest: datetime | None
    newest_title: str


def feed_links(cfg: Config, spec: FeedSpec) -> list[dict[str, str]]:
    return [
        {
            "format": fmt,
            "label": FORMAT_LABELS[fmt],
            "type": MEDIA_TYPES[fmt],
            "href": spec.self_url(cfg, fmt),
            "title": f"{spec.title} ({FORMAT_LABELS[fmt]})",
        }
        for fmt in cfg.feeds.formats
    ]


def snippet(cfg: Config, spec: FeedSpec) -> str:
    """``<link rel="alternate">`` tags for the site's own category page."""
    # the site folder's snippet.html.j2, else the package's (jinja2 is imported only here)
    return template("snippet.html.j2", cfg.templates, language=cfg.site.language).render(
        links=feed_links(cfg, spec)
    )


def opml_bytes(cfg: Config, listings: list[Listing], updated: datetime) -> bytes:
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    # feed readers show it as the name of what an import added: in the site's language
    heading = i18n.gettext(cfg.site.language, "{title} feeds").format(title=cfg.site.title)
    etree.SubElement(head, "title").text = heading
    etree.SubElement(head, "dateModified").text = format_datetime(updated)
    if cfg.site.author:
        etree.SubElement(head, "ownerName").text = cfg.site.author
    body = etree.SubElement(opml, "body")
    for item in listings:
        spec = item.spec
        group = etree.SubElement(body, "outline", text=spec.name, title=spec.name)
        for link in feed_links(cfg, spec):
            if link["format"] == "json":
                continue  # OPML readers subscribe to XML feeds
            etree.SubElement(
                group,
                "outline",
                type="rss",
                text=f"{spec.name} ({link['label']})",
                title=f"{spec.name} ({link['label']})",
                xmlUrl=link["href"],
                htmlUrl=spec.home_url,
                language=cfg.site.language,
            )
    return etree.tostring(opml, pretty_print=True, encoding="UTF-8", xml_declaration=True)


def subscribe_snippet(cfg: Config, form: dict[str, Any]) -> str:
    """The sign-up form on its own, to paste into a page of the site (it posts to serve)."""
    return template("web/subscribe_form.html.j2", cfg.templates, language=cfg.site.language).render(
        signup=form
    )


def index_bytes(
    cfg: Config,
    listings: list[Listing],
    updated: datetime,
    *,
    signup: dict[str, Any] | None = None,
) -> bytes:
    tz = cfg.site.tz
    rows = []
    for item in listings:
        rows.append(
            {
                "name": item.spec.name,
                "key": item.spec.key,
                "home_url": item.spec.home_url,
                "posts": item.posts,
                "newest": i18n.format_datetime(cfg.site.language, item.newest, tz)
                if item.newest
                else "",
                "newest_title": item.newest_title,
                "links": feed_links(cfg, item.spec),
                "page": item.spec.page_url(cfg),
            }
        )
    html = template("index.html.j2", cfg.templates, language=cfg.site.language).render(
        site=cfg.site,
        rows=rows,
        opml_url=layout.file_url(cfg, layout.OPML_FILE),
        updated=i18n.format_datetime(cfg.site.language, updated, tz),
        signup=signup,
    )
    return html.encode("utf-8")
