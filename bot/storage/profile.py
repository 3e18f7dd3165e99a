"""What an activist told us: ikigai entries, topics, problems, crisis reactions, quiz results."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Table,
    bindparam,
    delete,
    insert,
    literal,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.tables import (
    ikigai_entries,
    quiz_results,
    user_crises,
    user_problems,
    user_topics,
)


@dataclass(frozen=True, slots=True)
class QuizRecord:
    id: int
    stage: int
    answers: dict[str, str]
    taken_at: datetime


# --- ikigai ---


# The reads of a screen are built once, with the user as a bound parameter: building a
# statement costs more than SQLite's part in running it.
_IKIGAI = (
    select(ikigai_entries.c.col, ikigai_entries.c.text)
    .where(ikigai_entries.c.user_id == bindparam("user_id"))
    .order_by(ikigai_entries.c.col, ikigai_entries.c.position)
)


async def ikigai(conn: AsyncConnection, user_id: int) -> dict[str, list[str]]:
    """{"want": [...], "can": [...], "need": [...]}, entries in their order."""
    return _columns(await conn.execute(_IKIGAI, {"user_id": user_id}))


def _columns(rows: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """(column, text) rows, in their order, as the ikigai's columns."""
    result: dict[str, list[str]] = {"want": [], "can": [], "need": []}
    for col, text in rows:
        result.setdefault(col, []).append(text)
    return result


async def set_ikigai_column(
    conn: AsyncConnection, user_id: int, col: str, entries: Iterable[str], now: datetime
) -> None:
    """Replace one column's entries (positions renumbered from 1)."""
    await conn.execute(
        delete(ikigai_entries).where(
            ikigai_entries.c.user_id == user_id, ikigai_entries.c.col == col
        )
    )
    rows = [
        {"user_id": user_id, "col": col, "position": i, "text": text, "updated_at": now}
        for i, text in enumerate(entries, start=1)
    ]
    if rows:
        await conn.execute(insert(ikigai_entries), rows)


# --- code sets: topics, problems, crisis reactions ---

_SETS: dict[str, tuple[Table, str]] = {
    "topics": (user_topics, "topic"),
    "problems": (user_problems, "problem"),
    "crises": (user_crises, "reaction"),
}


_CODES = {
    kind: select(table.c[column]).where(table.c.user_id == bindparam("user_id"))
    for kind, (table, column) in _SETS.items()
}
# What the user told us at once (`told`): the quiz results (kind "quiz": the answers, the id as
# the position, the stage and the time), the ikigai entries (kind: the column) and every set
# of codes (kind: "topics", …), one statement. The quiz's select comes first, so the union's
# columns take its types (the others leave stage and time NULL).
_QUIZ = "quiz"
_TOLD = union_all(
    select(
        literal(_QUIZ).label("kind"),
        quiz_results.c.answers.label("value"),
        quiz_results.c.id.label("position"),
        quiz_results.c.stage,
        quiz_results.c.taken_at,
    ).where(quiz_results.c.user_id == bindparam("user_id")),
    select(
        ikigai_entries.c.col,
        ikigai_entries.c.text,
        ikigai_entries.c.position,
        null(),
        null(),
    ).where(ikigai_entries.c.user_id == bindparam("user_id")),
    *(
        select(literal(kind), table.c[column], literal(0), null(), null()).where(
            table.c.user_id == bindparam("user_id")
        )
        for kind, (table, column) in _SETS.items()
    ),
).order_by(literal_column("kind"), literal_column("position"))


async def codes(conn: AsyncConnection, user_id: int, kind: str) -> frozenset[str]:
    rows = await conn.execute(_CODES[kind], {"user_id": user_id})
    return frozenset(rows.scalars())


async def told(
    conn: AsyncConnection, user_id: int
) -> tuple[dict[str, list[str]], dict[str, frozenset[str]], list[QuizRecord]]:
    """The ikigai (as `ikigai`), every kind of `_SETS` (as `codes`) and the quiz history (as
    `quiz_history`), one statement."""
    entries: list[tuple[str, str]] = []
    found: dict[str, set[str]] = {kind: set() for kind in _SETS}
    history: list[QuizRecord] = []
    for kind, value, position, stage, taken_at in await conn.execute(_TOLD, {"user_id": user_id}):
        if kind == _QUIZ:
            history.append(QuizRecord(position, stage, json.loads(value), taken_at))
        elif kind in found:
            found[kind].add(value)
        else:
            entries.append((kind, value))
    history.sort(key=_oldest_first)
    return (
        _columns(entries),
        {kind: frozenset(codes) for kind, codes in found.items()},
        history,
    )


async def set_codes(conn: AsyncConnection, user_id: int, kind: str, values: Iterable[str]) -> None:
    table, column = _SETS[kind]
    await conn.execute(delete(table).where(table.c.user_id == user_id))
    rows = [{"user_id": user_id, column: value} for value in sorted(set(values))]
    if rows:
        await conn.execute(insert(table), rows)


# --- quiz results ---


async def add_quiz_result(
    conn: AsyncConnection, user_id: int, stage: int, answers: dict[str, str], now: datetime
) -> None:
    await conn.execute(
        insert(quiz_results).values(
            user_id=user_id, stage=stage, answers=json.dumps(answers), taken_at=now
        )
    )


_HISTORY = (
    select(quiz_results)
    .where(quiz_results.c.user_id == bindparam("user_id"))
    .order_by(quiz_results.c.taken_at, quiz_results.c.id)
)


def _oldest_first(record: QuizRecord) -> tuple[datetime, int]:
    return record.taken_at, record.id


async def quiz_history(conn: AsyncConnection, user_id: int) -> list[QuizRecord]:
    """Every result, oldest first."""
    rows = await conn.execute(_HISTORY, {"user_id": user_id})
    return [
        QuizRecord(r["id"], r["stage"], json.loads(r["answers"]), r["taken_at"])
        for r in rows.mappings()
    ]
