"""Consent (152-ФЗ) and the user's own data: /privacy, /my_data, /delete_me.

Consent is a separate, explicit step before anything beyond the Telegram id is stored.
Declining stores nothing (and removes the id row /start made); the public screens stay usable.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.config import Settings
from bot.content import Catalog
from bot.services.profile import CONSENT_VERSION, ProfileService, export_json
from bot.services.retention import OUTBOX_DAYS, UNCONSENTED_DAYS
from bot.services.users import UserService
from bot.ui.keyboards import Consent, Menu, MyData, back_row, button, keyboard, main_menu
from bot.ui.screen import Screen
from handlers import journey

router = Router(name=__name__)


def consent_keyboard(screen: Screen) -> Any:
    tr = screen.tr
    return keyboard(
        [
            [button(tr._("✅ I agree"), Consent(action="yes"))],
            [button(tr._("📄 Full privacy policy"), Consent(action="policy"))],
            [button(tr._("✖ I don't agree"), Consent(action="no"))],
        ]
    )


@journey.step("consent")
async def consent_screen(screen: Screen, deps: dict[str, Any]) -> None:
    await screen.show(screen.tr("consent/screen.j2"), consent_keyboard(screen))


async def record_consent(
    query: CallbackQuery,
    screen: Screen,
    profiles: ProfileService,
    users: UserService,
    callback_answer: CallbackAnswer,
    role: str | None = None,
) -> None:
    """Consent given on a consent screen (with the role the screen was for), thanked; every
    "I agree" goes through here."""
    tg = query.from_user
    await profiles.give_consent(
        tg.id, tg.first_name, tg.last_name, tg.username, locale=screen.tr.locale
    )
    if role is not None:
        await profiles.add_role(tg.id, role)
    screen.user = await users.get(tg.id)
    callback_answer.text = screen.tr._("Thank you! Let's begin.")


@router.callback_query(Consent.filter(F.action == "yes"))
async def agreed(
    query: CallbackQuery,
    screen: Screen,
    profiles: ProfileService,
    users: UserService,
    callback_answer: CallbackAnswer,
    **deps: Any,
) -> None:
    await record_consent(query, screen, profiles, users, callback_answer)
    await journey.advance(screen, {"profiles": profiles, "users": users, **deps})


@journey.step("announcements")
async def announcements_question(screen: Screen, deps: dict[str, Any]) -> None:
    """Coordinators' announcements are a mailing: asked on its own, never bundled."""
    tr = screen.tr
    markup = keyboard(
        [
            [button(tr._("🔔 Yes, send announcements"), Consent(action="mail_yes"))],
            [button(tr._("🔕 No, thanks"), Consent(action="mail_no"))],
        ]
    )
    await screen.show(tr("consent/announcements.j2"), markup)


@router.callback_query(Consent.filter(F.action.in_({"mail_yes", "mail_no"})))
async def announcements_answered(
    query: CallbackQuery,
    callback_data: Consent,
    screen: Screen,
    profiles: ProfileService,
    callback_answer: CallbackAnswer,
    **deps: Any,
) -> None:
    wanted = callback_data.action == "mail_yes"
    settings = await profiles.push_settings(screen.user_id)
    await profiles.save_push_settings(screen.user_id, settings.with_(announcements=wanted))
    callback_answer.text = (
        screen.tr._("Announcements: on. /settings to change it.")
        if wanted
        else screen.tr._("Announcements: off. /settings to change it.")
    )
    await journey.advance(screen, {"profiles": profiles, **deps})


@router.callback_query(Consent.filter(F.action == "no"))
async def declined(query: CallbackQuery, screen: Screen, profiles: ProfileService) -> None:
    if screen.state is not None:
        await screen.state.clear()
    await profiles.forget(screen.user_id)
    screen.user = None
    await screen.show(screen.tr("consent/declined.j2"), main_menu(screen.tr, None))


_NOT_AGREEING = frozenset({"policy", "policy2", "no"})


def _agreement(event: Message | CallbackQuery) -> list[InlineKeyboardButton] | None:
    """The "I agree" of the consent screen the policy was opened from (a volunteer's, an
    expert's invitation, an opportunity's link), taken from the message pressed — the bot's
    own, as Telegram hands it back — so agreeing from the policy keeps that way in. Pressed,
    it is checked like any other button."""
    if not isinstance(event, CallbackQuery) or not isinstance(event.message, Message):
        return None
    markup = event.message.reply_markup
    for row in markup.inline_keyboard if markup is not None else ():
        for b in row:
            data = b.callback_data or ""
            if data.startswith(f"{Consent.__prefix__}:"):
                with contextlib.suppress(ValueError, TypeError):
                    if Consent.unpack(data).action not in _NOT_AGREEING:
                        return [b]
    return None


