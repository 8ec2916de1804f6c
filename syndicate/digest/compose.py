"""What goes into an edition: the window, the posts first seen in it, grouped by category.

An edition is (digest, period, window end), one per period's slot
(``periods.py``). Its plan (post ids per category) is
stored with the edition, so a resumed edition mails the same articles even
if more posts arrived since. Each subscriber then sees the sections for the
categories they chose (a *variant*); a post listed in several categories
appears once, under the first of them the subscriber gets.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from .. import i18n
from ..config import Config, DigestConfig
from ..model import Category, Period, Post
from ..publish import layout
from ..store import Store
from ..timeutil import parse_duration
from . import ledger, periods

Variant = tuple[str, ...]  # section slugs a subscriber gets, in edition order


@dataclass(frozen=True)
class SectionPlan:
    slug: str
    name: str
    post_ids: tuple[int, ...]
    total: int  # posts of the category in the window; more than shown past max_per_category


@dataclass(frozen=True)
class EditionPlan:
    digest: str
    window_start: datetime | None
    window_end: datetime
    date: str  # the slot: the window end's local date, or the ISO week due (periods.py)
    sections: tuple[SectionPlan, ...]
    period: Period = Period.DAY

    @property
    def post_ids(self) -> list[int]:
        seen: dict[int, None] = {}
        for s in self.sections:
            seen.update(dict.fromkeys(s.post_ids))
        return list(seen)

    @property
    def item_count(self) -> int:
        return len(self.post_ids)

    @property
    def slugs(self) -> Variant:
        return tuple(s.slug for s in self.sections)

    def to_json(self) -> str:
        return json.dumps(
            [
                {"slug": s.slug, "name": s.name, "posts": list(s.post_ids), "total": s.total}
                for s in self.sections
            ],
            ensure_ascii=False,
        )

    @classmethod
    def from_row(cls, row: ledger.EditionRow) -> EditionPlan:
        sections = tuple(
            SectionPlan(s["slug"], s["name"], tuple(s["posts"]), int(s["total"]))
            for s in json.loads(row.items)
        )
        return cls(row.digest, row.window_start, row.window_end, row.date, sections, row.period)


@dataclass(frozen=True)
class ItemView:
    title: str
    url: str
    source: str
    date: str
    summary: str


@dataclass(frozen=True)
class SectionView:
    slug: str
    name: str
    url: str
    feed_url: str
    items: tuple[ItemView, ...]
    more: int = 0  # posts not shown: past max_per_category or cut for the size budget


@dataclass
class EditionView:
    """Everything a template shows about the edition, for one variant."""

    name: str
    date: str
    date_display: str
    window_start: datetime | None
    window_end: datetime
    archive_url: str
    sections: list[SectionView] = field(default_factory=list)
    period: str = Period.DAY.value  # "day" or "week", for a subject or template to tell apart

    @property
    def count(self) -> int:
        return sum(len(s.items) for s in self.sections)

    @property
    def first_title(self) -> str:
        for s in self.sections:
            for item in s.items:
                return item.title
        return ""


# -- window and plan ------------------------------------------------------


def local_date(cfg: Config, when: datetime) -> str:
    return when.astimezone(cfg.site.tz).strftime("%Y-%m-%d")


def window_start(
    store: Store, digest: DigestConfig, end: datetime, period: Period = Period.DAY
) -> datetime | None:
    """``since-last``: the end of the previous edition of this period (before the first:
    everything for a daily edition, the 7 days before for a weekly one); else end - duration."""
    if digest.window == "since-last":
        last = ledger.last_window_end(store, digest.name, before=end, period=period)
        return last if last is not None else periods.first_window(period, end)
    return end - parse_duration(digest.window)


def digest_categories(cfg: Config, store: Store, digest: DigestConfig) -> list[Category]:
    """The categories in section order: as listed, or config order then slug order for ``all``."""
    known = {c.slug: c for c in store.all_categories()}
    names = {**{s: c.name for s, c in known.items()}, **cfg.categories}
    if digest.categories == "all":
        order = [s for s in cfg.categories if s in known]
        order += [s for s in sorted(known) if s not in cfg.categories]
    else:
        order = list(digest.categories)
    return [Category(s, names.get(s, s)) for s in order]


def slot_of(cfg: Config, period: Period, end: datetime, due: datetime | None = None) -> str:
    """The edition's slot: a day by its window end, a week by when it was due (periods.py)."""
    return periods.slot(cfg, period, due if period is Period.WEEK and due else end)


