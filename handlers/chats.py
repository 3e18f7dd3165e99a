"""The groups and channels the bot is in: Telegram's my_chat_member says when someone adds the
bot, promotes or demotes it, or removes it. Where it is an administrator that may post, the
chat is remembered, so an organiser posting a card picks it from buttons
(handlers/posting.py); demoted or removed, it is forgotten. In a user's private chat it says
they blocked the bot, or unblocked it: their pushes stop at once, or may go again."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import ChatMemberUpdated

from bot.services.sharing import KnownChat, SharingService
from bot.services.users import UserService

router = Router(name=__name__)


@router.my_chat_member(F.chat.type.in_({"group", "supergroup", "channel"}))
async def bot_membership(update: ChatMemberUpdated, sharing: SharingService) -> None:
    chat = update.chat
    new = update.new_chat_member
    known = KnownChat(
        chat_id=chat.id,
        type=chat.type,
        title=chat.title or str(chat.id),
        username=chat.username,
    )
    can_post = getattr(new, "can_post_messages", None)
    await sharing.bot_membership(known, new.status, can_post, update.date)


@router.my_chat_member(F.chat.type == "private")
async def user_membership(update: ChatMemberUpdated, users: UserService) -> None:
    if update.new_chat_member.status == "kicked":
        await users.left(update.chat.id)
    elif update.new_chat_member.status == "member":
        await users.returned(update.chat.id)
