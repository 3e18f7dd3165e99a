"""pushes: user settings, grants and articles added by coordinators, follows, article log, outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=f"fk_{table}_user_id_users", ondelete="CASCADE"
    )


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    on = sa.true()
    op.create_table(
        "user_settings",
        sa.Column("user_id", sa.BigInteger, nullable=False),
        *(
            sa.Column(name, sa.Boolean, nullable=False, server_default=on)
            for name in ("measures", "grants", "articles", "announcements", "opportunities")
        ),
        sa.Column("digest", sa.String(8), nullable=False, server_default="weekly"),
        sa.Column("digest_hour", sa.Integer, nullable=False, server_default="10"),
        sa.Column("digest_weekday", sa.Integer, nullable=False, server_default="0"),
        sa.Column("quiet_start", sa.Integer, nullable=False, server_default="22"),
        sa.Column("quiet_end", sa.Integer, nullable=False, server_default="9"),
        sa.Column("updated_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_user_settings"),
        _user_fk("user_settings"),
    )
    op.create_table(
        "grants",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("organiser", sa.String(300), nullable=False),
        sa.Column("link", sa.String(500), nullable=False),
        sa.Column("who", sa.Text, nullable=False),
        sa.Column("amount", sa.String(200)),
        sa.Column("topics", sa.Text, nullable=False, server_default="[]"),
        sa.Column("phases", sa.Text, nullable=False, server_default="[]"),
        sa.Column("region", sa.String(16)),
        sa.Column("windows", sa.Text, nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("created_by", sa.BigInteger),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("closed_at", ts),
        sa.PrimaryKeyConstraint("id", name="pk_grants"),
    )
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("link", sa.String(500), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("topics", sa.Text, nullable=False, server_default="[]"),
        sa.Column("stages", sa.Text, nullable=False, server_default="[]"),
        sa.Column("created_by", sa.BigInteger),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("closed_at", ts),
        sa.PrimaryKeyConstraint("id", name="pk_articles"),
    )
    op.create_table(
        "grant_follows",
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("grant_key", sa.String(64), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "grant_key", name="pk_grant_follows"),
        _user_fk("grant_follows"),
    )
    op.create_table(
        "article_log",
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("article_key", sa.String(64), nullable=False),
        sa.Column("sent_at", ts),
        sa.Column("read_at", ts),
        sa.PrimaryKeyConstraint("user_id", "article_key", name="pk_article_log"),
        _user_fk("article_log"),
    )
    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            nullable=False,
            autoincrement=True,
        ),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("chat_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("dedup_key", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("batch_id", sa.Integer),
        sa.Column("status", sa.String(12), nullable=False, server_default="pending"),
        sa.Column("not_before", ts, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claimed_at", ts),
        sa.Column("sent_at", ts),
        sa.Column("message_id", sa.BigInteger),
        sa.Column("error", sa.Text),
        sa.Column("created_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("dedup_key", name="uq_outbox_dedup_key"),
        _user_fk("outbox"),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "not_before"])
    op.create_index("ix_outbox_batch_id", "outbox", ["batch_id"])
    op.create_index("ix_outbox_user_id", "outbox", ["user_id"])


def downgrade() -> None:
    for index in ("ix_outbox_user_id", "ix_outbox_batch_id", "ix_outbox_due"):
        op.drop_index(index, table_name="outbox")
    for table in (
        "outbox",
        "article_log",
        "grant_follows",
        "articles",
        "grants",
        "user_settings",
    ):
        op.drop_table(table)
