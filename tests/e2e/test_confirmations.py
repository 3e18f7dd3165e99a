"""The day-before confirmation: the 24 h reminder asks «Придёте?»; «Не смогу» gives the place
back at once and the first in the waiting list moves up, is told and may decline in turn; no
answer by three hours before the start shows the organiser «не подтвердил»; the organiser's
participants screen shows every answer at a glance. Quiet hours never hold a confirmation
past its deadline. Forged and stale buttons change nothing and say so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.app import App
from bot.emulator import ChatMessage, EmulatedUser, Emulator
from bot.infra.clock import ManualClock
from bot.services.volunteering import Draft
from bot.storage import settings as settings_repo
from bot.storage.tables import outbox, signups
from bot.ui.keyboards import ConfirmCb, OrganiserCb, RateCb
from tests.conftest import Launch
from tests.e2e.test_journey import say
from tests.e2e.test_volunteer import TUESDAY, person, statuses, tick

ORGANISER = 9400
ANNA, BORIS, VERA = 9401, 9402, 9403
ASKS = "Will you come?"


async def publish(app: App, title: str, starts_at: datetime, capacity: int | None) -> int:
    draft = Draft(
        title=title, description="Помочь с раздачей.", topic="social_services",
        place="ул. Ленина, 1",
        link=None, region="mow", timezone="Europe/Moscow", starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=3), capacity=capacity, signup_until=None,
        contact=None,
    )  # fmt: skip
    return await app.volunteering.create(ORGANISER, draft)


async def setup(
    launch: Launch, emulator: Emulator, *uids: int
) -> tuple[App, ManualClock, EmulatedUser, list[EmulatedUser]]:
    """The bot on a clock starting on TUESDAY, the organiser and volunteers in Moscow with the
    default quiet hours (22–9) and no digest."""
    clock = ManualClock(TUESDAY)
    app = (await launch(clock=clock, tick_seconds=3600)).app
    organiser = await person(
        app, emulator, ORGANISER, "Olga", "Europe/Moscow", "mow", role="coordinator"
    )
    names = {ANNA: "Anna", BORIS: "Boris", VERA: "Vera"}
    people = []
    for uid in uids:
        people.append(await person(app, emulator, uid, names[uid], "Europe/Moscow", "mow"))
        async with app.engine.begin() as conn:
            await settings_repo.save(
                conn, uid, settings_repo.PushSettings(digest="off"), app.clock.now()
            )
    return app, clock, organiser, people


async def answers(app: App, opportunity_id: int) -> dict[int, str | None]:
    async with app.engine.connect() as conn:
        rows = await conn.execute(
            select(signups.c.user_id, signups.c.confirm).where(
                signups.c.opportunity_id == opportunity_id
            )
        )
        return {int(u): c for u, c in rows.all()}


async def asked(user: EmulatedUser) -> ChatMessage:
    return (await user.messages_until(lambda m: ASKS in m.text, timeout=10))[-1]


async def people_screen(organiser: EmulatedUser, opportunity_id: int) -> ChatMessage:
    """The participants screen, opened from /opportunities (whatever notices came meanwhile)."""
    organiser.skip_pending()
    await organiser.send("/opportunities")
    found = await organiser.messages_until(lambda m: "Opportunities for volunteers" in m.text)
    data = OrganiserCb(action="people", id=opportunity_id).pack()
    await organiser.press_data(data, message=found[-1])
    return organiser.current(found[-1])


async def test_cannot_come_frees_the_place_for_the_waiting_list_who_may_decline_in_turn(
    emulator: Emulator, launch: Launch
) -> None:
    app, clock, organiser, (anna, boris, vera) = await setup(launch, emulator, ANNA, BORIS, VERA)
    start = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)  # Saturday 13:00 in Moscow
    oid = await publish(app, "Food bank", start, capacity=1)
    for uid in (ANNA, BORIS, VERA):
        assert await app.volunteering.sign_up(oid, uid) is not None
    assert await statuses(app, oid) == {ANNA: "confirmed", BORIS: "waiting", VERA: "waiting"}

    # The day before: the reminder asks the one holding the place, and only her.
    await tick(app, clock, start - timedelta(hours=24))
    question = await asked(anna)
    assert question.text.startswith("⏰ Tomorrow at 13:00 you’re volunteering at:")
    assert "Please answer by 05.12.2026 10:00" in question.text
    assert question.button_texts()[:2] == ["✅ Yes", "✖ I can’t make it"]
    await boris.no_message(within=0.3)
    assert await answers(app, oid) == {ANNA: "asked", BORIS: None, VERA: None}

    # Boris forges Anna's «can't come» (her sign-up in the data): refused, nothing changed.
    forged = ConfirmCb(action="no", id=oid, uid=ANNA).pack()
    await say(boris, "/volunteer")
    answer = await boris.press_data(forged)
    assert answer.text == "This button is someone else’s: nothing changed."
    assert await statuses(app, oid) == {ANNA: "confirmed", BORIS: "waiting", VERA: "waiting"}

    # Anna cannot come: the place is Boris's at once, and he is asked in turn.
    answer = await anna.press("✖ I can’t make it", message=question)
    assert answer.text == "Thank you for telling us. Your place goes to the next volunteer."
    edited = anna.current(question)
    assert edited.text.endswith("Thank you for telling us. Your place goes to the next volunteer.")
    assert "✅ Yes" not in edited.button_texts()
    assert await statuses(app, oid) == {ANNA: "cancelled", BORIS: "confirmed", VERA: "waiting"}
    promoted = await asked(boris)
    assert promoted.text.startswith("🎉 A place has freed up — you are in!")
    assert promoted.button_texts()[:2] == ["✅ Yes", "✖ I can’t make it"]
    # A second press on Anna's stale question changes nothing.
    answer = await anna.press_data(
        ConfirmCb(action="no", id=oid, uid=ANNA).pack(), message=question
    )
    assert answer.text == "You no longer hold a place at this one: nothing changed."

    # Boris declines in turn: Vera moves up.
    await boris.press("✖ I can’t make it", message=promoted)
    promoted = await asked(vera)
    assert await statuses(app, oid) == {ANNA: "cancelled", BORIS: "cancelled", VERA: "confirmed"}
    answer = await vera.press("✅ Yes", message=promoted)
    assert answer.text == "✅ Thank you! See you there."
    assert vera.current(promoted).text.endswith("✅ Thank you! See you there.")
    assert vera.current(promoted).button_texts() == ["🙋 Open the opportunity"]
    assert await answers(app, oid) == {ANNA: "no", BORIS: "no", VERA: "yes"}

    # The organiser sees every answer at a glance.
    screen = await people_screen(organiser, oid)
    assert "1. Vera (@vera_9403) · 👍 confirmed" in screen.text
    assert "Declined (2):" in screen.text
    assert "✖ Anna (@anna_9401)" in screen.text
    assert "✖ Boris (@boris_9402)" in screen.text
    assert "Answers to “Will you come?”: 👍 1 · ❔ 0 · ⚠️ 0 · ✖ 2" in screen.text

    # After the start the button is stale: nothing changes.
    await tick(app, clock, start + timedelta(minutes=5))
    answer = await vera.press_data(
        ConfirmCb(action="no", id=oid, uid=VERA).pack(), message=promoted
    )
    assert answer.text == "This opportunity has already started: nothing changed."
    assert await statuses(app, oid) == {ANNA: "cancelled", BORIS: "cancelled", VERA: "confirmed"}


async def test_no_answer_by_the_deadline_shows_the_organiser_not_confirmed(
    emulator: Emulator, launch: Launch
) -> None:
    app, clock, organiser, (anna, boris) = await setup(launch, emulator, ANNA, BORIS)
    start = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)  # Saturday 13:00 in Moscow
    oid = await publish(app, "Park clean-up", start, capacity=None)
    for uid in (ANNA, BORIS):
        assert await app.volunteering.sign_up(oid, uid) is not None
    await tick(app, clock, start - timedelta(hours=24))
    question = await asked(anna)
    await asked(boris)
    await anna.press("✅ Yes", message=question)
    screen = await people_screen(organiser, oid)
    assert "1. Anna (@anna_9401) · 👍 confirmed" in screen.text
    assert "2. Boris (@boris_9402) · ❔ asked" in screen.text

    # Three hours before the start Boris has not answered: «не подтвердил».
    await tick(app, clock, start - timedelta(hours=3))
    notice = (await organiser.messages_until(lambda m: "not confirmed" in m.text, timeout=10))[-1]
    assert "⚠️ Boris (@boris_9402) — not confirmed" in notice.text
    screen = await people_screen(organiser, oid)
    assert "2. Boris (@boris_9402) · ⚠️ not confirmed" in screen.text
    assert "👍 1 · ❔ 0 · ⚠️ 1 · ✖ 0" in screen.text
    assert await answers(app, oid) == {ANNA: "yes", BORIS: "silent"}
    # He may still say he cannot come before the start: the place is given back.
    await boris.press("✖ I can’t make it")
    assert await statuses(app, oid) == {ANNA: "confirmed", BORIS: "cancelled"}


async def sent_at(app: App, user_id: int) -> list[datetime]:
    """When the volunteer's reminders were due to go (they arrived: the test waited)."""
    async with app.engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.not_before)
            .where(outbox.c.kind == "opp_reminder", outbox.c.user_id == user_id)
            .order_by(outbox.c.id)
        )
        return list(rows.scalars())


