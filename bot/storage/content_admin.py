"""What coordinators add and manage: grants, articles and local support measures as the forms
and CSV files see them (:mod:`bot.domain.csvio` items). Reading for users stays in
:mod:`bot.storage.catalogs` and :mod:`bot.storage.measures`; this adds getting one open item,
updating and closing."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.csvio import ArticleItem, GrantItem, MeasureItem
from bot.domain.windows import parse_windows
from bot.storage.tables import articles, grants, local_measures


def _grant(r: RowMapping) -> GrantItem:
    return GrantItem(
        id=r["id"],
        title=r["title"],
        organiser=r["organiser"],
        link=r["link"],
        who=r["who"],
        amount=r["amount"],
        topics=tuple(json.loads(r["topics"])),
        phases=tuple(json.loads(r["phases"])),
        region=r["region"],
        windows=parse_windows(json.loads(r["windows"])),
        timezone=r["timezone"],
    )


def _article(r: RowMapping) -> ArticleItem:
    return ArticleItem(
        id=r["id"],
        title=r["title"],
        link=r["link"],
        summary=r["summary"],
        topics=tuple(json.loads(r["topics"])),
        stages=tuple(json.loads(r["stages"])),
    )


def _measure(r: RowMapping) -> MeasureItem:
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
    )


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


# --- reading ---


async def open_grants(conn: AsyncConnection) -> list[GrantItem]:
    rows = await conn.execute(
        select(grants).where(grants.c.closed_at.is_(None)).order_by(grants.c.id)
    )
    return [_grant(r) for r in rows.mappings()]


async def open_articles(conn: AsyncConnection) -> list[ArticleItem]:
    rows = await conn.execute(
        select(articles).where(articles.c.closed_at.is_(None)).order_by(articles.c.id)
    )
    return [_article(r) for r in rows.mappings()]


async def open_measures(conn: AsyncConnection) -> list[MeasureItem]:
    rows = await conn.execute(
        select(local_measures)
        .where(local_measures.c.closed_at.is_(None))
        .order_by(local_measures.c.id)
    )
    return [_measure(r) for r in rows.mappings()]


async def _open_row(conn: AsyncConnection, table: Table, item_id: int) -> RowMapping | None:
    query = select(table).where(table.c.id == item_id, table.c.closed_at.is_(None))
    return (await conn.execute(query)).mappings().first()


async def grant(conn: AsyncConnection, grant_id: int) -> GrantItem | None:
    """An open grant (None: no such grant, or it is closed)."""
    row = await _open_row(conn, grants, grant_id)
    return _grant(row) if row else None


async def article(conn: AsyncConnection, article_id: int) -> ArticleItem | None:
    row = await _open_row(conn, articles, article_id)
    return _article(row) if row else None


async def measure(conn: AsyncConnection, measure_id: int) -> MeasureItem | None:
    row = await _open_row(conn, local_measures, measure_id)
    return _measure(row) if row else None


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
