"""/language: Russian or English, stored per user; follows Telegram's language until chosen."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.services.users import UserService
from bot.ui.keyboards import Lang, Menu, language_menu, main_menu
from bot.ui.render import Renderer
from bot.ui.screen import Screen

router = Router(name=__name__)


@router.message(Command("language"))
@router.callback_query(Menu.filter(F.section == "lang"))
async def language_screen(event: Message | CallbackQuery, screen: Screen) -> None:
    await screen.show(screen.tr("language.j2"), language_menu(screen.tr))


@router.callback_query(Lang.filter(F.code.in_({"ru", "en"})))
async def language_chosen(
    query: CallbackQuery,
    callback_data: Lang,
    screen: Screen,
    users: UserService,
    renderer: Renderer,
) -> None:
    await users.set_locale(screen.user_id, callback_data.code)
    screen.tr = tr = renderer.bind(callback_data.code)
    await screen.show(tr("language_set.j2"), main_menu(tr, screen.user))
