"""Checks on the server for every message and button of a router, whatever screen it came
from: consent for the personal journey, a role for the coordinators' and admins' tools."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, TelegramObject, Update

from bot.services.coordination import CoordinationService
from bot.services.desk import DeskService
from bot.services.volunteering import VolunteerService
from bot.ui.keyboards import OrganiserCb
from bot.ui.screen import Screen
from handlers import journey

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class RequireConsent(BaseMiddleware):
    """A handler of the journey runs only for a user who consented; anyone else gets the
    consent screen instead (and nothing is stored)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        screen: Screen | None = data.get("screen")
        if screen is not None and (screen.user is None or not screen.user.consented):
            await journey.start_step("consent", screen, data)
            return None
        return await handler(event, data)


class RequireRole(BaseMiddleware):
    """A handler runs only for a user with one of `roles`; anyone else gets a polite refusal,
    nothing changes, and the attempt is logged and counted in the audit log."""

    def __init__(self, *roles: str) -> None:
        self.roles = frozenset(roles)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if self.roles & data.get("roles", frozenset()):
            return await handler(event, data)
        screen: Screen | None = data.get("screen")
        update: Update | None = data.get("event_update")
        user_id = screen.user_id if screen else None
        log.warning(
            "role refused",
            extra={
                "user_id": user_id,
                "update_id": update.update_id if update else None,
                "needs": sorted(self.roles),
            },
        )
        coordination: CoordinationService | None = data.get("coordination")
        if coordination is not None and user_id is not None:
            await coordination.refused(user_id, "denied", ",".join(sorted(self.roles)))
        if screen is not None:
            screen.query = None
            await screen.send(screen.tr("errors/not_allowed.j2"))
        return None


class OwnOpportunities(BaseMiddleware):
    """An activist allowed to publish opportunities (role "organiser") may act only on the
    ones they created; coordinators and admins on all. Checked for every button."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        roles: frozenset[str] = data.get("roles", frozenset())
        screen: Screen | None = data.get("screen")
        if roles & {"coordinator", "admin"} or not isinstance(event, CallbackQuery):
            return await handler(event, data)
        try:
            target = OrganiserCb.unpack(event.data or "").id
        except (TypeError, ValueError):
            target = 0
        volunteering: VolunteerService = data["volunteering"]
        if (
            target
            and screen is not None
            and await volunteering.created_by(target) != screen.user_id
        ):
            log.warning("not the organiser", extra={"user_id": screen.user_id, "target": target})
            screen.query = None
            await screen.send(screen.tr("errors/not_allowed.j2"))
            return None
        return await handler(event, data)


class DeskScope(BaseMiddleware):
    """The desk's inbox serves coordinators and outside experts alike: the handlers get
    `desk_kinds`, the kinds of questions this user may see and act on — None for a
    coordinator or admin (all), an expert's kinds read anew for every update (a removed
    expert loses access at once), empty for anyone else."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        roles: frozenset[str] = data.get("roles", frozenset())
        screen: Screen | None = data.get("screen")
        if roles & {"coordinator", "admin"}:
            data["desk_kinds"] = None
        elif screen is not None and "expert" in roles:
            desk: DeskService = data["desk"]
            data["desk_kinds"] = await desk.expert_kinds(screen.user_id)
        else:
            data["desk_kinds"] = frozenset()
        return await handler(event, data)
