"""Volunteering end to end through the emulator: a coordinator creates an opportunity with two
places, three volunteers press "Sign up" at once (two get places, one the waiting list), a
cancel promotes the waiting one, reminders come 24 h and 2 h before in each volunteer's own zone,
the organiser's notices are batched, the CSV lists exactly the confirmed, a shared link opens
the card for someone new (after consent), and stale buttons answer with the current state."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app import App
from bot.emulator import ChatMessage, EmulatedUser, Emulator
from bot.infra.clock import ManualClock
from bot.storage import users as users_repo
from bot.storage.tables import outbox, signups
from tests.conftest import Launch
from tests.e2e.test_journey import say, tap

TUESDAY = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
START = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)  # Saturday 13:00 in Moscow
COORDINATOR = 9100


async def person(
    app: App,
    emulator: Emulator,
    uid: int,
    name: str,
    tz: str,
    region: str,
    *,
    role: str = "volunteer",
) -> EmulatedUser:
    """A user who consented, chose a role and a place, and reads English."""
    user = emulator.user(
        uid, first_name=name, username=f"{name.lower()}_{uid}", language_code="en"
    )
    await user.send("/start")
    await user.next_message(timeout=5)
    await app.profiles.give_consent(uid, name, None, f"{name.lower()}_{uid}")
    await app.users.set_locale(uid, "en")
    if role == "coordinator":
        async with app.engine.begin() as conn:
            await users_repo.grant_role(conn, uid, "coordinator", app.clock.now())
    else:
        await app.profiles.set_role(uid, role)
    await app.profiles.set_place(uid, tz, region)
    return user


async def tick(app: App, clock: ManualClock, at: datetime) -> None:
    clock.offset += at - clock.now()
    await app.tick()
    app.sender.wake()


async def create_opportunity(coordinator: EmulatedUser, *, title: str, places: str) -> ChatMessage:
    """The coordinator's nine steps and the preview; returns the published card."""
    await say(coordinator, "/opportunities")
    screen = await tap(coordinator, "➕ New opportunity")
    assert "step 1 of 9" in screen.text
    screen = await say(coordinator, title)
    assert "step 2 of 9" in screen.text
    screen = await say(coordinator, "Sort and pack food parcels for families. Gloves provided.")
    assert "Social services" in screen.button_texts()
    screen = await tap(coordinator, "Social services")
    assert "Where?" in screen.text
    screen = await say(coordinator, "ул. Ленина, 1, Москва")
    screen = await say(coordinator, "31.02.2026 13:00")  # no such date: asked again
    assert "did not understand" in screen.text
    screen = await say(coordinator, "05.12.2026 13:00")
    assert "When does it end?" in screen.text
    screen = await say(coordinator, "16:00")
    screen = await say(coordinator, places)
    screen = await tap(coordinator, "Until the start")
    screen = await say(coordinator, "+7 900 000-00-00")
    # Shown to everyone: a contact needs its own consent (152-ФЗ art. 10.1).
    assert "Everyone who opens this opportunity will see this contact" in screen.text
    assert "+7 900 000-00-00" in screen.text
    screen = await tap(coordinator, "✅ I agree: show it to everyone", screen)
    assert "Check and publish" in screen.text
    assert "05.12.2026 13:00–16:00 (MSK)" in screen.text
    return await tap(coordinator, "✅ Publish")


async def tap_on(user: EmulatedUser, label: str, message: ChatMessage) -> ChatMessage:
    """Press a button of `message`; returns that message as it is now (edited in place),
    whatever else arrived meanwhile."""
    await user.press(label, message=message)
    user.skip_pending()
    return user.current(message)


def newest(user: EmulatedUser, text: str) -> ChatMessage:
    """The newest bot message (edits applied) that says `text`."""
    for message in reversed(user.bot_messages):
        if text in message.text:
            return message
    raise AssertionError(f"no message says {text!r}")


