"""Who the user is and where: activist or volunteer (coordinators are appointed, never chosen
here), then the time zone and region in at most two taps. Both changeable from /profile."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.types import CallbackQuery

from bot.content import Catalog
from bot.domain.errors import StaleButton
from bot.services.profile import SELF_CHOSEN_ROLES, ProfileService
from bot.ui.keyboards import Menu, Place, RoleCb, back_row, button, grid, keyboard
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


@journey.step("place")
async def zone_screen(screen: Screen, deps: dict[str, Any]) -> None:
    tr = screen.tr
    catalog: Catalog = deps["catalog"]
    zones = [button(z.label(tr.locale), Place(zone=z.code)) for z in catalog.zones]
    await screen.show(tr("onboarding/zone.j2"), keyboard([*grid(zones, 2), back_row(tr)]))


@router.callback_query(Place.filter(F.region == ""))
async def region_screen(
    query: CallbackQuery, callback_data: Place, screen: Screen, catalog: Catalog
) -> None:
    tr = screen.tr
    zone = catalog.zone(callback_data.zone)
    regions = [
        button(r.name(tr.locale), Place(zone=zone.code, region=r.code))
        for r in catalog.regions_in(zone.code)
    ]
    skip = [button(tr._("Skip: just the time zone"), Place(zone=zone.code, region="-"))]
    back = [button(tr._("« Back"), Menu(section="place"))]
    markup = keyboard([*grid(regions, 2), skip, back])
    await screen.show(tr("onboarding/region.j2", zone=zone), markup)


@router.callback_query(Menu.filter(F.section == "place"))
async def back_to_zones(query: CallbackQuery, screen: Screen, **deps: Any) -> None:
    await zone_screen(screen, deps)


@router.callback_query(Place.filter(F.region != ""))
async def place_chosen(
    query: CallbackQuery,
    callback_data: Place,
    screen: Screen,
    profiles: ProfileService,
    **deps: Any,
) -> None:
    catalog: Catalog = deps["catalog"]
    zone = catalog.zone(callback_data.zone)
    if callback_data.region == "-":
        await profiles.set_place(screen.user_id, zone.iana, None)
    else:
        region = catalog.region(callback_data.region)
        if region.zone != zone.code:
            raise StaleButton
        await profiles.set_place(screen.user_id, region.iana, region.code)
    await journey.advance(screen, {"profiles": profiles, **deps})
