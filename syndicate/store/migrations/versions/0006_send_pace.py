"""Schema 6: what several machines share: relay pacing and the list of running processes.

Revision 0006, after 0005. A relay's ``rate`` is a limit of the account, not
of a process: with workers on several machines each message first takes the
next free instant from the relay's row in ``send_pace``. ``nodes`` has one row
per running ``syndicate run`` or ``worker`` process, refreshed by its
heartbeat, for ``syndicate status`` (who leads is not stored: the advisory
lock says; see ``store/cluster_state.py``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_pace",
        sa.Column("name", sa.String(300), primary_key=True),
        # the next free instant, in seconds since the epoch on the database server's clock
        sa.Column("next_at", sa.Float, nullable=False),
    )
    op.create_table(
        "nodes",
        sa.Column("id", sa.String(300), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("heartbeat_at", sa.DateTime, nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("role_since", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("nodes")
    op.drop_table("send_pace")
