"""volunteer_profiles: how far the volunteer travels, their town, and whether to tell them
when a fitting opportunity is published

A volunteer's onboarding asks how far they go (online only, their town, their region, further)
and, for a big region, their town as typed (the catalog has no districts). When nothing fits,
they may ask to be told the moment something does.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("volunteer_profiles") as batch:
        batch.add_column(sa.Column("reach", sa.String(8), nullable=True))
        batch.add_column(sa.Column("city", sa.String(100), nullable=True))
        batch.add_column(
            sa.Column("notify_new", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("volunteer_profiles") as batch:
        batch.drop_column("notify_new")
        batch.drop_column("city")
        batch.drop_column("reach")
