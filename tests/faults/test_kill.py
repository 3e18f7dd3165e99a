"""kill -9 of the bot process in the middle of a broadcast and of a digest run, then a restart:
every recipient is served, and twice only where the message had reached Telegram but the
process died before writing it down (a row "sending" at the kill whose chat already got it —
the in-flight window). The long version is `bench/faults.py`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.emulator import Emulator
from bot.infra.db import make_engine, migrate
from bot.storage import users as users_repo
from bot.storage.tables import outbox
from tests.e2e.test_broadcast import until
from tests.e2e.test_journey import say, tap
from tests.faults.process import (
    BotProcess,
    delivered,
    in_flight,
    seed_users,
    settings_for,
    statuses,
    summary,
)

COORDINATOR = 7_000_001
RECIPIENTS = list(range(7_100_001, 7_100_241))  # 240
CONCURRENCY = 8
# Paced so the kill lands mid-run; a short lease so the restart takes the dead one's rows soon.
SENDER = settings_for(
    send_rate=60,
    send_chat_interval=0,
    send_concurrency=CONCURRENCY,
    outbox_lease=3,
    tick_seconds=1,
    admin_ids=COORDINATOR,
)


@pytest.fixture
async def bot_process(emulator: Emulator, tmp_path: Path) -> AsyncIterator[BotProcess]:
    process = BotProcess(emulator, tmp_path / "data" / "bot.db", tmp_path, dict(SENDER))
    try:
        yield process
    finally:
        await process.stop()


@pytest.fixture
async def engine(bot_process: BotProcess) -> AsyncIterator[AsyncEngine]:
    """The test's own connection to the bot's database (migrated before the first start)."""
    engine = make_engine(bot_process.url)
    await migrate(engine)
    yield engine
    await engine.dispose()


async def kill_after(bot_process: BotProcess, emulator: Emulator, sent: int) -> None:
    """SIGKILL once `sent` recipients got their message."""
    recipients = set(RECIPIENTS)
    await emulator.wait_for_call(
        "sendMessage",
        count=sent,
        timeout=60,
        predicate=lambda c: c.ok and c.params.get("chat_id") in recipients,
    )
    await bot_process.kill()


async def test_kill_9_mid_broadcast_then_restart(
    emulator: Emulator, bot_process: BotProcess, engine: AsyncEngine
) -> None:
    now = datetime.now(UTC)
    await seed_users(engine, emulator, RECIPIENTS, now)
    async with engine.begin() as conn:  # an admin by ADMIN_IDS, no stored language: the
        await users_repo.ensure(conn, COORDINATOR, now)  # broadcast keeps the one composed in
    await bot_process.start()
    coordinator = emulator.user(COORDINATOR, language_code="en")
    coordinator.chat.started = True
    coordinator.skip_pending()
    await coordinator.send("/broadcast")
    composing = await coordinator.next_message(timeout=90)  # the interpreter's start-up too
    assert "New broadcast" in composing.text, bot_process.logs()
    segment = await say(coordinator, "Субботник в субботу в 10:00 — ждём всех!")
    total = len(RECIPIENTS)
    assert f"👥 {total} recipients now" in segment.text
    await coordinator.press("👁 Preview", message=segment)
    await coordinator.next_message()
    control = await coordinator.next_message()
    go = next(b for b in control.button_texts() if b.startswith("🚀 Send now"))
    await tap(coordinator, go, control)

    await kill_after(bot_process, emulator, len(RECIPIENTS) // 3)
    at_kill = await statuses(engine, "broadcast")
    flying = await in_flight(engine, "broadcast")
    before = delivered(emulator, RECIPIENTS)

    await bot_process.start()  # the new process resumes the outbox and the progress message
    report = await until(coordinator, control, lambda t: "has gone out" in t, timeout=90)
    after = delivered(emulator, RECIPIENTS)
    served = summary(before, after, flying, at_kill.get("sent", 0), CONCURRENCY)
    print("\n" + served.line("kill -9 mid-broadcast"))

    assert 0 < at_kill.get("sent", 0) < len(RECIPIENTS), at_kill
    assert served.missing == 0
    assert served.doubles == served.expected_doubles  # exactly the in-flight ones delivered
    assert served.doubles <= served.in_flight
    assert f"Delivered: {total} of {total} messages" in report.text
    assert await statuses(engine, "broadcast") == {"sent": total}
    assert not bot_process.errors(), bot_process.logs()


async def test_kill_9_mid_digest_run_then_restart(
    emulator: Emulator, bot_process: BotProcess, engine: AsyncEngine
) -> None:
    """Digests due now for everyone: the first tick plans them, the kill comes mid-way, the
    restarted process plans nothing twice (dedup keys) and sends the rest."""
    await seed_users(engine, emulator, RECIPIENTS, datetime.now(UTC), digest_due=True)
    await bot_process.start()
    await kill_after(bot_process, emulator, len(RECIPIENTS) // 3)
    at_kill = await statuses(engine, "digest")
    flying = await in_flight(engine, "digest")
    before = delivered(emulator, RECIPIENTS)

    await bot_process.start()
    recipients = set(RECIPIENTS)
    await emulator.wait_for_call(
        "sendMessage",
        count=len(RECIPIENTS) + sum(1 for uid in flying if before[uid]),
        timeout=90,
        predicate=lambda c: c.ok and c.params.get("chat_id") in recipients,
    )
    after = delivered(emulator, RECIPIENTS)
    served = summary(before, after, flying, at_kill.get("sent", 0), CONCURRENCY)
    print("\n" + served.line("kill -9 mid-digest"))

    assert sum(at_kill.values()) == len(RECIPIENTS)  # all planned in one go before the kill
    assert 0 < at_kill.get("sent", 0) < len(RECIPIENTS), at_kill
    assert served.missing == 0
    assert served.doubles == served.expected_doubles
    assert served.doubles <= served.in_flight
    async with engine.connect() as conn:
        keys = (await conn.execute(select(func.count(outbox.c.dedup_key.distinct())))).scalar()
    assert keys == len(RECIPIENTS)  # one digest each: the restart planned nothing again
    assert not bot_process.errors(), bot_process.logs()
