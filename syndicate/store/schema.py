"""The tables: one ``MetaData`` for every table group, and the column types they share.

Everything here is dialect-neutral so that PostgreSQL can replace SQLite,
and the two types make both dialects keep the same values: ``UTCDateTime``
(instants stored as naive UTC, handed back aware in UTC) and ``Clipped``
(free text cut to its column: PostgreSQL refuses a longer value where SQLite
would keep it whole). Identifiers are never clipped: their producers keep
them within the column (``slugs.check_name``, the collectors' ids,
``core.meta_key``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

log = logging.getLogger("syndicate.store")


class UTCDateTime(TypeDecorator[datetime]):
    """Instants go in as UTC and come out aware; naive values are refused."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:  # a driver's aware value (a timestamptz): same instant
            return value.astimezone(UTC)
        return value.replace(tzinfo=UTC)


class Clipped(TypeDecorator[str]):
    """Free text (a name, a header) cut to the column's length as it goes in, on every dialect.

    Only for columns nothing looks rows up by: a cut value no longer equals
    the one given.
    """

    impl = String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        if value is None or len(value) <= self.length:
            return value
        return value[: self.length - 1] + "…"


META_KEY_LENGTH = 64  # longer keys are stored cut and hashed (core.meta_key)

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(META_KEY_LENGTH), primary_key=True),
    Column("value", Text, nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("location", Text, nullable=False),
    # upstream feed state (kind "feed"; see collect/feedstate.py), unused by other kinds
    Column("url", Text, nullable=True),  # in use: `location` until a permanent redirect sticks
    Column("etag", Text, nullable=True),
    Column("last_modified", Clipped(100), nullable=True),
    Column("redirect_url", Text, nullable=True),  # permanent-redirect candidate
    Column("redirect_count", Integer, nullable=False, default=0),
    Column("error_count", Integer, nullable=False, default=0),
    Column("last_result", Text, nullable=True),
    Column("last_fetch", UTCDateTime, nullable=True),
    Column("next_fetch", UTCDateTime, nullable=True),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("retry_after", UTCDateTime, nullable=True),
)

categories = Table(
    "categories",
    metadata,
    Column("slug", String(100), primary_key=True),
    Column("name", Clipped(200), nullable=False),
    # the text the slug was made from (网信中国); null when written as a slug
    Column("origin", String(200), nullable=True, unique=True),
    # which evidence named it: 3 config, 2 written in the post, 1 credit, 0 slug
    Column("name_rank", Integer, nullable=False, default=0),
)

