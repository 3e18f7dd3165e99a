"""/mentor <id>: a coordinator lets an activist below stage 5 offer to mentor (stage 5–7 may
by themselves). The person is told, with a button to their offer."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.services.peers import PeerService
from bot.ui.keyboards import Menu, button, keyboard
from bot.ui.screen import Screen

router = Router(name=__name__)


@router.message(Command("mentor"))
async def mark(
    message: Message, command: CommandObject, screen: Screen, peers: PeerService, **deps: Any
) -> None:
    tr = screen.tr
    menu = keyboard([[button(tr._("☰ Menu"), Menu(section="home"))]])
    args = (command.args or "").strip()
    if not args.isdigit() or len(args) > 15:
        await screen.send(
            tr._("Send /mentor and the person’s Telegram id, e.g. /mentor 12345."), menu
        )
        return
    if not await peers.mark_mentor(screen.user_id, int(args)):
        await screen.send(tr._("No one with this id has started the bot and given consent."), menu)
        return
    await screen.send(tr._("✅ They can now offer to mentor; they have been told."), menu)
    deps["sender"].wake()
