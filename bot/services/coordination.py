"""Who coordinates: admins (ADMIN_IDS) appoint and remove coordinators; every coordinator and
admin action, and every refused attempt, goes to the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.errors import UserError
from bot.infra.clock import Clock
from bot.storage import audit as audit_repo
from bot.storage import users as users_repo
from bot.storage.audit import AuditEntry
from bot.storage.tables import user_roles
from bot.storage.users import User

COORDINATOR = "coordinator"
ORGANISER = "organiser"  # an activist a coordinator allowed to publish opportunities


class CoordinationService:
    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    async def audit(
        self, actor_id: int, action: str, target: str | None = None, **details: Any
    ) -> None:
        async with self.engine.begin() as conn:
            await audit_repo.add(conn, actor_id, action, target, details, self.clock.now())

    async def log(self, limit: int = 20) -> list[AuditEntry]:
        async with self.engine.connect() as conn:
            return await audit_repo.latest(conn, limit)

    async def coordinators(self) -> list[User]:
        return await self.holders(COORDINATOR)

    async def holders(self, role: str) -> list[User]:
        async with self.engine.connect() as conn:
            ids = (
                await conn.execute(
                    select(user_roles.c.user_id)
                    .where(user_roles.c.role == role)
                    .order_by(user_roles.c.granted_at)
                )
            ).scalars()
            found = [await users_repo.get(conn, i) for i in ids]
        return [u for u in found if u is not None]

    async def grant(self, actor_id: int, user_id: int, role: str) -> User:
        """Give a role to a user who has started the bot (UserError otherwise)."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            user = await users_repo.get(conn, user_id)
            if user is None:
                raise UserError("admin/unknown_user.j2", user_id=user_id)
            await users_repo.grant_role(conn, user_id, role, now, by=actor_id)
            await audit_repo.add(conn, actor_id, f"{role}.appoint", str(user_id), {}, now)
            granted = await users_repo.get(conn, user_id)
        assert granted is not None
        return granted

    async def revoke(self, actor_id: int, user_id: int, role: str) -> None:
        now = self.clock.now()
        async with self.engine.begin() as conn:
            await users_repo.revoke_role(conn, user_id, role)
            await audit_repo.add(conn, actor_id, f"{role}.remove", str(user_id), {}, now)

    async def appoint(self, admin_id: int, user_id: int) -> User:
        return await self.grant(admin_id, user_id, COORDINATOR)

    async def remove(self, admin_id: int, user_id: int) -> None:
        await self.revoke(admin_id, user_id, COORDINATOR)
