"""What one update has read of its user, kept until the update ends.

aiogram asks for the conversation state several times while one update is handled, and the
user's row is wanted by the context middleware, by every consent check and by the screens. The
dispatcher opens `remembered()` around each update; within it a storage function may keep
what it read under a key of its own (("fsm", key), ("user", id)) and serve it again. A write
through the same module drops (or replaces) the entry, so the update sees its own writes.
Keys are tuples whose first item names the module that owns them.

The memo belongs to the task that opened it: tasks started from the update, the scheduler and
the outbox sender read the database. Other processes and tasks may change the rows meanwhile;
the update keeps seeing what it read at its start, as a transaction would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["memo", "remembered"]

_MEMO: ContextVar[tuple[asyncio.Task[Any] | None, dict[tuple[Any, ...], Any]] | None] = ContextVar(
    "opora_update_memo", default=None
)


@contextmanager
def remembered() -> Iterator[None]:
    """Rows read or written in this context (this task) are remembered until it ends."""
    token = _MEMO.set((asyncio.current_task(), {}))
    try:
        yield
    finally:
        _MEMO.reset(token)


def memo() -> dict[tuple[Any, ...], Any] | None:
    """The current update's memo, or None outside one (or in a task it started)."""
    held = _MEMO.get()
    if held is None or held[0] is not asyncio.current_task():
        return None
    return held[1]
