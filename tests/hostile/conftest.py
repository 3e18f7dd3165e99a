"""Fixtures of the hostile-input tests: one running bot per test function (admins:
`harness.ADMIN`), watched by the harness. The hypothesis profiles are registered in
`tests/hostile/harness.py` and chosen with HOSTILE_PROFILE (CI: `hostile-ci`)."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator

import pytest

from bot.emulator import Emulator
from bot.infra.clock import ManualClock
from tests.conftest import Launch, fresh_postgres
from tests.hostile.harness import ADMIN, ErrorLog, Harness


@contextlib.asynccontextmanager
async def watched(
    emulator: Emulator, launch: Launch, database_url: str | None = None
) -> AsyncIterator[Harness]:
    """A running bot watched by the harness, on `database_url` if given."""
    errors = ErrorLog()
    root = logging.getLogger()
    async with contextlib.AsyncExitStack() as stack:
        root.addHandler(errors)
        stack.callback(root.removeHandler, errors)
        backend: dict[str, str] = {}
        if database_url is not None:
            backend["database_url"] = database_url
        elif os.environ.get("HOSTILE_BACKEND") == "postgresql":
            backend["database_url"] = await stack.enter_async_context(fresh_postgres())
        running = await launch(
            clock=ManualClock(),  # real time, but a test may move it
            admin_ids=str(ADMIN),
            send_rate=1000,  # no flood limits on the emulator here: pushes go at once
            send_chat_interval=0,
            **backend,
        )
        stack.push_async_callback(running.stop)  # before its database is dropped
        checked = Harness(running.app, emulator, errors)
        checked.install()
        yield checked


@pytest.fixture
async def harness(emulator: Emulator, launch: Launch) -> AsyncIterator[Harness]:
    """HOSTILE_BACKEND=postgresql runs the suite on a fresh PostgreSQL database
    (TEST_POSTGRES_URL) instead of SQLite."""
    async with watched(emulator, launch) as checked:
        yield checked


@pytest.fixture
async def harness_on_each(
    emulator: Emulator, launch: Launch, database_url: str
) -> AsyncIterator[Harness]:
    """The harness on SQLite, and on PostgreSQL where TEST_POSTGRES_URL is set."""
    async with watched(emulator, launch, database_url) as checked:
        yield checked
