"""Grants and articles that coordinators add (the starter ones live in content/), read as
:mod:`bot.domain.csvio` items (the writing is in :mod:`bot.storage.content_admin`), follows of
grants, and which articles a user was sent or opened."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, Table, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.csvio import ArticleItem, GrantItem
from bot.domain.windows import parse_windows
from bot.storage.dialect import insert_ignore, upsert
from bot.storage.tables import article_log, articles, grant_follows, grants


def grant_item(r: RowMapping) -> GrantItem:
    """The one mapping of a ``grants`` row."""
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


def article_item(r: RowMapping) -> ArticleItem:
    """The one mapping of an ``articles`` row."""
    return ArticleItem(
        id=r["id"],
        title=r["title"],
        link=r["link"],
        summary=r["summary"],
        topics=tuple(json.loads(r["topics"])),
        stages=tuple(json.loads(r["stages"])),
    )


async def open_grants(conn: AsyncConnection) -> list[GrantItem]:
    rows = await conn.execute(
        select(grants).where(grants.c.closed_at.is_(None)).order_by(grants.c.id)
    )
    return [grant_item(r) for r in rows.mappings()]


async def open_articles(conn: AsyncConnection) -> list[ArticleItem]:
    rows = await conn.execute(
        select(articles).where(articles.c.closed_at.is_(None)).order_by(articles.c.id)
    )
    return [article_item(r) for r in rows.mappings()]


async def open_row(conn: AsyncConnection, table: Table, item_id: int) -> RowMapping | None:
    """The row of an open item of a content table (None: closed, or never was)."""
    query = select(table).where(table.c.id == item_id, table.c.closed_at.is_(None))
    return (await conn.execute(query)).mappings().first()


async def grant(conn: AsyncConnection, grant_id: int) -> GrantItem | None:
    """An open grant (None: no such grant, or it is closed)."""
    row = await open_row(conn, grants, grant_id)
    return grant_item(row) if row else None


async def article(conn: AsyncConnection, article_id: int) -> ArticleItem | None:
    row = await open_row(conn, articles, article_id)
    return article_item(row) if row else None


async def followed(conn: AsyncConnection, user_id: int) -> set[str]:
    rows = await conn.execute(
        select(grant_follows.c.grant_key).where(grant_follows.c.user_id == user_id)
    )
    return set(rows.scalars())


async def all_follows(
    conn: AsyncConnection, *, first: int | None = None, last: int | None = None
) -> dict[int, set[str]]:
    """user → the grants they follow; with `first`/`last` only users with ids in that range."""
    result: dict[int, set[str]] = {}
    query = select(grant_follows.c.user_id, grant_follows.c.grant_key).where(
        *_between(grant_follows.c.user_id, first, last)
    )
    for user_id, key in (await conn.execute(query)).all():
        result.setdefault(user_id, set()).add(key)
    return result


async def follow(conn: AsyncConnection, user_id: int, key: str, now: datetime) -> None:
    await upsert(
        conn, grant_follows, {"user_id": user_id, "grant_key": key, "created_at": now},
        key=["user_id", "grant_key"], update=(),
    )  # fmt: skip


async def unfollow(conn: AsyncConnection, user_id: int, key: str) -> None:
    await conn.execute(
        delete(grant_follows).where(
            grant_follows.c.user_id == user_id, grant_follows.c.grant_key == key
        )
    )


async def article_states(conn: AsyncConnection, user_id: int) -> dict[str, bool]:
    """article key → read (True) or only sent (False)."""
    rows = await conn.execute(
        select(article_log.c.article_key, article_log.c.read_at).where(
            article_log.c.user_id == user_id
        )
    )
    return {key: read_at is not None for key, read_at in rows}


async def all_article_keys(
    conn: AsyncConnection, *, first: int | None = None, last: int | None = None
) -> dict[int, set[str]]:
    """user → every article they were sent or opened (an article never goes twice); with
    `first`/`last` only users with ids in that range."""
    result: dict[int, set[str]] = {}
    query = select(article_log.c.user_id, article_log.c.article_key).where(
        *_between(article_log.c.user_id, first, last)
    )
    for user_id, key in (await conn.execute(query)).all():
        result.setdefault(user_id, set()).add(key)
    return result


def _between(column: Any, first: int | None, last: int | None) -> list[Any]:
    return [
        *([column >= first] if first is not None else []),
        *([column <= last] if last is not None else []),
    ]


async def mark_read(conn: AsyncConnection, user_id: int, key: str, now: datetime) -> None:
    await upsert(
        conn, article_log, {"user_id": user_id, "article_key": key, "read_at": now},
        key=["user_id", "article_key"], update=["read_at"],
    )  # fmt: skip


async def mark_sent(conn: AsyncConnection, pairs: list[tuple[int, str]], now: datetime) -> None:
    """Articles went out in digests: `sent_at` = now for each (user, article). New rows go in
    one INSERT … ON CONFLICT DO NOTHING; should some be there already (the user opened the
    article meanwhile), one UPDATE sets their `sent_at` too."""
    if not pairs:
        return
    rows = [{"user_id": user_id, "article_key": key, "sent_at": now} for user_id, key in pairs]
    inserted = await insert_ignore(conn, article_log, rows, key=["user_id", "article_key"])
    if inserted == len(set(pairs)):
        return
    log = article_log.c
    await conn.execute(
        update(article_log)
        .where(log.user_id == bindparam("u"), log.article_key == bindparam("k"))
        .values(sent_at=now),
        [{"u": user_id, "k": key} for user_id, key in pairs],
    )