tags = Table(
    "tags",
    metadata,
    Column("slug", String(100), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
)

posts = Table(
    "posts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id"), nullable=False),
    Column("key", String(1000), nullable=False),
    Column("guid", String(1000), nullable=False),
    Column("link", Text, nullable=False),
    Column("slug", Clipped(300), nullable=False, default=""),
    Column("title", Text, nullable=False),
    Column("date", UTCDateTime, nullable=False),
    Column("date_offset", Integer, nullable=False),
    Column("updated", UTCDateTime, nullable=False),
    Column("updated_offset", Integer, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    # when this row last changed in a way a feed shows (new, edited, withdrawn)
    Column("changed_at", UTCDateTime, nullable=False),
    Column("content_html", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("author", Clipped(300), nullable=False, default=""),
    Column("source_name", Clipped(300), nullable=False, default=""),
    Column("original_url", Text, nullable=False, default=""),
    Column("path", Text, nullable=False, default=""),
    Column("size", BigInteger, nullable=False, default=0),
    Column("mtime_ns", BigInteger, nullable=False, default=0),
    Column("content_hash", String(64), nullable=False, default=""),
    Column("withdrawn", Boolean, nullable=False, default=False),
    Column("withdrawn_at", UTCDateTime, nullable=True),
    UniqueConstraint("source_id", "key", name="uq_posts_source_key"),
    Index("ix_posts_guid", "guid"),
    Index("ix_posts_date", "date"),
    Index("ix_posts_first_seen", "first_seen"),
    # Covering indexes (schema 2). A row's body is stored before the columns that
    # follow it (size, mtime_ns, content_hash, withdrawn, …), so reading those from
    # the table walks each body's overflow pages: these let the collector's stat
    # check, "visible, newest first" and the build fingerprint read indexes only.
    Index(
        "ix_posts_stat", "source_id", "key", "size", "mtime_ns", "withdrawn", "content_hash", "guid"
    ),
    Index("ix_posts_id_visible", "id", "withdrawn", "date", "guid"),
    Index("ix_posts_changed_at", "changed_at"),
)

post_categories = Table(
    "post_categories",
    metadata,
    Column("post_id", Integer, ForeignKey("posts.id"), primary_key=True),
    Column("category_slug", String(100), ForeignKey("categories.slug"), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
    Index("ix_post_categories_slug", "category_slug", "post_id"),
)

post_tags = Table(
    "post_tags",
    metadata,
    Column("post_id", Integer, ForeignKey("posts.id"), primary_key=True),
    Column("tag_slug", String(100), ForeignKey("tags.slug"), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
    Index("ix_post_tags_slug", "tag_slug", "post_id"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("job", String(100), nullable=False),
    Column("step", String(40), nullable=False),
    Column("scheduled_at", UTCDateTime, nullable=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("outcome", String(20), nullable=False, default="running"),
    Column("counts", Text, nullable=False, default="{}"),
    Column("error", Text, nullable=True),
    # the process recording the run (schema 3): a run still "running" whose process
    # is gone is closed by the next command (``Store.close_stale_runs``)
    Column("pid", Integer, nullable=True),
    Column("host", String(255), nullable=True),
    Column("pid_started", BigInteger, nullable=True),  # Linux: start time, so a reused pid differs
    Index("ix_runs_job_started", "job", "started_at"),
    Index("ix_runs_outcome", "outcome"),  # every command looks for runs still "running"
)

# -- digest tables (syndicate/digest/): subscribers, editions, the delivery ledger

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Integer, primary_key=True),
    # normalized (ASCII domain) and lower-cased, so one person is one row
    Column("email", String(320), nullable=False, unique=True),
    Column("name", Clipped(200), nullable=False, default=""),
    Column("categories", Text, nullable=False, default=""),  # space-separated slugs; "" = all
    Column("digests", Text, nullable=False, default=""),  # space-separated names; "" = all
    Column("status", String(20), nullable=False, default="active"),
    Column("source", Text, nullable=False, default="cli"),  # "cli" or "file:<path>"
    Column("hard_failures", Integer, nullable=False, default=0),  # consecutive 5xx answers
    # set when the subscriber chose on the preferences page: the file no longer overrides it
    Column("chosen_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("status_at", UTCDateTime, nullable=True),
    # consent: how the subscription was made (form, api, file, cli), on which page,
    # a keyed hash of the client's IP (never the IP), and when it was made and confirmed
    Column("consent_method", String(20), nullable=True),
    Column("consent_page", Text, nullable=True),
    Column("consent_ip", String(64), nullable=True),
    Column("consent_at", UTCDateTime, nullable=True),
    Column("confirmed_at", UTCDateTime, nullable=True),
    # digests (offer_weekly) whose weekly edition they chose instead of the daily (schema 7)
    Column("weekly", Text, nullable=False, default="", server_default=""),
    Index("ix_subscribers_status", "status", "id"),
    # ids are never reused (they are inside unsubscribe tokens); other dialects never reuse them
    sqlite_autoincrement=True,
)

# A sign-up through the form or the API, waiting for its confirmation: it never gets
# a digest. Kept after it is confirmed (a second press is told so) until pending_days
# pass, then deleted either way; ids are never reused (they are inside the links).
signups = Table(
    "signups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), nullable=False),  # normalized, as subscribers.email
    Column("name", Clipped(200), nullable=False, default=""),
    Column("categories", Text, nullable=False, default=""),  # as subscribers: "" = all
    Column("digests", Text, nullable=False, default=""),
    Column("method", String(20), nullable=False),  # form | api
    Column("page", Text, nullable=False, default=""),  # the page the request came from
    Column("ip_hash", String(64), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("mailed_at", UTCDateTime, nullable=True),  # the confirmation mail was accepted
    Column("confirmed_at", UTCDateTime, nullable=True),
    Column("subscriber_id", Integer, ForeignKey("subscribers.id"), nullable=True),
    # as subscribers.weekly: the digests whose weekly edition the form chose (schema 7)
    Column("weekly", Text, nullable=False, default="", server_default=""),
    Index("ix_signups_email", "email", "created_at"),
    Index("ix_signups_ip", "ip_hash", "created_at"),
    Index("ix_signups_created", "created_at"),
    sqlite_autoincrement=True,
)

# What happened to a subscription, for `subscribers show` and `export`: confirmed,
# unsubscribed, preferences, resubscribed, forgotten, ... (detail: free text, no secrets)
subscriber_events = Table(
    "subscriber_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subscriber_id", Integer, ForeignKey("subscribers.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(30), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    # the Message-ID of the bounce, complaint or reply the event came from
    Column("message_id", Clipped(300), nullable=True),
    Index("ix_subscriber_events_subscriber", "subscriber_id", "at"),
)

# Every bounce, complaint, reply or webhook call read, by a key of its own (the
# mailbox's Message-ID, else a hash of its bytes): read twice, counted once.
feedback = Table(
    "feedback",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("kind", String(30), nullable=False),  # bounce | complaint | unsubscribe | unrecognised
    Column("permanent", Boolean, nullable=True),
    Column("subscriber_id", Integer, ForeignKey("subscribers.id"), nullable=True),
    Column("message_id", Clipped(300), nullable=True),
    Column("reason", Text, nullable=False, default=""),
    Index("ix_feedback_received", "received_at"),
)

# Addresses erased on request, as a keyed hash only (the key is in meta): a file
# import that lists one again does not subscribe it again.
forgotten = Table(
    "forgotten",
    metadata,
    Column("hash", String(64), primary_key=True),
    Column("forgotten_at", UTCDateTime, nullable=False),
)

editions = Table(
    "editions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("digest", String(100), nullable=False),
    # the slot (digest/periods.py): window end's local date, YYYY-MM-DD, for a daily
    # edition; the ISO week it was due in, YYYY-Www, for a weekly one (``period``, schema 7)
    Column("date", String(10), nullable=False),
    Column("window_start", UTCDateTime, nullable=True),  # null: everything before the end
    Column("window_end", UTCDateTime, nullable=False),
    Column("items", Text, nullable=False),  # JSON plan: sections with post ids
    Column("item_count", Integer, nullable=False),
    Column("subject", Text, nullable=False, default=""),
    Column("summary", Text, nullable=False, default=""),
    Column("status", String(20), nullable=False, default="sending"),  # sending, done
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("period", String(10), nullable=False, default="day", server_default="day"),
    # one edition per digest per period: the exactly-once rule (schema 7 added the period)
    UniqueConstraint("digest", "period", "window_end", name="uq_editions_digest_period_end"),
    UniqueConstraint("digest", "period", "date", name="uq_editions_digest_period_date"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("edition_id", Integer, ForeignKey("editions.id"), nullable=False),
    Column("subscriber_id", Integer, ForeignKey("subscribers.id"), nullable=False),
    # pending -> claimed -> sent | failed | skipped; claimed rows of a dead sender go back
    Column("status", String(20), nullable=False, default="pending"),
    Column("claimer", String(200), nullable=True),
    Column("claimed_at", UTCDateTime, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("message_id", String(300), nullable=True),
    Column("location", Text, nullable=True),  # Maildir file or SMTP server answer
    Column("error", Text, nullable=True),
    Column("updated_at", UTCDateTime, nullable=True),
    UniqueConstraint("edition_id", "subscriber_id", name="uq_deliveries_edition_subscriber"),
    Index("ix_deliveries_edition_status", "edition_id", "status", "id"),
    Index("ix_deliveries_subscriber", "subscriber_id"),
    Index("ix_deliveries_message_id", "message_id"),  # a bounce names the message it answers
)

# One row per (job, wall-clock slot) a scheduled digest has been started for:
# "was today's edition sent?" is answered here, never by APScheduler's state.
job_slots = Table(
    "job_slots",
    metadata,
    Column("job", String(100), primary_key=True),
    Column("slot", String(40), primary_key=True),
    Column("claimed_at", UTCDateTime, nullable=False),
)

# One row per relay with a ``rate``: the next instant a message may go through it,
# on the database server's clock, so the limit holds across processes and machines.
send_pace = Table(
    "send_pace",
    metadata,
    Column("name", String(300), primary_key=True),
    Column("next_at", Float, nullable=False),
)

# One row per running ``syndicate run`` / ``syndicate worker`` process, refreshed by
# its heartbeat; shown by ``syndicate status``. Who leads is the advisory lock's
# answer, never this table's (a row outlives a killed process until it is pruned).
nodes = Table(
    "nodes",
    metadata,
    Column("id", String(300), primary_key=True),  # kind:host:pid:start
    Column("kind", String(20), nullable=False),  # run | worker
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False),
    Column("role", String(20), nullable=False),  # leader | standby | worker
    Column("role_since", UTCDateTime, nullable=False),
)
