"""The test-facing client: EmulatedUser and ChatMessage."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.emulator import Button, CallbackAnswer, EmulatedUser, Emulator, EmulatorTimeout

from .conftest import Api


def inline(*rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"inline_keyboard": list(rows)}


async def test_same_user_object_for_same_id(emu: Emulator) -> None:
    user = emu.user(7, first_name="Анна")
    assert emu.user(7) is user
    assert user.first_name == "Анна"
    assert user.language_code == "ru"
    assert emu.user(8) is not user


async def test_send_returns_the_users_message(emu: Emulator) -> None:
    user = emu.user(7)
    message = await user.send("  /start deep_link  ")
    assert message.text == "/start deep_link"
    assert message.from_bot is False
    assert message.entities == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert message.message_id == 1
    assert user.history == [message]
    with pytest.raises(ValueError, match="empty"):
        await user.send("   ")


async def test_next_message_is_a_cursor(api: Api, anna: EmulatedUser) -> None:
    for text in ("one", "two"):
        await api.ok("sendMessage", chat_id=anna.id, text=text)
    assert (await anna.next_message()).text == "one"
    assert (await anna.next_message()).text == "two"
    waiting = asyncio.create_task(anna.next_message(timeout=5))
    await api.ok("sendMessage", chat_id=anna.id, text="three")
    assert (await waiting).text == "three"
    assert [m.text for m in anna.bot_messages] == ["one", "two", "three"]


async def test_next_message_timeout_shows_the_transcript(anna: EmulatedUser) -> None:
    with pytest.raises(EmulatorTimeout) as info:
        await anna.next_message(timeout=0.05)
    assert isinstance(info.value, AssertionError)
    assert isinstance(info.value, asyncio.TimeoutError)
    assert "no new bot message within 0.05s" in str(info.value)
    assert "#1 user: /start" in str(info.value)


async def test_no_message(api: Api, anna: EmulatedUser) -> None:
    await anna.no_message(within=0.05)
    await api.ok("sendMessage", chat_id=anna.id, text="surprise")
    with pytest.raises(AssertionError, match="surprise"):
        await anna.no_message(within=1)
    assert (await anna.next_message()).text == "surprise"


async def test_messages_until(api: Api, anna: EmulatedUser) -> None:
    for text in ("a", "b", "done", "after"):
        await api.ok("sendMessage", chat_id=anna.id, text=text)
    messages = await anna.messages_until(lambda m: m.text == "done", timeout=1)
    assert [m.text for m in messages] == ["a", "b", "done"]
    with pytest.raises(EmulatorTimeout, match="no bot message matched"):
        await anna.messages_until(lambda m: m.text == "never", timeout=0.05)


async def test_press_and_answer(emu: Emulator, api: Api, anna: EmulatedUser) -> None:
    await api.ok(
        "sendMessage",
        chat_id=anna.id,
        text="Выбор",
        reply_markup=inline(
            [{"text": "Да", "callback_data": "yes"}, {"text": "Сайт", "url": "https://x.org"}]
        ),
    )
    message = await anna.next_message()
    assert message.buttons[0][0] == Button("Да", callback_data="yes")
    press = asyncio.create_task(anna.press("Да"))
    updates = await api.ok("getUpdates", timeout=5)
    query = updates[-1]["callback_query"]
    await api.ok("answerCallbackQuery", callback_query_id=query["id"], url="https://t.me/x")
    assert await press == CallbackAnswer(text=None, show_alert=False, url="https://t.me/x")

    with pytest.raises(AssertionError, match="not a callback button"):
        await anna.press("Сайт")
    with pytest.raises(AssertionError, match=r"no inline button 'Нет'.*\['Да', 'Сайт'\]"):
        await anna.press("Нет")


async def test_press_unanswered_is_a_clear_error(api: Api, anna: EmulatedUser) -> None:
    await api.ok(
        "sendMessage",
        chat_id=anna.id,
        text="x",
        reply_markup=inline([{"text": "A", "callback_data": "a"}]),
    )
    with pytest.raises(EmulatorTimeout, match="not answered with answerCallbackQuery"):
        await anna.press("A", timeout=0.05)


async def test_press_data_can_forge_callback_data(api: Api, anna: EmulatedUser) -> None:
    await api.ok(
        "sendMessage",
        chat_id=anna.id,
        text="x",
        reply_markup=inline([{"text": "A", "callback_data": "a"}]),
    )
    message = await anna.next_message()
    press = asyncio.create_task(anna.press_data("admin:drop_all", message=message))
    updates = await api.ok("getUpdates", timeout=5)
    query = updates[-1]["callback_query"]
    assert query["data"] == "admin:drop_all"
    assert query["message"]["message_id"] == message.message_id
    await api.ok("answerCallbackQuery", callback_query_id=query["id"], text="нельзя")
    assert (await press).text == "нельзя"


async def test_press_targets_newest_message_with_the_button(api: Api, anna: EmulatedUser) -> None:
    for text in ("old", "new"):
        await api.ok(
            "sendMessage",
            chat_id=anna.id,
            text=text,
            reply_markup=inline([{"text": "Go", "callback_data": text}]),
        )
    await api.ok("sendMessage", chat_id=anna.id, text="no buttons")
    old = await anna.next_message()
    press = asyncio.create_task(anna.press("Go"))
    query = (await api.ok("getUpdates", timeout=5))[-1]["callback_query"]
    assert query["data"] == "new"
    await api.ok("answerCallbackQuery", callback_query_id=query["id"])
    await press
    press = asyncio.create_task(anna.press("Go", message=old))
    query = (await api.ok("getUpdates", timeout=5))[-1]["callback_query"]
    assert query["data"] == "old"
    await api.ok("answerCallbackQuery", callback_query_id=query["id"])
    await press


async def test_wait_edit(api: Api, anna: EmulatedUser) -> None:
    sent = await api.ok("sendMessage", chat_id=anna.id, text="v1")
    message = await anna.next_message()
    waiting = asyncio.create_task(anna.wait_edit(message, timeout=5))
    await api.ok(
        "editMessageText",
        chat_id=anna.id,
        message_id=sent["message_id"],
        text="<b>v2</b>",
        parse_mode="HTML",
    )
    edited = await waiting
    assert edited.html == "<b>v2</b>"
    assert edited.version == 1
    assert edited.edited
    assert message.text == "v1"  # snapshots do not change
    with pytest.raises(EmulatorTimeout, match="was not edited"):
        await anna.wait_edit(edited, timeout=0.05)
    deleting = asyncio.create_task(anna.wait_deleted(edited, timeout=5))
    await api.ok("deleteMessage", chat_id=anna.id, message_id=sent["message_id"])
    await deleting
    assert anna.last_bot_message is None


async def test_history_and_transcript(api: Api, anna: EmulatedUser) -> None:
    await api.ok(
        "sendMessage",
        chat_id=anna.id,
        text="<b>Меню</b>",
        parse_mode="HTML",
        reply_markup=inline(
            [{"text": "A", "callback_data": "a"}, {"text": "B", "callback_data": "b"}]
        ),
    )
    assert [m.from_bot for m in anna.history] == [False, True]
    last = anna.last_bot_message
    assert last is not None
    assert last.button_texts() == ["A", "B"]
    assert last.button("B").callback_data == "b"
    transcript = anna.transcript()
    assert "#1 user: /start" in transcript
    assert "#2 bot : Меню  [buttons: A | B]" in transcript


async def test_press_reply_keyboard(api: Api, anna: EmulatedUser) -> None:
    await api.ok("sendMessage", chat_id=anna.id, text="?", reply_markup={"keyboard": [["Да"]]})
    sent = await anna.press_reply("Да")
    assert sent.text == "Да"
    with pytest.raises(AssertionError, match="no reply keyboard button"):
        await anna.press_reply("Нет")


async def test_skip_pending(api: Api, anna: EmulatedUser) -> None:
    await api.ok("sendMessage", chat_id=anna.id, text="a")
    assert anna.skip_pending() == 1
    await anna.no_message(within=0.01)


async def test_users_of_different_bots_are_separate(emu: Emulator, api: Api) -> None:
    other = "555:" + "B" * 35
    first = emu.user(3)
    second = emu.user(3, token=other)
    assert first is not second
    await second.send("/start")
    assert await api.error("sendMessage", chat_id=3, text="x") == (
        400,
        "Bad Request: chat not found",
    )
    status, _ = await api.call("sendMessage", token=other, chat_id=3, text="x")
    assert status == 200
    assert (await second.next_message()).text == "x"
    assert first.history == []
