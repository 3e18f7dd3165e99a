"""The SQLite driver of bot/sqlite.py: statements of an update run on the event loop, and one
that meets another connection's write lock waits on the database thread instead, so the event
loop goes on; the FSM memo of one update reads a key once and writes every change."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import SystemClock
from bot.db import make_engine, migrate
from bot.sqlite import inline_sql, off_loop
from bot.storage import users as users_repo
from bot.storage.fsm import SqlStorage, remembered
from bot.storage.tables import users

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


@pytest.fixture
async def engine(tmp_path: Path) -> Any:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", busy_timeout=20)
    await migrate(engine)
    yield engine
    await engine.dispose()


def _statements(engine: AsyncEngine) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    return seen


def _on_loop_thread(engine: AsyncEngine) -> list[tuple[str, bool]]:
    """Each statement sqlite3 ran, and whether it ran on the event loop's thread."""
    loop_thread = threading.get_ident()
    where: list[tuple[str, bool]] = []

    def trace(statement: str) -> None:
        if not statement.startswith("PRAGMA"):
            where.append((statement.split()[0], threading.get_ident() == loop_thread))

    @event.listens_for(engine.sync_engine, "connect")
    def _trace(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.driver_connection._conn.set_trace_callback(trace)

    return where


async def test_an_updates_statements_run_on_the_loop_and_others_on_the_thread(
    engine: AsyncEngine,
) -> None:
    await engine.dispose()  # new connections, traced
    where = _on_loop_thread(engine)
    async with engine.begin() as conn:
        await users_repo.ensure(conn, 7, NOW)
    assert where
    assert not any(on for _, on in where)
    where.clear()
    with inline_sql():
        async with engine.begin() as conn:
            await users_repo.set_fields(conn, 7, NOW, locale="en")
            user = await users_repo.get(conn, 7)
        with off_loop():
            async with engine.connect() as conn:
                off = (await conn.execute(select(users.c.locale))).scalar_one()
    assert user is not None
    assert user.locale == "en"
    assert off == "en"
    # the update's BEGIN, UPDATE, SELECT and COMMIT on the loop; the statistics-like read off it
    assert where == [
        ("BEGIN", True),
        ("UPDATE", True),
        ("SELECT", True),
        ("COMMIT", True),
        ("SELECT", False),
    ]


async def test_a_write_meeting_a_lock_waits_off_the_loop_and_lands(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    async with engine.begin() as conn:
        await users_repo.ensure(conn, 7, NOW)
    locked, release, released = threading.Event(), threading.Event(), threading.Event()

    def other_program() -> None:
        conn = sqlite3.connect(tmp_path / "bot.db", isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        locked.set()
        release.wait(30)
        conn.execute("COMMIT")
        conn.close()
        released.set()

    holder = threading.Thread(target=other_program, daemon=True)
    holder.start()
    await asyncio.to_thread(locked.wait, 10)

    async def write() -> None:
        with inline_sql():
            async with engine.begin() as conn:
                await users_repo.set_fields(conn, 7, NOW, locale="en")

    writer = asyncio.create_task(write())
    # The event loop still turns while the write waits: this coroutine runs 50 times, then
    # lets the other program go.
    for _ in range(50):
        await asyncio.sleep(0)
        assert not writer.done()
    release.set()
    await asyncio.wait_for(writer, 20)
    assert released.is_set()
    async with engine.connect() as conn:
        user = await users_repo.get(conn, 7)
    assert user is not None
    assert user.locale == "en"


async def test_the_fsm_memo_reads_a_key_once_and_writes_every_change(
    engine: AsyncEngine,
) -> None:
    storage = SqlStorage(engine, SystemClock())
    key = StorageKey(bot_id=1, chat_id=7, user_id=7)
    seen = _statements(engine)
    with remembered():
        assert await storage.get_state(key) is None
        assert await storage.get_data(key) == {}
        await storage.set_state(key, "ikigai:want")
        await storage.set_data(key, {"n": 1})
        assert await storage.get_state(key) == "ikigai:want"
        assert await storage.get_data(key) == {"n": 1}
    reads = [s for s in seen if s.lstrip().startswith("SELECT")]
    writes = [s for s in seen if s.lstrip().startswith("INSERT")]
    assert len(reads) == 1
    assert len(writes) == 2
    # What a new engine (a restart) reads is what was written.
    fresh = make_engine(str(engine.url))
    try:
        again = SqlStorage(fresh, SystemClock())
        assert await again.get_state(key) == "ikigai:want"
        assert await again.get_data(key) == {"n": 1}
    finally:
        await fresh.dispose()
    # Without the memo (a task of its own), every call reads.
    seen.clear()
    await storage.get_state(key)
    await storage.get_data(key)
    assert len(seen) == 2


async def test_the_fsm_memo_is_the_opening_tasks_only(engine: AsyncEngine) -> None:
    storage = SqlStorage(engine, SystemClock())
    key = StorageKey(bot_id=1, chat_id=8, user_id=8)
    with remembered():
        assert await storage.get_state(key) is None
        # Another task (started from the update) changes the state: the update's own later
        # read still comes from its memo, but the other task read the database itself.
        other = asyncio.create_task(storage.set_state(key, "elsewhere"))
        await other
        seen = _statements(engine)
        assert await asyncio.create_task(storage.get_state(key)) == "elsewhere"
        assert seen  # the other task's read went to the database
