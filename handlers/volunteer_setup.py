"""The volunteer's own path in: consent for what a volunteer shares, then the topics they care
about, their skills, when they are free, how far they travel (and, in a large region, their
town) — and the opportunities that fit, or the offer to be told when one appears.

The steps are journey steps (`handlers.journey`); the buttons are stateless (`SetupCb`), the
two typed answers (skills, town) an FSM state each. Everything here runs under the consent
guard; the consent screen itself and its "I agree" live in `handlers.basics`, outside it.
"""

from __future__ import annotations

import re
from typing import Any, Final
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message

from bot.config import Settings
from bot.content import Catalog
from bot.services.profile import ProfileService
from bot.services.volunteering import SKILLS_LIMIT, VolunteerService
from bot.ui.keyboards import (
    Consent,
    Menu,
    SetupCb,
    VolunteerCb,
    availability_toggles,
    button,
    grid,
    keyboard,
)
from bot.ui.screen import Screen
from handlers import journey

router = Router(name=__name__)

# Regions that are one city: no town to ask for.
FEDERAL_CITIES: Final = frozenset({"mow", "spe", "sev"})


class Typing(StatesGroup):
    skills = State()
    city = State()


def _next(tr: Any, action: str) -> list[InlineKeyboardButton]:
    return [button(tr._("Next ▶"), SetupCb(action=action))]


# --- consent -------------------------------------------------------------------------------


@journey.step("volunteer_consent")
async def consent_screen(screen: Screen, deps: dict[str, Any]) -> None:
    """What a volunteer shares, with its own "I agree" (handlers.basics)."""
    tr = screen.tr
    markup = keyboard(
        [
            [button(tr._("✅ I agree"), Consent(action="vol"))],
            [button(tr._("📄 Full privacy policy"), Consent(action="policy"))],
            [button(tr._("✖ I don't agree"), Consent(action="no"))],
        ]
    )
    await screen.show(tr("consent/volunteer.j2"), markup)


@journey.step("volunteer_path")
async def volunteer_path(screen: Screen, deps: dict[str, Any]) -> None:
    """Someone who consented already and now wants to help (an activist, say): the setup if
    not done yet, else the opportunities that fit."""
    volunteering: VolunteerService = deps["volunteering"]
    if (await volunteering.volunteer_profile(screen.user_id)).reach is None:
        await journey.start_step("volunteer_setup", screen, deps)
    else:
        await journey.start_step("volunteer", screen, deps)


# --- 1. topics -----------------------------------------------------------------------------


@journey.step("volunteer_setup")
async def topics_screen(screen: Screen, deps: dict[str, Any]) -> None:
    tr = screen.tr
    catalog: Catalog = deps["catalog"]
    profiles: ProfileService = deps["profiles"]
    mine = await profiles.codes(screen.user_id, "topics")
    toggles = [
        button(
            ("✅ " if t.code in mine else "▫️ ") + t.short.get(tr.locale),
            SetupCb(action="tp", value=t.code),
        )
        for t in catalog.topics
    ]
    await screen.show(
        tr("volunteer/setup/topics.j2"), keyboard([*grid(toggles, 2), _next(tr, "skills")])
    )


@router.callback_query(SetupCb.filter(F.action == "topics"))
async def topics(query: CallbackQuery, screen: Screen, **deps: Any) -> None:
    await topics_screen(screen, deps)


@router.callback_query(SetupCb.filter(F.action == "tp"))
async def toggle_topic(
    query: CallbackQuery,
    callback_data: SetupCb,
    screen: Screen,
    profiles: ProfileService,
    catalog: Catalog,
    **deps: Any,
) -> None:
    topic = catalog.topic(callback_data.value).code  # an unknown code is a stale button
    mine = await profiles.codes(screen.user_id, "topics")
    await profiles.set_codes(screen.user_id, "topics", mine ^ {topic})
    await topics_screen(screen, {"profiles": profiles, "catalog": catalog, **deps})


# --- 2. skills -----------------------------------------------------------------------------


@router.callback_query(SetupCb.filter(F.action == "skills"))
async def skills_ask(query: CallbackQuery, screen: Screen) -> None:
    assert screen.state is not None
    await screen.state.set_state(Typing.skills)
    tr = screen.tr
    markup = keyboard([[button(tr._("Skip ▶"), SetupCb(action="time"))]])
    await screen.show(tr("volunteer/setup/skills.j2", limit=SKILLS_LIMIT), markup)


@router.message(Typing.skills, F.text)
async def skills_typed(message: Message, screen: Screen, volunteering: VolunteerService) -> None:
    assert message.text is not None
    parts = [p for p in re.split(r"[,;\n]+", message.text) if p.strip()]
    await volunteering.save_volunteer_profile(screen.user_id, skills=parts)
    await time_screen(screen, volunteering)


# --- 3. time -------------------------------------------------------------------------------


