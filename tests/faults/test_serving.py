"""The emulator answers with a 429 storm, 500s, slow responses and dropped connections while a
push backlog goes out and users keep writing: the sender retries within its bounds and loses
nothing, and the users are answered meanwhile — their replies arrive while the backlog is
still being retried."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.delivery import Sender
from bot.emulator import EmulatedUser, Emulator
from bot.storage import outbox as outbox_repo
from bot.storage.outbox import NewPush
from tests.conftest import Launch
from tests.faults.process import seed_users, statuses

BACKLOG = list(range(7_200_001, 7_200_081))  # 80 recipients
TALKERS = list(range(7_300_001, 7_300_007))  # 6 users chatting meanwhile
MAX_ATTEMPTS = 8


async def converse(user: EmulatedUser, pending: asyncio.Event, seen: list[bool]) -> None:
    """/start, a button, /help, a button: each answered; notes whether the backlog was still
    going when the answer came."""
    await user.send("/start")
    greeting = await user.next_message(timeout=30)
    seen.append(pending.is_set())
    await user.press("❓ Помощь", message=greeting, timeout=30)
    await user.wait_edit(greeting, timeout=30)
    seen.append(pending.is_set())
    await user.send("/help")
    helped = await user.next_message(timeout=30)
    assert "Справка" in helped.text
    seen.append(pending.is_set())
    await user.press("« Главное меню", message=helped, timeout=30)
    seen.append(pending.is_set())


async def test_users_are_answered_while_the_backlog_is_retried_through_faults(
    emulator: Emulator, launch: Launch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    running = await launch(
        send_rate=30,
        send_chat_interval=0,
        send_concurrency=4,
        send_max_attempts=MAX_ATTEMPTS,
    )
    app = running.app
    sender = app.sender
    sender.backoff_base = 0.2  # retries after 0.2, 0.4, 0.8 … s instead of 1, 2, 4 …
    now = datetime.now(UTC)
    await seed_users(app.engine, emulator, BACKLOG, now)
    pushes = [
        NewPush(
            uid,
            uid,
            "broadcast",
            f"storm:{uid}",
            {"text": f"Новость для {uid}"},
            now - timedelta(seconds=1),
        )
        for uid in BACKLOG
    ]

    # Telegram under strain: fewer than the sender's 30/s pass, the rest get 429 (retry after
    # 1 s); a run of 500s and 502s, slow answers, and connections dropped unanswered.
    emulator.set_flood_limits(global_rate=12, chat_rate=None, retry_after=1)
    emulator.fail_next(6, "sendMessage", status=500)
    emulator.fail_next(3, "sendMessage", status=502, description="Bad Gateway")
    emulator.delay_next(2.5, 4, "sendMessage")
    emulator.drop_next(4, "sendMessage")

    pending = asyncio.Event()
    pending.set()
    async with app.engine.begin() as conn:
        await outbox_repo.enqueue(conn, pushes, now)
    sender.wake()
    await emulator.wait_for_call("sendMessage", count=20, timeout=30)  # the storm is on

    seen: list[bool] = []
    talkers = [emulator.user(uid, language_code="ru") for uid in TALKERS]
    conversations = asyncio.gather(*(converse(u, pending, seen) for u in talkers))
    backlog_done = asyncio.ensure_future(_all_sent(app.engine, sender, len(BACKLOG)))
    await conversations
    await backlog_done
    pending.clear()

    counts = emulator.delivered_counts()
    assert all(counts.get(uid) == 1 for uid in BACKLOG)  # nothing lost, nothing twice
    assert await statuses(app.engine, "broadcast") == {"sent": len(BACKLOG)}
    assert sender.stats.throttled_429 > 0
    assert sender.stats.retried >= 6
    assert any(seen), "no reply came while the backlog was still going"
    print(
        f"\n{len(BACKLOG)} pushes through {emulator.flood_429_count} 429s, "
        f"{sender.stats.retried} retries; {sum(seen)} of {len(seen)} replies came while "
        "the backlog was still being retried"
    )
    refused = [c for c in emulator.rejections() if c.error_code != 429]
    assert refused == []

    # Aimed at one user while the sender is idle: a reply, an edit and a press's answer, each
    # failing first, each tried again.
    emulator.disable_flood_limits()
    user = talkers[0]
    emulator.fail_next(2, "sendMessage", status=500)
    await user.send("/help")
    helped = await user.next_message(timeout=30)
    assert "Справка" in helped.text
    emulator.drop_next(1, "editMessageText")
    emulator.fail_next(1, "answerCallbackQuery", status=502, description="Bad Gateway")
    await user.press("« Главное меню", message=helped, timeout=30)
    home = await user.wait_edit(helped, timeout=30)
    assert "Главное меню" in home.text
    assert emulator.pending_faults == []
    retried = [r for r in caplog.records if r.getMessage() == "telegram request retried"]
    assert len(retried) >= 4
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def _all_sent(engine: AsyncEngine, sender: Sender, total: int) -> None:
    async with asyncio.timeout(120):
        while True:
            seen = sender.version
            if (await statuses(engine, "broadcast")).get("sent", 0) == total:
                return
            await sender.changed(seen)
