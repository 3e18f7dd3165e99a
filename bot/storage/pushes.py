"""What the push planner reads in one go: every user it may write to, with what it needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.settings import PushSettings, from_row
from bot.storage.tables import outbox, quiz_results, user_settings, user_topics, users


@dataclass(frozen=True, slots=True)
class Recipient:
    id: int
    locale: str | None
    timezone: str | None
    region: str | None
    consent_at: datetime
    stage: int | None
    topics: frozenset[str]
    settings: PushSettings


async def recipients(conn: AsyncConnection) -> list[Recipient]:
    """Users who consented and have not blocked the bot, with settings, stage and topics."""
    latest = (
        select(quiz_results.c.user_id, func.max(quiz_results.c.id).label("id"))
        .group_by(quiz_results.c.user_id)
        .subquery()
    )
    stage = (
        select(quiz_results.c.user_id, quiz_results.c.stage)
        .join(latest, latest.c.id == quiz_results.c.id)
        .subquery()
    )
    query = (
        select(users, user_settings, stage.c.stage)
        .select_from(users)
        .outerjoin(user_settings, user_settings.c.user_id == users.c.id)
        .outerjoin(stage, stage.c.user_id == users.c.id)
        .where(users.c.consent_at.is_not(None), users.c.blocked.is_(False))
    )
    topics: dict[int, set[str]] = {}
    for user_id, topic in await conn.execute(select(user_topics.c.user_id, user_topics.c.topic)):
        topics.setdefault(user_id, set()).add(topic)
    result = []
    for row in (await conn.execute(query)).mappings():
        settings = from_row(row) if row[user_settings.c.user_id] is not None else PushSettings()
        result.append(
            Recipient(
                id=row[users.c.id],
                locale=row[users.c.locale],
                timezone=row[users.c.timezone],
                region=row[users.c.region],
                consent_at=row[users.c.consent_at],
                stage=row[stage.c.stage],
                topics=frozenset(topics.get(row[users.c.id], ())),
                settings=settings,
            )
        )
    return result


async def recent_keys(conn: AsyncConnection, kinds: tuple[str, ...], since: datetime) -> set[str]:
    """Dedup keys of rows of these kinds created since `since` (what is already planned)."""
    rows = await conn.execute(
        select(outbox.c.dedup_key).where(outbox.c.kind.in_(kinds), outbox.c.created_at >= since)
    )
    return set(rows.scalars())
