"""Where a handler answers: the screen the user is looking at.

On a button press the screen is edited in place (mobile-friendly: no message pile-up); after a
typed message or a command a new message is sent. Text over Telegram's limit is split on
paragraphs, the keyboard under the last part; a caption over its limit follows its file as a
message. Built once per update by the context middleware.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Literal

from aiogram import Bot
from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    ReactionTypeEmoji,
)

from bot.domain.zones import user_zone
from bot.storage.users import User
from bot.ui.render import CAPTION_LIMIT, Tr, plain_text, split_html, visible_length


def _same(current: InlineKeyboardMarkup | None, new: InlineKeyboardMarkup | None) -> bool:
    def dump(markup: InlineKeyboardMarkup | None) -> object:
        return markup.model_dump(exclude_none=True, exclude_defaults=True) if markup else None

    return dump(current) == dump(new)


@dataclass
class Screen:
    bot: Bot
    chat_id: int
    user_id: int
    tr: Tr
    state: FSMContext | None
    user: User | None
    query: CallbackQuery | None = None
    roles: frozenset[str] = frozenset()

    def zone(self, default: str) -> str:
        """The user's IANA zone, else `default` (the deployment's): dates shown and typed are
        in it."""
        return user_zone(self.user.timezone if self.user else None, default)

    async def show(self, text: str, markup: InlineKeyboardMarkup | None = None) -> int | None:
        """Replace the screen the button was on; otherwise (or if that fails) send anew.
        Returns the id of the message that shows it."""
        parts = split_html(text)
        message = self.query.message if self.query else None
        if isinstance(message, Message) and len(parts) == 1 and message.text is not None:
            if message.text == plain_text(parts[0]) and _same(message.reply_markup, markup):
                return message.message_id  # already shown: Telegram would refuse the edit
            if await self.edit(message.message_id, parts[0], markup):
                return message.message_id
        return await self._send(parts, markup)

    async def edit(
        self, message_id: int, text: str, markup: InlineKeyboardMarkup | None = None
    ) -> bool:
        """Edit the bot's message `message_id` of this chat (a prompt above the text the user
        typed in answer); False when Telegram refuses (gone, too long) — then send anew."""
        parts = split_html(text)
        if len(parts) != 1:
            return False
        try:
            await self.bot.edit_message_text(
                parts[0], chat_id=self.chat_id, message_id=message_id, reply_markup=markup
            )
        except TelegramBadRequest as exc:
            return "message is not modified" in exc.message
        return True

    async def react(self, message_id: int, emoji: str) -> None:
        """A reaction on the user's message: "got it" without a message of its own. Cosmetic:
        if Telegram refuses it, nothing else changes."""
        with contextlib.suppress(TelegramAPIError):
            await self.bot.set_message_reaction(
                self.chat_id, message_id, [ReactionTypeEmoji(emoji=emoji)]
            )

    async def send(self, text: str, markup: InlineKeyboardMarkup | None = None) -> int:
        return await self._send(split_html(text), markup)

    async def _send(self, parts: list[str], markup: InlineKeyboardMarkup | None) -> int:
        sent = 0
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            message = await self.bot.send_message(
                self.chat_id, part, reply_markup=markup if last else None
            )
            sent = message.message_id
        return sent

    async def chat_action(self, action: ChatAction) -> None:
        """A status in the chat's header ("sending a photo…") while something slow is made.
        Cosmetic: if Telegram refuses it, the work goes on without it."""
        with contextlib.suppress(TelegramAPIError):
            await self.bot.send_chat_action(self.chat_id, action)

    async def photo(
        self, png: bytes, caption: str, markup: InlineKeyboardMarkup | None = None
    ) -> int:
        """Sends the picture; returns the id of its message."""
        return await self._file(
            "photo", BufferedInputFile(png, filename="picture.png"), caption, markup
        )

    async def replace_photo(self, message_id: int, png: bytes, caption: str) -> bool:
        """The picture of message `message_id` redrawn, with its new caption; False when
        Telegram refuses (the message is gone, the caption too long): then send anew."""
        if visible_length(caption) > CAPTION_LIMIT:
            return False
        media = InputMediaPhoto(
            media=BufferedInputFile(png, filename="picture.png"), caption=caption
        )
        try:
            await self.bot.edit_message_media(media, chat_id=self.chat_id, message_id=message_id)
        except TelegramBadRequest:
            return False
        return True

    async def document(
        self, data: bytes, filename: str, caption: str, markup: InlineKeyboardMarkup | None = None
    ) -> None:
        await self._file("document", BufferedInputFile(data, filename=filename), caption, markup)

    async def _file(
        self,
        kind: Literal["photo", "document"],
        file: BufferedInputFile,
        caption: str,
        markup: InlineKeyboardMarkup | None,
    ) -> int:
        """A file with its caption; a caption over Telegram's limit follows as a message (split
        like any text), the keyboard under it."""
        fits = visible_length(caption) <= CAPTION_LIMIT
        send = self.bot.send_photo if kind == "photo" else self.bot.send_document
        sent = await send(
            self.chat_id,
            file,
            caption=caption if fits else None,
            reply_markup=markup if fits else None,
        )
        if not fits:
            await self.send(caption, markup)
        return sent.message_id