async def time_screen(screen: Screen, volunteering: VolunteerService) -> None:
    if screen.state is not None:
        await screen.state.set_state(None)
    tr = screen.tr
    profile = await volunteering.volunteer_profile(screen.user_id)
    toggles = [
        [toggle]
        for toggle in availability_toggles(
            tr, profile.availability, lambda code: SetupCb(action="av", value=code)
        )
    ]
    await screen.show(tr("volunteer/setup/time.j2"), keyboard([*toggles, _next(tr, "reach")]))


@router.callback_query(SetupCb.filter(F.action == "time"))
async def time(query: CallbackQuery, screen: Screen, volunteering: VolunteerService) -> None:
    await time_screen(screen, volunteering)


@router.callback_query(SetupCb.filter(F.action == "av"))
async def toggle_time(
    query: CallbackQuery, callback_data: SetupCb, screen: Screen, volunteering: VolunteerService
) -> None:
    await volunteering.toggle_availability(screen.user_id, callback_data.value)
    await time_screen(screen, volunteering)


# --- 4. reach (and the town) ---------------------------------------------------------------


@router.callback_query(SetupCb.filter(F.action == "reach"))
async def reach(query: CallbackQuery, screen: Screen) -> None:
    tr = screen.tr
    rows = [
        [button(tr._("💻 Only online"), SetupCb(action="go", value="online"))],
        [button(tr._("🏠 Within my town"), SetupCb(action="go", value="town"))],
        [button(tr._("🚌 Anywhere in my region"), SetupCb(action="go", value="region"))],
        [button(tr._("🚆 Other regions too"), SetupCb(action="go", value="far"))],
    ]
    await screen.show(tr("volunteer/setup/reach.j2"), keyboard(rows))


@router.callback_query(SetupCb.filter(F.action == "go"))
async def reach_chosen(
    query: CallbackQuery,
    callback_data: SetupCb,
    screen: Screen,
    volunteering: VolunteerService,
    catalog: Catalog,
    **deps: Any,
) -> None:
    await volunteering.save_volunteer_profile(screen.user_id, reach=callback_data.value)
    region_code = screen.user.region if screen.user else None
    if callback_data.value == "town" and region_code and region_code not in FEDERAL_CITIES:
        assert screen.state is not None
        await screen.state.set_state(Typing.city)
        tr = screen.tr
        markup = keyboard([[button(tr._("Skip ▶"), SetupCb(action="done"))]])
        region = catalog.region(region_code)
        await screen.show(tr("volunteer/setup/city.j2", region=region), markup)
        return
    await found_screen(screen, {"volunteering": volunteering, "catalog": catalog, **deps})


@router.message(Typing.city, F.text)
async def city_typed(
    message: Message, screen: Screen, volunteering: VolunteerService, **deps: Any
) -> None:
    assert message.text is not None
    await volunteering.save_volunteer_profile(screen.user_id, city=message.text)
    await found_screen(screen, {"volunteering": volunteering, **deps})


# --- the opportunities that fit ------------------------------------------------------------


@journey.step("volunteer")
async def found_screen(screen: Screen, deps: dict[str, Any]) -> None:
    """The end of the setup (and of the volunteer's journey): what fits now, or the offer to
    be told the moment something does."""
    if screen.state is not None:
        await screen.state.set_state(None)
    tr = screen.tr
    volunteering: VolunteerService = deps["volunteering"]
    settings: Settings = deps["settings"]
    items = await volunteering.fitting(screen.user_id)
    profile = await volunteering.volunteer_profile(screen.user_id)
    tz = screen.zone(settings.default_timezone)
    rows: list[list[InlineKeyboardButton]] = [
        [
            button(
                f"{item.opportunity.starts_at.astimezone(ZoneInfo(tz)):%d.%m %H:%M} · "
                f"{item.opportunity.title[:40]}",
                VolunteerCb(action="card", id=item.opportunity.id),
            )
        ]
        for item in items
    ]
    if not items and not profile.notify_new:
        rows.append([button(tr._("🔔 Yes, tell me"), SetupCb(action="notify"))])
    rows.append([button(tr._("🙋 All opportunities"), VolunteerCb(action="menu"))])
    rows.append([button(tr._("☰ Menu"), Menu(section="home"))])
    text = tr("volunteer/setup/found.j2", items=items, notify=profile.notify_new)
    await screen.show(text, keyboard(rows))


@router.callback_query(SetupCb.filter(F.action == "done"))
async def done(query: CallbackQuery, screen: Screen, **deps: Any) -> None:
    await found_screen(screen, deps)


@router.callback_query(SetupCb.filter(F.action == "notify"))
async def notify(
    query: CallbackQuery, screen: Screen, volunteering: VolunteerService, **deps: Any
) -> None:
    await volunteering.save_volunteer_profile(screen.user_id, notify_new=True)
    await found_screen(screen, {"volunteering": volunteering, **deps})
