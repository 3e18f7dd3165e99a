"""Who coordinates: admins (ADMIN_IDS) appoint and remove coordinators; every coordinator and
admin action goes to the audit log, and refused attempts are counted there.

A refusal adds one to the row of the same actor, action and target opened within
`REFUSALS_WINDOW` instead of writing a row each: forged presses by the dozen once pushed a
real appointment off /audit. The log keeps who tried what and how often, hour by hour, and
the list stays readable (it pages through every row)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.errors import UserError
from bot.domain.paging import Page, asked
from bot.infra.clock import Clock
from bot.storage import audit as audit_repo
from bot.storage import coordination as repo
from bot.storage import outbox as outbox_repo
from bot.storage import users as users_repo
from bot.storage.audit import AuditEntry
from bot.storage.coordination import FirstSteps as FirstSteps  # handed on to the handlers
from bot.storage.outbox import NewPush
from bot.storage.tables import user_roles
from bot.storage.users import User as User  # handed on to the handlers
from bot.ui.keyboards import Menu
from bot.ui.render import Renderer, split_html

COORDINATOR = "coordinator"
ORGANISER = "organiser"  # an activist a coordinator allowed to publish opportunities
REFUSALS_WINDOW = timedelta(hours=1)  # one audit row counts an actor's refusals in it
_MENU = Menu(section="coordinator").pack()


class CoordinationService:
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        renderer: Renderer | None = None,
        default_locale: str = "ru",
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.renderer = renderer  # None: appointments are not announced (storage tests)
        self.default_locale = default_locale

    async def audit(
        self, actor_id: int, action: str, target: str | None = None, **details: Any
    ) -> None:
        async with self.engine.begin() as conn:
            await audit_repo.add(conn, actor_id, action, target, details, self.clock.now())

    async def refused(self, actor_id: int, action: str, target: str | None = None) -> None:
        """Count a refused attempt (see the module's note)."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            await audit_repo.add_refusal(conn, actor_id, action, target, now, REFUSALS_WINDOW)

    async def log(self, page: int, size: int) -> tuple[list[AuditEntry], Page]:
        """Page `page` of the log, newest first; past the end (a stale button), the last."""
        wanted = asked(page, size)
        async with self.engine.connect() as conn:
            entries, total = await audit_repo.page(conn, wanted.offset, wanted.limit)
            at = wanted.counted(total).clamped()
            if at.number != wanted.number:
                entries, _ = await audit_repo.page(conn, at.offset, at.limit)
        return entries, at

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
        """Give a role to a user who has started the bot (UserError otherwise); a new
        coordinator is told so, with what they can now do (an outbox row, in the same
        transaction: the caller wakes the sender)."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            user = await users_repo.get(conn, user_id)
            if user is None:
                raise UserError("admin/unknown_user.j2", user_id=user_id)
            had = role in user.roles
            await users_repo.grant_role(conn, user_id, role, now, by=actor_id)
            await audit_repo.add(conn, actor_id, f"{role}.appoint", str(user_id), {}, now)
            if role == COORDINATOR and not had and self.renderer is not None:
                await outbox_repo.enqueue(conn, [self._appointed(user, now)], now)
            granted = await users_repo.get(conn, user_id)
        assert granted is not None
        return granted

    def _appointed(self, user: User, now: datetime) -> NewPush:
        assert self.renderer is not None
        tr = self.renderer.bind(user.locale or self.default_locale)
        menu = {"text": tr._("🛠 Open the coordinator menu"), "callback_data": _MENU}
        return NewPush(
            user_id=user.id,
            chat_id=user.id,
            kind="role_notice",
            dedup_key=f"coordinator-appointed:{user.id}:{now.isoformat()}",
            payload={
                "text": split_html(tr("coordinator/appointed_notice.j2"))[0],
                "parse_mode": "HTML",
                "buttons": [[menu]],
            },
            not_before=now,
        )

    async def first_steps(self, user_id: int) -> FirstSteps:
        """What the coordinator's first-run checklist shows as done."""
        async with self.engine.connect() as conn:
            return await repo.first_steps(conn, user_id)

    async def serve(self, user_id: int, region: str, timezone: str) -> None:
        """The region the coordinator serves: their own `users.region` (their statistics
        default to it), and its time zone (the one they chose, where it has several) as
        theirs, so the times they type and read are the region's."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            await users_repo.set_fields(conn, user_id, now, region=region, timezone=timezone)
            await audit_repo.add(conn, user_id, "coordinator.region", region, {}, now)

    async def revoke(self, actor_id: int, user_id: int, role: str) -> None:
        now = self.clock.now()
        async with self.engine.begin() as conn:
            await users_repo.revoke_role(conn, user_id, role)
            await audit_repo.add(conn, actor_id, f"{role}.remove", str(user_id), {}, now)

    async def appoint(self, admin_id: int, user_id: int) -> User:
        return await self.grant(admin_id, user_id, COORDINATOR)

    async def remove(self, admin_id: int, user_id: int) -> None:
        await self.revoke(admin_id, user_id, COORDINATOR)
