"""posted cards: opportunity cards posted into groups and channels or shared inline, so their
free places are updated in place

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "posted_cards",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "opportunity_id",
            sa.Integer(),
            sa.ForeignKey("opportunities.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("chat_id", sa.BigInteger()),
        sa.Column("message_id", sa.BigInteger()),
        sa.Column("inline_message_id", sa.String(255), unique=True),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("shown_seq", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("shown_updated", sa.DateTime(timezone=True)),
        sa.Column("shown_phase", sa.String(12), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("chat_id", "message_id", name="uq_posted_cards_message"),
    )
    op.create_index("ix_posted_cards_opportunity_id", "posted_cards", ["opportunity_id"])


def downgrade() -> None:
    op.drop_index("ix_posted_cards_opportunity_id", "posted_cards")
    op.drop_table("posted_cards")
