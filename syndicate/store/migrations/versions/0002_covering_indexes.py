"""Schema 2: the posts table's covering indexes; nothing dropped.

Revision 0002, after 0001. A row's body is stored before the columns that
follow it, so reading ``size``, ``withdrawn``, … from the table walks each
body's overflow pages: these indexes let the collector's stat check,
"visible, newest first" and the build fingerprint read indexes only.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_posts_stat": [
        "source_id",
        "key",
        "size",
        "mtime_ns",
        "withdrawn",
        "content_hash",
        "guid",
    ],
    "ix_posts_id_visible": ["id", "withdrawn", "date", "guid"],
    "ix_posts_changed_at": ["changed_at"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "posts", columns)
    # fresh planner statistics, or SQLite keeps reading whole rows by rowid
    if op.get_bind().dialect.name in ("sqlite", "postgresql"):
        op.execute("ANALYZE")


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="posts")
