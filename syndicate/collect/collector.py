"""Run every source once: scan, parse what changed, store in batches, withdraw what vanished.

Unchanged files are skipped on stat alone (path + size + mtime); a changed
stat is confirmed by hash before any parsing. Parsing runs in a process pool
when there is enough of it to pay for the workers; storing is one
transaction per batch in this process, so the slug registry stays single.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from .. import stopping
from ..config import Config, FeedSource, PostsSource
from ..model import CollectCounts, ParsedPost, Rejection
from ..store import Store, chunked, post_categories, post_tags, posts
from ..terms import CategoryRegistry, TagRegistry
from ..timeutil import now_utc, offset_minutes
from . import posts as post_files
from .save import link_terms, post_values

log = logging.getLogger(__name__)

BATCH = 500
POOL_THRESHOLD = 200

Progress = Callable[[int, int | None], None]  # (advance, total or None)


@dataclass
class SourceState:
    """What one source's collect knows while it stores results batch by batch."""

    source_id: int
    index: dict[str, IndexRow]
    guid_keys: dict[str, str]
    seen: set[str]
    ctx: post_files.ParseContext
    now: datetime
    counts: CollectCounts


@dataclass
class IndexRow:
    id: int
    guid: str
    size: int
    mtime_ns: int
    content_hash: str
    withdrawn: bool


def workers() -> int:
    env = os.environ.get("SYNDICATE_WORKERS")
    if env and env.isdigit():
        return max(1, int(env))
    return max(1, min(4, os.cpu_count() or 1))


def collect(
    cfg: Config,
    store: Store,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
    record: bool = True,
    force: bool = False,
) -> CollectCounts:
    """Collect every configured source; one bad source never stops the others.

    ``record=False`` when the daemon runs it: the job records its own run.
    ``force`` fetches every feed source now, even those not yet due.
    """
    now = now or now_utc()
    run_id = store.start_run("collect", "collect", now) if record else None
    total = CollectCounts()
    errors: list[str] = []
    feed_sources = [s for s in cfg.sources if isinstance(s, FeedSource)]
    if feed_sources:
        from .feeds import collect_feed_sources

        total.add(collect_feed_sources(cfg, store, feed_sources, now=now, force=force))
    for source in cfg.sources:
        if isinstance(source, FeedSource):
            continue
        try:
            counts = collect_posts(cfg, store, source, now=now, progress=progress)
        except post_files.SourceError as exc:
            log.error("source %s: %s", source.label, exc)
            errors.append(f"{source.label}: {exc}")
            total.rejections.append(Rejection(source.label, str(exc)))
            total.rejected += 1
            continue
        total.add(counts)
    outcome = "error" if errors else ("partial" if total.rejected else "ok")
    if run_id is None:
        return total
    store.finish_run(
        run_id,
        now_utc(),
        outcome,
        summary_counts(total),
        "\n".join(errors + [f"{r.path}: {r.reason}" for r in total.rejections[:200]]) or None,
    )
    return total


def summary_counts(c: CollectCounts) -> dict[str, int]:
    return {
        "files": c.files,
        "new": c.new,
        "updated": c.updated,
        "unchanged": c.unchanged,
        "withdrawn": c.withdrawn,
        "rejected": c.rejected,
        "skipped": c.skipped,
    }


