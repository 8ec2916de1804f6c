"""Writing posts: the row values and term links every reader shares, and the feed-entry upsert.

Upstream entries are never withdrawn when they leave their feed: a feed
shows its newest N entries, so leaving it is the normal fate of an article,
not a deletion.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from ..config import FeedSource
from ..errors import SlugError
from ..model import CollectCounts, ParsedPost
from ..store import post_categories, post_tags, posts
from ..terms import CategoryRegistry, TagRegistry
from ..timeutil import offset_minutes, with_offset
from .clean import clean_html
from .entries import FeedEntry, ParsedFeed

log = logging.getLogger(__name__)

FUTURE_SLACK = timedelta(days=1)  # clocks and zones disagree; more than this is a wrong date
TITLE_CHARS = 60


def post_values(p: ParsedPost) -> dict[str, object]:
    updated = p.updated or p.date
    return {
        "link": p.link,
        "slug": p.slug,
        "title": p.title,
        "date": p.date,
        "date_offset": offset_minutes(p.date),
        "updated": updated,
        "updated_offset": offset_minutes(updated),
        "content_html": p.content_html,
        "summary": p.summary,
        "author": p.author,
        "source_name": p.source_name,
        "original_url": p.original_url,
        "path": p.path,
        "size": p.size,
        "mtime_ns": p.mtime_ns,
        "content_hash": p.content_hash,
    }


def link_terms(
    conn: Connection, post_id: int, slugs: Iterable[str], tag_slugs: Iterable[str]
) -> None:
    cat_rows = [
        {"post_id": post_id, "category_slug": s, "position": i}
        for i, s in enumerate(dict.fromkeys(slugs))
    ]
    tag_rows = [
        {"post_id": post_id, "tag_slug": s, "position": i}
        for i, s in enumerate(dict.fromkeys(tag_slugs))
    ]
    if cat_rows:
        conn.execute(post_categories.insert(), cat_rows)
    if tag_rows:
        conn.execute(post_tags.insert(), tag_rows)


@dataclass
class StoredEntry:
    id: int
    link: str
    content_hash: str
    first_seen: datetime
    updated: datetime


def stored_entries(conn: Connection, source_id: int) -> dict[str, StoredEntry]:
    rows = conn.execute(
        select(
            posts.c.key,
            posts.c.id,
            posts.c.link,
            posts.c.content_hash,
            posts.c.first_seen,
            posts.c.updated,
        ).where(posts.c.source_id == source_id)
    )
    return {r.key: StoredEntry(r.id, r.link, r.content_hash, r.first_seen, r.updated) for r in rows}


def to_post(
    entry: FeedEntry,
    key: str,
    *,
    feed: ParsedFeed,
    source: FeedSource,
    first_seen: datetime,
    now: datetime,
    tz: tzinfo,
) -> ParsedPost:
    """An upstream entry as a post: cleaned like local posts, dates made trustworthy."""
    link = entry.link or feed.link
    cleaned = clean_html(entry.html, base_url=link, rules=source.clean)
    seen_local = first_seen.astimezone(tz)
    date = entry.published or seen_local
    if date > now + FUTURE_SLACK:
        log.warning(
            "%s: entry %s dated %s is in the future: using %s",
            source.label,
            key,
            date.isoformat(),
            seen_local.isoformat(),
        )
        date = seen_local
    updated = entry.updated
    if updated is not None and (updated > now + FUTURE_SLACK or updated < date):
        updated = None
    title = entry.title
    if not title and cleaned.summary:  # titleless items (microblogs) read by their first words
        text = cleaned.summary
        title = text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…"
    from_feed = source.categories_from_feed
    return ParsedPost(
        key=key,
        guid=key,
        link=link,
        title=title,
        date=date,
        updated=updated,
        content_html=cleaned.html,
        summary=cleaned.summary,
        categories=([source.category] if source.category else [])
        + (entry.categories if from_feed else []),
        tags=[] if from_feed else list(entry.categories),
        author=entry.author,
        source_name=cleaned.source_name or feed.title,
        original_url=cleaned.original_url,
        content_hash=entry.content_hash,
    )


def _resolve(registry: CategoryRegistry | TagRegistry, names: list[str], label: str) -> list[str]:
    slugs = []
    for name in names:
        try:
            slugs.append(registry.resolve(name))
        except SlugError as exc:
            log.info("%s: category %r ignored: %s", label, name, exc)
    return slugs


def save_entries(
    conn: Connection,
    *,
    source_id: int,
    source: FeedSource,
    feed: ParsedFeed,
    keyed: list[tuple[str, FeedEntry]],
    index: dict[str, StoredEntry],
    cats: CategoryRegistry,
    tags: TagRegistry,
    now: datetime,
    tz: tzinfo,
) -> CollectCounts:
    """Insert new entries, update changed ones in place (id kept), leave the rest alone."""
    counts = CollectCounts(files=len(keyed))
    for key, entry in keyed:
        row = index.get(key)
        if row is not None and row.content_hash == entry.content_hash:
            counts.unchanged += 1
            continue
        first_seen = row.first_seen if row else now
        post = to_post(entry, key, feed=feed, source=source, first_seen=first_seen, now=now, tz=tz)
        slugs = _resolve(cats, post.categories, source.label)
        credit = post.source_name if post.source_name != feed.title else ""
        for slug in slugs:
            cats.name_from_credit(slug, credit)
        tag_slugs = _resolve(tags, post.tags, source.label)
        values = post_values(post)
        if row is None:
            res = conn.execute(
                posts.insert().values(
                    source_id=source_id,
                    key=key,
                    guid=key,
                    first_seen=now,
                    changed_at=now,
                    withdrawn=False,
                    **values,
                )
            )
            pk = res.inserted_primary_key
            assert pk is not None  # an insert of one row always has one
            post_id = int(pk[0])
            updated = post.updated or post.date
            index[key] = StoredEntry(post_id, post.link, entry.content_hash, now, updated)
            counts.new += 1
        else:
            post_id = row.id
            if post.updated is None or post.updated <= row.updated:
                # edited upstream without a newer <updated>: it changed now, in its own offset
                values["updated"] = with_offset(now, offset_minutes(post.date))
                values["updated_offset"] = offset_minutes(post.date)
            conn.execute(
                update(posts)
                .where(posts.c.id == post_id)
                .values(withdrawn=False, withdrawn_at=None, changed_at=now, **values)
            )
            row.content_hash, row.link = entry.content_hash, post.link
            counts.updated += 1
            conn.execute(delete(post_categories).where(post_categories.c.post_id == post_id))
            conn.execute(delete(post_tags).where(post_tags.c.post_id == post_id))
        link_terms(conn, post_id, slugs, tag_slugs)
    return counts
