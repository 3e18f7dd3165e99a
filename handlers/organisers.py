"""Coordinators allow activists with a project to publish volunteer opportunities (role
"organiser"): they then manage only their own (see handlers.guards.OwnOpportunities)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.services.coordination import ORGANISER, CoordinationService
from bot.ui.keyboards import TelegramId, button, keyboard
from bot.ui.screen import Screen
from handlers.coordinator import CoordinatorCb
from handlers.people import person_id

router = Router(name=__name__)


class OrganisersCb(CallbackData, prefix="og"):
    """Activists allowed to publish: list, add (ask for the id), del (user_id)."""

    action: str
    user_id: TelegramId = 0


class Allowing(StatesGroup):
    who = State()


def _name(first: str | None, user_id: int) -> str:
    return first or str(user_id)


async def show_organisers(screen: Screen, coordination: CoordinationService) -> None:
    tr = screen.tr
    people = await coordination.holders(ORGANISER)
    rows = [
        [
            button(
                tr._("✖ Remove {name}").format(name=_name(u.first_name, u.id)),
                OrganisersCb(action="del", user_id=u.id),
            )
        ]
        for u in people
    ]
    rows.append([button(tr._("➕ Allow an activist"), OrganisersCb(action="add"))])
    rows.append([button(tr._("« Coordinator menu"), CoordinatorCb(section="menu"))])
    names = [(_name(u.first_name, u.id), u.id) for u in people]
    await screen.show(tr("organisers/list.j2", people=names), keyboard(rows))


@router.callback_query(CoordinatorCb.filter(F.section == "organisers"))
@router.callback_query(OrganisersCb.filter(F.action == "list"))
async def organisers(
    query: CallbackQuery, screen: Screen, coordination: CoordinationService
) -> None:
    if screen.state is not None:
        await screen.state.set_state(None)
    await show_organisers(screen, coordination)


@router.callback_query(OrganisersCb.filter(F.action == "add"))
async def ask_who(query: CallbackQuery, screen: Screen) -> None:
    assert screen.state is not None
    await screen.state.set_state(Allowing.who)
    cancel = keyboard([[button(screen.tr._("« Cancel"), OrganisersCb(action="list"))]])
    await screen.show(screen.tr("admin/ask_who.j2"), cancel)


@router.message(Allowing.who)
async def who_given(message: Message, screen: Screen, coordination: CoordinationService) -> None:
    user_id = person_id(message)
    if user_id is None:
        cancel = keyboard([[button(screen.tr._("« Cancel"), OrganisersCb(action="list"))]])
        await screen.send(screen.tr("admin/who_hint.j2"), cancel)
        return
    allowed = await coordination.grant(screen.user_id, user_id, ORGANISER)
    assert screen.state is not None
    await screen.state.set_state(None)
    await screen.send(
        screen.tr("organisers/allowed.j2", name=_name(allowed.first_name, allowed.id))
    )
    await show_organisers(screen, coordination)


@router.callback_query(OrganisersCb.filter(F.action == "del"))
async def remove(
    query: CallbackQuery,
    callback_data: OrganisersCb,
    screen: Screen,
    coordination: CoordinationService,
) -> None:
    await coordination.revoke(screen.user_id, callback_data.user_id, ORGANISER)
    await show_organisers(screen, coordination)
