"""Every Prometheus metric syndicate keeps, and the one-line calls that move them.

The steps call these functions where they already know what happened (a
fetch's outcome, a message's answer, a job's end); nothing here reads the
store or the config on its own. ``exposition.py`` serves the registry.

Invariants:

- One registry of syndicate's own (``REGISTRY``), never prometheus_client's
  global default: importing syndicate registers nothing in anyone else's
  registry, and a test or an embedding program can read it without clashing.
- Labels are bounded. Source, job and digest names come from schedule.yaml;
  outcomes, changes and channels come from the fixed sets below (anything
  else is counted as ``other``). Never an address, a URL or a path. A job's
  name is ``job_name``, never ``job``: Prometheus gives every scraped sample
  a ``job`` label of its own (the scrape job), and a clash renames ours.
- Counters count what happened in this process since it started; Prometheus'
  ``rate()`` and ``increase()`` handle restarts. What every process must agree
  on, the last success of each job, is read from the store at scrape time
  (``exposition.LastSuccess``), not kept here.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)

from ..config import Config, FeedSource
from ..model import CollectCounts, RunOutcome

# In the classic text format every counter's creation time is a gauge series of its own
# (``…_created``), doubling the series for nothing an alert here reads. (Process-wide:
# syndicate is the program, not a library inside someone else's.)
disable_created_metrics()  # type: ignore[no-untyped-call]  # (untyped upstream)
REGISTRY = CollectorRegistry(auto_describe=True)
# process_* (CPU, memory, open files) and python_info, as the default registry would have
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

FETCH_OUTCOMES = ("ok", "not_modified", "gone", "retry_later", "error")
JOB_OUTCOMES = tuple(o.value for o in RunOutcome if o is not RunOutcome.RUNNING)
MESSAGE_OUTCOMES = ("sent", "deferred", "failed")
FEED_FORMATS = ("rss", "atom", "json")
UNSUBSCRIBE_VIA = ("web", "one-click", "reply", "complaint", "cli")
BOUNCED_VIA = ("delivery", "feedback")
UNKNOWN_DIGEST = "unknown"  # a bounce report quoting no Message-ID of a configured digest

POSTS = Counter(
    "syndicate_posts_collected_total",
    "Posts stored by collect, by source and change: new, updated (edited) or withdrawn.",
    ["source", "change"],
    registry=REGISTRY,
)
REJECTED = Counter(
    "syndicate_posts_rejected_total",
    "Inputs collect rejected (a bad post file or feed entry, a source that failed), by source.",
    ["source"],
    registry=REGISTRY,
)
FETCHES = Counter(
    "syndicate_feed_fetches_total",
    "Upstream feed fetches by source and outcome (ok, not_modified, gone, retry_later, error).",
    ["source", "outcome"],
    registry=REGISTRY,
)
FEEDS_WRITTEN = Counter(
    "syndicate_feeds_written_total",
    "Feed files a build wrote because their bytes changed, by format (rss, atom, json).",
    ["format"],
    registry=REGISTRY,
)
JOB_RUNS = Counter(
    "syndicate_job_runs_total",
    "Job runs by job and outcome (ok, partial, skipped, error, interrupted, missed).",
    ["job_name", "outcome"],
    registry=REGISTRY,
)
JOB_SECONDS = Histogram(
    "syndicate_job_duration_seconds",
    "How long each job run took, by job (missed runs are not observed).",
    ["job_name"],
    # from a build with nothing to do (~10 ms) to a large digest (an hour)
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
    registry=REGISTRY,
)
MESSAGES = Counter(
    "syndicate_digest_messages_total",
    "Digest messages by digest and the server's answer: sent, deferred (temporary"
    " failure, retried by a later run) or failed (refused for good).",
    ["digest", "outcome"],
    registry=REGISTRY,
)
BOUNCES = Counter(
    "syndicate_digest_bounces_total",
    "Bounce reports read from the bounce mailbox or webhook, by digest (from the quoted"
    " Message-ID; 'unknown' when none) and kind (permanent, temporary).",
    ["digest", "kind"],
    registry=REGISTRY,
)
BOUNCED = Counter(
    "syndicate_subscribers_bounced_total",
    "Subscribers marked bounced (they get no more digests), by how it was found:"
    " delivery (refused at sending) or feedback (bounce reports).",
    ["via"],
    registry=REGISTRY,
)
UNSUBSCRIBES = Counter(
    "syndicate_unsubscribes_total",
    "Subscribers who unsubscribed, by channel: web (the page), one-click (RFC 8058),"
    " reply (a mail to the unsubscribe address), complaint (a spam report), cli.",
    ["via"],
    registry=REGISTRY,
)


def _one_of(value: str, known: tuple[str, ...]) -> str:
    return value if value in known else "other"


def prepare(cfg: Config) -> None:
    """Create each configured series at 0, so its first event is an increase Prometheus sees.

    (A series that appears at 1 has no earlier sample, and ``increase()`` over
    it stays 0: the first failure of a source would not alert.)
    """
    for source in cfg.sources:
        for change in ("new", "updated", "withdrawn"):
            POSTS.labels(source.label, change)
        REJECTED.labels(source.label)
        if isinstance(source, FeedSource):
            for outcome in FETCH_OUTCOMES:
                FETCHES.labels(source.label, outcome)
    for fmt in cfg.feeds.formats:
        FEEDS_WRITTEN.labels(fmt)
    for job in cfg.jobs:
        for outcome in JOB_OUTCOMES:
            JOB_RUNS.labels(job, outcome)
        JOB_SECONDS.labels(job)
    for digest in cfg.digests:
        for outcome in MESSAGE_OUTCOMES:
            MESSAGES.labels(digest.name, outcome)
        for kind in ("permanent", "temporary"):
            BOUNCES.labels(digest.name, kind)
    for via in BOUNCED_VIA:
        BOUNCED.labels(via)
    for via in UNSUBSCRIBE_VIA:
        UNSUBSCRIBES.labels(via)


def collected(source: str, counts: CollectCounts) -> None:
    """One source's collect: what it stored and what it rejected."""
    for change in ("new", "updated", "withdrawn"):
        n = getattr(counts, change)
        if n:
            POSTS.labels(source, change).inc(n)
    rejected(source, counts.rejected)


