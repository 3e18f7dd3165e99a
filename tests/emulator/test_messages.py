"""Sending, editing and deleting messages: Telegram's checks and error texts."""

from __future__ import annotations

from typing import Any

import pytest

from bot.emulator import EmulatedUser, Emulator

from .conftest import Api

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


def inline(*rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"inline_keyboard": list(rows)}


async def test_send_message_result_shape(emu: Emulator, api: Api, anna: EmulatedUser) -> None:
    result = await api.ok("sendMessage", chat_id=anna.id, text="Привет!")
    assert result["message_id"] == 2  # the user's /start is #1
    assert result["from"] == {
        "id": 123456789,
        "is_bot": True,
        "first_name": "Опора",
        "username": "opora_test_bot",
    }
    assert result["chat"] == {
        "id": 7,
        "first_name": "Анна",
        "username": "anna",
        "type": "private",
    }
    assert isinstance(result["date"], int)
    assert "entities" not in result
    assert emu.delivered(anna.id) == 1


async def test_chat_not_found_for_strangers(emu: Emulator, api: Api) -> None:
    emu.user(99)  # known to the emulator, but never wrote to the bot
    for chat_id in (99, 12345, "@someone", "-100123"):
        assert await api.error("sendMessage", chat_id=chat_id, text="hi") == (
            400,
            "Bad Request: chat not found",
        )


async def test_chat_id_is_required(api: Api) -> None:
    assert await api.error("sendMessage", text="hi") == (400, "Bad Request: chat_id is empty")


async def test_chat_id_may_be_a_string(api: Api, anna: EmulatedUser) -> None:
    assert (await api.ok("sendMessage", chat_id="7", text="x"))["chat"]["id"] == 7


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"text": ""}, "Bad Request: message text is empty"),
        ({}, "Bad Request: message text is empty"),
        ({"text": "  \n "}, "Bad Request: message text is empty"),
        ({"text": "<b> </b>", "parse_mode": "HTML"}, "Bad Request: message text is empty"),
        ({"text": "x" * 4097}, "Bad Request: message is too long"),
        ({"text": "😀" * 2049}, "Bad Request: message is too long"),
        (
            {"text": "<b>" + "x" * 4097 + "</b>", "parse_mode": "HTML"},
            "Bad Request: message is too long",
        ),
        (
            {"text": "<foo>", "parse_mode": "HTML"},
            'Bad Request: can\'t parse entities: Unsupported start tag "foo" at byte offset 0',
        ),
        (
            {"text": "<b>x", "parse_mode": "html"},
            "Bad Request: can't parse entities: Can't find end tag corresponding to start "
            'tag "b"',
        ),
        (
            {"text": "1 < 2", "parse_mode": "HTML"},
            'Bad Request: can\'t parse entities: Unsupported start tag "" at byte offset 2',
        ),
        ({"text": "x", "parse_mode": "Klingon"}, "Bad Request: unsupported parse_mode"),
        (
            {"text": "ab", "entities": [{"type": "bold", "offset": 1, "length": 5}]},
            "Bad Request: entity beginning at UTF-16 offset 1 ends after the end of the text "
            "at UTF-16 offset 6",
        ),
        ({"text": "ab", "entities": "[oops"}, "Bad Request: can't parse entities JSON object"),
    ],
)
async def test_send_message_checks(
    api: Api, anna: EmulatedUser, params: dict[str, Any], description: str
) -> None:
    assert await api.error("sendMessage", chat_id=anna.id, **params) == (400, description)


async def test_text_limits_are_inclusive(api: Api, anna: EmulatedUser) -> None:
    await api.ok("sendMessage", chat_id=anna.id, text="x" * 4096)
    await api.ok("sendMessage", chat_id=anna.id, text="😀" * 2048)
    await api.ok("sendMessage", chat_id=anna.id, text=f"<b>{'x' * 4096}</b>", parse_mode="HTML")


async def test_markdown_is_rejected_clearly(api: Api, anna: EmulatedUser) -> None:
    _, description = await api.error(
        "sendMessage", chat_id=anna.id, text="*x*", parse_mode="MarkdownV2"
    )
    assert "not supported by the emulator" in description


