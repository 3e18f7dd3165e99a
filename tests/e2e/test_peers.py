"""Peers end to end through the emulator: nothing is shown before an activist opts in; two
opted-in activists with complementary ikigai are suggested to each other with the reason, and
get each other's @username only after both say yes; never the same suggestions twice in a row;
hostile presses (an introduction to someone who did not opt in, forged ids, over the daily
limit, a blocked person) are refused and change nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.app import App
from bot.emulator import ChatMessage, EmulatedUser, Emulator
from bot.emulator.invite_links import add_group, groups
from bot.infra.clock import ManualClock
from bot.services.peers import PeerCb
from bot.storage.tables import audit_log, introductions, peer_profiles
from handlers.working_groups import WorkingCb
from tests.conftest import Launch
from tests.e2e.test_journey import say, tap
from tests.e2e.test_volunteer import person, tap_on

MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
ANNA, BORIS, CARL, COORDINATOR = 9201, 9202, 9203, 9209

DESIGN = "Дизайн афиш и листовок"
LAW_NEED = "Юридическая консультация по регистрации НКО"
LAW_CAN = "Помогу с юридическими вопросами и регистрацией"
POSTER_NEED = "Дизайнер для афиши"


async def activist(
    app: App,
    emulator: Emulator,
    uid: int,
    name: str,
    *,
    can: list[str],
    need: list[str],
    stage: int = 2,
    region: str = "tom",
    share: frozenset[str] = frozenset(),
) -> EmulatedUser:
    user = await person(app, emulator, uid, name, "Asia/Tomsk", region, role="activist")
    await app.profiles.set_ikigai_column(uid, "can", can)
    await app.profiles.set_ikigai_column(uid, "need", need)
    await app.profiles.add_quiz_result(uid, stage, {"q1": "a"})
    assert app.peers is not None
    if share:
        await app.peers.set_fields(uid, share)
    return user


async def forge(user: EmulatedUser, data: str, message: ChatMessage) -> ChatMessage:
    """Press forged `data` on `message`; returns that message as it is now."""
    user.skip_pending()
    await user.press_data(data, message=message)
    return user.current(message)


async def refused(user: EmulatedUser, data: str, message: ChatMessage) -> None:
    """Forged or stale `data`: the friendly «out of date» and a fresh menu, `message` kept."""
    before = user.current(message).text
    user.skip_pending()
    await user.press_data(data, message=message)
    fresh = await user.next_message(timeout=5)
    assert "out of date" in fresh.text
    assert user.current(message).text == before


async def intros(app: App) -> int:
    async with app.engine.connect() as conn:
        return int(
            (await conn.execute(select(func.count()).select_from(introductions))).scalar_one()
        )


async def test_complementary_peers_are_suggested_and_introduced_only_when_both_agree(
    emulator: Emulator, launch: Launch
) -> None:
    clock = ManualClock(MONDAY)
    app = (await launch(clock=clock, tick_seconds=3600)).app
    anna = await activist(app, emulator, ANNA, "Anna", can=[DESIGN], need=[LAW_NEED])
    boris = await activist(
        app, emulator, BORIS, "Boris", can=[LAW_CAN], need=[POSTER_NEED], stage=5
    )
    # Carl can what Anna needs too, but never opted in: he is never shown.
    await activist(app, emulator, CARL, "Carl", can=[LAW_CAN], need=[POSTER_NEED])

    # Anna opens peers from her profile: nothing of hers is shown yet.
    await anna.send("/profile")
    await anna.next_message(timeout=5)
    screen = await tap(anna, "🤝 Peers and mentors")
    assert "Nothing of your project is shown to other activists" in screen.text
    assert "🔍 Find peers" not in screen.button_texts()
    async with app.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(peer_profiles))).scalar() == 0
    for part in ("▫️ What I can", "▫️ What I need", "▫️ Region"):
        screen = await tap(anna, part, screen)
    assert {"✅ What I can", "✅ What I need", "✅ Region", "▫️ Project name"} <= set(
        screen.button_texts()
    )
    # Nobody else shows anything yet: no suggestion.
    screen = await tap(anna, "🔍 Find peers", screen)
    assert "No peers who complement your project yet" in screen.text

    # Boris shows his project (name, stage and the two columns) through the same screen.
    await boris.send("/profile")
    await boris.next_message(timeout=5)
    bscreen = await tap(boris, "🤝 Peers and mentors")
    for part in ("▫️ Stage", "▫️ What I can", "▫️ What I need"):
        bscreen = await tap(boris, part, bscreen)

    screen = await tap(anna, "« Back", screen)
    screen = await tap(anna, "🔍 Find peers", screen)
    text = screen.text
    assert f"You need what they can: “{LAW_NEED}” ↔ “{LAW_CAN}”" in text
    assert f"They need what you can: “{POSTER_NEED}” ↔ “{DESIGN}”" in text
    assert "A stage ahead of you" in text
    assert "Stage 5" in text
    assert "Carl" not in text
    assert "boris" not in text.lower()  # no name or @username before both say yes
    assert screen.button_texts().count("🤝 Introduce? №1") == 1
    assert "🤝 Introduce? №2" not in screen.button_texts()

    # «Познакомить?» → Boris gets a short card; Anna learns nothing yet.
    screen = await tap(anna, "🤝 Introduce? №1", screen)
    assert "Request sent" in screen.text
    card = await boris.messages_until(lambda m: "would like to meet you" in m.text, timeout=10)
    card_text = card[-1].text
    assert f"“{POSTER_NEED}” ↔ “{DESIGN}”" in card_text
    assert "anna" not in card_text.lower()
    assert {"✅ Yes, introduce us", "✖️ No, thanks", "🚫 Block and report"} <= set(
        card[-1].button_texts()
    )
    await anna.no_message(within=0.3)
    assert all("@boris" not in m.text for m in anna.bot_messages)

    # Boris says yes: each gets the other's @username.
    await boris.press("✅ Yes, introduce us", message=card[-1])
    told_boris = await boris.messages_until(lambda m: "@anna_9201" in m.text, timeout=10)
    assert "You both said yes" in told_boris[-1].text
    told_anna = await anna.messages_until(lambda m: "@boris_9202" in m.text, timeout=10)
    assert "You both said yes" in told_anna[-1].text
    # The card's button again (a second tap): out of date, nothing sent twice.
    await refused(boris, PeerCb(action="yes", intro=1).pack(), card[-1])
    await anna.no_message(within=0.3)

    # Turning sharing off hides Anna at once: Boris no longer finds her.
    screen = await tap_on(anna, "« Back", screen)  # the list
    screen = await tap_on(anna, "« Back", screen)  # the peers' menu
    screen = await tap_on(anna, "🙈 Stop showing my project", screen)
    assert "Nothing of your project is shown" in screen.text
    assert app.peers is not None
    assert await app.peers.suggestions(BORIS) == []
    # /my_data lists it.
    data = await say(anna, "/my_data")
    assert "Peers and mentors" in data.text
    assert "1 introduction" in data.text


async def test_never_the_same_suggestions_twice_in_a_row(
    emulator: Emulator, launch: Launch
) -> None:
    app = (await launch(clock=ManualClock(MONDAY), tick_seconds=3600)).app
    every = frozenset({"name", "stage", "region", "topics", "can", "need"})
    anna = await activist(app, emulator, ANNA, "Anna", can=[DESIGN], need=[LAW_NEED], share=every)
    for i in range(5):
        await activist(
            app, emulator, 9300 + i, f"Law{i}", can=[f"{LAW_CAN}, команда {i}"],
            need=[POSTER_NEED], share=every,
        )  # fmt: skip
    await anna.send("/profile")
    await anna.next_message(timeout=5)
    await tap(anna, "🤝 Peers and mentors")
    first = await tap(anna, "🔍 Find peers")
    assert "🤝 Introduce? №3" in first.button_texts()
    second = await tap(anna, "🔄 Other peers", first)
    third = await tap(anna, "🔄 Other peers", second)

    def teams(screen: ChatMessage) -> set[str]:
        return set(re.findall(r"Can: .*команда (\d)", screen.text))

    assert len(teams(first)) == 3
    assert teams(first) != teams(second) != teams(third)
    assert teams(second) == {"3", "4", "0"}  # the two not shown first, then the best again


async def test_hostile_introductions_are_refused(emulator: Emulator, launch: Launch) -> None:
    clock = ManualClock(MONDAY)
    app = (await launch(clock=clock, tick_seconds=3600)).app
    every = frozenset({"name", "stage", "region", "topics", "can", "need"})
    coordinator = await person(
        app, emulator, COORDINATOR, "Olga", "Asia/Tomsk", "tom", role="coordinator"
    )
    anna = await activist(app, emulator, ANNA, "Anna", can=[DESIGN], need=[LAW_NEED], share=every)
    boris = await activist(
        app, emulator, BORIS, "Boris", can=[LAW_CAN], need=[POSTER_NEED], share=every
    )
    carl = await activist(app, emulator, CARL, "Carl", can=[LAW_CAN], need=[POSTER_NEED])
    await anna.send("/profile")
    screen = await anna.next_message(timeout=5)

    # Forged data with the id of someone who did not opt in: refused, Carl hears nothing.
    for who in (CARL, ANNA, 123456):  # not opted in, oneself, no one
        shown = await forge(anna, PeerCb(action="ask", id=who).pack(), screen)
        assert "cannot be introduced now" in shown.text
    await refused(anna, f"pr:ask:{2**60}:0:", screen)  # too large for any column
    assert await intros(app) == 0
    await carl.no_message(within=0.3)

    # Someone who does not share cannot ask either (an introduction goes both ways).
    await carl.send("/profile")
    cscreen = await carl.next_message(timeout=5)
    shown = await forge(carl, PeerCb(action="ask", id=ANNA).pack(), cscreen)
    assert "First show your project" in shown.text

    # Anna asks Boris; Carl forges Boris's «yes» to Anna's request: not his, nothing changes.
    shown = await forge(anna, PeerCb(action="ask", id=BORIS).pack(), screen)
    assert "Request sent" in shown.text
    card = (await boris.messages_until(lambda m: "would like to meet you" in m.text))[-1]
    await refused(carl, PeerCb(action="yes", intro=1).pack(), cscreen)
    await anna.no_message(within=0.3)
    # Asking again while the first waits: said so, nothing sent.
    shown = await forge(anna, PeerCb(action="ask", id=BORIS).pack(), screen)
    assert "already waiting" in shown.text

    # Boris blocks and reports Anna from the card: her request is declined silently, the
    # coordinators are told, and she can no longer reach him or see him.
    await tap_on(boris, "🚫 Block and report", card)
    shown = await tap_on(boris, "⚠️ Block and report", card)
    assert "Blocked and reported" in shown.text
    report = await coordinator.messages_until(lambda m: "blocked and reported" in m.text)
    assert f"Activist {BORIS} blocked and reported activist {ANNA}" in report[-1].text
    async with app.engine.connect() as conn:
        actions = (await conn.execute(select(audit_log.c.action))).scalars().all()
    assert "peers.report" in actions
    shown = await forge(anna, PeerCb(action="ask", id=BORIS).pack(), screen)
    assert "cannot be introduced now" in shown.text
    assert app.peers is not None
    assert await app.peers.suggestions(ANNA) == []
    await anna.no_message(within=0.3)  # the decline is silent
    # A forged block of someone never met: refused.
    await refused(carl, PeerCb(action="block", id=ANNA).pack(), cscreen)

    # The daily limit: five requests a day on the bot's clock.
    for i in range(6):
        await activist(
            app, emulator, 9400 + i, f"Peer{i}", can=[LAW_CAN], need=[POSTER_NEED], share=every
        )
    results = []
    for i in range(5):
        shown = await forge(anna, PeerCb(action="ask", id=9400 + i).pack(), screen)
        results.append(shown.text)
    assert sum("Request sent" in r for r in results) == 4  # Boris was the first today
    assert "At most 5 introduction requests a day" in results[-1]
    clock.offset += timedelta(days=1)
    shown = await forge(anna, PeerCb(action="ask", id=9404).pack(), screen)
    assert "Request sent" in shown.text
    assert emulator.rejections() == []


async def test_a_coordinator_starts_a_working_group_for_a_topic_of_their_region(
    emulator: Emulator, launch: Launch
) -> None:
    app = (await launch(clock=ManualClock(MONDAY), tick_seconds=3600)).app
    every = frozenset({"name", "topics"})
    coordinator = await person(
        app, emulator, COORDINATOR, "Olga", "Asia/Tomsk", "tom", role="coordinator"
    )
    anna = await activist(app, emulator, ANNA, "Anna", can=[], need=[], share=every)
    boris = await activist(app, emulator, BORIS, "Boris", can=[], need=[])  # not shown
    dina = await activist(app, emulator, 9205, "Dina", can=[], need=[], region="mow", share=every)
    for uid in (ANNA, BORIS, 9205):
        await app.profiles.set_codes(uid, "topics", frozenset({"culture"}))
    add_group(emulator.bot_state(), -100555, "Культура Томска", can_invite_users=True)
    add_group(emulator.bot_state(), -100666, "Без прав", can_invite_users=False)

    # Only a coordinator may.
    reply = await say(anna, "/working_group -100555")
    assert "only for coordinators" in reply.text
    await refused_role(anna, WorkingCb(chat=-100555, topic="culture").pack(), reply)

    reply = await say(coordinator, "/working_group")
    assert "administrator allowed to invite users" in reply.text
    # A group where the bot may not invite: said so, nobody told.
    screen = await say(coordinator, "/working_group -100666")
    screen = await tap_on(coordinator, "Culture and outreach", screen)
    assert "could not make an invite link" in screen.text

    screen = await say(coordinator, "/working_group -100555")
    assert "Which topic" in screen.text
    screen = await tap_on(coordinator, "Culture and outreach", screen)
    assert "Invite link made; 1 activist told." in screen.text
    told = (await anna.messages_until(lambda m: "working group" in m.text))[-1]
    assert "Tomsk Oblast" in told.text
    link = groups(emulator.bot_state())[-100555].invite_links[-1]["invite_link"]
    assert told.button("👥 Join the working group").url == link
    await boris.no_message(within=0.3)  # does not show his project
    await dina.no_message(within=0.1)  # another region
    async with app.engine.connect() as conn:
        actions = (await conn.execute(select(audit_log.c.action))).scalars().all()
    assert "working_group.start" in actions


async def refused_role(user: EmulatedUser, data: str, message: ChatMessage) -> None:
    user.skip_pending()
    await user.press_data(data, message=message)
    reply = await user.next_message(timeout=5)
    assert "only for coordinators" in reply.text