async def test_quiet_hours_never_hold_a_confirmation_past_its_deadline(
    emulator: Emulator, launch: Launch
) -> None:
    app, clock, _, (anna,) = await setup(launch, emulator, ANNA)
    # Saturday 08:00 in Moscow: the day's reminder falls at 08:00 on Friday, in quiet hours
    # (22–9); it comes at 09:00 with the question, long before the deadline (05:00 Saturday).
    early = datetime(2026, 12, 5, 5, 0, tzinfo=UTC)
    oid = await publish(app, "Early shift", early, capacity=None)
    assert await app.volunteering.sign_up(oid, ANNA) is not None
    await tick(app, clock, early - timedelta(hours=24))
    await anna.no_message(within=0.3)
    await tick(app, clock, datetime(2026, 12, 4, 6, 0, tzinfo=UTC))  # Friday 09:00
    question = await asked(anna)
    assert "Please answer by 05.12.2026 05:00" in question.text
    assert await sent_at(app, ANNA) == [datetime(2026, 12, 4, 6, 0, tzinfo=UTC)]
    await anna.press("✅ Yes", message=question)

    # The bot was down all Friday; it comes back at 23:30, in quiet hours, for an event at
    # 11:00 on Saturday. Waiting for the morning (09:00) would pass the deadline (08:00): the
    # question goes at once.
    late = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)  # Saturday 11:00 in Moscow
    clock.offset += datetime(2026, 12, 3, 12, 0, tzinfo=UTC) - clock.now()  # Thursday
    second = await publish(app, "Late morning", late, capacity=None)
    assert await app.volunteering.sign_up(second, ANNA) is not None
    night = datetime(2026, 12, 4, 20, 30, tzinfo=UTC)  # Friday 23:30 in Moscow
    await tick(app, clock, night)
    question = await asked(anna)
    assert "Late morning" in question.text
    assert "Please answer by 05.12.2026 08:00" in question.text
    assert (await sent_at(app, ANNA))[-1] == night
    assert (await answers(app, second))[ANNA] == "asked"


