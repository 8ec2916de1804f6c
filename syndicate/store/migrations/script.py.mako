"""${message}

Revision ${up_revision}, after ${down_revision | comma,n}; created ${create_date}.

Frozen DDL: name the columns and types here, never import the tables from
``syndicate.store.schema`` (a revision must not change when the models do).
Keep it dialect-neutral: ``op.batch_alter_table`` for any ALTER SQLite lacks.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
