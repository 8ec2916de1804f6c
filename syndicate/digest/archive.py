"""The public archive: each edition's HTML without personal data, and an Atom feed of them.

Files go under ``<feeds.dir>/digests/<name>/`` so the site publishes them
with the feeds; they are written atomically and only when their bytes
change, and every timestamp comes from the editions, never from the clock.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from feedgen.feed import FeedGenerator

from .. import i18n
from ..config import Config, DigestConfig
from ..store import Store
from ..writer import write_if_changed
from . import ledger
from .compose import archive_url


def folder(cfg: Config, name: str) -> Path:
    return cfg.feeds.dir / "digests" / name


def write_edition(cfg: Config, name: str, date: str, html: str) -> Path:
    path = folder(cfg, name) / f"{date}.html"
    write_if_changed(path, html.encode("utf-8"))
    return path


def _second(when: datetime) -> datetime:
    return when.replace(microsecond=0)


def write_feed(cfg: Config, store: Store, digest: DigestConfig, limit: int = 50) -> Path:
    """Atom feed of the newest editions; its updated time is the newest edition's window end."""
    path = folder(cfg, digest.name) / "index.atom"
    past = ledger.history(store, digest.name, limit)
    if not past:
        return path
    base = f"{cfg.feeds_base_url}digests/{digest.name}/"
    fg = FeedGenerator()
    fg.id(base)
    fg.title(f"{cfg.site.title} · {digest.name}")
    fg.subtitle(
        i18n.gettext(cfg.site.language, "Past editions of the {digest} digest of {site}").format(
            digest=digest.name, site=cfg.site.title
        )
    )
    fg.link(href=f"{base}index.atom", rel="self", type="application/atom+xml")
    fg.link(href=cfg.site.url + "/", rel="alternate", type="text/html")
    fg.language(cfg.site.language)
    if cfg.site.author:
        fg.author({"name": cfg.site.author})
    fg.updated(_second(past[0].window_end))
    for e in past:
        url = archive_url(cfg, digest.name, e.date)
        entry = fg.add_entry(order="append")
        entry.id(url)
        entry.title(e.subject or f"{digest.name} {e.date}")
        entry.link(href=url, rel="alternate", type="text/html")
        entry.published(_second(e.window_end))
        entry.updated(_second(e.window_end))
        if e.summary:
            entry.summary(e.summary)
    write_if_changed(path, fg.atom_str(pretty=True))
    return path
