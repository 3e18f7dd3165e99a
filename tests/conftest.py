"""Shared fixtures: the Bot API emulator and the real bot, built by the production factory,
long-polling it over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.app import App, create_app
from bot.clock import Clock
from bot.config import Settings
from bot.emulator import DEFAULT_TOKEN, Emulator

TOKEN = DEFAULT_TOKEN


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    emu = Emulator(bot_username="opora_test_bot")
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


def make_settings(emulator: Emulator, db: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "telegram_api_base": emulator.base_url,
        "database_url": f"sqlite+aiosqlite:///{db}",
        "polling_timeout": 5,
        "flood_burst": 1000,  # scripted users are faster than people; the flood test lowers it
        **overrides,
    }
    return Settings(_env_file=None, **values)


@dataclass
class RunningBot:
    app: App
    task: asyncio.Task[None]

    async def stop(self) -> None:
        await self.app.stop()
        await asyncio.wait_for(self.task, timeout=10)


Launch = Callable[..., Awaitable[RunningBot]]


@pytest.fixture
async def launch(emulator: Emulator, tmp_path: Path) -> AsyncIterator[Launch]:
    """Start the bot (again, for restart tests) against the emulator and one database file."""
    running: list[RunningBot] = []

    async def _launch(clock: Clock | None = None, **overrides: Any) -> RunningBot:
        app = create_app(make_settings(emulator, tmp_path / "bot.db", **overrides), clock=clock)
        task = asyncio.create_task(app.run_polling(handle_signals=False))
        bot = RunningBot(app, task)
        running.append(bot)
        return bot

    yield _launch
    for bot in running:
        if not bot.task.done():
            await bot.stop()


@pytest.fixture
async def running_bot(launch: Launch) -> RunningBot:
    return await launch()
