"""aiogram's own requests against the emulator, and small end-to-end bots."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.emulator import EmulatedUser, Emulator

from .conftest import png


@asynccontextmanager
async def polling(dp: Dispatcher, bot: Bot) -> AsyncIterator[None]:
    task = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=30)
    )
    try:
        yield
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(task, 5)


async def test_explicit_session_setup(emu: Emulator, anna: EmulatedUser) -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url))
    bot = Bot(emu.token, session=session)
    try:
        me = await bot.get_me()
        assert me.username == "opora_test_bot"
        assert me.is_bot
    finally:
        await bot.session.close()


async def test_send_html_with_inline_keyboard(bot: Bot, anna: EmulatedUser) -> None:
    builder = InlineKeyboardBuilder()
    builder.button(text="Да ✅", callback_data="answer:yes")
    builder.button(text="Сайт", url="https://example.org")
    sent = await bot.send_message(
        anna.id,
        "<b>Опора</b> &amp; <i>вы</i> 🎉",
        parse_mode="HTML",
        reply_markup=builder.as_markup(),
        disable_notification=True,
        protect_content=True,
    )
    assert sent.text == "Опора & вы 🎉"
    assert sent.entities is not None
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 5),
        ("italic", 8, 2),
    ]
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "answer:yes"
    message = await anna.next_message()
    assert message.html == "<b>Опора</b> &amp; <i>вы</i> 🎉"
    assert message.button_texts() == ["Да ✅", "Сайт"]


async def test_default_parse_mode_and_errors(emu: Emulator, anna: EmulatedUser) -> None:
    bot = Bot(
        emu.token,
        session=AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url)),
        default=DefaultBotProperties(parse_mode="HTML"),
    )
    try:
        await bot.send_message(anna.id, "<u>подчёркнуто</u>")
        assert (await anna.next_message()).html == "<u>подчёркнуто</u>"
        with pytest.raises(TelegramBadRequest, match='Unsupported start tag "br"'):
            await bot.send_message(anna.id, "строка<br>строка")
        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await bot.send_message(424242, "кто здесь?")
    finally:
        await bot.session.close()


async def test_edits(bot: Bot, anna: EmulatedUser) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="A", callback_data="a")]]
    )
    sent = await bot.send_message(anna.id, "v1", reply_markup=markup)
    original = await anna.next_message()
    edited = await bot.edit_message_text(
        chat_id=anna.id,
        message_id=sent.message_id,
        text="<b>v2</b>",
        parse_mode="HTML",
        reply_markup=markup,
    )
    assert isinstance(edited, Message)
    assert edited.edit_date is not None
    assert (await anna.wait_edit(original)).html == "<b>v2</b>"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=anna.id, message_id=sent.message_id, reply_markup=markup
        )
    await bot.edit_message_reply_markup(chat_id=anna.id, message_id=sent.message_id)
    assert anna.current(original).buttons == []
    assert await bot.delete_message(anna.id, sent.message_id) is True
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(chat_id=anna.id, message_id=sent.message_id, text="x")


async def test_photo_and_document_uploads(bot: Bot, anna: EmulatedUser) -> None:
    image = png(64, 48)
    sent = await bot.send_photo(
        anna.id,
        BufferedInputFile(image, filename="chart.png"),
        caption="<i>График</i>",
        parse_mode="HTML",
    )
    assert sent.photo is not None
    assert (sent.photo[-1].width, sent.photo[-1].height) == (64, 48)
    photo = await anna.next_message()
    assert photo.photo == image
    assert photo.html == "<i>График</i>"

    # Re-send by file_id, then edit the caption.
    again = await bot.send_photo(anna.id, sent.photo[-1].file_id)
    assert again.photo is not None
    edited = await bot.edit_message_caption(
        chat_id=anna.id, message_id=again.message_id, caption="подпись"
    )
    assert isinstance(edited, Message)
    assert edited.caption == "подпись"

    doc = await bot.send_document(
        anna.id, BufferedInputFile(b"%PDF-1.7 fake", filename="otchet.pdf"), caption="PDF"
    )
    assert doc.document is not None
    assert doc.document.file_name == "otchet.pdf"
    assert doc.document.mime_type == "application/pdf"
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(anna.id, BufferedInputFile(b"garbage", filename="x.jpg"))


async def test_download_user_photo(bot: Bot, anna: EmulatedUser) -> None:
    image = png(5, 5)
    await anna.send_photo(image)
    updates = await bot.get_updates()
    message = updates[-1].message
    assert message is not None
    assert message.photo is not None
    downloaded = await bot.download(message.photo[-1].file_id)
    assert downloaded is not None
    assert downloaded.read() == image


async def test_my_commands_with_language(bot: Bot, emu: Emulator) -> None:
    ru = [
        BotCommand(command="start", description="Начать"),
        BotCommand(command="help", description="Помощь"),
    ]
    en = [BotCommand(command="start", description="Start")]
    assert await bot.set_my_commands(ru, language_code="ru")
    assert await bot.set_my_commands(en, scope=BotCommandScopeAllPrivateChats())
    assert [c.command for c in await bot.get_my_commands(language_code="ru")] == ["start", "help"]
    assert await bot.get_my_commands() == []
    private = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats())
    assert private[0].description == "Start"
    assert emu.commands(language_code="ru")[1] == {"command": "help", "description": "Помощь"}
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad-Name", description="x")])


async def test_get_updates_long_polling_returns_promptly(bot: Bot, emu: Emulator) -> None:
    loop = asyncio.get_running_loop()
    state = emu.bot_state()
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    assert await state.activity.wait_for(lambda: state.poll is not None, 5)
    started = loop.time()
    await emu.user(11).send("ау")
    updates = await asyncio.wait_for(poll, 5)
    assert loop.time() - started < 1.0
    assert updates[0].message is not None
    assert updates[0].message.text == "ау"


async def test_webhook_methods(bot: Bot) -> None:
    assert await bot.set_webhook("https://example.org/hook", secret_token="abc")
    info = await bot.get_webhook_info()
    assert info.url == "https://example.org/hook"
    with pytest.raises(TelegramConflictError):
        await bot.get_updates()
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""


async def test_echo_bot_end_to_end(bot: Bot, emu: Emulator) -> None:
    dp = Dispatcher()

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.html_text, parse_mode="HTML")

    user = emu.user(21, first_name="Ира")
    async with polling(dp, bot):
        await user.send("привет <b>&")
        reply = await user.next_message()
    assert reply.text == "привет <b>&"
    assert reply.html == "привет &lt;b&gt;&amp;"
    assert emu.rejections() == []


async def test_menu_bot_end_to_end(bot: Bot, emu: Emulator) -> None:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        builder = InlineKeyboardBuilder()
        builder.button(text="Нужна помощь", callback_data="help")
        payload = (message.text or "").partition(" ")[2]
        await message.answer(
            f"Здравствуйте! <code>{payload}</code>",
            parse_mode="HTML",
            reply_markup=builder.as_markup(),
        )

    @dp.callback_query(F.data == "help")
    async def help_pressed(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text("Мы рядом.")
        await query.answer("Заявка принята", show_alert=True)

    user = emu.user(22, first_name="Олег")
    async with polling(dp, bot):
        await user.send("/start ref42")
        menu = await user.next_message()
        assert menu.html == "Здравствуйте! <code>ref42</code>"
        answer = await user.press("Нужна помощь")
        assert answer.text == "Заявка принята"
        assert answer.show_alert
        edited = await user.wait_edit(menu)
        assert edited.text == "Мы рядом."
        assert edited.buttons == []
        await user.no_message(within=0.05)
    assert emu.rejections() == []
    assert emu.delivered(user.id) == 1
