"""Groups the bot administers, as far as invite links need them, and createChatInviteLink.

A section of its own (groups as a whole — members, messages, forum topics — are modelled
elsewhere): a test registers a group with ``add_group(emu.bot_state(), -100123, "Экология",
can_invite_users=True)`` and the bot creates links to it. Telegram's answers: ``chat not
found`` for a chat the bot is not in, ``not enough rights to manage chat invite links`` for
a group where it is not an administrator with the right to invite users, and the parameter
checks of the spec (name 0–32 characters, member_limit 1–99999, not with
creates_join_request)."""

from __future__ import annotations

import secrets
import weakref
from dataclasses import dataclass, field
from typing import Any

from .errors import bad_request
from .methods import method
from .params import Params
from .state import BotState, EmulatorState

NOT_ENOUGH_RIGHTS = "not enough rights to manage chat invite links"


@dataclass
class Group:
    id: int
    title: str
    can_invite_users: bool
    links: list[dict[str, Any]] = field(default_factory=list)


_GROUPS: weakref.WeakKeyDictionary[BotState, dict[int, Group]] = weakref.WeakKeyDictionary()


def groups(bot: BotState) -> dict[int, Group]:
    return _GROUPS.setdefault(bot, {})


def add_group(bot: BotState, chat_id: int, title: str, *, can_invite_users: bool) -> Group:
    """A group the bot is in: an administrator allowed to invite users, or not."""
    if chat_id >= 0:
        raise ValueError("a group's id is negative")
    group = groups(bot)[chat_id] = Group(chat_id, title, can_invite_users)
    return group


@method("createChatInviteLink")
async def create_chat_invite_link(state: EmulatorState, bot: BotState, params: Params) -> Any:
    chat_id = params.get_int("chat_id")
    group = groups(bot).get(chat_id) if chat_id is not None else None
    if group is None:
        raise bad_request("chat not found")
    if not group.can_invite_users:
        raise bad_request(NOT_ENOUGH_RIGHTS)
    name = params.get_str("name")
    if name is not None and len(name) > 32:
        raise bad_request("invite link name is too long")
    limit = params.get_int("member_limit")
    joins = params.get_bool("creates_join_request")
    if limit is not None and not 1 <= limit <= 99999:
        raise bad_request("member limit is invalid")
    if limit is not None and joins:
        raise bad_request("member limit can't be specified with join request")
    link: dict[str, Any] = {
        "invite_link": f"https://t.me/+{secrets.token_urlsafe(12)}",
        "creator": bot.user_json(),
        "creates_join_request": joins,
        "is_primary": False,
        "is_revoked": False,
    }
    if name:
        link["name"] = name
    if limit is not None:
        link["member_limit"] = limit
    expire = params.get_int("expire_date")
    if expire is not None:
        link["expire_date"] = expire
    group.links.append(link)
    return link
