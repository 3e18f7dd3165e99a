"""/start, /help, /menu and the main menu's static screens."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.config import Settings
from bot.content import Catalog
from bot.services.coordination import CoordinationService
from bot.services.profile import ProfileService
from bot.services.users import UserService
from bot.services.volunteering import VolunteerService
from bot.ui.keyboards import Consent, Menu, back_row, keyboard, main_menu
from bot.ui.screen import Screen
from handlers import coordinator, journey
from handlers.consent import record_consent

router = Router(name=__name__)
OPPORTUNITY_LINK = r"^opp_(\d{1,9})$"  # t.me/<bot>?start=opp_<id>, shared by organisers
CERTIFICATE_LINK = r"^cert_(\w{1,32})$"  # t.me/<bot>?start=cert_<code>, on a certificate


@router.message(CommandStart(deep_link=True, magic=F.args.regexp(CERTIFICATE_LINK)))
async def check_certificate(
    message: Message,
    command: CommandObject,
    screen: Screen,
    volunteering: VolunteerService,
    settings: Settings,
) -> None:
    """Anyone (consented or not: nothing is stored) checks a certificate's code."""
    cert = await volunteering.check_certificate(str(command.args)[5:])
    text = screen.tr(
        "attendance/cert_check.j2", cert=cert, tz=screen.zone(settings.default_timezone)
    )
    await screen.send(text, keyboard([back_row(screen.tr)]))


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
    """ "I agree" on a shared link's consent screen (the volunteer's; the id rides in the
    button): consent and the volunteer role are recorded as on “I want to help”, then the card
    follows instead of the next journey step."""
    await record_consent(query, screen, profiles, users, callback_answer, role="volunteer")
    step_deps = {**deps, "opportunity_id": callback_data.action[4:]}
    await journey.start_step("opportunity", screen, step_deps)


def newcomer(screen: Screen) -> bool:
    """Someone who has not consented (yet)."""
    return screen.user is None or not screen.user.consented


def _newcomer(event: object, screen: Screen) -> bool:
    return newcomer(screen)


@router.message(Command("volunteer"), _newcomer)
async def volunteer_newcomer(message: Message, screen: Screen, **deps: Any) -> None:
    """/volunteer before consent: the volunteer's consent screen, not the activist's."""
    await journey.start_step("volunteer_consent", screen, deps)


@router.callback_query(Menu.filter(F.section == "helping"))
async def want_to_help(
    query: CallbackQuery, screen: Screen, profiles: ProfileService, **deps: Any
) -> None:
    """ "🤝 I want to help": the volunteer's consent first; for someone who consented, the
    volunteer role added (an activist keeps theirs) and the volunteer's path."""
    if newcomer(screen):
        await journey.start_step("volunteer_consent", screen, deps)
        return
    await profiles.add_role(screen.user_id, "volunteer")
    screen.user = await deps["users"].get(screen.user_id)
    step_deps = {"profiles": profiles, **deps}
    if screen.user is not None and "activist" in screen.user.roles:
        await journey.start_step("volunteer_path", screen, step_deps)
    else:
        await journey.advance(screen, step_deps)


@router.callback_query(Consent.filter(F.action == "vol"))
async def agreed_as_volunteer(
    query: CallbackQuery,
    screen: Screen,
    profiles: ProfileService,
    users: UserService,
    callback_answer: CallbackAnswer,
    **deps: Any,
) -> None:
    """ "I agree" on the volunteer's consent screen: consent, the volunteer role, and the
    volunteer's journey (announcements, place, interests and the rest)."""
    await record_consent(query, screen, profiles, users, callback_answer, role="volunteer")
    await journey.advance(screen, {"profiles": profiles, "users": users, **deps})


@router.message(CommandStart())
async def start(
    message: Message,
    screen: Screen,
    users: UserService,
    coordination: CoordinationService,
    catalog: Catalog,
) -> None:
    await users.started(screen.user_id)
    if screen.state is not None:
        await screen.state.clear()
    if screen.roles & {"coordinator", "admin"}:  # their tools and first steps lead; ☰ Menu
        # is one tap below
        await coordinator.show_menu(screen, coordination, catalog)
        return
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
