"""Users and their roles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    RowMapping,
    and_,
    bindparam,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.infra.memo import memo
from bot.storage.dialect import upsert
from bot.storage.tables import fsm_states, user_roles, users


@dataclass(frozen=True, slots=True)
class User:
    id: int
    locale: str | None = None
    timezone: str | None = None
    region: str | None = None
    ikigai_done_at: datetime | None = None
    ikigai_focus: str | None = None
    ikigai_message_id: int | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    consent_version: str | None = None
    consent_at: datetime | None = None
    blocked: bool = False
    roles: frozenset[str] = field(default_factory=frozenset)
    created_at: datetime | None = None
    last_seen_at: datetime | None = None

    @property
    def consented(self) -> bool:
        return self.consent_at is not None


# The user with their roles in one statement (a row per role), built once.
_GET = (
    select(users, user_roles.c.role)
    .select_from(users.outerjoin(user_roles, user_roles.c.user_id == users.c.id))
    .where(users.c.id == bindparam("user_id"))
)


# The columns to set come as parameters (built once, whatever they are).
_SET_FIELDS = update(users).where(users.c.id == bindparam("the_user"))
_COLUMNS = frozenset(users.c.keys()) - {"id"}


async def get(conn: AsyncConnection, user_id: int) -> User | None:
    """The user with their roles; within an update, read once (bot/infra/memo.py) until a
    write through this module changes them. What a transaction that has not ended yet wrote
    is not remembered: it may still be rolled back."""
    read, found = known(user_id)
    if read:
        return found
    rows = (await conn.execute(_GET, {"user_id": user_id})).mappings().all()
    found = _user(rows) if rows else None
    _remember(user_id, found)
    return found


def known(user_id: int) -> tuple[bool, User | None]:
    """(True, the user) when this update has read them already (as `get` would serve them,
    without a connection); (False, None) otherwise."""
    held = memo()
    if held is not None and ("user", user_id) in held:
        return True, held["user", user_id]
    return False, None


def _remember(user_id: int, user: User | None) -> None:
    held = memo()
    if held is not None:
        writing = held.get(("writing", user_id))
        if writing is None or not writing.in_transaction():
            held["user", user_id] = user


# An update's first read (bot/storage/fsm.py): its conversation state and its user (with their
# roles, a row per role) in one statement, the state's columns named fsm_*.
_ONE = select(literal(1).label("one")).subquery()
_WITH_STATE = select(
    fsm_states.c.key.label("fsm_key"),
    fsm_states.c.state.label("fsm_state"),
    fsm_states.c.data.label("fsm_data"),
    users,
    user_roles.c.role,
).select_from(
    _ONE.outerjoin(fsm_states, fsm_states.c.key == bindparam("key"))
    .outerjoin(users, users.c.id == bindparam("user_id"))
    .outerjoin(user_roles, user_roles.c.user_id == users.c.id)
)


async def get_with_state(
    conn: AsyncConnection, user_id: int, key: str
) -> tuple[User | None, tuple[str | None, str] | None]:
    """The user (as `get`, remembered the same way) and the (state, data) of the conversation
    state row `key` (None: no row), read together (the update's first read: its user is not
    remembered yet)."""
    rows = (await conn.execute(_WITH_STATE, {"user_id": user_id, "key": key})).mappings().all()
    first = rows[0]
    user = _user(rows) if first["id"] is not None else None
    _remember(user_id, user)
    return user, None if first["fsm_key"] is None else (first["fsm_state"], first["fsm_data"])


def _writes(conn: AsyncConnection, user_id: int) -> None:
    """Before a write of the user's row or roles: the update reads them afresh."""
    held = memo()
    if held is not None:
        held.pop(("user", user_id), None)
        held["writing", user_id] = conn


def _user(rows: Sequence[RowMapping]) -> User:
    row = rows[0]
    return User(
        id=row["id"],
        locale=row["locale"],
        timezone=row["timezone"],
        region=row["region"],
        ikigai_done_at=row["ikigai_done_at"],
        ikigai_focus=row["ikigai_focus"],
        ikigai_message_id=row["ikigai_message_id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        username=row["username"],
        consent_version=row["consent_version"],
        consent_at=row["consent_at"],
        blocked=row["blocked"],
        roles=frozenset(r["role"] for r in rows if r["role"] is not None),
        created_at=row["created_at"],
        last_seen_at=row["last_seen_at"],
    )


async def ensure(conn: AsyncConnection, user_id: int, now: datetime) -> None:
    """Create the row (id only) if it is not there; an existing row is left alone."""
    _writes(conn, user_id)
    await upsert(
        conn,
        users,
        {
            "id": user_id,
            "blocked": False,
            "created_at": now,
            "updated_at": now,
            "last_seen_at": now,
        },
        key=["id"],
        update=(),
    )


async def set_fields(conn: AsyncConnection, user_id: int, now: datetime, **values: object) -> None:
    if not values.keys() <= _COLUMNS:  # as parameters, an unknown name would pass unseen
        raise ValueError(f"no such user fields: {sorted(values.keys() - _COLUMNS)}")
    _writes(conn, user_id)
    await conn.execute(_SET_FIELDS, {**values, "updated_at": now, "the_user": user_id})


async def grant_role(
    conn: AsyncConnection, user_id: int, role: str, now: datetime, by: int | None = None
) -> None:
    _writes(conn, user_id)
    await upsert(
        conn,
        user_roles,
        {"user_id": user_id, "role": role, "granted_by": by, "granted_at": now},
        key=["user_id", "role"],
        update=(),
    )


async def revoke_role(conn: AsyncConnection, user_id: int, role: str) -> None:
    _writes(conn, user_id)
    await conn.execute(
        delete(user_roles).where(user_roles.c.user_id == user_id, user_roles.c.role == role)
    )


async def delete_all(conn: AsyncConnection, user_id: int) -> None:
    """Remove every row about the user (roles cascade with the user row)."""
    _writes(conn, user_id)
    held = memo()
    if held is not None:  # their conversation state, whatever its key
        for key in [k for k in held if k[0] == "fsm"]:
            del held[key]
    await conn.execute(delete(fsm_states).where(fsm_states.c.user_id == user_id))
    await conn.execute(delete(user_roles).where(user_roles.c.user_id == user_id))
    await conn.execute(delete(users).where(users.c.id == user_id))


async def seen(conn: AsyncConnection, user_id: int, now: datetime) -> None:
    """The user acted now: the retention term starts again (`updated_at` is left alone)."""
    _writes(conn, user_id)
    await conn.execute(update(users).where(users.c.id == user_id).values(last_seen_at=now))


async def expired(
    conn: AsyncConnection, inactive_before: datetime, unconsented_before: datetime, limit: int
) -> list[int]:
    """Users whose data the retention term no longer covers: consented ones whose last action
    is older than `inactive_before`, and ids stored at /start without consent whose last
    action is older than `unconsented_before` — except those appointed to a role (a
    coordinator added by id before their first /start). Rows from before `last_seen_at` count
    from their last change."""
    last = func.coalesce(users.c.last_seen_at, users.c.updated_at)
    rows = await conn.execute(
        select(users.c.id)
        .where(
            or_(
                and_(users.c.consent_at.is_not(None), last < inactive_before),
                and_(
                    users.c.consent_at.is_(None),
                    last < unconsented_before,
                    ~exists().where(user_roles.c.user_id == users.c.id),
                ),
            )
        )
        .order_by(users.c.id)
        .limit(limit)
    )
    return [int(r[0]) for r in rows]
