"""the activist journey: ikigai, topics, problems, crises, quiz results, local measures

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=f"fk_{table}_user_id_users", ondelete="CASCADE"
    )


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("region", sa.String(16)))
        batch.add_column(sa.Column("ikigai_done_at", sa.DateTime(timezone=True)))
    op.create_table(
        "ikigai_entries",
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("col", sa.String(8), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "col", "position", name="pk_ikigai_entries"),
        _user_fk("ikigai_entries"),
    )
    for table, column, length in (
        ("user_topics", "topic", 32),
        ("user_problems", "problem", 48),
        ("user_crises", "reaction", 32),
    ):
        op.create_table(
            table,
            sa.Column("user_id", sa.BigInteger, nullable=False),
            sa.Column(column, sa.String(length), nullable=False),
            sa.PrimaryKeyConstraint("user_id", column, name=f"pk_{table}"),
            _user_fk(table),
        )
    op.create_table(
        "quiz_results",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("stage", sa.Integer, nullable=False),
        sa.Column("answers", sa.Text, nullable=False),
        sa.Column("taken_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_quiz_results"),
        _user_fk("quiz_results"),
    )
    op.create_index("ix_quiz_results_user_id", "quiz_results", ["user_id"])
    op.create_table(
        "local_measures",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("phase", sa.String(16)),
        sa.Column("region", sa.String(16)),
        sa.Column("topics", sa.Text, nullable=False, server_default="[]"),
        sa.Column("problems", sa.Text, nullable=False, server_default="[]"),
        sa.Column("contact", sa.String(200)),
        sa.Column("link", sa.String(500)),
        sa.Column("created_by", sa.BigInteger),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("closed_at", ts),
        sa.PrimaryKeyConstraint("id", name="pk_local_measures"),
    )


def downgrade() -> None:
    op.drop_table("local_measures")
    op.drop_index("ix_quiz_results_user_id", table_name="quiz_results")
    for table in ("quiz_results", "user_crises", "user_problems", "user_topics", "ikigai_entries"):
        op.drop_table(table)
    with op.batch_alter_table("users") as batch:
        batch.drop_column("ikigai_done_at")
        batch.drop_column("region")
