"""volunteering: opportunities, sign-ups, their change log, volunteer profiles

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=f"fk_{table}_user_id_users", ondelete="CASCADE"
    )


def _opportunity_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["opportunity_id"],
        ["opportunities.id"],
        name=f"fk_{table}_opportunity_id_opportunities",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "opportunities",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("topic", sa.String(32), nullable=False),
        sa.Column("place", sa.String(300)),
        sa.Column("link", sa.String(500)),
        sa.Column("region", sa.String(16)),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("starts_at", ts, nullable=False),
        sa.Column("ends_at", ts, nullable=False),
        sa.Column("capacity", sa.Integer),
        sa.Column("signup_until", ts),
        sa.Column("contact", sa.String(200)),
        sa.Column("status", sa.String(12), nullable=False, server_default="open"),
        sa.Column("seq", sa.Integer, nullable=False, server_default="0"),
        sa.Column("noticed_change", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_by", sa.BigInteger, nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_opportunities"),
    )
    op.create_index("ix_opportunities_starts_at", "opportunities", ["starts_at"])
    op.create_table(
        "signups",
        sa.Column("opportunity_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("status_at", ts, nullable=False),
        sa.Column("attended", sa.Boolean),
        sa.PrimaryKeyConstraint("opportunity_id", "user_id", name="pk_signups"),
        _opportunity_fk("signups"),
        _user_fk("signups"),
    )
    op.create_index("ix_signups_user_id", "signups", ["user_id"])
    op.create_table(
        "opportunity_changes",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("opportunity_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("change", sa.String(12), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_opportunity_changes"),
        _opportunity_fk("opportunity_changes"),
        _user_fk("opportunity_changes"),
    )
    op.create_index(
        "ix_opportunity_changes_opportunity_id", "opportunity_changes", ["opportunity_id"]
    )
    op.create_index("ix_opportunity_changes_user_id", "opportunity_changes", ["user_id"])
    op.create_table(
        "volunteer_profiles",
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("skills", sa.Text, nullable=False, server_default="[]"),
        sa.Column("availability", sa.Text, nullable=False, server_default="[]"),
        sa.Column("updated_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_volunteer_profiles"),
        _user_fk("volunteer_profiles"),
    )


def downgrade() -> None:
    op.drop_table("volunteer_profiles")
    op.drop_index("ix_opportunity_changes_user_id", table_name="opportunity_changes")
    op.drop_index("ix_opportunity_changes_opportunity_id", table_name="opportunity_changes")
    op.drop_table("opportunity_changes")
    op.drop_index("ix_signups_user_id", table_name="signups")
    op.drop_table("signups")
    op.drop_index("ix_opportunities_starts_at", table_name="opportunities")
    op.drop_table("opportunities")
