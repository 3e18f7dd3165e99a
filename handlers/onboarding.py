"""Who the user is: activist or volunteer (coordinators are appointed, never chosen here).
Where they are is the next step (handlers.place). Both changeable from /profile."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.types import CallbackQuery

from bot.services.profile import SELF_CHOSEN_ROLES, ProfileService
from bot.ui.keyboards import Menu, RoleCb, back_row, button, keyboard
from bot.ui.screen import Screen
from handlers import journey

router = Router(name=__name__)


@router.callback_query(Menu.filter(F.section == "journey"))
async def continue_journey(query: CallbackQuery, screen: Screen, **deps: Any) -> None:
    await journey.advance(screen, deps)


@journey.step("role")
async def role_screen(screen: Screen, deps: dict[str, Any]) -> None:
    tr = screen.tr
    markup = keyboard(
        [
            [button(tr._("🚀 Activist: I run or start a project"), RoleCb(role="activist"))],
            [button(tr._("🤝 Volunteer: I want to help"), RoleCb(role="volunteer"))],
            back_row(tr),
        ]
    )
    await screen.show(tr("onboarding/role.j2"), markup)


@router.callback_query(RoleCb.filter(F.role.in_(SELF_CHOSEN_ROLES)))
async def role_chosen(
    query: CallbackQuery,
    callback_data: RoleCb,
    screen: Screen,
    profiles: ProfileService,
    **deps: Any,
) -> None:
    await profiles.set_role(screen.user_id, callback_data.role)
    await journey.advance(screen, {"profiles": profiles, **deps})


@router.callback_query(Menu.filter(F.section == "own_project"))
async def own_project(
    query: CallbackQuery, screen: Screen, profiles: ProfileService, **deps: Any
) -> None:
    """A volunteer with a project of their own: the activist's journey is added, and the
    volunteer's stays (role, sign-ups, skills, time)."""
    await profiles.add_role(screen.user_id, "activist")
    await journey.advance(screen, {"profiles": profiles, **deps})
