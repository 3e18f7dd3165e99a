"""Groups the bot administers, as far as invite links need them, and createChatInviteLink.

The groups themselves are groups.py's ``GroupChat`` (the bot's rights there decide); a test
registers a group with ``add_group(emu.bot_state(), -100123, "Экология",
can_invite_users=True)`` and the bot creates links to it. Telegram's answers: ``chat not
found`` for a chat the bot is not in, ``not enough rights to manage chat invite links`` for
a group where it is not an administrator with the right to invite users, and the parameter
checks of the spec (name 0–32 characters, member_limit 1–99999, not with
creates_join_request)."""

from __future__ import annotations

import secrets
from typing import Any

from .errors import bad_request
from .groups import GroupChat
from .methods import method
from .params import Params
from .state import BotState, EmulatorState

NOT_ENOUGH_RIGHTS = "not enough rights to manage chat invite links"


def groups(bot: BotState) -> dict[int, GroupChat]:
    """The groups and channels the bot knows (their ``invite_links`` are the links made)."""
    return {i: c for i, c in bot.groups.items() if isinstance(c, GroupChat)}


def add_group(bot: BotState, chat_id: int, title: str, *, can_invite_users: bool) -> GroupChat:
    """A supergroup the bot is in: an administrator allowed to invite users, or not (then a
    plain member)."""
    if chat_id >= 0:
        raise ValueError("a group's id is negative")
    chat = bot.groups.get(chat_id)
    if not isinstance(chat, GroupChat):
        chat = GroupChat(bot, chat_id, title)
        bot.groups[chat_id] = chat
    if can_invite_users:
        chat.set_membership(bot.id, "administrator", {"can_invite_users": True})
    else:
        chat.set_membership(bot.id, "member")
    return chat


@method("createChatInviteLink")
async def create_chat_invite_link(state: EmulatorState, bot: BotState, params: Params) -> Any:
    chat_id = params.get_int("chat_id")
    group = groups(bot).get(chat_id) if chat_id is not None else None
    if group is None or group.bot_status in ("left", "kicked") or group.type == "private":
        raise bad_request("chat not found")
    member = group.bot_membership()
    if member.status != "creator" and not (
        member.status == "administrator" and member.rights.get("can_invite_users")
    ):
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
    group.invite_links.append(link)
    return link
