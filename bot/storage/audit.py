"""The audit log of coordinator and admin actions, and of refused attempts (counted: one row
stands for every refusal of one actor, action and target within a window)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.tables import audit_log


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    actor_id: int
    action: str
    target: str | None
    details: dict[str, Any]
    created_at: datetime
    times: int = 1  # a refusal's row: how many refusals it counts


async def add(
    conn: AsyncConnection,
    actor_id: int,
    action: str,
    target: str | None,
    details: dict[str, Any],
    now: datetime,
) -> None:
    await conn.execute(
        insert(audit_log).values(
            actor_id=actor_id,
            action=action[:48],
            target=(target or "")[:200] or None,
            details=json.dumps(details, ensure_ascii=False, default=str),
            created_at=now,
        )
    )


async def add_refusal(
    conn: AsyncConnection,
    actor_id: int,
    action: str,
    target: str | None,
    now: datetime,
    window: timedelta,
) -> None:
    """One more refusal: added to the row of the same actor, action and target opened within
    `window` before `now`, or a new row (two refusals at once may open two rows: still a cap).
    """
    action, target = action[:48], (target or "")[:200] or None
    opened = (
        select(audit_log.c.id)
        .where(
            audit_log.c.actor_id == actor_id,
            audit_log.c.action == action,
            audit_log.c.target.is_(None) if target is None else audit_log.c.target == target,
            audit_log.c.created_at > now - window,
        )
        .order_by(audit_log.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    counted = await conn.execute(
        update(audit_log).where(audit_log.c.id == opened).values(times=audit_log.c.times + 1)
    )
    if not counted.rowcount:
        await add(conn, actor_id, action, target, {}, now)


async def page(conn: AsyncConnection, offset: int, limit: int) -> tuple[list[AuditEntry], int]:
    """A page of the log, newest first, and how many rows it has."""
    total = (await conn.execute(select(func.count()).select_from(audit_log))).scalar_one()
    rows = await conn.execute(
        select(audit_log).order_by(audit_log.c.id.desc()).offset(offset).limit(limit)
    )
    return [
        AuditEntry(
            r["id"],
            r["actor_id"],
            r["action"],
            r["target"],
            json.loads(r["details"]),
            r["created_at"],
            r["times"],
        )
        for r in rows.mappings()
    ], int(total)
