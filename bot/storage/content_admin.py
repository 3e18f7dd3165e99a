"""What coordinators add and manage: grants, articles and local support measures, written from
the :mod:`bot.domain.csvio` items the forms and CSV files make — inserting, updating and
closing. Reading them is :mod:`bot.storage.catalogs` and :mod:`bot.storage.measures`, one
mapping per table."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.csvio import ArticleItem, GrantItem, MeasureItem
from bot.storage.tables import articles, grants, local_measures


def _grant_values(item: GrantItem) -> dict[str, Any]:
    return {
        "title": item.title,
        "organiser": item.organiser,
        "link": item.link,
        "who": item.who,
        "amount": item.amount,
        "topics": json.dumps(list(item.topics)),
        "phases": json.dumps(list(item.phases)),
        "region": item.region,
        "windows": json.dumps([w.to_spec() for w in item.windows]),
        "timezone": item.timezone,
    }


def _article_values(item: ArticleItem) -> dict[str, Any]:
    return {
        "title": item.title,
        "link": item.link,
        "summary": item.summary,
        "topics": json.dumps(list(item.topics)),
        "stages": json.dumps(list(item.stages)),
    }


def _measure_values(item: MeasureItem) -> dict[str, Any]:
    return {
        "title": item.title,
        "description": item.description,
        "type": item.type,
        "phase": item.phase,
        "region": item.region,
        "topics": json.dumps(list(item.topics)),
        "problems": json.dumps(list(item.problems)),
        "contact": item.contact,
        "link": item.link,
    }


# --- writing ---


async def _insert(
    conn: AsyncConnection, table: Table, values: dict[str, Any], actor: int, now: datetime
) -> int:
    result = await conn.execute(insert(table).values(**values, created_by=actor, created_at=now))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def _update(
    conn: AsyncConnection, table: Table, item_id: int, values: dict[str, Any]
) -> bool:
    """Update an open row; False when there is none (closed meanwhile, or never was)."""
    result = await conn.execute(
        update(table).where(table.c.id == item_id, table.c.closed_at.is_(None)).values(**values)
    )
    return result.rowcount > 0


async def save_grant(conn: AsyncConnection, item: GrantItem, actor: int, now: datetime) -> int:
    """Insert (``item.id`` None) or update an open grant; its id, or 0 if it is gone."""
    if item.id is None:
        return await _insert(conn, grants, _grant_values(item), actor, now)
    return item.id if await _update(conn, grants, item.id, _grant_values(item)) else 0


async def save_article(conn: AsyncConnection, item: ArticleItem, actor: int, now: datetime) -> int:
    if item.id is None:
        return await _insert(conn, articles, _article_values(item), actor, now)
    return item.id if await _update(conn, articles, item.id, _article_values(item)) else 0


async def save_measure(conn: AsyncConnection, item: MeasureItem, actor: int, now: datetime) -> int:
    if item.id is None:
        return await _insert(conn, local_measures, _measure_values(item), actor, now)
    return item.id if await _update(conn, local_measures, item.id, _measure_values(item)) else 0


async def close(conn: AsyncConnection, table: Table, item_id: int, now: datetime) -> bool:
    """Set ``closed_at``; False when the row is closed already or does not exist."""
    result = await conn.execute(
        update(table)
        .where(table.c.id == item_id, table.c.closed_at.is_(None))
        .values(closed_at=now)
    )
    return result.rowcount > 0
