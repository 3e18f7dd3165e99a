"""Grants and articles that coordinators add (the starter ones live in content/), follows of
grants, and which articles a user was sent or opened."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.dialect import insert_ignore, upsert
from bot.storage.tables import article_log, articles, grant_follows, grants


@dataclass(frozen=True, slots=True)
class GrantRow:
    id: int
    title: str
    organiser: str
    link: str
    who: str
    amount: str | None
    topics: tuple[str, ...]
    phases: tuple[str, ...]
    region: str | None
    windows: list[dict[str, object]]
    timezone: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ArticleRow:
    id: int
    title: str
    link: str
    summary: str
    topics: tuple[str, ...]
    stages: tuple[int, ...]
    created_at: datetime


def _grant(r: RowMapping) -> GrantRow:
    return GrantRow(
        id=r["id"],
        title=r["title"],
        organiser=r["organiser"],
        link=r["link"],
        who=r["who"],
        amount=r["amount"],
        topics=tuple(json.loads(r["topics"])),
        phases=tuple(json.loads(r["phases"])),
        region=r["region"],
        windows=json.loads(r["windows"]),
        timezone=r["timezone"],
        created_at=r["created_at"],
    )


def _article(r: RowMapping) -> ArticleRow:
    return ArticleRow(
        id=r["id"],
        title=r["title"],
        link=r["link"],
        summary=r["summary"],
        topics=tuple(json.loads(r["topics"])),
        stages=tuple(json.loads(r["stages"])),
        created_at=r["created_at"],
    )


async def open_grants(conn: AsyncConnection) -> list[GrantRow]:
    rows = await conn.execute(
        select(grants).where(grants.c.closed_at.is_(None)).order_by(grants.c.id)
    )
    return [_grant(r) for r in rows.mappings()]


async def open_articles(conn: AsyncConnection) -> list[ArticleRow]:
    rows = await conn.execute(
        select(articles).where(articles.c.closed_at.is_(None)).order_by(articles.c.id)
    )
    return [_article(r) for r in rows.mappings()]


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


async def close_grant(conn: AsyncConnection, grant_id: int, now: datetime) -> None:
    await conn.execute(update(grants).where(grants.c.id == grant_id).values(closed_at=now))
