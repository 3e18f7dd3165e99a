"""The planner's work queue (bot/storage/plan_claims.py): workers claiming a tick's pages get
disjoint ones, concurrently too; a page is taken again once its claim outlived the lease or its
worker was seen to die; a finished page is never handed out again. SQLite, and PostgreSQL where
TEST_POSTGRES_URL is set."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.infra.db import make_engine, migrate
from bot.storage import plan_claims as repo

TICK = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
WALL = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)
PAGES = [(i * 100 + 1, i * 100 + 100) for i in range(20)]


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    await migrate(engine)
    async with engine.begin() as conn:
        await repo.open_tick(conn, TICK, PAGES, WALL, LEASE)
    try:
        yield engine
    finally:
        await engine.dispose()


async def take(engine: AsyncEngine, worker: str, wall: datetime = WALL) -> repo.Claim | None:
    async with engine.begin() as conn:
        return await repo.claim(conn, worker, wall, LEASE)


async def test_concurrent_workers_get_disjoint_pages_in_order(engine: AsyncEngine) -> None:
    async def worker(name: str) -> list[tuple[int, int]]:
        got = []
        while (c := await take(engine, name)) is not None:
            assert c.tick_at == TICK
            got.append((c.first_id, c.last_id))
            async with engine.begin() as conn:
                assert await repo.done(conn, c.id, name, WALL)
        return got

    results = await asyncio.gather(*(worker(f"w{i}") for i in range(3)))
    every = [page for got in results for page in got]
    assert sorted(every) == PAGES  # each page once, none left out
    for got in results:
        assert got == sorted(got)  # lowest ids first
    async with engine.connect() as conn:
        assert await repo.pending(conn) == 0
        assert not await repo.under_way(conn, WALL, LEASE)


async def test_a_claim_older_than_the_lease_is_taken_again(engine: AsyncEngine) -> None:
    first = await take(engine, "dead")
    assert first is not None
    assert (first.first_id, first.last_id) == PAGES[0]
    second = await take(engine, "alive", WALL + LEASE / 2)
    assert second is not None
    assert second.id != first.id
    again = await take(engine, "alive", WALL + LEASE * 2)
    assert again is not None
    assert again.id == first.id
    async with engine.begin() as conn:
        assert not await repo.done(conn, first.id, "dead", WALL)  # not its page any more
        assert await repo.done(conn, again.id, "alive", WALL + LEASE * 2)


async def test_a_dead_workers_pages_are_released_at_once(engine: AsyncEngine) -> None:
    held = [await take(engine, "dead"), await take(engine, "dead")]
    async with engine.begin() as conn:
        assert await repo.release(conn, "dead") == 2
    again = await take(engine, "next")
    assert again is not None
    first = held[0]
    assert first is not None
    assert again.id == first.id


async def test_a_done_page_is_never_handed_out_and_a_new_tick_waits(engine: AsyncEngine) -> None:
    c = await take(engine, "w")
    assert c is not None
    async with engine.begin() as conn:
        await repo.done(conn, c.id, "w", WALL)
    later = WALL + LEASE * 10
    ids = set()
    while (c2 := await take(engine, "w2", later)) is not None:
        ids.add(c2.id)
        async with engine.begin() as conn:
            await repo.done(conn, c2.id, "w2", later)
    assert c.id not in ids
    assert len(ids) == len(PAGES) - 1
    async with engine.begin() as conn:
        # Under way while pages are young; stalled once nobody took one for a lease.
        await repo.open_tick(conn, TICK + timedelta(minutes=1), PAGES[:2], later, LEASE)
        assert await repo.under_way(conn, later, LEASE)
        assert not await repo.stalled(conn, later, LEASE)
        assert await repo.stalled(conn, later + LEASE * 2, LEASE)
        assert await repo.pending(conn) == 2  # the older tick's rows are gone
