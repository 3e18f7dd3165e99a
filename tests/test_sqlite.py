"""The SQLite driver of bot/infra/sqlite.py: statements of an update run on the event loop, and one
that meets another connection's write lock is undone and tried again after pauses in which the
event loop goes on; the memo of one update (bot/infra/memo.py) reads its conversation state
and its user once, and stores the state it changed once, as the update ends."""

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
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.infra import sqlite as sqlite_infra
from bot.infra.clock import SystemClock
from bot.infra.db import make_engine, migrate
from bot.infra.memo import remembered
from bot.infra.sqlite import inline_sql, off_loop
from bot.services.users import UserService
from bot.storage import users as users_repo
from bot.storage.fsm import SqlStorage
from bot.storage.tables import fsm_states, users

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


def _checkouts(engine: AsyncEngine) -> list[int]:
    """One item per connection taken from the engine's pool."""
    taken: list[int] = []

    @event.listens_for(engine.sync_engine.pool, "checkout")
    def _count(*_args: Any) -> None:
        taken.append(1)

    return taken


def _on_loop_thread(
    engine: AsyncEngine, rolled_back: asyncio.Event | None = None
) -> list[tuple[str, bool]]:
    """Each statement sqlite3 ran, and whether it ran on the event loop's thread; a ROLLBACK
    on the loop sets `rolled_back`."""
    loop_thread = threading.get_ident()
    where: list[tuple[str, bool]] = []

    def trace(statement: str) -> None:
        if not statement.startswith("PRAGMA"):
            on_loop = threading.get_ident() == loop_thread
            where.append((statement.split()[0], on_loop))
            if on_loop and rolled_back is not None and statement.startswith("ROLLBACK"):
                rolled_back.set()

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


class OtherProgram(threading.Thread):
    """Another program holding the write lock (BEGIN IMMEDIATE) until `release` is set."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.locked, self.release, self.released = (threading.Event() for _ in range(3))

    def run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        self.locked.set()
        self.release.wait(30)
        conn.execute("COMMIT")
        conn.close()
        self.released.set()

    async def hold(self) -> None:
        self.start()
        await asyncio.to_thread(self.locked.wait, 10)


async def test_a_write_meeting_a_lock_waits_on_the_loop_without_it_and_lands(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    async with engine.begin() as conn:
        await users_repo.ensure(conn, 7, NOW)
    await engine.dispose()  # new connections, traced
    undone = asyncio.Event()
    where = _on_loop_thread(engine, undone)
    other = OtherProgram(tmp_path / "bot.db")
    await other.hold()

    async def write() -> None:
        with inline_sql():
            async with engine.begin() as conn:
                await users_repo.set_fields(conn, 7, NOW, locale="en")

    writer = asyncio.create_task(write())
    await asyncio.wait_for(undone.wait(), 10)  # its first try met the lock, and was undone
    # The event loop still turns while the write waits: this coroutine runs 50 times, then
    # lets the other program go.
    for _ in range(50):
        await asyncio.sleep(0)
        assert not writer.done()
    other.release.set()
    await asyncio.wait_for(writer, 20)
    assert other.released.is_set()
    async with engine.connect() as conn:
        user = await users_repo.get(conn, 7)
    assert user is not None
    assert user.locale == "en"
    # Every try ran on the loop, the one that landed too: its transaction held the lock only
    # while it ran, never across a trip to a thread.
    writes = [(name, on_loop) for name, on_loop in where if name != "SELECT"]
    assert writes[-3:] == [("BEGIN", True), ("UPDATE", True), ("COMMIT", True)]
    assert all(on_loop for _, on_loop in writes)


async def test_a_write_meeting_a_lock_longer_than_the_busy_timeout_fails_and_changes_nothing(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    async with engine.begin() as conn:
        await users_repo.ensure(conn, 7, NOW)
    impatient = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", busy_timeout=0.2)
    other = OtherProgram(tmp_path / "bot.db")
    await other.hold()
    try:
        with pytest.raises(OperationalError, match="database is locked"), inline_sql():
            async with impatient.begin() as conn:
                await users_repo.set_fields(conn, 7, NOW, locale="en")
    finally:
        other.release.set()
        await impatient.dispose()
    await asyncio.to_thread(other.released.wait, 10)
    async with engine.connect() as conn:
        user = await users_repo.get(conn, 7)
    assert user is not None
    assert user.locale is None


async def test_writers_off_the_loop_hold_back_while_an_update_waits_for_the_lock(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Updates first: a write transaction off the loop (the planner workers', the sender's)
    does not open while an update of any process on the file waits for the lock, and opens
    once it got through."""
    monkeypatch.setattr(sqlite_infra, "YIELD_AT_MOST", 30.0)  # the test says when it ends
    async with engine.begin() as conn:
        await users_repo.ensure(conn, 7, NOW)
    # Another process on the same file: its own engine, and its own map of the turn file.
    worker = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", busy_timeout=20)
    other = OtherProgram(tmp_path / "bot.db")
    await other.hold()

    async def update() -> None:
        with inline_sql():
            async with engine.begin() as conn:
                await users_repo.set_fields(conn, 7, NOW, locale="en")

    async def planner() -> None:
        async with worker.begin() as conn:
            await users_repo.set_fields(conn, 7, NOW, locale="ru")

    try:
        waiting = asyncio.create_task(update())
        turn = sqlite_infra.Turn(str(tmp_path / "bot.db"))  # the file, as another process maps it
        async with asyncio.timeout(20):
            while turn.waited_for() is None:  # noqa: ASYNC110 - the update met the lock
                await asyncio.sleep(0)
        counted = sqlite_infra._turns[str(tmp_path / "bot.db")]
        assert counted is not None
        writing = asyncio.create_task(planner())
        async with asyncio.timeout(20):  # the planner's write meets the stamp, on its thread
            while not counted.held_back:  # noqa: ASYNC110 - counted on the database thread
                await asyncio.sleep(0.001)
        other.release.set()  # the lock is free: the update takes it first
        await asyncio.wait_for(waiting, 20)
        assert turn.waited_for() is None  # the update got through and said so
        await asyncio.wait_for(writing, 20)
    finally:
        other.release.set()
        await worker.dispose()
    async with engine.connect() as conn:
        user = await users_repo.get(conn, 7)
    assert user is not None
    assert user.locale == "ru"  # the planner's write came second