async def test_explicit_entities_and_plain_text(api: Api, anna: EmulatedUser) -> None:
    result = await api.ok(
        "sendMessage",
        chat_id=anna.id,
        text="<b>не тег</b>",
        entities=[{"type": "italic", "offset": 0, "length": 3}],
    )
    assert result["text"] == "<b>не тег</b>"
    assert result["entities"] == [{"type": "italic", "offset": 0, "length": 3}]
    assert anna.last_bot_message is not None
    assert anna.last_bot_message.html == "<i>&lt;b&gt;</i>не тег&lt;/b&gt;"


async def test_html_text_with_emoji_offsets(api: Api, anna: EmulatedUser) -> None:
    result = await api.ok(
        "sendMessage", chat_id=anna.id, text="🎉 <b>Опора</b> /help", parse_mode="HTML"
    )
    assert result["text"] == "🎉 Опора /help"
    assert result["entities"] == [
        {"type": "bold", "offset": 3, "length": 5},
        {"type": "bot_command", "offset": 9, "length": 5},
    ]


@pytest.mark.parametrize(
    ("button", "description"),
    [
        (
            {"text": "A"},
            "Bad Request: can't parse inline keyboard button: Text buttons are "
            "unallowed in the inline keyboard",
        ),
        (
            {"text": "A", "callback_data": ""},
            "Bad Request: can't parse inline keyboard button: "
            "Text buttons are unallowed in the inline keyboard",
        ),
        (
            {"callback_data": "x"},
            "Bad Request: can't parse inline keyboard button: Field "
            '"text" must be of type String',
        ),
        ({"text": "", "callback_data": "x"}, "Bad Request: BUTTON_TEXT_INVALID"),
        ({"text": "A", "callback_data": "x" * 65}, "Bad Request: BUTTON_DATA_INVALID"),
        ({"text": "A", "callback_data": "я" * 33}, "Bad Request: BUTTON_DATA_INVALID"),
        ({"text": "A", "url": "ftp://example.org"}, "Bad Request: BUTTON_URL_INVALID"),
        ({"text": "A", "url": "not a url"}, "Bad Request: BUTTON_URL_INVALID"),
    ],
)
async def test_inline_keyboard_validation(
    api: Api, anna: EmulatedUser, button: dict[str, Any], description: str
) -> None:
    assert await api.error(
        "sendMessage", chat_id=anna.id, text="x", reply_markup=inline([button])
    ) == (400, description)


async def test_inline_button_needs_exactly_one_action(api: Api, anna: EmulatedUser) -> None:
    _, description = await api.error(
        "sendMessage",
        chat_id=anna.id,
        text="x",
        reply_markup=inline([{"text": "A", "callback_data": "a", "url": "https://x.org"}]),
    )
    assert description.startswith("Bad Request: can't parse inline keyboard button: exactly one")


async def test_valid_inline_buttons(api: Api, anna: EmulatedUser) -> None:
    markup = inline(
        [{"text": "Да", "callback_data": "x" * 64}, {"text": "Сайт", "url": "https://x.org"}],
        [{"text": "TG", "url": "tg://resolve?domain=durov"}],
    )
    result = await api.ok("sendMessage", chat_id=anna.id, text="x", reply_markup=markup)
    assert result["reply_markup"] == markup
    message = anna.last_bot_message
    assert message is not None
    assert message.button_texts() == ["Да", "Сайт", "TG"]
    assert message.buttons[0][1].url == "https://x.org"


async def test_bad_markup_json(api: Api, anna: EmulatedUser) -> None:
    assert await api.error("sendMessage", chat_id=anna.id, text="x", reply_markup="{") == (
        400,
        "Bad Request: can't parse reply keyboard markup JSON object",
    )
    assert await api.error(
        "sendMessage", chat_id=anna.id, text="x", reply_markup={"inline_keyboard": [1]}
    ) == (
        400,
        'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup should be an Array '
        "of Arrays",
    )


async def test_reply_keyboards_are_stored(api: Api, anna: EmulatedUser) -> None:
    keyboard = {"keyboard": [["Да", {"text": "Нет"}]], "resize_keyboard": True}
    result = await api.ok("sendMessage", chat_id=anna.id, text="?", reply_markup=keyboard)
    assert "reply_markup" not in result  # Telegram only echoes inline keyboards
    assert anna.reply_keyboard == [["Да", "Нет"]]
    assert anna.last_bot_message is not None
    assert anna.last_bot_message.reply_keyboard == [["Да", "Нет"]]
    await api.ok("sendMessage", chat_id=anna.id, text="ok", reply_markup={"force_reply": True})
    assert anna.reply_keyboard == [["Да", "Нет"]]
    await api.ok("sendMessage", chat_id=anna.id, text="ok", reply_markup={"remove_keyboard": True})
    assert anna.reply_keyboard is None


