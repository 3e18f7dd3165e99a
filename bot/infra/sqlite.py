"""SQLAlchemy's aiosqlite adapter, made cheap for the short statements of an update.

aiosqlite runs every sqlite3 call on a thread of its own, and SQLAlchemy's adapter makes four
such calls for each statement (open a cursor, execute, fetch the rows, close it) plus a
ROLLBACK whenever a connection goes back to the pool, a plain read included. Each trip is two
thread switches and a wake-up of the event loop, which for the point reads and small writes of
an update cost far more than SQLite's own work (the figures: bench/README.md).

Here:
* while an update is handled (`inline_sql()`, set by the dispatcher), a statement runs right on
  the event loop: these are point reads and small writes of one user, microseconds in SQLite.
  It never waits for a lock inside SQLite: if another connection holds the write lock
  (SQLITE_BUSY), the statement is undone, and tried again on the loop after a pause that
  lets other updates run, up to the engine's busy timeout (`_inline`) — the event loop is
  never held by a lock, and a transaction of an update holds one only while it runs;
* everything else (the scheduler's planning, the outbox sender, statistics over every user —
  `off_loop()`) makes one trip to the thread per statement: execute, fetch, close together;
* updates first: a statement of an update that meets the lock stamps the database's turn
  file (`Turn`, `<database>-updates`, shared by every process on the file); a statement off
  the loop that would open a write transaction — the planner workers' pages, the outbox
  sender's claims and results, statistics — waits while an update has met the lock in the
  last moments, so the update takes the lock as soon as its holder commits instead of
  queueing behind every other writer;
* COMMIT and ROLLBACK are skipped when sqlite3 has no transaction open;
* leaving `async with engine.connect()` (or `begin()`) inline closes the connection right
  there (`InlineClosing`): SQLAlchemy closes it in a task of its own, shielded from
  cancellation, a task and two more turns of the loop per connection; inline, the close
  (a ROLLBACK if anything is open, and the pool's check-in) never pauses, so nothing can
  cancel it halfway.

Same driver, same URL (`sqlite+aiosqlite://…`): `bot.infra.db.make_engine` passes `DBAPI` as the
engine's `module`.
"""

from __future__ import annotations

import asyncio
import collections
import mmap
import os
import sqlite3
import struct
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.util import EMPTY_DICT

__all__ = ["DBAPI", "InlineClosing", "SqliteEngine", "Turn", "inline_sql", "off_loop"]

_INLINE: ContextVar[bool] = ContextVar("opora_sqlite_inline", default=False)
_BUSY = sqlite3.SQLITE_BUSY
_Outcome = tuple[Any, int, int | None, list[Any] | None]
# Pauses (s) of a statement of an update waiting for another connection's write lock: first
# only a turn of the loop (the holder is most often an update's task that is ready to run).
# Short after that: writers off the loop hold back while an update waits (`Turn`), so the
# lock is free for it as soon as its holder commits.
_PAUSES = (0.0, 0.0, 0.001, 0.002, 0.005)
# A writer off the loop holds back while an update met the lock less than FRESH seconds ago
# (longer than an update's longest pause), and at most YIELD_AT_MOST seconds per statement: a
# steady stream of updates slows the planner and the sender, never stops them.
FRESH = 0.03
YIELD_AT_MOST = 0.25
_STAMP = struct.Struct("<q")
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")  # what makes sqlite3 open a transaction


