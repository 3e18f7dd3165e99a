"""Opportunities, sign-ups, their change log and volunteer profiles (SQLAlchemy Core).

**Places under concurrency.** Every change of an opportunity's sign-ups runs in one
transaction that *starts* with `lock()`: `UPDATE opportunities SET seq = seq + 1 WHERE id = …
RETURNING …`. That single portable statement is the lock on both backends:

* PostgreSQL: the UPDATE takes the row lock, so a second sign-up for the same opportunity waits
  until the first commits; its later statements (READ COMMITTED: a new snapshot each) then see
  the first one's sign-up. Sign-ups for other opportunities do not wait.
* SQLite: it is the transaction's first write, so it takes the database's single write lock
  (waiting up to `busy_timeout`), on a fresh snapshot — everything after it in the transaction
  is serialised with every other writer.

Under the lock the service counts the confirmed places and decides (`bot.domain.opportunities`)
in plain Python; the new `seq` is the sign-up's queue position. (A conditional
`INSERT … SELECT … WHERE count < capacity` alone is not enough on PostgreSQL: two transactions
both count before either commits.)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.attendance import event_minutes
from bot.domain.opportunities import (
    CANCELLED,
    CONFIRMED,
    WAITING,
    WITHDRAWN,
    Listing,
    Opportunity,
)
from bot.storage.dialect import upsert
from bot.storage.settings import PushSettings
from bot.storage.tables import (
    certificates,
    ikigai_entries,
    opportunities,
    opportunity_changes,
    outbox,
    signups,
    user_settings,
    users,
    volunteer_profiles,
)

ACTIVE = (CONFIRMED, WAITING)


def _opportunity(m: RowMapping) -> Opportunity:
    return Opportunity(
        id=m["id"],
        title=m["title"],
        description=m["description"],
        topic=m["topic"],
        place=m["place"],
        link=m["link"],
        region=m["region"],
        timezone=m["timezone"],
        starts_at=m["starts_at"],
        ends_at=m["ends_at"],
        capacity=m["capacity"],
        signup_until=m["signup_until"],
        contact=m["contact"],
        status=m["status"],
        created_by=m["created_by"],
        created_at=m["created_at"],
        seq=m["seq"],
        updated_at=m["updated_at"],
        parent_id=m["parent_id"],
        role=m["role"],
    )


# --- opportunities --------------------------------------------------------------------------


async def create(conn: AsyncConnection, values: Mapping[str, Any], now: datetime) -> int:
    result = await conn.execute(
        insert(opportunities)
        .values(**values, status="open", seq=0, created_at=now, updated_at=now)
        .returning(opportunities.c.id)
    )
    return int(result.scalar_one())


async def get(conn: AsyncConnection, opportunity_id: int) -> Opportunity | None:
    row = (
        (await conn.execute(select(opportunities).where(opportunities.c.id == opportunity_id)))
        .mappings()
        .first()
    )
    return None if row is None else _opportunity(row)


async def lock(conn: AsyncConnection, opportunity_id: int) -> Opportunity | None:
    """Lock the opportunity for a sign-up change (see the module notes) and return it with its
    new `seq`. Must be the transaction's first statement. None: no such opportunity."""
    result = await conn.execute(
        update(opportunities)
        .where(opportunities.c.id == opportunity_id)
        .values(seq=opportunities.c.seq + 1)
        .returning(*opportunities.c)
    )
    row = result.mappings().first()
    return None if row is None else _opportunity(row)


async def lock_upcoming_of(
    conn: AsyncConnection, organiser_id: int, now: datetime
) -> list[Opportunity]:
    """Lock (as `lock`) the organiser's opportunities not started nor cancelled yet, and return
    them with their new `seq`, in id order."""
    result = await conn.execute(
        update(opportunities)
        .where(
            opportunities.c.created_by == organiser_id,
            opportunities.c.status != CANCELLED,
            opportunities.c.starts_at > now,
        )
        .values(seq=opportunities.c.seq + 1)
        .returning(*opportunities.c)
    )
    return sorted((_opportunity(m) for m in result.mappings()), key=lambda o: o.id)


async def set_fields(
    conn: AsyncConnection, opportunity_id: int, now: datetime, **values: Any
) -> None:
    await conn.execute(
        update(opportunities)
        .where(opportunities.c.id == opportunity_id)
        .values(updated_at=now, **values)
    )


