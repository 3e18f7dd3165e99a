"""Last in the tree: anything no flow took. Text gets a hint and the menu — or, where the screen
waits for a press (the quiz's question), that screen again; a button gets "this menu is out of
date" and a fresh menu, never silence."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.ui.keyboards import main_menu
from bot.ui.screen import Screen
from handlers import journey

router = Router(name=__name__)
ECHO_LIMIT = 200


@router.callback_query()
async def stale_button(
    query: CallbackQuery, screen: Screen, callback_answer: CallbackAnswer
) -> None:
    callback_answer.text = screen.tr._("This menu is out of date — here is a fresh one.")
    await screen.send(screen.tr("errors/stale.j2"), main_menu(screen.tr, screen.user))


@router.message()
async def unknown_message(
    message: Message, screen: Screen, raw_state: str | None = None, **deps: Any
) -> None:
    tr = screen.tr
    text = message.text or ""
    if not text.startswith("/") and await journey.show_again(raw_state, screen, deps):
        return
    if text.startswith("/"):
        reply = tr("unknown_command.j2", command=text.split()[0][:64])
    elif text:
        cut = text[:ECHO_LIMIT] + ("…" if len(text) > ECHO_LIMIT else "")
        reply = tr("unknown_text.j2", text=cut)
    else:
        reply = tr("unknown_media.j2")
    await screen.send(reply, main_menu(tr, screen.user))
