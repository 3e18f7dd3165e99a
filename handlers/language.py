"""/language: Russian or English, stored per user; follows Telegram's language until chosen."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.keyboards import Lang, Menu, language_menu, main_menu
from bot.render import Renderer, Tr
from bot.services.users import UserService
from handlers.common import show

router = Router(name=__name__)


@router.message(Command("language"))
async def language_command(message: Message, tr: Tr) -> None:
    await message.answer(tr("language.j2"), reply_markup=language_menu(tr))


@router.callback_query(Menu.filter(F.section == "lang"))
async def language_screen(query: CallbackQuery, tr: Tr) -> None:
    await show(query, tr("language.j2"), language_menu(tr))


@router.callback_query(Lang.filter(F.code.in_({"ru", "en"})))
async def language_chosen(
    query: CallbackQuery, callback_data: Lang, users: UserService, renderer: Renderer
) -> None:
    await users.set_locale(query.from_user.id, callback_data.code)
    tr = renderer.bind(callback_data.code)
    await show(query, tr("language_set.j2"), main_menu(tr))
