"""The consultation desk: questions to the coordinators, their messages, the work group

Revision ID: 0014
Revises: 0018
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "desk_questions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "user_id",
            sa.BigInteger(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("files", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("taken_by", sa.BigInteger()),
        sa.Column("group_id", sa.BigInteger()),
        sa.Column("thread_id", sa.BigInteger()),
        sa.Column("rating", sa.Integer()),
        sa.Column("rating_comment", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True)),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
        sa.Column("active_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("reminded_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_desk_questions_user_id", "desk_questions", ["user_id"])
    op.create_index("ix_desk_questions_status", "desk_questions", ["status"])
    op.create_index("ix_desk_questions_thread", "desk_questions", ["group_id", "thread_id"])
    op.create_table(
        "desk_messages",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "question_id",
            sa.Integer(),
            sa.ForeignKey("desk_questions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "asker_id",
            sa.BigInteger(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("author_id", sa.BigInteger()),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_desk_messages_question_id", "desk_messages", ["question_id"])
    op.create_table(
        "desk_group",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(255)),
        sa.Column("set_by", sa.BigInteger()),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("desk_group")
    op.drop_table("desk_messages")
    op.drop_table("desk_questions")
