"""Counts for the coordinators' statistics, anonymised profile rows for the CSV, the
volunteering totals of the municipal brief, and the coordinators' self-assessments.

Only users who gave consent are counted (before consent nothing beyond the id is stored). The
profile rows never carry a Telegram id, name or username: the id is used inside the queries to
put a user's rows together and dropped before anything is returned.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, distinct, func, insert, or_, select, true
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.opportunities import CANCELLED, CONFIRMED
from bot.storage.tables import (
    broadcasts,
    ikigai_entries,
    opportunities,
    outbox,
    quiz_results,
    self_assessments,
    signups,
    user_problems,
    user_roles,
    user_topics,
    users,
)


@dataclass(frozen=True, slots=True)
class UserCounts:
    started: int  # everyone who pressed /start and is still stored
    consented: int
    blocked: int  # consented users who blocked the bot


@dataclass(frozen=True, slots=True)
class Delivery:
    """One broadcast's outbox rows by status."""

    batch_id: int
    created_at: datetime | None  # None: the broadcast row is gone
    text: str
    statuses: dict[str, int]


@dataclass(frozen=True, slots=True)
class ProfileRow:
    """One consented user, anonymised: no id, no name, no username."""

    roles: tuple[str, ...]
    stage: int | None
    region: str | None
    timezone: str | None
    topics: tuple[str, ...]
    problems: tuple[str, ...]
    ikigai: dict[str, int]  # column → number of entries
    consent_at: datetime | None


@dataclass(frozen=True, slots=True)
class VolunteeringCounts:
    """Volunteer opportunities that were not cancelled, and the people on them."""

    held: int  # ended before `now`
    upcoming: int  # not ended yet
    volunteers: int  # different people with a confirmed place on any of them
    attended: int  # confirmed places the organiser marked as "came"


@dataclass(frozen=True, slots=True)
class Assessment:
    id: int
    coordinator_id: int
    scores: dict[str, int]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Scope:
    """The users counted: everyone (both empty), or those of `regions` — and, for a zone, the
    users without a region whose time zone is one of `timezones`."""

    regions: frozenset[str] = frozenset()
    timezones: frozenset[str] = frozenset()

    @property
    def everyone(self) -> bool:
        return not (self.regions or self.timezones)


EVERYONE = Scope()


def _within(scope: Scope) -> ColumnElement[bool]:
    if scope.everyone:
        return true()
    return or_(
        users.c.region.in_(sorted(scope.regions)),
        and_(users.c.region.is_(None), users.c.timezone.in_(sorted(scope.timezones))),
    )


def _consented(scope: Scope = EVERYONE) -> ColumnElement[bool]:
    return and_(users.c.consent_at.is_not(None), _within(scope))


async def user_counts(conn: AsyncConnection, scope: Scope = EVERYONE) -> UserCounts:
    started, consented = (
        await conn.execute(
            select(func.count(), func.count(users.c.consent_at))
            .select_from(users)
            .where(_within(scope))
        )
    ).one()
    blocked = (
        await conn.execute(
            select(func.count())
            .select_from(users)
            .where(_consented(scope), users.c.blocked.is_(True))
        )
    ).scalar_one()
    return UserCounts(int(started), int(consented), int(blocked))


async def role_counts(conn: AsyncConnection, scope: Scope = EVERYONE) -> dict[str, int]:
    """role → consented users who have it; coordinators are counted whether or not they
    consented (an admin appoints them; their role is what the operator records of them)."""
    rows = await conn.execute(
        select(user_roles.c.role, func.count())
        .join(users, users.c.id == user_roles.c.user_id)
        .where(
            or_(_consented(), user_roles.c.role == "coordinator"),
            _within(scope),
        )
        .group_by(user_roles.c.role)
    )
    return {role: int(n) for role, n in rows.all()}


def _latest_quiz() -> ColumnElement[bool]:
    latest = select(func.max(quiz_results.c.id)).group_by(quiz_results.c.user_id)
    return quiz_results.c.id.in_(latest)


async def stage_counts(conn: AsyncConnection, scope: Scope = EVERYONE) -> dict[int, int]:
    """stage number → consented users whose latest quiz result is that stage."""
    rows = await conn.execute(
        select(quiz_results.c.stage, func.count())
        .join(users, users.c.id == quiz_results.c.user_id)
        .where(_consented(scope), _latest_quiz())
        .group_by(quiz_results.c.stage)
    )
    return {int(stage): int(n) for stage, n in rows.all()}


async def code_counts(conn: AsyncConnection, kind: str, scope: Scope = EVERYONE) -> dict[str, int]:
    """topic (kind "topics") or problem ("problems") code → consented users who chose it."""
    if kind not in {"topics", "problems"}:
        raise ValueError(kind)
    table, column = (user_topics, "topic") if kind == "topics" else (user_problems, "problem")
    rows = await conn.execute(
        select(table.c[column], func.count())
        .join(users, users.c.id == table.c.user_id)
        .where(_consented(scope))
        .group_by(table.c[column])
    )
    return {code: int(n) for code, n in rows.all()}


async def moments(
    conn: AsyncConnection, column: str, since: datetime, scope: Scope = EVERYONE
) -> list[datetime]:
    """The `created_at` (started the bot) or `consent_at` instants from `since` on."""
    if column not in {"created_at", "consent_at"}:
        raise ValueError(column)
    col = users.c[column]
    rows = await conn.execute(select(col).where(col >= since, _within(scope)).order_by(col))
    return [at for at in rows.scalars() if at is not None]


