"""A typed date far from today (01.01.0001 overflowed the zone conversion in every Russian zone)
is refused with the dates the bot takes, and the question is asked again: the opportunity form
and its edits, a broadcast's time, a contest's dates."""

from __future__ import annotations

from datetime import timedelta

from bot.storage.tables import broadcasts, opportunities
from bot.ui.broadcast import BroadcastCb
from bot.ui.keyboards import OrganiserCb
from handlers.content_admin import ContentCb, FormCb
from tests.hostile.harness import Harness
from tests.test_opportunities import new_opportunity

ABSURD = "01.01.0001 00:00"
RANGE = "I take dates from"


async def test_the_opportunity_form_refuses_year_one(harness: Harness) -> None:
    user = await harness.coordinator(language_code="en")
    await harness.send(user, "/opportunities")
    await harness.press(user, OrganiserCb(action="new").pack())
    await harness.send(user, "Clean-up day")
    await harness.send(user, "We clean the park together.")
    await harness.press(user, OrganiserCb(action="wtopic", value="culture").pack())
    await harness.send(user, "Central park")
    for typed in (ABSURD, "31.12.9999 23:59", "0001-01-01 00:00"):
        [reply] = await harness.send(user, typed)
        assert RANGE in reply.text
        assert "step 5 of 9" in reply.text  # the start, asked again
    soon = (harness.app.clock.now() + timedelta(days=3)).strftime("%d.%m.%Y 10:00")
    [reply] = await harness.send(user, soon)
    assert "step 6 of 9" in reply.text


async def test_editing_a_date_refuses_year_one(harness: Harness) -> None:
    user = await harness.coordinator(language_code="en")
    starts = harness.app.clock.now() + timedelta(days=3)
    opportunity = await new_opportunity(
        harness.app.volunteering, None, starts_at=starts, ends_at=starts + timedelta(hours=2)
    )
    before = await harness.rows(opportunities, id=opportunity)
    for field in ("starts_at", "ends_at", "signup_until"):
        await harness.press(user, OrganiserCb(action="field", id=opportunity, value=field).pack())
        [reply] = await harness.send(user, ABSURD)
        assert RANGE in reply.text
    assert await harness.rows(opportunities, id=opportunity) == before


async def test_a_broadcast_time_refuses_year_one(harness: Harness) -> None:
    user = await harness.coordinator(language_code="en")
    await harness.send(user, "/broadcast")
    await harness.send(user, "The centre is open on Saturday.")
    [draft] = await harness.rows(broadcasts, author_id=user.id)
    await harness.press(user, BroadcastCb(action="when", id=draft["id"]).pack())
    for typed in (ABSURD, "01.01.0001 10:00", "31.12.9999 23:59"):
        [reply] = await harness.send(user, typed)
        assert RANGE in reply.text
    assert (await harness.rows(broadcasts, id=draft["id"]))[0]["scheduled_at"] is None


async def test_a_contest_window_refuses_year_one(harness: Harness) -> None:
    user = await harness.coordinator(language_code="en")
    await harness.send(user, "/coordinator")
    await harness.press(user, ContentCb(action="new", kind="grant").pack())
    for answer in ("A grant", "A fund", "https://example.org/grant", "Anyone"):
        await harness.send(user, answer)
    await harness.press(user, FormCb(action="skip", step="amount").pack())
    await harness.press(user, FormCb(action="done", step="topics").pack())
    await harness.press(user, FormCb(action="done", step="phases").pack())
    await harness.press(user, FormCb(action="pick", step="region", value="-").pack())
    for typed in ("01.01.0001 – 02.01.0001", "01.12.2026 – 31.12.9999"):
        [reply] = await harness.send(user, typed)
        assert "is out of range: write a date from" in reply.text
    today = harness.app.clock.now().date()
    window = f"{today:%d.%m.%Y} – {today + timedelta(days=30):%d.%m.%Y}"
    [reply] = await harness.send(user, window)
    assert "✅ Save" in reply.button_texts()  # the preview
