"""The consultation desk's rows: questions (`desk_questions`), the messages of each question's
conversation (`desk_messages`) and the coordinators' work group (`desk_group`, one row)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.dialect import upsert
from bot.storage.tables import desk_group, desk_messages, desk_questions

OPEN = ("new", "taken", "answered")  # the statuses of a question still being worked on


@dataclass(frozen=True, slots=True)
class Question:
    id: int
    user_id: int
    kind: str
    text: str
    context: dict[str, Any]
    files: list[dict[str, str]]
    status: str
    taken_by: int | None
    group_id: int | None
    thread_id: int | None
    rating: int | None
    rating_comment: str | None
    created_at: datetime
    taken_at: datetime | None
    answered_at: datetime | None
    active_at: datetime
    closed_at: datetime | None
    reminded_at: datetime | None
    faq_permission: bool | None = None  # «Частые вопросы»: None, not asked yet


@dataclass(frozen=True, slots=True)
class DeskMessage:
    author_id: int | None  # None: the asker
    text: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeskGroup:
    chat_id: int
    title: str | None
    set_by: int | None


def _question(row: Any) -> Question:
    values = dict(row)
    values["context"] = json.loads(values["context"])
    values["files"] = json.loads(values["files"] or "[]")
    return Question(**values)


async def create(
    conn: AsyncConnection,
    user_id: int,
    kind: str,
    text: str,
    context: dict[str, Any],
    now: datetime,
    files: list[dict[str, str]] | None = None,
) -> int:
    result = await conn.execute(
        insert(desk_questions).values(
            user_id=user_id,
            kind=kind,
            text=text,
            context=json.dumps(context, ensure_ascii=False),
            files=json.dumps(files or [], ensure_ascii=False),
            status="new",
            created_at=now,
            active_at=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def get(conn: AsyncConnection, question_id: int) -> Question | None:
    row = (
        (await conn.execute(select(desk_questions).where(desk_questions.c.id == question_id)))
        .mappings()
        .first()
    )
    return _question(row) if row else None


async def by_thread(conn: AsyncConnection, group_id: int, thread_id: int) -> Question | None:
    q = desk_questions.c
    row = (
        (
            await conn.execute(
                select(desk_questions).where(q.group_id == group_id, q.thread_id == thread_id)
            )
        )
        .mappings()
        .first()
    )
    return _question(row) if row else None


async def of_user(conn: AsyncConnection, user_id: int) -> list[Question]:
    rows = await conn.execute(
        select(desk_questions)
        .where(desk_questions.c.user_id == user_id)
        .order_by(desk_questions.c.id.desc())
    )
    return [_question(r) for r in rows.mappings()]


async def open_questions(conn: AsyncConnection) -> list[Question]:
    rows = await conn.execute(
        select(desk_questions)
        .where(desk_questions.c.status.in_(OPEN))
        .order_by(desk_questions.c.id)
    )
    return [_question(r) for r in rows.mappings()]


async def change(
    conn: AsyncConnection, question_id: int, statuses: tuple[str, ...], **values: Any
) -> bool:
    """Set `values` if the question is in one of `statuses` (one statement: two coordinators
    taking it at once, one wins); False when it is not."""
    q = desk_questions.c
    result = await conn.execute(
        update(desk_questions).where(q.id == question_id, q.status.in_(statuses)).values(**values)
    )
    return bool(result.rowcount)


async def add_message(
    conn: AsyncConnection,
    question: Question,
    author_id: int | None,
    text: str,
    now: datetime,
) -> int:
    result = await conn.execute(
        insert(desk_messages).values(
            question_id=question.id,
            asker_id=question.user_id,
            author_id=author_id,
            text=text,
            created_at=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def messages(conn: AsyncConnection, question_id: int) -> list[DeskMessage]:
    m = desk_messages.c
    rows = await conn.execute(
        select(m.author_id, m.text, m.created_at)
        .where(m.question_id == question_id)
        .order_by(m.id)
    )
    return [DeskMessage(*r) for r in rows.all()]


async def silent_answered(conn: AsyncConnection, before: datetime) -> list[Question]:
    """Answered questions with no message since `before` (closed after a week of silence)."""
    q = desk_questions.c
    rows = await conn.execute(
        select(desk_questions).where(q.status == "answered", q.active_at < before)
    )
    return [_question(r) for r in rows.mappings()]


async def not_taken(conn: AsyncConnection, before: datetime) -> list[Question]:
    """New questions asked before `before` the group was not yet reminded of."""
    q = desk_questions.c
    rows = await conn.execute(
        select(desk_questions)
        .where(q.status == "new", q.created_at < before, q.reminded_at.is_(None))
        .order_by(q.id)
    )
    return [_question(r) for r in rows.mappings()]


async def figures_rows(
    conn: AsyncConnection,
) -> list[tuple[str, str, datetime, datetime | None, int | None]]:
    """Every question's kind, status, times and rating, for /stats (no one's text or id)."""
    q = desk_questions.c
    rows = await conn.execute(select(q.kind, q.status, q.created_at, q.answered_at, q.rating))
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows.all()]


async def group(conn: AsyncConnection) -> DeskGroup | None:
    g = desk_group.c
    row = (await conn.execute(select(g.chat_id, g.title, g.set_by).where(g.id == 1))).first()
    return DeskGroup(*row) if row else None


async def set_group(
    conn: AsyncConnection, chat_id: int, title: str | None, by: int, now: datetime
) -> None:
    await upsert(
        conn,
        desk_group,
        {"id": 1, "chat_id": chat_id, "title": title, "set_by": by, "set_at": now},
        key=["id"],
    )


async def clear_group(conn: AsyncConnection) -> None:
    await conn.execute(delete(desk_group))


async def export(conn: AsyncConnection, user_id: int) -> list[dict[str, Any]]:
    """/my_data: the person's questions with their conversation (who answered stays unnamed)."""
    found = []
    for question in reversed(await of_user(conn, user_id)):
        found.append(
            {
                "number": question.id,
                "kind": question.kind,
                "text": question.text,
                "shared": question.context,
                "files": [f.get("name") or f["kind"] for f in question.files],
                "status": question.status,
                "asked_at": question.created_at,
                "closed_at": question.closed_at,
                "rating": question.rating,
                "rating_comment": question.rating_comment,
                "faq_permission": question.faq_permission,
                "messages": [
                    {
                        "from": "you" if m.author_id is None else "coordinator",
                        "text": m.text,
                        "at": m.created_at,
                    }
                    for m in await messages(conn, question.id)
                ],
            }
        )
    return found
