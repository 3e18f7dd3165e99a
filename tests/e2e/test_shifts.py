"""Shifts and roles: an organiser adds shifts (date, times, places) and roles within a shift,
repeats them every week; each has its own places and waiting list, and a volunteer signs up
for one from the card's «Other shifts and roles». Bad input (end before start, capacity 0 or
100 000, an overlapping shift, a role twice) is said and adds nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.app import App
from bot.emulator import Emulator
from bot.storage.tables import opportunities
from bot.ui.keyboards import OrganiserCb, VolunteerCb
from tests.conftest import Launch
from tests.e2e.test_confirmations import ANNA, BORIS, publish, setup
from tests.e2e.test_journey import say, tap
from tests.e2e.test_volunteer import statuses

SATURDAY = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)  # 13:00–16:00 in Moscow


async def count(app: App) -> int:
    async with app.engine.connect() as conn:
        return int(
            (await conn.execute(select(func.count()).select_from(opportunities))).scalar_one()
        )


async def test_shifts_and_roles_each_with_places_and_a_waiting_list(
    emulator: Emulator, launch: Launch
) -> None:
    app, _, organiser, (anna, boris) = await setup(launch, emulator, ANNA, BORIS)
    oid = await publish(app, "Food bank", SATURDAY, capacity=5)
    listed = await say(organiser, "/opportunities")
    await organiser.press("05.12 13:00 · Food bank · 👥 0/5", message=listed)
    card = await organiser.wait_edit(listed)
    screen = await tap(organiser, "🕐 Shifts and roles", card)
    assert "05.12 13:00–16:00 · 0/5" in screen.button_texts()

    await tap(organiser, "➕ Shift", screen)
    for typed, said in (
        ("06.12.2026 14:00-10:00 5", "The end must come after the start"),
        ("06.12.2026 10:00-13:00 0", "Places: from 1 to 10 000."),
        ("06.12.2026 10:00-13:00 100000", "Places: from 1 to 10 000."),
        ("05.12.2026 15:00-18:00 3", "This shift overlaps another one"),
        ("tomorrow morning", "Please type it as in the example"),
    ):
        reply = await say(organiser, typed)
        assert said in reply.text, typed
        assert "Nothing was added" in reply.text
        assert await count(app) == 1
    organiser.skip_pending()
    await organiser.send("06.12.2026 10:00-13:00 4")
    found = await organiser.messages_until(lambda m: "Shifts and roles:" in m.text)
    screen = found[-1]
    assert "06.12 10:00–13:00 · 0/4" in screen.button_texts()

    # A role within the Saturday shift, with its own places.
    await tap(organiser, "➕ Role in this shift", screen)
    reply = await say(organiser, "водитель")
    assert "Please type the role and its places" in reply.text
    organiser.skip_pending()
    await organiser.send("водитель 1")
    screen = (await organiser.messages_until(lambda m: "Shifts and roles:" in m.text))[-1]
    assert "05.12 13:00–16:00 · водитель · 0/1" in screen.button_texts()
    await tap(organiser, "➕ Role in this shift", screen)
    reply = await say(organiser, "Водитель 2")
    assert "This shift already has that role." in reply.text
    assert await count(app) == 3

    # Every week, for two more weeks: each of the three again, twice.
    await organiser.press_data(OrganiserCb(action="addsh", id=oid, value="weekly").pack())
    reply = await say(organiser, "13")
    assert "Weeks: a number from 1 to 12." in reply.text
    organiser.skip_pending()
    await organiser.send("2")
    screen = (await organiser.messages_until(lambda m: "Shifts and roles:" in m.text))[-1]
    assert await count(app) == 9
    assert "19.12 13:00–16:00 · водитель · 0/1" in screen.button_texts()

    # Volunteers: the role's one place, then its waiting list.
    async with app.engine.connect() as conn:
        driver = (
            await conn.execute(
                select(opportunities.c.id).where(
                    opportunities.c.role == "водитель", opportunities.c.starts_at == SATURDAY
                )
            )
        ).scalar_one()
    await say(anna, "/volunteer")
    anna.skip_pending()
    await anna.press_data(VolunteerCb(action="card", id=oid).pack())
    assert anna.last_bot_message is not None
    card = anna.current(anna.last_bot_message)
    choice = await tap(anna, "🕐 Other shifts and roles", card)
    [label] = [b for b in choice.button_texts() if "05.12 13:00 · Food bank · водитель" in b]
    role_card = await tap(anna, label, choice)
    assert role_card.text.startswith("🙋 Food bank · водитель")
    await tap(anna, "✅ Sign up", role_card)
    await say(boris, "/volunteer")
    boris.skip_pending()
    await boris.press_data(VolunteerCb(action="card", id=driver).pack())
    assert boris.last_bot_message is not None
    card = boris.current(boris.last_bot_message)
    await tap(boris, "🕐 Join the waiting list", card)
    assert await statuses(app, driver) == {ANNA: "confirmed", BORIS: "waiting"}
    assert await statuses(app, oid) == {}
