"""Public content from the seed, open to everyone (also before or without consent): the seven
stages of a social project and the support measures of each phase."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery

from bot.content import Catalog
from bot.domain.errors import StaleButton
from bot.ui.keyboards import Menu, PhaseCard, StageCard, back_row, button, keyboard
from bot.ui.screen import Screen

router = Router(name=__name__)


@router.callback_query(Menu.filter(F.section == "stages"))
async def stages(query: CallbackQuery, screen: Screen, catalog: Catalog) -> None:
    tr = screen.tr
    rows = [
        [button(f"{s.number}. {tr.loc(s.name)}", StageCard(number=s.number))]
        for s in catalog.stages
    ]
    text = tr("catalog/stages.j2", stages=catalog.stages)
    await screen.show(text, keyboard([*rows, back_row(tr)]))


@router.callback_query(StageCard.filter())
async def stage_card(
    query: CallbackQuery, callback_data: StageCard, screen: Screen, catalog: Catalog
) -> None:
    tr = screen.tr
    numbers = [s.number for s in catalog.stages]
    if callback_data.number not in numbers:
        raise StaleButton
    stage = catalog.stage_by_number(callback_data.number)
    nav = []
    if stage.number > numbers[0]:
        nav.append(button("◀", StageCard(number=stage.number - 1)))
    if stage.number < numbers[-1]:
        nav.append(button("▶", StageCard(number=stage.number + 1)))
    markup = keyboard([nav, back_row(tr, Menu(section="stages"))])
    phase = catalog.phase_of_stage(stage.number)
    await screen.show(tr("catalog/stage.j2", stage=stage, phase=phase), markup)


@router.callback_query(Menu.filter(F.section == "measures"))
async def measures(query: CallbackQuery, screen: Screen, catalog: Catalog) -> None:
    tr = screen.tr
    rows = [[button(tr.loc(p.name), PhaseCard(code=p.code))] for p in catalog.phases]
    rows.append([button(tr._("➕ Additional measures"), PhaseCard(code="additional"))])
    await screen.show(tr("catalog/measures.j2"), keyboard([*rows, back_row(tr)]))


@router.callback_query(PhaseCard.filter(F.code == "additional"))
async def additional(query: CallbackQuery, screen: Screen) -> None:
    tr = screen.tr
    markup = keyboard([back_row(tr, Menu(section="measures"))])
    await screen.show(tr("catalog/additional.j2"), markup)


@router.callback_query(PhaseCard.filter())
async def phase_card(
    query: CallbackQuery, callback_data: PhaseCard, screen: Screen, catalog: Catalog
) -> None:
    tr = screen.tr
    phase = next((p for p in catalog.phases if p.code == callback_data.code), None)
    if phase is None:
        raise StaleButton
    groups = [(t, catalog.measures_for(phase.code, t.code)) for t in catalog.measure_types]
    markup = keyboard([back_row(tr, Menu(section="measures"))])
    await screen.show(tr("catalog/phase.j2", phase=phase, groups=groups), markup)
