"""Cards shared anywhere, end to end through the emulator: `@bot субботник` in any chat offers
matching opportunity cards (ё-insensitive, a Russian ending ignored), choosing one posts it
"via @bot" and its «Sign up» opens the deep link; the «📤 Share» button asks for exactly that
card; an organiser posts a card into a group they administer, whose free places update in
place after sign-ups (coalesced) and which says so when the opportunity is cancelled; a chat
where the bot is not an administrator gets a clear message, and a forged press on someone
else's opportunity changes nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.app import App
from bot.emulator import Emulator
from bot.infra.clock import ManualClock
from bot.services.volunteering import Draft
from bot.storage import users as users_repo
from bot.storage.tables import posted_cards
from bot.ui.keyboards import OrganiserCb
from tests.conftest import Launch
from tests.e2e.test_journey import say, tap
from tests.e2e.test_volunteer import COORDINATOR, TUESDAY, create_opportunity, person

FAST = {"card_edit_delay": 0.05, "card_edit_interval": 0.1, "card_edit_rate": 50}


def draft(app: App, title: str, description: str, days: int, capacity: int | None = 5) -> Draft:
    starts = TUESDAY + timedelta(days=days, hours=2)
    return Draft(
        title=title,
        description=description,
        topic=app.catalog.topics[0].code,
        place="Москва, парк Горького",
        link=None,
        region="mow",
        timezone="Europe/Moscow",
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        capacity=capacity,
        signup_until=None,
        contact=None,
    )


async def test_inline_search_choose_and_deep_link(emulator: Emulator, launch: Launch) -> None:
    emulator.set_inline_mode(feedback=True)
    clock = ManualClock(TUESDAY)
    app = (await launch(clock=clock, tick_seconds=3600, **FAST)).app
    await person(app, emulator, COORDINATOR, "Olga", "Europe/Moscow", "mow", role="coordinator")
    vol = app.volunteering
    first = await vol.create(COORDINATOR, draft(app, "Субботник в парке", "Уберём листья.", 3))
    await vol.create(COORDINATOR, draft(app, "Ёлка для детей", "Праздник в приюте.", 2))
    await vol.create(COORDINATOR, draft(app, "Food bank shift", "Pack parcels.", 1))

    # Someone who never opened the bot types in a chat with a friend.
    vera = emulator.user(9500, first_name="Vera", language_code="en")
    friends = emulator.group(9501, "Vera and Ivan", chat_type="private")
    answer = await vera.inline("СУББОТНИКИ", chat=friends)
    assert answer.titles() == ["Субботник в парке"]
    assert answer.is_personal
    assert 0 < answer.cache_time <= 30
    assert (await vera.inline("елка", chat=friends)).titles() == ["Ёлка для детей"]  # ё = е
    assert (await vera.inline("", chat=friends)).titles() == [  # the nearest first
        "Food bank shift",
        "Ёлка для детей",
        "Субботник в парке",
    ]
    assert (await vera.inline("опера", chat=friends)).titles() == []
    async with app.engine.connect() as conn:
        assert await users_repo.get(conn, 9500) is None  # nothing stored about her

    card = await vera.choose(answer, f"opp_{first}")
    assert card.via_bot == "opora_test_bot"
    assert "Субботник в парке" in card.text
    assert "5 places free out of 5" in card.text
    assert card.button_texts() == ["✅ Sign up"]
    assert card.buttons[0][0].url == f"https://t.me/opora_test_bot?start=opp_{first}"
    # Inline feedback told the bot which message it is: it is kept, to update in place.
    await emulator.wait_for_call("answerInlineQuery", count=4)
    ivan = emulator.user(9502, first_name="Ivan", language_code="en")
    consent = await ivan.press_url("✅ Sign up", message=card)
    assert consent.text == f"/start opp_{first}"
    screen = await ivan.next_message()
    assert "Consent to personal data processing" in screen.text
    screen = await tap(ivan, "✅ I agree", screen)
    assert "Субботник в парке" in screen.text
    await tap(ivan, "✅ Sign up", screen)
    edited = await friends.wait_edit(card, until=lambda m: "4 places free out of 5" in m.text)
    assert edited.inline_message_id == card.inline_message_id
    async with app.engine.connect() as conn:
        rows = (await conn.execute(select(posted_cards))).mappings().all()
    assert [(r["opportunity_id"], r["inline_message_id"]) for r in rows] == [
        (first, card.inline_message_id)
    ]
    assert emulator.rejections() == []


async def test_share_button_asks_for_exactly_that_card(emulator: Emulator, launch: Launch) -> None:
    emulator.set_inline_mode(feedback=True)
    app = (await launch(clock=ManualClock(TUESDAY), tick_seconds=3600, **FAST)).app
    await person(app, emulator, COORDINATOR, "Olga", "Europe/Moscow", "mow", role="coordinator")
    await app.volunteering.create(COORDINATOR, draft(app, "Субботник", "Листья.", 3))
    second = await app.volunteering.create(COORDINATOR, draft(app, "Субботник 2", "Ещё.", 4))
    anna = await person(app, emulator, 9601, "Anna", "Europe/Moscow", "mow")
    card = await say(anna, f"/start opp_{second}")
    share = card.button("📤 Share").raw
    assert share["switch_inline_query"] == f"opp_{second}"
    group = emulator.group(-100601, "Соседи", chat_type="group")
    answer = await anna.inline(share["switch_inline_query"], chat=group)
    assert answer.titles() == ["Субботник 2"]
    shared = await anna.choose(answer, f"opp_{second}")
    assert shared.sender_id == anna.id
    assert "Субботник 2" in shared.text


async def test_group_post_updates_and_cancellation(emulator: Emulator, launch: Launch) -> None:
    clock = ManualClock(TUESDAY)
    # A change waits half a second for more: the three sign-ups below make fewer edits.
    slower = {**FAST, "card_edit_delay": 0.5}
    app = (await launch(clock=clock, tick_seconds=3600, **slower)).app
    coordinator = await person(
        app, emulator, COORDINATOR, "Olga", "Europe/Moscow", "mow", role="coordinator"
    )
    card = await create_opportunity(coordinator, title="Food bank shift", places="5")
    group = emulator.group(-100700, "Добровольцы Москвы", username="dobro_msk")
    emulator.set_member(group, COORDINATOR, "administrator")
    emulator.add_bot(group, by=COORDINATOR)
    alien = emulator.group(-100701, "Чужая группа", username="alien_group")
    emulator.set_member(alien, COORDINATOR, "administrator")  # the bot is not there

    ask = await tap(coordinator, "📢 Post to a group or channel", card)
    assert "Send me the chat’s @username" in ask.text
    refused = await say(coordinator, "@nobody_here")
    assert "I cannot find this chat" in refused.text
    refused = await say(coordinator, "@alien_group")  # a public group the bot is not in
    assert "I am not an administrator there" in refused.text
    emulator.add_bot(alien, by=COORDINATOR, status="member")
    refused = await say(coordinator, "https://t.me/alien_group")
    assert "I am not an administrator there" in refused.text
    refused = await say(coordinator, "what?")
    assert "I did not understand" in refused.text
    done = await say(coordinator, "@dobro_msk")
    assert "The card is posted in “Добровольцы Москвы”" in done.text
    posted = await group.wait_bot_message(1)
    assert "Food bank shift" in posted.text
    assert "5 places free out of 5" in posted.text
    assert posted.buttons[0][0].url == "https://t.me/opora_test_bot?start=opp_1"

    # A flood of sign-ups makes few edits, and the card ends with the right number.
    people = [
        await person(app, emulator, uid, f"V{uid}", "Europe/Moscow", "mow")
        for uid in (9701, 9702, 9703)
    ]
    cards = [await say(p, "/start opp_1") for p in people]
    before = len(emulator.calls_of("editMessageText"))
    for p, c in zip(people, cards, strict=True):
        await p.press("✅ Sign up", message=c)
    now = await group.wait_edit(posted, until=lambda m: "2 places free out of 5" in m.text)
    edits = [
        c
        for c in emulator.calls_of("editMessageText")[before:]
        if c.params.get("chat_id") == group.id
    ]
    assert 1 <= len(edits) < len(people)

    # Cancelled: the posted card says so and loses its «Sign up».
    screen = await say(coordinator, "/opportunities")
    screen = await tap(coordinator, next(b for b in screen.button_texts() if "Food" in b))
    ask = await tap(coordinator, "❌ Cancel the opportunity", screen)
    await tap(coordinator, "❌ Yes, cancel it", ask)
    cancelled = await group.wait_edit(now, until=lambda m: "cancelled" in m.text)
    assert "❌ The organiser cancelled this opportunity." in cancelled.text
    assert cancelled.buttons == []
    for p in people:
        await p.messages_until(lambda m: "cancelled an opportunity" in m.text)
    # Only the look-up of the chat that does not exist was refused.
    assert [c.params["chat_id"] for c in emulator.rejections()] == ["@nobody_here"]


async def test_only_the_owner_posts_a_card(emulator: Emulator, launch: Launch) -> None:
    app = (await launch(clock=ManualClock(TUESDAY), tick_seconds=3600, **FAST)).app
    await person(app, emulator, COORDINATOR, "Olga", "Europe/Moscow", "mow", role="coordinator")
    theirs = await app.volunteering.create(COORDINATOR, draft(app, "Субботник", "Листья.", 3))
    other = await person(app, emulator, 9801, "Pavel", "Europe/Moscow", "mow", role="activist")
    async with app.engine.begin() as conn:
        await users_repo.grant_role(conn, 9801, "organiser", app.clock.now())
    group = emulator.group(-100800, "Pavel's group", username="pavel_group")
    emulator.set_member(group, 9801, "creator")
    emulator.add_bot(group, by=9801)
    menu = await say(other, "/opportunities")
    await other.press_data(OrganiserCb(action="post", id=theirs).pack(), message=menu)
    refusal = (await other.messages_until(lambda m: "only for" in m.text))[-1]
    assert "Sorry, this is only for coordinators" in refusal.text
    await say(other, "@pavel_group")  # not in the posting step: nothing is posted
    assert group.history == []
    async with app.engine.connect() as conn:
        assert (await conn.execute(select(posted_cards))).first() is None


async def test_changes_reach_everyone_signed_up_and_waiting(
    emulator: Emulator, launch: Launch
) -> None:
    clock = ManualClock(TUESDAY)
    app = (await launch(clock=clock, tick_seconds=3600, **FAST)).app
    await person(app, emulator, COORDINATOR, "Olga", "Europe/Moscow", "mow", role="coordinator")
    oid = await app.volunteering.create(
        COORDINATOR, draft(app, "Субботник", "Листья.", 3, capacity=1)
    )
    anna = await person(app, emulator, 9901, "Anna", "Europe/Moscow", "mow")
    boris = await person(app, emulator, 9902, "Boris", "Europe/Moscow", "mow")
    await anna.press("✅ Sign up", message=await say(anna, f"/start opp_{oid}"))
    await boris.press("🕐 Join the waiting list", message=await say(boris, f"/start opp_{oid}"))
    group = emulator.group(-100900, "Соседи", username="sosedi")
    emulator.set_member(group, COORDINATOR, "creator")
    emulator.add_bot(group, by=COORDINATOR)
    listing = await app.volunteering.listing(oid)
    assert listing is not None
    opp = listing.opportunity
    assert app.sharing is not None
    shown = app.sharing.card(listing, "en", "opora_test_bot")
    sent = await app.bot.send_message(group.id, shown.text, parse_mode="HTML")
    await app.sharing.remember_post(oid, COORDINATOR, group.id, sent.message_id, "en")
    posted = await group.wait_bot_message(1)

    # A new time and place: the confirmed and the waiting hear what changed, old → new.
    later = opp.starts_at + timedelta(days=1)
    await app.volunteering.edit(
        oid, COORDINATOR, starts_at=later, ends_at=later + timedelta(hours=3), place="ВДНХ"
    )
    app.sender.wake()
    for p in (anna, boris):
        told = (await p.messages_until(lambda m: "changed an opportunity" in m.text))[-1]
        assert "New time: 🗓 05.12.2026 13:00–16:00 (MSK)" in told.text
        assert "was: 04.12.2026 13:00–16:00" in told.text
        assert "📍 ВДНХ" in told.text
        assert "was: 📍 Москва, парк Горького" in told.text
    moved = await group.wait_edit(posted, until=lambda m: "05.12.2026 13:00" in m.text)

    # Over: the volunteer's card and the posted one say so.
    clock.offset += later + timedelta(hours=4) - clock.now()
    await app.tick()
    over = await group.wait_edit(moved, until=lambda m: "is over" in m.text)
    assert "🏁 This opportunity is over." in over.text
    assert over.buttons == []
    card = await say(anna, f"/start opp_{oid}")
    assert "🏁 This opportunity is over." in card.text
