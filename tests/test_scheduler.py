"""The ticker: APScheduler calls the tick at start and then every interval; a failing tick
does not stop the next ones."""

from __future__ import annotations

import asyncio

from bot.infra.scheduler import Ticker


async def test_ticks_repeat_and_survive_failures() -> None:
    calls = 0
    third = asyncio.Event()

    async def tick() -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            third.set()
        if calls == 2:
            raise RuntimeError("a bad tick")

    ticker = Ticker(0.05, tick)
    ticker.start()
    try:
        await asyncio.wait_for(third.wait(), timeout=10)
    finally:
        ticker.stop()
    assert calls >= 3
    assert ticker.ticks >= 2  # the failed one is not counted
