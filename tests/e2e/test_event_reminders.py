"""Event reminders respect the event: a reminder that would fall into the volunteer's quiet
hours comes before they begin, its text says the real time left when it goes, and nothing
about an event goes once it has started."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.app import App
from bot.emulator import EmulatedUser, Emulator
from bot.infra.clock import ManualClock
from bot.services.volunteering import Draft
from bot.storage import settings as settings_repo
from bot.storage.tables import outbox
from tests.conftest import Launch
from tests.e2e.test_volunteer import TUESDAY, person, tick

ORGANISER = 9300
VOLUNTEER = 9301


async def event(app: App, title: str, starts_at: datetime) -> int:
    """A published opportunity in Moscow and the volunteer signed up for it."""
    draft = Draft(
        title=title, description="Помочь с раздачей.", topic="social", place="ул. Ленина, 1",
        link=None, region="mow", timezone="Europe/Moscow", starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=3), capacity=None, signup_until=None, contact=None,
    )  # fmt: skip
    opportunity_id = await app.volunteering.create(ORGANISER, draft)
    assert await app.volunteering.sign_up(opportunity_id, VOLUNTEER) is not None
    return opportunity_id


async def volunteer(launch: Launch, emulator: Emulator) -> tuple[App, ManualClock, EmulatedUser]:
    """The bot on a clock starting on TUESDAY, and a volunteer in Moscow with the default
    quiet hours (22–9) and no digest."""
    clock = ManualClock(TUESDAY)
    app = (await launch(clock=clock, tick_seconds=3600)).app
    await person(app, emulator, ORGANISER, "Olga", "Europe/Moscow", "mow", role="coordinator")
    user = await person(app, emulator, VOLUNTEER, "Anna", "Europe/Moscow", "mow")
    async with app.engine.begin() as conn:
        await settings_repo.save(
            conn, VOLUNTEER, settings_repo.PushSettings(digest="off"), app.clock.now()
        )
    return app, clock, user


async def reminders(app: App) -> list[dict[str, object]]:
    async with app.engine.connect() as conn:
        result = await conn.execute(
            select(outbox).where(outbox.c.kind == "opp_reminder").order_by(outbox.c.id)
        )
        return [dict(r) for r in result.mappings()]


async def test_a_reminder_comes_before_quiet_hours_and_says_the_time_left(
    emulator: Emulator, launch: Launch
) -> None:
    app, clock, user = await volunteer(launch, emulator)
    # Saturday 08:00 in Moscow; the volunteer's quiet hours are 22–9.
    early = datetime(2026, 12, 5, 5, 0, tzinfo=UTC)
    await event(app, "Early shift", early)

    # The day's reminder would fall at 08:00 on Friday, in quiet hours: it waits for 09:00.
    await tick(app, clock, early - timedelta(hours=24))
    await user.no_message(within=0.3)
    await tick(app, clock, datetime(2026, 12, 4, 6, 0, tzinfo=UTC))  # Friday 09:00
    reminder = (await user.messages_until(lambda m: "⏰" in m.text, timeout=10))[-1]
    assert reminder.text.startswith("⏰ Tomorrow at 08:00 you’re volunteering at:")
    # The 2 h one would fall at 06:00 on Saturday, and after the night is too late: it comes
    # at 21:00 the evening before, an hour before quiet hours begin.
    await tick(app, clock, datetime(2026, 12, 4, 17, 59, tzinfo=UTC))
    await user.no_message(within=0.3)
    await tick(app, clock, datetime(2026, 12, 4, 18, 0, tzinfo=UTC))  # Friday 21:00
    reminder = (await user.messages_until(lambda m: "⏰" in m.text, timeout=10))[-1]
    assert reminder.text.startswith("⏰ Tomorrow at 08:00 you’re volunteering at:")
    await tick(app, clock, early - timedelta(hours=2))  # 06:00: nothing more in the night
    await user.no_message(within=0.3)
    sent = [(r["not_before"], r["status"]) for r in await reminders(app)]
    assert sent == [
        (datetime(2026, 12, 4, 6, 0, tzinfo=UTC), "sent"),
        (datetime(2026, 12, 4, 18, 0, tzinfo=UTC), "sent"),
    ]

    # A midday event: the reminder says the hours left, today; a late tick, the minutes.
    noon = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)  # Saturday 12:00
    await event(app, "Noon shift", noon)
    await tick(app, clock, noon - timedelta(hours=2))
    reminder = (await user.messages_until(lambda m: "⏰" in m.text, timeout=10))[-1]
    assert reminder.text.startswith("⏰ In 2 hours, today at 12:00, you help at:")
    # Signed up late for 13:00: the reminder says the minutes left, in the right form.
    one = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    clock.offset += one - timedelta(hours=3) - clock.now()
    await event(app, "One o’clock shift", one)
    await tick(app, clock, one - timedelta(minutes=51))
    reminder = (await user.messages_until(lambda m: "⏰" in m.text, timeout=10))[-1]
    assert reminder.text.startswith("⏰ In 51 minutes, at 13:00, you help at:")


async def test_nothing_about_an_event_goes_after_it_has_started(
    emulator: Emulator, launch: Launch
) -> None:
    app, clock, user = await volunteer(launch, emulator)
    start = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)  # Saturday 12:00 in Moscow
    await event(app, "Noon shift", start)
    await app.sender.stop()  # the sender is held up until after the start
    await tick(app, clock, start - timedelta(hours=2))
    [row] = await reminders(app)
    assert row["status"] == "pending"
    clock.offset += start + timedelta(minutes=1) - clock.now()
    await app.sender.start()
    app.sender.wake()
    await user.no_message(within=0.5)
    [row] = await reminders(app)
    assert row["status"] == "skipped"
    assert str(row["error"]).startswith("expired")
