"""Chats the bot knows, end to end through the emulator: added to a group as an administrator
(my_chat_member), the bot offers that group as a button to an organiser who administers it;
the press posts the card and its free places update after a sign-up; removed, the button is
gone. A forged chat id in the button's data, a chat the organiser does not administer, a
channel where the bot may not post: refused with a clear answer, and nothing posted."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from bot.app import App
from bot.emulator import Emulator
from bot.infra.clock import ManualClock
from bot.services.sharing import KnownChat
from bot.storage import outbox as outbox_repo
from bot.storage.outbox import NewPush
from bot.storage.tables import bot_chats, outbox, posted_cards, users
from bot.ui.keyboards import OrganiserCb
from tests.conftest import Launch
from tests.e2e.test_inline import FAST
from tests.e2e.test_journey import say, tap
from tests.e2e.test_volunteer import COORDINATOR, TUESDAY, create_opportunity, person

POST = "📢 Post to a group or channel"


async def known(app: App, done: Callable[[set[int]], bool], timeout: float = 5) -> set[int]:  # noqa: ASYNC109
    """The chat ids in bot_chats once `done` holds for them (the bot handles my_chat_member
    on its own time: no message shows it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        async with app.engine.connect() as conn:
            ids = set((await conn.execute(select(bot_chats.c.chat_id))).scalars())
        if done(ids) or loop.time() > deadline:
            assert done(ids), f"bot_chats is {ids}"
            return ids
        await asyncio.sleep(0.02)


async def posted(app: App) -> list[tuple[int, int | None]]:
    async with app.engine.connect() as conn:
        rows = await conn.execute(select(posted_cards.c.opportunity_id, posted_cards.c.chat_id))
        return [(r[0], r[1]) for r in rows.all()]


async def test_a_known_group_is_a_button_posts_and_goes_when_the_bot_is_removed(
    emulator: Emulator, launch: Launch
) -> None:
    app = (await launch(clock=ManualClock(TUESDAY), tick_seconds=3600, **FAST)).app
    coordinator = await person(
        app, emulator, COORDINATOR, "Olga", "Europe/Moscow", "mow", role="coordinator"
    )
    card = await create_opportunity(coordinator, title="Food bank shift", places="5")
    group = emulator.group(-100710, "Добровольцы Москвы", username="dobro_msk")
    emulator.set_member(group, COORDINATOR, "administrator")
    theirs_not = emulator.group(-100711, "Соседи", username="sosedi")  # she is no admin there
    emulator.set_member(theirs_not, 9790, "creator")
    channel = emulator.group(-100712, "Новости района", chat_type="channel")
    emulator.set_member(channel, COORDINATOR, "creator")

    ask = await tap(coordinator, POST, card)
    assert ask.button_texts() == ["« Back", "☰ Menu"]  # the bot knows no chat yet
    emulator.add_bot(group, by=COORDINATOR)
    emulator.add_bot(theirs_not, by=9790)
    emulator.add_bot(channel, by=COORDINATOR, can_post_messages=False)  # may not post
    await known(app, lambda ids: ids == {group.id, theirs_not.id})

    ask = await tap(coordinator, "« Back", ask)
    ask = await tap(coordinator, POST, ask)
    assert "Choose a chat below" in ask.text
    assert ask.button_texts() == ["👥 Добровольцы Москвы", "« Back", "☰ Menu"]
    done = await tap(coordinator, "👥 Добровольцы Москвы", ask)
    assert "The card is posted in “Добровольцы Москвы”" in done.text
    post = await group.wait_bot_message(1)
    assert "Food bank shift" in post.text
    assert "5 places free out of 5" in post.text

    # A volunteer signs up: the group's card shows one place fewer.
    vasya = await person(app, emulator, 9791, "Vasya", "Europe/Moscow", "mow")
    await vasya.press("✅ Sign up", message=await say(vasya, "/start opp_1"))
    await group.wait_edit(post, until=lambda m: "4 places free out of 5" in m.text)

    # The channel, now with the right to post, appears; the group, the bot removed, goes.
    emulator.add_bot(channel, by=COORDINATOR, can_post_messages=True)
    emulator.add_bot(group, by=COORDINATOR, status="left")
    await known(app, lambda ids: ids == {channel.id, theirs_not.id})
    assert await posted(app) == []  # its card is no longer updated
    ask = await tap(coordinator, "« Back", done)
    ask = await tap(coordinator, POST, ask)
    assert ask.button_texts() == ["📣 Новости района", "« Back", "☰ Menu"]

    # The old button of the removed group, and forged ones: refused, nothing posted.
    for chat_id in (str(group.id), str(theirs_not.id), "-100999", "x"):
        forged = OrganiserCb(action="post_to", id=1, value=chat_id).pack()
        await coordinator.press_data(forged, message=ask)
        refusal = (await coordinator.messages_until(lambda m: "🔒" in m.text))[-1]
        if chat_id == str(theirs_not.id):
            assert "Only an administrator of that chat can post cards" in refusal.text
        else:
            assert "I am not an administrator there" in refusal.text
    assert [m.message_id for m in group.history] == [post.message_id]
    assert theirs_not.history == []
    assert await posted(app) == []


async def test_someone_elses_opportunity_cannot_be_posted_by_button(
    emulator: Emulator, launch: Launch
) -> None:
    app = (await launch(clock=ManualClock(TUESDAY), tick_seconds=3600, **FAST)).app
    coordinator = await person(
        app, emulator, COORDINATOR, "Olga", "Europe/Moscow", "mow", role="coordinator"
    )
    await create_opportunity(coordinator, title="Food bank shift", places="5")
    pavel = await person(app, emulator, 9801, "Pavel", "Europe/Moscow", "mow", role="activist")
    group = emulator.group(-100800, "Pavel's group", username="pavel_group")
    emulator.set_member(group, 9801, "creator")
    emulator.add_bot(group, by=9801)
    await known(app, lambda ids: ids == {group.id})
    menu = await say(pavel, "/start")
    forged = OrganiserCb(action="post_to", id=1, value=str(group.id)).pack()
    await pavel.press_data(forged, message=menu)
    refusal = (await pavel.messages_until(lambda m: "only for" in m.text))[-1]
    assert "Sorry, this is only for coordinators" in refusal.text
    assert group.history == []
    assert await posted(app) == []


async def test_a_late_membership_update_does_not_undo_a_newer_one(
    emulator: Emulator, launch: Launch
) -> None:
    """Updates are handled concurrently: one about an older change that arrives last loses."""
    app = (await launch(clock=ManualClock(TUESDAY), tick_seconds=3600, **FAST)).app
    assert app.sharing is not None
    chat = KnownChat(chat_id=-100720, type="supergroup", title="Двор", username=None)
    await app.sharing.bot_membership(chat, "administrator", None, TUESDAY)
    await app.sharing.bot_membership(chat, "left", None, TUESDAY - timedelta(minutes=1))
    assert await known(app, lambda ids: True) == {chat.chat_id}
    renamed = KnownChat(chat_id=-100720, type="supergroup", title="Наш двор", username=None)
    await app.sharing.bot_membership(renamed, "administrator", None, TUESDAY + timedelta(1))
    assert await app.sharing.known_chat(chat.chat_id) == renamed
    # A channel where the bot may not post is not offered; demoted later, it is forgotten.
    news = KnownChat(chat_id=-100721, type="channel", title="Новости", username="news")
    await app.sharing.bot_membership(news, "administrator", False, TUESDAY)
    assert await app.sharing.known_chat(news.chat_id) is None
    await app.sharing.bot_membership(news, "administrator", True, TUESDAY)
    await app.sharing.bot_membership(chat, "member", None, TUESDAY + timedelta(2))
    assert await known(app, lambda ids: True) == {news.chat_id}


async def blocked(app: App, uid: int, want: bool, timeout: float = 5) -> None:  # noqa: ASYNC109
    """Wait until users.blocked of `uid` is `want` (my_chat_member shows in no message)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        async with app.engine.connect() as conn:
            value = (await conn.execute(select(users.c.blocked).where(users.c.id == uid))).scalar()
        if value is want or loop.time() > deadline:
            assert value is want, f"users.blocked of {uid} is {value}"
            return
        await asyncio.sleep(0.02)


async def test_a_user_who_blocks_the_bot_is_marked_at_once_and_their_pushes_skipped(
    emulator: Emulator, launch: Launch
) -> None:
    clock = ManualClock(TUESDAY)
    app = (await launch(clock=clock, tick_seconds=3600, **FAST)).app
    user = await person(app, emulator, 9301, "Anna", "Europe/Moscow", "mow", role="volunteer")
    tomorrow = clock.now() + timedelta(days=1)
    push = NewPush(9301, 9301, "broadcast", "later:9301", {"text": "Завтра"}, tomorrow, None)
    async with app.engine.begin() as conn:
        await outbox_repo.enqueue(conn, [push], clock.now())

    # Blocking the bot in the private chat: marked blocked now, the pending push skipped —
    # not found out by a 403 tomorrow.
    emulator.block(9301)
    await blocked(app, 9301, True)
    async with app.engine.connect() as conn:
        status = (
            await conn.execute(select(outbox.c.status).where(outbox.c.dedup_key == "later:9301"))
        ).scalar()
    assert status == "skipped"
    # Unblocked: pushes may go again, and the person is answered as before.
    emulator.unblock(9301)
    await blocked(app, 9301, False)
    assert (await say(user, "/start")).button_texts()  # answered again, with its buttons
