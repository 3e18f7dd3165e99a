"""«Частые вопросы» end to end through the emulator: an answered question the asker allows to
publish is edited (anonymised as a first pass) and published by a coordinator; another
activist typing a like question sees «Похожие вопросы уже отвечены» at the preview, opens the
entry and still sends theirs; everyone lists and searches the entries. A question the asker
keeps to themselves is no candidate; forged publishing by a non-coordinator is refused."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.emulator import Emulator
from bot.infra.clock import ManualClock
from bot.storage.tables import audit_log, desk_questions, faq_entries
from tests.conftest import Launch
from tests.e2e.test_desk import activist, question_row
from tests.e2e.test_journey import say, tap
from tests.e2e.test_volunteer import person
from tests.emulator.conftest import png

MONDAY = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
COORDINATOR, ANNA, BORIS = 9500, 9501, 9502


async def test_an_answer_goes_into_the_frequent_questions(
    emulator: Emulator, launch: Launch
) -> None:
    clock = ManualClock(MONDAY)
    app = (await launch(clock=clock, tick_seconds=3600, default_locale="en")).app
    olga = await person(
        app, emulator, COORDINATOR, "Olga", "Europe/Moscow", "mow", role="coordinator"
    )
    anna = await activist(app, emulator, ANNA, "Anna")
    boris = await activist(app, emulator, BORIS, "Boris")

    # Nothing published yet: the section says so.
    await say(boris, "/menu")
    empty = await tap(boris, "📚 Frequent questions")
    assert "Nothing published yet" in empty.text

    # Anna asks, naming herself; the coordinator answers from the inbox.
    await say(anna, "/menu")
    await tap(anna, "💬 Ask a question")
    await tap(anna, "⚖️ Law")
    preview = await say(
        anna, "Меня зовут Anna (@anna_9501), как зарегистрировать НКО? anna@mail.ru"
    )
    assert "Similar questions" not in preview.text  # nothing published to be like it
    await tap(anna, "📨 Send")
    await say(olga, "/coordinator")
    await tap(olga, "📥 Questions")
    await tap(olga, "№1 · ⚖️ Law")
    await tap(olga, "✍️ Answer")
    olga.skip_pending()
    await olga.send("Anna, подайте в Минюст форму Р11001 и устав.")
    await olga.next_message()
    pushed = await anna.next_message()
    assert "Consultation №1" in pushed.text

    # Closing it, she is asked once; she says yes (stored on the question) and rates it.
    card = await tap(anna, "✅ Close the question", pushed)
    assert "May we publish the question and the answer without your name" in card.text
    assert {"✅ Yes, publish", "✖ No"} <= set(card.button_texts())
    assert (await question_row(app, 1))["faq_permission"] is None  # default: no
    card = await tap(anna, "✅ Yes, publish", card)
    assert (await question_row(app, 1))["faq_permission"] is True
    assert "You allowed it in the “Frequent questions”" in card.text
    assert "📚 Do not publish in the FAQ" in card.button_texts()
    thanks = await tap(anna, "5", card)
    assert "Your rating: 5/5" in thanks.text
    assert "May we publish" not in thanks.text  # asked once

    # A second question she keeps to herself: closed by the coordinator, rated, then «No».
    await say(anna, "/menu")
    await tap(anna, "💬 Ask a question")
    await tap(anna, "🧾 Accounting")
    await say(anna, "Как нам платить налог с пожертвований?")
    await tap(anna, "📨 Send")
    await say(olga, "/coordinator")
    await tap(olga, "📥 Questions")
    await tap(olga, "№2 · 🧾 Accounting")
    await tap(olga, "✍️ Answer")
    olga.skip_pending()
    await olga.send("Пожертвования на уставную деятельность налогом не облагаются.")
    await olga.next_message()
    await anna.next_message()
    await tap(olga, "✅ Close")
    [*_, closed] = await anna.messages_until(lambda m: "is closed" in m.text)
    thanks = await tap(anna, "4", closed)
    assert "May we publish the question and the answer without your name" in thanks.text
    card = await tap(anna, "✖ No", thanks)
    assert "Not for the “Frequent questions”" in card.text
    assert "📚 Allow it in the FAQ" in card.button_texts()
    assert (await question_row(app, 2))["faq_permission"] is False

    # A forged publish by someone who is not a coordinator: refused, nothing changes.
    boris.skip_pending()
    await boris.press_data("fa:start:1:")
    assert "only for coordinators" in (await boris.next_message()).text
    await boris.press_data("fa:list:0:")
    assert "only for coordinators" in (await boris.next_message()).text
    # Someone else's question: Boris cannot give the permission either.
    await boris.press_data("fq:perm:2:y")
    assert "out of date" in (await boris.next_message()).text
    assert (await question_row(app, 2))["faq_permission"] is False

    # The coordinator: «📚 Frequent questions» in the inbox lists №1 only.
    await say(olga, "/coordinator")
    await tap(olga, "📥 Questions")
    listing = await tap(olga, "📚 Frequent questions")
    assert "allowed to publish: 1" in listing.text
    assert "✍️ №1 · ⚖️ Law" in listing.button_texts()
    assert not any("№2" in b for b in listing.button_texts())
    olga.skip_pending()
    await olga.press_data("fa:start:2:")  # forged: Anna said no
    assert "out of date" in (await olga.next_message()).text
    await say(olga, "/coordinator")
    await tap(olga, "📥 Questions")
    await tap(olga, "📚 Frequent questions")
    draft = await tap(olga, "✍️ №1 · ⚖️ Law")
    assert "not published yet" in draft.text
    assert "Anna" not in draft.text
    assert "anna_9501" not in draft.text
    assert "anna@mail.ru" not in draft.text
    assert "как зарегистрировать НКО?" in draft.text
    assert "подайте в Минюст форму Р11001 и устав." in draft.text

    # Forged publish by Boris while it is a draft: refused, still a draft.
    boris.skip_pending()
    await boris.press_data("fa:pub:1:")
    assert "only for coordinators" in (await boris.next_message()).text
    async with app.engine.connect() as conn:
        assert (await conn.execute(select(faq_entries.c.status))).scalar_one() == "draft"

    # She types the question and the answer anew (too long first: refused) and publishes.
    await tap(olga, "✏️ Question", draft)
    olga.skip_pending()
    await olga.send("x" * 1001)
    assert "Too long" in (await olga.next_message()).text
    async with app.engine.connect() as conn:
        assert "x" * 1001 not in (await conn.execute(select(faq_entries.c.question))).scalar_one()
    await olga.send("Как зарегистрировать НКО?")
    card = await olga.next_message()
    assert "As everyone will see it:\nКак зарегистрировать НКО?" in card.text
    await tap(olga, "✏️ Answer", card)
    olga.skip_pending()
    await olga.send("Подайте в Минюст форму Р11001 и устав <b>в двух экземплярах</b>.")
    card = await olga.next_message()
    assert "устав <b>в двух экземплярах</b>." in card.text  # as typed, escaped
    card = await tap(olga, "✅ Publish", card)
    assert "published" in card.text
    assert "🙈 Unpublish" in card.button_texts()
    async with app.engine.connect() as conn:
        row = (await conn.execute(select(faq_entries))).mappings().one()
    assert (row["status"], row["question_id"], row["edited_by"]) == ("published", 1, COORDINATOR)

    # Boris types a like question: the preview shows the entry, he opens it and sends his.
    await say(boris, "/menu")
    await tap(boris, "💬 Ask a question")
    await tap(boris, "⚖️ Law")
    preview = await say(boris, "Как нам зарегистрировать некоммерческую организацию?")
    assert "Similar questions are already answered" in preview.text
    assert "• Как зарегистрировать НКО?" in preview.text
    assert preview.button_texts()[0] == "📚 Как зарегистрировать НКО?"
    entry = await tap(boris, "📚 Как зарегистрировать НКО?", preview)
    assert "Подайте в Минюст форму Р11001" in entry.text
    assert entry.button_texts() == ["📨 Send my question anyway", "« My question", "☰ Menu"]
    again = await tap(boris, "« My question", entry)
    assert "Check your question" in again.text
    assert "Similar questions are already answered" in again.text
    await tap(boris, "📚 Как зарегистрировать НКО?", again)
    sent = await tap(boris, "📨 Send my question anyway")
    assert "Question №3 is sent to the coordinators" in sent.text
    assert (await question_row(app, 3))["text"] == (
        "Как нам зарегистрировать некоммерческую организацию?"
    )

    # An unlike question: no «similar» block.
    await say(boris, "/menu")
    await tap(boris, "💬 Ask a question")
    await tap(boris, "⚖️ Law")
    preview = await say(boris, "Где найти добровольцев на субботник?")
    assert "Similar questions" not in preview.text

    # Everyone: by kind, an entry with the way back, and a search.
    await say(boris, "/menu")
    kinds = await tap(boris, "📚 Frequent questions")
    assert "⚖️ Law · 1" in kinds.button_texts()
    listed = await tap(boris, "⚖️ Law · 1", kinds)
    opened = await tap(boris, "📚 Как зарегистрировать НКО?", listed)
    assert "Р11001" in opened.text
    assert opened.button_texts() == ["« Back", "☰ Menu"]
    back = await tap(boris, "« Back", opened)
    assert "📚 Как зарегистрировать НКО?" in back.button_texts()
    await tap(boris, "« Back", back)
    await tap(boris, "🔎 Search")
    boris.skip_pending()
    await boris.send_photo(png(), "a photo instead of words")
    assert "as text" in (await boris.next_message()).text
    found = await say(boris, "Минюст")
    assert "📚 Как зарегистрировать НКО?" in found.button_texts()
    await tap(boris, "🔎 Search again", found)
    found = await say(boris, "<b>субботник</b>")
    assert "Nothing found" in found.text
    assert "“&lt;b&gt;субботник&lt;/b&gt;”" in found.text or "<b>субботник</b>" in found.text

    # Unpublished: gone for everyone, a stale button says so.
    await say(olga, "/coordinator")
    await tap(olga, "📥 Questions")
    listing = await tap(olga, "📚 Frequent questions")
    card = await tap(olga, "📚 Как зарегистрировать НКО?", listing)
    card = await tap(olga, "🙈 Unpublish", card)
    assert "hidden" in card.text
    boris.skip_pending()
    await boris.press_data("fq:open:1:")
    assert "out of date" in (await boris.next_message()).text

    # Anna's later no hides it for good (a coordinator can no longer publish it).
    await tap(olga, "✅ Publish", card)
    anna.skip_pending()
    await anna.press_data("fq:perm:1:n")
    anna.skip_pending()
    assert "Not for the “Frequent questions”" in anna.last_bot_message.text  # type: ignore[union-attr]
    async with app.engine.connect() as conn:
        assert (await conn.execute(select(faq_entries.c.status))).scalar_one() == "hidden"
        allowed = select(desk_questions.c.faq_permission).where(desk_questions.c.id == 1)
        assert (await conn.execute(allowed)).scalar_one() is False
    olga.skip_pending()
    await olga.press_data("fa:pub:1:")
    assert "out of date" in (await olga.next_message()).text

    # /my_data has each question's answer; the audit log has the coordinator's actions.
    data = await app.profiles.export(ANNA)
    assert data is not None
    assert [q["faq_permission"] for q in data["consultations"]] == [False, False]
    async with app.engine.connect() as conn:
        logged = select(audit_log.c.action, audit_log.c.actor_id).where(
            audit_log.c.action.like("faq.%")
        )
        assert set((await conn.execute(logged)).all()) == {
            ("faq.publish", COORDINATOR),
            ("faq.hide", COORDINATOR),
        }
    assert emulator.rejections() == []
