"""Inline mode, chosen results, inline_message_id edits, and groups/channels the bot is in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import (
    CallbackQuery,
    ChatMemberAdministrator,
    ChatMemberUpdated,
    ChosenInlineResult,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InputTextMessageContent,
)

from bot.emulator import EmulatedUser, Emulator

from .conftest import Api


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


def _markup(label: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text="Записаться", url="https://t.me/opora_test_bot?start=opp_1"
                )
            ],
            [InlineKeyboardButton(text=label, callback_data="seats")],
        ]
    )


async def test_inline_query_results_choice_and_inline_edits(
    emu: Emulator, bot: Bot, anna: EmulatedUser
) -> None:
    emu.set_inline_mode(feedback=True)
    assert (await bot.get_me()).supports_inline_queries
    dp = Dispatcher()
    asked: list[InlineQuery] = []
    chosen: list[ChosenInlineResult] = []
    pressed: list[CallbackQuery] = []

    @dp.inline_query()
    async def on_query(query: InlineQuery) -> None:
        asked.append(query)
        await query.answer(
            [
                InlineQueryResultArticle(
                    id="opp_1",
                    title="Субботник",
                    description="Сб 10:00",
                    input_message_content=InputTextMessageContent(
                        message_text="<b>Субботник</b> — 3 места", parse_mode="HTML"
                    ),
                    reply_markup=_markup("3 места"),
                )
            ],
            cache_time=30,
            is_personal=True,
        )

    @dp.chosen_inline_result()
    async def on_chosen(result: ChosenInlineResult) -> None:
        chosen.append(result)
        assert result.inline_message_id is not None
        await bot.edit_message_text(
            inline_message_id=result.inline_message_id,
            text="<b>Субботник</b> — 2 места",
            parse_mode="HTML",
            reply_markup=_markup("2 места"),
        )

    @dp.callback_query()
    async def on_press(query: CallbackQuery) -> None:
        pressed.append(query)
        await query.answer("ok")

    friends = emu.group(555, "Anna and Boris", chat_type="private")
    async with polling(dp, bot):
        answer = await anna.inline("субботник", chat=friends)
        assert answer.titles() == ["Субботник"]
        assert answer.is_personal
        assert answer.cache_time == 30
        assert asked[0].query == "субботник"
        assert asked[0].chat_type == "private"
        result = answer.result("opp_1")
        assert result.text == "Субботник — 3 места"
        again = await anna.inline("субботник", chat=friends)
        assert again.from_cache
        assert len(asked) == 1  # Telegram's cache, not the bot

        card = await anna.choose(answer, "opp_1")
        assert card.via_bot == "opora_test_bot"
        assert card.sender_id == anna.id
        assert card.inline_message_id is not None
        edited = await friends.wait_edit(card)
        assert edited.text == "Субботник — 2 места"
        assert edited.button_texts() == ["Записаться", "2 места"]
        assert chosen[0].result_id == "opp_1"
        assert chosen[0].query == "субботник"

        boris = emu.user(8, first_name="Boris")
        reply = await boris.press("2 места", message=edited)
        assert reply.text == "ok"
        assert pressed[0].message is None
        assert pressed[0].inline_message_id == card.inline_message_id

        opened = await boris.press_url("Записаться", message=edited)
        assert opened.text == "/start opp_1"

    # Edits by chat and message id are refused for a message sent via the bot.
    with pytest.raises(TelegramBadRequest, match="MESSAGE_ID_INVALID"):
        await bot.edit_message_reply_markup(inline_message_id="nonsense", reply_markup=None)
    assert [c.method for c in emu.rejections()] == ["editMessageReplyMarkup"]


async def test_no_feedback_no_chosen_result_and_bad_results(
    emu: Emulator, bot: Bot, anna: EmulatedUser, api: Api
) -> None:
    emu.set_inline_mode(feedback=False)
    dp = Dispatcher()
    chosen: list[ChosenInlineResult] = []
    answers: list[str] = []

    @dp.inline_query()
    async def on_query(query: InlineQuery) -> None:
        if query.query == "bad":
            _, text = await api.error(
                "answerInlineQuery",
                inline_query_id=query.id,
                results=[{"type": "article", "id": "x", "title": "X"}],
            )
            answers.append(text)
            _, text = await api.error(
                "answerInlineQuery",
                inline_query_id=query.id,
                results=[
                    {
                        "type": "article",
                        "id": "x",
                        "title": "X",
                        "input_message_content": {"message_text": "x"},
                    }
                ]
                * 2,
            )
            answers.append(text)
        await query.answer(
            [
                InlineQueryResultArticle(
                    id="plain",
                    title="Plain",
                    input_message_content=InputTextMessageContent(message_text="plain"),
                )
            ],
            cache_time=0,
        )

    @dp.chosen_inline_result()
    async def on_chosen(result: ChosenInlineResult) -> None:
        chosen.append(result)

    async with polling(dp, bot):
        answer = await anna.inline("bad")
        assert "input message content" in answers[0]
        assert answers[1].endswith("RESULT_ID_DUPLICATE")
        message = await anna.choose(answer, "plain")
        assert message.inline_message_id is None  # no keyboard, no inline_message_id
        assert message.chat_id == anna.id  # chosen in the bot's own chat
        again = await anna.inline("bad")
        assert not again.from_cache  # cache_time=0
        await anna.no_message(within=0.2)
    assert chosen == []


async def test_groups_and_channels(emu: Emulator, bot: Bot, anna: EmulatedUser) -> None:
    group = emu.group(-100200, "Добровольцы района", username="dobro_rayon")
    channel = emu.group(-100300, "Новости", chat_type="channel", username="news_chan")
    emu.set_member(group, anna.id, "administrator")
    with pytest.raises(TelegramForbiddenError, match="not a member of the supergroup chat"):
        await bot.send_message(group.id, "hi")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message("@news_chan", "hi")  # a bot sees no channel it is not in

    dp = Dispatcher()
    joined: list[ChatMemberUpdated] = []
    both = asyncio.Event()

    @dp.my_chat_member()
    async def on_member(update: ChatMemberUpdated) -> None:
        joined.append(update)
        if len(joined) == 2:
            both.set()

    async with polling(dp, bot):
        emu.add_bot(group, by=anna.id)
        emu.add_bot(channel, by=anna.id, status="administrator", can_post_messages=False)
        await asyncio.wait_for(both.wait(), 5)
    assert [u.chat.id for u in joined] == [group.id, channel.id]
    assert joined[0].new_chat_member.status == "administrator"
    assert joined[0].from_user.id == anna.id

    me = await bot.get_chat_member(group.id, bot.id)
    assert me.status == "administrator"
    organiser = await bot.get_chat_member("@dobro_rayon", anna.id)
    assert organiser.status == "administrator"
    emu.user(8, first_name="Boris")
    assert (await bot.get_chat_member(group.id, 8)).status == "left"
    chat = await bot.get_chat("@dobro_rayon")
    assert chat.id == group.id
    assert chat.type == "supergroup"

    sent = await bot.send_message("@dobro_rayon", "<b>Субботник</b>", parse_mode="HTML")
    assert sent.chat.id == group.id
    assert sent.from_user is not None
    await bot.edit_message_text(
        "<b>Субботник</b> — мест нет",
        chat_id=group.id,
        message_id=sent.message_id,
        parse_mode="HTML",
    )
    assert group.current(sent.message_id).text == "Субботник — мест нет"

    with pytest.raises(TelegramBadRequest, match="need administrator rights in the channel"):
        await bot.send_message(channel.id, "hi")
    emu.add_bot(channel, by=anna.id, can_post_messages=True)
    posted = await bot.send_message(channel.id, "post")
    assert posted.sender_chat is not None
    assert posted.sender_chat.id == channel.id
    member = await bot.get_chat_member(channel.id, bot.id)
    assert isinstance(member, ChatMemberAdministrator)
    assert member.can_post_messages is True


async def test_the_bots_membership_changes_as_telegram_tells_them(
    emu: Emulator, bot: Bot, anna: EmulatedUser
) -> None:
    group = emu.group(-100400, "Двор")
    channel = emu.group(-100401, "Новости двора", chat_type="channel")
    emu.set_member(group, anna.id, "creator")
    before = len(emu.pending_updates())
    emu.add_bot(group, by=anna.id)
    emu.add_bot(group, by=anna.id)  # nothing changed: Telegram sends nothing
    emu.add_bot(group, by=anna.id, status="restricted")
    emu.add_bot(group, by=anna.id, status="kicked")
    updates = [u["my_chat_member"] for u in emu.pending_updates()[before:]]
    assert [(u["old_chat_member"]["status"], u["new_chat_member"]["status"]) for u in updates] == [
        ("left", "administrator"),
        ("administrator", "restricted"),
        ("restricted", "kicked"),
    ]
    restricted = updates[1]["new_chat_member"]
    assert restricted["is_member"] is True
    assert restricted["can_send_messages"] is False
    assert restricted["until_date"] == 0
    assert updates[2]["new_chat_member"]["until_date"] == 0
    assert all(u["from"]["id"] == anna.id and u["chat"]["id"] == group.id for u in updates)
    with pytest.raises(ValueError, match="only as an administrator"):
        emu.add_bot(channel, by=anna.id, status="member")
    emu.add_bot(group, by=anna.id, status="member")
    emu.add_bot(group, by=anna.id, status="restricted")
    with pytest.raises(TelegramBadRequest, match="not enough rights to send text messages"):
        await bot.send_message(group.id, "hi")
