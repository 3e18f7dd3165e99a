"""The one place where SQL differs between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


async def upsert(
    conn: AsyncConnection,
    table: Table,
    values: Mapping[str, Any],
    *,
    key: Sequence[str],
    update: Sequence[str] | None = None,
) -> None:
    """INSERT, or on a conflict on `key` UPDATE the `update` columns (all others by default);
    with `update=()` the conflicting row is left as it is."""
    name = conn.dialect.name
    if name == "postgresql":
        stmt: Any = postgresql.insert(table).values(**values)
    elif name == "sqlite":
        stmt = sqlite.insert(table).values(**values)
    else:  # pragma: no cover - only the two supported backends
        raise NotImplementedError(name)
    columns = [c for c in values if c not in key] if update is None else list(update)
    if columns:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(key), set_={c: stmt.excluded[c] for c in columns}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
    await conn.execute(stmt)
