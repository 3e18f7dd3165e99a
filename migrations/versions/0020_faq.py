"""«Частые вопросы»: the asker's permission on desk_questions (faq_permission) and the
published entries (faq_entries)

Revision ID: 0020
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("desk_questions") as batch:
        batch.add_column(sa.Column("faq_permission", sa.Boolean(), nullable=True))
    op.create_table(
        "faq_entries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("edited_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["desk_questions.id"],
            name="fk_faq_entries_question_id_desk_questions",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("question_id", name="uq_faq_entries_question_id"),
    )
    op.create_index("ix_faq_entries_status", "faq_entries", ["status"])


def downgrade() -> None:
    op.drop_index("ix_faq_entries_status", "faq_entries")
    op.drop_table("faq_entries")
    with op.batch_alter_table("desk_questions") as batch:
        batch.drop_column("faq_permission")
