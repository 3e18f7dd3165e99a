"""What a coordinator has done so far, for the first-run checklist of their menu: read from
the rows their actions left (their region, what they published, the audit log)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Exists, exists, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.tables import audit_log, local_measures, opportunities, users


@dataclass(frozen=True, slots=True)
class FirstSteps:
    region: str | None  # the region they serve (their own users.region)
    measure: bool  # added a local support measure
    opportunity: bool  # published a volunteer opportunity
    invitation: bool  # took the invitation for activists (audit "invite.made")
    charts: bool  # opened the statistics (audit "stats.export")


def _logged(actor_id: int, action: str) -> Exists:
    return exists().where(audit_log.c.actor_id == actor_id, audit_log.c.action == action)


async def first_steps(conn: AsyncConnection, user_id: int) -> FirstSteps:
    row = (
        await conn.execute(
            select(
                select(users.c.region).where(users.c.id == user_id).scalar_subquery(),
                exists().where(local_measures.c.created_by == user_id),
                exists().where(opportunities.c.created_by == user_id),
                _logged(user_id, "invite.made"),
                _logged(user_id, "stats.export"),
            )
        )
    ).one()
    region, measure, opportunity, invitation, charts = row
    return FirstSteps(region, bool(measure), bool(opportunity), bool(invitation), bool(charts))
