"""ikigai focus: the user's own sentence for what their project does (the picture's centre),
and the message the ikigai's result was sent in (edited when topics change from /profile)

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("ikigai_focus", sa.Text()))
        batch.add_column(sa.Column("ikigai_message_id", sa.BigInteger()))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("ikigai_message_id")
        batch.drop_column("ikigai_focus")
