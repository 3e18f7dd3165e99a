"""Matched support measures: ranked by the pure domain, each with why it was picked; browse by
type with pagination, open a card, go back."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.types import CallbackQuery, InlineKeyboardButton

from bot.content import Catalog
from bot.domain.errors import StaleButton
from bot.domain.paging import paged
from bot.services.measures import MeasureService
from bot.services.peers import MentorCb
from bot.services.profile import ProfileService
from bot.ui.desk import DeskCb
from bot.ui.keyboards import DiagnosisCb, MeasureCb, MeasuresCb, button, keyboard, page_row
from bot.ui.screen import Screen
from handlers import journey

router = Router(name=__name__)
PAGE = 5
MENTORING = "mentoring"  # the catalog's «Менторство, наставничество»
DESK_MEASURES = frozenset({"expert_consultations"})  # answered by the consultation desk


async def _profile(screen: Screen, deps: dict[str, Any]) -> Any:
    profiles: ProfileService = deps["profiles"]
    profile = (await profiles.load(screen.user_id)).for_matching()
    if profile is None:  # no stage yet: the quiz comes first
        await journey.start_step("quiz", screen, deps)
    return profile


async def show_list(screen: Screen, deps: dict[str, Any], type_code: str, page: int) -> None:
    catalog: Catalog = deps["catalog"]
    service: MeasureService = deps["measures"]
    if type_code != "all" and type_code not in {t.code for t in catalog.measure_types}:
        raise StaleButton
    profile = await _profile(screen, deps)
    if profile is None:
        return
    matched = await service.matched(profile)
    counts = {t.code: len(matched.of_type(t.code)) for t in catalog.measure_types}
    matches = matched.of_type(None if type_code == "all" else type_code)
    at = paged(len(matches), page, PAGE)
    shown = matches[at.slice]
    tr = screen.tr
    names = {m.candidate.code: matched.name(m.candidate.code, tr.locale) for m in shown}
    # Two measures of one name (the seed has «Конкурсы» as information and as personnel
    # support): each says its type.
    every = [matched.name(m.candidate.code, tr.locale) for m in matches]
    twice = {n for n in every if every.count(n) > 1}
    for m in shown:
        code = m.candidate.code
        if names[code] in twice and m.candidate.types:
            kind = tr.loc(catalog.measure_type(m.candidate.types[0]).name)
            names[code] = f"{names[code]} · {kind.lower()}"
    rows: list[list[InlineKeyboardButton]] = [
        [
            button(
                f"{at.offset + i}. {names[m.candidate.code]}"[:60],
                MeasureCb(code=m.candidate.code, kind=type_code, page=at.number),
            )
        ]
        for i, m in enumerate(shown, start=1)
    ]
    rows.append(page_row(at, lambda n: MeasuresCb(kind=type_code, page=n)))
    tabs = [button(("• " if type_code == "all" else "") + tr._("All"), MeasuresCb(kind="all"))]
    tabs += [
        button(
            ("• " if type_code == t.code else "") + f"{tr.loc(t.name)} ({counts[t.code]})",
            MeasuresCb(kind=t.code),
        )
        for t in catalog.measure_types
    ]
    rows += [tabs[i : i + 2] for i in range(0, len(tabs), 2)]
    rows.append([button(tr._("« Diagnosis"), DiagnosisCb(screen="card"))])
    text = tr(
        "measures/list.j2",
        phase=catalog.phase(profile.phase),
        type=None if type_code == "all" else catalog.measure_type(type_code),
        matches=shown,
        names=names,
        first=at.offset + 1,
        page=at.number + 1,
        pages=at.pages,
        total=len(matches),
    )
    await screen.show(text, keyboard(rows))


@journey.step("measures")
async def start_measures(screen: Screen, deps: dict[str, Any]) -> None:
    await show_list(screen, deps, "all", 0)


@router.callback_query(MeasuresCb.filter())
async def list_pressed(
    query: CallbackQuery, callback_data: MeasuresCb, screen: Screen, **deps: Any
) -> None:
    await show_list(screen, deps, callback_data.kind, callback_data.page)


@router.callback_query(MeasureCb.filter())
async def card_pressed(
    query: CallbackQuery, callback_data: MeasureCb, screen: Screen, **deps: Any
) -> None:
    service: MeasureService = deps["measures"]
    profile = await _profile(screen, deps)
    if profile is None:
        return
    card = await service.card(profile, callback_data.code)
    if card is None:
        raise StaleButton
    tr = screen.tr
    catalog: Catalog = deps["catalog"]
    rows = []
    if card.local is not None and card.local.link:
        rows.append([InlineKeyboardButton(text=tr._("🔗 Open the link"), url=card.local.link)])
    kind, page = callback_data.kind, callback_data.page
    for offer in card.locals:  # the region's own offers first, as on the card
        rows.append(
            [button(f"📍 {offer.title}"[:60], MeasureCb(code=offer.code, kind=kind, page=page))]
        )
    measure = card.matrix or card.additional
    for way in measure.ways if measure is not None else ():
        if way.link:  # the button says where it leads: «🔗 мойбизнес.рф»
            rows.append([InlineKeyboardButton(text=f"🔗 {way.site}", url=way.link)])
    if callback_data.code == MENTORING:  # a real way to get it: mentors inside the bot
        rows.append([button(tr._("🧑‍🏫 Find a mentor"), MentorCb(action="list"))])
    if callback_data.code in DESK_MEASURES:  # the measure is a question to the coordinators
        rows.append([button(tr._("💬 Ask the coordinators"), DeskCb(action="ask"))])
    rows.append(
        [
            button(
                tr._("« Back to the list"),
                MeasuresCb(kind=kind, page=page),
            )
        ]
    )
    text = tr("measures/card.j2", card=card, catalog=catalog)
    await screen.show(text, keyboard(rows))
