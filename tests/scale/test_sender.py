"""The sender with several instances: only the holder of a claim writes its result, a claim
that aged while waiting for the shared pace goes back unsent, and two instances never write to
one chat within the chat interval (shared through Redis). On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.delivery import Sender
from bot.emulator import Emulator
from bot.infra.clock import ManualClock, SystemClock
from bot.infra.db import make_engine, migrate
from bot.ratelimit import RedisRateLimiter
from bot.storage import outbox as repo
from bot.storage import users
from bot.storage.outbox import NewPush
from bot.storage.tables import outbox
from tests.scale.cluster import wait_until

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    await migrate(engine)
    yield engine
    await engine.dispose()


async def enqueue(engine: AsyncEngine, pairs: list[tuple[int, str]], at: datetime) -> None:
    async with engine.begin() as conn:
        for uid, _ in pairs:
            await users.ensure(conn, uid, at)
        pushes = [
            NewPush(uid, uid, "digest", key, {"text": key, "parse_mode": None}, at)
            for uid, key in pairs
        ]
        await repo.enqueue(conn, pushes, at)


async def all_rows(engine: AsyncEngine) -> list[repo.OutboxRow]:
    async with engine.connect() as conn:
        ids = list((await conn.execute(select(outbox.c.id))).scalars())
        found = [await repo.get(conn, i) for i in ids]
    return [row for row in found if row is not None]


async def test_only_the_holder_of_a_claim_writes_the_result(engine: AsyncEngine) -> None:
    await enqueue(engine, [(1, "a")], NOW)
    lease = timedelta(seconds=60)
    async with engine.begin() as conn:
        [first] = await repo.claim(conn, "A", NOW, 10, lease)
    later = NOW + lease + timedelta(seconds=1)  # A's lease ran out: B takes the row
    async with engine.begin() as conn:
        [second] = await repo.claim(conn, "B", later, 10, lease)
    assert second.id == first.id
    async with engine.begin() as conn:  # A's late results do not touch B's claim
        await repo.mark_sent(conn, first.id, 11, later, claimed_by="A")
        await repo.retry_later(conn, first.id, later, "late", refund=True, claimed_by="A")
        await repo.mark_failed(conn, first.id, "late", later, claimed_by="A")
        await repo.mark_skipped(conn, [first.id], "late", claimed_by="A")
        await repo.mark_blocked_user(conn, 1, later, row_id=first.id, claimed_by="A")
        row = await repo.get(conn, first.id)
    assert row is not None
    assert (row.status, row.claimed_by, row.message_id) == ("sending", "B", None)
    async with engine.begin() as conn:
        await repo.mark_sent(conn, first.id, 22, later, claimed_by="B")
        row = await repo.get(conn, first.id)
    assert row is not None
    assert (row.status, row.message_id) == ("sent", 22)


class _AgingLimiter:
    """A pace so slow that the claim ages past half its lease while the row waits for it
    (the first time only)."""

    def __init__(self, clock: ManualClock, by: timedelta) -> None:
        self.clock, self.by, self.calls = clock, by, 0

    async def acquire(self) -> None:
        self.calls += 1
        if self.calls == 1:
            self.clock.advance(self.by)


async def test_a_claim_that_aged_waiting_for_its_turn_goes_back_unsent(
    engine: AsyncEngine, emulator: Emulator
) -> None:
    emulator.user(501).chat.started = True
    clock = ManualClock(NOW)
    await enqueue(engine, [(501, "aged")], NOW - timedelta(seconds=1))
    bot = emulator.make_bot()
    limiter = _AgingLimiter(clock, timedelta(seconds=31))  # lease 60: past half of it
    sender = Sender(
        bot, engine, clock, rate=100, chat_interval=0, concurrency=4, max_attempts=5,
        lease=60, poll_interval=0.05, limiter=limiter,
    )  # fmt: skip
    await sender.start()
    try:
        await emulator.wait_for_call("sendMessage", timeout=20)  # the second turn sends it
    finally:
        await sender.stop(timeout=10)
        await bot.session.close()
    [row] = await all_rows(engine)
    assert row.status == "sent"
    assert row.attempts == 1  # the aged claim gave its attempt back
    assert sender.stats.given_back == 1
    assert len(emulator.calls_of("sendMessage")) == 1


async def test_two_instances_keep_one_chat_interval_between_them(
    engine: AsyncEngine, emulator: Emulator, redis_url: str
) -> None:
    chats = list(range(700, 720))
    for uid in chats:
        emulator.user(uid).chat.started = True
    # Telegram's one message a second per chat, strictly: a second message within it is a 429.
    emulator.set_flood_limits(None, chat_rate=1.0, chat_burst=1, retry_after=1)
    due = datetime.now(UTC) - timedelta(seconds=1)
    await enqueue(engine, [(uid, f"one:{uid}") for uid in chats], due)
    await enqueue(engine, [(uid, f"two:{uid}") for uid in chats], due)
    clients = [Redis.from_url(redis_url) for _ in range(2)]
    bots = [emulator.make_bot() for _ in range(2)]
    senders: list[Sender] = []
    for n, (client, bot) in enumerate(zip(clients, bots, strict=True)):
        limiter = RedisRateLimiter(client, 1000.0, key="t:chats")
        options: dict[str, Any] = {
            # Two requests in flight: each claims a few rows at a time, so both get some.
            "rate": 1000.0, "chat_interval": 1.0, "concurrency": 2, "max_attempts": 5,
            "lease": 60, "poll_interval": 0.05, "limiter": limiter, "chat_pacer": limiter,
            "instance": f"instance-{n}",
        }  # fmt: skip
        senders.append(Sender(bot, engine, SystemClock(), **options))
    try:
        await asyncio.gather(*(s.start() for s in senders))
        await wait_until(
            lambda: len([c for c in emulator.calls_of("sendMessage") if c.ok]) == 2 * len(chats),
            60,
            "both messages to every chat",
            0.1,
        )
    finally:
        for sender in senders:
            await sender.stop(timeout=10)
        for bot in bots:
            await bot.session.close()
        for client in clients:
            await client.aclose()
    assert emulator.flood_429_count == 0
    assert all(s.stats.sent > 0 for s in senders)  # both instances sent
    by_chat: dict[int, list[float]] = {}
    for call in emulator.calls_of("sendMessage"):
        by_chat.setdefault(call.params["chat_id"], []).append(call.time)
    assert all(len(times) == 2 for times in by_chat.values())
    assert min(b - a for a, b in (sorted(t) for t in by_chat.values())) >= 0.9
