"""An update as the handlers see it: no NUL character in any of its strings.

PostgreSQL stores no NUL in text (``invalid byte sequence for encoding "UTF8": 0x00``), and a
NUL reaches the bot in what Telegram passes on as it was sent: a first name, a forged update's
text. The dispatcher (bot/app.py) hands every update through `without_nul` before anything
reads it, polling and webhooks alike, so no handler, service or table meets one.

In a message's text or caption a NUL becomes a space, so the formatting's offsets (UTF-16
units) still point where they did; anywhere else (a name, a username, a button's data) it is
dropped. An update without a NUL (all but forged ones) is passed on as it is, after one walk
over its fields.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.types import TelegramObject, Update

__all__ = ["without_nul"]

NUL = "\x00"
_SPACED = frozenset({"text", "caption"})  # where entities count offsets


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, TelegramObject):
        return any(_has_nul(v) for v in value.__dict__.values() if v is not None)
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def _cleaned(value: Any, key: str = "") -> Any:
    if isinstance(value, str):
        return value.replace(NUL, " " if key in _SPACED else "")
    if isinstance(value, dict):
        return {k: _cleaned(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_cleaned(v, key) for v in value]
    return value


def without_nul(update: Update, bot: Bot) -> Update:
    """`update` itself, or — when a string of it holds a NUL — a copy without any."""
    if not _has_nul(update):
        return update
    raw = update.model_dump(mode="json", by_alias=True, exclude_none=True)
    return Update.model_validate(_cleaned(raw), context={"bot": bot})