async def deliveries(conn: AsyncConnection, limit: int, scope: Scope = EVERYONE) -> list[Delivery]:
    """The latest `limit` broadcasts that have outbox rows, newest first; their rows counted
    for the recipients in `scope` (a broadcast that reached none of them is left out)."""
    addressed = outbox.c.user_id.in_(select(users.c.id).where(_within(scope)))
    recent = (
        await conn.execute(
            select(outbox.c.batch_id)
            .where(outbox.c.kind == "broadcast", outbox.c.batch_id.is_not(None), addressed)
            .group_by(outbox.c.batch_id)
            .order_by(outbox.c.batch_id.desc())
            .limit(limit)
        )
    ).scalars()
    ids = [int(i) for i in recent]
    if not ids:
        return []
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rows = await conn.execute(
        select(outbox.c.batch_id, outbox.c.status, func.count())
        .where(outbox.c.kind == "broadcast", outbox.c.batch_id.in_(ids), addressed)
        .group_by(outbox.c.batch_id, outbox.c.status)
    )
    for batch, status, n in rows.all():
        counts[int(batch)][status] = int(n)
    found = {
        r["id"]: r
        for r in (
            await conn.execute(
                select(broadcasts.c.id, broadcasts.c.text, broadcasts.c.created_at).where(
                    broadcasts.c.id.in_(ids)
                )
            )
        ).mappings()
    }
    result = []
    for batch in ids:
        info = found.get(batch)
        result.append(
            Delivery(
                batch_id=batch,
                created_at=info["created_at"] if info else None,
                text=info["text"] if info else "",
                statuses=counts[batch],
            )
        )
    return result


async def volunteering_counts(conn: AsyncConnection, now: datetime) -> VolunteeringCounts:
    """Opportunities held and ahead (cancelled ones left out) and their confirmed places."""
    kept = opportunities.c.status != CANCELLED
    held, total = (
        await conn.execute(
            select(
                func.sum(case((opportunities.c.ends_at < now, 1), else_=0)),
                func.count(opportunities.c.id),
            ).where(kept)
        )
    ).one()
    volunteers, attended = (
        await conn.execute(
            select(
                func.count(distinct(signups.c.user_id)),
                func.sum(case((signups.c.attended.is_(True), 1), else_=0)),
            )
            .join(opportunities, opportunities.c.id == signups.c.opportunity_id)
            .where(kept, signups.c.status == CONFIRMED)
        )
    ).one()
    held, attended = int(held or 0), int(attended or 0)  # SUM of no rows is NULL
    return VolunteeringCounts(held, int(total) - held, int(volunteers), attended)


async def profiles(conn: AsyncConnection, scope: Scope = EVERYONE) -> list[ProfileRow]:
    """Every consented user (of `scope`) as an anonymised row (in no particular order: the
    caller sorts)."""
    people = (
        await conn.execute(
            select(users.c.id, users.c.region, users.c.timezone, users.c.consent_at).where(
                _consented(scope)
            )
        )
    ).all()
    roles: dict[int, set[str]] = defaultdict(set)
    for uid, role in (await conn.execute(select(user_roles.c.user_id, user_roles.c.role))).all():
        roles[uid].add(role)
    stages: dict[int, int] = {
        uid: int(stage)
        for uid, stage in (
            await conn.execute(
                select(quiz_results.c.user_id, quiz_results.c.stage).where(_latest_quiz())
            )
        ).all()
    }
    topics: dict[int, set[str]] = defaultdict(set)
    for uid, code in (
        await conn.execute(select(user_topics.c.user_id, user_topics.c.topic))
    ).all():
        topics[uid].add(code)
    problems: dict[int, set[str]] = defaultdict(set)
    for uid, code in (
        await conn.execute(select(user_problems.c.user_id, user_problems.c.problem))
    ).all():
        problems[uid].add(code)
    ikigai: dict[int, dict[str, int]] = defaultdict(dict)
    for uid, col, n in (
        await conn.execute(
            select(ikigai_entries.c.user_id, ikigai_entries.c.col, func.count()).group_by(
                ikigai_entries.c.user_id, ikigai_entries.c.col
            )
        )
    ).all():
        ikigai[uid][col] = int(n)
    return [
        ProfileRow(
            roles=tuple(sorted(roles[row.id])),
            stage=stages.get(row.id),
            region=row.region,
            timezone=row.timezone,
            topics=tuple(sorted(topics[row.id])),
            problems=tuple(sorted(problems[row.id])),
            ikigai=dict(ikigai[row.id]),
            consent_at=row.consent_at,
        )
        for row in people
    ]


# --- self-assessments ---


def _assessment(row: RowMapping) -> Assessment:
    scores = json.loads(row["scores"])
    return Assessment(
        id=row["id"],
        coordinator_id=row["coordinator_id"],
        scores={str(k): int(v) for k, v in scores.items()},
        created_at=row["created_at"],
    )


async def add_assessment(
    conn: AsyncConnection, coordinator_id: int, scores: Mapping[str, int], now: datetime
) -> None:
    await conn.execute(
        insert(self_assessments).values(
            coordinator_id=coordinator_id,
            scores=json.dumps(dict(scores), sort_keys=True),
            created_at=now,
        )
    )


async def assessments(conn: AsyncConnection, coordinator_id: int, limit: int) -> list[Assessment]:
    """The coordinator's latest assessments, newest first."""
    rows = await conn.execute(
        select(self_assessments)
        .where(self_assessments.c.coordinator_id == coordinator_id)
        .order_by(self_assessments.c.created_at.desc(), self_assessments.c.id.desc())
        .limit(limit)
    )
    return [_assessment(r) for r in rows.mappings()]
