"""Coordinators' broadcasts: the `broadcasts` rows, and the audience of a segment in SQL.

A broadcast moves `draft → scheduled → sending → done`, or to `cancelled` from any of the
first three (a cancelled *sending* broadcast keeps `finished_at` empty until its rows in
flight have gone). Every move is a conditional UPDATE (`move`): of two presses, two ticks or
two instances exactly one wins.

The audience (`audience`) is one SELECT built from a `Segment`, portable between SQLite and
PostgreSQL (EXISTS subqueries, IN lists, no dialect-only functions).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    exists,
    false,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.segments import Geography, Segment
from bot.storage.tables import (
    broadcasts,
    opportunities,
    quiz_results,
    signups,
    user_roles,
    user_settings,
    user_topics,
    users,
)

DRAFT: Final = "draft"
SCHEDULED: Final = "scheduled"
SENDING: Final = "sending"
DONE: Final = "done"
CANCELLED: Final = "cancelled"
STATUSES: Final = (DRAFT, SCHEDULED, SENDING, DONE, CANCELLED)


@dataclass(frozen=True, slots=True)
class Content:
    """What recipients get: the text or caption with the author's own entities, and at most
    one file (a Telegram file_id)."""

    text: str
    entities: tuple[dict[str, Any], ...] = ()
    photo: str | None = None
    document: str | None = None
    filename: str | None = None

    def __post_init__(self) -> None:
        if self.photo and self.document:
            raise ValueError("a broadcast has a photo or a document, not both")

    @property
    def has_file(self) -> bool:
        return bool(self.photo or self.document)


@dataclass(frozen=True, slots=True)
class Broadcast:
    id: int
    author_id: int
    content: Content
    segment: Segment
    status: str
    scheduled_at: datetime | None
    recipients: int
    progress_chat_id: int | None
    progress_message_id: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    locale: str | None = None


def _broadcast(m: RowMapping) -> Broadcast:
    entities = json.loads(m["entities"]) if m["entities"] else []
    return Broadcast(
        id=m["id"],
        author_id=m["author_id"],
        content=Content(
            text=m["text"],
            entities=tuple(e for e in entities if isinstance(e, dict)),
            photo=m["photo"],
            document=m["document"],
            filename=m["filename"],
        ),
        segment=Segment.from_json(m["segment"]),
        status=m["status"],
        scheduled_at=m["scheduled_at"],
        recipients=m["recipients"],
        progress_chat_id=m["progress_chat_id"],
        progress_message_id=m["progress_message_id"],
        created_at=m["created_at"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        locale=m["locale"],
    )


# --- rows -------------------------------------------------------------------------------------


async def create(
    conn: AsyncConnection,
    author_id: int,
    content: Content,
    segment: Segment,
    now: datetime,
    locale: str | None = None,
) -> int:
    result = await conn.execute(
        insert(broadcasts)
        .values(
            author_id=author_id,
            text=content.text,
            entities=json.dumps(list(content.entities), ensure_ascii=False)
            if content.entities
            else None,
            photo=content.photo,
            document=content.document,
            filename=content.filename,
            segment=segment.dumps(),
            status=DRAFT,
            recipients=0,
            created_at=now,
            locale=locale,
        )
        .returning(broadcasts.c.id)
    )
    return int(result.scalar_one())


async def get(conn: AsyncConnection, broadcast_id: int) -> Broadcast | None:
    row = (
        (await conn.execute(select(broadcasts).where(broadcasts.c.id == broadcast_id)))
        .mappings()
        .first()
    )
    return None if row is None else _broadcast(row)


async def set_segment(conn: AsyncConnection, broadcast_id: int, segment: Segment) -> bool:
    """Change the segment of a draft (False: not a draft any more)."""
    result = await conn.execute(
        update(broadcasts)
        .where(broadcasts.c.id == broadcast_id, broadcasts.c.status == DRAFT)
        .values(segment=segment.dumps())
    )
    return bool(result.rowcount)


async def move(
    conn: AsyncConnection,
    broadcast_id: int,
    from_: Iterable[str],
    to: str,
    **values: Any,
) -> bool:
    """Status `from_` → `to` (with other column `values`) if the row is still in one of
    `from_`; True when this call made the move."""
    if to not in STATUSES:
        raise ValueError(f"unknown broadcast status {to!r}")
    result = await conn.execute(
        update(broadcasts)
        .where(broadcasts.c.id == broadcast_id, broadcasts.c.status.in_(list(from_)))
        .values(status=to, **values)
    )
    return bool(result.rowcount)


async def set_values(conn: AsyncConnection, broadcast_id: int, **values: Any) -> None:
    await conn.execute(update(broadcasts).where(broadcasts.c.id == broadcast_id).values(**values))


async def finish(conn: AsyncConnection, broadcast_id: int, now: datetime) -> str | None:
    """The last rows have gone: `sending` becomes `done`, a cancelled one keeps its status;
    both get `finished_at`. Returns the final status (None: already finished)."""
    await conn.execute(
        update(broadcasts)
        .where(broadcasts.c.id == broadcast_id, broadcasts.c.status == SENDING)
        .values(status=DONE)
    )
    result = await conn.execute(
        update(broadcasts)
        .where(
            broadcasts.c.id == broadcast_id,
            broadcasts.c.status.in_([DONE, CANCELLED]),
            broadcasts.c.finished_at.is_(None),
        )
        .values(finished_at=now)
        .returning(broadcasts.c.status)
    )
    status: str | None = result.scalar()
    return status


async def delete_draft(conn: AsyncConnection, broadcast_id: int) -> bool:
    result = await conn.execute(
        delete(broadcasts).where(broadcasts.c.id == broadcast_id, broadcasts.c.status == DRAFT)
    )
    return bool(result.rowcount)


async def due(conn: AsyncConnection, now: datetime) -> list[Broadcast]:
    """Scheduled broadcasts whose time has come, oldest first."""
    rows = await conn.execute(
        select(broadcasts)
        .where(broadcasts.c.status == SCHEDULED, broadcasts.c.scheduled_at <= now)
        .order_by(broadcasts.c.scheduled_at, broadcasts.c.id)
    )
    return [_broadcast(m) for m in rows.mappings()]


async def unfinished(conn: AsyncConnection) -> list[Broadcast]:
    """Broadcasts whose rows are (or may be) still going out: `sending`, and `cancelled` ones
    that had started and have no `finished_at` yet."""
    rows = await conn.execute(
        select(broadcasts)
        .where(
            or_(
                broadcasts.c.status == SENDING,
                and_(
                    broadcasts.c.status == CANCELLED,
                    broadcasts.c.started_at.is_not(None),
                    broadcasts.c.finished_at.is_(None),
                ),
            )
        )
        .order_by(broadcasts.c.id)
    )
    return [_broadcast(m) for m in rows.mappings()]


async def of_author(
    conn: AsyncConnection, author_id: int, statuses: Iterable[str], limit: int = 10
) -> list[Broadcast]:
    rows = await conn.execute(
        select(broadcasts)
        .where(broadcasts.c.author_id == author_id, broadcasts.c.status.in_(list(statuses)))
        .order_by(broadcasts.c.id.desc())
        .limit(limit)
    )
    return [_broadcast(m) for m in rows.mappings()]


# --- opportunities: "participants of an opportunity" -----------------------------------------


@dataclass(frozen=True, slots=True)
class OpportunityChoice:
    id: int
    title: str
    starts_at: datetime | None
    timezone: str | None = None  # the organiser's zone, for showing the date


def _opportunities(ids: Iterable[int]) -> ColumnElement[bool]:
    """Confirmed participants of any of the opportunities `ids` (a `signups` row with status
    "confirmed")."""
    return exists().where(
        signups.c.user_id == users.c.id,
        signups.c.opportunity_id.in_(sorted(ids)),
        signups.c.status == "confirmed",
    )


def _choice(m: RowMapping) -> OpportunityChoice:
    return OpportunityChoice(int(m["id"]), str(m["title"]), m["starts_at"], m["timezone"])


_CHOICE_COLUMNS: Final = (
    opportunities.c.id,
    opportunities.c.title,
    opportunities.c.starts_at,
    opportunities.c.timezone,
)


async def opportunity_choices(
    conn: AsyncConnection, since: datetime, offset: int, limit: int
) -> tuple[list[OpportunityChoice], int]:
    """Opportunities to pick participants of: those not over before `since`, soonest
    first (a page, and how many there are)."""
    condition = opportunities.c.ends_at >= since
    total = (
        await conn.execute(select(func.count()).select_from(opportunities).where(condition))
    ).scalar_one()
    rows = await conn.execute(
        select(*_CHOICE_COLUMNS)
        .where(condition)
        .order_by(opportunities.c.starts_at, opportunities.c.id)
        .offset(offset)
        .limit(limit)
    )
    return [_choice(m) for m in rows.mappings()], int(total)


async def opportunity_titles(
    conn: AsyncConnection, ids: Iterable[int]
) -> dict[int, OpportunityChoice]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await conn.execute(select(*_CHOICE_COLUMNS).where(opportunities.c.id.in_(wanted)))
    return {int(m["id"]): _choice(m) for m in rows.mappings()}


# --- the audience -------------------------------------------------------------------------


def _latest_stage_in(stages: Iterable[int]) -> ColumnElement[bool]:
    """The user's latest stage quiz result (highest id) is one of `stages`."""
    q = quiz_results.alias("q")
    newer = quiz_results.alias("newer")
    return exists().where(
        q.c.user_id == users.c.id,
        q.c.stage.in_(sorted(stages)),
        ~exists().where(newer.c.user_id == q.c.user_id, newer.c.id > q.c.id),
    )