def sign_up_counts() -> Any:
    """confirmed and waiting counts per opportunity (a subquery)."""
    return (
        select(
            signups.c.opportunity_id,
            func.sum(case((signups.c.status == CONFIRMED, 1), else_=0)).label("confirmed"),
            func.sum(case((signups.c.status == WAITING, 1), else_=0)).label("waiting"),
            func.sum(
                case(((signups.c.status == CONFIRMED) & signups.c.attended.is_(True), 1), else_=0)
            ).label("attended"),
        )
        .group_by(signups.c.opportunity_id)
        .subquery()
    )


def _listing_query() -> Any:
    counts = sign_up_counts()
    return select(
        opportunities,
        func.coalesce(counts.c.confirmed, 0).label("n_confirmed"),
        func.coalesce(counts.c.waiting, 0).label("n_waiting"),
        func.coalesce(counts.c.attended, 0).label("n_attended"),
    ).outerjoin(counts, counts.c.opportunity_id == opportunities.c.id)


def _listing(m: RowMapping) -> Listing:
    return Listing(
        _opportunity(m), int(m["n_confirmed"]), int(m["n_waiting"]), int(m["n_attended"])
    )


async def listing(conn: AsyncConnection, opportunity_id: int) -> Listing | None:
    row = (
        (await conn.execute(_listing_query().where(opportunities.c.id == opportunity_id)))
        .mappings()
        .first()
    )
    return None if row is None else _listing(row)


async def series(conn: AsyncConnection, root_id: int) -> list[Listing]:
    """An opportunity with its shifts and roles (bot.domain.shifts), by start, then role."""
    rows = await conn.execute(
        _listing_query()
        .where(or_(opportunities.c.id == root_id, opportunities.c.parent_id == root_id))
        .order_by(
            opportunities.c.starts_at, func.coalesce(opportunities.c.role, ""), opportunities.c.id
        )
    )
    return [_listing(m) for m in rows.mappings()]


async def browse(
    conn: AsyncConnection,
    *,
    start: datetime,
    end: datetime | None,
    topic: str | None,
    region: str | None,
    offset: int,
    limit: int,
) -> tuple[list[Listing], int]:
    """Open, not cancelled or closed opportunities starting in [start, end), soonest first,
    of one topic (None: any), in reach of a volunteer of `region` (online, region-less or
    theirs; None: every region). Returns one page and the total."""
    conditions = [opportunities.c.status == "open", opportunities.c.starts_at >= start]
    if end is not None:
        conditions.append(opportunities.c.starts_at < end)
    if topic is not None:
        conditions.append(opportunities.c.topic == topic)
    if region is not None:
        conditions.append(
            or_(
                opportunities.c.region.is_(None),
                opportunities.c.region == region,
                and_(opportunities.c.place.is_(None), opportunities.c.link.is_not(None)),
            )
        )
    total = (
        await conn.execute(select(func.count()).select_from(opportunities).where(*conditions))
    ).scalar_one()
    rows = await conn.execute(
        _listing_query()
        .where(*conditions)
        .order_by(opportunities.c.starts_at, opportunities.c.id)
        .offset(offset)
        .limit(limit)
    )
    return [_listing(m) for m in rows.mappings()], int(total)


async def upcoming(conn: AsyncConnection, now: datetime, until: datetime) -> list[Listing]:
    """Open opportunities starting in [now, until): the digest's candidates."""
    rows = await conn.execute(
        _listing_query()
        .where(
            opportunities.c.status == "open",
            opportunities.c.starts_at >= now,
            opportunities.c.starts_at < until,
        )
        .order_by(opportunities.c.starts_at, opportunities.c.id)
    )
    return [_listing(m) for m in rows.mappings()]


async def managed(
    conn: AsyncConnection,
    since: datetime,
    offset: int,
    limit: int,
    owner: int | None = None,
    *,
    past: bool = False,
) -> tuple[list[Listing], int]:
    """For organisers: every opportunity that ends after `since`, soonest first — or, `past`,
    every one that ended before it, the latest first (only those `owner` created, when
    given)."""
    condition = opportunities.c.ends_at < since if past else opportunities.c.ends_at >= since
    order = (
        (opportunities.c.starts_at.desc(), opportunities.c.id.desc())
        if past
        else (opportunities.c.starts_at, opportunities.c.id)
    )
    if owner is not None:
        condition = condition & (opportunities.c.created_by == owner)
    total = (
        await conn.execute(select(func.count()).select_from(opportunities).where(condition))
    ).scalar_one()
    rows = await conn.execute(
        _listing_query().where(condition).order_by(*order).offset(offset).limit(limit)
    )
    return [_listing(m) for m in rows.mappings()], int(total)


