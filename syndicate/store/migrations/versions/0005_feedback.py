"""Schema 5: bounces, complaints and replies read (each once), events naming their message.

Revision 0005, after 0004. ``feedback`` makes reading a bounce mailbox
idempotent; the index on ``deliveries.message_id`` finds the subscriber a
bounce answers when only the original message's id survived; the
``signups-lock`` row in ``meta`` serializes sign-ups (their limits).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscriber_events") as batch:
        batch.add_column(sa.Column("message_id", sa.String(300), nullable=True))
    op.create_index("ix_deliveries_message_id", "deliveries", ["message_id"])
    op.create_table(
        "feedback",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("permanent", sa.Boolean, nullable=True),
        sa.Column("subscriber_id", sa.Integer, sa.ForeignKey("subscribers.id"), nullable=True),
        sa.Column("message_id", sa.String(300), nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("ix_feedback_received", "feedback", ["received_at"])
    # the row every sign-up and confirmation locks first (store/pending.py)
    op.execute(
        "INSERT INTO meta (key, value) SELECT 'signups-lock', '' "
        "WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = 'signups-lock')"
    )


def downgrade() -> None:
    op.execute("DELETE FROM meta WHERE key = 'signups-lock'")
    op.drop_index("ix_feedback_received", table_name="feedback")
    op.drop_table("feedback")
    op.drop_index("ix_deliveries_message_id", table_name="deliveries")
    with op.batch_alter_table("subscriber_events") as batch:
        batch.drop_column("message_id")
