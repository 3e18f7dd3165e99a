"""The audit log of coordinator and admin actions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
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


async def latest(conn: AsyncConnection, limit: int) -> list[AuditEntry]:
    rows = await conn.execute(select(audit_log).order_by(audit_log.c.id.desc()).limit(limit))
    return [
        AuditEntry(
            r["id"],
            r["actor_id"],
            r["action"],
            r["target"],
            json.loads(r["details"]),
            r["created_at"],
        )
        for r in rows.mappings()
    ]
