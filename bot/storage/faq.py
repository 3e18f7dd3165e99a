"""«Частые вопросы»: the asker's permission (`desk_questions.faq_permission`) and the entries
(`faq_entries`): a draft a coordinator is editing, a published one, a hidden one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.faq import carries
from bot.storage.tables import desk_questions, faq_entries, users

DRAFT, PUBLISHED, HIDDEN = "draft", "published", "hidden"
STATUSES = (DRAFT, PUBLISHED, HIDDEN)
ANSWERED = ("answered", "closed")  # a question with an answer: a candidate, if allowed


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    question_id: int | None
    kind: str
    question: str
    answer: str
    status: str
    edited_by: int | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class Candidate:
    """An answered question the asker allowed to publish, with its entry if one was begun."""

    question_id: int
    kind: str
    entry_status: str | None


def _entry(row: Any) -> Entry:
    return Entry(**dict(row))


async def set_permission(
    conn: AsyncConnection, question_id: int, user_id: int, allowed: bool
) -> bool:
    """The asker's yes or no (False: not their question)."""
    q = desk_questions.c
    result = await conn.execute(
        update(desk_questions)
        .where(q.id == question_id, q.user_id == user_id)
        .values(faq_permission=allowed)
    )
    return bool(result.rowcount)


async def permission(conn: AsyncConnection, question_id: int) -> bool | None:
    q = desk_questions.c
    return (
        await conn.execute(select(q.faq_permission).where(q.id == question_id))
    ).scalar_one_or_none()


async def candidates(conn: AsyncConnection) -> list[Candidate]:
    """Answered questions with the asker's yes not published yet (no entry, or a draft),
    oldest first; a hidden entry is among the entries, not the candidates."""
    q, f = desk_questions.c, faq_entries.c
    rows = await conn.execute(
        select(q.id, q.kind, f.status)
        .outerjoin(faq_entries, f.question_id == q.id)
        .where(
            q.faq_permission.is_(True),
            q.answered_at.is_not(None),
            q.status.in_(ANSWERED),
            f.status.is_(None) | (f.status == DRAFT),
        )
        .order_by(q.id)
    )
    return [Candidate(*r) for r in rows.all()]


async def get(conn: AsyncConnection, entry_id: int) -> Entry | None:
    row = (
        (await conn.execute(select(faq_entries).where(faq_entries.c.id == entry_id)))
        .mappings()
        .first()
    )
    return _entry(row) if row else None


async def of_question(conn: AsyncConnection, question_id: int) -> Entry | None:
    row = (
        (await conn.execute(select(faq_entries).where(faq_entries.c.question_id == question_id)))
        .mappings()
        .first()
    )
    return _entry(row) if row else None


async def listed(conn: AsyncConnection, statuses: tuple[str, ...] = (PUBLISHED,)) -> list[Entry]:
    f = faq_entries.c
    rows = await conn.execute(
        select(faq_entries).where(f.status.in_(statuses)).order_by(f.kind, f.id)
    )
    return [_entry(r) for r in rows.mappings()]


async def create(
    conn: AsyncConnection,
    question_id: int,
    kind: str,
    question: str,
    answer: str,
    by: int,
    now: datetime,
) -> int:
    result = await conn.execute(
        insert(faq_entries).values(
            question_id=question_id,
            kind=kind,
            question=question,
            answer=answer,
            status=DRAFT,
            edited_by=by,
            created_at=now,
            updated_at=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def change(
    conn: AsyncConnection, entry_id: int, statuses: tuple[str, ...], **values: Any
) -> bool:
    f = faq_entries.c
    result = await conn.execute(
        update(faq_entries).where(f.id == entry_id, f.status.in_(statuses)).values(**values)
    )
    return bool(result.rowcount)


async def delete_unpublished(conn: AsyncConnection, question_id: int) -> None:
    f = faq_entries.c
    await conn.execute(
        delete(faq_entries).where(f.question_id == question_id, f.status != PUBLISHED)
    )


async def before_erasure(conn: AsyncConnection, user_id: int) -> None:
    """/delete_me of an asker (before their questions go): an entry not published goes with
    its question; a published one stays, cut from the question, only if it no longer names
    them (their first name, last name or username, in any case form) — else it goes too."""
    u = users.c
    row = (
        await conn.execute(select(u.first_name, u.last_name, u.username).where(u.id == user_id))
    ).first()
    names = tuple(row) if row is not None else ()
    f, q = faq_entries.c, desk_questions.c
    theirs = select(q.id).where(q.user_id == user_id)
    rows = await conn.execute(
        select(f.id, f.status, f.question, f.answer).where(f.question_id.in_(theirs))
    )
    for entry_id, status, question, answer in rows.all():
        if status != PUBLISHED or carries(f"{question}\n{answer}", names):
            await conn.execute(delete(faq_entries).where(f.id == entry_id))
        else:
            await conn.execute(
                update(faq_entries).where(f.id == entry_id).values(question_id=None)
            )
