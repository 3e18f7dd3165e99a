"""Where the user is: the region first — typed (part of its name, a town, «спб») or picked by
federal district — and the time zone follows from it; asked only in a region over several
offsets (Yakutia). Someone who gives no region picks a UTC-offset group instead. The journey's
"place" step, and /profile's "🕐 Region".

What is stored is the same as ever: the region's code (or none) and an IANA zone.
"""

from __future__ import annotations

from typing import Any, Final

from aiogram import F, Router
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message

from bot.content import Catalog
from bot.domain.errors import StaleButton
from bot.domain.paging import paged
from bot.domain.zones import Region, offset_label
from bot.infra.clock import Clock
from bot.services.profile import ProfileService
from bot.ui.keyboards import Menu, Place, back_row, button, grid, keyboard, page_row
from bot.ui.render import Tr
from bot.ui.screen import Screen
from handlers import journey

router = Router(name=__name__)

FOUND_MAX: Final = 8  # typed: at most this many matches become buttons
DISTRICT_PAGE: Final = 12  # regions of a district on one page (the Central one has 18)


class PlaceTyping(StatesGroup):
    region = State()  # text typed on the place screens searches the regions


def _districts(tr: Tr, catalog: Catalog) -> list[list[InlineKeyboardButton]]:
    """The eight districts, then the way out for someone who gives no region."""
    districts = [
        button(d.name(tr.locale), Place(action="d", value=d.code)) for d in catalog.districts
    ]
    return [
        *grid(districts, 2),
        [button(tr._("🌐 Rather not say"), Place(action="none"))],
    ]


async def _typing(screen: Screen) -> None:
    if screen.state is not None:
        await screen.state.set_state(PlaceTyping.region)


@journey.step("place")
async def place_screen(screen: Screen, deps: dict[str, Any]) -> None:
    tr = screen.tr
    catalog: Catalog = deps["catalog"]
    await _typing(screen)
    markup = keyboard([*_districts(tr, catalog), back_row(tr)])
    await screen.show(tr("onboarding/place.j2"), markup)


@router.callback_query(Place.filter(F.action == "home"))
@router.callback_query(Menu.filter(F.section == "place"))
async def back_to_place(query: CallbackQuery, screen: Screen, **deps: Any) -> None:
    await place_screen(screen, deps)


def _back(tr: Tr) -> list[InlineKeyboardButton]:
    return back_row(tr, Place(action="home"))


@router.callback_query(Place.filter(F.action == "d"))
async def district_screen(
    query: CallbackQuery, callback_data: Place, screen: Screen, catalog: Catalog
) -> None:
    tr = screen.tr
    district = catalog.district(callback_data.value)  # unknown: a stale button
    await _typing(screen)
    regions = catalog.regions_of_district(district.code)
    at = paged(len(regions), callback_data.n, DISTRICT_PAGE)
    shown = [button(r.name(tr.locale), Place(action="r", value=r.code)) for r in regions[at.slice]]
    rows = [
        *grid(shown, 2),
        page_row(at, lambda n: Place(action="d", value=district.code, n=n)),
        _back(tr),
    ]
    await screen.show(
        tr("onboarding/district.j2", district=district.name(tr.locale)), keyboard(rows)
    )


@router.message(PlaceTyping.region, F.text, ~F.text.startswith("/"))  # commands pass
async def region_typed(message: Message, screen: Screen, **deps: Any) -> None:
    assert message.text is not None
    tr = screen.tr
    catalog: Catalog = deps["catalog"]
    typed = message.text.strip()[:64]
    found = catalog.find_regions(typed)
    if len(found) == 1:
        region = found[0]
        await screen.send(tr("onboarding/found.j2", region=region.name(tr.locale)))
        await _region_chosen(screen, region, deps)
        return
    if not found or len(found) > FOUND_MAX:
        text = tr("onboarding/not_found.j2", typed=typed, many=bool(found))
        await screen.send(text, keyboard([*_districts(tr, catalog), back_row(tr)]))
        return
    rows = [[button(r.name(tr.locale), Place(action="r", value=r.code))] for r in found]
    await screen.send(tr("onboarding/several.j2", typed=typed), keyboard([*rows, _back(tr)]))


@router.callback_query(Place.filter(F.action == "r"))
async def region_pressed(
    query: CallbackQuery, callback_data: Place, screen: Screen, catalog: Catalog, **deps: Any
) -> None:
    region = catalog.region(callback_data.value)  # unknown: a stale button, nothing stored
    await _region_chosen(screen, region, {"catalog": catalog, **deps})


async def _region_chosen(screen: Screen, region: Region, deps: dict[str, Any]) -> None:
    """A region over several offsets asks which of its zones; any other is stored at once."""
    if not region.zones:
        await _store(screen, region.iana, region.code, deps)
        return
    tr = screen.tr
    clock: Clock = deps["clock"]
    now = clock.now()
    zones = [
        [
            button(
                f"{offset_label(z.iana, now)} {z.label(tr.locale)}",
                Place(action="z", value=region.code, n=i),
            )
        ]
        for i, z in enumerate(region.zones)
    ]
    text = tr("onboarding/region_zone.j2", region=region.name(tr.locale))
    await screen.show(text, keyboard([*zones, _back(tr)]))


@router.callback_query(Place.filter(F.action == "z"))
async def region_zone_chosen(
    query: CallbackQuery, callback_data: Place, screen: Screen, catalog: Catalog, **deps: Any
) -> None:
    region = catalog.region(callback_data.value)
    if callback_data.n >= len(region.zones):
        raise StaleButton
    zone = region.zones[callback_data.n]
    await _store(screen, zone.iana, region.code, {"catalog": catalog, **deps})


@router.callback_query(Place.filter(F.action == "none"))
async def zone_groups(query: CallbackQuery, screen: Screen, catalog: Catalog) -> None:
    tr = screen.tr
    await _typing(screen)
    zones = [button(z.label(tr.locale), Place(action="g", value=z.code)) for z in catalog.zones]
    await screen.show(tr("onboarding/zone.j2"), keyboard([*grid(zones, 2), _back(tr)]))


@router.callback_query(Place.filter(F.action == "g"))
async def zone_group_chosen(
    query: CallbackQuery, callback_data: Place, screen: Screen, catalog: Catalog, **deps: Any
) -> None:
    zone = catalog.zone(callback_data.value)
    await _store(screen, zone.iana, None, {"catalog": catalog, **deps})


async def _store(screen: Screen, iana: str, region: str | None, deps: dict[str, Any]) -> None:
    profiles: ProfileService = deps["profiles"]
    if screen.state is not None:
        await screen.state.set_state(None)
    await profiles.set_place(screen.user_id, iana, region)
    await journey.advance(screen, deps)