def rejected(source: str, n: int = 1) -> None:
    if n:
        REJECTED.labels(source).inc(n)


def fetched(source: str, outcome: str) -> None:
    FETCHES.labels(source, _one_of(outcome, FETCH_OUTCOMES)).inc()


def feeds_written(formats: Iterable[str]) -> None:
    """The format of each feed file a build wrote (the build knows it: jekyll-feed's Atom
    is ``.xml``, so a file's suffix does not tell)."""
    for fmt in formats:
        if fmt in FEED_FORMATS:
            FEEDS_WRITTEN.labels(fmt).inc()


def job_finished(job: str, outcome: str, seconds: float | None) -> None:
    """A job's run ended (``seconds`` None: it never ran, e.g. missed past its grace)."""
    JOB_RUNS.labels(job, _one_of(str(outcome), JOB_OUTCOMES)).inc()
    if seconds is not None:
        JOB_SECONDS.labels(job).observe(seconds)


def message(digest: str, outcome: str) -> None:
    MESSAGES.labels(digest, _one_of(outcome, MESSAGE_OUTCOMES)).inc()


def bounce_report(digest: str | None, *, permanent: bool) -> None:
    BOUNCES.labels(digest or UNKNOWN_DIGEST, "permanent" if permanent else "temporary").inc()


def subscriber_bounced(via: str) -> None:
    BOUNCED.labels(_one_of(via, BOUNCED_VIA)).inc()


def unsubscribed(via: str) -> None:
    UNSUBSCRIBES.labels(_one_of(via, UNSUBSCRIBE_VIA)).inc()