async def test_reply_parameters(api: Api, anna: EmulatedUser) -> None:
    result = await api.ok(
        "sendMessage", chat_id=anna.id, text="re", reply_parameters={"message_id": 1}
    )
    assert result["reply_to_message"]["text"] == "/start"
    assert await api.error(
        "sendMessage", chat_id=anna.id, text="re", reply_parameters={"message_id": 999}
    ) == (400, "Bad Request: message to be replied not found")
    ok = await api.ok(
        "sendMessage",
        chat_id=anna.id,
        text="re",
        reply_parameters={"message_id": 999, "allow_sending_without_reply": True},
    )
    assert "reply_to_message" not in ok


async def test_edit_message_text(api: Api, anna: EmulatedUser) -> None:
    sent = await api.ok(
        "sendMessage",
        chat_id=anna.id,
        text="v1",
        reply_markup=inline([{"text": "A", "callback_data": "a"}]),
    )
    first = await anna.next_message()
    edited = await api.ok(
        "editMessageText",
        chat_id=anna.id,
        message_id=sent["message_id"],
        text="<i>v2</i>",
        parse_mode="HTML",
        reply_markup=inline([{"text": "B", "callback_data": "b"}]),
    )
    assert edited["text"] == "v2"
    assert isinstance(edited["edit_date"], int)
    current = anna.current(first)
    assert current.html == "<i>v2</i>"
    assert current.edited
    assert current.version == 1
    assert current.button_texts() == ["B"]

    # Editing the text without reply_markup removes the inline keyboard.
    await api.ok("editMessageText", chat_id=anna.id, message_id=sent["message_id"], text="v3")
    assert anna.current(first).buttons == []


async def test_the_replaced_link_preview_parameter_is_refused(
    emu: Emulator, api: Api, anna: EmulatedUser
) -> None:
    """disable_web_page_preview gave way to link_preview_options (Bot API 7.0) and is gone from
    the spec; a client that still sends it beside the new one may not get what it meant."""
    replaced = (
        400,
        "Bad Request: disable_web_page_preview is no longer a parameter of the Bot API: "
        "use link_preview_options",
    )
    off = {"is_disabled": True}
    link = "https://example.org"
    for encoding in ("json", "form"):
        assert await api.call(
            "sendMessage", chat_id=anna.id, text=link, disable_web_page_preview=True,
            link_preview_options=off, encoding=encoding,
        ) == (400, {"ok": False, "error_code": 400, "description": replaced[1]})  # fmt: skip
    sent = await api.ok("sendMessage", chat_id=anna.id, text=link, link_preview_options=off)
    assert emu.calls_of("sendMessage")[-1].params["link_preview_options"] == off
    assert await api.error(
        "editMessageText", chat_id=anna.id, message_id=sent["message_id"], text=link + "/a",
        disable_web_page_preview=True,
    ) == replaced  # fmt: skip
    assert [call.error_code for call in emu.rejections()] == [400, 400, 400]


async def test_edit_not_modified(api: Api, anna: EmulatedUser) -> None:
    markup = inline([{"text": "A", "callback_data": "a"}])
    sent = await api.ok(
        "sendMessage", chat_id=anna.id, text="<b>same</b>", parse_mode="HTML", reply_markup=markup
    )
    mid = sent["message_id"]
    assert await api.error(
        "editMessageText",
        chat_id=anna.id,
        message_id=mid,
        text="<b>same</b>",
        parse_mode="HTML",
        reply_markup=markup,
    ) == (400, NOT_MODIFIED)
    assert await api.error(
        "editMessageReplyMarkup", chat_id=anna.id, message_id=mid, reply_markup=markup
    ) == (400, NOT_MODIFIED)
    # Different entities make a difference.
    await api.ok(
        "editMessageText", chat_id=anna.id, message_id=mid, text="same", reply_markup=markup
    )
    # Removing the keyboard, then removing it again.
    await api.ok("editMessageReplyMarkup", chat_id=anna.id, message_id=mid)
    assert await api.error("editMessageReplyMarkup", chat_id=anna.id, message_id=mid) == (
        400,
        NOT_MODIFIED,
    )


