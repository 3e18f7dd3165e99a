"""/start, /help, /menu and the main menu's static screens."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.keyboards import Menu, back_row, keyboard, main_menu
from bot.render import Tr
from bot.services.users import UserService
from handlers.common import show

router = Router(name=__name__)


@router.message(CommandStart())
async def start(
    message: Message, command: CommandObject, tr: Tr, users: UserService, state: FSMContext
) -> None:
    assert message.from_user is not None
    await users.started(message.from_user.id)
    await state.clear()
    await message.answer(tr("start.j2"), reply_markup=main_menu(tr))


@router.message(Command("menu"))
async def menu_command(message: Message, tr: Tr) -> None:
    await message.answer(tr("menu.j2"), reply_markup=main_menu(tr))


@router.message(Command("help"))
async def help_command(message: Message, tr: Tr) -> None:
    await message.answer(tr("help.j2"), reply_markup=keyboard([back_row(tr)]))


@router.callback_query(Menu.filter(F.section == "home"))
async def home(query: CallbackQuery, tr: Tr) -> None:
    await show(query, tr("menu.j2"), main_menu(tr))


@router.callback_query(Menu.filter(F.section.in_({"help", "about"})))
async def static_page(query: CallbackQuery, callback_data: Menu, tr: Tr) -> None:
    await show(query, tr(f"{callback_data.section}.j2"), keyboard([back_row(tr)]))
