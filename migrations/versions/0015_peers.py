"""peers and mentors: who shows their project to other activists and what of it, blocks,
mentoring offers, and double opt-in introductions (a mentorship is one of kind "mentor")

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


def _fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["users.id"], name=f"fk_{table}_{column}_users", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "peer_profiles",
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("fields", sa.Text, nullable=False, server_default="[]"),
        sa.Column("shown", sa.Text, nullable=False, server_default="[]"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_peer_profiles"),
        _fk("peer_profiles", "user_id"),
    )
    op.create_table(
        "peer_blocks",
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("blocked_id", sa.BigInteger, nullable=False),
        sa.Column("reported", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "blocked_id", name="pk_peer_blocks"),
        _fk("peer_blocks", "user_id"),
        _fk("peer_blocks", "blocked_id"),
    )
    op.create_index("ix_peer_blocks_blocked_id", "peer_blocks", ["blocked_id"])
    op.create_table(
        "mentor_offers",
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("topics", sa.Text, nullable=False, server_default="[]"),
        sa.Column("capacity", sa.Integer, nullable=False, server_default="1"),
        sa.Column("ways", sa.Text, nullable=False, server_default="[]"),
        sa.Column("often", sa.String(12), nullable=False, server_default="monthly"),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("marked_by", sa.BigInteger),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_mentor_offers"),
        _fk("mentor_offers", "user_id"),
    )
    op.create_table(
        "introductions",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("from_id", sa.BigInteger, nullable=False),
        sa.Column("to_id", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
        sa.Column("checkin_at", sa.DateTime(timezone=True)),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("rating", sa.Integer),
        sa.PrimaryKeyConstraint("id", name="pk_introductions"),
        _fk("introductions", "from_id"),
        _fk("introductions", "to_id"),
    )
    op.create_index("ix_introductions_from_id", "introductions", ["from_id"])
    op.create_index("ix_introductions_to_id", "introductions", ["to_id"])


def downgrade() -> None:
    op.drop_table("introductions")
    op.drop_table("mentor_offers")
    op.drop_table("peer_blocks")
    op.drop_table("peer_profiles")