async def test_edit_errors(api: Api, anna: EmulatedUser) -> None:
    assert await api.error("editMessageText", chat_id=anna.id, message_id=999, text="x") == (
        400,
        "Bad Request: message to edit not found",
    )
    assert await api.error("editMessageText", chat_id=anna.id, message_id=1, text="x") == (
        400,
        "Bad Request: message can't be edited",
    )
    assert await api.error("editMessageCaption", chat_id=anna.id, message_id=999) == (
        400,
        "Bad Request: message to edit not found",
    )
    sent = await api.ok("sendMessage", chat_id=anna.id, text="text")
    assert await api.error(
        "editMessageCaption", chat_id=anna.id, message_id=sent["message_id"], caption="c"
    ) == (400, "Bad Request: there is no caption in the message to edit")
    assert await api.error(
        "editMessageText", chat_id=anna.id, message_id=sent["message_id"], text=""
    ) == (400, "Bad Request: message text is empty")
    assert await api.error(
        "editMessageText",
        chat_id=anna.id,
        message_id=sent["message_id"],
        text="<x>",
        parse_mode="HTML",
    ) == (400, 'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0')
    assert await api.error(
        "editMessageReplyMarkup",
        chat_id=anna.id,
        message_id=sent["message_id"],
        reply_markup={"keyboard": [["x"]]},
    ) == (400, "Bad Request: inline keyboard expected")
    assert await api.error("editMessageText", inline_message_id="abc", text="x") == (
        400,
        "Bad Request: MESSAGE_ID_INVALID",
    )


async def test_delete_message(api: Api, anna: EmulatedUser) -> None:
    sent = await api.ok("sendMessage", chat_id=anna.id, text="bye")
    message = await anna.next_message()
    assert await api.ok("deleteMessage", chat_id=anna.id, message_id=sent["message_id"]) is True
    assert anna.current(message).deleted
    assert message.message_id not in [m.message_id for m in anna.history]
    assert await api.error("deleteMessage", chat_id=anna.id, message_id=sent["message_id"]) == (
        400,
        "Bad Request: message to delete not found",
    )
    assert await api.error("deleteMessage", chat_id=anna.id, message_id=777) == (
        400,
        "Bad Request: message to delete not found",
    )
    assert await api.error(
        "editMessageText", chat_id=anna.id, message_id=sent["message_id"], text="x"
    ) == (400, "Bad Request: message to edit not found")


async def test_answer_callback_query(emu: Emulator, api: Api, anna: EmulatedUser) -> None:
    import asyncio

    await api.ok(
        "sendMessage",
        chat_id=anna.id,
        text="?",
        reply_markup=inline([{"text": "Да", "callback_data": "yes"}]),
    )
    press = asyncio.create_task(anna.press("Да"))
    updates = await api.ok("getUpdates", timeout=5)
    query = updates[-1]["callback_query"]
    assert query["data"] == "yes"
    assert query["from"]["id"] == anna.id
    assert query["message"]["text"] == "?"
    assert query["chat_instance"]
    assert await api.error(
        "answerCallbackQuery", callback_query_id=query["id"], text="x" * 201
    ) == (400, "Bad Request: MESSAGE_TOO_LONG")
    assert await api.ok(
        "answerCallbackQuery", callback_query_id=query["id"], text="Готово", show_alert=True
    )
    answer = await press
    assert answer.text == "Готово"
    assert answer.show_alert is True
    too_old = "Bad Request: query is too old and response timeout expired or query ID is invalid"
    assert await api.error("answerCallbackQuery", callback_query_id=query["id"]) == (400, too_old)
    assert await api.error("answerCallbackQuery", callback_query_id="nope") == (400, too_old)


async def test_chat_action(api: Api, anna: EmulatedUser) -> None:
    assert await api.ok("sendChatAction", chat_id=anna.id, action="typing") is True
    assert anna.last_chat_action == "typing"
    assert await api.error("sendChatAction", chat_id=anna.id, action="dancing") == (
        400,
        "Bad Request: wrong parameter action in request",
    )
    assert await api.error("sendChatAction", chat_id=555, action="typing") == (
        400,
        "Bad Request: chat not found",
    )


