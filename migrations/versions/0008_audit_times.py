"""audit_log.times: refused presses are counted in one row, not logged one by one

Forty forged presses wrote forty rows and pushed a real coordinator appointment off /audit.
A refusal now adds one to the row of the same actor, action and target opened within the
hour; every other action still writes a row of its own (times = 1).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("times", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("times")
