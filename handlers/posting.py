"""An organiser posts an opportunity's card into a group or channel: «📢 Post to a group or
channel» on the organiser's card → a button for each chat the bot knows it may post in
(my_chat_member, handlers/chats.py) that they administer themselves, or they send the chat's
@username, t.me link or id (or forward a post of the channel) → checked on the server, at the
press or the message: they may manage this opportunity (the parent
router's role, and the owner here again), the bot is an administrator there that may post, and
they administer that chat themselves (nobody posts into someone else's group) → the card goes
out with a «Sign up» button, and its free places are updated in place from then on
(bot.services.sharing)."""

from __future__ import annotations

import logging
import re

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageOriginChannel,
)

from bot.domain.errors import StaleButton
from bot.services.sharing import KnownChat, SharingService
from bot.services.volunteering import VolunteerService
from bot.ui.keyboards import Menu, OrganiserCb, button, keyboard
from bot.ui.screen import Screen

router = Router(name=__name__)
log = logging.getLogger(__name__)

_TARGET = re.compile(r"^(?:@|(?:https?://)?t\.me/)?([A-Za-z][A-Za-z0-9_]{3,31})/?$|^(-?\d{5,20})$")


class PostCard(StatesGroup):
    target = State()  # data: oa_id


def _back_row(screen: Screen, opportunity_id: int) -> list[InlineKeyboardButton]:
    return [
        button(screen.tr._("« Back"), OrganiserCb(action="card", id=opportunity_id)),
        button(screen.tr._("☰ Menu"), Menu(section="home")),
    ]


def _back(screen: Screen, opportunity_id: int) -> InlineKeyboardMarkup:
    return keyboard([_back_row(screen, opportunity_id)])


def _chat_label(chat: KnownChat) -> str:
    icon = "📣" if chat.type == "channel" else "👥"
    return f"{icon} {chat.title}"[:60]


@router.callback_query(OrganiserCb.filter(F.action == "post"))
async def post_ask(
    query: CallbackQuery,
    callback_data: OrganiserCb,
    screen: Screen,
    volunteering: VolunteerService,
    sharing: SharingService,
    bot: Bot,
) -> None:
    listing = await volunteering.listing(callback_data.id)
    if listing is None:
        raise StaleButton
    assert screen.state is not None
    await screen.state.set_state(PostCard.target)
    await screen.state.update_data(oa_id=callback_data.id)
    me = await bot.me()
    chats = await sharing.chats_of(screen.user_id)
    text = screen.tr(
        "opportunities/post_ask.j2", opp=listing.opportunity, bot=me.username, chats=len(chats)
    )
    rows = [
        [
            button(
                _chat_label(chat),
                OrganiserCb(action="post_to", id=callback_data.id, value=str(chat.chat_id)),
            )
        ]
        for chat in chats
    ]
    await screen.show(text, keyboard([*rows, _back_row(screen, callback_data.id)]))


@router.callback_query(OrganiserCb.filter(F.action == "post_to"))
async def post_to_known(
    query: CallbackQuery,
    callback_data: OrganiserCb,
    screen: Screen,
    volunteering: VolunteerService,
    sharing: SharingService,
    bot: Bot,
) -> None:
    """A known chat's button: only a chat the bot knows (a forged id is refused), posted only
    after the same checks as a typed one (the bot may post there, the organiser administers
    it: asked of Telegram now)."""
    opportunity_id = callback_data.id
    tr = screen.tr
    owner = await volunteering.created_by(opportunity_id)
    if owner is None:
        raise StaleButton
    if owner != screen.user_id and not screen.roles & {"coordinator", "admin"}:
        await screen.send(tr("errors/not_allowed.j2"))
        return
    back = _back(screen, opportunity_id)
    value = callback_data.value
    known = None
    if value.lstrip("-").isdigit() and len(value) <= 20:
        known = await sharing.known_chat(int(value))
    if known is None:
        log.warning("post to an unknown chat", extra={"user_id": screen.user_id})
        await screen.send(tr("opportunities/post_problem.j2", problem="not_admin"), back)
        return
    problem, title = await _post(bot, sharing, volunteering, screen, opportunity_id, known.chat_id)
    if problem is not None:
        await screen.send(tr("opportunities/post_problem.j2", problem=problem), back)
        return
    if screen.state is not None:
        await screen.state.set_state(None)
    await screen.send(tr("opportunities/post_done.j2", title=title), back)


def _target(message: Message) -> int | str | None:
    origin = message.forward_origin
    if isinstance(origin, MessageOriginChannel):
        return origin.chat.id
    match = _TARGET.match((message.text or "").strip())
    if match is None:
        return None
    name, number = match.groups()
    return f"@{name}" if name else int(number)


@router.message(PostCard.target)
async def post_target(
    message: Message,
    screen: Screen,
    volunteering: VolunteerService,
    sharing: SharingService,
    bot: Bot,
) -> None:
    assert screen.state is not None
    opportunity_id = int((await screen.state.get_data()).get("oa_id", 0))
    tr = screen.tr
    owner = await volunteering.created_by(opportunity_id)
    if owner is None:
        await screen.state.set_state(None)
        raise StaleButton
    if owner != screen.user_id and not screen.roles & {"coordinator", "admin"}:
        await screen.state.set_state(None)
        await screen.send(tr("errors/not_allowed.j2"))
        return
    target = _target(message)
    back = _back(screen, opportunity_id)
    if target is None:
        await screen.send(tr("opportunities/post_problem.j2", problem="unclear"), back)
        return
    problem, title = await _post(bot, sharing, volunteering, screen, opportunity_id, target)
    if problem is not None:
        await screen.send(tr("opportunities/post_problem.j2", problem=problem), back)
        return
    await screen.state.set_state(None)
    await screen.send(tr("opportunities/post_done.j2", title=title), back)


async def _post(
    bot: Bot,
    sharing: SharingService,
    volunteering: VolunteerService,
    screen: Screen,
    opportunity_id: int,
    target: int | str,
) -> tuple[str | None, str]:
    """Post the card into `target`; returns a problem code (None: posted) and the chat's title."""
    try:
        chat = await bot.get_chat(target)
    except TelegramAPIError:
        return "not_found", ""
    if chat.type == "private":
        return "not_group", ""
    title = chat.title or ""
    if await sharing.known_chat(chat.id) is not None:
        await sharing.chat_renamed(chat.id, title or str(chat.id), chat.username)
    me = await bot.me()
    try:
        mine = await bot.get_chat_member(chat.id, me.id)
        theirs = await bot.get_chat_member(chat.id, screen.user_id)
    except TelegramAPIError:
        return "not_admin", title
    if mine.status != "administrator" or (
        chat.type == "channel" and not getattr(mine, "can_post_messages", False)
    ):
        return "not_admin", title
    if theirs.status not in ("creator", "administrator"):
        return "not_theirs", title
    listing = await volunteering.listing(opportunity_id)
    if listing is None or listing.opportunity.status == "cancelled":
        return "cancelled", title
    shown = sharing.card(listing, screen.tr.locale, me.username)
    try:
        sent = await bot.send_message(
            chat.id,
            shown.text,
            parse_mode="HTML",
            reply_markup=shown.markup,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
    except TelegramAPIError as exc:
        log.warning("card post refused", extra={"chat_id": chat.id, "error": exc.message})
        return "not_admin", title
    await sharing.remember_post(
        opportunity_id, screen.user_id, chat.id, sent.message_id, screen.tr.locale
    )
    return None, title
