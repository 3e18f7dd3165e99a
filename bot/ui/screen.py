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
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message

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

    async def show(self, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
        """Replace the screen the button was on; otherwise (or if that fails) send anew."""
        parts = split_html(text)
        message = self.query.message if self.query else None
        if isinstance(message, Message) and len(parts) == 1 and message.text is not None:
            if message.text == plain_text(parts[0]) and _same(message.reply_markup, markup):
                return  # the screen already shows this: Telegram would refuse the edit
            try:
                await message.edit_text(parts[0], reply_markup=markup)
                return
            except TelegramBadRequest as exc:
                if "message is not modified" in exc.message:
                    return
        await self._send(parts, markup)

    async def send(self, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
        await self._send(split_html(text), markup)

    async def _send(self, parts: list[str], markup: InlineKeyboardMarkup | None) -> None:
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            await self.bot.send_message(self.chat_id, part, reply_markup=markup if last else None)

    async def chat_action(self, action: ChatAction) -> None:
        """A status in the chat's header ("sending a photo…") while something slow is made.
        Cosmetic: if Telegram refuses it, the work goes on without it."""
        with contextlib.suppress(TelegramAPIError):
            await self.bot.send_chat_action(self.chat_id, action)

    async def photo(
        self, png: bytes, caption: str, markup: InlineKeyboardMarkup | None = None
    ) -> None:
        await self._file("photo", BufferedInputFile(png, filename="picture.png"), caption, markup)

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
    ) -> None:
        """A file with its caption; a caption over Telegram's limit follows as a message (split
        like any text), the keyboard under it."""
        fits = visible_length(caption) <= CAPTION_LIMIT
        send = self.bot.send_photo if kind == "photo" else self.bot.send_document
        await send(
            self.chat_id,
            file,
            caption=caption if fits else None,
            reply_markup=markup if fits else None,
        )
        if not fits:
            await self.send(caption, markup)
