"""users, roles and FSM state

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("first_name", sa.String(128)),
        sa.Column("last_name", sa.String(128)),
        sa.Column("username", sa.String(64)),
        sa.Column("locale", sa.String(8)),
        sa.Column("timezone", sa.String(64)),
        sa.Column("consent_version", sa.String(16)),
        sa.Column("consent_at", ts),
        sa.Column("blocked", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("blocked_at", ts),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
    )
    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("granted_by", sa.BigInteger),
        sa.Column("granted_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "role", name="pk_user_roles"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_user_roles_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "fsm_states",
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("user_id", sa.BigInteger),
        sa.Column("state", sa.String(255)),
        sa.Column("data", sa.Text, nullable=False, server_default="{}"),
        sa.Column("updated_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_fsm_states"),
    )
    op.create_index("ix_fsm_states_user_id", "fsm_states", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_fsm_states_user_id", table_name="fsm_states")
    op.drop_table("fsm_states")
    op.drop_table("user_roles")
    op.drop_table("users")
