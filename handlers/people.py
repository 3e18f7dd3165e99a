"""Naming a person to give a role to: a forwarded message of theirs, or their numeric id."""

from __future__ import annotations

import re

from aiogram.types import Message, MessageOriginUser

TELEGRAM_ID = re.compile(r"[0-9]{1,16}")  # ASCII digits: int() would also take "٣", not "²"
MAX_ID = 2**52  # Telegram user ids have at most 52 significant bits


def person_id(message: Message) -> int | None:
    """The Telegram id of the person a message points at, or None (hidden forwards, text,
    a number no Telegram id can be)."""
    if isinstance(message.forward_origin, MessageOriginUser):
        return message.forward_origin.sender_user.id
    text = (message.text or "").strip()
    if TELEGRAM_ID.fullmatch(text) is None:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None
