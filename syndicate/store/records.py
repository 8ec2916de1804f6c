"""The typed records the store hands out: one per kind of row a caller reads.

Callers never see a driver row or a ``dict`` of columns: every query of the
store returns one of these (or a model record, ``syndicate.model``), with
statuses as the ``StrEnum``s of ``syndicate.model``. They are frozen: a
caller that changes something asks the store to write it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..model import (
    DeliveryStatus,
    EditionStatus,
    ParsedPost,
    Period,
    RunOutcome,
    SubscriberStatus,
    display_title,
)

# -- runs -------------------------------------------------------------------


@dataclass(frozen=True)
class RunRecord:
    """One row of ``runs``: a job's run, its outcome and counts (decoded from JSON)."""

    id: int
    job: str
    step: str
    scheduled_at: datetime | None
    started_at: datetime
    finished_at: datetime | None
    outcome: RunOutcome
    counts: dict[str, Any]
    error: str | None
    pid: int | None
    host: str | None
    pid_started: int | None


# -- subscribers ------------------------------------------------------------


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str
    name: str = ""
    categories: tuple[str, ...] = ()  # empty: every category
    digests: tuple[str, ...] = ()  # empty: every digest
    status: SubscriberStatus = SubscriberStatus.ACTIVE
    source: str = "cli"
    hard_failures: int = 0
    consent: Consent | None = None
    created_at: datetime | None = None
    status_at: datetime | None = None
    weekly: tuple[str, ...] = ()  # digests (offer_weekly) whose weekly edition they chose

    def wants_digest(self, name: str) -> bool:
        return not self.digests or name in self.digests


@dataclass(frozen=True)
class Consent:
    """How a subscription was made: the record ``subscribers show`` and ``export`` give."""

    method: str  # form | api | file | cli
    at: datetime | None  # when it was asked for
    page: str | None = None  # the page the form was on (form and API only)
    ip_hash: str | None = None  # a keyed hash of the client's address, never the address
    confirmed_at: datetime | None = None  # when the link in the confirmation mail was pressed


@dataclass(frozen=True)
class Signup:
    """A sign-up from the form or the API (``signups``): pending until confirmed."""

    id: int
    email: str
    name: str
    categories: tuple[str, ...]
    digests: tuple[str, ...]
    method: str
    page: str
    ip_hash: str
    created_at: datetime
    mailed_at: datetime | None
    confirmed_at: datetime | None
    subscriber_id: int | None
    weekly: tuple[str, ...] = ()  # digests (offer_weekly) whose weekly edition was chosen


@dataclass(frozen=True)
class SubscriberEvent:
    at: datetime
    kind: str
    detail: str
    message_id: str | None = None  # the bounce, complaint or reply it came from


@dataclass(frozen=True)
class FeedbackRecord:
    """One message read from the bounce mailbox (or one webhook call), as recorded."""

    key: str
    received_at: datetime
    kind: str
    permanent: bool | None
    subscriber_id: int | None
    message_id: str | None
    reason: str


@dataclass(frozen=True)
class DeliveryHistory:
    """One delivery of an edition to a subscriber, for ``subscribers export``."""

    digest: str
    date: str
    status: DeliveryStatus
    message_id: str | None
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class KnownSubscriber:
    """What an import compares a file's row with: a subscriber and when they chose."""

    id: int
    email: str
    name: str
    categories: tuple[str, ...]
    digests: tuple[str, ...]
    status: SubscriberStatus
    source: str
    chosen_at: datetime | None  # set once they chose on the preferences page
    weekly: tuple[str, ...] = ()


@dataclass(frozen=True)
class NewSubscriber:
    """A subscriber to insert (the store adds its timestamps and counters)."""

    email: str
    name: str
    categories: tuple[str, ...]
    digests: tuple[str, ...]
    source: str
    weekly: tuple[str, ...] = ()  # digests whose weekly edition they take (offer_weekly)


# -- editions and deliveries ------------------------------------------------


@dataclass(frozen=True)
class EditionRow:
    id: int
    digest: str
    date: str
    window_start: datetime | None
    window_end: datetime
    items: str
    item_count: int
    subject: str
    summary: str
    status: EditionStatus
    created_at: datetime
    finished_at: datetime | None
    period: Period = Period.DAY  # ``date`` is the slot of this period (digest/periods.py)


@dataclass(frozen=True)
class EditionOverview:
    """An edition with its delivery counts, for ``syndicate digest status``."""

    edition: EditionRow
    sent: int
    pending: int  # pending, claimed or deferred: not settled yet
    failed: int
    skipped: int


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    attempts: int
    subscriber: Subscriber