async def test_after_the_event_attendees_are_thanked_and_rate_it_and_the_organiser_sees_it(
    emulator: Emulator, launch: Launch
) -> None:
    app, clock, organiser, (anna, boris, vera) = await setup(launch, emulator, ANNA, BORIS, VERA)
    start = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)  # Saturday 13:00–16:00 in Moscow
    oid = await publish(app, "Food bank", start, capacity=None)
    for uid in (ANNA, BORIS, VERA):
        assert await app.volunteering.sign_up(oid, uid) is not None
    await tick(app, clock, start + timedelta(hours=3, minutes=10))  # it has ended

    # One screen: the organiser marks who came (Vera did not).
    screen = await people_screen(organiser, oid)
    assert "No ratings yet" in screen.text
    await organiser.press("⬜ 1. Anna", message=screen)
    await organiser.press("⬜ 2. Boris", message=screen)
    await organiser.press("⬜ 3. Vera", message=screen)
    await organiser.press("✅ 3. Vera", message=screen)  # came → no-show: no thanks
    assert "❌ 3. Vera" in organiser.current(screen).button_texts()
    await anna.no_message(within=0.3)  # the marks settle for a moment first
    await tick(app, clock, clock.now() + timedelta(minutes=2))
    thanks = (await anna.messages_until(lambda m: "Thank you for coming" in m.text))[-1]
    assert "⏱ Counted in your record: 3 h" in thanks.text
    assert thanks.button_texts() == ["1⭐", "2⭐", "3⭐", "4⭐", "5⭐"]
    boris_thanks = (await boris.messages_until(lambda m: "Thank you for coming" in m.text))[-1]
    await vera.no_message(within=0.3)

    # Forged: a rating outside 1–5, someone else's rating, a no-show rating: nothing changes.
    answer = await anna.press_data(
        RateCb(action="rate", id=oid, uid=ANNA, value=7).pack(), message=thanks
    )
    assert answer.text == "A rating is from 1 to 5: nothing changed."
    answer = await anna.press_data(
        RateCb(action="rate", id=oid, uid=ANNA, value=0).pack(), message=thanks
    )
    assert answer.text == "A rating is from 1 to 5: nothing changed."
    answer = await anna.press_data(
        RateCb(action="rate", id=oid, uid=BORIS, value=1).pack(), message=thanks
    )
    assert answer.text == "This button is someone else’s: nothing changed."
    await say(vera, "/volunteer")
    answer = await vera.press_data(RateCb(action="rate", id=oid, uid=VERA, value=5).pack())
    assert answer.text == "Only those marked as having come rate an event: nothing changed."
    assert await ratings(app, oid) == {ANNA: (None, None), BORIS: (None, None), VERA: (None, None)}

    # One tap, then an optional comment.
    answer = await anna.press("4⭐", message=thanks)
    assert answer.text == "Your rating: ⭐⭐⭐⭐ (4 of 5). Thank you!"
    rated = anna.current(thanks)
    assert rated.text.endswith("⭐ Your rating: ⭐⭐⭐⭐ (4 of 5). Thank you!")
    await anna.press("💬 Add a comment", message=rated)
    await anna.messages_until(lambda m: "A few words for the organiser" in m.text)
    done = await say(anna, "Хорошо организовано, но мало перчаток <b>")
    assert done.text == "✅ Thank you! The organiser will see your comment."
    await boris.press("5⭐", message=boris_thanks)
    assert await ratings(app, oid) == {
        ANNA: (4, "Хорошо организовано, но мало перчаток <b>"),
        BORIS: (5, None),
        VERA: (None, None),
    }

    screen = await people_screen(organiser, oid)
    assert "⭐ Ratings: 4.5 / 5 · 2 ratings (5⭐ 1, 4⭐ 1, 3⭐ 0, 2⭐ 0, 1⭐ 0)" in screen.text
    assert "💬 Anna (4⭐): «Хорошо организовано, но мало перчаток <b>»" in screen.text
    # A later tick thanks nobody twice.
    await tick(app, clock, start + timedelta(hours=5))
    await anna.no_message(within=0.3)