def audience_filter(
    segment: Segment, geo: Geography, default_timezone: str
) -> list[ColumnElement[bool]]:
    """WHERE conditions (AND) on `users`: may receive announcements, and is in the segment."""
    conditions: list[ColumnElement[bool]] = [
        users.c.consent_at.is_not(None),
        users.c.blocked.is_(False),
        # a mailing: only those who said yes to it (bot/storage/settings.py)
        exists().where(
            user_settings.c.user_id == users.c.id, user_settings.c.announcements.is_(True)
        ),
    ]
    if segment.roles:
        conditions.append(
            exists().where(
                user_roles.c.user_id == users.c.id, user_roles.c.role.in_(sorted(segment.roles))
            )
        )
    if segment.stages:
        conditions.append(_latest_stage_in(segment.stages))
    if segment.topics:
        conditions.append(
            exists().where(
                user_topics.c.user_id == users.c.id,
                user_topics.c.topic.in_(sorted(segment.topics)),
            )
        )
    place = segment.place(geo)
    if place is not None:
        options: list[ColumnElement[bool]] = []
        if place.regions:
            options.append(users.c.region.in_(sorted(place.regions)))
        if place.timezones:
            options.append(users.c.timezone.in_(sorted(place.timezones)))
            if default_timezone in place.timezones:  # no zone stored: the deployment's zone
                options.append(users.c.timezone.is_(None))
        conditions.append(or_(*options) if options else false())
    if segment.opportunity_ids:
        conditions.append(_opportunities(segment.opportunity_ids))
    return conditions


def audience(segment: Segment, geo: Geography, default_timezone: str) -> Select[Any]:
    """SELECT users.id, users.locale of everyone the segment reaches, by id."""
    return (
        select(users.c.id, users.c.locale)
        .where(*audience_filter(segment, geo, default_timezone))
        .order_by(users.c.id)
    )


async def count_audience(
    conn: AsyncConnection, segment: Segment, geo: Geography, default_timezone: str
) -> int:
    query = select(func.count()).select_from(users)
    query = query.where(*audience_filter(segment, geo, default_timezone))
    return int((await conn.execute(query)).scalar_one())


async def audience_of(
    conn: AsyncConnection, segment: Segment, geo: Geography, default_timezone: str
) -> list[tuple[int, str | None]]:
    """(user id, stored locale) of everyone the segment reaches."""
    rows = await conn.execute(audience(segment, geo, default_timezone))
    return [(int(uid), locale) for uid, locale in rows.all()]