__all__ = [
    "CategoryRow",
    "CategoryStat",
    "Claim",
    "ContentState",
    "DeliveryStatus",
    "EditionOverview",
    "EditionRow",
    "FeedHead",
    "FeedState",
    "IndexRow",
    "KnownSubscriber",
    "NewPost",
    "NewSubscriber",
    "RunRecord",
    "SourceRow",
    "StoredEntry",
    "Subscriber",
]


# -- posts, categories, tags, sources ---------------------------------------


@dataclass(frozen=True, slots=True)
class FeedHead:
    """A visible post as a feed's head lists it: no body, categories or tags.

    ``changed_at`` is when the row last changed in a way a feed shows, so the
    builder can tell from ids and change times whether a feed is as rendered.
    """

    id: int
    guid: str
    title: str
    summary: str
    date: datetime
    updated: datetime
    changed_at: datetime

    @property
    def display_title(self) -> str:
        return display_title(self.title, self.summary)


@dataclass(frozen=True, slots=True)
class CategoryRow:
    """One row of ``categories``: the slug, its name, and the evidence that named it."""

    slug: str
    name: str
    origin: str | None  # the text the slug was made from; None when written as a slug
    name_rank: int  # 3 config, 2 written in the post, 1 credit, 0 slug


@dataclass(slots=True)
class IndexRow:
    """The collector's working copy of one stored post's stat (updated as it stores).

    Mutable on purpose: one per stored file, kept for the whole collect of a
    source and changed in place as batches are written (id 0 until inserted).
    """

    id: int
    guid: str
    size: int
    mtime_ns: int
    content_hash: str
    withdrawn: bool


@dataclass(frozen=True, slots=True)
class NewPost:
    """A post to insert: its key in the source, the parsed post, and its term slugs."""

    key: str
    post: ParsedPost
    seen: datetime  # first_seen and changed_at
    categories: list[str]
    tags: list[str]


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """What the upstream collector compares a feed entry with."""

    id: int
    link: str
    content_hash: str
    first_seen: datetime
    updated: datetime


@dataclass
class FeedState:
    """The upstream state of a feed source (the ``sources`` row); see collect/feedstate.py.

    Mutable: a fetch's outcome is applied to it, then the store writes it back.
    """

    source_id: int
    name: str
    location: str  # the URL schedule.yaml gives
    url: str  # the URL in use
    etag: str | None = None
    last_modified: str | None = None
    redirect_url: str | None = None
    redirect_count: int = 0
    error_count: int = 0
    last_result: str | None = None
    last_fetch: datetime | None = None
    next_fetch: datetime | None = None
    disabled: bool = False
    retry_after: datetime | None = None


@dataclass(frozen=True)
class SourceRow:
    """A ``sources`` row: its kind, and its columns as a feed's state."""

    kind: str
    state: FeedState


@dataclass(frozen=True)
class CategoryStat:
    """Visible posts of a category and its newest one, for status and the index page."""

    slug: str
    name: str
    posts: int
    newest: datetime | None
    newest_title: str | None


@dataclass(frozen=True)
class ContentState:
    """A cheap summary that changes whenever any feed's content could change."""

    changed: str | None  # the newest change time, ISO
    posts: int
    categories: list[list[str]]  # [slug, name], by slug
    tags: int

    def as_json(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "posts": self.posts,
            "categories": self.categories,
            "tags": self.tags,
        }


@dataclass(frozen=True)
class Undelivered:
    """A recipient an edition did not reach (yet), with the server's last answer."""

    email: str
    status: DeliveryStatus  # failed (for good), or pending (a temporary failure, retried)
    attempts: int
    error: str
    updated_at: datetime | None


# -- several machines (PostgreSQL) -----------------------------------------


@dataclass(frozen=True)
class NodeRecord:
    """One running ``syndicate run`` or ``worker`` process, as its heartbeat last wrote it."""

    id: str
    kind: str  # run | worker
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    role: str  # leader | standby | worker
    role_since: datetime


@dataclass(frozen=True)
class LeaderRecord:
    """Who holds the leader's advisory lock now: the server's answer, not a stored row."""

    host: str
    pid: int
    since: datetime | None


@dataclass(frozen=True)
class QueueCount:
    """Tasks of one kind in one state, and how long the oldest of them has waited."""

    task: str
    status: str
    count: int
    oldest: datetime | None  # when the oldest was deferred (todo) or started (doing)
