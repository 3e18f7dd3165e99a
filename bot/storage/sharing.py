"""Opportunity cards shown outside the bot (posted_cards): posts in groups, inline shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.dialect import upsert
from bot.storage.tables import opportunities, posted_cards


@dataclass(frozen=True, slots=True)
class Posted:
    id: int
    opportunity_id: int
    chat_id: int | None
    message_id: int | None
    inline_message_id: str | None
    locale: str


async def add(
    conn: AsyncConnection,
    opportunity_id: int,
    *,
    locale: str,
    now: datetime,
    seq: int,
    updated: datetime,
    phase: str,
    chat_id: int | None = None,
    message_id: int | None = None,
    inline_message_id: str | None = None,
) -> None:
    """Remember a card (an inline message reported twice is kept once)."""
    values = {
        "opportunity_id": opportunity_id,
        "chat_id": chat_id,
        "message_id": message_id,
        "inline_message_id": inline_message_id,
        "locale": locale,
        "shown_seq": seq,
        "shown_updated": updated,
        "shown_phase": phase,
        "created_at": now,
    }
    if inline_message_id is None:
        await conn.execute(posted_cards.insert().values(values))
        return
    await upsert(conn, posted_cards, values, key=["inline_message_id"], update=())


async def stale(conn: AsyncConnection, now: datetime, limit: int) -> list[Posted]:
    """Cards whose opportunity changed since they were drawn (a sign-up, an edit, a
    cancellation), or whose phase has passed (cut-off, start, end)."""
    p, o = posted_cards.c, opportunities.c
    cutoff = func.coalesce(o.signup_until, o.starts_at)
    changed = or_(
        o.seq != p.shown_seq,
        p.shown_updated.is_(None),
        o.updated_at != p.shown_updated,
        and_(p.shown_phase == "open", cutoff <= now),
        and_(p.shown_phase.in_(("open", "closed", "cutoff")), o.starts_at <= now),
        and_(p.shown_phase.not_in(("over", "cancelled")), o.ends_at <= now),
    )
    rows = await conn.execute(
        select(p.id, p.opportunity_id, p.chat_id, p.message_id, p.inline_message_id, p.locale)
        .join(opportunities, o.id == p.opportunity_id)
        .where(changed)
        .order_by(p.id)
        .limit(limit)
    )
    return [Posted(*row) for row in rows.all()]


async def mark_shown(
    conn: AsyncConnection, posted_id: int, seq: int, updated: datetime, phase: str
) -> None:
    await conn.execute(
        update(posted_cards)
        .where(posted_cards.c.id == posted_id)
        .values(shown_seq=seq, shown_updated=updated, shown_phase=phase)
    )


async def forget(conn: AsyncConnection, posted_id: int) -> None:
    """The message is gone (deleted, the bot removed from the chat): stop updating it."""
    await conn.execute(delete(posted_cards).where(posted_cards.c.id == posted_id))


async def of_opportunity(conn: AsyncConnection, opportunity_id: int) -> list[Posted]:
    p = posted_cards.c
    rows = await conn.execute(
        select(p.id, p.opportunity_id, p.chat_id, p.message_id, p.inline_message_id, p.locale)
        .where(p.opportunity_id == opportunity_id)
        .order_by(p.id)
    )
    return [Posted(*row) for row in rows.all()]
