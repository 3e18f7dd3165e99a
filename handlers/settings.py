"""/settings: which pushes a user gets and when (categories, digest, hour, quiet hours), and
the one-tap unsubscribe button under every push."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.domain.errors import StaleButton
from bot.services.profile import CATEGORIES, DIGESTS, ProfileService, PushSettings
from bot.ui.keyboards import Menu, SettingsCb, Unsub, button, keyboard
from bot.ui.screen import Screen

router = Router(name=__name__)
HOURS = tuple(range(7, 23))  # a digest goes in the daytime
QUIET = ((22, 9), (21, 8), (23, 10), (20, 9), (0, 0))  # (start, end); (0, 0): none


def _next(values: tuple[Any, ...], current: Any) -> Any:
    return values[(values.index(current) + 1) % len(values)] if current in values else values[0]


def change(settings: PushSettings, item: str) -> PushSettings:
    """The settings after pressing `item` (pure; unknown items raise StaleButton)."""
    if item in CATEGORIES:
        return settings.with_(**{item: not settings.wants(item)})
    if item == "digest":
        return settings.with_(digest=_next(DIGESTS, settings.digest))
    if item == "day":
        return settings.with_(digest_weekday=(settings.digest_weekday + 1) % 7)
    if item == "hour":
        return settings.with_(digest_hour=_next(HOURS, settings.digest_hour))
    if item == "quiet":
        start, end = _next(QUIET, (settings.quiet_start, settings.quiet_end))
        return settings.with_(quiet_start=start, quiet_end=end)
    raise StaleButton


def settings_keyboard(screen: Screen, settings: PushSettings) -> Any:
    tr = screen.tr
    names = {
        "measures": tr._("Support measures"),
        "grants": tr._("Grants"),
        "articles": tr._("Articles"),
        "announcements": tr._("Announcements"),
        "opportunities": tr._("Volunteering"),
    }
    toggles = [
        button(("✅ " if settings.wants(c) else "▫️ ") + names[c], SettingsCb(item=c))
        for c in CATEGORIES
    ]
    rows = [toggles[i : i + 2] for i in range(0, len(toggles), 2)]
    rows.append([button(tr._("📬 Digest: change"), SettingsCb(item="digest"))])
    if settings.digest == "weekly":
        rows.append([button(tr._("📅 Day: next"), SettingsCb(item="day"))])
    if settings.digest != "off":
        rows.append([button(tr._("🕐 Hour: later"), SettingsCb(item="hour"))])
    rows.append([button(tr._("🌙 Quiet hours: change"), SettingsCb(item="quiet"))])
    rows.append([button(tr._("☰ Menu"), Menu(section="home"))])
    return keyboard(rows)


async def show_settings(screen: Screen, settings: PushSettings) -> None:
    await screen.show(
        screen.tr("settings/settings.j2", s=settings), settings_keyboard(screen, settings)
    )


@router.message(Command("settings"))
@router.callback_query(Menu.filter(F.section == "settings"))
async def settings_screen(
    event: Message | CallbackQuery, screen: Screen, profiles: ProfileService
) -> None:
    await show_settings(screen, await profiles.push_settings(screen.user_id))


@router.callback_query(SettingsCb.filter())
async def pressed(
    query: CallbackQuery, callback_data: SettingsCb, screen: Screen, profiles: ProfileService
) -> None:
    settings = change(await profiles.push_settings(screen.user_id), callback_data.item)
    await profiles.save_push_settings(screen.user_id, settings)
    await show_settings(screen, settings)


@router.callback_query(Unsub.filter())
async def unsubscribe(
    query: CallbackQuery,
    callback_data: Unsub,
    screen: Screen,
    profiles: ProfileService,
    callback_answer: CallbackAnswer,
) -> None:
    what = callback_data.what
    settings = await profiles.push_settings(screen.user_id)
    if what == "digest":
        settings = settings.with_(digest="off")
    elif what in CATEGORIES:
        settings = settings.with_(**{what: False})
    else:
        raise StaleButton
    await profiles.save_push_settings(screen.user_id, settings)
    callback_answer.text = screen.tr._("Done: you are unsubscribed. /settings to change it back.")
    if isinstance(query.message, Message):  # the push stays readable; its buttons go
        await query.message.edit_reply_markup(reply_markup=None)
