"""The planner's work queue: a tick's pages of users (ranges of ids), claimed by workers.

A tick is written whole (`open_tick`): one row per page of user ids, `first_id`..`last_id`,
with the tick's time (`tick_at`, what planning calls now). A worker takes the next page with
`claim` — one `UPDATE … WHERE id IN (SELECT … LIMIT 1) RETURNING` statement, as the outbox's
sender claims its rows (`dialect.claimed_ids`: one writer at a time on SQLite, `FOR UPDATE
SKIP LOCKED` on PostgreSQL), so no two workers get one page — and marks it done with `done` in
the transaction that writes the page's pushes: a page is planned and written, or neither.

A page whose worker died stays claimed; it is taken again once its claim is older than the
lease, or at once when the supervisor saw its worker die (`release`). Should a page be planned
twice anyway (a lease that ran out on a slow worker), the outbox's unique dedup keys keep the
pushes single.

Times of claims are the wall clock's (`claimed_at`, `created_at`: processes live in real
time); `tick_at` is the planner's clock, which the tests move by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.dialect import claimed_ids
from bot.storage.tables import plan_claims

c = plan_claims.c


@dataclass(frozen=True)
class Claim:
    id: int
    tick_at: datetime
    first_id: int
    last_id: int


def _claimable(t: Any, stale: datetime) -> Any:
    """Not done, and never claimed or claimed before `stale` (its worker is gone)."""
    return and_(t.c.done_at.is_(None), or_(t.c.claimed_at.is_(None), t.c.claimed_at < stale))


def _live(stale: datetime) -> Any:
    """Rows of a tick still under way: not done, claimed (or, never claimed, written) since
    `stale`."""
    return and_(c.done_at.is_(None), func.coalesce(c.claimed_at, c.created_at) >= stale)


async def under_way(conn: AsyncConnection, wall: datetime, lease: timedelta) -> bool:
    """Whether a tick is still being planned (a page not done whose claim, or whose tick, is
    younger than the lease): a new tick waits for it instead of planning the same users."""
    return bool((await conn.execute(select(exists().where(_live(wall - lease))))).scalar())


async def open_tick(
    conn: AsyncConnection,
    tick_at: datetime,
    pages: Sequence[tuple[int, int]],
    wall: datetime,
    lease: timedelta,
) -> int:
    """Write a tick's pages (first, last id each), after forgetting the rows of older ticks
    but those a live worker still holds; returns how many pages were written."""
    await conn.execute(delete(plan_claims).where(~_live(wall - lease)))
    if pages:
        await conn.execute(
            insert(plan_claims),
            [
                {"tick_at": tick_at, "first_id": first, "last_id": last, "created_at": wall}
                for first, last in pages
            ],
        )
    return len(pages)


async def claim(
    conn: AsyncConnection, worker: str, wall: datetime, lease: timedelta
) -> Claim | None:
    """Take the next page (oldest tick, lowest ids first) for `worker`; None: none is left.
    Run it in its own short transaction."""
    stale = wall - lease
    pick = plan_claims.alias("pick")
    picked = select(pick.c.id).where(_claimable(pick, stale)).order_by(pick.c.tick_at, pick.c.id)
    stmt = (
        update(plan_claims)
        .where(claimed_ids(c.id, picked.limit(1), conn), _claimable(plan_claims, stale))
        .values(claimed_by=worker, claimed_at=wall)
        .returning(c.id, c.tick_at, c.first_id, c.last_id)
    )
    row = (await conn.execute(stmt)).first()
    if row is None:
        return None
    return Claim(int(row.id), row.tick_at, int(row.first_id), int(row.last_id))


async def done(conn: AsyncConnection, claim_id: int, worker: str, wall: datetime) -> bool:
    """Mark the page planned, in the transaction that writes its pushes. False when the claim
    is no longer this worker's (its lease ran out and another took the page)."""
    result = await conn.execute(
        update(plan_claims)
        .where(c.id == claim_id, c.claimed_by == worker, c.done_at.is_(None))
        .values(done_at=wall)
    )
    return bool(result.rowcount)


async def release(conn: AsyncConnection, worker: str) -> int:
    """Give back the pages a worker held and did not finish (it died): claimable at once."""
    result = await conn.execute(
        update(plan_claims)
        .where(c.claimed_by == worker, c.done_at.is_(None))
        .values(claimed_by=None, claimed_at=None)
    )
    return int(result.rowcount or 0)


async def pending(conn: AsyncConnection) -> int:
    """Pages not done yet (of any tick)."""
    return int((await conn.execute(select(func.count()).where(c.done_at.is_(None)))).scalar_one())


async def stalled(conn: AsyncConnection, wall: datetime, lease: timedelta) -> bool:
    """Whether pages wait while nobody plans: one not done, written before the lease, and no
    page claimed nor finished within it (the workers are down)."""
    stale = wall - lease
    waiting = exists().where(c.done_at.is_(None), c.created_at < stale)
    working = exists().where(or_(c.claimed_at >= stale, c.done_at >= stale))
    return bool((await conn.execute(select(and_(waiting, ~working)))).scalar())
