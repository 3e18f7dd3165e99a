"""The outbox sender against the Bot API emulator over real HTTP: pacing, flood control,
blocked users, refusals, server errors and a crash in the middle of a broadcast."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiogram import Bot
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.delivery import Sender, TokenBucket
from bot.emulator import Emulator
from bot.infra.clock import Clock, ManualClock, SystemClock
from bot.infra.db import make_engine, migrate
from bot.infra.sqlite import inline_sql
from bot.storage import outbox as repo
from bot.storage import users
from bot.storage.outbox import NewPush
from bot.storage.tables import outbox
from tests.virtual_time import LoopClock, VirtualTimeLoop, run_virtual

LEASE = 60.0


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'delivery.db'}"


@pytest.fixture
async def engine(db: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(db)
    await migrate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def bot(emulator: Emulator) -> AsyncIterator[Bot]:
    bot = emulator.make_bot()
    yield bot
    await bot.session.close()


@pytest.fixture
async def senders() -> AsyncIterator[list[Sender]]:
    """Senders made by a test; whatever still runs at the end is stopped."""
    made: list[Sender] = []
    yield made
    for sender in made:
        if sender.running:
            await sender.stop(timeout=10)


def make_sender(
    made: list[Sender],
    bot: Bot,
    engine: AsyncEngine,
    clock: Clock | None = None,
    **overrides: Any,
) -> Sender:
    options: dict[str, Any] = {
        "rate": 1000.0,
        "chat_interval": 0.0,
        "concurrency": 16,
        "max_attempts": 5,
        "lease": LEASE,
        "poll_interval": 0.05,
        "backoff_base": 0.05,
        **overrides,
    }
    sender = Sender(bot, engine, clock or SystemClock(), **options)
    made.append(sender)
    return sender


async def register(emulator: Emulator, engine: AsyncEngine, ids: Iterable[int]) -> None:
    """The users started the bot (the emulator's chat exists) and have a users row."""
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        for uid in ids:
            await emulator.user(uid).send("/start")
            await users.ensure(conn, uid, now)


def text(body: str) -> dict[str, Any]:
    return {"text": body, "parse_mode": "HTML"}


async def enqueue(engine: AsyncEngine, pushes: list[NewPush]) -> int:
    async with engine.begin() as conn:
        return await repo.enqueue(conn, pushes, datetime.now(UTC))


def pushes_for(
    ids: Iterable[int], tag: str, *, at: datetime | None = None, batch: int | None = None
) -> list[NewPush]:
    when = at or datetime.now(UTC) - timedelta(seconds=1)
    return [
        NewPush(uid, uid, "broadcast", f"{tag}:{uid}", text(f"{tag} для {uid}"), when, batch)
        for uid in ids
    ]


async def counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        return await repo.counts(conn)


async def rows_by_key(engine: AsyncEngine) -> dict[str, repo.OutboxRow]:
    async with engine.connect() as conn:
        ids = (await conn.execute(select(outbox.c.id))).scalars().all()
        found = [await repo.get(conn, row_id) for row_id in ids]
    return {row.dedup_key: row for row in found if row is not None}


async def until(
    sender: Sender, check: Callable[[], Awaitable[bool]], within: float = 20.0
) -> None:
    """Await a condition on the database, re-checked after each of the sender's batches."""
    async with asyncio.timeout(within):
        while True:
            seen = sender.version
            if await check():
                return
            await sender.changed(seen)


def all_done(engine: AsyncEngine, total: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        current = await counts(engine)
        return sum(n for status, n in current.items() if status in repo.FINAL_STATUSES) == total

    return check


def sends(emulator: Emulator) -> list[Any]:
    return [c for c in emulator.calls if c.method in {"sendMessage", "sendPhoto", "sendDocument"}]


# --------------------------------------------------------------------------- pacing


async def test_pacing_within_telegram_limits_meets_no_429(
    emulator: Emulator, bot: Bot, engine: AsyncEngine, senders: list[Sender]
) -> None:
    """Telegram's limits (30/s in all, 1/s to one chat) and the sender at 25/s with one
    message per chat per second: three messages to one chat and sixty to others go without
    a single 429."""
    emulator.set_flood_limits(global_rate=30, chat_rate=1, retry_after=1)
    ids = range(1, 62)
    await register(emulator, engine, ids)
    await enqueue(
        engine,
        [
            *pushes_for([1], "first"),
            *pushes_for([1], "second"),
            *pushes_for([1], "third"),
            *pushes_for(range(2, 62), "news"),
        ],
    )
    sender = make_sender(senders, bot, engine, rate=25.0, chat_interval=1.0, concurrency=8)
    await sender.start()
    await until(sender, all_done(engine, 63))
    await sender.stop()
    assert await counts(engine) == {"sent": 63}
    assert emulator.flood_429_count == 0
    assert emulator.rejections(include_flood=True) == []
    assert emulator.delivered(1) == 3
    assert all(emulator.delivered(uid) == 1 for uid in range(2, 62))
    assert sender.stats.sent == 63
    assert sender.stats.throttled_429 == 0


async def test_a_429_storm_pauses_everything_and_loses_nothing(
    emulator: Emulator, bot: Bot, engine: AsyncEngine, senders: list[Sender]
) -> None:
    """The sender goes faster than the emulator allows: 429s come, each pauses all sending
    for retry_after, and every message still arrives exactly once."""
    emulator.set_flood_limits(global_rate=15, chat_rate=1, retry_after=1)
    ids = list(range(1, 51))
    await register(emulator, engine, ids)
    pushes = pushes_for(ids, "storm") + pushes_for(range(1, 11), "again")
    await enqueue(engine, pushes)
    sender = make_sender(senders, bot, engine, rate=200.0, chat_interval=1.0, concurrency=8)
    await sender.start()
    await until(sender, all_done(engine, len(pushes)))
    await sender.stop()

    assert await counts(engine) == {"sent": 60}
    texts = Counter(
        (c.params["chat_id"], c.params["text"]) for c in emulator.calls_of("sendMessage") if c.ok
    )
    assert len(texts) == 60
    assert set(texts.values()) == {1}  # each message once
    refused = [c for c in emulator.calls_of("sendMessage") if c.error_code == 429]
    assert refused
    assert sender.stats.throttled_429 == len(refused) == emulator.flood_429_count
    # Obeyed: after a 429 only the requests already on their way arrive; nothing new starts
    # until retry_after (1 s) has passed. (A generous margin for requests in flight.)
    starts = sorted(c.time for c in emulator.calls_of("sendMessage"))
    for call in refused:
        quiet = [t for t in starts if call.time + 0.25 < t < call.time + 0.95]
        assert quiet == [], f"requests during the pause after the 429 at {call.time:.3f}"
    assert emulator.rejections() == []  # nothing but flood control refused


# --------------------------------------------------------------------------- refusals


async def test_a_user_who_blocked_the_bot_is_marked_and_skipped(
    emulator: Emulator, bot: Bot, engine: AsyncEngine, senders: list[Sender]
) -> None:
    ids = list(range(1, 21))
    await register(emulator, engine, ids)
    emulator.block(7)
    later = datetime.now(UTC) + timedelta(hours=1)
    await enqueue(
        engine,
        pushes_for(ids, "now") + pushes_for([7], "later", at=later) + pushes_for([3], "later"),
    )
    sender = make_sender(senders, bot, engine)
    await sender.start()
    await until(sender, all_done(engine, 22))  # 20 now, user 3's later, user 7's later
    rows = await rows_by_key(engine)
    assert rows["now:7"].status == "blocked"
    assert "blocked" in (rows["now:7"].error or "")
    assert rows["later:7"].status == "skipped"  # pending when the 403 came
    async with engine.connect() as conn:
        user = await users.get(conn, 7)
    assert user is not None
    assert user.blocked
    # A row enqueued after the block is skipped when due, never sent.
    await enqueue(engine, pushes_for([7, 8], "after"))
    sender.wake()
    await until(sender, all_done(engine, 24))
    await sender.stop()
    rows = await rows_by_key(engine)
    assert rows["after:7"].status == "skipped"
    assert rows["after:8"].status == "sent"
    assert await counts(engine) == {"sent": 21, "blocked": 1, "skipped": 2}
    assert [c.error_code for c in sends(emulator) if c.params["chat_id"] == 7] == [403]
    assert all(
        emulator.delivered(uid) == (0 if uid == 7 else 1) for uid in ids if uid not in {3, 8}
    )
    assert emulator.delivered(3) == emulator.delivered(8) == 2
    assert sender.stats.blocked == 1


async def test_a_message_telegram_refuses_fails_once_and_others_go(
    emulator: Emulator, bot: Bot, engine: AsyncEngine, senders: list[Sender]
) -> None:
    ids = list(range(1, 11))
    await register(emulator, engine, ids)
    broken = NewPush(5, 5, "broadcast", "broken:5", text("<b>не закрыт"), datetime.now(UTC), None)
    garbled = NewPush(  # passes the shape check, but the entity lacks offset and length
        6,
        6,
        "broadcast",
        "garbled:6",
        {"text": "x", "entities": [{"type": "bold"}]},
        broken.not_before,
    )
    others = [i for i in ids if i not in {5, 6}]
    await enqueue(engine, [broken, garbled, *pushes_for(others, "ok")])
    sender = make_sender(senders, bot, engine)
    await sender.start()
    await until(sender, all_done(engine, 10))
    await sender.stop()
    rows = await rows_by_key(engine)
    assert rows["garbled:6"].status == "failed"
    assert rows["garbled:6"].error == "bad payload: ValidationError"
    assert emulator.delivered(6) == 0
    failed = rows["broken:5"]
    assert failed.status == "failed"
    assert failed.error is not None
    assert "can't parse entities" in failed.error
    assert failed.attempts == 1
    assert len([c for c in sends(emulator) if c.params["chat_id"] == 5]) == 1  # not retried
    assert await counts(engine) == {"sent": 8, "failed": 2}
    assert sender.stats.failed == 2


async def test_every_payload_shape_reaches_the_user(
    emulator: Emulator, bot: Bot, engine: AsyncEngine, senders: list[Sender]
) -> None:
    await register(emulator, engine, [1, 2, 3, 4])
    picture = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(picture, "PNG")
    photo = emulator.state.store_file(
        "photo", picture.getvalue(), width=8, height=8, mime_type="image/png"
    )
    document = emulator.state.store_file(
        "document", b"%PDF-1.4", file_name="guide.pdf", mime_type="application/pdf"
    )
    now = datetime.now(UTC)
    payloads: dict[int, dict[str, Any]] = {
        1: {
            "text": "<b>Грант</b> до 15 декабря",
            "parse_mode": "HTML",
            "buttons": [
                [{"text": "Подробнее", "url": "https://example.org/grant"}],
                [{"text": "Следить", "callback_data": "follow:G1"}],
            ],
        },
        2: {"text": "Жирный", "entities": [{"type": "bold", "offset": 0, "length": 6}]},
        3: {"text": "Ваш <i>итог</i>", "parse_mode": "HTML", "photo": photo.file_id},
        4: {
            "text": "Методичка",
            "parse_mode": None,
            "document": document.file_id,
            "filename": "guide.pdf",
        },
    }
    await enqueue(
        engine,
        [NewPush(uid, uid, "digest", f"shape:{uid}", p, now) for uid, p in payloads.items()],
    )
    sender = make_sender(senders, bot, engine)
    await sender.start()
    await until(sender, all_done(engine, 4))
    await sender.stop()
    assert await counts(engine) == {"sent": 4}
    first = emulator.user(1).bot_messages[-1]
    assert first.html == "<b>Грант</b> до 15 декабря"
    assert [[b.text for b in row] for row in first.buttons] == [["Подробнее"], ["Следить"]]
    assert first.buttons[1][0].callback_data == "follow:G1"
    second = emulator.user(2).bot_messages[-1]
    assert second.html == "<b>Жирный</b>"
    third = emulator.user(3).bot_messages[-1]
    assert (third.kind, third.html, third.file_id) == ("photo", "Ваш <i>итог</i>", photo.file_id)
    fourth = emulator.user(4).bot_messages[-1]
    assert (fourth.kind, fourth.text, fourth.file_name) == ("document", "Методичка", "guide.pdf")
    rows = await rows_by_key(engine)
    assert rows["shape:1"].message_id == first.message_id


# --------------------------------------------------------------------------- transient errors


async def test_server_errors_and_dropped_connections_are_retried(
    emulator: Emulator, bot: Bot, engine: AsyncEngine, senders: list[Sender]
) -> None:
    ids = list(range(1, 11))
    await register(emulator, engine, ids)
    emulator.fail_next(2, "sendMessage", status=500)
    emulator.fail_next(1, "sendMessage", status=502, description="Bad Gateway")
    emulator.drop_next(2, "sendMessage")
    await enqueue(engine, pushes_for(ids, "flaky"))
    sender = make_sender(senders, bot, engine, concurrency=4)
    await sender.start()
    await until(sender, all_done(engine, 10))
    await sender.stop()
    assert await counts(engine) == {"sent": 10}
    assert emulator.delivered_counts() == dict.fromkeys(ids, 1)
    rows = await rows_by_key(engine)
    assert sum(row.attempts for row in rows.values()) == 15
    assert sender.stats.retried == 5
    assert emulator.pending_faults == []


async def test_a_row_that_keeps_failing_is_given_up(
    emulator: Emulator, bot: Bot, engine: AsyncEngine, senders: list[Sender]
) -> None:
    await register(emulator, engine, [1, 2])
    emulator.fail_next(3, "sendMessage", status=500)
    await enqueue(engine, pushes_for([1], "doomed"))
    sender = make_sender(senders, bot, engine, max_attempts=3)
    await sender.start()
    await until(sender, all_done(engine, 1))
    await enqueue(engine, pushes_for([2], "fine"))
    sender.wake()
    await until(sender, all_done(engine, 2))
    await sender.stop()
    rows = await rows_by_key(engine)
    assert rows["doomed:1"].status == "failed"
    assert rows["doomed:1"].attempts == 3
    assert "gave up after 3 attempts" in (rows["doomed:1"].error or "")
    assert rows["fine:2"].status == "sent"
    assert emulator.delivered(1) == 0


# --------------------------------------------------------------------------- stop and restart


async def test_graceful_stop_finishes_in_flight_and_returns_the_rest(
    emulator: Emulator, bot: Bot, engine: AsyncEngine, senders: list[Sender]
) -> None:
    ids = list(range(1, 201))
    await register(emulator, engine, ids)
    await enqueue(engine, pushes_for(ids, "slow"))
    sender = make_sender(senders, bot, engine, rate=100.0, concurrency=4)
    await sender.start()
    await emulator.wait_for_call("sendMessage", count=20)
    await sender.stop()
    state = await counts(engine)
    assert set(state) <= {"sent", "pending"}  # nothing left in flight
    assert state["sent"] == len(emulator.calls_of("sendMessage")) == sender.stats.sent
    rows = await rows_by_key(engine)
    assert all(r.attempts == 0 for r in rows.values() if r.status == "pending")
    # A new sender delivers the rest, each message once.
    second = make_sender(senders, bot, engine)
    await second.start()
    await until(second, all_done(engine, 200))
    await second.stop()
    assert emulator.delivered_counts() == dict.fromkeys(ids, 1)


async def test_a_crash_mid_broadcast_resumes_and_doubles_only_rows_in_flight(
    emulator: Emulator, db: str, engine: AsyncEngine, senders: list[Sender]
) -> None:
    ids = list(range(1, 1001))
    await register(emulator, engine, ids)
    assert await enqueue(engine, pushes_for(ids, "digest", batch=1)) == 1000

    crashed_bot = emulator.make_bot()
    crashed_engine = make_engine(db)  # the first process: its own engine and HTTP session
    first = make_sender(senders, crashed_bot, crashed_engine, rate=2000.0, instance="first")
    await first.start()
    await emulator.wait_for_call("sendMessage", count=300, timeout=20)
    # The next sends hang a second at "Telegram": the crash finds rows claimed and unanswered.
    held = emulator.delay_next(1.0, 8, "sendMessage")
    await asyncio.wait_for(held.hit.wait(), 10)  # one of them has reached the emulator
    task = first.task
    assert task is not None
    task.cancel()  # the process dies: no graceful stop, nothing more is written
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await crashed_bot.session.close()
    await crashed_engine.dispose()
    state = await counts(engine)
    in_flight = state.get("sending", 0)
    assert in_flight > 0
    assert state.get("sent", 0) + in_flight + state.get("pending", 0) == 1000

    later = ManualClock(offset=timedelta(seconds=LEASE + 1))  # the lease has run out
    second_bot = emulator.make_bot()
    try:
        second = make_sender(senders, second_bot, engine, later, rate=2000.0, instance="second")
        await second.start()
        await until(second, all_done(engine, 1000), within=30)
        await second.stop()
    finally:
        await second_bot.session.close()

    assert await counts(engine) == {"sent": 1000}
    delivered = emulator.delivered_counts()
    assert all(delivered.get(uid, 0) >= 1 for uid in ids)
    doubles = sum(n - 1 for n in delivered.values())
    print(
        f"\ncrash after {state.get('sent', 0)} recorded sends: {in_flight} rows in flight "
        f"('sending'), {doubles} delivered twice"
    )
    assert doubles <= in_flight
    assert sum(delivered.values()) == 1000 + doubles


# --------------------------------------------------------------------------- a lower limit


def test_under_a_sustained_limit_the_sender_slows_down_and_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telegram lets through 20 messages/s where the sender is set to 60 (a limit lowered for
    the bot, or shared with another sender), for minutes, with 100 ms per request. Resuming at
    the full rate after every pause met a 429 after every pause (hundreds a minute, each in
    flight at once); halving the rate after a 429 and climbing back slowly meets a few. Then
    the limit goes: the sender climbs back to 60/s. On virtual time (tests/virtual_time.py)."""
    configured, limit, latency = 60.0, 20.0, 0.1
    first, second = 1800, 1500

    async def main(loop: VirtualTimeLoop) -> tuple[int, Sender, list[float]]:
        monkeypatch.setattr("bot.delivery.time", SimpleNamespace(monotonic=loop.time))
        emulator = Emulator(clock=loop.time)
        await emulator.start()
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'limit.db'}")
        bot = emulator.make_bot()
        try:
            await migrate(engine)
            clock = LoopClock(loop)

            async def enqueue_now(ids: range, tag: str) -> None:  # due on the loop's clock
                async with engine.begin() as conn:
                    await repo.enqueue(conn, pushes_for(ids, tag, at=clock.now()), clock.now())

            await register(emulator, engine, range(1, first + second + 1))
            emulator.set_flood_limits(global_rate=limit, retry_after=1)
            emulator.delay_next(latency, count=10**6, method="sendMessage")
            with inline_sql():  # SQLite on the loop: no thread's wait to jump over
                sender = Sender(
                    bot, engine, clock, rate=configured, chat_interval=0.0, concurrency=8,
                    max_attempts=5, lease=LEASE, poll_interval=0.05,
                    limiter=TokenBucket(configured, monotonic=loop.time),
                )  # fmt: skip
                await enqueue_now(range(1, first + 1), "slow")
                await sender.start()
                await until(sender, all_done(engine, first), within=3600)
                throttled = emulator.flood_429_count
                span = loop.time()
                emulator.disable_flood_limits()
                await enqueue_now(range(first + 1, first + second + 1), "fast")
                sender.wake()
                await until(sender, all_done(engine, first + second), within=3600)
                await sender.stop()
            assert await counts(engine) == {"sent": first + second}
            fast = sorted(
                c.time for c in emulator.calls_of("sendMessage") if c.ok and c.time > span
            )
            return throttled, sender, fast
        finally:
            await bot.session.close()
            await engine.dispose()
            await emulator.stop()

    throttled, sender, fast = run_virtual(main)
    assert sender.stats.throttled_429 == throttled
    # 1800 messages at the limit take 90 s or more: 319 refusals when the sender came back at
    # the full rate after each pause, 30 with the rate halved and climbing back.
    assert throttled <= first // 40, f"{throttled} refusals for {first} messages"
    # Back at the configured rate: the last ten seconds go at 60/s.
    assert sender.pace.rate == configured
    last = [t for t in fast if t > fast[-1] - 10]
    assert len(last) / 10 >= 0.9 * configured