# --- sign-ups -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Signup:
    opportunity_id: int
    user_id: int
    status: str
    position: int
    created_at: datetime
    status_at: datetime
    attended: bool | None
    confirm: str | None = None  # the day-before confirmation (bot.domain.attendance)
    rating: int | None = None
    minutes: int | None = None  # the organiser's correction of the hours

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


def _signup(m: RowMapping) -> Signup:
    return Signup(
        opportunity_id=m["opportunity_id"],
        user_id=m["user_id"],
        status=m["status"],
        position=m["position"],
        created_at=m["created_at"],
        status_at=m["status_at"],
        attended=m["attended"],
        confirm=m["confirm"],
        rating=m["rating"],
        minutes=m["minutes"],
    )


async def signup_of(conn: AsyncConnection, opportunity_id: int, user_id: int) -> Signup | None:
    row = (
        (
            await conn.execute(
                select(signups).where(
                    signups.c.opportunity_id == opportunity_id, signups.c.user_id == user_id
                )
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else _signup(row)


async def signups_of(conn: AsyncConnection, opportunity_id: int) -> list[Signup]:
    """Every sign-up of the opportunity, in queue order."""
    rows = await conn.execute(
        select(signups)
        .where(signups.c.opportunity_id == opportunity_id)
        .order_by(signups.c.position, signups.c.user_id)
    )
    return [_signup(m) for m in rows.mappings()]


async def save_signup(
    conn: AsyncConnection,
    opportunity_id: int,
    user_id: int,
    status: str,
    now: datetime,
    *,
    position: int | None = None,
) -> None:
    """Set a sign-up's status (creating it). With `position` it (re)joins the queue there —
    a new sign-up or one made again after cancelling; otherwise it keeps its place."""
    values: dict[str, Any] = {
        "opportunity_id": opportunity_id,
        "user_id": user_id,
        "status": status,
        "status_at": now,
    }
    if position is None:
        await conn.execute(
            update(signups)
            .where(signups.c.opportunity_id == opportunity_id, signups.c.user_id == user_id)
            .values(status=status, status_at=now)
        )
        return
    await upsert(
        conn,
        signups,
        {
            **values,
            "position": position,
            "created_at": now,
            "attended": None,
            "confirm": None,
            "confirm_at": None,
        },
        key=["opportunity_id", "user_id"],
    )


async def count(conn: AsyncConnection, opportunity_id: int, status: str) -> int:
    result = await conn.execute(
        select(func.count())
        .select_from(signups)
        .where(signups.c.opportunity_id == opportunity_id, signups.c.status == status)
    )
    return int(result.scalar_one())


async def log_change(
    conn: AsyncConnection, opportunity_id: int, user_id: int, change: str, now: datetime
) -> None:
    await conn.execute(
        insert(opportunity_changes).values(
            opportunity_id=opportunity_id, user_id=user_id, change=change, created_at=now
        )
    )


async def participants(conn: AsyncConnection, opportunity_ids: Iterable[int]) -> list[int]:
    """Confirmed participants of any of the opportunities (user ids, each once, sorted): the
    broadcast segment "participants of …" and the organiser's message."""
    ids = sorted(set(opportunity_ids))
    if not ids:
        return []
    rows = await conn.execute(
        select(signups.c.user_id)
        .where(signups.c.opportunity_id.in_(ids), signups.c.status == CONFIRMED)
        .distinct()
        .order_by(signups.c.user_id)
    )
    return [int(u) for u in rows.scalars()]


@dataclass(frozen=True, slots=True)
class Person:
    """A sign-up as the organiser sees it."""

    user_id: int
    first_name: str | None
    last_name: str | None
    username: str | None
    status: str
    position: int
    created_at: datetime
    status_at: datetime
    attended: bool | None
    no_shows: int  # at this organiser's opportunities
    confirm: str | None = None  # the day-before confirmation (bot.domain.attendance)
    rating: int | None = None
    comment: str | None = None
    minutes: int | None = None  # the organiser's correction of the hours

    @property
    def name(self) -> str:
        full = " ".join(p for p in (self.first_name, self.last_name) if p)
        return full or (f"@{self.username}" if self.username else f"id {self.user_id}")


async def roster(conn: AsyncConnection, opportunity_id: int) -> list[Person]:
    """Confirmed and waiting sign-ups with names and no-show counts, in queue order, and those
    who declined when asked to confirm (status cancelled, confirm "no"). A
    no-show count covers the organiser's own opportunities only: what other organisers marked
    is theirs (the privacy policy says an organiser sees attendance at their opportunity)."""
    organiser = (
        select(opportunities.c.created_by)
        .where(opportunities.c.id == opportunity_id)
        .scalar_subquery()
    )
    misses = (
        select(signups.c.user_id, func.count().label("n"))
        .join(opportunities, opportunities.c.id == signups.c.opportunity_id)
        .where(signups.c.attended.is_(False), opportunities.c.created_by == organiser)
        .group_by(signups.c.user_id)
        .subquery()
    )
    rows = await conn.execute(
        select(
            signups,
            users.c.first_name,
            users.c.last_name,
            users.c.username,
            func.coalesce(misses.c.n, 0).label("no_shows"),
        )
        .join(users, users.c.id == signups.c.user_id)
        .outerjoin(misses, misses.c.user_id == signups.c.user_id)
        .where(
            signups.c.opportunity_id == opportunity_id,
            or_(signups.c.status.in_(ACTIVE), signups.c.confirm == "no"),
        )
        .order_by(signups.c.position, signups.c.user_id)
    )
    return [
        Person(
            user_id=m["user_id"],
            first_name=m["first_name"],
            last_name=m["last_name"],
            username=m["username"],
            status=m["status"],
            position=m["position"],
            created_at=m["created_at"],
            status_at=m["status_at"],
            attended=m["attended"],
            no_shows=int(m["no_shows"]),
            confirm=m["confirm"],
            rating=m["rating"],
            comment=m["comment"],
            minutes=m["minutes"],
        )
        for m in rows.mappings()
    ]


async def set_attended(
    conn: AsyncConnection, opportunity_id: int, user_id: int, attended: bool | None
) -> bool:
    """Mark a confirmed participant (True came, False a no-show, None unmarked)."""
    result = await conn.execute(
        update(signups)
        .where(
            signups.c.opportunity_id == opportunity_id,
            signups.c.user_id == user_id,
            signups.c.status == CONFIRMED,
        )
        .values(attended=attended)
    )
    return bool(result.rowcount)


async def no_shows(conn: AsyncConnection, user_id: int) -> int:
    result = await conn.execute(
        select(func.count())
        .select_from(signups)
        .where(signups.c.user_id == user_id, signups.c.attended.is_(False))
    )
    return int(result.scalar_one())


async def of_user(
    conn: AsyncConnection, user_id: int, since: datetime
) -> list[tuple[Listing, Signup]]:
    """The user's active sign-ups for opportunities ending after `since`, soonest first."""
    rows = await conn.execute(
        _listing_query()
        .add_columns(
            signups.c.status.label("s_status"),
            signups.c.position.label("s_position"),
            signups.c.created_at.label("s_created_at"),
            signups.c.status_at.label("s_status_at"),
            signups.c.attended.label("s_attended"),
        )
        .join(signups, signups.c.opportunity_id == opportunities.c.id)
        .where(
            signups.c.user_id == user_id,
            signups.c.status.in_(ACTIVE),
            opportunities.c.ends_at >= since,
        )
        .order_by(opportunities.c.starts_at, opportunities.c.id)
    )
    found = []
    for m in rows.mappings():
        signup = Signup(
            opportunity_id=m["id"],
            user_id=user_id,
            status=m["s_status"],
            position=m["s_position"],
            created_at=m["s_created_at"],
            status_at=m["s_status_at"],
            attended=m["s_attended"],
        )
        found.append((_listing(m), signup))
    return found


async def taken_by(conn: AsyncConnection, user_id: int) -> frozenset[int]:
    rows = await conn.execute(
        select(signups.c.opportunity_id).where(
            signups.c.user_id == user_id, signups.c.status.in_(ACTIVE)
        )
    )
    return frozenset(int(i) for i in rows.scalars())


# --- who gets pushes ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Addressee:
    """A user the bot may write to, with what a push needs."""

    id: int
    locale: str | None
    timezone: str | None
    quiet_start: int
    quiet_end: int
    wants_opportunities: bool


_DEFAULTS = PushSettings()


def _addressee_columns() -> list[Any]:
    return [
        users.c.id.label("u_id"),
        users.c.locale.label("u_locale"),
        users.c.timezone.label("u_timezone"),
        user_settings.c.quiet_start.label("u_quiet_start"),
        user_settings.c.quiet_end.label("u_quiet_end"),
        user_settings.c.opportunities.label("u_opportunities"),
    ]


def _may_write(query: Any) -> Any:
    """Join the user's settings; only users who consented and have not blocked the bot."""
    return query.outerjoin(user_settings, user_settings.c.user_id == users.c.id).where(
        users.c.consent_at.is_not(None), users.c.blocked.is_(False)
    )


def _addressee(m: RowMapping) -> Addressee:
    has = m["u_quiet_start"] is not None  # a user without a settings row has the defaults
    return Addressee(
        id=m["u_id"],
        locale=m["u_locale"],
        timezone=m["u_timezone"],
        quiet_start=m["u_quiet_start"] if has else _DEFAULTS.quiet_start,
        quiet_end=m["u_quiet_end"] if has else _DEFAULTS.quiet_end,
        wants_opportunities=bool(m["u_opportunities"]) if has else _DEFAULTS.opportunities,
    )


async def addressees(conn: AsyncConnection, user_ids: Iterable[int]) -> dict[int, Addressee]:
    """Those of the users who consented and have not blocked the bot."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    query = _may_write(select(*_addressee_columns()).select_from(users))
    rows = await conn.execute(query.where(users.c.id.in_(ids)))
    return {m["u_id"]: _addressee(m) for m in rows.mappings()}


@dataclass(frozen=True, slots=True)
class DueSignup:
    """A confirmed sign-up of an opportunity starting soon, with its volunteer."""

    opportunity: Opportunity
    user: Addressee
    status_at: datetime
    position: int  # tells a sign-up made again after cancelling from the first one
    confirm: str | None = None  # the day-before confirmation (bot.domain.attendance)


async def starting_soon(conn: AsyncConnection, now: datetime, until: datetime) -> list[DueSignup]:
    """Confirmed sign-ups of opportunities (not cancelled) starting in (now, until], of users
    the bot may write to."""
    query = (
        select(
            opportunities,
            signups.c.status_at.label("s_status_at"),
            signups.c.position.label("s_position"),
            signups.c.confirm.label("s_confirm"),
            *_addressee_columns(),
        )
        .select_from(opportunities)
        .join(signups, signups.c.opportunity_id == opportunities.c.id)
        .join(users, users.c.id == signups.c.user_id)
    )
    rows = await conn.execute(
        _may_write(query)
        .where(
            opportunities.c.status != CANCELLED,
            opportunities.c.starts_at > now,
            opportunities.c.starts_at <= until,
            signups.c.status == CONFIRMED,
        )
        .order_by(opportunities.c.starts_at, signups.c.user_id)
    )
    return [
        DueSignup(
            _opportunity(m), _addressee(m), m["s_status_at"], m["s_position"], m["s_confirm"]
        )
        for m in rows.mappings()
    ]


async def fillable(conn: AsyncConnection, now: datetime) -> list[int]:
    """Opportunities not started nor cancelled with someone waiting and a place free."""
    counts = sign_up_counts()
    rows = await conn.execute(
        select(opportunities.c.id)
        .join(counts, counts.c.opportunity_id == opportunities.c.id)
        .where(
            opportunities.c.status != CANCELLED,
            opportunities.c.starts_at > now,
            counts.c.waiting > 0,
            or_(opportunities.c.capacity.is_(None), counts.c.confirmed < opportunities.c.capacity),
        )
    )
    return [int(i) for i in rows.scalars()]


# --- the organiser's notices ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Change:
    id: int
    opportunity_id: int
    organiser_id: int
    user_id: int
    change: str
    created_at: datetime
    name: str
    cursor: int  # the opportunity's notice cursor when read


async def unnoticed(conn: AsyncConnection, since: datetime) -> list[Change]:
    """Sign-up changes the organisers have not been told about, oldest first, of opportunities
    ending after `since` (older ones have no news worth telling; this keeps the scan small)."""
    rows = await conn.execute(
        select(
            opportunity_changes,
            opportunities.c.created_by,
            opportunities.c.noticed_change,
            users.c.first_name,
            users.c.last_name,
            users.c.username,
        )
        .join(opportunities, opportunities.c.id == opportunity_changes.c.opportunity_id)
        .join(users, users.c.id == opportunity_changes.c.user_id)
        .where(
            opportunities.c.ends_at >= since,
            opportunity_changes.c.id > opportunities.c.noticed_change,
        )
        .order_by(opportunity_changes.c.id)
    )
    found = []
    for m in rows.mappings():
        full = " ".join(p for p in (m["first_name"], m["last_name"]) if p)
        name = full or (f"@{m['username']}" if m["username"] else f"id {m['user_id']}")
        if full and m["username"]:
            name = f"{full} (@{m['username']})"
        found.append(
            Change(
                id=m["id"],
                opportunity_id=m["opportunity_id"],
                organiser_id=m["created_by"],
                user_id=m["user_id"],
                change=m["change"],
                created_at=m["created_at"],
                name=name,
                cursor=m["noticed_change"],
            )
        )
    return found


async def mark_noticed(conn: AsyncConnection, opportunity_id: int, seen: int, upto: int) -> bool:
    """Move the opportunity's notice cursor from `seen` to `upto` (compare-and-set); False when
    another tick moved it meanwhile (that tick's notice covers these changes)."""
    result = await conn.execute(
        update(opportunities)
        .where(opportunities.c.id == opportunity_id, opportunities.c.noticed_change == seen)
        .values(noticed_change=upto)
    )
    return bool(result.rowcount)


async def last_notices(
    conn: AsyncConnection, kind: str, user_ids: Iterable[int]
) -> dict[int, datetime]:
    """user id → when their latest outbox row of `kind` was created."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = await conn.execute(
        select(outbox.c.user_id, func.max(outbox.c.created_at))
        .where(outbox.c.kind == kind, outbox.c.user_id.in_(ids))
        .group_by(outbox.c.user_id)
    )
    return {int(u): at for u, at in rows.all()}


async def cancel_pending(
    conn: AsyncConnection, kind: str, key_prefix: str, user_id: int | None = None
) -> int:
    """Cancel outbox rows not sent yet whose dedup key starts with `key_prefix` (a reminder of
    a cancelled sign-up or opportunity)."""
    conditions = [
        outbox.c.status == "pending",
        outbox.c.kind == kind,
        outbox.c.dedup_key.startswith(key_prefix, autoescape=True),
    ]
    if user_id is not None:
        conditions.append(outbox.c.user_id == user_id)
    result = await conn.execute(update(outbox).where(*conditions).values(status="cancelled"))
    return int(result.rowcount or 0)


# --- volunteer profiles ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VolunteerProfile:
    skills: tuple[str, ...] = ()
    availability: frozenset[str] = frozenset()
    saved: bool = False  # False: never saved (skills come from the ikigai)
    reach: str | None = None  # online / town / region / far; None: not asked yet
    city: str | None = None
    notify_new: bool = False  # told when a fitting opportunity is published


def _profile(m: RowMapping) -> VolunteerProfile:
    return VolunteerProfile(
        skills=tuple(json.loads(m["skills"])),
        availability=frozenset(json.loads(m["availability"])),
        saved=True,
        reach=m["reach"],
        city=m["city"],
        notify_new=bool(m["notify_new"]),
    )


async def volunteer_profile(conn: AsyncConnection, user_id: int) -> VolunteerProfile:
    row = (
        (
            await conn.execute(
                select(volunteer_profiles).where(volunteer_profiles.c.user_id == user_id)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return VolunteerProfile()
    return _profile(row)


async def save_volunteer_profile(
    conn: AsyncConnection, user_id: int, profile: VolunteerProfile, now: datetime
) -> None:
    await upsert(
        conn,
        volunteer_profiles,
        {
            "user_id": user_id,
            "skills": json.dumps(list(profile.skills), ensure_ascii=False),
            "availability": json.dumps(sorted(profile.availability)),
            "reach": profile.reach,
            "city": profile.city,
            "notify_new": profile.notify_new,
            "updated_at": now,
        },
        key=["user_id"],
    )


async def export(conn: AsyncConnection, user_id: int) -> dict[str, Any]:
    """What volunteering stores about the user (for /my_data; times as datetimes)."""
    profile = await volunteer_profile(conn, user_id)
    rows = await conn.execute(
        select(signups, opportunities.c.title, opportunities.c.starts_at)
        .join(opportunities, opportunities.c.id == signups.c.opportunity_id)
        .where(signups.c.user_id == user_id)
        .order_by(opportunities.c.starts_at)
    )
    return {
        "volunteer_profile": {
            "skills": list(profile.skills),
            "availability": sorted(profile.availability),
            "reach": profile.reach,
            "city": profile.city,
            "notify_new": profile.notify_new,
        }
        if profile.saved
        else None,
        "signups": [
            {
                "opportunity": m["title"],
                "starts_at": m["starts_at"],
                "status": m["status"],
                "signed_up_at": m["created_at"],
                "attended": m["attended"],
                "confirmation": m["confirm"],
                "rating": m["rating"],
                "comment": m["comment"],
                "hours_corrected_to": None if m["minutes"] is None else m["minutes"] / 60,
            }
            for m in rows.mappings()
        ],
        "certificates": [
            {
                "code": m["code"],
                "name": m["name"],
                "hours": m["minutes"] / 60,
                "events": m["events"],
                "issued_at": m["issued_at"],
            }
            for m in (
                await conn.execute(
                    select(certificates)
                    .where(certificates.c.user_id == user_id)
                    .order_by(certificates.c.issued_at)
                )
            ).mappings()
        ],
    }


# --- the confirmation, the rating, the hours ------------------------------------------------


async def set_confirm(
    conn: AsyncConnection,
    opportunity_id: int,
    user_ids: Iterable[int],
    confirm: str | None,
    now: datetime,
    *,
    only: str | None = None,
) -> int:
    """Set the confirmation of sign-ups (with `only`, of those whose confirmation is that)."""
    ids = sorted(set(user_ids))
    if not ids:
        return 0
    conditions = [signups.c.opportunity_id == opportunity_id, signups.c.user_id.in_(ids)]
    if only is not None:
        conditions.append(signups.c.confirm == only)
    result = await conn.execute(
        update(signups).where(*conditions).values(confirm=confirm, confirm_at=now)
    )
    return int(result.rowcount or 0)


async def unanswered(
    conn: AsyncConnection, deadline_before: datetime, since: datetime
) -> list[tuple[int, int]]:
    """(opportunity id, user id) of confirmed sign-ups asked to confirm and not answered, of
    opportunities (not cancelled) starting in (since, deadline_before]: their deadline passed."""
    rows = await conn.execute(
        select(signups.c.opportunity_id, signups.c.user_id)
        .join(opportunities, opportunities.c.id == signups.c.opportunity_id)
        .where(
            signups.c.confirm == "asked",
            signups.c.status == CONFIRMED,
            opportunities.c.status != CANCELLED,
            opportunities.c.starts_at <= deadline_before,
            opportunities.c.starts_at > since,
        )
        .order_by(signups.c.opportunity_id, signups.c.user_id)
    )
    return [(int(o), int(u)) for o, u in rows.all()]


async def to_thank(conn: AsyncConnection, now: datetime, since: datetime) -> list[tuple[int, int]]:
    """(opportunity id, user id) of those marked as having come to opportunities that ended in
    (since, now], not thanked yet."""
    rows = await conn.execute(
        select(signups.c.opportunity_id, signups.c.user_id)
        .join(opportunities, opportunities.c.id == signups.c.opportunity_id)
        .where(
            signups.c.attended.is_(True),
            signups.c.thanked_at.is_(None),
            signups.c.status == CONFIRMED,
            opportunities.c.ends_at <= now,
            opportunities.c.ends_at > since,
        )
        .order_by(signups.c.opportunity_id, signups.c.user_id)
    )
    return [(int(o), int(u)) for o, u in rows.all()]


async def set_thanked(
    conn: AsyncConnection, opportunity_id: int, user_id: int, now: datetime
) -> bool:
    """Claim the thanks of one attendee (False: another tick did)."""
    result = await conn.execute(
        update(signups)
        .where(
            signups.c.opportunity_id == opportunity_id,
            signups.c.user_id == user_id,
            signups.c.thanked_at.is_(None),
        )
        .values(thanked_at=now)
    )
    return bool(result.rowcount)


async def set_rating(
    conn: AsyncConnection, opportunity_id: int, user_id: int, **values: Any
) -> None:
    """The attendee's rating and/or comment."""
    await conn.execute(
        update(signups)
        .where(signups.c.opportunity_id == opportunity_id, signups.c.user_id == user_id)
        .values(**values)
    )


async def set_minutes(
    conn: AsyncConnection, opportunity_id: int, user_id: int, minutes: int | None
) -> None:
    await conn.execute(
        update(signups)
        .where(signups.c.opportunity_id == opportunity_id, signups.c.user_id == user_id)
        .values(minutes=minutes)
    )


@dataclass(frozen=True, slots=True)
class Attended:
    """One event the volunteer came to, as their record lists it."""

    opportunity_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    organiser: str  # the organiser's name ("" when they left)
    minutes: int | None  # the organiser's correction; None: end − start

    @property
    def counted(self) -> int:
        """The minutes it counts."""
        if self.minutes is not None:
            return self.minutes
        return event_minutes(self.starts_at, self.ends_at)


async def record(conn: AsyncConnection, user_id: int) -> list[Attended]:
    """The opportunities the organiser marked the user as having come to, oldest first."""
    rows = await conn.execute(
        select(
            opportunities.c.id,
            opportunities.c.title,
            opportunities.c.starts_at,
            opportunities.c.ends_at,
            signups.c.minutes,
            users.c.first_name,
            users.c.last_name,
        )
        .join(signups, signups.c.opportunity_id == opportunities.c.id)
        .outerjoin(users, users.c.id == opportunities.c.created_by)
        .where(signups.c.user_id == user_id, signups.c.attended.is_(True))
        .order_by(opportunities.c.starts_at, opportunities.c.id)
    )
    return [
        Attended(
            opportunity_id=int(m["id"]),
            title=str(m["title"]),
            starts_at=m["starts_at"],
            ends_at=m["ends_at"],
            organiser=" ".join(p for p in (m["first_name"], m["last_name"]) if p),
            minutes=m["minutes"],
        )
        for m in rows.mappings()
    ]


async def add_certificate(conn: AsyncConnection, values: Mapping[str, Any]) -> None:
    await conn.execute(insert(certificates).values(**values))


async def certificate(conn: AsyncConnection, code: str) -> RowMapping | None:
    row = await conn.execute(select(certificates).where(certificates.c.code == code))
    return row.mappings().first()


__all__ = [
    "ACTIVE",
    "WITHDRAWN",
    "Addressee",
    "Change",
    "DueSignup",
    "Person",
    "Signup",
    "VolunteerProfile",
    "participants",
]


# --- the digest: many volunteers at once ----------------------------------------------------


def _ids_between(column: Any, first: int, last: int) -> Any:
    return and_(column >= first, column <= last)


async def volunteer_profiles_between(
    conn: AsyncConnection, first: int, last: int
) -> dict[int, VolunteerProfile]:
    """Saved volunteer profiles of the users with ids in [first, last]."""
    rows = await conn.execute(
        select(volunteer_profiles).where(_ids_between(volunteer_profiles.c.user_id, first, last))
    )
    return {int(m["user_id"]): _profile(m) for m in rows.mappings()}


async def ikigai_can_between(conn: AsyncConnection, first: int, last: int) -> dict[int, list[str]]:
    """The ikigai's "what I can" entries, in their order, of the users with ids in [first, last]
    (the skills of a volunteer who has not saved a profile)."""
    rows = await conn.execute(
        select(ikigai_entries.c.user_id, ikigai_entries.c.text)
        .where(
            ikigai_entries.c.col == "can",
            _ids_between(ikigai_entries.c.user_id, first, last),
        )
        .order_by(ikigai_entries.c.user_id, ikigai_entries.c.position)
    )
    found: dict[int, list[str]] = {}
    for user_id, text in rows.all():
        found.setdefault(int(user_id), []).append(text)
    return found


async def taken_between(conn: AsyncConnection, first: int, last: int) -> dict[int, frozenset[int]]:
    """Active sign-ups (opportunity ids) of the users with ids in [first, last]."""
    rows = await conn.execute(
        select(signups.c.user_id, signups.c.opportunity_id).where(
            signups.c.status.in_(ACTIVE), _ids_between(signups.c.user_id, first, last)
        )
    )
    found: dict[int, set[int]] = {}
    for user_id, opportunity_id in rows.all():
        found.setdefault(int(user_id), set()).add(int(opportunity_id))
    return {user_id: frozenset(ids) for user_id, ids in found.items()}


async def waiting_for_news(conn: AsyncConnection) -> dict[int, VolunteerProfile]:
    """The profiles of volunteers who asked to be told when a fitting opportunity appears
    (consented, not blocked), by user id."""
    rows = await conn.execute(
        select(volunteer_profiles)
        .join(users, users.c.id == volunteer_profiles.c.user_id)
        .where(
            volunteer_profiles.c.notify_new.is_(True),
            users.c.consent_at.is_not(None),
            users.c.blocked.is_(False),
        )
    )
    return {int(m["user_id"]): _profile(m) for m in rows.mappings()}
