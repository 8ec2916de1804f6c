"""Run every source once: scan, parse what changed, store in batches, withdraw what vanished.

Unchanged files are skipped on stat alone (path + size + mtime); a changed
stat is confirmed by hash before any parsing. Parsing runs in a process pool
when there is enough of it to pay for the workers; storing is one
transaction per batch in this process, so the slug registry stays single.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from .. import logs, stopping
from ..config import Config, FeedSource, PostsSource
from ..errors import SourceError
from ..model import CollectCounts, ParsedPost, Rejection, RunOutcome
from ..observe import metrics
from ..store import Store, Tx, chunked, process_alive
from ..store.records import IndexRow, NewPost
from ..terms import RANK_CREDIT, CategoryRegistry, TagRegistry
from ..timeutil import now_utc
from . import posts as post_files
from .titles import retitle_stored

if TYPE_CHECKING:
    from concurrent.futures import Future

# (the process pool and .save, which loads feedparser, are imported where posts
# are parsed and stored: a no-op collect needs neither)

log = logging.getLogger(__name__)

BATCH = 500
POOL_THRESHOLD = 200
ANALYZE_AFTER = 1000  # posts written in one collect (and a quarter of the source) before ANALYZE

Progress = Callable[[int, int | None], None]  # (advance, total or None)
# parse chunks queued per worker: enough to keep them busy, few enough to bound memory
IN_FLIGHT = 3


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
    credits: set[tuple[str, str]] = field(default_factory=set)  # name_from_credit calls made
    pending: PendingInserts = field(default_factory=lambda: PendingInserts())


class PendingInserts:
    """New posts of the current batch, inserted together when the batch ends.

    One executemany for the batch's posts and one for each link table
    (``Store.insert_posts``), instead of three statements per post: with
    SQLAlchemy building each single-row statement, the per-post round trips
    were a third of the main process's work in a cold collect. The new ids
    then go into the index rows (id 0 until then).
    """

    def __init__(self) -> None:
        self.posts: list[NewPost] = []
        self.rows: list[IndexRow] = []

    def add(self, new: NewPost, row: IndexRow) -> None:
        self.posts.append(new)
        self.rows.append(row)

    def flush(self, store: Store, tx: Tx, source_id: int) -> None:
        if not self.posts:
            return
        ids = store.insert_posts(tx, source_id, self.posts)
        for row, post_id in zip(self.rows, ids, strict=True):
            row.id = post_id
        self.posts, self.rows = [], []


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent: int, *, prctl: bool = True) -> None:
    """Pool initializer: end this worker as soon as the collect that started it is gone.

    A collect killed with SIGKILL runs no cleanup, and its workers, blocked on
    the pool's queue (whose write end they hold themselves, being forked), would
    otherwise live on with their ~100 MB each. On Linux the kernel kills the
    worker when its parent dies (PR_SET_PDEATHSIG); elsewhere, or if prctl is
    refused, a daemon thread watches for the worker being reparented. (The
    kernel's parent is the thread that forked: the one running this collect,
    which outlives the pool.)

    ``parent`` is the collect's pid: if it is already gone (it died before
    prctl could take effect, which prctl does not catch), exit at once. Under
    the forkserver start method the direct parent is the fork server, which
    itself exits with the collect.
    """
    armed = prctl and _set_pdeathsig(signal.SIGKILL)
    ppid = os.getppid()
    if ppid != parent and not process_alive(parent):
        os._exit(1)
    if not armed:
        threading.Thread(
            target=_exit_when_orphaned, args=(ppid,), name="watch-parent", daemon=True
        ).start()


def _set_pdeathsig(sig: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _exit_when_orphaned(ppid: int, interval: float = 0.5) -> None:
    """Exit the worker once its parent changes (the parent died; it lives as long as we do)."""
    while os.getppid() == ppid:
        time.sleep(interval)
    os._exit(1)


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
    only: str | None = None,
) -> CollectCounts:
    """Collect every configured source; one bad source never stops the others.

    ``record=False`` when the daemon runs it: the job records its own run.
    ``force`` fetches every feed source now, even those not yet due.
    ``only`` names one source (its label): a queue task collects one source.
    """
    now = now or now_utc()
    run_id = store.start_run("collect", "collect", now) if record else None
    try:
        return _collect(cfg, store, run_id, now=now, progress=progress, force=force, only=only)
    except BaseException as exc:
        # record the real end (not left "running" for the next command to guess)
        if run_id is not None:
            outcome = (
                RunOutcome.INTERRUPTED if isinstance(exc, KeyboardInterrupt) else RunOutcome.ERROR
            )
            with contextlib.suppress(Exception):  # a broken store must not hide the error
                store.finish_run(run_id, now_utc(), outcome, {}, logs.describe(exc, store.label))
        raise


def _collect(
    cfg: Config,
    store: Store,
    run_id: int | None,
    *,
    now: datetime,
    progress: Progress | None,
    force: bool,
    only: str | None = None,
) -> CollectCounts:
    total = CollectCounts()
    errors: list[str] = []
    sources = [s for s in cfg.sources if only is None or s.label == only]
    feed_sources = [s for s in sources if isinstance(s, FeedSource)]
    if feed_sources:
        from .upstream import collect_feed_sources

        total.add(collect_feed_sources(cfg, store, feed_sources, now=now, force=force))
    if any(not isinstance(s, FeedSource) for s in sources):
        retitle_stored(store, now)  # titles read before they were made text (once per store)
    for source in sources:
        if isinstance(source, FeedSource):
            continue
        try:
            counts = collect_posts(cfg, store, source, now=now, progress=progress)
        except SourceError as exc:
            log.error("source %s: %s", source.label, exc)
            errors.append(f"{source.label}: {exc}")
            total.rejections.append(Rejection(source.label, str(exc)))
            total.rejected += 1
            metrics.rejected(source.label)
            continue
        metrics.collected(source.label, counts)
        total.add(counts)
    outcome = (
        RunOutcome.ERROR if errors else (RunOutcome.PARTIAL if total.rejected else RunOutcome.OK)
    )
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


def _parse_chunk(
    entries: list[post_files.FileEntry], ctx: post_files.ParseContext
) -> list[post_files.ParseResult]:
    return [post_files.parse_file(entry, ctx) for entry in entries]


def _warm_up() -> None:
    """Load what every parse needs before the pool forks, so workers inherit it once.

    (pypinyin is imported lazily to keep no-op runs fast; unloaded, each
    worker would load its dictionaries on its own.)
    """
    import pypinyin  # noqa: F401

    from . import clean, markup  # noqa: F401  (nh3, lxml, markdown-it.rs)


def _parse_all(
    entries: list[post_files.FileEntry], ctx: post_files.ParseContext
) -> Generator[tuple[post_files.FileEntry, post_files.ParseResult], None, None]:
    """Parse results in the entries' order.

    In the pool, only ``IN_FLIGHT`` chunks per worker are queued at a time
    (``Executor.map`` would submit all of them, and parsed posts would pile up
    in memory whenever storing is slower than parsing); leaving early (a stop
    request) cancels what has not started.
    """
    n = workers()
    if n > 1 and len(entries) >= POOL_THRESHOLD:
        _warm_up()
        # small chunks: the last ones keep every worker busy to the end (a 256-post
        # chunk left for one worker was ~0.2 s with the other idle); IPC stays negligible
        size = max(16, min(64, len(entries) // (n * 8) or 1))
        chunks = chunked(entries, size)
        parse = partial(_parse_chunk, ctx=ctx)
        from concurrent.futures import ProcessPoolExecutor

        # the workers die with this process, however it dies (see die_with_parent)
        with ProcessPoolExecutor(
            max_workers=n, initializer=die_with_parent, initargs=(os.getpid(),)
        ) as pool:
            window: deque[tuple[list[post_files.FileEntry], Future[list[post_files.ParseResult]]]]
            window = deque()
            try:
                for part in chunks:
                    window.append((part, pool.submit(parse, part)))
                    if len(window) >= n * IN_FLIGHT:
                        done, future = window.popleft()
                        yield from zip(done, future.result(), strict=True)
                while window:
                    done, future = window.popleft()
                    yield from zip(done, future.result(), strict=True)
            finally:
                for _, future in window:
                    future.cancel()
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
    with store.transaction() as tx:
        source_id = store.source_id(tx, source.label, "posts", str(source.posts))
        known = CategoryRegistry(store, tx).register_configured(cfg.categories).snapshot()
        known_tags = frozenset(TagRegistry(store, tx).by_name)
    scanned = list(post_files.scan(source))
    scan_key = f"collect:scan:{source_id}"
    digest = _scan_digest(source, scanned)
    if digest is not None and store.get_meta(scan_key) == digest:
        # every file has the stat it had when the store last took all of them in:
        # the answer of the comparison below, without reading the store's index
        counts.files = counts.unchanged = len(scanned)
        if progress:
            progress(counts.unchanged, counts.files)
        return counts
    index = store.post_index(source_id)
    seen: set[str] = set()
    todo: list[post_files.FileEntry] = []
    for item in scanned:
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

    ctx = post_files.context(cfg.site, source, now, known, known_tags)
    # guid -> key finds moved files among new ones; nothing to look up when nothing changed
    guid_keys = {row.guid: key for key, row in index.items()} if todo else {}
    state = SourceState(source_id, index, guid_keys, seen, ctx, now, counts)
    results = _parse_all(todo, ctx)
    stopped = False
    try:
        for batch in chunked(results, BATCH):
            if stopping.requested():
                log.warning("stop requested: %s left for the next collect", source.label)
                stopped = True
                break
            with store.transaction() as tx:
                cats = CategoryRegistry(store, tx).register_configured(cfg.categories)
                tags = TagRegistry(store, tx)
                for entry, result in batch:
                    _apply(store, tx, state, entry, result, cats, tags)
                state.pending.flush(store, tx, state.source_id)
            if progress:
                progress(len(batch), None)
    finally:
        results.close()  # stops the pool now, not when the generator is collected

    vanished = [k for k, row in index.items() if k not in seen and not row.withdrawn]
    store.withdraw_posts(source_id, vanished, now)
    for key in vanished:
        log.info("withdrawn %s (file is gone)", key)
    counts.withdrawn += len(vanished)
    if counts.new + counts.updated >= max(ANALYZE_AFTER, len(index) // 4):
        # a first big collect: give the planner statistics, so that feed queries read
        # the covering indexes rather than whole rows (~0.1 s for 50,000 posts)
        store.refresh_statistics()
    if digest is not None and not (stopped or counts.rejected or counts.skipped):
        # the store now holds every file as scanned (a skipped post, e.g. one dated in
        # the future, must be looked at again, and a rejected one reported again)
        store.set_meta(scan_key, digest)
    return counts


def _scan_digest(
    source: PostsSource, scanned: list[post_files.FileEntry | Rejection]
) -> str | None:
    """A hash of every file's key, size and mtime; None when some file was rejected."""
    files = [item for item in scanned if isinstance(item, post_files.FileEntry)]
    if len(files) != len(scanned):
        return None
    lines = "\n".join(f"{e.key}\0{e.size}\0{e.mtime_ns}" for e in files)
    data = f"{source.posts}\n{lines}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def _apply(
    store: Store,
    tx: Tx,
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
        store.set_post_stat(tx, row.id, result.size, result.mtime_ns)
        row.size, row.mtime_ns = result.size, result.mtime_ns
        counts.unchanged += 1
        return

    slugs = [cats.resolve(name) for name in result.categories]
    if slugs != result.guessed_slugs:
        # a pinyin collision resolved differently from the worker's guess
        ctx2 = replace(state.ctx, known_categories=cats.snapshot())
        again = post_files.parse_file(replace(entry, known_hash=""), ctx2)
        if not isinstance(again, ParsedPost):
            return _apply(store, tx, state, entry, again, cats, tags)
        result = again
    for slug in slugs:
        # once per (slug, credit) and collect, and never for a category named by the
        # config or the post itself: a credit can then change nothing (ranks only rise),
        # and each call pinyin-slugifies the credit
        if (slug, result.source_name) not in state.credits and (
            cats.by_slug[slug].name_rank < RANK_CREDIT
        ):
            cats.name_from_credit(slug, result.source_name)
            state.credits.add((slug, result.source_name))
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
        if other_row.id == 0:  # inserted earlier in this batch: give it its id first
            state.pending.flush(store, tx, state.source_id)
        store.move_post(tx, other_row.id, entry.key)
        index[entry.key] = row = other_row
        del index[other]
        guid_keys[result.guid] = entry.key
        row.content_hash = ""  # force the update below

    if row is None:
        # id 0 until the batch's insert gives it one (see PendingInserts)
        row = IndexRow(0, result.guid, result.size, result.mtime_ns, result.content_hash, False)
        index[entry.key] = row
        guid_keys[result.guid] = entry.key
        counts.new += 1
        state.pending.add(NewPost(entry.key, result, now, slugs, tag_slugs), row)
        return
    # edited in place without its own updated time: updated now, in the post's own offset
    store.update_post(
        tx,
        row.id,
        result,
        changed_at=now,
        edited_at=now if result.updated is None else None,
        categories=slugs,
        tags=tag_slugs,
    )
    row.size, row.mtime_ns, row.content_hash = result.size, result.mtime_ns, result.content_hash
    row.withdrawn = False
    counts.updated += 1
