"""Upstream RSS/Atom sources: fetch the due ones concurrently, parse and store one at a time.

Fetching is I/O and runs in threads, bounded in total and per host (a
site's two feeds are not hit by eight connections at once). Parsing and
storing happen in this thread as results arrive, one source per
transaction: feedparser's work is CPU-bound anyway, and the slug registry
stays single. A source that fails is recorded on its own row and counted as
rejected; the others go on.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from urllib.parse import urlsplit

from .. import __version__
from ..config import Config, FeedSource
from ..errors import FeedError, NameTaken
from ..model import CollectCounts, Rejection
from ..observe import metrics
from ..store import Store
from ..terms import CategoryRegistry, TagRegistry
from ..timeutil import now_utc, parse_duration
from . import feedstate
from .entries import assign_keys, parse_feed
from .fetch import Fetcher, FetchRequest, FetchResult
from .save import save_entries, stored_entries

log = logging.getLogger(__name__)

WORKERS = 8
PER_HOST = 2


def user_agent(cfg: Config) -> str:
    return f"syndicate/{__version__} (+{cfg.site.url})"


def collect_feed_sources(
    cfg: Config,
    store: Store,
    feed_sources: Sequence[FeedSource],
    *,
    now: datetime | None = None,
    force: bool = False,
    workers: int = WORKERS,
    per_host: int = PER_HOST,
) -> CollectCounts:
    """Fetch every due source (all of them with ``force``) and store what changed."""
    now = now or now_utc()
    counts = CollectCounts()
    states: dict[str, feedstate.FeedState] = {}
    due: list[FeedSource] = []
    for source in feed_sources:
        if source.label in states:
            _reject(counts, source.label, "another feed source has the same name")
            continue
        try:
            with store.transaction() as tx:
                states[source.label] = state = feedstate.load(store, tx, source)
        except NameTaken as exc:
            _reject(counts, source.label, str(exc))
            continue
        if feedstate.is_due(state, now, force):
            due.append(source)
    if not due:
        return counts
    with Fetcher(user_agent(cfg), max_connections=workers) as fetcher:
        for source, result in fetch_all(fetcher, due, states, workers, per_host):
            counts.add(_collect_one(cfg, store, source, states[source.label], result, now))
    return counts


def _request(source: FeedSource, state: feedstate.FeedState) -> FetchRequest:
    return FetchRequest(
        url=state.url,
        etag=state.etag,
        last_modified=state.last_modified,
        timeout=source.timeout,
        max_bytes=source.max_bytes,
        allow_private=source.allow_private,
    )


def fetch_all(
    fetcher: Fetcher,
    due: Sequence[FeedSource],
    states: dict[str, feedstate.FeedState],
    workers: int,
    per_host: int,
) -> Iterator[tuple[FeedSource, FetchResult]]:
    """Results in the order they arrive.

    Each host's sources are dealt into at most ``per_host`` lanes that run
    one fetch after another, so the per-host bound holds without a worker
    ever sitting blocked on a host that is busy.
    """
    by_host: dict[str, list[FeedSource]] = {}
    for source in due:
        host = (urlsplit(states[source.label].url).hostname or "").lower()
        by_host.setdefault(host, []).append(source)
    lanes: list[list[FeedSource]] = []
    for group in by_host.values():
        n = min(per_host, len(group))
        lanes.extend(group[i::n] for i in range(n))
    done: queue.Queue[tuple[FeedSource, FetchResult]] = queue.Queue()

    def run(lane: list[FeedSource]) -> None:
        for source in lane:
            request = _request(source, states[source.label])
            try:
                result = fetcher.fetch(request)
            except Exception as exc:  # a bug must not leave the collector waiting forever
                log.exception("%s: fetch failed", source.label)
                result = FetchResult("error", request.url, error=f"internal error: {exc!r}")
            done.put((source, result))

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(lanes)))) as pool:
        for lane in lanes:
            pool.submit(run, lane)
        for _ in range(len(due)):
            yield done.get()


def _collect_one(
    cfg: Config,
    store: Store,
    source: FeedSource,
    state: feedstate.FeedState,
    result: FetchResult,
    now: datetime,
) -> CollectCounts:
    every = parse_duration(source.every)
    try:
        counts = _store(cfg, store, source, state, result, now)
    except Exception as exc:  # one source's surprise must not stop the others
        log.exception("%s: could not store", source.label)
        counts = CollectCounts()
        result.outcome, result.error = "error", f"internal error: {exc!r}"
        with store.transaction() as tx:
            # (the in-memory state may hold rolled-back changes)
            state = feedstate.load(store, tx, source)
            feedstate.after_fetch(state, result, now, every)
            feedstate.save(store, tx, state)
    metrics.fetched(source.label, result.outcome)
    metrics.collected(source.label, counts)
    if result.success:
        log.info("%s: %s", source.label, state.last_result)
    else:
        _reject(counts, source.label, f"{result.url}: {state.last_result}")
    return counts


def _store(
    cfg: Config,
    store: Store,
    source: FeedSource,
    state: feedstate.FeedState,
    result: FetchResult,
    now: datetime,
) -> CollectCounts:
    """Entries and the source's new state, in one transaction: validators only with entries."""
    every = parse_duration(source.every)
    counts = CollectCounts()
    feed = None
    if result.outcome == "ok":
        try:
            feed = parse_feed(result.body, result.headers, result.url, cfg.site.tz)
        except FeedError as exc:
            result.outcome, result.error = "error", str(exc)
    with store.transaction() as tx:
        summary = ""
        if feed is not None:
            if feed.bozo:
                log.warning("%s: feed is malformed but usable: %s", source.label, feed.bozo)
            index = stored_entries(store, tx, state.source_id)
            counts = save_entries(
                store,
                tx,
                source_id=state.source_id,
                source=source,
                feed=feed,
                keyed=assign_keys(
                    feed.entries, {k: (e.link, e.content_hash) for k, e in index.items()}
                ),
                index=index,
                cats=CategoryRegistry(store, tx).register_configured(cfg.categories),
                tags=TagRegistry(store, tx),
                now=now,
                tz=cfg.site.tz,
            )
            summary = f"{counts.new} new, {counts.updated} updated"
        feedstate.after_fetch(state, result, now, every, summary)
        feedstate.save(store, tx, state)
    return counts


def _reject(counts: CollectCounts, label: str, reason: str) -> None:
    log.warning("feed source %s: %s", label, reason)
    metrics.rejected(label)
    counts.rejected += 1
    counts.rejections.append(Rejection(label, reason))
