"""Local support measures that coordinators add for their territory, read as
:mod:`bot.domain.csvio` items (the writing is in :mod:`bot.storage.content_admin`)."""

from __future__ import annotations

import json

from sqlalchemy import RowMapping, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.csvio import MeasureItem
from bot.storage.catalogs import open_row
from bot.storage.tables import local_measures


def measure_item(r: RowMapping) -> MeasureItem:
    """The one mapping of a ``local_measures`` row."""
    return MeasureItem(
        id=r["id"],
        title=r["title"],
        description=r["description"],
        type=r["type"],
        phase=r["phase"],
        region=r["region"],
        topics=tuple(json.loads(r["topics"])),
        problems=tuple(json.loads(r["problems"])),
        contact=r["contact"] or "",
        link=r["link"],
        created_at=r["created_at"],
    )


async def open_measures(conn: AsyncConnection) -> list[MeasureItem]:
    rows = await conn.execute(
        select(local_measures)
        .where(local_measures.c.closed_at.is_(None))
        .order_by(local_measures.c.id)
    )
    return [measure_item(r) for r in rows.mappings()]


async def measure(conn: AsyncConnection, measure_id: int) -> MeasureItem | None:
    """An open local measure (None: no such measure, or it is closed)."""
    row = await open_row(conn, local_measures, measure_id)
    return measure_item(row) if row else None
