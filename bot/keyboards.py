"""Callback data factories and the keyboards every flow shares.

Callbacks are stateless (everything needed is in the data) so buttons survive restarts; forged
or stale data fails the filters and reaches the fallback handler, which answers with a fresh
menu.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.render import Tr


class Menu(CallbackData, prefix="m"):
    """A main-menu section: home, about, help, lang, stages, measures."""

    section: str


class Lang(CallbackData, prefix="lang"):
    code: str


class StageCard(CallbackData, prefix="st"):
    number: int


class PhaseCard(CallbackData, prefix="ph"):
    code: str


Row = Sequence[InlineKeyboardButton]


def button(text: str, data: CallbackData | str) -> InlineKeyboardButton:
    packed = data if isinstance(data, str) else data.pack()
    return InlineKeyboardButton(text=text, callback_data=packed)


def keyboard(rows: Iterable[Row]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[list(r) for r in rows if r])


def grid(buttons: Sequence[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def back_row(tr: Tr, target: CallbackData | None = None) -> list[InlineKeyboardButton]:
    """« Back (to `target`, or to the main menu)."""
    if target is None:
        return [button(tr._("« Main menu"), Menu(section="home"))]
    return [button(tr._("« Back"), target), button(tr._("☰ Menu"), Menu(section="home"))]


def main_menu(tr: Tr) -> InlineKeyboardMarkup:
    return keyboard(
        [
            [button(tr._("🧭 Stages of a project"), Menu(section="stages"))],
            [button(tr._("🤝 Support measures"), Menu(section="measures"))],
            [
                button(tr._("ℹ️ About"), Menu(section="about")),
                button(tr._("❓ Help"), Menu(section="help")),
            ],
            [button(tr._("🌐 Language"), Menu(section="lang"))],
        ]
    )


def language_menu(tr: Tr) -> InlineKeyboardMarkup:
    return keyboard(
        [
            [button("🇷🇺 Русский", Lang(code="ru")), button("🇬🇧 English", Lang(code="en"))],
            back_row(tr),
        ]
    )
