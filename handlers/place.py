"""Where the user is: the region first — typed (part of its name, a town, «спб») or picked by
federal district — and the time zone follows from it; asked only in a region over several
offsets (Yakutia). Someone who gives no region picks a UTC-offset group instead. The journey's
"place" step, and /profile's "🕐 Region".

The same screens, as a second `PlaceFlow` with its own prefix and typing state, choose the
region a coordinator serves (handlers/coordinator.py); each flow says what choosing stores.

What is stored is the same as ever: the region's code (or none) and an IANA zone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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

FOUND_MAX: Final = 8  # typed: at most this many matches become buttons
DISTRICT_PAGE: Final = 12  # regions of a district on one page (the Central one has 18)

# what choosing does: (screen, IANA zone, region code or None, the handler's dependencies)
Chosen = Callable[[Screen, str, str | None, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class PlaceFlow:
    """One use of the region-first screens."""

    cb: type[Place]  # the buttons' factory: Place, or a subclass with its own prefix
    typing: State  # text typed on these screens searches the regions
    home_template: str  # the first screen's text
    back: Callable[[Tr], list[InlineKeyboardButton]]  # the first screen's way back
    chosen: Chosen  # a region (and zone) or, with `no_region`, a zone group was chosen
    found_template: str | None = None  # a typed name that matched one region: said first
    no_region: bool = False  # «Rather not say» → the UTC-offset groups

    def _districts(self, tr: Tr, catalog: Catalog) -> list[list[InlineKeyboardButton]]:
        """The eight districts, then (`no_region`) the way out for someone who gives none."""
        districts = [
            button(d.name(tr.locale), self.cb(action="d", value=d.code)) for d in catalog.districts
        ]
        rows = grid(districts, 2)
        if self.no_region:
            rows.append([button(tr._("🌐 Rather not say"), self.cb(action="none"))])
        return rows

    def _back(self, tr: Tr) -> list[InlineKeyboardButton]:
        return back_row(tr, self.cb(action="home"))

    async def _typing(self, screen: Screen) -> None:
        if screen.state is not None:
            await screen.state.set_state(self.typing)

    async def home(self, screen: Screen, deps: dict[str, Any]) -> None:
        """Type a name, or choose a federal district."""
        tr = screen.tr
        await self._typing(screen)
        markup = keyboard([*self._districts(tr, deps["catalog"]), self.back(tr)])
        await screen.show(tr(self.home_template), markup)

    async def district(self, screen: Screen, code: str, page: int, catalog: Catalog) -> None:
        tr = screen.tr
        district = catalog.district(code)  # unknown: a stale button
        await self._typing(screen)
        regions = catalog.regions_of_district(district.code)
        at = paged(len(regions), page, DISTRICT_PAGE)
        shown = [
            button(r.name(tr.locale), self.cb(action="r", value=r.code)) for r in regions[at.slice]
        ]
        rows = [
            *grid(shown, 2),
            page_row(at, lambda n: self.cb(action="d", value=district.code, n=n)),
            self._back(tr),
        ]
        text = tr("onboarding/district.j2", district=district.name(tr.locale))
        await screen.show(text, keyboard(rows))

    async def typed(self, screen: Screen, text: str, deps: dict[str, Any]) -> None:
        tr = screen.tr
        catalog: Catalog = deps["catalog"]
        typed = text.strip()[:64]
        found = catalog.find_regions(typed)
        if len(found) == 1:
            region = found[0]
            if self.found_template is not None:
                await screen.send(tr(self.found_template, region=region.name(tr.locale)))
            await self.region(screen, region, deps)
            return
        if not found or len(found) > FOUND_MAX:
            reply = tr("onboarding/not_found.j2", typed=typed, many=bool(found))
            await screen.send(reply, keyboard([*self._districts(tr, catalog), self.back(tr)]))
            return
        rows = [[button(r.name(tr.locale), self.cb(action="r", value=r.code))] for r in found]
        reply = tr("onboarding/several.j2", typed=typed)
        await screen.send(reply, keyboard([*rows, self._back(tr)]))

    async def region(self, screen: Screen, region: Region, deps: dict[str, Any]) -> None:
        """A region over several offsets asks which of its zones; any other is stored at once."""
        if not region.zones:
            await self._store(screen, region.iana, region.code, deps)
            return
        tr = screen.tr
        clock: Clock = deps["clock"]
        now = clock.now()
        zones = [
            [
                button(
                    f"{offset_label(z.iana, now)} {z.label(tr.locale)}",
                    self.cb(action="z", value=region.code, n=i),
                )
            ]
            for i, z in enumerate(region.zones)
        ]
        text = tr("onboarding/region_zone.j2", region=region.name(tr.locale))
        await screen.show(text, keyboard([*zones, self._back(tr)]))

    async def zone_groups(self, screen: Screen, catalog: Catalog) -> None:
        tr = screen.tr
        await self._typing(screen)
        zones = [
            button(z.label(tr.locale), self.cb(action="g", value=z.code)) for z in catalog.zones
        ]
        await screen.show(tr("onboarding/zone.j2"), keyboard([*grid(zones, 2), self._back(tr)]))

    async def _store(
        self, screen: Screen, iana: str, region: str | None, deps: dict[str, Any]
    ) -> None:
        if screen.state is not None:
            await screen.state.set_state(None)
        await self.chosen(screen, iana, region, deps)

    def router(self, name: str) -> Router:
        """The flow's handlers: its buttons, and text typed in its state."""
        router = Router(name=name)
        cb = self.cb

        @router.callback_query(cb.filter(F.action == "home"))
        async def back_home(query: CallbackQuery, screen: Screen, **deps: Any) -> None:
            await self.home(screen, deps)

        @router.callback_query(cb.filter(F.action == "d"))
        async def district_pressed(
            query: CallbackQuery, callback_data: Place, screen: Screen, catalog: Catalog
        ) -> None:
            await self.district(screen, callback_data.value, callback_data.n, catalog)

        @router.message(self.typing, F.text, ~F.text.startswith("/"))  # commands pass
        async def region_typed(message: Message, screen: Screen, **deps: Any) -> None:
            assert message.text is not None
            await self.typed(screen, message.text, deps)

        @router.callback_query(cb.filter(F.action == "r"))
        async def region_pressed(
            query: CallbackQuery, callback_data: Place, screen: Screen, **deps: Any
        ) -> None:
            catalog: Catalog = deps["catalog"]
            region = catalog.region(callback_data.value)  # unknown: stale, nothing stored
            await self.region(screen, region, deps)

        @router.callback_query(cb.filter(F.action == "z"))
        async def region_zone_chosen(
            query: CallbackQuery, callback_data: Place, screen: Screen, **deps: Any
        ) -> None:
            catalog: Catalog = deps["catalog"]
            region = catalog.region(callback_data.value)
            if callback_data.n >= len(region.zones):
                raise StaleButton
            await self._store(screen, region.zones[callback_data.n].iana, region.code, deps)

        if self.no_region:

            @router.callback_query(cb.filter(F.action == "none"))
            async def zone_groups(query: CallbackQuery, screen: Screen, catalog: Catalog) -> None:
                await self.zone_groups(screen, catalog)

            @router.callback_query(cb.filter(F.action == "g"))
            async def zone_group_chosen(
                query: CallbackQuery, callback_data: Place, screen: Screen, **deps: Any
            ) -> None:
                catalog: Catalog = deps["catalog"]
                zone = catalog.zone(callback_data.value)
                await self._store(screen, zone.iana, None, deps)

        return router


class PlaceTyping(StatesGroup):
    region = State()  # text typed on the place screens searches the regions


async def _set_place(screen: Screen, iana: str, region: str | None, deps: dict[str, Any]) -> None:
    profiles: ProfileService = deps["profiles"]
    await profiles.set_place(screen.user_id, iana, region)
    await journey.advance(screen, deps)


PLACE = PlaceFlow(
    cb=Place,
    typing=PlaceTyping.region,
    home_template="onboarding/place.j2",
    back=back_row,
    chosen=_set_place,
    found_template="onboarding/found.j2",
    no_region=True,
)
router = PLACE.router(__name__)


@journey.step("place")
async def place_screen(screen: Screen, deps: dict[str, Any]) -> None:
    await PLACE.home(screen, deps)


@router.callback_query(Menu.filter(F.section == "place"))
async def back_to_place(query: CallbackQuery, screen: Screen, **deps: Any) -> None:
    await place_screen(screen, deps)
