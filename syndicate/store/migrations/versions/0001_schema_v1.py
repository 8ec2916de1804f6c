"""The schema as of version 1 (the last release before the covering indexes).

Revision 0001, the first. Frozen DDL: the tables are spelled out here rather
than taken from ``syndicate.store.schema``, so this revision builds the same
tables whatever the models become. A store stamped ``schema_version = 1`` by
the hand-written migrations has exactly these tables.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# instants are stored as naive UTC (the models' UTCDateTime decorates this type)
Instant = sa.DateTime


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("location", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=True),
        sa.Column("etag", sa.Text, nullable=True),
        sa.Column("last_modified", sa.String(100), nullable=True),
        sa.Column("redirect_url", sa.Text, nullable=True),
        sa.Column("redirect_count", sa.Integer, nullable=False),
        sa.Column("error_count", sa.Integer, nullable=False),
        sa.Column("last_result", sa.Text, nullable=True),
        sa.Column("last_fetch", Instant, nullable=True),
        sa.Column("next_fetch", Instant, nullable=True),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("retry_after", Instant, nullable=True),
    )
    op.create_table(
        "categories",
        sa.Column("slug", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("origin", sa.String(200), nullable=True, unique=True),
        sa.Column("name_rank", sa.Integer, nullable=False),
    )
    op.create_table(
        "tags",
        sa.Column("slug", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
    )
    op.create_table(
        "posts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id"), nullable=False),
        sa.Column("key", sa.String(1000), nullable=False),
        sa.Column("guid", sa.String(1000), nullable=False),
        sa.Column("link", sa.Text, nullable=False),
        sa.Column("slug", sa.String(300), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("date", Instant, nullable=False),
        sa.Column("date_offset", sa.Integer, nullable=False),
        sa.Column("updated", Instant, nullable=False),
        sa.Column("updated_offset", sa.Integer, nullable=False),
        sa.Column("first_seen", Instant, nullable=False),
        sa.Column("changed_at", Instant, nullable=False),
        sa.Column("content_html", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("author", sa.String(300), nullable=False),
        sa.Column("source_name", sa.String(300), nullable=False),
        sa.Column("original_url", sa.Text, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mtime_ns", sa.BigInteger, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("withdrawn", sa.Boolean, nullable=False),
        sa.Column("withdrawn_at", Instant, nullable=True),
        sa.UniqueConstraint("source_id", "key", name="uq_posts_source_key"),
    )
    op.create_index("ix_posts_guid", "posts", ["guid"])
    op.create_index("ix_posts_date", "posts", ["date"])
    op.create_index("ix_posts_first_seen", "posts", ["first_seen"])
    op.create_table(
        "post_categories",
        sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id"), primary_key=True),
        sa.Column(
            "category_slug", sa.String(100), sa.ForeignKey("categories.slug"), primary_key=True
        ),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_index("ix_post_categories_slug", "post_categories", ["category_slug", "post_id"])
    op.create_table(
        "post_tags",
        sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id"), primary_key=True),
        sa.Column("tag_slug", sa.String(100), sa.ForeignKey("tags.slug"), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_index("ix_post_tags_slug", "post_tags", ["tag_slug", "post_id"])
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("job", sa.String(100), nullable=False),
        sa.Column("step", sa.String(40), nullable=False),
        sa.Column("scheduled_at", Instant, nullable=True),
        sa.Column("started_at", Instant, nullable=False),
        sa.Column("finished_at", Instant, nullable=True),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("counts", sa.Text, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_runs_job_started", "runs", ["job", "started_at"])
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("categories", sa.Text, nullable=False),
        sa.Column("digests", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("hard_failures", sa.Integer, nullable=False),
        sa.Column("chosen_at", Instant, nullable=True),
        sa.Column("created_at", Instant, nullable=False),
        sa.Column("updated_at", Instant, nullable=False),
        sa.Column("status_at", Instant, nullable=True),
        # ids are inside unsubscribe tokens: never reused (other dialects never reuse them)
        sqlite_autoincrement=True,
    )
    op.create_index("ix_subscribers_status", "subscribers", ["status", "id"])
    op.create_table(
        "editions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("digest", sa.String(100), nullable=False),
        sa.Column("date", sa.String(10), nullable=False),
        sa.Column("window_start", Instant, nullable=True),
        sa.Column("window_end", Instant, nullable=False),
        sa.Column("items", sa.Text, nullable=False),
        sa.Column("item_count", sa.Integer, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", Instant, nullable=False),
        sa.Column("finished_at", Instant, nullable=True),
        sa.UniqueConstraint("digest", "window_end", name="uq_editions_digest_end"),
        sa.UniqueConstraint("digest", "date", name="uq_editions_digest_date"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("edition_id", sa.Integer, sa.ForeignKey("editions.id"), nullable=False),
        sa.Column("subscriber_id", sa.Integer, sa.ForeignKey("subscribers.id"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("claimer", sa.String(200), nullable=True),
        sa.Column("claimed_at", Instant, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("message_id", sa.String(300), nullable=True),
        sa.Column("location", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("updated_at", Instant, nullable=True),
        sa.UniqueConstraint("edition_id", "subscriber_id", name="uq_deliveries_edition_subscriber"),
    )
    op.create_index("ix_deliveries_edition_status", "deliveries", ["edition_id", "status", "id"])
    op.create_index("ix_deliveries_subscriber", "deliveries", ["subscriber_id"])
    op.create_table(
        "job_slots",
        sa.Column("job", sa.String(100), primary_key=True),
        sa.Column("slot", sa.String(40), primary_key=True),
        sa.Column("claimed_at", Instant, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "job_slots",
        "deliveries",
        "editions",
        "subscribers",
        "runs",
        "post_tags",
        "post_categories",
        "posts",
        "tags",
        "categories",
        "sources",
        "meta",
    ):
        op.drop_table(table)
