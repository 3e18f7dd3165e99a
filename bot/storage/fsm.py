"""aiogram FSM storage in our own database, so a user mid-flow keeps their place on restart.

aiogram ships no SQL storage; this is the small one it needs. With `REDIS_URL` set, the app
uses aiogram's RedisStorage instead (see bot.app).

aiogram asks for the state and the data several times while one update is handled (the
middleware, then each `get_data`/`update_data`). Within the update's memo (bot/infra/memo.py)
a key is read once and then served from what was read or written since, and what the update
changed is stored once as it ends (`SqlStorage.flush`, called inside aiogram's per-user lock,
after the handler): one write per update, none when nothing changed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.infra.clock import Clock
from bot.infra.memo import memo
from bot.storage import users as users_repo
from bot.storage.dialect import upsert
from bot.storage.tables import fsm_states

_Row = tuple[str | None, str]  # state, data as stored (JSON text)
_EMPTY: _Row = (None, "{}")


def _changed(row: _Row, values: dict[str, Any]) -> _Row:
    return values.get("state", row[0]), values.get("data", row[1])


_READ = select(fsm_states.c.state, fsm_states.c.data).where(fsm_states.c.key == bindparam("key"))


async def _read(conn: AsyncConnection, built: str) -> _Row:
    row = (await conn.execute(_READ, {"key": built})).first()
    return _EMPTY if row is None else (row.state, row.data)


class SqlStorage(BaseStorage):
    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self.keys = DefaultKeyBuilder(with_bot_id=True, with_destiny=True)

    async def _row(self, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
        built = self.keys.build(key)
        held = memo()
        found = held.get(("fsm", built)) if held is not None else None
        if found is None:
            async with self.engine.connect() as conn:
                if held is not None and key.user_id:  # the update's user comes along
                    found = (await users_repo.get_with_state(conn, key.user_id, built))[1]
                    found = found or _EMPTY
                else:
                    found = await _read(conn, built)
            if held is not None:
                held["fsm", built] = found
        return found[0], json.loads(found[1])

    async def _write(self, key: StorageKey, **values: Any) -> None:
        """Change the state or the data. Within an update the change is kept in its memo and
        stored once, by `flush()` as the update ends (a handler usually sets both the state and
        the data: one write instead of two); outside one it is stored at once."""
        built = self.keys.build(key)
        held = memo()
        if held is None:
            async with self.engine.begin() as conn:
                row = await _read(conn, built)
                await self._store(conn, built, key.user_id, row, _changed(row, values))
            return
        remembered: _Row | None = held.get(("fsm", built))
        if remembered is None:
            async with self.engine.connect() as conn:
                row = await _read(conn, built)
        else:
            row = remembered
        held["fsm", built] = _changed(row, values)
        pending: dict[str, tuple[int | None, _Row]] = held.setdefault(("fsm", None), {})
        pending.setdefault(built, (key.user_id, row))  # and what the database holds

    async def flush(self) -> None:
        """Store what this update changed (no-op outside an update, or when nothing did)."""
        held = memo()
        pending = held.pop(("fsm", None), None) if held is not None else None
        if not pending:
            return
        assert held is not None
        changed = [
            (built, user_id, stored, row)
            for built, (user_id, stored) in pending.items()
            if (row := held["fsm", built]) != stored
        ]
        if not changed:  # changed back (or set as it was): not even a connection
            return
        async with self.engine.begin() as conn:
            for built, user_id, stored, row in changed:
                await self._store(conn, built, user_id, stored, row)

    async def _store(
        self, conn: AsyncConnection, built: str, user_id: int | None, stored: _Row, row: _Row
    ) -> None:
        """`stored` → `row`; a key left with no state and no data is deleted, so a cleared
        conversation leaves no row behind (e.g. after /delete_me)."""
        if row == stored:
            return
        if row == _EMPTY:  # that pair is never stored: it means no row
            await conn.execute(delete(fsm_states).where(fsm_states.c.key == built))
            return
        await upsert(
            conn,
            fsm_states,
            {
                "key": built,
                "user_id": user_id,
                "updated_at": self.clock.now(),
                "state": row[0],
                "data": row[1],
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
