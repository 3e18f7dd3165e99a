"""Peers and mentors: who shows what to other activists, blocks, mentoring offers and the
double opt-in introductions (a mentorship is an introduction of kind "mentor")."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.dialect import upsert
from bot.storage.tables import (
    ikigai_entries,
    introductions,
    mentor_offers,
    peer_blocks,
    peer_profiles,
    quiz_results,
    user_roles,
    user_topics,
    users,
)

PEER: Final = "peer"
MENTOR: Final = "mentor"
PENDING: Final = "pending"
ACCEPTED: Final = "accepted"
DECLINED: Final = "declined"
ENDED: Final = "ended"


@dataclass(frozen=True)
class Share:
    """What an activist shows other activists, and who was suggested to them last time."""

    user_id: int
    fields: frozenset[str]
    shown: tuple[int, ...]


@dataclass(frozen=True)
class Person:
    """An activist with everything matching and a card might show; the service hides what
    their `fields` do not allow."""

    user_id: int
    first_name: str | None
    username: str | None
    locale: str | None
    timezone: str | None
    region: str | None
    focus: str | None
    stage: int | None
    topics: frozenset[str]
    can: tuple[str, ...]
    need: tuple[str, ...]
    fields: frozenset[str]  # empty: not shown to other activists


@dataclass(frozen=True)
class Offer:
    user_id: int
    topics: frozenset[str]
    capacity: int
    ways: tuple[str, ...]
    often: str
    active: bool
    marked_by: int | None


@dataclass(frozen=True)
class Introduction:
    id: int
    kind: str
    from_id: int
    to_id: int
    status: str
    created_at: datetime
    answered_at: datetime | None
    checkin_at: datetime | None
    ended_at: datetime | None
    rating: int | None

    def other(self, user_id: int) -> int:
        return self.to_id if user_id == self.from_id else self.from_id


# --- sharing ---------------------------------------------------------------------------------


async def share(conn: AsyncConnection, user_id: int) -> Share | None:
    row = (
        await conn.execute(select(peer_profiles).where(peer_profiles.c.user_id == user_id))
    ).first()
    if row is None:
        return None
    return Share(user_id, frozenset(json.loads(row.fields)), tuple(json.loads(row.shown)))


async def save_fields(
    conn: AsyncConnection, user_id: int, fields: Iterable[str], now: datetime
) -> None:
    values = {"user_id": user_id, "fields": json.dumps(sorted(fields)), "updated_at": now}
    await upsert(conn, peer_profiles, values, key=("user_id",), update=("fields", "updated_at"))


async def stop_sharing(conn: AsyncConnection, user_id: int) -> None:
    await conn.execute(delete(peer_profiles).where(peer_profiles.c.user_id == user_id))


async def set_shown(conn: AsyncConnection, user_id: int, ids: Sequence[int]) -> None:
    await conn.execute(
        update(peer_profiles)
        .where(peer_profiles.c.user_id == user_id)
        .values(shown=json.dumps(list(ids)))
    )


async def people(
    conn: AsyncConnection, ids: Iterable[int] | None = None, *, sharing_only: bool = True
) -> list[Person]:
    """The activists who share (or, with `ids`, those of them; with `sharing_only=False`, those
    ids whether they share or not), with their latest stage, topics and ikigai."""
    stmt = select(
        users.c.id,
        users.c.first_name,
        users.c.username,
        users.c.locale,
        users.c.timezone,
        users.c.region,
        users.c.ikigai_focus,
        peer_profiles.c.fields,
    ).where(users.c.consent_at.is_not(None), users.c.blocked.is_(False))
    if sharing_only:
        stmt = stmt.join(peer_profiles, peer_profiles.c.user_id == users.c.id)
    else:
        stmt = stmt.outerjoin(peer_profiles, peer_profiles.c.user_id == users.c.id)
    if ids is not None:
        wanted = sorted(set(ids))
        if not wanted:
            return []
        stmt = stmt.where(users.c.id.in_(wanted))
    rows = (await conn.execute(stmt.order_by(users.c.id))).all()
    found = [int(r.id) for r in rows]
    if not found:
        return []
    topics: dict[int, set[str]] = {}
    for uid, topic in await conn.execute(
        select(user_topics.c.user_id, user_topics.c.topic).where(user_topics.c.user_id.in_(found))
    ):
        topics.setdefault(int(uid), set()).add(str(topic))
    columns: dict[tuple[int, str], list[str]] = {}
    for uid, col, text in await conn.execute(
        select(ikigai_entries.c.user_id, ikigai_entries.c.col, ikigai_entries.c.text)
        .where(ikigai_entries.c.user_id.in_(found), ikigai_entries.c.col.in_(("can", "need")))
        .order_by(ikigai_entries.c.user_id, ikigai_entries.c.col, ikigai_entries.c.position)
    ):
        columns.setdefault((int(uid), str(col)), []).append(str(text))
    stages: dict[int, int] = {}
    for uid, stage in await conn.execute(
        select(quiz_results.c.user_id, quiz_results.c.stage)
        .where(quiz_results.c.user_id.in_(found))
        .order_by(quiz_results.c.taken_at, quiz_results.c.id)
    ):
        stages[int(uid)] = int(stage)  # the latest wins
    return [
        Person(
            user_id=int(r.id),
            first_name=r.first_name,
            username=r.username,
            locale=r.locale,
            timezone=r.timezone,
            region=r.region,
            focus=r.ikigai_focus,
            stage=stages.get(int(r.id)),
            topics=frozenset(topics.get(int(r.id), ())),
            can=tuple(columns.get((int(r.id), "can"), ())),
            need=tuple(columns.get((int(r.id), "need"), ())),
            fields=frozenset(json.loads(r.fields)) if r.fields else frozenset(),
        )
        for r in rows
    ]


# --- blocks ----------------------------------------------------------------------------------


async def block(
    conn: AsyncConnection, user_id: int, blocked_id: int, reported: bool, now: datetime
) -> None:
    values = {
        "user_id": user_id,
        "blocked_id": blocked_id,
        "reported": reported,
        "created_at": now,
    }
    await upsert(conn, peer_blocks, values, key=("user_id", "blocked_id"), update=("reported",))


async def blocked_between(conn: AsyncConnection, user_id: int) -> frozenset[int]:
    """Everyone this person blocked or was blocked by."""
    rows = await conn.execute(
        select(peer_blocks.c.user_id, peer_blocks.c.blocked_id).where(
            or_(peer_blocks.c.user_id == user_id, peer_blocks.c.blocked_id == user_id)
        )
    )
    return frozenset(int(b if a == user_id else a) for a, b in rows.all())


# --- introductions ---------------------------------------------------------------------------


def _intro(m: Any) -> Introduction:
    return Introduction(
        id=int(m.id),
        kind=str(m.kind),
        from_id=int(m.from_id),
        to_id=int(m.to_id),
        status=str(m.status),
        created_at=m.created_at,
        answered_at=m.answered_at,
        checkin_at=m.checkin_at,
        ended_at=m.ended_at,
        rating=m.rating,
    )


async def introduce(
    conn: AsyncConnection, kind: str, from_id: int, to_id: int, now: datetime
) -> int:
    result = await conn.execute(
        insert(introductions).values(
            kind=kind, from_id=from_id, to_id=to_id, status=PENDING, created_at=now
        )
    )
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


async def introduction(conn: AsyncConnection, intro_id: int) -> Introduction | None:
    row = (await conn.execute(select(introductions).where(introductions.c.id == intro_id))).first()
    return _intro(row) if row is not None else None


async def between(conn: AsyncConnection, a: int, b: int, kind: str) -> list[Introduction]:
    rows = await conn.execute(
        select(introductions)
        .where(
            introductions.c.kind == kind,
            or_(
                and_(introductions.c.from_id == a, introductions.c.to_id == b),
                and_(introductions.c.from_id == b, introductions.c.to_id == a),
            ),
        )
        .order_by(introductions.c.id)
    )
    return [_intro(r) for r in rows.all()]


async def of(conn: AsyncConnection, user_id: int) -> list[Introduction]:
    rows = await conn.execute(
        select(introductions)
        .where(or_(introductions.c.from_id == user_id, introductions.c.to_id == user_id))
        .order_by(introductions.c.id)
    )
    return [_intro(r) for r in rows.all()]


async def asked_since(conn: AsyncConnection, from_id: int, since: datetime) -> int:
    return int(
        (
            await conn.execute(
                select(func.count())
                .select_from(introductions)
                .where(introductions.c.from_id == from_id, introductions.c.created_at > since)
            )
        ).scalar_one()
    )


async def answer(
    conn: AsyncConnection, intro_id: int, to_id: int, status: str, now: datetime
) -> bool:
    """Accept or decline a pending introduction addressed to `to_id`; False when it is not."""
    result = await conn.execute(
        update(introductions)
        .where(
            introductions.c.id == intro_id,
            introductions.c.to_id == to_id,
            introductions.c.status == PENDING,
        )
        .values(status=status, answered_at=now)
    )
    return result.rowcount == 1


async def end(
    conn: AsyncConnection, intro_id: int, user_id: int, rating: int | None, now: datetime
) -> bool:
    """End an accepted mentorship one of its two people is in."""
    result = await conn.execute(
        update(introductions)
        .where(
            introductions.c.id == intro_id,
            introductions.c.kind == MENTOR,
            introductions.c.status == ACCEPTED,
            or_(introductions.c.from_id == user_id, introductions.c.to_id == user_id),
        )
        .values(status=ENDED, ended_at=now)
    )
    return result.rowcount == 1


async def rate(conn: AsyncConnection, intro_id: int, mentee_id: int, rating: int) -> bool:
    result = await conn.execute(
        update(introductions)
        .where(
            introductions.c.id == intro_id,
            introductions.c.from_id == mentee_id,
            introductions.c.kind == MENTOR,
            introductions.c.status == ENDED,
        )
        .values(rating=rating)
    )
    return result.rowcount == 1


async def checkins_due(conn: AsyncConnection, started_before: datetime) -> list[Introduction]:
    rows = await conn.execute(
        select(introductions).where(
            introductions.c.kind == MENTOR,
            introductions.c.status == ACCEPTED,
            introductions.c.checkin_at.is_(None),
            introductions.c.answered_at <= started_before,
        )
    )
    return [_intro(r) for r in rows.all()]


async def mark_checked_in(conn: AsyncConnection, intro_id: int, now: datetime) -> bool:
    result = await conn.execute(
        update(introductions)
        .where(introductions.c.id == intro_id, introductions.c.checkin_at.is_(None))
        .values(checkin_at=now)
    )
    return result.rowcount == 1


# --- mentors ---------------------------------------------------------------------------------


def _offer(m: Any) -> Offer:
    return Offer(
        user_id=int(m.user_id),
        topics=frozenset(json.loads(m.topics)),
        capacity=int(m.capacity),
        ways=tuple(json.loads(m.ways)),
        often=str(m.often),
        active=bool(m.active),
        marked_by=m.marked_by,
    )


async def offer(conn: AsyncConnection, user_id: int) -> Offer | None:
    row = (
        await conn.execute(select(mentor_offers).where(mentor_offers.c.user_id == user_id))
    ).first()
    return _offer(row) if row is not None else None


async def save_offer(conn: AsyncConnection, o: Offer, now: datetime) -> None:
    values = {
        "user_id": o.user_id,
        "topics": json.dumps(sorted(o.topics)),
        "capacity": o.capacity,
        "ways": json.dumps(list(o.ways)),
        "often": o.often,
        "active": o.active,
        "marked_by": o.marked_by,
        "updated_at": now,
    }
    await upsert(conn, mentor_offers, values, key=("user_id",))


async def active_offers(conn: AsyncConnection) -> list[tuple[Offer, int]]:
    """Every active offer with the mentorships going on now."""
    going = (
        select(introductions.c.to_id, func.count().label("n"))
        .where(introductions.c.kind == MENTOR, introductions.c.status == ACCEPTED)
        .group_by(introductions.c.to_id)
        .subquery()
    )
    rows = await conn.execute(
        select(mentor_offers, going.c.n)
        .outerjoin(going, going.c.to_id == mentor_offers.c.user_id)
        .where(mentor_offers.c.active.is_(True))
        .order_by(mentor_offers.c.user_id)
    )
    return [(_offer(r), int(r.n or 0)) for r in rows.all()]


async def holders(conn: AsyncConnection, role: str) -> list[int]:
    rows = await conn.execute(select(user_roles.c.user_id).where(user_roles.c.role == role))
    return [int(u) for u in rows.scalars()]


# --- the person's own data -------------------------------------------------------------------


async def export(conn: AsyncConnection, user_id: int) -> dict[str, Any]:
    mine = await share(conn, user_id)
    o = await offer(conn, user_id)
    blocks = await conn.execute(
        select(peer_blocks.c.blocked_id, peer_blocks.c.reported, peer_blocks.c.created_at).where(
            peer_blocks.c.user_id == user_id
        )
    )
    return {
        "shown_to_activists": sorted(mine.fields) if mine else None,
        "mentor_offer": None
        if o is None
        else {
            "topics": sorted(o.topics),
            "capacity": o.capacity,
            "ways": list(o.ways),
            "often": o.often,
            "active": o.active,
        },
        "blocked": [
            {"user_id": int(b), "reported": bool(r), "at": at} for b, r, at in blocks.all()
        ],
        "introductions": [
            {
                "kind": i.kind,
                "asked_by_me": i.from_id == user_id,
                "with": i.other(user_id),
                # A decline is silent: whoever asked sees it as not accepted, like a waiting one
                # (the answer is the other person's, not theirs).
                "status": "not_accepted"
                if i.from_id == user_id and i.status in (PENDING, DECLINED)
                else i.status,
                "created_at": i.created_at,
                "answered_at": i.answered_at,
                "ended_at": i.ended_at,
                "rating": i.rating,
            }
            for i in await of(conn, user_id)
        ],
    }
