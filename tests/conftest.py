"""Shared fixtures: the Bot API emulator and the real bot, built by the production factory,
long-polling it over HTTP.

`TEST_DATABASE=postgresql` runs every bot the tests start (`launch`, `running_bot`) on a fresh
PostgreSQL database of its own instead of a SQLite file (needs TEST_POSTGRES_URL; without it
those tests are skipped with the reason shown)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import io
import os
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.app import App, create_app
from bot.config import Settings
from bot.emulator import DEFAULT_TOKEN, Emulator
from bot.infra.clock import Clock

# A test that hangs (an await nothing ever answers) fails after HANG_SECONDS with every
# asyncio task's stack on stderr, instead of holding CI until its 90 minutes run out.
HANG_SECONDS = float(os.environ.get("TEST_HANG_SECONDS", "600"))


def task_stacks() -> str:
    """Every asyncio task's stack: what a hung await was waiting for."""
    stacks = io.StringIO()
    for task in asyncio.all_tasks():
        task.print_stack(limit=12, file=stacks)
    return stacks.getvalue()


def _guarded(test: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(test)
    async def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            async with asyncio.timeout(HANG_SECONDS):
                return await test(*args, **kwargs)
        except TimeoutError:
            print(f"{test.__qualname__} hung; the tasks:\n{task_stacks()}", file=sys.stderr)
            raise

    return guarded


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        test = getattr(item, "obj", None)
        if isinstance(item, pytest.Function) and inspect.iscoroutinefunction(test):
            item.obj = _guarded(test)


TOKEN = DEFAULT_TOKEN
# A real bot (one with a token) must name its personal-data operator: `python -m bot` children.
OPERATOR_ENV = {"OPERATOR_NAME": "АНО «Тест»", "OPERATOR_CONTACT": "test@example.org"}


POSTGRES_HINT = "set TEST_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DATABASE_CHOICES = ("sqlite", "postgresql")


def bot_backend() -> str:
    """The backend the bots of the e2e tests run on: TEST_DATABASE, `sqlite` by default."""
    choice = os.environ.get("TEST_DATABASE", "sqlite").strip().lower() or "sqlite"
    if choice not in DATABASE_CHOICES:
        raise pytest.UsageError(f"TEST_DATABASE must be one of {DATABASE_CHOICES}, not {choice!r}")
    return choice


REDIS_HINT = "set TEST_REDIS_URL=redis://127.0.0.1:6379/15"


@contextlib.asynccontextmanager
async def fresh_postgres() -> AsyncIterator[str]:
    """The URL of a fresh PostgreSQL database of the caller's own, dropped afterwards;
    the test is skipped, with the reason shown, where TEST_POSTGRES_URL is not set."""
    base = os.environ.get("TEST_POSTGRES_URL")
    if not base:
        pytest.skip(f"PostgreSQL test skipped: {POSTGRES_HINT}")
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(base)
    name = f"opora_t_{uuid.uuid4().hex[:12]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Tests that take this run on SQLite and on PostgreSQL (where TEST_POSTGRES_URL is set)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'sub' / 'db.sqlite'}"
        return
    async with fresh_postgres() as url:
        yield url


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip(f"Redis test skipped: {REDIS_HINT}")
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    await client.flushdb()
    try:
        yield url
    finally:
        await client.flushdb()
        await client.aclose()


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    emu = Emulator(bot_username="opora_test_bot")
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


@pytest.fixture
async def bot_database_url(tmp_path: Path) -> AsyncIterator[str]:
    """The database of the bot a test starts: a SQLite file in the test's directory, or with
    TEST_DATABASE=postgresql a fresh PostgreSQL database (dropped afterwards)."""
    if bot_backend() == "postgresql":
        async with fresh_postgres() as url:
            yield url
        return
    yield f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"


def make_settings(emulator: Emulator, database_url: str, /, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "database_url": database_url,
        "telegram_api_base": emulator.base_url,
        "polling_timeout": 5,
        "flood_burst": 1000,  # scripted users are faster than people; the flood test lowers it
        "picture_processes": 0,  # threads: no process per test (tests/test_painter.py, and the
        # Russian journey in tests/e2e/test_journey.py, draw in a process)
        **overrides,
    }
    return Settings(_env_file=None, **values)


@dataclass
class RunningBot:
    app: App
    task: asyncio.Task[None]

    async def stop(self) -> None:
        await self.app.stop()
        done, _ = await asyncio.wait({self.task}, timeout=10)
        if not done:  # show what the bot's close waits for, then cancel it
            print(
                f"the bot did not stop within 10 s; the tasks:\n{task_stacks()}", file=sys.stderr
            )
            self.task.cancel()
            await asyncio.wait({self.task})
            raise AssertionError("the bot did not stop within 10 s (its tasks: stderr)")
        self.task.result()


Launch = Callable[..., Awaitable[RunningBot]]


@pytest.fixture
async def launch(emulator: Emulator, bot_database_url: str) -> AsyncIterator[Launch]:
    """Start the bot (again, for restart tests) against the emulator and one database (a SQLite
    file, or PostgreSQL with TEST_DATABASE=postgresql)."""
    running: list[RunningBot] = []

    async def _launch(clock: Clock | None = None, **overrides: Any) -> RunningBot:
        app = create_app(make_settings(emulator, bot_database_url, **overrides), clock=clock)
        task = asyncio.create_task(app.run_polling(handle_signals=False))
        bot = RunningBot(app, task)
        running.append(bot)
        ready = asyncio.ensure_future(app.ready.wait())
        await asyncio.wait({ready, task}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        if task.done():  # start-up failed: show why
            task.result()
        assert ready.done(), "the bot did not start polling within 60 s"
        return bot

    yield _launch
    for bot in running:
        if not bot.task.done():
            await bot.stop()


@pytest.fixture
async def running_bot(launch: Launch) -> RunningBot:
    return await launch()
