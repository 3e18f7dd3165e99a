"""createChatInviteLink in the emulator: a link to a group the bot administers with the right
to invite users; Telegram's refusals for any other chat and for bad parameters."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest

from bot.emulator import Emulator
from bot.emulator.invite_links import NOT_ENOUGH_RIGHTS, add_group, groups

from .conftest import Api


async def test_a_link_to_a_group_the_bot_administers(emu: Emulator, bot: Bot) -> None:
    add_group(emu.bot_state(), -100123, "Экология", can_invite_users=True)
    link = await bot.create_chat_invite_link(-100123, name="Рабочая группа", member_limit=50)
    assert link.invite_link.startswith("https://t.me/+")
    assert (link.name, link.member_limit, link.is_primary, link.is_revoked) == (
        "Рабочая группа", 50, False, False
    )  # fmt: skip
    assert link.creator.is_bot
    again = await bot.create_chat_invite_link(-100123)
    assert again.invite_link != link.invite_link  # every call makes a new one
    assert len(groups(emu.bot_state())[-100123].invite_links) == 2


async def test_refusals(emu: Emulator, bot: Bot, api: Api) -> None:
    add_group(emu.bot_state(), -100200, "Не админ", can_invite_users=False)
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.create_chat_invite_link(-100999)
    with pytest.raises(TelegramBadRequest, match=NOT_ENOUGH_RIGHTS):
        await bot.create_chat_invite_link(-100200)
    add_group(emu.bot_state(), -100300, "Да", can_invite_users=True)
    status, body = await api.call("createChatInviteLink", chat_id=-100300, name="x" * 33)
    assert (status, body["description"]) == (400, "Bad Request: invite link name is too long")
    status, body = await api.call(
        "createChatInviteLink", chat_id=-100300, member_limit=5, creates_join_request=True
    )
    assert status == 400
    status, body = await api.call("createChatInviteLink", chat_id=-100300, member_limit=0)
    assert status == 400
    with pytest.raises(ValueError, match="negative"):
        add_group(emu.bot_state(), 5, "private", can_invite_users=True)
