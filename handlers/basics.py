"""/start, /help, /menu and the main menu's static screens."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, Message

from bot.keyboards import Menu, back_row, keyboard, main_menu
from bot.screen import Screen
from bot.services.users import UserService

router = Router(name=__name__)


@router.message(CommandStart())
async def start(message: Message, screen: Screen, users: UserService) -> None:
    await users.started(screen.user_id)
    if screen.state is not None:
        await screen.state.clear()
    await screen.send(screen.tr("start.j2"), main_menu(screen.tr, screen.user, screen.roles))


@router.message(Command("menu"))
@router.callback_query(Menu.filter(F.section == "home"))
async def menu(event: Message | CallbackQuery, screen: Screen) -> None:
    await screen.show(screen.tr("menu.j2"), main_menu(screen.tr, screen.user, screen.roles))


@router.message(Command("help"))
@router.callback_query(Menu.filter(F.section == "help"))
async def help_screen(event: Message | CallbackQuery, screen: Screen) -> None:
    await screen.show(screen.tr("help.j2"), keyboard([back_row(screen.tr)]))


@router.callback_query(Menu.filter(F.section == "about"))
async def about(query: CallbackQuery, screen: Screen) -> None:
    await screen.show(screen.tr("about.j2"), keyboard([back_row(screen.tr)]))
