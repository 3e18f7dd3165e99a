"""plan_claims: the planner's pages of a tick, claimed by worker processes (issue 26)

Revision ID: 0018
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "plan_claims",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("tick_at", ts, nullable=False),
        sa.Column("first_id", sa.BigInteger(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claimed_at", ts),
        sa.Column("done_at", ts),
        sa.Column("created_at", ts, nullable=False),
        sa.UniqueConstraint("tick_at", "first_id", name="uq_plan_claims_page"),
    )
    op.create_index("ix_plan_claims_open", "plan_claims", ["done_at", "tick_at"])


def downgrade() -> None:
    op.drop_index("ix_plan_claims_open", table_name="plan_claims")
    op.drop_table("plan_claims")
