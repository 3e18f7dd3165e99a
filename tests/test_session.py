"""The bot's HTTP session (bot/infra/session.py): a call without files goes out as one JSON body,
a call with files as aiogram's multipart form, and answers and errors read as aiogram reads
them."""

from __future__ import annotations

import datetime
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramNetworkError, TelegramServerError
from aiogram.methods import BanChatMember, SendMessage, SendPhoto
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import web
from PIL import Image

from bot.app import BOT_DEFAULTS
from bot.emulator import DEFAULT_TOKEN, Emulator
from bot.infra.session import JsonSession

KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[
        [InlineKeyboardButton(text="Дальше ▶ <b>&", callback_data="ik:next")],
        [InlineKeyboardButton(text="Сайт", url="https://example.org/?a=1&b=2")],
    ]
)
DEFAULTS = BOT_DEFAULTS  # the app's


def _bot(base: str) -> Bot:
    session = JsonSession(api=TelegramAPIServer.from_base(base))
    return Bot(DEFAULT_TOKEN, session=session, default=DEFAULTS)


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[str, list[Any]]]:
    """A bare HTTP server that records each request's content type and body, and answers
    `true`."""
    seen: list[Any] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append((request.content_type, await request.read()))
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        await runner.cleanup()


async def test_a_call_without_files_is_one_json_body(recorder: tuple[str, list[Any]]) -> None:
    base, seen = recorder
    bot = _bot(base)
    try:
        assert await bot.answer_callback_query("q1", text="Готово ✅", show_alert=False)
    finally:
        await bot.session.close()
    ((content_type, body),) = seen
    assert content_type == "application/json"
    assert json.loads(body) == {
        "callback_query_id": "q1",
        "text": "Готово ✅",
        "show_alert": False,
    }
    assert "Готово ✅".encode() in body  # UTF-8 as it is, not \\u escapes


def test_the_body_holds_objects_as_objects_and_leaves_out_what_is_unset() -> None:
    session = JsonSession()
    bot = Bot(DEFAULT_TOKEN, session=session, default=DEFAULTS)
    method = SendMessage(chat_id=42, text="<b>Привет</b>", reply_markup=KEYBOARD, entities=None)
    body = session.json_body(bot, method)
    assert body is not None
    assert json.loads(body) == {
        "chat_id": 42,
        "text": "<b>Привет</b>",
        "parse_mode": "HTML",  # the bot's defaults, resolved
        "link_preview_options": {"is_disabled": True},  # and not the replaced parameter
        "reply_markup": {
            "inline_keyboard": [
                [{"text": "Дальше ▶ <b>&", "callback_data": "ik:next"}],
                [{"text": "Сайт", "url": "https://example.org/?a=1&b=2"}],
            ]
        },
    }
    until = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    ban = session.json_body(bot, BanChatMember(chat_id=-100, user_id=7, until_date=until))
    assert ban is not None
    assert json.loads(ban)["until_date"] == round(until.timestamp())


def test_the_defaults_made_plain_once_are_each_bots_own() -> None:
    session = JsonSession()
    bot = Bot(DEFAULT_TOKEN, session=session, default=DEFAULTS)
    method = SendMessage(chat_id=42, text="Привет")
    first = session.json_body(bot, method)
    assert first is not None
    assert session.json_body(bot, method) == first  # the second call from what was kept
    plain = Bot(DEFAULT_TOKEN, session=session, default=DefaultBotProperties())
    body = session.json_body(plain, method)
    assert body is not None
    assert json.loads(body) == {"chat_id": 42, "text": "Привет"}
    assert session.json_body(bot, method) == first


def test_a_call_with_a_file_has_no_json_body() -> None:
    session = JsonSession()
    bot = Bot(DEFAULT_TOKEN, session=session, default=DEFAULTS)
    photo = SendPhoto(chat_id=42, photo=BufferedInputFile(b"png", filename="p.png"))
    assert session.json_body(bot, photo) is None


async def test_against_the_emulator_answers_files_and_errors_are_as_before() -> None:
    async with Emulator() as emulator:
        bot = _bot(emulator.base_url)
        try:
            user = emulator.user(501)
            await user.send("/start")  # the user opened the chat: the bot may write to it
            chat = user.chat_id
            sent = await bot.send_message(chat, "<b>Привет</b> & пока", reply_markup=KEYBOARD)
            assert sent.text == "Привет & пока"
            assert sent.reply_markup is not None
            assert sent.reply_markup.model_dump(exclude_none=True) == KEYBOARD.model_dump(
                exclude_none=True
            )
            call = emulator.calls_of("sendMessage")[-1]
            assert call.params["reply_markup"]["inline_keyboard"][1][0]["url"] == (
                "https://example.org/?a=1&b=2"
            )
            png = io.BytesIO()
            Image.new("RGB", (8, 8), "white").save(png, "PNG")
            picture = await bot.send_photo(
                chat, BufferedInputFile(png.getvalue(), "p.png"), caption="Икигай"
            )
            assert picture.caption == "Икигай"
            assert picture.photo
            with pytest.raises(TelegramBadRequest):
                await bot.send_message(chat, "")
            emulator.fail_next(1, "sendMessage", status=500)
            with pytest.raises(TelegramServerError):
                await bot.send_message(chat, "после сбоя")
            emulator.drop_next(1, "sendMessage")
            with pytest.raises(TelegramNetworkError):
                await bot.send_message(chat, "после обрыва")
            again = await bot.send_message(chat, "снова")
            assert again.text == "снова"
        finally:
            await bot.session.close()
