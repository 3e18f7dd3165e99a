"""broadcasts.locale: the language the author composed in, for the progress and the report

A coordinator appointed by id who never chose a language has no stored locale; after a restart
the progress message then fell back to the default. The broadcast now keeps its own.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("broadcasts") as batch:
        batch.add_column(sa.Column("locale", sa.String(8)))


def downgrade() -> None:
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_column("locale")