def local(at: datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%d.%m.%Y %H:%M")


async def statuses(app: App, opportunity_id: int) -> dict[int, str]:
    async with app.engine.connect() as conn:
        rows = await conn.execute(
            select(signups.c.user_id, signups.c.status).where(
                signups.c.opportunity_id == opportunity_id
            )
        )
        return {int(u): str(s) for u, s in rows.all()}


async def test_capacity_waiting_list_reminders_notices_and_csv(
    emulator: Emulator, launch: Launch
) -> None:
    clock = ManualClock(TUESDAY)
    app = (await launch(clock=clock, tick_seconds=3600)).app
    coordinator = await person(
        app, emulator, COORDINATOR, "Olga", "Europe/Moscow", "mow", role="coordinator"
    )
    zones = {
        9101: ("Anna", "Europe/Kaliningrad", "kgd"),
        9102: ("Boris", "Europe/Moscow", "mow"),
        9103: ("Vera", "Asia/Vladivostok", "pri"),
    }
    named = {"Europe/Kaliningrad": "MSK−1", "Europe/Moscow": "MSK", "Asia/Vladivostok": "MSK+7"}
    volunteers = {
        uid: await person(app, emulator, uid, name, tz, region)
        for uid, (name, tz, region) in zones.items()
    }

    published = await create_opportunity(coordinator, title="Food bank shift", places="2")
    assert "https://t.me/opora_test_bot?start=opp_1" in published.text
    assert "2 places free out of 2" in published.text

    # Each volunteer opens the shared link: the card, in their own zone.
    cards = {}
    for uid, user in volunteers.items():
        cards[uid] = await say(user, "/start opp_1")
        tz = zones[uid][1]
        assert f"{local(START, tz)}" in cards[uid].text
        assert f"({named[tz]})" in cards[uid].text  # as people say it, not "Asia/Vladivostok"
        assert "✅ Sign up" in cards[uid].button_texts()

    # All three press "Sign up" at the same moment: two places, one waiting list.
    answers = await asyncio.gather(
        *(user.press("✅ Sign up", message=cards[uid]) for uid, user in volunteers.items())
    )
    toasts = sorted(a.text or "" for a in answers)
    assert toasts == [
        "✅ You are signed up! The organiser sees your name and @username.",
        "✅ You are signed up! The organiser sees your name and @username.",
        "🕐 No free places left — you are on the waiting list.",
    ]
    state = await statuses(app, 1)
    confirmed = sorted(u for u, s in state.items() if s == "confirmed")
    [waiting] = [u for u, s in state.items() if s == "waiting"]
    assert len(confirmed) == 2
    for uid, user in volunteers.items():
        card = user.current(cards[uid])
        if uid == waiting:
            assert "we will tell you.\n👁 The organiser sees your name" in card.text
            assert "✖ Leave the waiting list" in card.button_texts()
        else:
            assert "✅ You are signed up.\n👁 The organiser sees your name" in card.text
            assert "✖ Cancel my sign-up" in card.button_texts()
            assert "📅 Add to calendar" in card.button_texts()

    # The organiser hears about the rush in one message.
    await tick(app, clock, TUESDAY + timedelta(minutes=1))
    notice = (await coordinator.messages_until(lambda m: "Sign-ups for your" in m.text))[-1]
    assert notice.text.count("— signed up") == 2
    assert "joined the waiting list" in notice.text
    assert "Now: 2 of 2 places taken, 1 waiting." in notice.text

    # One confirmed volunteer cancels: the waiting one moves up and is told.
    leaving, staying = confirmed
    answer = await volunteers[leaving].press("✖ Cancel my sign-up", message=cards[leaving])
    assert answer.text == "Your sign-up is cancelled."
    assert "✅ Sign up" not in volunteers[leaving].current(cards[leaving]).button_texts()
    assert "🕐 Join the waiting list" in volunteers[leaving].current(cards[leaving]).button_texts()
    promoted = await volunteers[waiting].messages_until(lambda m: "you are in" in m.text)
    assert "Food bank shift" in promoted[-1].text
    # Their old card still offers to leave the queue: the press keeps the place won meanwhile.
    stale = await volunteers[waiting].press("✖ Leave the waiting list", message=cards[waiting])
    assert stale.text == "🎉 A place freed up for you meanwhile — you are signed up."
    assert "✖ Cancel my sign-up" in volunteers[waiting].current(cards[waiting]).button_texts()
    assert await statuses(app, 1) == {
        leaving: "cancelled",
        staying: "confirmed",
        waiting: "confirmed",
    }
    # A refreshed card shows the place.
    refreshed = await tap(volunteers[waiting], "🙋 Open the opportunity", promoted[-1])
    assert "✅ You are signed up." in refreshed.text

    # Within five minutes of the last notice nothing more; then one with both changes.
    await tick(app, clock, TUESDAY + timedelta(minutes=3))
    await coordinator.no_message(within=0.3)
    await tick(app, clock, TUESDAY + timedelta(minutes=7))
    second = (await coordinator.messages_until(lambda m: "Sign-ups for your" in m.text))[-1]
    assert "cancelled their sign-up" in second.text
    assert "got a place from the waiting list" in second.text

    # Reminders: 24 h and 2 h before the start, each in the volunteer's own zone.
    final = [staying, waiting]
    await tick(app, clock, START - timedelta(hours=24, minutes=-1))
    for uid in final:
        tz = zones[uid][1]
        reminder = (await volunteers[uid].messages_until(lambda m: "Tomorrow" in m.text))[-1]
        assert f"{local(START, tz)}" in reminder.text
        assert f"({named[tz]})" in reminder.text
        assert "🔕 Unsubscribe from volunteering" in reminder.button_texts()
    await tick(app, clock, START - timedelta(hours=24, minutes=-30))  # no doubles
    await tick(app, clock, START - timedelta(hours=2))
    for uid in final:
        reminder = (await volunteers[uid].messages_until(lambda m: "In 2 hours" in m.text))[-1]
        assert local(START, zones[uid][1]) in reminder.text
    async with app.engine.connect() as conn:
        keys = (
            await conn.execute(select(outbox.c.dedup_key).where(outbox.c.kind == "opp_reminder"))
        ).scalars()
        assert sorted(k.rsplit(":", 1)[0] for k in keys) == sorted(
            f"opp-remind:1:{uid}:{h}:20261205T1000" for uid in final for h in (24, 2)
        )

    # The organiser's CSV lists exactly the confirmed volunteers.
    card = await say(coordinator, "/opportunities")
    card = await tap(coordinator, next(b for b in card.button_texts() if "Food bank" in b))
    await coordinator.press("📄 CSV", message=card)
    document = await coordinator.messages_until(lambda m: m.kind == "document")
    data = document[-1].document
    assert data is not None
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Name", "Username", "Telegram ID"]
    assert sorted(int(r[2]) for r in rows[1:]) == sorted(final)
    assert len(rows) == 3

    # A message to all participants goes through the outbox to the confirmed ones.
    await tap(coordinator, "✉️ Message participants", card)
    sent = await say(coordinator, "Meet at the north gate <b>at 12:45</b>")
    assert "on its way to 2 participants." in sent.text
    card = (await coordinator.messages_until(lambda m: "Share this link" in m.text))[-1]
    for uid in final:
        note = (await volunteers[uid].messages_until(lambda m: "Message from" in m.text))[-1]
        assert "Meet at the north gate <b>at 12:45</b>" in note.text  # plain text, escaped

    # A confirmed volunteer's calendar file: the meeting in the organiser's zone.
    mine = await say(volunteers[staying], "/volunteer")
    mine = await tap(volunteers[staying], "✅ My sign-ups", mine)
    opened = await tap(volunteers[staying], next(b for b in mine.button_texts() if "Food" in b))
    await volunteers[staying].press("📅 Add to calendar", message=opened)
    ics = (await volunteers[staying].messages_until(lambda m: m.kind == "document"))[-1]
    assert ics.file_name == "opportunity-1.ics"
    assert ics.document is not None
    assert b"DTSTART;TZID=Europe/Moscow:20261205T130000" in ics.document

    # After the start the organiser marks who came; a no-show is counted.
    await tick(app, clock, START + timedelta(hours=1))
    # The organiser's weekly digest may arrive meanwhile: read the list's own message.
    people = await tap_on(coordinator, "👥 Participants", card)
    assert "Mark who came" in people.text
    marks = [b for b in people.button_texts() if b.startswith("⬜")]
    assert len(marks) == 2
    people = await tap_on(coordinator, marks[0], people)
    people = await tap_on(coordinator, marks[1], people)
    second_mark = next(b for b in people.button_texts() if b.startswith("✅ 2."))
    people = await tap_on(coordinator, second_mark, people)
    assert [b[0] for b in people.button_texts()[:2]] == ["✅", "❌"]
    assert "1 person did not come" in people.text
    assert emulator.rejections() == []


async def test_a_shared_link_opens_the_card_for_a_newcomer_after_consent(
    emulator: Emulator, launch: Launch
) -> None:
    clock = ManualClock(TUESDAY)
    app = (await launch(clock=clock, tick_seconds=3600)).app
    coordinator = await person(
        app, emulator, COORDINATOR, "Olga", "Europe/Moscow", "mow", role="coordinator"
    )
    await create_opportunity(coordinator, title="Food bank shift", places="5")

    newcomer = emulator.user(9200, first_name="Gleb", language_code="en")
    consent = await say(newcomer, "/start opp_1")
    assert "Consent to personal data processing" in consent.text
    assert "To offer you opportunities to help" in consent.text  # the volunteer's consent
    assert consent.button_texts() == ["✅ I agree", "📄 Full privacy policy", "✖ I don't agree"]
    async with app.engine.connect() as conn:
        stored = await users_repo.get(conn, 9200)
    assert stored is not None
    assert stored.consent_at is None  # nothing but the id before consent

    card = await tap(newcomer, "✅ I agree", consent)
    assert card.message_id == consent.message_id  # the consent screen turned into the card
    assert "Food bank shift" in card.text
    assert "5 places free out of 5" in card.text
    card = await tap(newcomer, "✅ Sign up", card)
    assert "✅ You are signed up." in card.text
    async with app.engine.connect() as conn:
        stored = await users_repo.get(conn, 9200)
    assert stored is not None
    assert stored.consent_at is not None
    assert stored.first_name == "Gleb"
    assert stored.roles == frozenset({"volunteer"})

    # A link to something that does not exist: a friendly "out of date", never silence.
    gone = await say(newcomer, "/start opp_999")
    assert "out of date" in gone.text
    # Declining on a link's consent screen stores nothing, as on /start.
    shy = emulator.user(9201, first_name="Shy", language_code="en")
    screen = await say(shy, "/start opp_1")
    await tap(shy, "✖ I don't agree", screen)
    async with app.engine.connect() as conn:
        assert await users_repo.get(conn, 9201) is None
    assert emulator.rejections() == []


async def test_stale_buttons_answer_with_the_current_state(
    emulator: Emulator, launch: Launch
) -> None:
    clock = ManualClock(TUESDAY)
    app = (await launch(clock=clock, tick_seconds=3600)).app
    coordinator = await person(
        app, emulator, COORDINATOR, "Olga", "Europe/Moscow", "mow", role="coordinator"
    )
    await say(coordinator, "/opportunities")
    await tap(coordinator, "➕ New opportunity")
    for typed in ("Choir for the care home", "Sing carols with the residents."):
        await say(coordinator, typed)
    await tap(coordinator, "Culture and outreach")
    for typed in ("Дом престарелых, ул. Мира, 3", "05.12.2026 13:00", "15:00", "1"):
        await say(coordinator, typed)
    await tap(coordinator, "A day before")
    await say(coordinator, "+7 900 000-00-00")
    await tap(coordinator, "✅ I agree: show it to everyone")
    published = await tap(coordinator, "✅ Publish")
    assert "until 04.12.2026 13:00" in published.text

    users = {
        uid: await person(app, emulator, uid, name, "Europe/Moscow", "mow")
        for uid, name in ((9301, "Ivan"), (9302, "Lena"), (9303, "Mark"), (9304, "Nina"))
    }
    cards = {uid: await say(user, "/start opp_1") for uid, user in users.items()}
    for card in cards.values():
        assert "✅ Sign up" in card.button_texts()

    # Full: the card still said "Sign up"; the press tells the truth and shows the queue.
    await users[9301].press("✅ Sign up", message=cards[9301])
    answer = await users[9302].press("✅ Sign up", message=cards[9302])
    assert answer.text == "🕐 No free places left — you are on the waiting list."
    now_card = users[9302].current(cards[9302])
    assert "waiting list, number 1" in now_card.text
    assert "✖ Leave the waiting list" in now_card.button_texts()

    # Past the cut-off: no sign-up, and no giving the place back here.
    await tick(app, clock, datetime(2026, 12, 4, 11, 0, tzinfo=UTC))  # 14:00 in Moscow
    # The organiser's summary of the sign-ups goes out with that tick (wait for it, so it does
    # not arrive in the middle of the organiser's next screen).
    summary = (
        await coordinator.messages_until(lambda m: "Sign-ups for your opportunities" in m.text)
    )[-1]
    assert "🕐 Lena (@lena_9302) — joined the waiting list" in summary.text
    answer = await users[9303].press("✅ Sign up", message=cards[9303])
    assert answer.text == "The sign-up has ended."
    after = users[9303].current(cards[9303])
    assert "The sign-up has ended." in after.text
    assert "✅ Sign up" not in after.button_texts()
    answer = await users[9301].press("✖ Cancel my sign-up", message=cards[9301])
    assert answer.text == (
        "It is too late to cancel here — please tell the organiser: +7 900 000-00-00"
    )
    assert "It is too late to cancel here" in users[9301].current(cards[9301]).text

    # Cancelled: the people signed up are told; a stale button says so and shows the card.
    card = await say(coordinator, "/opportunities")
    card = await tap(coordinator, next(b for b in card.button_texts() if "Choir" in b))
    ask = await tap(coordinator, "❌ Cancel the opportunity", card)
    assert "All 2 people signed up or waiting get a message." in ask.text
    done = await tap(coordinator, "❌ Yes, cancel it", ask)
    assert "cancelled" in done.text
    for uid in (9301, 9302):
        told = (await users[uid].messages_until(lambda m: "cancelled an opportunity" in m.text))[
            -1
        ]
        assert "Choir for the care home" in told.text
    answer = await users[9304].press("✅ Sign up", message=cards[9304])
    assert answer.text == "❌ The organiser cancelled this opportunity."
    stale = users[9304].current(cards[9304])
    assert "❌ The organiser cancelled this opportunity." in stale.text
    assert stale.button_texts() == ["« Back", "☰ Menu"]
    answer = await users[9302].press("✖ Leave the waiting list", message=cards[9302])
    assert answer.text == "❌ The organiser cancelled this opportunity."
    # Forged data for an opportunity that never existed: "out of date" and a fresh menu.
    await users[9304].press_data("vo:sign:777::a:0", message=stale)
    assert (
        "out of date"
        in (await users[9304].messages_until(lambda m: "out of date" in m.text))[-1].text
    )
    assert emulator.rejections() == []


async def test_organiser_edits_reach_the_participants(emulator: Emulator, launch: Launch) -> None:
    clock = ManualClock(TUESDAY)
    app = (await launch(clock=clock, tick_seconds=3600)).app
    # The start's tick ends first: run late on a busy machine, it sent the organiser's sign-up
    # summary in the middle of a later screen (CI, twice). The next tick is an hour away.
    async with asyncio.timeout(30):
        while not app.ticker.ticks:  # noqa: ASYNC110 - the scheduler's first tick, at start
            await asyncio.sleep(0.01)
    coordinator = await person(
        app, emulator, COORDINATOR, "Olga", "Europe/Moscow", "mow", role="coordinator"
    )
    card = await create_opportunity(coordinator, title="Food bank shift", places="2")
    anna = await person(app, emulator, 9401, "Anna", "Asia/Vladivostok", "pri")
    await anna.press("✅ Sign up", message=await say(anna, "/start opp_1"))

    # A new start keeps the length; the volunteer hears the new time in their own zone.
    await tap(coordinator, "✏️ Edit", card)
    ask = await tap(coordinator, "Start")
    assert "in your zone, MSK:" in ask.text
    again = await say(coordinator, "06.12.2026 15:00")
    assert "06.12.2026 15:00–18:00 (MSK)" in again.text
    moved = (await anna.messages_until(lambda m: "changed an opportunity" in m.text))[-1]
    assert "New time" in moved.text
    assert "06.12.2026 22:00" in moved.text  # 15:00 in Moscow is 22:00 in Vladivostok

    # Online now: a link instead of the address.
    await tap(coordinator, "✏️ Edit", again)
    await tap(coordinator, "Place")
    for bad in ("http://x", "http://meet.example.org/food", "https://localhost/food"):
        # A link, but not one to open: asked again. (The organiser's sign-up summary, sent by
        # the tick, may arrive in between: the answer is waited for, not the next message.)
        coordinator.skip_pending()
        await coordinator.send(bad)
        [*_, asked] = await coordinator.messages_until(lambda m: "A link starts" in m.text)
        assert "A link starts with https:// and names a site" in asked.text, bad
    online = await say(coordinator, "https://meet.example.org/food")
    assert "💻 Online: https://meet.example.org/food" in online.text
    news = (await anna.messages_until(lambda m: "New place" in m.text))[-1]
    assert "https://meet.example.org/food" in news.text

    # No limit of places; closing the sign-up stops newcomers, reopening lets them in.
    await tap(coordinator, "✏️ Edit", online)
    await tap(coordinator, "Places")
    await tap(coordinator, "No limit")
    # The screen, not the newest message: the tick's sign-up summary may have come after it.
    unlimited = newest(coordinator, "No limit of places")
    assert "No limit of places · 1 person signed up" in unlimited.text
    await coordinator.press("⏸ Close the sign-up", message=unlimited)
    boris = await person(app, emulator, 9402, "Boris", "Europe/Moscow", "mow")
    closed = await say(boris, "/start opp_1")
    assert "The organiser has closed the sign-up." in closed.text
    assert "✅ Sign up" not in closed.button_texts()
    assert "💻 Online link" in closed.button_texts()
    await coordinator.press("▶ Reopen the sign-up", message=unlimited)
    answer = await boris.press("« Back", message=closed)
    assert answer is not None
    reopened = await say(boris, "/start opp_1")
    assert "✅ Sign up" in reopened.button_texts()
    assert emulator.rejections() == []