def plan(
    cfg: Config,
    store: Store,
    digest: DigestConfig,
    end: datetime,
    period: Period = Period.DAY,
    due: datetime | None = None,
) -> EditionPlan:
    """The posts first seen in the window, newest first, at most max_per_category per category."""
    start = window_start(store, digest, end, period)
    sections = []
    for cat in digest_categories(cfg, store, digest):
        found = store.posts(
            category=cat.slug,
            first_seen_after=start,
            first_seen_until=end,
            limit=digest.max_per_category,
        )
        if not found:
            continue
        total = len(found)
        if total >= digest.max_per_category:
            total = _count(store, cat.slug, start, end)
        sections.append(SectionPlan(cat.slug, cat.name, tuple(p.id for p in found), total))
    return EditionPlan(
        digest.name, start, end, slot_of(cfg, period, end, due), tuple(sections), period
    )


def _count(store: Store, slug: str, start: datetime | None, end: datetime) -> int:
    return store.count_window_posts(slug, start, end)


def variant_for(plan: EditionPlan, categories: Iterable[str]) -> Variant:
    """The sections a subscriber gets; empty choices mean every category."""
    wanted = set(categories)
    if not wanted:
        return plan.slugs
    return tuple(s for s in plan.slugs if s in wanted)


# -- views ----------------------------------------------------------------


def absolute(url: str, base: str) -> str:
    """Mail clients have no base URL: every link is absolute http(s), anything else goes."""
    url = (url or "").strip()
    if url.startswith("//"):
        url = "https:" + url
    url = urljoin(base + "/", url)
    return url if urlsplit(url).scheme in ("http", "https") else base + "/"


def category_url(cfg: Config, slug: str) -> str:
    return absolute(cfg.feeds.category_url.replace(":slug", slug), cfg.site.url)


def feed_url(cfg: Config, slug: str) -> str:
    ext = "rss" if "rss" in cfg.feeds.formats else cfg.feeds.formats[0]
    return layout.file_url(cfg, layout.feed_file(cfg, layout.category_stem(cfg, slug), ext))


def archive_url(cfg: Config, name: str, date: str) -> str:
    return f"{cfg.feeds_base_url}digests/{name}/{date}.html"


def item_view(cfg: Config, post: Post) -> ItemView:
    return ItemView(
        title=post.display_title,
        url=absolute(post.link, cfg.site.url),
        source=post.source_name or post.author or cfg.site.title,
        date=post.date.astimezone(cfg.site.tz).strftime("%Y-%m-%d %H:%M"),
        summary=post.summary.strip(),
    )


def edition_view(
    cfg: Config, plan: EditionPlan, variant: Sequence[str], posts_by_id: dict[int, Post]
) -> EditionView:
    """The sections of one variant, each post once (under its first section here)."""
    wanted = set(variant)
    shown: set[int] = set()
    sections = []
    for s in plan.sections:
        if s.slug not in wanted:
            continue
        items = []
        for pid in s.post_ids:
            post = posts_by_id.get(pid)
            if post is None or pid in shown:  # withdrawn since, or already listed above
                continue
            shown.add(pid)
            items.append(item_view(cfg, post))
        more = max(0, s.total - len(s.post_ids))
        if items or more:
            sections.append(
                SectionView(
                    s.slug,
                    s.name,
                    category_url(cfg, s.slug),
                    feed_url(cfg, s.slug),
                    tuple(items),
                    more,
                )
            )
    end_local = plan.window_end.astimezone(cfg.site.tz)
    return EditionView(
        name=plan.digest,
        date=plan.date,
        date_display=_date_display(cfg, end_local),
        window_start=plan.window_start,
        window_end=plan.window_end,
        archive_url=archive_url(cfg, plan.digest, plan.date),
        sections=sections,
        period=plan.period.value,
    )


def _date_display(cfg: Config, when: datetime) -> str:
    """The edition's date as the locale writes it (``2026年12月3日``, ``December 3, 2026``)."""
    return i18n.format_date(cfg.site.language, when.date())


def load_posts(store: Store, plan: EditionPlan) -> dict[int, Post]:
    """The edition's posts, read once per edition (never per subscriber)."""
    ids = plan.post_ids
    if not ids:
        return {}
    return {p.id: p for p in store.posts(ids=ids)}
