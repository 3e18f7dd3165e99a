"""/working_group <group id>: a coordinator starts a working group for a topic of their
region — the bot makes an invite link to the group (createChatInviteLink: it must be an
administrator there) and tells the matching activists who show their project."""

from __future__ import annotations

from typing import Annotated, Any

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message
from pydantic import Field

from bot.content import Catalog
from bot.domain.errors import StaleButton
from bot.services.peers import PeerService
from bot.ui.keyboards import Menu, button, keyboard
from bot.ui.screen import Screen
from handlers.coordinator import CoordinatorCb

router = Router(name=__name__)

GroupId = Annotated[int, Field(ge=-(10**13), le=-1)]  # groups and supergroups: negative ids


class WorkingCb(CallbackData, prefix="wg"):
    """The working group's topic for the group `chat`."""

    chat: GroupId
    topic: str


@router.message(Command("working_group"))
async def start(
    message: Message, command: CommandObject, screen: Screen, catalog: Catalog, **deps: Any
) -> None:
    tr = screen.tr
    menu = [button(tr._("☰ Menu"), Menu(section="home"))]
    args = (command.args or "").strip()
    if not args.startswith("-") or not args[1:].isdigit() or len(args) > 14:
        await screen.send(tr("peers/working_group.j2", step="usage", told=0), keyboard([menu]))
        return
    chat = int(args)
    topics = [button(tr.loc(t.short), WorkingCb(chat=chat, topic=t.code)) for t in catalog.topics]
    rows = [topics[i : i + 2] for i in range(0, len(topics), 2)]
    await screen.send(tr("peers/working_group.j2", step="topic", told=0), keyboard([*rows, menu]))


@router.callback_query(WorkingCb.filter())
async def topic_chosen(
    query: CallbackQuery,
    callback_data: WorkingCb,
    screen: Screen,
    catalog: Catalog,
    peers: PeerService,
    **deps: Any,
) -> None:
    tr = screen.tr
    if callback_data.topic not in {t.code for t in catalog.topics}:
        raise StaleButton
    menu = keyboard([[button(tr._("☰ Menu"), Menu(section="home"))]])
    # no region served yet: the way to choose it (then /working_group again)
    serve = keyboard(
        [
            [button(tr._("📍 My region"), CoordinatorCb(section="region"))],
            [button(tr._("☰ Menu"), Menu(section="home"))],
        ]
    )
    if screen.user is None or screen.user.region is None:
        await screen.show(tr("peers/working_group.j2", step="region", told=0), serve)
        return
    name = tr.loc(catalog.topic(callback_data.topic).short)
    try:
        link = await screen.bot.create_chat_invite_link(callback_data.chat, name=name[:32])
    except (TelegramBadRequest, TelegramForbiddenError):
        await screen.show(tr("peers/working_group.j2", step="rights", told=0), menu)
        return
    told = await peers.announce_working_group(
        screen.user_id, callback_data.chat, callback_data.topic, link.invite_link
    )
    if told is None:
        await screen.show(tr("peers/working_group.j2", step="region", told=0), serve)
        return
    await screen.show(tr("peers/working_group.j2", step="done", told=told), menu)
    deps["sender"].wake()
