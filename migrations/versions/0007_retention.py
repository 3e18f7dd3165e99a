"""users.last_seen_at for the retention term; announcements become a separate opt-in

The retention purge deletes a user two years (RETENTION_DAYS) after their last action, so the
last action is kept: `last_seen_at`, written at most once a day. Coordinators' announcements are
a mailing, which 152-ФЗ wants consented to on its own: `user_settings.announcements` is NULL
until the user answers the question the bot now asks after consent. It used to default to on
with the consent bundled, so rows that were on become "not asked yet"; rows turned off stay off.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_settings = sa.table("user_settings", sa.column("announcements", sa.Boolean()))


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("user_settings") as batch:
        batch.alter_column(
            "announcements", existing_type=sa.Boolean(), nullable=True, server_default=None
        )
    op.execute(
        _settings.update().where(_settings.c.announcements.is_(True)).values(announcements=None)
    )


def downgrade() -> None:
    op.execute(
        _settings.update().where(_settings.c.announcements.is_(None)).values(announcements=True)
    )
    with op.batch_alter_table("user_settings") as batch:
        batch.alter_column(
            "announcements",
            existing_type=sa.Boolean(),
            nullable=False,
            server_default=sa.true(),
        )
    with op.batch_alter_table("users") as batch:
        batch.drop_column("last_seen_at")
