"""Schema 4: sign-ups waiting for confirmation, consent records, events, forgotten addresses.

Revision 0004, after 0003. The consent columns of the subscribers already
stored are filled from what is known of them: their method from ``source``
(a file or the command line) and their time from ``created_at``; they were
never confirmed by mail. Batch mode so the downgrade works on SQLite.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# instants are stored as naive UTC, as in 0001
CONSENT = ("consent_method", "consent_page", "consent_ip", "consent_at", "confirmed_at")


def upgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("consent_method", sa.String(20), nullable=True))
        batch.add_column(sa.Column("consent_page", sa.Text, nullable=True))
        batch.add_column(sa.Column("consent_ip", sa.String(64), nullable=True))
        batch.add_column(sa.Column("consent_at", sa.DateTime, nullable=True))
        batch.add_column(sa.Column("confirmed_at", sa.DateTime, nullable=True))
    op.execute(
        "UPDATE subscribers SET consent_at = created_at, consent_method = "
        "CASE WHEN source LIKE 'file:%' THEN 'file' ELSE 'cli' END"
    )
    op.create_table(
        "signups",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("categories", sa.Text, nullable=False),
        sa.Column("digests", sa.Text, nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("page", sa.Text, nullable=False),
        sa.Column("ip_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("mailed_at", sa.DateTime, nullable=True),
        sa.Column("confirmed_at", sa.DateTime, nullable=True),
        sa.Column("subscriber_id", sa.Integer, sa.ForeignKey("subscribers.id"), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_signups_email", "signups", ["email", "created_at"])
    op.create_index("ix_signups_ip", "signups", ["ip_hash", "created_at"])
    op.create_index("ix_signups_created", "signups", ["created_at"])
    op.create_table(
        "subscriber_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subscriber_id", sa.Integer, sa.ForeignKey("subscribers.id"), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_subscriber_events_subscriber", "subscriber_events", ["subscriber_id", "at"])
    op.create_table(
        "forgotten",
        sa.Column("hash", sa.String(64), primary_key=True),
        sa.Column("forgotten_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("forgotten")
    op.drop_index("ix_subscriber_events_subscriber", table_name="subscriber_events")
    op.drop_table("subscriber_events")
    for name in ("ix_signups_created", "ix_signups_ip", "ix_signups_email"):
        op.drop_index(name, table_name="signups")
    op.drop_table("signups")
    # SQLite rebuilds the table: keep AUTOINCREMENT and its counter, or a deleted
    # subscriber's id (inside links already mailed) would be given to somebody new
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    seq = None
    if sqlite:
        seq = bind.exec_driver_sql(
            "SELECT seq FROM sqlite_sequence WHERE name = 'subscribers'"
        ).scalar()
    with op.batch_alter_table("subscribers", table_kwargs={"sqlite_autoincrement": True}) as batch:
        for column in reversed(CONSENT):
            batch.drop_column(column)
    if sqlite and seq is not None:
        bind.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = 'subscribers'")
        bind.exec_driver_sql(
            "INSERT INTO sqlite_sequence (name, seq) VALUES ('subscribers', ?)", (int(seq),)
        )
