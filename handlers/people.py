"""Naming a person to give a role to: a forwarded message of theirs, or their numeric id."""

from __future__ import annotations

from aiogram.types import Message, MessageOriginUser


def person_id(message: Message) -> int | None:
    """The Telegram id of the person a message points at, or None (hidden forwards, text)."""
    if isinstance(message.forward_origin, MessageOriginUser):
        return message.forward_origin.sender_user.id
    text = (message.text or "").strip()
    return int(text) if text.isdigit() else None
