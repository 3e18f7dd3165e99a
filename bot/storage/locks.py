"""A lock across instances for work that one of them should do at a time (e.g. following a
broadcast's progress), held as long as the holder keeps it or lives.

* PostgreSQL: a session advisory lock (`pg_try_advisory_lock`) on a connection kept for the
  duration. A holder that dies loses its connection and with it the lock, at once, so another
  instance takes over at its next try.
* SQLite: one process owns the database file, so the lock is always granted.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


def _space(name: str) -> int:
    """A stable 31-bit number for a lock's name (the first key of the two-key lock)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") & 0x7FFFFFFF


@contextlib.asynccontextmanager
async def exclusive(engine: AsyncEngine, name: str, key: int) -> AsyncIterator[bool]:
    """`async with exclusive(engine, "broadcast-follow", 7) as mine:` — `mine` is True when
    this instance holds the lock (until the block ends), False when another one does. Never
    waits. `key` must fit in 32 bits."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    space = _space(name)
    async with engine.connect() as conn:
        got = (
            await conn.execute(
                text("SELECT pg_try_advisory_lock(:space, :key)"), {"space": space, "key": key}
            )
        ).scalar_one()
        await conn.commit()  # the lock is the session's, not the transaction's
        try:
            yield bool(got)
        finally:
            if got:
                try:
                    await conn.execute(
                        text("SELECT pg_advisory_unlock(:space, :key)"),
                        {"space": space, "key": key},
                    )
                    await conn.commit()
                except BaseException:
                    # Not unlocked (cancelled, connection lost): the session must not go back
                    # to the pool still holding the lock. Closing it releases the lock.
                    await conn.invalidate()
                    raise
