"""«Частые вопросы»: the buttons shared by the desk's screens and the FAQ's own."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton

from bot.ui.keyboards import button
from bot.ui.render import Tr

TITLE = 48  # characters of a question on its button


class FaqCb(CallbackData, prefix="fq"):
    """Everyone's: `list` (arg: a kind, or "" for the kinds), `open` entry `id` (arg "ask":
    from a new question's preview), `search`, `back` (to the question's preview); the asker's
    `perm` on their question `id` (arg "y" / "n")."""

    action: str
    id: int = 0
    arg: str = ""


class FaqAdminCb(CallbackData, prefix="fa"):
    """The coordinators': `list` (candidates and entries), `start` from question `id`,
    `card` / `edit` (arg "q" / "a") / `pub` / `hide` of entry `id`."""

    action: str
    id: int = 0
    arg: str = ""


def title(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TITLE else line[: TITLE - 1].rstrip() + "…"


def permission_rows(
    tr: Tr, question_id: int, permission: bool | None
) -> list[list[InlineKeyboardButton]]:
    """The asker's answer to «may it go into «Частые вопросы»?»: yes / no while not asked,
    then the way to change it."""
    if permission is None:
        return [
            [
                button(tr._("✅ Yes, publish"), FaqCb(action="perm", id=question_id, arg="y")),
                button(tr._("✖ No"), FaqCb(action="perm", id=question_id, arg="n")),
            ]
        ]
    if permission:
        label = tr._("📚 Do not publish in the FAQ")
        return [[button(label, FaqCb(action="perm", id=question_id, arg="n"))]]
    label = tr._("📚 Allow it in the FAQ")
    return [[button(label, FaqCb(action="perm", id=question_id, arg="y"))]]
