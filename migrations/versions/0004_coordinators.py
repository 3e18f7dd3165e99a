"""coordinators: audit log, broadcasts, self-assessments

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("actor_id", sa.BigInteger, nullable=False),
        sa.Column("action", sa.String(48), nullable=False),
        sa.Column("target", sa.String(200)),
        sa.Column("details", sa.Text, nullable=False, server_default="{}"),
        sa.Column("created_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_created_at", "audit_log", ["created_at"])
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("author_id", sa.BigInteger, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("entities", sa.Text),
        sa.Column("photo", sa.String(255)),
        sa.Column("document", sa.String(255)),
        sa.Column("filename", sa.String(255)),
        sa.Column("segment", sa.Text, nullable=False, server_default="{}"),
        sa.Column("status", sa.String(12), nullable=False, server_default="draft"),
        sa.Column("scheduled_at", ts),
        sa.Column("recipients", sa.Integer, nullable=False, server_default="0"),
        sa.Column("progress_chat_id", sa.BigInteger),
        sa.Column("progress_message_id", sa.BigInteger),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("started_at", ts),
        sa.Column("finished_at", ts),
        sa.PrimaryKeyConstraint("id", name="pk_broadcasts"),
    )
    op.create_index("ix_broadcasts_status", "broadcasts", ["status"])
    op.create_table(
        "self_assessments",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("coordinator_id", sa.BigInteger, nullable=False),
        sa.Column("scores", sa.Text, nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_self_assessments"),
    )
    op.create_index(
        "ix_self_assessments_coordinator_id", "self_assessments", ["coordinator_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_self_assessments_coordinator_id", table_name="self_assessments")
    op.drop_table("self_assessments")
    op.drop_index("ix_broadcasts_status", table_name="broadcasts")
    op.drop_table("broadcasts")
    op.drop_index("ix_audit_log_created_at", table_name="audit_log")
    op.drop_table("audit_log")