async def test_the_fsm_memo_reads_a_key_once_and_stores_the_update_s_changes_once(
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
        assert [s for s in seen if not s.lstrip().startswith("SELECT")] == []  # not yet
        await storage.flush()
        await storage.flush()  # nothing left to store
    reads = [s for s in seen if s.lstrip().startswith("SELECT")]
    writes = [s for s in seen if s.lstrip().startswith("INSERT")]
    assert len(reads) == 1
    assert len(writes) == 1  # the state and the data together
    # What a new engine (a restart) reads is what was written.
    fresh = make_engine(str(engine.url))
    try:
        again = SqlStorage(fresh, SystemClock())
        assert await again.get_state(key) == "ikigai:want"
        assert await again.get_data(key) == {"n": 1}
    finally:
        await fresh.dispose()
    # Without the memo (a task of its own), every call reads, and a write is stored at once.
    seen.clear()
    await storage.get_state(key)
    await storage.get_data(key)
    assert len(seen) == 2
    await storage.set_data(key, {"n": 2})
    assert await again_reads(engine, key) == ("ikigai:want", {"n": 2})


async def again_reads(engine: AsyncEngine, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
    """The state and data as a fresh engine (another process) sees them."""
    fresh = make_engine(str(engine.url))
    try:
        other = SqlStorage(fresh, SystemClock())
        return await other.get_state(key), await other.get_data(key)
    finally:
        await fresh.dispose()


async def test_an_update_that_changes_its_state_back_stores_nothing_and_a_cleared_one_no_row(
    engine: AsyncEngine,
) -> None:
    storage = SqlStorage(engine, SystemClock())
    key = StorageKey(bot_id=1, chat_id=9, user_id=9)
    await storage.set_state(key, "quiz:q1")  # stored at once: no update around it
    seen = _statements(engine)
    with remembered():
        await storage.set_state(key, "quiz:q2")
        await storage.set_state(key, "quiz:q1")
        await storage.set_data(key, {})  # as it was
        taken = _checkouts(engine)
        await storage.flush()
    assert [s for s in seen if not s.lstrip().startswith("SELECT")] == []
    assert taken == []  # nothing to store: not even a connection taken from the pool
    with remembered():
        await storage.set_state(key, None)
        await storage.set_data(key, {})
        await storage.flush()
    assert await again_reads(engine, key) == (None, {})
    async with engine.connect() as conn:
        assert (await conn.execute(select(fsm_states))).all() == []


async def test_the_user_is_read_once_per_update_and_afresh_after_a_write(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await users_repo.ensure(conn, 5, NOW)
    seen = _statements(engine)
    with remembered():
        async with engine.connect() as conn:
            first = await users_repo.get(conn, 5)
            assert await users_repo.get(conn, 5) is first
        assert len(seen) == 1
        # The service serves the update's read without taking a connection from the pool.
        taken = _checkouts(engine)
        assert await UserService(engine, SystemClock(), frozenset()).get(5) is first
        assert taken == []
        async with engine.begin() as conn:
            await users_repo.set_fields(conn, 5, NOW, locale="en")
            mid = await users_repo.get(conn, 5)
        assert mid is not None
        assert mid.locale == "en"
        async with engine.connect() as conn:
            after = await users_repo.get(conn, 5)
            assert after is not None
            assert after.locale == "en"
            assert await users_repo.get(conn, 5) is after
        # A write that is rolled back: what its transaction read is not remembered.
        with pytest.raises(RuntimeError, match="handler failed"):
            await _grant_and_fail(engine, 5)
        async with engine.connect() as conn:
            last = await users_repo.get(conn, 5)
        assert last is not None
        assert last.roles == frozenset()
        assert last.locale == "en"


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


async def _grant_and_fail(engine: AsyncEngine, user_id: int) -> None:
    async with engine.begin() as conn:
        await users_repo.grant_role(conn, user_id, "activist", NOW)
        inside = await users_repo.get(conn, user_id)
        assert inside is not None
        assert inside.roles == {"activist"}
        raise RuntimeError("handler failed")


async def test_an_update_s_first_state_read_brings_its_user_in_the_same_statement(
    engine: AsyncEngine,
) -> None:
    storage = SqlStorage(engine, SystemClock())
    async with engine.begin() as conn:
        await users_repo.ensure(conn, 11, NOW)
        await users_repo.set_fields(conn, 11, NOW, locale="en")
        await users_repo.grant_role(conn, 11, "activist", NOW)
        await users_repo.grant_role(conn, 11, "volunteer", NOW)
    await storage.set_state(StorageKey(bot_id=1, chat_id=11, user_id=11), "quiz:q3")
    seen = _statements(engine)
    for user_id, state, roles in ((11, "quiz:q3", {"activist", "volunteer"}), (12, None, None)):
        seen.clear()
        with remembered():
            key = StorageKey(bot_id=1, chat_id=user_id, user_id=user_id)
            assert await storage.get_state(key) == state
            assert await storage.get_data(key) == {}
            async with engine.connect() as conn:
                user = await users_repo.get(conn, user_id)
        assert len(seen) == 1, seen
        if roles is None:
            assert user is None  # never seen: no row, no state
        else:
            assert user is not None
            assert user.roles == roles
            assert user.locale == "en"


async def test_an_inline_connection_closes_without_a_task_of_its_own(engine: AsyncEngine) -> None:
    """SQLAlchemy closes a connection in a shielded task; inline, the close cannot pause, so
    the bot's engine closes it in place. Off the loop the shield stays."""
    loop = asyncio.get_running_loop()
    made: list[str] = []
    previous = loop.get_task_factory()

    def counting(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        made.append(getattr(coro, "__qualname__", "?"))
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(counting)
    try:
        with inline_sql():
            async with engine.begin() as conn:
                await users_repo.ensure(conn, 11, NOW)
            async with engine.connect() as conn:
                assert await users_repo.get(conn, 11) is not None
        assert made == []
        with off_loop():
            async with engine.connect() as conn:
                assert await users_repo.get(conn, 11) is not None
        assert made  # SQLAlchemy's own close, in a task
    finally:
        loop.set_task_factory(previous)
    async with engine.connect() as conn:  # what the inline transaction wrote was committed
        user = await users_repo.get(conn, 11)
    assert user is not None
    assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
