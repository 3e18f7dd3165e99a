"""/start, /help, /menu and the main menu's static screens."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.services.profile import ProfileService
from bot.services.users import UserService
from bot.ui.keyboards import Consent, Menu, back_row, keyboard, main_menu
from bot.ui.screen import Screen
from handlers import journey

router = Router(name=__name__)
OPPORTUNITY_LINK = r"^opp_(\d{1,9})$"  # t.me/<bot>?start=opp_<id>, shared by organisers


@router.message(CommandStart(deep_link=True, magic=F.args.regexp(OPPORTUNITY_LINK)))
async def start_opportunity(
    message: Message, command: CommandObject, screen: Screen, users: UserService, **deps: Any
) -> None:
    """A shared opportunity: its card, or first the consent screen for someone who has not
    consented (both the "opportunity" journey step, see handlers.volunteer)."""
    await users.started(screen.user_id)
    if screen.state is not None:
        await screen.state.clear()
    step_deps = {**deps, "opportunity_id": str(command.args)[4:]}
    await journey.start_step("opportunity", screen, step_deps)


@router.callback_query(Consent.filter(F.action.regexp(OPPORTUNITY_LINK)))
async def agreed_for_opportunity(
    query: CallbackQuery,
    callback_data: Consent,
    screen: Screen,
    profiles: ProfileService,
    users: UserService,
    callback_answer: CallbackAnswer,
    **deps: Any,
) -> None:
    """ "I agree" on a shared link's consent screen (the id rides in the button): consent is
    recorded as on /start's screen, then the card follows instead of the next journey step."""
    tg = query.from_user
    await profiles.give_consent(
        tg.id, tg.first_name, tg.last_name, tg.username, locale=screen.tr.locale
    )
    screen.user = await users.get(tg.id)
    callback_answer.text = screen.tr._("Thank you! Let's begin.")
    step_deps = {**deps, "opportunity_id": callback_data.action[4:]}
    await journey.start_step("opportunity", screen, step_deps)


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
