"""An event loop on virtual time: minutes of pacing against the emulator's flood control, in
a few seconds and the same way each run.

The loop's clock (`loop.time()`) stands still while anything can run (a ready callback, a
socket with data) and jumps to the next timer when nothing can. Whatever the test reads the
time with must be this clock: the emulator's `clock`, the sender's monotonic time, the bot's
`Clock` (`LoopClock`). Every party lives in the loop: requests to the emulator are real HTTP
over a local socket, whose data is there as soon as it is written; a worker thread's work
would take no virtual time (SQLite statements run on the loop with `inline_sql()`).
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

T = TypeVar("T")


class _Selector(selectors.DefaultSelector):
    """Polls without waiting; where the loop would wait for a timer, moves its clock instead."""

    loop: VirtualTimeLoop

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:  # no timer at all: only another thread can wake the loop
            return super().select(None)
        self.loop.advance(timeout)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        selector = _Selector()
        super().__init__(selector)
        selector.loop = self
        self._now = 0.0

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds


class LoopClock:
    """The bot's `Clock` on the loop's time (outbox times compare with the pacing's)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, start: datetime | None = None) -> None:
        self.loop = loop
        self.start = (start or datetime(2026, 12, 1, 9, 0, tzinfo=UTC)) - timedelta(
            seconds=loop.time()
        )

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.loop.time())


def run_virtual(main: Callable[[VirtualTimeLoop], Coroutine[Any, Any, T]]) -> T:
    """Run `main(loop)` to its end on a fresh virtual-time loop."""
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main(loop))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