async def ratings(app: App, opportunity_id: int) -> dict[int, tuple[int | None, str | None]]:
    async with app.engine.connect() as conn:
        rows = await conn.execute(
            select(signups.c.user_id, signups.c.rating, signups.c.comment).where(
                signups.c.opportunity_id == opportunity_id
            )
        )
        return {int(u): (r, c) for u, r, c in rows.all()}


async def test_marked_during_the_event_the_thanks_come_once_it_has_ended(
    emulator: Emulator, launch: Launch
) -> None:
    app, clock, organiser, (anna,) = await setup(launch, emulator, ANNA)
    start = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)  # Saturday 13:00–16:00 in Moscow
    oid = await publish(app, "Food bank", start, capacity=None)
    assert await app.volunteering.sign_up(oid, ANNA) is not None
    await tick(app, clock, start - timedelta(hours=24))
    await anna.messages_until(lambda m: ASKS in m.text)
    await tick(app, clock, start + timedelta(hours=1))  # under way
    screen = await people_screen(organiser, oid)
    await organiser.press("⬜ 1. Anna", message=screen)
    await tick(app, clock, start + timedelta(hours=2))
    await anna.no_message(within=0.3)  # not over yet
    await tick(app, clock, start + timedelta(hours=3, minutes=1))
    await anna.messages_until(lambda m: "Thank you for coming" in m.text)
    await tick(app, clock, start + timedelta(hours=3, minutes=10))
    await anna.no_message(within=0.3)
