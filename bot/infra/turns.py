"""How many updates are handled at once (UPDATES_IN_FLIGHT), with a way to step aside.

Without a bound, a thousand users at once would take every pooled database connection. With
one, a handler that only waits (for a picture drawn in a worker thread) would hold its turn
while others queue behind it: when a room of people finish the ikigai exercise together, their
pictures would take every turn and everyone else's button presses would wait seconds.

    dp.update.outer_middleware(Turns(16))  # each update takes a turn
    ...
        async with stepped_aside():  # a handler, around a wait that needs no turn
            png = await drawing

`stepped_aside()` gives the update's turn back for the wait and takes a turn again after it;
outside an update (tests calling a handler directly, the scheduler) it does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject


@dataclass
class _Held:
    turns: Turns
    holding: bool = True


_current: ContextVar[_Held | None] = ContextVar("opora_turn", default=None)


class Turns(BaseMiddleware):
    """An outer update middleware: each update is handled within a turn."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._free = asyncio.Semaphore(limit)

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with self.turn():
            return await handler(event, data)

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Handle one update in here: waits while `limit` others are being handled."""
        await self._free.acquire()
        held = _Held(self)
        token = _current.set(held)
        try:
            yield
        finally:
            _current.reset(token)
            if held.holding:
                self._free.release()


@contextlib.asynccontextmanager
async def stepped_aside() -> AsyncIterator[None]:
    """Wait in here without holding the update's turn (see the module's docstring)."""
    held = _current.get()
    if held is None or not held.holding:
        yield
        return
    held.holding = False
    held.turns._free.release()
    try:
        yield
    finally:
        await held.turns._free.acquire()
        held.holding = True
