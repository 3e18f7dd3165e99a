"""The groups and channels where the bot may post (bot_chats), as my_chat_member told."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.tables import bot_chats, posted_cards


@dataclass(frozen=True, slots=True)
class KnownChat:
    chat_id: int
    type: str
    title: str
    username: str | None


async def _changed_at(conn: AsyncConnection, chat_id: int) -> datetime | None:
    found = await conn.execute(
        select(bot_chats.c.changed_at).where(bot_chats.c.chat_id == chat_id)
    )
    return found.scalar_one_or_none()


async def remember(conn: AsyncConnection, chat: KnownChat, at: datetime) -> bool:
    """The bot may post in `chat` since `at`; False when a later change is already stored."""
    was = await _changed_at(conn, chat.chat_id)
    if was is not None and was > at:
        return False
    values = {
        "type": chat.type,
        "title": chat.title[:255],
        "username": chat.username,
        "changed_at": at,
    }
    if was is None:
        await conn.execute(bot_chats.insert().values(chat_id=chat.chat_id, **values))
    else:
        await conn.execute(
            update(bot_chats).where(bot_chats.c.chat_id == chat.chat_id).values(values)
        )
    return True


async def forget(conn: AsyncConnection, chat_id: int, at: datetime, *, removed: bool) -> bool:
    """The bot was demoted (or, `removed`, left the chat: the cards posted there go too) at
    `at`, unless it was added again later. True when the chat was known."""
    was = await _changed_at(conn, chat_id)
    if was is not None and was > at:
        return False
    await conn.execute(delete(bot_chats).where(bot_chats.c.chat_id == chat_id))
    if removed:
        await conn.execute(delete(posted_cards).where(posted_cards.c.chat_id == chat_id))
    return was is not None


async def retitle(conn: AsyncConnection, chat_id: int, title: str, username: str | None) -> None:
    await conn.execute(
        update(bot_chats)
        .where(bot_chats.c.chat_id == chat_id)
        .values(title=title[:255], username=username)
    )


async def get(conn: AsyncConnection, chat_id: int) -> KnownChat | None:
    c = bot_chats.c
    row = (
        await conn.execute(
            select(c.chat_id, c.type, c.title, c.username).where(c.chat_id == chat_id)
        )
    ).first()
    return KnownChat(*row) if row is not None else None


async def recent(
    conn: AsyncConnection, limit: int, exclude: Sequence[int] = ()
) -> list[KnownChat]:
    """The chats the bot was added to most recently first."""
    c = bot_chats.c
    query = select(c.chat_id, c.type, c.title, c.username)
    if exclude:
        query = query.where(c.chat_id.not_in(list(exclude)))
    rows = await conn.execute(query.order_by(c.changed_at.desc(), c.chat_id).limit(limit))
    return [KnownChat(*row) for row in rows.all()]
