"""The consultation desk's rows: questions (`desk_questions`), the messages of each question's
conversation (`desk_messages`), the coordinators' work group (`desk_group`, one row), the
outside experts (`desk_experts`) and their one-time invitations (`desk_invites`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.dialect import upsert
from bot.storage.tables import (
    desk_experts,
    desk_group,
    desk_invites,
    desk_messages,
    desk_questions,
)

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


async def open_questions(
    conn: AsyncConnection, kinds: frozenset[str] | None = None, taker: int | None = None
) -> list[Question]:
    """Questions still being worked on: all (`kinds` None, a coordinator's inbox), or an
    expert's — of `kinds`, new or taken by `taker`."""
    q = desk_questions.c
    query = select(desk_questions).where(q.status.in_(OPEN))
    if kinds is not None:
        query = query.where(q.kind.in_(sorted(kinds)), or_(q.status == "new", q.taken_by == taker))
    rows = await conn.execute(query.order_by(desk_questions.c.id))
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
) -> list[tuple[str, str, datetime, datetime | None, int | None, tuple[str, ...]]]:
    """Every question's kind, status, times, rating and the topics it shared, for /stats (no
    one's text or id)."""
    q = desk_questions.c
    rows = await conn.execute(
        select(q.kind, q.status, q.created_at, q.answered_at, q.rating, q.context)
    )
    return [
        (r[0], r[1], r[2], r[3], r[4], tuple(json.loads(r[5]).get("topics") or ()))
        for r in rows.all()
    ]


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


# --------------------------------------------------------------------------- outside experts


@dataclass(frozen=True, slots=True)
class Invite:
    id: int
    kinds: tuple[str, ...]
    created_by: int
    created_at: datetime
    expires_at: datetime
    used_by: int | None
    used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Expert:
    user_id: int
    kinds: tuple[str, ...]
    invited_by: int | None
    joined_at: datetime
    answered: int  # questions they answered at least once


def _kinds(text: str) -> tuple[str, ...]:
    return tuple(k for k in text.split(",") if k)


def _invite(row: Any) -> Invite:
    values = dict(row)
    values.pop("token_hash", None)
    values["kinds"] = _kinds(values["kinds"])
    return Invite(**values)


async def add_invite(
    conn: AsyncConnection,
    token_hash: str,
    kinds: tuple[str, ...],
    by: int,
    now: datetime,
    expires_at: datetime,
) -> int:
    result = await conn.execute(
        insert(desk_invites).values(
            token_hash=token_hash,
            kinds=",".join(kinds),
            created_by=by,
            created_at=now,
            expires_at=expires_at,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def invite_by_hash(conn: AsyncConnection, token_hash: str) -> Invite | None:
    row = (
        (await conn.execute(select(desk_invites).where(desk_invites.c.token_hash == token_hash)))
        .mappings()
        .first()
    )
    return _invite(row) if row else None


async def get_invite(conn: AsyncConnection, invite_id: int) -> Invite | None:
    row = (
        (await conn.execute(select(desk_invites).where(desk_invites.c.id == invite_id)))
        .mappings()
        .first()
    )
    return _invite(row) if row else None


async def pending_invites(conn: AsyncConnection, now: datetime) -> list[Invite]:
    """Invitations not used, revoked or expired, oldest first."""
    i = desk_invites.c
    rows = await conn.execute(
        select(desk_invites)
        .where(i.used_at.is_(None), i.revoked_at.is_(None), i.expires_at > now)
        .order_by(i.id)
    )
    return [_invite(r) for r in rows.mappings()]


async def use_invite(conn: AsyncConnection, invite_id: int, user_id: int, now: datetime) -> bool:
    """Mark the invitation used, if it still may be (one statement: a link opened twice at
    once is used once)."""
    i = desk_invites.c
    result = await conn.execute(
        update(desk_invites)
        .where(i.id == invite_id, i.used_at.is_(None), i.revoked_at.is_(None), i.expires_at > now)
        .values(used_by=user_id, used_at=now)
    )
    return bool(result.rowcount)


async def revoke_invite(conn: AsyncConnection, invite_id: int, now: datetime) -> bool:
    i = desk_invites.c
    result = await conn.execute(
        update(desk_invites)
        .where(i.id == invite_id, i.used_at.is_(None), i.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(result.rowcount)


def _answered() -> Any:
    m = desk_messages.c
    return (
        select(func.count(func.distinct(m.question_id)))
        .where(m.author_id == desk_experts.c.user_id)
        .scalar_subquery()
    )


async def expert(conn: AsyncConnection, user_id: int) -> Expert | None:
    e = desk_experts.c
    row = (
        await conn.execute(
            select(e.user_id, e.kinds, e.invited_by, e.joined_at, _answered()).where(
                e.user_id == user_id
            )
        )
    ).first()
    return Expert(row[0], _kinds(row[1]), row[2], row[3], int(row[4])) if row else None


async def experts(conn: AsyncConnection) -> list[Expert]:
    e = desk_experts.c
    rows = await conn.execute(
        select(e.user_id, e.kinds, e.invited_by, e.joined_at, _answered()).order_by(
            e.joined_at, e.user_id
        )
    )
    return [Expert(r[0], _kinds(r[1]), r[2], r[3], int(r[4])) for r in rows.all()]


async def is_expert(conn: AsyncConnection, user_id: int | None) -> bool:
    if user_id is None:
        return False
    e = desk_experts.c
    return (await conn.execute(select(e.user_id).where(e.user_id == user_id))).first() is not None


async def experts_of(conn: AsyncConnection, kind: str) -> list[int]:
    """The experts who answer questions of `kind`."""
    rows = await conn.execute(select(desk_experts.c.user_id, desk_experts.c.kinds))
    return [int(uid) for uid, kinds in rows.all() if kind in _kinds(kinds)]


async def set_expert(
    conn: AsyncConnection, user_id: int, kinds: tuple[str, ...], by: int, now: datetime
) -> None:
    await upsert(
        conn,
        desk_experts,
        {"user_id": user_id, "kinds": ",".join(kinds), "invited_by": by, "joined_at": now},
        key=["user_id"],
        update=("kinds",),
    )


async def remove_expert(conn: AsyncConnection, user_id: int) -> bool:
    result = await conn.execute(delete(desk_experts).where(desk_experts.c.user_id == user_id))
    return bool(result.rowcount)


async def export_expert(conn: AsyncConnection, user_id: int) -> dict[str, Any] | None:
    """/my_data: their expert record (the kinds they answer, since when, how many answered)."""
    found = await expert(conn, user_id)
    if found is None:
        return None
    return {"kinds": list(found.kinds), "since": found.joined_at, "answered": found.answered}