class Turn:
    """Updates first on one database file, across processes: an 8-byte file beside it
    (`<database>-updates`, mapped in memory) holds the monotonic time an update last met the
    write lock, 0 once it got through. Writers off the loop read it before they open a write
    transaction (`hold_back`). CLOCK_MONOTONIC is one clock for every process of the machine,
    and the processes of one SQLite file share a machine."""

    def __init__(self, path: str) -> None:
        fd = os.open(f"{path}-updates", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < _STAMP.size:
                os.ftruncate(fd, _STAMP.size)
            self._map = mmap.mmap(fd, _STAMP.size)
        finally:
            os.close(fd)
        self.held_back = 0  # statements that waited for an update (the tests read it)

    @classmethod
    def beside(cls, database: str) -> Turn | None:
        """The turn of a database file; None for a memory database or one given as a URI, or
        where the file cannot be made (a read-only directory: no turn, no harm)."""
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        try:
            return cls(database)
        except OSError:
            return None

    def waiting(self) -> None:
        _STAMP.pack_into(self._map, 0, time.monotonic_ns())

    def through(self) -> None:
        _STAMP.pack_into(self._map, 0, 0)

    def waited_for(self) -> float | None:
        """Seconds since an update met the lock, None when none waits."""
        (stamp,) = _STAMP.unpack_from(self._map, 0)
        return (time.monotonic_ns() - stamp) / 1e9 if stamp else None

    def hold_back(self, sleep: Any = time.sleep) -> None:
        """On the database thread, before a write transaction opens: wait while an update
        waits for the lock (at most YIELD_AT_MOST)."""
        until = time.monotonic() + YIELD_AT_MOST
        counted = False
        while (since := self.waited_for()) is not None and since < FRESH:
            if time.monotonic() >= until:
                return
            if not counted:
                self.held_back += 1
                counted = True
            sleep(0.001)


@contextmanager
def inline_sql(on: bool = True) -> Iterator[None]:
    """Statements in this context (and tasks started from it) run on the event loop."""
    token = _INLINE.set(on)
    try:
        yield
    finally:
        _INLINE.reset(token)


def off_loop() -> AbstractContextManager[None]:
    """For work over many rows inside an update (statistics, a broadcast's audience): its
    statements go to the database thread, so other users' updates go on meanwhile."""
    return inline_sql(False)


def _run(conn: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """The whole statement, rows included."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


def _run_waiting(
    conn: sqlite3.Connection,
    busy_ms: int,
    turn: Turn | None,
    operation: str,
    parameters: Any,
    many: bool,
) -> _Outcome:
    """On the database thread: the statement, waiting up to `busy_ms` for a lock — and, when
    it opens a write transaction, first for the updates that wait for one (`Turn`)."""
    if turn is not None and not conn.in_transaction and operation.lstrip()[:6].upper() in _WRITES:
        turn.hold_back()
    conn.execute(f"PRAGMA busy_timeout={busy_ms}")
    try:
        return _run(conn, operation, parameters, many)
    finally:
        conn.execute("PRAGMA busy_timeout=0")


def _busy(exc: sqlite3.OperationalError) -> bool:
    return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) == _BUSY


async def _inline(
    conn: sqlite3.Connection,
    busy_ms: int,
    turn: Turn | None,
    operation: str,
    parameters: Any,
    many: bool,
) -> _Outcome | None:
    """The statement on the event loop. One that opens a transaction and finds another
    connection holding the write lock is undone and tried again after a pause on the loop,
    until `busy_ms` has passed (then the busy error is raised, as SQLite's own wait ends).
    None: it met the lock inside a transaction already open — the thread path waits then.

    Why not wait on the thread: a statement that got the lock there keeps it until its task
    runs again on the loop, after whatever else is ready, and every write that comes before
    meets the lock and goes to a thread too. Under load one such wait bred hundreds.
    Here a transaction takes the lock only on the loop and keeps it without a pause. While
    it waits, the database's `turn` says so: writers off the loop hold back."""
    deadline: float | None = None
    pauses = iter(_PAUSES)
    while True:
        began = conn.in_transaction
        try:
            outcome = _run(conn, operation, parameters, many)
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                raise
            if began:  # the thread path waits; others hold back meanwhile
                if turn is not None:
                    turn.waiting()
                return None
            if conn.in_transaction:
                conn.rollback()  # the BEGIN made for this statement: again from scratch
            if turn is not None:
                turn.waiting()
            now = time.monotonic()
            if deadline is None:
                deadline = now + busy_ms / 1000
            elif now >= deadline:
                raise
        else:
            if deadline is not None and turn is not None:
                turn.through()
            return outcome
        await asyncio.sleep(min(next(pauses, _PAUSES[-1]), max(0.0, deadline - now)))


class _Cursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor that holds its results in memory and no sqlite3 cursor between calls."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:  # no trip to open a cursor
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        await self._statement(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        await self._statement(operation, seq_of_parameters, many=True)

    async def _statement(self, operation: str, parameters: Any, *, many: bool) -> None:
        adapted: _Connection = self._adapt_connection  # type: ignore[assignment]
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        conn = connection._conn
        outcome: _Outcome | None = None
        if _INLINE.get():
            outcome = await _inline(
                conn, adapted.busy_ms, adapted.turn, operation, parameters, many
            )
        if outcome is None:
            async with adapted._execute_mutex:
                outcome = await connection._execute(  # type: ignore[no-untyped-call]
                    _run_waiting, conn, adapted.busy_ms, adapted.turn, operation, parameters, many
                )
        self._description, self._rowcount, self._lastrowid, rows = outcome
        if rows is not None:
            self._rows = collections.deque(rows)

    async def _async_soft_close(self) -> None:
        return None  # nothing open on the database thread

    def close(self) -> None:
        self._rows.clear()

    def nextset(self) -> None:
        return None

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("busy_ms", "turn")
    _cursor_cls = _Cursor

    def __init__(self, dbapi: Any, connection: Any, busy_ms: int, turn: Turn | None) -> None:
        super().__init__(dbapi, connection)
        self.busy_ms = busy_ms
        self.turn = turn

    def _open(self) -> sqlite3.Connection | None:
        """The sqlite3 connection if it has a transaction open. `in_transaction` is safe to
        read here (sqlite3 checks no thread for it), and nothing runs on this connection
        between SQLAlchemy's calls."""
        raw: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        conn = raw._connection
        return conn if conn is not None and conn.in_transaction else None

    def rollback(self) -> None:
        conn = self._open()
        if conn is None:
            return
        if _INLINE.get():
            conn.rollback()  # never waits for a lock
        else:
            super().rollback()

    def commit(self) -> None:
        conn = self._open()
        if conn is None:
            return
        if _INLINE.get():
            conn.commit()  # WAL: the writer already holds the lock, nothing to wait for
        else:
            super().commit()


class InlineClosing(AsyncConnection):
    """A connection of `SqliteEngine` (`bot.infra.db.make_engine`): see the module's docstring."""

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        if _INLINE.get():
            await self.close()  # runs to its end without a pause: nothing to shield it from
        else:
            await super().__aexit__(type_, value, traceback)


class SqliteEngine(AsyncEngine):
    """The async engine whose connections are `InlineClosing`."""

    __slots__ = ()
    _connection_cls = InlineClosing


class _Dbapi(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> _Connection:
        """Opened with no busy wait (the thread path sets it per statement) and usable from the
        event loop's thread as well as aiosqlite's (never both at once)."""
        busy_ms = max(0, int(float(kw.pop("timeout", 5.0)) * 1000))
        kw["timeout"] = 0
        kw["check_same_thread"] = False
        adapted = super().connect(*arg, **kw)
        database = str(arg[0] if arg else kw.get("database", ""))
        turn = _turns.get(database)
        if turn is None and database not in _turns:
            turn = _turns[database] = Turn.beside(database)
        return _Connection(self, adapted._connection, busy_ms, turn)


_turns: dict[str, Turn | None] = {}  # one per database file and process


DBAPI = _Dbapi(aiosqlite, sqlite3)
