"""Schema 7: editions by period (a day or an ISO week), and a subscriber's weekly choice.

Revision 0007, after 0006. ``editions.period`` (``day`` for every edition
before it) joins the two unique keys, so "one edition per digest per period"
is what the store enforces: a digest with ``offer_weekly`` has a daily and a
weekly edition, each keyed by its own slot (``digest/periods.py``).
``subscribers.weekly`` lists the digests whose weekly edition the subscriber
chose instead of the daily one ("" for everyone before it: daily);
``signups.weekly`` the same for a sign-up waiting for its confirmation.

Batch mode rebuilds ``editions`` on SQLite (its constraints cannot be
altered in place); PostgreSQL alters it in place. Rows are kept either way.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("editions") as batch:
        batch.add_column(sa.Column("period", sa.String(10), nullable=False, server_default="day"))
        batch.drop_constraint("uq_editions_digest_end", type_="unique")
        batch.drop_constraint("uq_editions_digest_date", type_="unique")
        batch.create_unique_constraint(
            "uq_editions_digest_period_end", ["digest", "period", "window_end"]
        )
        batch.create_unique_constraint(
            "uq_editions_digest_period_date", ["digest", "period", "date"]
        )
    for table in ("subscribers", "signups"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("weekly", sa.Text, nullable=False, server_default=""))


def _drop_weekly(table: str) -> None:
    """SQLite rebuilds the table: keep AUTOINCREMENT and its counter (as 0004 does), or an
    id inside links already mailed (a subscriber's, a sign-up's) would be given out again."""
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    seq = None
    if sqlite:
        seq = bind.exec_driver_sql(
            "SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)
        ).scalar()
    with op.batch_alter_table(table, table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("weekly")
    if sqlite and seq is not None:
        bind.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
        bind.exec_driver_sql(
            "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, int(seq))
        )


def downgrade() -> None:
    _drop_weekly("signups")
    _drop_weekly("subscribers")
    # the weekly editions have no place in the old keys: they and their rows go
    op.execute("DELETE FROM deliveries WHERE edition_id IN "
               "(SELECT id FROM editions WHERE period <> 'day')")  # fmt: skip
    op.execute("DELETE FROM editions WHERE period <> 'day'")
    with op.batch_alter_table("editions") as batch:
        batch.drop_constraint("uq_editions_digest_period_date", type_="unique")
        batch.drop_constraint("uq_editions_digest_period_end", type_="unique")
        batch.create_unique_constraint("uq_editions_digest_date", ["digest", "date"])
        batch.create_unique_constraint("uq_editions_digest_end", ["digest", "window_end"])
        batch.drop_column("period")
