"""opportunities: shifts and roles (parent_id, role); signups: the day-before confirmation,
the volunteer's rating and comment, the organiser's
correction of the hours; certificates: what a downloaded certificate certified, checked by code

Revision ID: 0016
Revises: 0018
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("opportunities") as batch:
        batch.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("role", sa.String(60), nullable=True))
        batch.create_foreign_key(
            "fk_opportunities_parent_id_opportunities",
            "opportunities",
            ["parent_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index("ix_opportunities_parent_id", ["parent_id"])
    with op.batch_alter_table("signups") as batch:
        batch.add_column(sa.Column("confirm", sa.String(8), nullable=True))
        batch.add_column(sa.Column("confirm_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("rating", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("comment", sa.Text(), nullable=True))
        batch.add_column(sa.Column("thanked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("minutes", sa.Integer(), nullable=True))
    op.create_table(
        "certificates",
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_certificates"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_certificates_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_certificates_user_id", "certificates", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_certificates_user_id", "certificates")
    op.drop_table("certificates")
    with op.batch_alter_table("signups") as batch:
        for name in ("minutes", "thanked_at", "comment", "rating", "confirm_at", "confirm"):
            batch.drop_column(name)
    with op.batch_alter_table("opportunities") as batch:
        batch.drop_index("ix_opportunities_parent_id")
        batch.drop_constraint("fk_opportunities_parent_id_opportunities", type_="foreignkey")
        batch.drop_column("role")
        batch.drop_column("parent_id")
