"""Admins (ADMIN_IDS): /coordinators to list, appoint (by a forwarded message or the id of a
user who has started the bot) and remove coordinators; /audit pages through the audit log,
newest first (‹ › between pages)."""

from __future__ import annotations

import contextlib

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, MessageOriginUser

from bot.config import Settings
from bot.delivery import Sender
from bot.services.coordination import CoordinationService, User
from bot.ui.keyboards import Menu, Small, TelegramId, button, keyboard, page_row
from bot.ui.screen import Screen
from handlers.people import person_id

router = Router(name=__name__)
AUDIT_PAGE = 20  # rows a page of /audit: short lines, well within one message


class CoordinatorsCb(CallbackData, prefix="co"):
    """Coordinators: list, add (ask for the id), del (remove user_id)."""

    action: str
    user_id: TelegramId = 0


class AuditCb(CallbackData, prefix="au"):
    """A page of the audit log, from 0 (newest)."""

    page: Small = 0


class Appointing(StatesGroup):
    who = State()


async def show_coordinators(screen: Screen, coordination: CoordinationService) -> None:
    tr = screen.tr
    people = await coordination.coordinators()
    rows = [
        [
            button(
                tr._("✖ Remove {name}").format(name=_name(u.first_name, u.username, u.id)),
                CoordinatorsCb(action="del", user_id=u.id),
            )
        ]
        for u in people
    ]
    rows.append([button(tr._("➕ Add a coordinator"), CoordinatorsCb(action="add"))])
    rows.append([button(tr._("☰ Menu"), Menu(section="home"))])
    text = tr(
        "admin/coordinators.j2",
        people=[(_name(u.first_name, u.username, u.id), u.id) for u in people],
    )
    await screen.show(text, keyboard(rows))


def _name(first: str | None, username: str | None, user_id: int) -> str:
    return first or (f"@{username}" if username else str(user_id))


@router.message(Command("coordinators"))
@router.callback_query(CoordinatorsCb.filter(F.action == "list"))
async def coordinators(
    event: Message | CallbackQuery, screen: Screen, coordination: CoordinationService
) -> None:
    if screen.state is not None:
        await screen.state.set_state(None)
    await show_coordinators(screen, coordination)


@router.callback_query(CoordinatorsCb.filter(F.action == "add"))
async def ask_who(query: CallbackQuery, screen: Screen) -> None:
    assert screen.state is not None
    await screen.state.set_state(Appointing.who)
    cancel = keyboard([[button(screen.tr._("« Cancel"), CoordinatorsCb(action="list"))]])
    await screen.show(screen.tr("admin/ask_who.j2"), cancel)


async def _known_name(bot: Bot, message: Message, user: User) -> str:
    """The person's name as the bot knows it: stored at consent, else the forwarded message's,
    else what Telegram tells about a chat that started the bot; the id when nothing does."""
    if user.first_name or user.username:
        return _name(user.first_name, user.username, user.id)
    if isinstance(message.forward_origin, MessageOriginUser):
        sender = message.forward_origin.sender_user
        return _name(sender.first_name, sender.username, sender.id)
    with contextlib.suppress(TelegramAPIError):
        chat = await bot.get_chat(user.id)
        return _name(chat.first_name, chat.username, user.id)
    return str(user.id)


@router.message(Appointing.who)
async def who_given(
    message: Message,
    screen: Screen,
    bot: Bot,
    sender: Sender,
    coordination: CoordinationService,
) -> None:
    user_id = person_id(message)
    if user_id is None:
        cancel = keyboard([[button(screen.tr._("« Cancel"), CoordinatorsCb(action="list"))]])
        await screen.send(screen.tr("admin/who_hint.j2"), cancel)
        return
    appointed = await coordination.appoint(screen.user_id, user_id)  # UserError: ask again
    sender.wake()  # they are told, with what they can now do
    assert screen.state is not None
    await screen.state.set_state(None)
    name = await _known_name(bot, message, appointed)
    await screen.send(screen.tr("admin/appointed.j2", name=name, user_id=appointed.id))
    await show_coordinators(screen, coordination)


@router.callback_query(CoordinatorsCb.filter(F.action == "del"))
async def remove(
    query: CallbackQuery,
    callback_data: CoordinatorsCb,
    screen: Screen,
    coordination: CoordinationService,
) -> None:
    await coordination.remove(screen.user_id, callback_data.user_id)
    await show_coordinators(screen, coordination)


@router.message(Command("audit"))
@router.callback_query(AuditCb.filter())
async def audit(
    event: Message | CallbackQuery,
    screen: Screen,
    coordination: CoordinationService,
    settings: Settings,
) -> None:
    wanted = AuditCb.unpack(event.data or "").page if isinstance(event, CallbackQuery) else 0
    entries, at = await coordination.log(wanted, AUDIT_PAGE)
    text = screen.tr(
        "admin/audit.j2",
        entries=entries,
        page=at.number + 1,
        pages=at.pages,
        tz=screen.zone(settings.default_timezone),
    )
    await screen.show(text, keyboard([page_row(at, lambda n: AuditCb(page=n), "‹", "›")]))
