"""Schema 3: which process records each run, and the index that finds runs still running.

Revision 0003, after 0002. The owner columns are null for the runs before
it: ``Store.close_stale_runs`` leaves those to the daemon. Batch mode so the
downgrade's DROP COLUMN works on SQLite too (the upgrade is a plain ADD
COLUMN everywhere: no table is copied).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("pid", sa.Integer, nullable=True))
        batch.add_column(sa.Column("host", sa.String(255), nullable=True))
        # Linux: the process's start time, so a reused pid is told apart
        batch.add_column(sa.Column("pid_started", sa.BigInteger, nullable=True))
    op.create_index("ix_runs_outcome", "runs", ["outcome"])


def downgrade() -> None:
    op.drop_index("ix_runs_outcome", table_name="runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("pid_started")
        batch.drop_column("host")
        batch.drop_column("pid")