@router.message(Command("privacy"))
@router.callback_query(Consent.filter(F.action.in_({"policy", "policy2"})))
async def policy(
    event: Message | CallbackQuery, screen: Screen, callback_data: Consent | None = None
) -> None:
    """The policy on two pages of one message, each well within Telegram's 4096 characters:
    what is stored and why; then who sees it, how long, the rights and the contact."""
    tr = screen.tr
    page = 2 if callback_data is not None and callback_data.action == "policy2" else 1
    turn = (
        button(tr._("Who sees it, how long, your rights ▶"), Consent(action="policy2"))
        if page == 1
        else button(tr._("◀ What we store and why"), Consent(action="policy"))
    )
    consented = screen.user is not None and screen.user.consented
    if consented:
        rows = [[turn], back_row(tr)]
    else:
        agree, _, decline = consent_keyboard(screen).inline_keyboard
        rows = [_agreement(event) or agree, [turn], decline]
    text = tr(
        "consent/policy.j2",
        page=page,
        version=CONSENT_VERSION,
        unconsented_days=UNCONSENTED_DAYS,
        outbox_days=OUTBOX_DAYS,
    )
    await screen.show(text, keyboard(rows))


def _names(catalog: Catalog, locale: str) -> Callable[[str, str], str]:
    """What a stored code is called on screen; a code the catalog no longer has shows as is."""
    lookups: dict[str, Callable[[str], str]] = {
        "region": lambda c: catalog.region(c).name(locale),
        "topic": lambda c: catalog.topic(c).name.get(locale),
        "problem": lambda c: catalog.problem(c).name.get(locale),
        "crisis": lambda c: catalog.crisis_reaction(c).name.get(locale),
        "ikigai": lambda c: catalog.ikigai.column(c).title.get(locale),
        "stage": lambda c: catalog.stage_by_number(int(c)).name.get(locale),
        "condition": lambda c: catalog.support_condition(c).name.get(locale),
    }

    def name(kind: str, code: str) -> str:
        try:
            return lookups[kind](code)
        except (KeyError, ValueError):  # UnknownCodeError is a KeyError
            return code

    return name


@router.message(Command("my_data"))
async def my_data(
    message: Message,
    screen: Screen,
    profiles: ProfileService,
    catalog: Catalog,
    settings: Settings,
) -> None:
    data = await profiles.export(screen.user_id, screen.tr.locale)
    if data is None:
        await screen.send(screen.tr("consent/nothing_stored.j2"), main_menu(screen.tr, None))
        return
    text = screen.tr(
        "consent/my_data.j2",
        data=data,
        name=_names(catalog, screen.tr.locale),
        consent_at=data["user"]["consent_at"],
        tz=screen.zone(settings.default_timezone),
    )
    await screen.send(text)  # long lists are cut in the text (the file has all); split if long
    await screen.document(
        export_json(data),
        f"opora-my-data-{screen.user_id}.json",
        screen.tr._("Everything Opora stores about you, as JSON."),
        keyboard([[button(screen.tr._("🗑 Delete my data"), MyData(action="delete"))]]),
    )


@router.message(Command("delete_me"))
@router.callback_query(MyData.filter(F.action == "delete"))
async def delete_ask(event: Message | CallbackQuery, screen: Screen) -> None:
    tr = screen.tr
    markup = keyboard(
        [
            [button(tr._("🗑 Yes, delete everything"), MyData(action="confirm"))],
            [button(tr._("« No, keep it"), Menu(section="home"))],
        ]
    )
    await screen.show(tr("consent/delete_ask.j2"), markup)


@router.callback_query(MyData.filter(F.action == "confirm"))
async def delete_confirmed(query: CallbackQuery, screen: Screen, profiles: ProfileService) -> None:
    if screen.state is not None:
        await screen.state.clear()
    await profiles.forget(screen.user_id)
    screen.user = None
    await screen.show(screen.tr("consent/deleted.j2"), main_menu(screen.tr, None))
