"""Small helpers every flow uses to answer."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.render import split_html


async def show(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Replace the screen the button was on; send a new message if it can't be edited."""
    message = query.message
    parts = split_html(text)
    if isinstance(message, Message) and len(parts) == 1:
        try:
            await message.edit_text(parts[0], reply_markup=markup)
            return
        except TelegramBadRequest as exc:
            if "message is not modified" in exc.message:
                return
    if message is not None:
        await reply(message.chat.id, query, parts, markup)


async def reply(
    chat_id: int,
    event: CallbackQuery | Message,
    parts: list[str],
    markup: InlineKeyboardMarkup | None,
) -> None:
    bot = event.bot
    assert bot is not None
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        await bot.send_message(chat_id, part, reply_markup=markup if last else None)


async def answer(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Send `text` (split if over Telegram's limit), the keyboard under the last part."""
    await reply(message.chat.id, message, split_html(text), markup)
