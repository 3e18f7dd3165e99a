"""The baseline of the benchmarks: a minimal aiogram 3 bot, polling like the real one. It
answers every message with its text and every button press with an edit of the pressed
message and an answer (in that order, as the real bot's presses end: the handler's edit,
then `answerCallbackQuery`).

    BOT_TOKEN=… TELEGRAM_API_BASE=http://127.0.0.1:8081 python -m bench.echo_bot
"""

from __future__ import annotations

import asyncio
import logging
import os

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

dp = Dispatcher()


@dp.message()
async def echo(message: Message) -> None:
    text = message.text or message.caption or "…"
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="↻", callback_data="0")]]
    )
    await message.answer(text, reply_markup=markup)


@dp.callback_query()
async def pressed(query: CallbackQuery) -> None:
    if isinstance(query.message, Message):
        await query.message.edit_text(f"↻ {query.data}", reply_markup=query.message.reply_markup)
    await query.answer()


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    base = os.environ.get("TELEGRAM_API_BASE")
    session = AiohttpSession(api=TelegramAPIServer.from_base(base)) if base else AiohttpSession()
    bot = Bot(os.environ["BOT_TOKEN"], session=session)
    await dp.start_polling(bot, polling_timeout=int(os.environ.get("POLLING_TIMEOUT", "10")))


if __name__ == "__main__":
    asyncio.run(main())
