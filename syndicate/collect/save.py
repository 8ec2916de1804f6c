"""Writing posts: the row values and term links every reader shares, and the feed-entry upsert.

Upstream entries are never withdrawn when they leave their feed: a feed
shows its newest N entries, so leaving it is the normal fate of an article,
not a deletion.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo

from ..config import FeedSource
from ..errors import SlugError
from ..model import CollectCounts, ParsedPost
from ..store import Store, Tx
from ..store.content import post_columns
from ..store.records import NewPost, StoredEntry
from ..terms import CategoryRegistry, TagRegistry
from ..timeutil import offset_minutes, with_offset
from .clean import clean_html
from .entries import FeedEntry, ParsedFeed

log = logging.getLogger(__name__)

FUTURE_SLACK = timedelta(days=1)  # clocks and zones disagree; more than this is a wrong date
TITLE_CHARS = 60


# the posts columns a parsed post sets (the store's; kept under this name for the readers)
post_values = post_columns

__all__ = ["StoredEntry", "post_values"]


def stored_entries(store: Store, tx: Tx, source_id: int) -> dict[str, StoredEntry]:
    return store.stored_entries(tx, source_id)


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
    store: Store,
    tx: Tx,
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
        if row is None:
            post_id = store.add_post(tx, source_id, NewPost(key, post, now, slugs, tag_slugs))
            updated = post.updated or post.date
            index[key] = StoredEntry(post_id, post.link, entry.content_hash, now, updated)
            counts.new += 1
        else:
            edited_at = None
            if post.updated is None or post.updated <= row.updated:
                # edited upstream without a newer <updated>: it changed now, in its own offset
                edited_at = with_offset(now, offset_minutes(post.date))
            store.update_post(
                tx,
                row.id,
                post,
                changed_at=now,
                edited_at=edited_at,
                categories=slugs,
                tags=tag_slugs,
            )
            index[key] = replace(row, content_hash=entry.content_hash, link=post.link)
            counts.updated += 1
    return counts