async def test_my_commands_per_scope_and_language(emu: Emulator, api: Api) -> None:
    ru = [{"command": "start", "description": "Начать"}]
    en = [{"command": "start", "description": "Start"}, {"command": "help_me", "description": "?"}]
    assert await api.ok("setMyCommands", commands=ru, language_code="ru") is True
    assert await api.ok("setMyCommands", commands=en) is True
    private = {"type": "all_private_chats"}
    await api.ok("setMyCommands", commands=en[:1], scope=private)
    assert await api.ok("getMyCommands", language_code="ru") == ru
    assert await api.ok("getMyCommands") == en
    assert await api.ok("getMyCommands", language_code="de") == []
    assert await api.ok("getMyCommands", scope=private) == en[:1]
    assert emu.commands(language_code="ru") == ru
    assert emu.commands(scope=private) == en[:1]
    assert await api.ok("deleteMyCommands", language_code="ru") is True
    assert await api.ok("getMyCommands", language_code="ru") == []


@pytest.mark.parametrize(
    ("commands", "description"),
    [
        ([{"command": "Start", "description": "x"}], "Bad Request: BOT_COMMAND_INVALID"),
        ([{"command": "/start", "description": "x"}], "Bad Request: BOT_COMMAND_INVALID"),
        ([{"command": "a" * 33, "description": "x"}], "Bad Request: BOT_COMMAND_INVALID"),
        ([{"command": "", "description": "x"}], "Bad Request: BOT_COMMAND_INVALID"),
        ([{"command": "ok", "description": ""}], "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"),
        (
            [{"command": "ok", "description": "x" * 257}],
            "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID",
        ),
        (
            [{"command": f"c{i}", "description": "x"} for i in range(101)],
            "Bad Request: BOT_COMMANDS_TOO_MUCH",
        ),
    ],
)
async def test_set_my_commands_validation(
    api: Api, commands: list[dict[str, str]], description: str
) -> None:
    assert await api.error("setMyCommands", commands=commands) == (400, description)


async def test_command_limits_are_inclusive(api: Api) -> None:
    commands = [{"command": f"c{i:031d}", "description": "d" * 256} for i in range(100)]
    assert await api.ok("setMyCommands", commands=commands) is True
    assert await api.error("setMyCommands", commands=commands[:1], language_code="russian") == (
        400,
        "Bad Request: LANG_CODE_INVALID",
    )


async def test_descriptions_are_stored(emu: Emulator, api: Api) -> None:
    assert await api.ok("setMyDescription", description="Опора помогает") is True
    assert await api.ok("setMyShortDescription", short_description="Кратко", language_code="ru")
    assert await api.ok("getMyDescription") == {"description": "Опора помогает"}
    assert await api.ok("getMyShortDescription", language_code="ru") == {
        "short_description": "Кратко"
    }
    assert emu.bot_state().descriptions == {"": "Опора помогает"}


async def test_text_mention_of_a_known_user(api: Api, anna: EmulatedUser) -> None:
    result = await api.ok(
        "sendMessage",
        chat_id=anna.id,
        text=f'<a href="tg://user?id={anna.id}">Анна</a>, привет',
        parse_mode="HTML",
    )
    (entity,) = result["entities"]
    assert entity["type"] == "text_mention"
    assert entity["user"]["first_name"] == "Анна"
    assert anna.last_bot_message is not None
    assert anna.last_bot_message.html == f'<a href="tg://user?id={anna.id}">Анна</a>, привет'


async def test_get_chat_and_delete_messages(api: Api, anna: EmulatedUser) -> None:
    chat = await api.ok("getChat", chat_id=anna.id)
    assert chat["type"] == "private"
    assert chat["first_name"] == "Анна"
    first = await api.ok("sendMessage", chat_id=anna.id, text="1")
    second = await api.ok("sendMessage", chat_id=anna.id, text="2")
    assert await api.ok(
        "deleteMessages", chat_id=anna.id, message_ids=[first["message_id"], second["message_id"]]
    )
    assert [m.text for m in anna.history] == ["/start"]


async def test_send_sticker_by_file_id(api: Api, anna: EmulatedUser) -> None:
    sticker = await anna.send_sticker("🐱")
    assert sticker.file_id is not None
    result = await api.ok("sendSticker", chat_id=anna.id, sticker=sticker.file_id)
    assert result["sticker"]["emoji"] == "🐱"
    message = await anna.next_message()
    assert message.kind == "sticker"
    assert message.sticker_emoji == "🐱"