def _parse_all(
    entries: list[post_files.FileEntry], ctx: post_files.ParseContext
) -> Iterator[tuple[post_files.FileEntry, post_files.ParseResult]]:
    n = workers()
    if n > 1 and len(entries) >= POOL_THRESHOLD:
        with ProcessPoolExecutor(max_workers=n) as pool:
            chunk = max(16, min(256, len(entries) // (n * 8) or 1))
            parsed = pool.map(partial(post_files.parse_file, ctx=ctx), entries, chunksize=chunk)
            yield from zip(entries, parsed, strict=True)
    else:
        for entry in entries:
            yield entry, post_files.parse_file(entry, ctx)


def collect_posts(
    cfg: Config,
    store: Store,
    source: PostsSource,
    *,
    now: datetime,
    progress: Progress | None = None,
) -> CollectCounts:
    counts = CollectCounts()
    with store.begin() as conn:
        source_id = store.source_id(conn, source.label, "posts", str(source.posts))
        known = CategoryRegistry(conn, cfg.categories).snapshot()
        index = _load_index(conn, source_id)
    seen: set[str] = set()
    todo: list[post_files.FileEntry] = []
    for item in post_files.scan(source):
        counts.files += 1
        if isinstance(item, Rejection):
            counts.rejected += 1
            counts.rejections.append(item)
            log.warning("rejected %s: %s", item.path, item.reason)
            seen.add(item.path)
            continue
        seen.add(item.key)
        row = index.get(item.key)
        if row and not row.withdrawn and (row.size, row.mtime_ns) == (item.size, item.mtime_ns):
            counts.unchanged += 1
            continue
        todo.append(replace(item, known_hash=row.content_hash if row and not row.withdrawn else ""))
    if progress:
        progress(counts.unchanged, counts.files)

    ctx = post_files.context(cfg.site, source, now, known)
    state = SourceState(
        source_id, index, {row.guid: key for key, row in index.items()}, seen, ctx, now, counts
    )
    results = _parse_all(todo, ctx)
    for batch in chunked(results, BATCH):
        if stopping.requested():
            log.warning("stop requested: %s left for the next collect", source.label)
            break
        with store.begin() as conn:
            cats = CategoryRegistry(conn, cfg.categories)
            tags = TagRegistry(conn)
            for entry, result in batch:
                _apply(conn, state, entry, result, cats, tags)
        if progress:
            progress(len(batch), None)

    vanished = [k for k, row in index.items() if k not in seen and not row.withdrawn]
    with store.begin() as conn:
        for keys in chunked(vanished, BATCH):
            conn.execute(
                update(posts)
                .where(posts.c.source_id == source_id, posts.c.key.in_(keys))
                .values(withdrawn=True, withdrawn_at=now, changed_at=now)
            )
    for key in vanished:
        log.info("withdrawn %s (file is gone)", key)
    counts.withdrawn += len(vanished)
    return counts


def _load_index(conn: Connection, source_id: int) -> dict[str, IndexRow]:
    rows = conn.execute(
        select(
            posts.c.key,
            posts.c.id,
            posts.c.guid,
            posts.c.size,
            posts.c.mtime_ns,
            posts.c.content_hash,
            posts.c.withdrawn,
        ).where(posts.c.source_id == source_id)
    )
    return {
        r.key: IndexRow(r.id, r.guid, r.size, r.mtime_ns, r.content_hash, bool(r.withdrawn))
        for r in rows
    }


def _apply(
    conn: Connection,
    state: SourceState,
    entry: post_files.FileEntry,
    result: post_files.ParseResult,
    cats: CategoryRegistry,
    tags: TagRegistry,
) -> None:
    index, guid_keys, counts, now = state.index, state.guid_keys, state.counts, state.now
    row = index.get(entry.key)
    if isinstance(result, Rejection):
        counts.rejected += 1
        counts.rejections.append(result)
        log.warning("rejected %s: %s", result.path, result.reason)
        return  # a stored version stays as it was
    if isinstance(result, post_files.Skip):
        counts.skipped += 1
        state.seen.discard(entry.key)  # hidden: withdrawn if it was published
        log.info("skipped %s: %s", entry.key, result.reason)
        return
    if isinstance(result, post_files.Unchanged):
        assert row is not None
        conn.execute(
            update(posts)
            .where(posts.c.id == row.id)
            .values(size=result.size, mtime_ns=result.mtime_ns)
        )
        row.size, row.mtime_ns = result.size, result.mtime_ns
        counts.unchanged += 1
        return

    slugs = [cats.resolve(name) for name in result.categories]
    if slugs != result.guessed_slugs:
        # a pinyin collision resolved differently from the worker's guess
        ctx2 = replace(state.ctx, known_categories=cats.snapshot())
        again = post_files.parse_file(replace(entry, known_hash=""), ctx2)
        if not isinstance(again, ParsedPost):
            return _apply(conn, state, entry, again, cats, tags)
        result = again
    for slug in slugs:
        cats.name_from_credit(slug, result.source_name)
    tag_slugs = [tags.resolve(t) for t in result.tags if t]

    if row is None and result.guid in guid_keys:
        other = guid_keys[result.guid]
        other_row = index[other]
        if other in state.seen and not other_row.withdrawn:
            msg = f"same permalink id as {other} ({result.guid})"
            counts.rejected += 1
            counts.rejections.append(Rejection(entry.key, msg))
            log.warning("rejected %s: %s", entry.key, msg)
            return
        # the file was moved: keep its row (and its id) under the new key
        conn.execute(update(posts).where(posts.c.id == other_row.id).values(key=entry.key))
        index[entry.key] = row = other_row
        del index[other]
        guid_keys[result.guid] = entry.key
        row.content_hash = ""  # force the update below

    values = post_values(result)
    if row is None:
        res = conn.execute(
            posts.insert().values(
                source_id=state.source_id,
                key=entry.key,
                guid=result.guid,
                first_seen=now,
                changed_at=now,
                withdrawn=False,
                **values,
            )
        )
        post_id = int(res.inserted_primary_key[0])
        index[entry.key] = IndexRow(
            post_id, result.guid, result.size, result.mtime_ns, result.content_hash, False
        )
        guid_keys[result.guid] = entry.key
        counts.new += 1
    else:
        post_id = row.id
        if result.updated is None:
            # edited in place: its updated time is now, in the post's own offset
            values["updated"] = now
            values["updated_offset"] = offset_minutes(result.date)
        conn.execute(
            update(posts)
            .where(posts.c.id == post_id)
            .values(withdrawn=False, withdrawn_at=None, changed_at=now, **values)
        )
        row.size, row.mtime_ns, row.content_hash = result.size, result.mtime_ns, result.content_hash
        row.withdrawn = False
        counts.updated += 1
        conn.execute(delete(post_categories).where(post_categories.c.post_id == post_id))
        conn.execute(delete(post_tags).where(post_tags.c.post_id == post_id))
    link_terms(conn, post_id, slugs, tag_slugs)
