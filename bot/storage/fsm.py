"""aiogram FSM storage in our own database, so a user mid-flow keeps their place on restart.

aiogram ships no SQL storage; this is the small one it needs. With `REDIS_URL` set, the app
uses aiogram's RedisStorage instead (see bot.app).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from bot.storage.dialect import upsert
from bot.storage.tables import fsm_states


class SqlStorage(BaseStorage):
    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self.keys = DefaultKeyBuilder(with_bot_id=True, with_destiny=True)

    async def _row(self, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(fsm_states.c.state, fsm_states.c.data).where(
                        fsm_states.c.key == self.keys.build(key)
                    )
                )
            ).first()
        if row is None:
            return None, {}
        return row.state, json.loads(row.data)

    async def _write(self, key: StorageKey, **values: Any) -> None:
        """Upsert the changed field; a key left with no state and no data is deleted, so a
        cleared conversation leaves no row behind (e.g. after /delete_me)."""
        built = self.keys.build(key)
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(
                    select(fsm_states.c.state, fsm_states.c.data).where(fsm_states.c.key == built)
                )
            ).first()
            state = values.get("state", row.state if row else None)
            data = values.get("data", row.data if row else "{}")
            if state is None and data == "{}":
                if row is not None:
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
