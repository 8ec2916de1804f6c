"""The records that flow between the steps; plain dataclasses, no behaviour beyond naming."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# -- statuses: their values are the strings stored, so a store written before them reads the same


class RunOutcome(StrEnum):
    """How a recorded run (``runs.outcome``) ended; ``running`` until it does."""

    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"
    SKIPPED = "skipped"
    ERROR = "error"
    INTERRUPTED = "interrupted"
    MISSED = "missed"


class EditionStatus(StrEnum):
    """``editions.status``: ``sending`` until every delivery row is settled, then ``done``."""

    SENDING = "sending"
    DONE = "done"


class Period(StrEnum):
    """``editions.period``: how often a digest's edition comes (one per local day, or per week)."""

    DAY = "day"
    WEEK = "week"


class DeliveryStatus(StrEnum):
    """``deliveries.status``: pending → claimed → sent | failed | skipped (deferred: held)."""

    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    DEFERRED = "deferred"  # a temporary failure, held by its sender until the end of its run


class SubscriberStatus(StrEnum):
    """``subscribers.status``; only ``active`` subscribers get editions.

    ``pending`` is never stored in ``subscribers``: it is the status a sign-up
    waiting for its confirmation (a ``signups`` row) is listed with.
    """

    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    REMOVED = "removed"
    FORGOTTEN = "forgotten"  # erased on request: no address, no name, nothing sent
    PENDING = "pending"


class ConfirmResult(StrEnum):
    """What pressing the button of a confirmation link did."""

    CONFIRMED = "confirmed"
    ALREADY = "already"  # confirmed before: nothing changed
    GONE = "gone"  # the sign-up was cleaned up (it expired): nothing changed


@dataclass(frozen=True)
class Category:
    slug: str
    name: str


@dataclass(frozen=True)
class Tag:
    slug: str
    name: str


@dataclass
class ParsedPost:
    """What a reader hands to the store: everything but the store's own bookkeeping.

    Category and tag names are raw (as written); the store turns them into
    slugs so that collisions are resolved against what is already published.
    """

    key: str
    guid: str
    link: str
    title: str
    date: datetime
    updated: datetime | None
    content_html: str
    summary: str
    categories: list[str]
    tags: list[str]
    author: str = ""
    source_name: str = ""
    original_url: str = ""
    slug: str = ""
    path: str = ""
    size: int = 0
    mtime_ns: int = 0
    content_hash: str = ""
    # the category slugs the permalink was made with (checked against the store's)
    guessed_slugs: list[str] = field(default_factory=list)


@dataclass
class Post:
    """A stored post as feeds and digests read it (dates carry the post's own offset)."""

    id: int
    guid: str
    link: str
    title: str
    date: datetime
    updated: datetime
    first_seen: datetime
    content_html: str
    summary: str
    source: str
    author: str = ""
    source_name: str = ""
    original_url: str = ""
    categories: list[Category] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)

    @property
    def display_title(self) -> str:
        return display_title(self.title, self.summary)


def display_title(title: str, summary: str) -> str:
    """Feeds need a title; an empty one falls back to the summary, then a placeholder."""
    if title.strip():
        return title.strip()
    if summary.strip():
        text = summary.strip()
        return text if len(text) <= 60 else text[:59] + "…"
    return "(untitled)"


@dataclass
class Rejection:
    path: str
    reason: str


@dataclass
class CollectCounts:
    files: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    rejected: int = 0
    skipped: int = 0
    rejections: list[Rejection] = field(default_factory=list)

    def add(self, other: CollectCounts) -> None:
        for name in ("files", "new", "updated", "unchanged", "withdrawn", "rejected", "skipped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.rejections.extend(other.rejections)

    @property
    def changed(self) -> bool:
        return bool(self.new or self.updated or self.withdrawn)
