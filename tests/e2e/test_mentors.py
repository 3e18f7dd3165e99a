"""Mentors end to end through the emulator: a stage-6 activist offers to mentor; a stage-2
project finds them from the «Менторство, наставничество» measure's card, asks by double
opt-in, both get each other's contact on «yes», the month's «как идёт?» reaches both on the
bot's clock (not before), and the end brings thanks and an optional rating. Hostile presses
— a mentee at stage 4, someone who offers nothing, a forged offer, rating or end — are
refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.app import App
from bot.emulator import ChatMessage, EmulatedUser, Emulator
from bot.infra.clock import ManualClock
from bot.services.peers import MentorCb
from bot.storage.tables import introductions
from bot.ui.keyboards import MeasureCb
from tests.conftest import Launch
from tests.e2e.test_journey import say
from tests.e2e.test_peers import activist, forge, refused
from tests.e2e.test_volunteer import person, tap_on, tick

MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
MARIA, PETR, OLEG, NINA = 9501, 9502, 9503, 9504


async def open_mentors(user: EmulatedUser) -> ChatMessage:
    user.skip_pending()
    await user.send("/profile")
    screen = await user.next_message(timeout=5)
    screen = await tap_on(user, "🤝 Peers and mentors", screen)
    return await tap_on(user, "🧑‍🏫 Mentors", screen)


async def mentorship(app: App) -> dict[str, object]:
    async with app.engine.connect() as conn:
        row = (await conn.execute(select(introductions))).mappings().one()
    return dict(row)


async def test_a_stage_2_project_finds_a_mentor_and_the_check_in_comes_after_a_month(
    emulator: Emulator, launch: Launch
) -> None:
    clock = ManualClock(MONDAY)
    app = (await launch(clock=clock, tick_seconds=3600)).app
    maria = await activist(app, emulator, MARIA, "Maria", can=["Фандрайзинг"], need=[], stage=6)
    petr = await activist(app, emulator, PETR, "Petr", can=[], need=["Наставник"], stage=2)
    await app.profiles.set_codes(PETR, "topics", frozenset({"culture"}))

    # Maria (stage 6) offers to mentor: a topic, two mentees, chat and call, on.
    screen = await open_mentors(maria)
    assert "you can offer to mentor" in screen.text
    screen = await tap_on(maria, "🧑‍🏫 Offer to mentor", screen)
    screen = await tap_on(maria, "▫️ Culture and outreach", screen)
    screen = await tap_on(maria, "👥 1 mentee", screen)
    screen = await tap_on(maria, "▫️ call", screen)
    screen = await tap_on(maria, "✅ Offer to mentor", screen)
    assert "Your offer: on · 2 mentees · chat, call · monthly" in screen.text
    assert "✅ Culture and outreach" in screen.button_texts()

    # Petr (stage 2) opens the mentoring measure's card: it leads to mentors inside the bot.
    petr.skip_pending()
    await petr.send("/profile")
    pscreen = await petr.next_message(timeout=5)
    await petr.press_data(MeasureCb(code="mentoring").pack(), message=pscreen)
    pscreen = petr.current(pscreen)
    assert "Mentoring" in pscreen.text
    pscreen = await tap_on(petr, "🧑‍🏫 Find a mentor", pscreen)
    assert "Mentors for your project" in pscreen.text
    assert "Maria · stage 6 · Tomsk Oblast" in pscreen.text
    assert "chat, call · monthly · 2 places free" in pscreen.text
    assert "@maria" not in pscreen.text
    pscreen = await tap_on(petr, "🙋 1. Maria", pscreen)
    assert "Request sent" in pscreen.text

    card = (await maria.messages_until(lambda m: "asks you to mentor" in m.text))[-1]
    assert "Stage 2" in card.text
    assert "Наставник" in card.text
    assert "@petr" not in card.text
    await tap_on(maria, "✅ Yes, introduce us", card)
    told = await petr.messages_until(lambda m: "@maria_9501" in m.text)
    assert "Your mentor said yes" in told[-1].text
    told = await maria.messages_until(lambda m: "@petr_9502" in m.text)
    assert "You mentor Petr" in told[-1].text
    started = await mentorship(app)
    assert (started["kind"], started["status"]) == ("mentor", "accepted")

    # Four weeks on: nothing yet. A month and a day on the bot's clock: «как идёт?» to both.
    await tick(app, clock, MONDAY + timedelta(days=28))
    assert (await mentorship(app))["checkin_at"] is None
    assert all("How is it going" not in m.text for m in petr.bot_messages)
    await tick(app, clock, MONDAY + timedelta(days=31))
    checkin = await petr.messages_until(lambda m: "How is it going" in m.text, timeout=10)
    assert "A month of mentoring with Maria" in checkin[-1].text
    mcheck = await maria.messages_until(lambda m: "How is it going" in m.text, timeout=10)
    assert "A month since you began mentoring Petr" in mcheck[-1].text
    assert (await mentorship(app))["checkin_at"] is not None
    await tick(app, clock, MONDAY + timedelta(days=32))  # once only
    assert sum("How is it going" in m.text for m in petr.bot_messages) == 1

    shown = await tap_on(maria, "👍 Going well", mcheck[-1])
    assert "Glad to hear it" in shown.text
    # Petr ends it: thanks to both, and a rating for the mentee.
    shown = await tap_on(petr, "🏁 End it", checkin[-1])
    assert "The mentorship has ended" in shown.text
    ended = await maria.messages_until(lambda m: "has ended" in m.text)
    assert "⭐⭐⭐⭐⭐" not in ended[-1].button_texts()  # the mentor rates nothing
    await refused(maria, MentorCb(action="rate", intro=1, value="1").pack(), ended[-1])
    shown = await tap_on(petr, "⭐⭐⭐⭐⭐", shown)
    assert "Thank you for the rating" in shown.text
    done = await mentorship(app)
    assert (done["status"], done["rating"]) == ("ended", 5)
    await refused(petr, MentorCb(action="end", intro=1).pack(), shown)  # ended already
    assert emulator.rejections() == []


async def test_hostile_mentoring_presses_are_refused(emulator: Emulator, launch: Launch) -> None:
    app = (await launch(clock=ManualClock(MONDAY), tick_seconds=3600)).app
    await activist(app, emulator, MARIA, "Maria", can=[], need=[], stage=6)
    assert app.peers is not None
    await app.peers.edit_offer(MARIA, "on", "")
    oleg = await activist(app, emulator, OLEG, "Oleg", can=[], need=[], stage=4)
    nina = await activist(app, emulator, NINA, "Nina", can=[], need=[], stage=2)

    # Stage 4: no mentor search, and a forged request is refused.
    screen = await open_mentors(oleg)
    assert "🔍 Find a mentor" not in screen.button_texts()
    assert "🧑‍🏫 Offer to mentor" not in screen.button_texts()
    shown = await forge(oleg, MentorCb(action="ask", id=MARIA).pack(), screen)
    assert "stages 1–3" in shown.text
    # Not a mentor's stage, not marked: a forged offer changes nothing.
    await refused(oleg, MentorCb(action="on").pack(), screen)
    assert await app.peers.offer(OLEG) is None
    await refused(oleg, MentorCb(action="list").pack(), screen)

    # Nina (stage 2) asks someone who offers nothing, and herself: refused alike.
    nscreen = await open_mentors(nina)
    for who in (OLEG, NINA, 7777):
        shown = await forge(nina, MentorCb(action="ask", id=who).pack(), nscreen)
        assert "cannot be introduced now" in shown.text
    # A forged answer to a request that is not hers, a forged end: out of date.
    shown = await forge(nina, MentorCb(action="ask", id=MARIA).pack(), nscreen)
    assert "Request sent" in shown.text
    await refused(nina, MentorCb(action="yes", intro=1).pack(), nscreen)
    await refused(oleg, MentorCb(action="end", intro=1).pack(), screen)
    await refused(nina, MentorCb(action="cap", value="99").pack(), nscreen)
    async with app.engine.connect() as conn:
        status = (await conn.execute(select(introductions.c.status))).scalar_one()
    assert status == "pending"
    # Only a coordinator can let someone below stage 5 mentor: /mentor <id>.
    reply = await say(nina, f"/mentor {OLEG}")
    assert "only for coordinators" in reply.text
    assert not await app.peers.may_offer(OLEG)
    coordinator = await person(
        app, emulator, 9509, "Olga", "Asia/Tomsk", "tom", role="coordinator"
    )
    reply = await say(coordinator, "/mentor 424242")
    assert "No one with this id" in reply.text
    reply = await say(coordinator, f"/mentor {OLEG}")
    assert "They can now offer to mentor" in reply.text
    told = await oleg.messages_until(lambda m: "invites you to mentor" in m.text)
    screen = await tap_on(oleg, "🧑‍🏫 Offer to mentor", told[-1])
    screen = await tap_on(oleg, "✅ Offer to mentor", screen)
    assert "Your offer: on" in screen.text
    assert emulator.rejections() == []
