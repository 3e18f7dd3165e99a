"""The consultation desk end to end through the emulator: an activist's question goes through
the coordinators' forum topic to an answer, a follow-up and a rating; without a work group
through the coordinators' inbox, closed after a week of silence and rated; hostile input —
forged question ids, a non-coordinator replying in the topic, /desk_group from a
non-coordinator or where the bot lacks rights, over-long text and HTML — is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.app import App
from bot.emulator import EmulatedUser, Emulator
from bot.infra.clock import ManualClock
from bot.storage.tables import desk_messages, desk_questions, outbox
from bot.ui.keyboards import MeasureCb
from tests.conftest import Launch
from tests.e2e.test_journey import say, tap
from tests.e2e.test_volunteer import person, tick
from tests.emulator.conftest import png

MONDAY = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
COORDINATOR = 9400
ACTIVIST = 9401
STRANGER = 9402
GROUP = -1009400


async def activist(app: App, emulator: Emulator, uid: int, name: str) -> EmulatedUser:
    user = await person(app, emulator, uid, name, "Europe/Moscow", "mow", role="activist")
    await app.profiles.add_quiz_result(uid, 2, {})
    await app.profiles.set_codes(uid, "topics", frozenset({"social_services"}))
    return user


async def question_row(app: App, number: int) -> dict[str, Any]:
    async with app.engine.connect() as conn:
        row = (
            (await conn.execute(select(desk_questions).where(desk_questions.c.id == number)))
            .mappings()
            .one()
        )
    return dict(row)


async def ask(user: EmulatedUser, kind: str, text: str) -> None:
    await say(user, "/menu")
    screen = await tap(user, "💬 Ask a question")
    assert "What is your question about?" in screen.text
    screen = await tap(user, kind)
    assert "Write your question in one message" in screen.text
    screen = await say(user, text)
    assert "Check your question" in screen.text
    screen = await tap(user, "📨 Send")
    assert "is sent to the coordinators" in screen.text


async def test_a_question_through_the_forum_topic(emulator: Emulator, launch: Launch) -> None:
    clock = ManualClock(MONDAY)
    app = (
        await launch(clock=clock, tick_seconds=3600, default_locale="en", desk_remind_hours=4)
    ).app
    olga = await person(
        app, emulator, COORDINATOR, "Olga", "Europe/Moscow", "mow", role="coordinator"
    )
    anna = await activist(app, emulator, ACTIVIST, "Anna")
    boris = await activist(app, emulator, STRANGER, "Boris")
    group = emulator.group(GROUP, "Coordinators", creator=olga)
    group.add(boris)

    # /desk_group: only a coordinator, only in a forum, only with the right to manage topics.
    await group.send(boris, "/desk_group")
    refused = await group.next_message()
    assert "Only a coordinator of Opora" in refused.text
    assert await app.desk.group() is None
    plain = emulator.group(-1009401, "Chat", creator=olga, forum=False)
    await plain.send(olga, "/desk_group")
    assert "Turn on topics" in (await plain.next_message()).text
    weak = emulator.group(-1009402, "Weak", creator=olga)
    weak.set_bot(can_manage_topics=False)
    await weak.send(olga, "/desk_group")
    assert "right to manage topics" in (await weak.next_message()).text
    assert await app.desk.group() is None
    await group.send(olga, "/desk_group")
    assert "now the coordinators’ work group" in (await group.next_message()).text
    assert (await app.desk.group()).chat_id == GROUP  # type: ignore[union-attr]

    # The asker: a kind, the text (too long, then with HTML), the preview, send.
    await say(anna, "/menu")
    await tap(anna, "💬 Ask a question")
    await tap(anna, "⚖️ Law")
    anna.skip_pending()
    await anna.send_photo(png(), "the lease")
    assert "📎 Attached: 1 of 3" in (await anna.next_message()).text
    too_long = await say(anna, "x" * 3001)
    assert "too long for one question" in too_long.text
    preview = await say(anna, "Can we <b>rent</b> a room & sign <i>alone</i>?")
    assert "Can we <b>rent</b> a room & sign <i>alone</i>?" in preview.text  # as typed
    assert "stage: 2 · " in preview.text
    assert "region: Moscow" in preview.text
    assert "topics: Social services" in preview.text
    assert "Only coordinators see questions" in preview.text
    assert "📎 Attached files: 1" in preview.text
    sent = await tap(anna, "📨 Send")
    assert "Question №1 is sent to the coordinators" in sent.text

    # One topic per question, titled with its number and kind; the post has a Take button.
    [topic] = await group.wait_topics(1)
    assert topic.name == "№1 · ⚖️ Law"
    post = await group.next_message()
    assert post.thread_id == topic.message_thread_id
    assert "Can we <b>rent</b> a room & sign <i>alone</i>?" in post.text
    assert "Anna (@anna_9401)" in post.text
    assert post.button_texts() == ["🙋 Take"]
    photo = await group.next_message()  # the attached photo, in the same topic
    assert photo.kind == "photo"
    assert photo.thread_id == topic.message_thread_id

    # A non-coordinator in the group: the press is refused, the reply is not passed on.
    answer = await group.press(boris, "🙋 Take")
    assert answer.show_alert
    assert (await question_row(app, 1))["status"] == "new"
    await group.send(boris, "I am a lawyer, just sign it", thread_id=topic.message_thread_id)
    await anna.no_message()
    await group.no_message()

    # Forged ids in the private chat: someone else's question, the coordinators' actions.
    boris.skip_pending()
    await boris.press_data("dk:open:1:")
    assert "Can we" not in boris.last_bot_message.text  # type: ignore[union-attr]
    await boris.press_data("dk:take:1:")
    assert (
        "only for coordinators"
        in (await boris.messages_until(lambda m: "only for coordinators" in m.text))[-1].text
    )
    await boris.press_data("dk:withdraw:1:")
    await boris.press_data("dk:rate:1:5")
    await boris.press_data("dk:reply:1:")
    boris.skip_pending()
    row = await question_row(app, 1)
    assert row["status"] == "new"
    assert row["rating"] is None

    # The coordinator takes it: the asker is told (through the outbox).
    await group.press(olga, "🙋 Take")
    taken = await anna.next_message()
    assert "Your question №1 has been taken" in taken.text
    assert "Taken by Olga" in (await group.next_message()).text
    row = await question_row(app, 1)
    assert row["status"] == "taken"
    assert row["taken_by"] == COORDINATOR

    # The coordinator's reply in the topic reaches the asker as «Консультация №1».
    await group.send(olga, "Yes: a lease <needs> a signature.", thread_id=topic.message_thread_id)
    assert "Sent to the asker" in (await group.next_message()).text
    pushed = await anna.next_message()
    assert "Consultation №1" in pushed.text
    assert "Yes: a lease <needs> a signature." in pushed.text
    assert pushed.button_texts() == ["↩️ Reply", "✅ Close the question", "☰ Menu"]
    async with app.engine.connect() as conn:
        kinds = await conn.execute(select(outbox.c.kind).where(outbox.c.chat_id == ACTIVIST))
        assert set(kinds.scalars()) >= {"desk"}

    # The asker's follow-up goes into the same topic.
    await tap(anna, "↩️ Reply", pushed)
    done = await say(anna, "And for a year?")
    assert "Sent to the coordinators" in done.text
    follow = await group.next_message()
    assert follow.thread_id == topic.message_thread_id
    assert "And for a year?" in follow.text
    await group.send(olga, "For a year too.", thread_id=topic.message_thread_id)
    await group.next_message()
    second = await anna.next_message()
    assert "For a year too." in second.text

    # Closed by the asker and rated, with a comment; the topic is closed.
    card = await tap(anna, "✅ Close the question", second)
    assert "closed" in card.text
    assert "5" in card.button_texts()
    thanks = await tap(anna, "5")
    assert "Your rating: 5/5" in thanks.text
    await tap(anna, "✍️ Add a comment")
    await say(anna, "Very clear, thank you")
    row = await question_row(app, 1)
    assert row["status"] == "closed"
    assert row["rating"] == 5
    assert row["rating_comment"] == "Very clear, thank you"
    assert group.topic("№1 · ⚖️ Law").closed
    async with app.engine.connect() as conn:
        texts = (
            await conn.execute(select(desk_messages.c.text).order_by(desk_messages.c.id))
        ).scalars()
        assert list(texts) == [
            "Yes: a lease <needs> a signature.",
            "And for a year?",
            "For a year too.",
        ]

    # A question nobody takes is reminded to the group once, after DESK_REMIND_HOURS.
    await ask(anna, "🧾 Accounting", "Do we pay tax on donations?")
    await group.wait_topics(2)
    await group.next_message()
    await tick(app, clock, clock.now() + timedelta(hours=3))
    await group.no_message()
    await tick(app, clock, clock.now() + timedelta(hours=2))
    reminder = await group.next_message()
    assert "Question №2 is still not taken" in reminder.text
    assert reminder.thread_id == group.topic("№2 · 🧾 Accounting").message_thread_id
    await tick(app, clock, clock.now() + timedelta(hours=5))
    await group.no_message()

    # The asker may withdraw it while it is unanswered.
    anna.skip_pending()
    await anna.press_data("dk:open:2:")
    card = await tap(anna, "↩️ Withdraw")
    assert "withdrawn" in card.text
    assert (await question_row(app, 2))["status"] == "withdrawn"
    assert group.topic("№2 · 🧾 Accounting").closed

    # With a group set, the inbox works too, and its answers go into the topic as well.
    await ask(anna, "🧭 Management", "How do we split the roles?")
    [*_, third] = await group.wait_topics(3)
    await group.next_message()
    await say(olga, "/coordinator")
    await tap(olga, "📥 Questions")
    await tap(olga, "№3 · 🧭 Management")
    await tap(olga, "✍️ Answer")
    olga.skip_pending()
    await olga.send("Write down who decides what & when.")
    assert "Sent to the asker" in (await olga.next_message()).text
    mirrored = await group.next_message()
    assert mirrored.thread_id == third.message_thread_id
    assert "Answer from the bot by Olga (@olga_9400)" in mirrored.text
    assert "who decides what & when." in mirrored.text
    await olga.press_data("dk:files:1:")  # the first question's photo, to the coordinator
    await olga.messages_until(lambda m: m.kind == "photo")
    [*_, pushed] = await anna.messages_until(lambda m: "Consultation №3" in m.text)
    assert "who decides what & when." in pushed.text
    assert emulator.rejections() == []


async def test_a_question_through_the_inbox(emulator: Emulator, launch: Launch) -> None:
    clock = ManualClock(MONDAY)
    app = (await launch(clock=clock, tick_seconds=3600, default_locale="en")).app
    olga = await person(
        app, emulator, COORDINATOR, "Olga", "Europe/Moscow", "mow", role="coordinator"
    )
    anna = await activist(app, emulator, ACTIVIST, "Anna")

    # From the card of the measure «Консультации юриста, бухгалтера, менеджера».
    measure_card = MeasureCb(code="expert_consultations", kind="all", page=0).pack()
    await anna.press_data(measure_card)
    screen = await tap(anna, "💬 Ask the coordinators")
    assert "What is your question about?" in screen.text
    await tap(anna, "📝 Grant application")
    preview = await say(anna, "How do we write the budget")
    assert "How do we write the budget" in preview.text
    preview = await say(anna, "How do we write the budget?")  # typed again: replaces it
    assert "budget?" in preview.text
    await tap(anna, "📨 Send")

    # Forged: the asker presses coordinators' inbox buttons; an unknown question.
    anna.skip_pending()
    await anna.press_data("dk:see:1:")
    refused = await anna.next_message()
    assert "only for coordinators" in refused.text
    await anna.press_data("dk:shut:1:")
    assert "only for coordinators" in (await anna.next_message()).text
    assert (await question_row(app, 1))["status"] == "new"
    await anna.press_data("dk:open:999:")
    assert "out of date" in (await anna.next_message()).text

    # The coordinator: «📥 Questions», open, take, answer.
    await say(olga, "/coordinator")
    inbox = await tap(olga, "📥 Questions")
    assert "№1 · 📝 Grant application — waiting to be taken" in inbox.text
    card = await tap(olga, "№1 · 📝 Grant application")
    assert "How do we write the budget?" in card.text
    assert "Anna (@anna_9401)" in card.text
    assert "stage: 2 · " in card.text
    card = await tap(olga, "🙋 Take")
    assert "being answered" in card.text
    taken = await anna.next_message()
    assert "Your question №1 has been taken" in taken.text
    await tap(olga, "✍️ Answer")
    olga.skip_pending()
    await olga.send("Start from the activities, then cost each one.")
    sent = await olga.next_message()
    assert "Sent to the asker" in sent.text
    pushed = await anna.next_message()
    assert "Consultation №1" in pushed.text
    assert "Start from the activities" in pushed.text
    assert (await question_row(app, 1))["status"] == "answered"

    # A week of silence closes it, on the bot's clock; the asker rates it.
    await tick(app, clock, clock.now() + timedelta(days=6))
    assert (await question_row(app, 1))["status"] == "answered"
    await tick(app, clock, clock.now() + timedelta(days=2))
    [*_, closed] = await anna.messages_until(lambda m: "is closed" in m.text)  # after a digest
    assert "Question №1 is closed" in closed.text
    assert closed.button_texts()[:5] == ["1", "2", "3", "4", "5"]
    await tap(anna, "4", closed)
    row = await question_row(app, 1)
    assert row["status"] == "closed"
    assert row["rating"] == 4

    # /my_data has the question and its conversation.
    data = await app.profiles.export(ACTIVIST)
    assert data is not None
    [exported] = data["consultations"]
    assert exported["text"] == "How do we write the budget?"
    assert exported["messages"][0]["text"].startswith("Start from the activities")
    anna.skip_pending()
    await anna.send("/my_data")
    [*_, shown] = await anna.messages_until(lambda m: "to the coordinators" in m.text)
    assert "1 question to the coordinators" in shown.text
    assert "№1 · " in shown.text
    assert "⭐ 4/5" in shown.text
    assert emulator.calls_of("createForumTopic") == []  # no work group: the inbox only

    # /stats has the desk: questions by kind and topic, open ones, hours to the first answer,
    # ratings.
    olga.skip_pending()
    await olga.send("/stats")
    [*_, summary] = await olga.messages_until(lambda m: "The area in numbers" in m.text, 20)
    assert "1 question to the coordinators" in summary.text
    assert "📝 Grant application — 1" in summary.text
    assert "Topics: Social services — 1" in summary.text  # the topics the question shared
    assert "open questions: 0" in summary.text
    assert "Hours to the first answer: median 0.0 · p90 0.0" in summary.text
    assert "Rating of the answers: 4.0 / 5 · rated: 1" in summary.text
    assert emulator.rejections() == []
