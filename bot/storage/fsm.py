"""aiogram FSM storage in our own database, so a user mid-flow keeps their place on restart.

aiogram ships no SQL storage; this is the small one it needs. With `REDIS_URL` set, the app
uses aiogram's RedisStorage instead (see bot.app).

aiogram asks for the state and the data several times while one update is handled (the
middleware, then each `get_data`/`update_data`). Within `remembered()` (the dispatcher opens one
per update) a key is read once and then served from what was read or written since; writes
always go to the database. The memo belongs to the task that opened it: tasks started from
the update read the database.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.clock import Clock
from bot.storage.dialect import upsert
from bot.storage.tables import fsm_states

_Row = tuple[str | None, str]  # state, data as stored (JSON text)
_MEMO: ContextVar[tuple[asyncio.Task[Any] | None, dict[str, _Row]] | None] = ContextVar(
    "opora_fsm_memo", default=None
)


@contextmanager
def remembered() -> Iterator[None]:
    """The FSM rows read or written in this context are remembered until it ends."""
    token = _MEMO.set((asyncio.current_task(), {}))
    try:
        yield
    finally:
        _MEMO.reset(token)


def _memo() -> dict[str, _Row] | None:
    held = _MEMO.get()
    if held is None or held[0] is not asyncio.current_task():
        return None
    return held[1]


async def _read(conn: AsyncConnection, built: str) -> _Row:
    row = (
        await conn.execute(
            select(fsm_states.c.state, fsm_states.c.data).where(fsm_states.c.key == built)
        )
    ).first()
    return (None, "{}") if row is None else (row.state, row.data)


class SqlStorage(BaseStorage):
    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self.keys = DefaultKeyBuilder(with_bot_id=True, with_destiny=True)

    async def _row(self, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
        built = self.keys.build(key)
        memo = _memo()
        found = memo.get(built) if memo is not None else None
        if found is None:
            async with self.engine.connect() as conn:
                found = await _read(conn, built)
            if memo is not None:
                memo[built] = found
        return found[0], json.loads(found[1])

    async def _write(self, key: StorageKey, **values: Any) -> None:
        """Upsert the changed field; a key left with no state and no data is deleted, so a
        cleared conversation leaves no row behind (e.g. after /delete_me)."""
        built = self.keys.build(key)
        memo = _memo()
        async with self.engine.begin() as conn:
            row = memo.get(built) if memo is not None else None
            if row is None:
                row = await _read(conn, built)
            state = values.get("state", row[0])
            data = values.get("data", row[1])
            if memo is not None:
                memo[built] = (state, data)
            if state is None and data == "{}":
                if row != (None, "{}"):  # that pair is never stored: it means no row
                    await conn.execute(delete(fsm_states).where(fsm_states.c.key == built))
                return
            await upsert(
                conn,
                fsm_states,
                {
                    "key": built,
                    "user_id": key.user_id,
                    "updated_at": self.clock.now(),
                    "state": state,
                    "data": data,
                },
                key=["key"],
            )

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._write(key, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._row(key))[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, dict):
            msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
            raise DataNotDictLikeError(msg)
        await self._write(key, data=json.dumps(data, ensure_ascii=False))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return (await self._row(key))[1]

    async def close(self) -> None:
        """The engine belongs to the app, which disposes of it."""
