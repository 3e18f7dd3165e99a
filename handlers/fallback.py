"""Last in the tree: anything no flow took. Text gets a hint and the menu; a button gets
"this menu is out of date" and a fresh menu, never silence."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message

from bot.keyboards import main_menu
from bot.render import Tr
from handlers.common import answer

router = Router(name=__name__)
ECHO_LIMIT = 200


@router.callback_query()
async def stale_button(query: CallbackQuery, tr: Tr) -> None:
    await query.answer(tr._("This menu is out of date — here is a fresh one."))
    if query.message is not None:
        await query.message.answer(tr("errors/stale.j2"), reply_markup=main_menu(tr))


@router.message()
async def unknown_message(message: Message, tr: Tr) -> None:
    text = message.text or ""
    if text.startswith("/"):
        reply = tr("unknown_command.j2", command=text.split()[0][:64])
    elif text:
        cut = text[:ECHO_LIMIT] + ("…" if len(text) > ECHO_LIMIT else "")
        reply = tr("unknown_text.j2", text=cut)
    else:
        reply = tr("unknown_media.j2")
    await answer(message, reply, main_menu(tr))
