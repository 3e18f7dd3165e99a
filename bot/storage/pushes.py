"""What the push planner reads: the users it may write to, with what it needs, a page at a time
(`recipient_ids` pages through them by id; every other query takes the page's id range)."""

from __future__ import annotations

import functools
from dataclasses import fields
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.settings import PushSettings
from bot.storage.tables import (
    outbox,
    quiz_results,
    user_roles,
    user_settings,
    user_topics,
    users,
)


class Recipient(NamedTuple):
    """A user the planner may write to (a named tuple: a tick builds one per user)."""

    id: int
    locale: str | None
    timezone: str | None
    region: str | None
    joined: datetime | None  # when they consented, if after `recipients`' `newcomers_since`
    stage: int | None
    topics: frozenset[str]
    settings: PushSettings
    volunteer_only: bool = False  # a volunteer without a project: no grants, no articles


def _between(column: Any, first: object | None, last: object | None) -> list[Any]:
    """`column` in [first, last] (values or bound parameters), an end that is None left out."""
    conditions = []
    if first is not None:
        conditions.append(column >= first)
    if last is not None:
        conditions.append(column <= last)
    return conditions


async def recipient_ids(conn: AsyncConnection, *, after: int | None, limit: int) -> list[int]:
    """The next `limit` ids, ascending, of users the planner may write to (consented, not
    blocked) after the id `after` (None: from the start)."""
    query = (
        select(users.c.id)
        .where(users.c.consent_at.is_not(None), users.c.blocked.is_(False))
        .where(*_between(users.c.id, None if after is None else after + 1, None))
        .order_by(users.c.id)
        .limit(limit)
    )
    return [int(i) for i in (await conn.execute(query)).scalars().all()]


_SETTINGS = tuple(f.name for f in fields(PushSettings))
_DEFAULT_SETTINGS = PushSettings()
_NO_TOPICS: frozenset[str] = frozenset()


def _bounded(column: Any, no_first: bool, no_last: bool) -> list[Any]:
    """`column` in [:first, :last], either end left out."""
    return _between(
        column, None if no_first else bindparam("first"), None if no_last else bindparam("last")
    )


@functools.cache
def _recipient_queries(
    no_first: bool, no_last: bool
) -> tuple[Select[Any], Select[Any], Select[Any]]:
    """`recipients`' two queries, built once: a tick runs them for each of its pages, and
    building the joins and subqueries is a large part of running them (bench/README.md)."""
    latest = (
        select(quiz_results.c.user_id, func.max(quiz_results.c.id).label("id"))
        .where(*_bounded(quiz_results.c.user_id, no_first, no_last))
        .group_by(quiz_results.c.user_id)
        .subquery()
    )
    stage = (
        select(quiz_results.c.user_id, quiz_results.c.stage)
        .join(latest, latest.c.id == quiz_results.c.id)
        .subquery()
    )
    query = (
        select(
            users.c.id,
            users.c.locale,
            users.c.timezone,
            users.c.region,
            case(
                (
                    users.c.consent_at > bindparam("since", type_=users.c.consent_at.type),
                    users.c.consent_at,
                ),
                else_=None,
            ).label("joined"),
            stage.c.stage,
            user_settings.c.user_id,
            *(user_settings.c[name] for name in _SETTINGS),
        )
        .select_from(users)
        .outerjoin(user_settings, user_settings.c.user_id == users.c.id)
        .outerjoin(stage, stage.c.user_id == users.c.id)
        .where(users.c.consent_at.is_not(None), users.c.blocked.is_(False))
        .where(*_bounded(users.c.id, no_first, no_last))
        .order_by(users.c.id)
    )
    topic_rows = select(user_topics.c.user_id, user_topics.c.topic).where(
        *_bounded(user_topics.c.user_id, no_first, no_last)
    )
    role_rows = select(user_roles.c.user_id, user_roles.c.role).where(
        user_roles.c.role.in_(("activist", "volunteer")),
        *_bounded(user_roles.c.user_id, no_first, no_last),
    )
    return query, topic_rows, role_rows


async def recipients(
    conn: AsyncConnection,
    *,
    newcomers_since: datetime,
    first: int | None = None,
    last: int | None = None,
) -> list[Recipient]:
    """Users who consented and have not blocked the bot, with settings, stage and topics, in
    ascending id order; with `first`/`last` only those whose id lies in [first, last]. Who
    consented after `newcomers_since` comes with the time they did (`joined`; the database
    compares: a tick reads 100 000 users, and turning each one's time into a datetime was a
    tenth of reading them)."""
    query, topic_rows, role_rows = _recipient_queries(first is None, last is None)
    bounds = {"first": first, "last": last}
    topics: dict[int, set[str]] = {}
    for user_id, topic in (await conn.execute(topic_rows, bounds)).all():
        topics.setdefault(user_id, set()).add(topic)
    helping: set[int] = set()
    running: set[int] = set()
    for user_id, role in (await conn.execute(role_rows, bounds)).all():
        (helping if role == "volunteer" else running).add(user_id)
    helping -= running
    # Equal topic sets and settings are shared (users repeat them; planning keys on them).
    topic_sets: dict[frozenset[str], frozenset[str]] = {}
    settings_seen: dict[tuple[Any, ...], PushSettings] = {}
    result = []
    for row in (await conn.execute(query, {**bounds, "since": newcomers_since})).all():
        user_id, locale, timezone, region, joined, stage_, has_settings, *values = row
        if has_settings is None:
            settings = _DEFAULT_SETTINGS
        else:
            key = tuple(values)
            found = settings_seen.get(key)
            if found is None:  # the columns come in the dataclass's field order
                found = settings_seen[key] = PushSettings(*values)
            settings = found
        mine = topics.get(user_id)
        if mine:
            frozen = frozenset(mine)
            shared = topic_sets.setdefault(frozen, frozen)
        else:
            shared = _NO_TOPICS
        result.append(
            Recipient(
                user_id,
                locale,
                timezone,
                region,
                joined,
                stage_,
                shared,
                settings,
                user_id in helping,
            )
        )
    return result


async def recent_keys(
    conn: AsyncConnection,
    kinds: tuple[str, ...],
    since: datetime,
    *,
    first: int | None = None,
    last: int | None = None,
) -> set[str]:
    """Dedup keys of rows of these kinds created since `since` (what is already planned); with
    `first`/`last` only rows of users whose id lies in [first, last]."""
    rows = await conn.execute(
        select(outbox.c.dedup_key).where(
            outbox.c.kind.in_(kinds),
            outbox.c.created_at >= since,
            *_between(outbox.c.user_id, first, last),
        )
    )
    return set(rows.scalars().all())
