"""Supergroups with forum topics: createForumTopic, message_thread_id, member rights."""

from __future__ import annotations

import asyncio

from aiogram import Bot

from bot.emulator import EmulatedUser, Emulator

from .conftest import Api

GROUP = -1001234567


async def test_forum_topic_round_trip(emu: Emulator, api: Api, anna: EmulatedUser) -> None:
    group = emu.group(GROUP, "Координаторы", creator=anna)
    chat = await api.ok("getChat", chat_id=GROUP)
    assert chat["type"] == "supergroup"
    assert chat["is_forum"] is True
    assert chat["title"] == "Координаторы"

    topic = await api.ok("createForumTopic", chat_id=GROUP, name="№1 · право")
    thread = topic["message_thread_id"]
    assert topic["name"] == "№1 · право"
    assert isinstance(topic["icon_color"], int)
    assert [t.name for t in group.topics] == ["№1 · право"]

    sent = await api.ok("sendMessage", chat_id=GROUP, text="Вопрос", message_thread_id=thread)
    assert sent["message_thread_id"] == thread
    assert sent["is_topic_message"] is True
    assert sent["chat"] == {
        "id": GROUP,
        "title": "Координаторы",
        "type": "supergroup",
        "is_forum": True,
    }
    shown = await group.next_message()
    assert shown.thread_id == thread
    assert shown.text == "Вопрос"

    # a member's reply in the topic arrives as a topic message with its sender
    boris = emu.user(8, first_name="Борис")
    group.add(boris)
    await group.send(boris, "Ответ", thread_id=thread)
    updates = await api.ok("getUpdates", offset=2)  # after anna's /start
    message = updates[-1]["message"]
    assert message["chat"]["type"] == "supergroup"
    assert message["from"]["id"] == 8
    assert message["message_thread_id"] == thread
    assert message["is_topic_message"] is True

    assert await api.error("sendMessage", chat_id=GROUP, text="x", message_thread_id=999) == (
        400,
        "Bad Request: message thread not found",
    )
    assert await api.ok("editForumTopic", chat_id=GROUP, message_thread_id=thread, name="№1 ✅")
    assert await api.ok("closeForumTopic", chat_id=GROUP, message_thread_id=thread)
    assert group.topic("№1 ✅").closed
    assert await api.error("closeForumTopic", chat_id=GROUP, message_thread_id=thread) == (
        400,
        "Bad Request: TOPIC_NOT_MODIFIED",
    )


async def test_topics_need_a_forum_and_the_right(
    emu: Emulator, api: Api, anna: EmulatedUser
) -> None:
    plain = emu.group(-100111, "Обычная", creator=anna, forum=False)
    assert await api.error("createForumTopic", chat_id=plain.id, name="x") == (
        400,
        "Bad Request: the chat is not a forum",
    )
    forum = emu.group(-100222, "Форум", creator=anna)
    forum.set_bot(can_manage_topics=False)
    assert await api.error("createForumTopic", chat_id=forum.id, name="x") == (
        400,
        "Bad Request: not enough rights to create a topic",
    )
    assert await api.error("createForumTopic", chat_id=anna.id, name="x") == (
        400,
        "Bad Request: chat is not a group or a supergroup",
    )
    forum.set_bot("left")
    assert await api.error("sendMessage", chat_id=forum.id, text="x") == (
        403,
        "Forbidden: bot is not a member of the supergroup chat",
    )


async def test_chat_member_rights(emu: Emulator, bot: Bot, anna: EmulatedUser) -> None:
    group = emu.group(GROUP, "Координаторы", creator=anna)
    boris = emu.user(8, first_name="Борис")
    group.add(boris, status="administrator", can_manage_topics=False)
    me = await bot.get_me()
    member = await bot.get_chat_member(GROUP, me.id)
    assert member.status == "administrator"
    assert member.can_manage_topics is True  # type: ignore[union-attr]
    assert (await bot.get_chat_member(GROUP, anna.id)).status == "creator"
    boris_member = await bot.get_chat_member(GROUP, boris.id)
    assert boris_member.can_manage_topics is False  # type: ignore[union-attr]
    stranger = emu.user(9)
    assert (await bot.get_chat_member(GROUP, stranger.id)).status == "left"
    admins = await bot.get_chat_administrators(GROUP)
    assert {a.user.id for a in admins} == {anna.id, boris.id, me.id}
    chat = await bot.get_chat(GROUP)
    assert chat.is_forum is True
    assert chat.type == "supergroup"
    topic = await bot.create_forum_topic(GROUP, "№2 · грант")
    sent = await bot.send_message(GROUP, "hi", message_thread_id=topic.message_thread_id)
    assert sent.is_topic_message
    assert sent.message_thread_id == topic.message_thread_id


async def test_privacy_mode_without_admin(emu: Emulator, api: Api, anna: EmulatedUser) -> None:
    group = emu.group(GROUP, "Координаторы", creator=anna)
    group.set_bot("member")
    before = len(emu.pending_updates())
    await group.send(anna, "просто болтаем")
    assert len(emu.pending_updates()) == before  # not an admin: plain talk is not seen
    await group.send(anna, "/desk_group")
    assert emu.pending_updates()[-1]["message"]["text"] == "/desk_group"


async def test_a_member_presses_a_button_in_a_topic(
    emu: Emulator, api: Api, anna: EmulatedUser
) -> None:
    group = emu.group(GROUP, "Координаторы", creator=anna)
    topic = await api.ok("createForumTopic", chat_id=GROUP, name="№3")
    thread = topic["message_thread_id"]
    markup = {"inline_keyboard": [[{"text": "🙋 Взять", "callback_data": "dg:take:3"}]]}
    await api.ok(
        "sendMessage", chat_id=GROUP, text="Вопрос", message_thread_id=thread, reply_markup=markup
    )
    boris = emu.user(8, first_name="Борис")
    group.add(boris)
    pressing = asyncio.ensure_future(group.press(boris, "🙋 Взять"))
    await emu.state.bot(emu.token).update_notifier.wait_for(
        lambda: any("callback_query" in u for u in emu.pending_updates()), 5
    )
    query = emu.pending_updates()[-1]["callback_query"]
    assert query["from"]["id"] == 8
    assert query["message"]["chat"]["id"] == GROUP
    assert query["message"]["message_thread_id"] == thread
    await api.ok("answerCallbackQuery", callback_query_id=query["id"], text="Взят")
    assert (await pressing).text == "Взят"
    # the bot edits the post in the group
    await api.ok(
        "editMessageReplyMarkup", chat_id=GROUP, message_id=query["message"]["message_id"]
    )
    assert group.bot_messages(thread)[-1].buttons == []
