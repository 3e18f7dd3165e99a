"""erasures: the pseudonyms of people whose data was erased while what they did stays

/delete_me (and the retention purge) erase a person, but the audit log, their published
opportunities and their broadcasts stay. Where those name who did it, the Telegram id becomes
the pseudonym this table hands out (a counter: nothing leads back to the id). The columns keep
their NOT NULL: a pseudonym is a value, so no table has to be rebuilt (on SQLite a rebuild of
`opportunities` would delete the sign-ups that cascade from it).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erasures",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_erasures"),
    )


def downgrade() -> None:
    op.drop_table("erasures")
