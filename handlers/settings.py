"""/settings: which pushes a user gets and when (categories, digest, hour, quiet hours), and
the one-tap unsubscribe button under every push."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.domain.errors import StaleButton
from bot.domain.schedule import in_quiet_hours
from bot.services.profile import CATEGORIES, DIGESTS, ProfileService, PushSettings
from bot.ui.keyboards import Menu, SettingsCb, Unsub, button, keyboard
from bot.ui.screen import Screen

router = Router(name=__name__)
HOURS = tuple(range(7, 23))  # a digest goes in the daytime
QUIET = ((22, 9), (21, 8), (23, 10), (20, 9), (0, 0))  # (start, end); (0, 0): none
PICKERS = ("day", "hour", "quiet")  # a press opens a small grid to choose from
PER_ROW = {"day": 4, "hour": 4, "quiet": 2}


def change(settings: PushSettings, item: str) -> PushSettings:
    """The settings after pressing `item` (pure; unknown items raise StaleButton): a category
    toggles, "digest=daily" / "day=2" / "hour=11" / "quiet=1" set what they name."""
    if item in CATEGORIES:
        return settings.with_(**{item: not settings.wants(item)})
    what, _, value = item.partition("=")
    if what == "digest" and value in DIGESTS:
        return settings.with_(digest=value)
    if not value.isdigit():
        raise StaleButton
    n = int(value)
    if what == "day" and n < 7:
        return settings.with_(digest_weekday=n)
    if what == "hour" and n in HOURS:
        return settings.with_(digest_hour=n)
    if what == "quiet" and n < len(QUIET):
        start, end = QUIET[n]
        return settings.with_(quiet_start=start, quiet_end=end)
    raise StaleButton


def _names(screen: Screen) -> dict[str, str]:
    tr = screen.tr
    return {
        "measures": tr._("Support measures"),
        "grants": tr._("Grants"),
        "articles": tr._("Articles"),
        "announcements": tr._("Announcements"),
        "opportunities": tr._("Volunteering"),
    }


def _days(screen: Screen) -> list[str]:
    tr = screen.tr
    names = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    return [tr._(name) for name in names]


def _quiet(screen: Screen, start: int, end: int) -> str:
    return screen.tr._("none") if start == end else f"{start}–{end}"


def settings_keyboard(screen: Screen, settings: PushSettings) -> Any:
    """Each button says what a press sets: a category's turns it on or off, a digest's
    chooses that one, and the day, hour and quiet hours open a small grid."""
    tr = screen.tr
    names = _names(screen)
    toggles = [
        button(
            (
                tr._("🔕 Turn off: {name}") if settings.wants(c) else tr._("🔔 Turn on: {name}")
            ).format(name=names[c]),
            SettingsCb(item=c),
        )
        for c in CATEGORIES
    ]
    rows = [toggles[i : i + 2] for i in range(0, len(toggles), 2)]
    digests = {"weekly": tr._("📬 Weekly"), "daily": tr._("📬 Daily"), "off": tr._("🔕 No digest")}
    rows.append(
        [
            button(("● " if settings.digest == d else "") + label, SettingsCb(item=f"digest={d}"))
            for d, label in digests.items()
        ]
    )
    picks = []
    if settings.digest == "weekly":
        day = _days(screen)[settings.digest_weekday]
        picks.append(button(tr._("📅 Day: {day}").format(day=day), SettingsCb(item="day")))
    if settings.digest != "off":
        hour = f"{settings.digest_hour}:00"
        picks.append(button(tr._("🕐 Hour: {hour}").format(hour=hour), SettingsCb(item="hour")))
    if picks:
        rows.append(picks)
    quiet = _quiet(screen, settings.quiet_start, settings.quiet_end)
    rows.append(
        [button(tr._("🌙 Quiet hours: {hours}").format(hours=quiet), SettingsCb(item="quiet"))]
    )
    rows.append([button(tr._("☰ Menu"), Menu(section="home"))])
    return keyboard(rows)


def picker_keyboard(screen: Screen, settings: PushSettings, what: str) -> Any:
    """The grid of one setting's values, the current one marked; back to /settings."""
    if what == "day":
        options = [
            (f"day={i}", name, i == settings.digest_weekday)
            for i, name in enumerate(_days(screen))
        ]
    elif what == "hour":
        options = [
            (
                f"hour={h}",
                f"{h}:00"
                + (" 🌙" if in_quiet_hours(h, settings.quiet_start, settings.quiet_end) else ""),
                h == settings.digest_hour,
            )
            for h in HOURS
        ]
    else:
        current = (settings.quiet_start, settings.quiet_end)
        options = [(f"quiet={i}", _quiet(screen, *q), q == current) for i, q in enumerate(QUIET)]
    cells = [
        button(("● " if on else "") + label, SettingsCb(item=item)) for item, label, on in options
    ]
    n = PER_ROW[what]
    rows = [cells[i : i + n] for i in range(0, len(cells), n)]
    rows.append([button(screen.tr._("« Back"), Menu(section="settings"))])
    return keyboard(rows)


async def show_settings(screen: Screen, settings: PushSettings) -> None:
    names = _names(screen)
    categories = [(settings.wants(c), names[c]) for c in CATEGORIES]
    late = in_quiet_hours(settings.digest_hour, settings.quiet_start, settings.quiet_end)
    text = screen.tr(
        "settings/settings.j2", s=settings, categories=categories, picking=None, late=late
    )
    await screen.show(text, settings_keyboard(screen, settings))


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
    settings = await profiles.push_settings(screen.user_id)
    if callback_data.item in PICKERS:
        text = screen.tr(
            "settings/settings.j2",
            s=settings,
            categories=[],
            picking=callback_data.item,
            late=False,
        )
        await screen.show(text, picker_keyboard(screen, settings, callback_data.item))
        return
    settings = change(settings, callback_data.item)
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
