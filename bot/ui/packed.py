"""Callback data of the buttons under pushes, packed as aiogram's `CallbackData.pack()` packs
the classes of bot/ui/keyboards.py — without importing aiogram. The planner builds digests'
and reminders' buttons in a worker process (bot/worker.py) that stays small: no aiogram, no
pydantic models of the Bot API. tests/test_worker.py checks each one against its class."""

from __future__ import annotations

SEPARATOR = ":"
LIMIT = 64  # bytes of callback data Telegram accepts


def pack(prefix: str, *values: str | int) -> str:
    """`prefix:value:…` as aiogram writes it (fields in their class's order, defaults too)."""
    parts = [prefix]
    for value in values:
        text = str(value)
        if SEPARATOR in text:
            raise ValueError(f"callback data value {text!r} holds {SEPARATOR!r}")
        parts.append(text)
    packed = SEPARATOR.join(parts)
    if len(packed.encode()) > LIMIT:
        raise ValueError(f"callback data is longer than {LIMIT} bytes: {packed!r}")
    return packed


def menu(section: str) -> str:
    return pack("m", section)  # keyboards.Menu(section=…)


def unsub(what: str) -> str:
    return pack("un", what)  # keyboards.Unsub(what=…)


def grant(action: str, key: str) -> str:
    return pack("gr", action, key, 0, "")  # keyboards.GrantCb(action=…, key=…)


def volunteer(action: str, id: int) -> str:
    return pack("vo", action, id, "", "a", 0)  # keyboards.VolunteerCb(action=…, id=…)


def organiser(action: str, id: int) -> str:
    return pack("oa", action, id, "", 0)  # keyboards.OrganiserCb(action=…, id=…)


def confirm(action: str, id: int, uid: int) -> str:
    return pack("vc", action, id, uid)  # keyboards.ConfirmCb(action=…, id=…, uid=…)


def rate(action: str, id: int, uid: int, value: int = 0) -> str:
    return pack("vr", action, id, uid, value)  # keyboards.RateCb(action=…, id=…, uid=…, value=…)
