"""Local support measures that coordinators add for their territory."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.tables import local_measures


@dataclass(frozen=True, slots=True)
class LocalMeasure:
    id: int
    title: str
    description: str
    type: str
    phase: str | None
    region: str | None
    topics: frozenset[str]
    problems: frozenset[str]
    contact: str | None
    link: str | None
    created_at: datetime
    closed_at: datetime | None = None

    @property
    def code(self) -> str:
        return f"L{self.id}"


def _measure(row: RowMapping) -> LocalMeasure:
    return LocalMeasure(
        id=row["id"],
        title=row["title"],
        description=row["description"],
        type=row["type"],
        phase=row["phase"],
        region=row["region"],
        topics=frozenset(json.loads(row["topics"])),
        problems=frozenset(json.loads(row["problems"])),
        contact=row["contact"],
        link=row["link"],
        created_at=row["created_at"],
        closed_at=row["closed_at"],
    )


async def open_measures(conn: AsyncConnection) -> list[LocalMeasure]:
    rows = await conn.execute(
        select(local_measures)
        .where(local_measures.c.closed_at.is_(None))
        .order_by(local_measures.c.id)
    )
    return [_measure(r) for r in rows.mappings()]


async def get(conn: AsyncConnection, measure_id: int) -> LocalMeasure | None:
    row = (
        (await conn.execute(select(local_measures).where(local_measures.c.id == measure_id)))
        .mappings()
        .first()
    )
    return _measure(row) if row else None


async def add(
    conn: AsyncConnection,
    *,
    title: str,
    description: str,
    type: str,
    now: datetime,
    phase: str | None = None,
    region: str | None = None,
    topics: frozenset[str] = frozenset(),
    problems: frozenset[str] = frozenset(),
    contact: str | None = None,
    link: str | None = None,
    created_by: int | None = None,
) -> int:
    result = await conn.execute(
        insert(local_measures).values(
            title=title,
            description=description,
            type=type,
            phase=phase,
            region=region,
            topics=json.dumps(sorted(topics)),
            problems=json.dumps(sorted(problems)),
            contact=contact,
            link=link,
            created_by=created_by,
            created_at=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])
