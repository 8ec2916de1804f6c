"""What the collector remembers about each upstream feed, and how a fetch changes it.

The politeness rules live here as plain functions of (state, fetch result,
now), so they are tested without a network:

- success (200 or 304): fetch again after the source's ``every``;
- failure: wait ``every`` × 2^(failures-1), at most 24 h (or ``every`` if
  longer), and never give up;
- 429/503: no sooner than ``Retry-After`` (capped at 7 days, so a bad header
  cannot stop a source for good);
- 410: disabled until the ``feed:`` URL changes in schedule.yaml;
- a permanent redirect (301/308) replaces the URL in use once the same
  target was seen on 3 consecutive successful fetches; a failed fetch
  neither counts nor breaks the run; temporary redirects change nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from ..config import FeedSource
from ..errors import NameTaken
from ..store import Store, Tx
from ..store.records import FeedState
from .fetch import FetchResult

log = logging.getLogger(__name__)

KIND = "feed"
MAX_BACKOFF = timedelta(hours=24)
MAX_RETRY_AFTER = timedelta(days=7)
REDIRECT_CONFIRMATIONS = 3


__all__ = ["FeedState", "NameTaken"]


def load(store: Store, tx: Tx, source: FeedSource) -> FeedState:
    """The source's state, created on first sight and reset when its URL was edited."""
    row = store.source_row(tx, source.label)
    if row is not None and row.kind != KIND:
        raise NameTaken(f"the name {source.label!r} is already used by a {row.kind} source")
    if row is not None and row.state.location == source.feed and row.state.url:
        return row.state
    if row is None:
        source_id = store.add_source(tx, source.label, KIND, source.feed)
    else:
        source_id = row.state.source_id
        if row.state.url:
            log.info("%s: feed URL changed to %s: state reset", source.label, source.feed)
    state = FeedState(source_id, source.label, source.feed, source.feed)
    save(store, tx, state)
    return state


def save(store: Store, tx: Tx, state: FeedState) -> None:
    store.save_feed_state(tx, KIND, state)


def states(
    store: Store, configured: Iterable[FeedSource]
) -> list[tuple[FeedSource, FeedState | None]]:
    """For ``syndicate status``: read only, None for a source never collected."""
    out: list[tuple[FeedSource, FeedState | None]] = []
    with store.reading() as tx:
        for source in configured:
            row = store.source_row(tx, source.label)
            usable = row is not None and row.kind == KIND and row.state.url
            out.append((source, row.state if row is not None and usable else None))
    return out


def is_due(state: FeedState, now: datetime, force: bool = False) -> bool:
    if force:
        return True
    if state.disabled:
        return False
    return state.next_fetch is None or state.next_fetch <= now


def backoff(every: timedelta, failures: int) -> timedelta:
    cap = max(every, MAX_BACKOFF)
    if failures <= 0:
        return every
    # 2**n grows past any cap quickly; stop doubling before it overflows a timedelta
    grown: timedelta = every * (2 ** min(failures - 1, 20))
    return min(grown, cap)


def after_fetch(
    state: FeedState, result: FetchResult, now: datetime, every: timedelta, summary: str = ""
) -> None:
    """Apply one fetch's outcome (``summary`` says what was stored, for status)."""
    state.last_fetch = now
    if result.success:
        state.error_count = 0
        state.disabled = False
        state.retry_after = None
        state.next_fetch = now + every
        if result.outcome == "ok":
            state.etag, state.last_modified = result.etag, result.last_modified
            state.last_result = f"{result.status} ok" + (f": {summary}" if summary else "")
        else:
            state.last_result = "304 not modified"
        _track_redirect(state, result.permanent)
        return
    state.error_count += 1
    wait = backoff(every, state.error_count)
    reason = result.error or f"HTTP {result.status}"
    if result.outcome == "gone":
        state.disabled = True
        state.next_fetch = None
        state.last_result = f"{reason}: disabled until the feed URL changes"
        log.warning("%s: %s: disabled until its feed URL changes", state.name, reason)
        return
    if result.outcome == "retry_later" and result.retry_after is not None:
        asked = min(result.retry_after, MAX_RETRY_AFTER)
        state.retry_after = now + asked
        wait = max(wait, asked)
    state.next_fetch = now + wait
    state.last_result = f"error: {reason}"


def _track_redirect(state: FeedState, permanent: str | None) -> None:
    if not permanent or permanent == state.url:
        state.redirect_url, state.redirect_count = None, 0
        return
    if permanent == state.redirect_url:
        state.redirect_count += 1
    else:
        state.redirect_url, state.redirect_count = permanent, 1
    if state.redirect_count >= REDIRECT_CONFIRMATIONS:
        log.warning(
            "%s: moved permanently to %s (seen %d times in a row): using it",
            state.name,
            permanent,
            state.redirect_count,
        )
        state.url = permanent
        state.redirect_url, state.redirect_count = None, 0
