"""Volunteering: the pure rules (periods in the volunteer's zone, free places, promotion order,
cut-off, reminders, input, matching, files) and the service on both backends — the capacity
holds under concurrent sign-ups, the waiting list moves up in order, reminders and the
organiser's batched notices go through the outbox."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.config import Settings
from bot.content import get_catalog
from bot.domain import opportunities as rules
from bot.domain.fields import DayOutOfRange, day_range
from bot.domain.opportunities import Listing, Opportunity, VolunteerFit
from bot.infra.clock import ManualClock
from bot.infra.db import make_engine, migrate
from bot.services.volunteering import Draft, OpportunityProblem, VolunteerService
from bot.storage import settings as settings_repo
from bot.storage import users as users_repo
from bot.storage import volunteering as repo
from bot.storage.tables import outbox, signups
from bot.ui.render import Renderer

NOW = datetime(2026, 12, 1, 20, 30, tzinfo=UTC)  # a Tuesday
START = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


def opportunity(**changes: object) -> Opportunity:
    base = Opportunity(
        id=1,
        title="Уборка берега реки",
        description="Собираем мусор на берегу, перчатки и мешки выдаём.",
        topic="culture",
        place="Набережная, 1",
        link=None,
        region="mow",
        timezone="Europe/Moscow",
        starts_at=START,
        ends_at=START + timedelta(hours=3),
        capacity=3,
        signup_until=None,
        contact="@olga",
        status="open",
        created_by=1,
        created_at=NOW,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# --- periods --------------------------------------------------------------------------------


def test_periods_are_calendar_periods_in_the_volunteers_zone() -> None:
    # 20:30 UTC on Tuesday is already Wednesday 06:30 in Vladivostok, still Tuesday in Kaliningrad.
    vvo = "Asia/Vladivostok"
    assert rules.period_bounds("d", NOW, vvo) == (NOW, datetime(2026, 12, 2, 14, 0, tzinfo=UTC))
    assert rules.period_bounds("w", NOW, vvo) == (NOW, datetime(2026, 12, 6, 14, 0, tzinfo=UTC))
    assert rules.period_bounds("m", NOW, vvo) == (NOW, datetime(2026, 12, 31, 14, 0, tzinfo=UTC))
    kgd = "Europe/Kaliningrad"
    assert rules.period_bounds("d", NOW, kgd)[1] == datetime(2026, 12, 1, 22, 0, tzinfo=UTC)
    assert rules.period_bounds("w", NOW, kgd)[1] == datetime(2026, 12, 6, 22, 0, tzinfo=UTC)
    assert rules.period_bounds("a", NOW, kgd) == (NOW, None)
    with pytest.raises(ValueError, match="period"):
        rules.period_bounds("x", NOW, kgd)


def test_a_sunday_week_and_a_december_month_end_right() -> None:
    sunday = datetime(2026, 12, 27, 12, 0, tzinfo=UTC)
    assert rules.period_bounds("w", sunday, "Europe/Moscow")[1] == datetime(
        2026, 12, 27, 21, 0, tzinfo=UTC
    )
    assert rules.period_bounds("m", sunday, "Europe/Moscow")[1] == datetime(
        2026, 12, 31, 21, 0, tzinfo=UTC
    )


# --- places, promotion, cut-off -------------------------------------------------------------


def test_free_places_and_seats() -> None:
    assert rules.free_places(None, 50) is None
    assert rules.free_places(3, 1) == 2
    assert rules.free_places(2, 3) == 0  # the organiser lowered the capacity
    assert rules.seat(None, 1000) == "confirmed"
    assert rules.seat(2, 1) == "confirmed"
    assert rules.seat(2, 2) == "waiting"


@dataclass(frozen=True)
class W:
    user_id: int
    position: int


def test_the_earliest_in_the_queue_moves_up_one_per_free_place() -> None:
    queue = [W(7, 12), W(5, 4), W(9, 30), W(6, 8)]
    assert [w.user_id for w in rules.promotions(3, 1, queue)] == [5, 6]
    assert rules.promotions(3, 3, queue) == []
    assert rules.promotions(2, 5, queue) == []
    assert [w.user_id for w in rules.promotions(None, 10, queue)] == [5, 6, 7, 9]


@given(
    capacity=st.one_of(st.none(), st.integers(0, 20)),
    confirmed=st.integers(0, 25),
    positions=st.lists(st.integers(0, 1000), unique=True, max_size=30),
)
def test_promotions_are_a_prefix_of_the_queue_within_free_places(
    capacity: int | None, confirmed: int, positions: list[int]
) -> None:
    queue = [W(p, p) for p in positions]
    chosen = rules.promotions(capacity, confirmed, queue)
    assert [w.position for w in chosen] == sorted(positions)[: len(chosen)]
    free = rules.free_places(capacity, confirmed)
    assert len(chosen) == (len(queue) if free is None else min(free, len(queue)))


def test_cut_off_ends_sign_up_and_cancelling_a_place_but_not_leaving_the_queue() -> None:
    opp = opportunity(signup_until=START - timedelta(days=1))
    before = START - timedelta(days=2)
    after = START - timedelta(hours=12)
    assert rules.signup_refusal(opp, before) is None
    assert rules.signup_refusal(opp, after) == "cutoff"
    assert rules.cancel_refusal(opp, "confirmed", before) is None
    assert rules.cancel_refusal(opp, "confirmed", after) == "cutoff"
    assert rules.cancel_refusal(opp, "waiting", after) is None
    assert rules.signup_refusal(opp, START) == "started"
    assert rules.cancel_refusal(opp, "waiting", START) == "started"
    # Without a cut-off the start is the cut-off.
    assert opportunity().cutoff == START
    assert rules.signup_refusal(opportunity(), START - timedelta(minutes=1)) is None
    assert rules.signup_refusal(opportunity(status="closed"), before) == "closed"
    assert rules.signup_refusal(opportunity(status="cancelled"), before) == "cancelled"
    assert rules.cancel_refusal(opportunity(status="cancelled"), "confirmed", before) == (
        "cancelled"
    )


# --- reminders ------------------------------------------------------------------------------


def test_reminders_24_and_2_hours_before() -> None:
    early = START - timedelta(days=3)
    assert rules.reminder_due(START, early, START - timedelta(hours=25)) is None
    assert rules.reminder_due(START, early, START - timedelta(hours=24)) == timedelta(hours=24)
    assert rules.reminder_due(START, early, START - timedelta(hours=3)) == timedelta(hours=24)
    assert rules.reminder_due(START, early, START - timedelta(hours=2)) == timedelta(hours=2)
    assert rules.reminder_due(START, early, START) is None
    # Signed up 20 hours before: no "tomorrow", only the 2-hour one.
    late = START - timedelta(hours=20)
    assert rules.reminder_due(START, late, START - timedelta(hours=19)) is None
    assert rules.reminder_due(START, late, START - timedelta(hours=1)) == timedelta(hours=2)


def test_a_reminder_in_quiet_hours_waits_for_their_end_or_comes_before_they_begin() -> None:
    moscow = ("Europe/Moscow", 22, 9)
    start = datetime(2026, 12, 5, 5, 0, tzinfo=UTC)  # Saturday 08:00 in Moscow
    day, two = timedelta(hours=24), timedelta(hours=2)
    # Friday 08:00 is quiet; 09:00 still leaves most of the day: then.
    assert rules.reminder_moment(start, day, *moscow) == datetime(2026, 12, 4, 6, 0, tzinfo=UTC)
    # Saturday 06:00 is quiet, and 09:00 is after the start: Friday 21:00 instead.
    assert rules.reminder_moment(start, two, *moscow) == datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
    noon = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)  # outside quiet hours: as it is
    assert rules.reminder_moment(noon, two, *moscow) == noon - two
    late = datetime(2026, 12, 4, 18, 30, tzinfo=UTC)  # signed up after Friday 21:00
    assert rules.reminder_due(start, late, start - two, quiet=moscow) is None


def test_reminders_wait_for_the_end_of_quiet_hours_unless_the_start_is_near() -> None:
    # 24 h before a 10:00 UTC start is 22:00 in Kamchatka: quiet until 09:00 local (21:00 UTC).
    due = START - timedelta(hours=24)
    assert rules.reminder_at(due, START, "Asia/Kamchatka", 22, 9) == datetime(
        2026, 12, 4, 21, 0, tzinfo=UTC
    )
    assert rules.reminder_at(due, START, "Europe/Moscow", 22, 9) == due
    # 2 h before a 07:00 local start is 05:00: quiet hours would delay it past the start.
    early_start = datetime(2026, 12, 5, 4, 0, tzinfo=UTC)  # 07:00 in Moscow
    due = early_start - timedelta(hours=2)
    assert rules.reminder_at(due, early_start, "Europe/Moscow", 22, 9) == due


# --- the organiser's input ------------------------------------------------------------------


def test_dates_and_times_are_read_in_the_organisers_zone() -> None:
    msk = "Europe/Moscow"
    expected = datetime(2026, 12, 25, 7, 0, tzinfo=UTC)
    assert rules.parse_when("25.12.2026 10:00", msk, NOW) == expected
    assert rules.parse_when("25.12.26 10.00", msk, NOW) == expected
    assert rules.parse_when("2026-12-25 10:00", msk, NOW) == expected
    assert rules.parse_when("25.12 10:00", msk, NOW) == expected
    # A day and month already past this year mean next year.
    assert rules.parse_when("15.01 10:00", msk, NOW) == datetime(2027, 1, 15, 7, 0, tzinfo=UTC)
    assert rules.parse_when("25.12.2026 10:00", "Asia/Vladivostok", NOW) == datetime(
        2026, 12, 25, 0, 0, tzinfo=UTC
    )
    for bad in ("", "завтра", "31.02.2026 10:00", "25.12.2026 25:00", "10:00"):
        assert rules.parse_when(bad, msk, NOW) is None
    start = datetime(2026, 12, 25, 7, 0, tzinfo=UTC)
    assert rules.parse_end("13:30", start, msk, NOW) == datetime(2026, 12, 25, 10, 30, tzinfo=UTC)
    assert rules.parse_end("02:00", start, msk, NOW) == datetime(2026, 12, 25, 23, 0, tzinfo=UTC)
    assert rules.parse_end("26.12.2026 18:00", start, msk, NOW) == datetime(
        2026, 12, 26, 15, 0, tzinfo=UTC
    )


RUSSIAN_ZONES = sorted({z.iana for z in get_catalog().zones})
ABSURD = ["01.01.0001 00:00", "0001-01-01 00:00", "01.01.0001 23:59", "31.12.9999 23:59"]


@pytest.mark.parametrize("tz", RUSSIAN_ZONES)
def test_a_date_far_from_today_is_refused_in_every_zone(tz: str) -> None:
    """Year 0001 overflowed the zone conversion; any day outside yesterday … two years ahead
    is refused with the range, the rest is read as before."""
    today = NOW.astimezone(ZoneInfo(tz)).date()
    for typed in [*ABSURD, "01.01.2025 10:00", "01.01.2030 10:00"]:
        with pytest.raises(DayOutOfRange) as out:
            rules.parse_when(typed, tz, NOW)
        assert (out.value.earliest, out.value.latest) == day_range(today)
        with pytest.raises(DayOutOfRange):
            rules.parse_end(typed, NOW + timedelta(days=1), tz, NOW)
    assert rules.parse_when("25.12.2027 10:00", tz, NOW) is not None  # far, but in range


def test_capacity_and_time_checks() -> None:
    assert rules.parse_capacity(" 12 ") == 12
    assert rules.parse_capacity("0") is None
    assert rules.parse_capacity("-") is None
    for bad in ("ten", "-3", "10001", "2.5", ""):
        with pytest.raises(ValueError):  # noqa: PT011
            rules.parse_capacity(bad)
    end = START + timedelta(hours=2)
    assert rules.time_problem(NOW, START, end, None) is None
    assert rules.time_problem(NOW, NOW - timedelta(hours=1), end, None) == "start_past"
    assert rules.time_problem(NOW, START, START, None) == "end_before_start"
    assert rules.time_problem(NOW, START, end, START + timedelta(minutes=1)) == (
        "cutoff_after_start"
    )
    assert rules.time_problem(NOW, NOW + timedelta(days=400), end, None) == "start_far"
    # a typed link keeps to the one rule of links (bot.domain.fields.Link)
    assert rules.typed_link(" https://meet.example.org/abc ") == "https://meet.example.org/abc"
    assert rules.typed_link("https://встреча.рф/") == "https://xn--80adj7beg1b.xn--p1ai/"
    for bad in (
        "ул. Ленина, 1",
        "http://x",
        "http://meet.example.org",
        "https://x",
        "https://localhost:8080/",
        "https://192.168.1.1/",
    ):
        assert rules.typed_link(bad) is None, bad
    assert rules.looks_like_link("HTTP://x")
    assert rules.looks_like_link("https://")
    assert not rules.looks_like_link("ул. Ленина, 1, http://map.example.org")


# --- matching -------------------------------------------------------------------------------


def test_opportunities_for_a_volunteer() -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    saturday = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)  # 12:00 in Moscow
    tuesday_evening = datetime(2026, 12, 8, 16, 0, tzinfo=UTC)  # 19:00 in Moscow
    photo = opportunity(id=1, topic="social_services", title="Фотограф на праздник двора",
                        description="Нужен фотограф.", starts_at=saturday,
                        ends_at=saturday + timedelta(hours=2))  # fmt: skip
    river = opportunity(id=2, starts_at=tuesday_evening,
                        ends_at=tuesday_evening + timedelta(hours=2))  # fmt: skip
    far = opportunity(
        id=3, region="nvs", starts_at=saturday, ends_at=saturday + timedelta(hours=1)
    )
    online = opportunity(id=4, region="nvs", place=None, link="https://meet.example.org/x",
                         starts_at=saturday, ends_at=saturday + timedelta(hours=1))  # fmt: skip
    full = opportunity(id=5, capacity=1, starts_at=saturday, ends_at=saturday + timedelta(hours=1))
    later = opportunity(id=6, starts_at=now + timedelta(days=20),
                        ends_at=now + timedelta(days=20, hours=1))  # fmt: skip
    listings = [Listing(photo), Listing(river), Listing(far), Listing(online),
                Listing(full, confirmed=1), Listing(later)]  # fmt: skip

    fit = VolunteerFit(timezone="Europe/Moscow", region="mow", skills=("фотография",))
    assert [x.opportunity.id for x in rules.opportunities_for(fit, listings, now)] == [1]
    fit = VolunteerFit(timezone="Europe/Moscow", region="mow", topics=frozenset({"culture"}))
    found = rules.opportunities_for(fit, listings, now)
    assert [x.opportunity.id for x in found] == [2, 4]  # own region first, never full or far
    evenings = fit._replace(availability=frozenset({"evenings"}))
    assert [x.opportunity.id for x in rules.opportunities_for(evenings, listings, now)] == [2]
    taken = fit._replace(taken=frozenset({2}))
    assert [x.opportunity.id for x in rules.opportunities_for(taken, listings, now)] == [4]
    anyone = VolunteerFit(timezone="Europe/Moscow", region="mow")
    assert [x.opportunity.id for x in rules.opportunities_for(anyone, listings, now)] == [1, 2, 4]
    assert rules.slot_of(saturday, "Europe/Moscow") == "weekends"
    six_in_moscow = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)
    assert rules.slot_of(six_in_moscow, "Europe/Moscow") == "evenings"
    assert rules.slot_of(six_in_moscow, "Europe/Kaliningrad") == "weekdays"  # 17:00 there


# --- files ----------------------------------------------------------------------------------


def test_csv_has_a_bom_and_defuses_formulas() -> None:
    data = rules.csv_bytes(["Имя", "ID"], [["Анна", 1], ["=HYPERLINK(1)", 2], ["@x", None]])
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.splitlines() == ["Имя,ID", "Анна,1", "'=HYPERLINK(1),2", "'@x,"]
    assert "\r\n" in text


def test_ics_is_a_meeting_in_the_organisers_zone() -> None:
    ics = rules.to_ics(opportunity(id=7), NOW, url="https://t.me/bot?start=opp_7").decode()
    assert "UID:opportunity-7@opora" in ics
    assert "DTSTART;TZID=Europe/Moscow:20261205T130000" in ics
    assert "DTEND;TZID=Europe/Moscow:20261205T160000" in ics
    assert "LOCATION:Набережная\\, 1" in ics
    assert "BEGIN:VTIMEZONE" in ics
    assert "TRIGGER:-PT2H" in ics


# --- the service on both backends -----------------------------------------------------------


@pytest.fixture
async def service(database_url: str) -> AsyncIterator[VolunteerService]:
    engine = make_engine(database_url)
    await migrate(engine)
    clock = ManualClock(NOW)
    values: dict[str, Any] = {"database_url": database_url}
    settings = Settings(_env_file=None, **values)
    yield VolunteerService(engine, clock, Renderer(), settings)
    await engine.dispose()


async def people(service: VolunteerService, ids: range, tz: str = "Europe/Moscow") -> None:
    async with service.engine.begin() as conn:
        for uid in ids:
            await users_repo.ensure(conn, uid, NOW)
            await users_repo.set_fields(
                conn, uid, NOW, consent_at=NOW, first_name=f"User {uid}", timezone=tz, locale="en"
            )


def draft(**changes: Any) -> Draft:
    """An opportunity as an organiser enters it: a clean-up on START, three hours long."""
    base = Draft(
        title="Уборка берега",
        description="Собираем мусор.",
        topic="culture",
        place="Набережная, 1",
        link=None,
        region="mow",
        timezone="Europe/Moscow",
        starts_at=START,
        ends_at=START + timedelta(hours=3),
        capacity=None,
        signup_until=None,
        contact=None,
    )
    if "starts_at" in changes and "ends_at" not in changes:
        changes["ends_at"] = changes["starts_at"] + timedelta(hours=3)
    return replace(base, **changes)


async def new_opportunity(
    service: VolunteerService, capacity: int | None, *, by: int = 1, **changes: Any
) -> int:
    return await service.create(by, draft(capacity=capacity, **changes))


async def states(service: VolunteerService, opportunity_id: int) -> dict[int, str]:
    async with service.engine.connect() as conn:
        rows = await conn.execute(
            select(signups.c.user_id, signups.c.status).where(
                signups.c.opportunity_id == opportunity_id
            )
        )
        return {int(u): str(s) for u, s in rows.all()}


async def pushes(service: VolunteerService, kind: str) -> list[dict[str, Any]]:
    async with service.engine.connect() as conn:
        rows = await conn.execute(
            select(outbox).where(outbox.c.kind == kind).order_by(outbox.c.id)
        )
        return [dict(r) for r in rows.mappings()]


async def test_capacity_holds_under_concurrent_sign_ups(service: VolunteerService) -> None:
    await people(service, range(1, 21))
    opportunity_id = await new_opportunity(service, capacity=3)
    outcomes = await asyncio.gather(
        *(service.sign_up(opportunity_id, uid) for uid in range(2, 21))
    )
    results = sorted(o.result for o in outcomes if o is not None)
    assert results == ["confirmed"] * 3 + ["waiting"] * 16
    state = await states(service, opportunity_id)
    assert sorted(state.values()) == ["confirmed"] * 3 + ["waiting"] * 16
    async with service.engine.connect() as conn:
        positions = (
            await conn.execute(
                select(func.count(func.distinct(signups.c.position))).where(
                    signups.c.opportunity_id == opportunity_id
                )
            )
        ).scalar_one()
    assert positions == 19  # every sign-up got its own place in the queue

    # Concurrent cancels and sign-ups: never more than three places taken, the queue moves
    # up in order.
    confirmed = sorted(u for u, s in state.items() if s == "confirmed")
    async with service.engine.connect() as conn:
        queue = [s.user_id for s in await repo.signups_of(conn, opportunity_id)
                 if s.status == "waiting"]  # fmt: skip
    await asyncio.gather(
        service.cancel(opportunity_id, confirmed[0]),
        service.cancel(opportunity_id, confirmed[1]),
        service.sign_up(opportunity_id, confirmed[0]),  # may land before or after its cancel
    )
    state = await states(service, opportunity_id)
    taken = sorted(u for u, s in state.items() if s == "confirmed")
    assert len(taken) == 3
    assert confirmed[2] in taken
    promoted = [u for u in taken if u not in confirmed]
    assert promoted == sorted(queue[: len(promoted)])
    assert len(await pushes(service, "opp_promoted")) == len(promoted)


async def test_waiting_list_order_cut_off_and_cancelling(service: VolunteerService) -> None:
    await people(service, range(1, 7))
    cutoff = START - timedelta(days=1)
    opportunity_id = await new_opportunity(service, capacity=2, signup_until=cutoff)
    for uid in (2, 3, 4, 5, 6):
        await service.sign_up(opportunity_id, uid)
    again = await service.sign_up(opportunity_id, 2)
    assert again is not None
    assert again.result == "already"
    # 4, 5, 6 wait in that order; 5 leaves and joins again: now behind 6.
    left = await service.cancel(opportunity_id, 5)
    assert left is not None
    assert left.result == "left"
    back = await service.sign_up(opportunity_id, 5)
    assert back is not None
    assert back.result == "waiting"
    assert back.card.queue_place == 3
    withdrawn = await service.cancel(opportunity_id, 2)
    assert withdrawn is not None
    assert withdrawn.result == "withdrawn"
    assert withdrawn.enqueued == 1
    assert (await states(service, opportunity_id))[4] == "confirmed"
    card = await service.card(opportunity_id, 6)
    assert card is not None
    assert card.queue_place == 1
    [told] = await pushes(service, "opp_promoted")
    assert told["user_id"] == 4
    assert "you are in" in json.loads(str(told["payload"]))["text"]
    # After the cut-off: no sign-up, no giving a place back; leaving the queue still works.
    clock = service.clock
    assert isinstance(clock, ManualClock)
    clock.offset += cutoff - NOW
    late = await service.sign_up(opportunity_id, 2)
    assert late is not None
    assert late.result == "cutoff"
    stuck = await service.cancel(opportunity_id, 3)
    assert stuck is not None
    assert stuck.result == "cutoff"
    gone = await service.cancel(opportunity_id, 6)
    assert gone is not None
    assert gone.result == "left"
    assert await service.sign_up(10_000, 2) is None


async def test_reminders_notices_and_cancelling_go_through_the_outbox(
    service: VolunteerService,
) -> None:
    await people(service, range(1, 4))
    await people(service, range(4, 5), tz="Asia/Kamchatka")
    opportunity_id = await new_opportunity(service, capacity=None)
    for uid in (2, 3, 4):
        await service.sign_up(opportunity_id, uid)
    clock = service.clock
    assert isinstance(clock, ManualClock)
    # One notice for the rush; nothing more within five minutes; then the rest.
    assert await service.tick() == 1
    [notice] = await pushes(service, "opp_notice")
    assert notice["user_id"] == 1
    assert json.loads(str(notice["payload"]))["text"].count("— signed up") == 3
    await service.cancel(opportunity_id, 3)
    assert await service.tick() == 0
    clock.offset += timedelta(minutes=5)
    assert await service.tick() == 1
    assert (
        "cancelled"
        in json.loads(str((await pushes(service, "opp_notice"))[-1]["payload"]))["text"]
    )
    # Reminders 24 h before; in Kamchatka that is 22:00, inside quiet hours (22–9): it comes
    # when they end, still most of a day before the start, rendered then and dropped should
    # it not have gone by the start.
    async with service.engine.begin() as conn:  # user 2 turned volunteering off
        await settings_repo.save(conn, 2, settings_repo.PushSettings(opportunities=False), NOW)
    clock.offset += START - timedelta(hours=24) - clock.now()
    assert await service.tick() == 0
    clock.offset += datetime(2026, 12, 4, 21, 0, tzinfo=UTC) - clock.now()
    assert await service.tick() == 1
    [reminder] = await pushes(service, "opp_reminder")
    assert reminder["user_id"] == 4
    assert reminder["not_before"] == datetime(2026, 12, 4, 21, 0, tzinfo=UTC)
    assert json.loads(str(reminder["payload"]))["expires_at"] == START.isoformat()
    assert await service.tick() == 0
    # Cancelling the opportunity tells everyone still signed up and drops pending reminders.
    told = await service.cancel_opportunity(opportunity_id, 1)
    assert told == 2
    assert sorted(p["user_id"] for p in await pushes(service, "opp_cancelled")) == [2, 4]
    assert [p["status"] for p in await pushes(service, "opp_reminder")] == ["cancelled"]
    assert await service.cancel_opportunity(opportunity_id, 1) is None
    refused = await service.sign_up(opportunity_id, 3)
    assert refused is not None
    assert refused.result == "cancelled"
    async with service.engine.connect() as conn:
        assert await repo.participants(conn, [opportunity_id]) == [2, 4]


async def test_opportunities_for_respects_the_switch_and_the_profile(
    service: VolunteerService,
) -> None:
    await people(service, range(1, 4))
    opportunity_id = await new_opportunity(service, capacity=5)
    assert [x.opportunity.id for x in await service.opportunities_for(2)] == [opportunity_id]
    await service.save_volunteer_profile(2, skills=["программирование"])
    assert await service.opportunities_for(2) == []  # nothing about programming
    await service.save_volunteer_profile(2, skills=["уборка"])
    assert [x.opportunity.id for x in await service.opportunities_for(2)] == [opportunity_id]
    await service.sign_up(opportunity_id, 2)
    assert await service.opportunities_for(2) == []  # taken already
    async with service.engine.begin() as conn:
        await settings_repo.save(conn, 3, settings_repo.PushSettings(opportunities=False), NOW)
    assert await service.opportunities_for(3) == []
    assert await service.opportunities_for(99) == []


async def test_edits_tell_volunteers_and_more_places_move_the_queue_up(
    service: VolunteerService,
) -> None:
    await people(service, range(1, 6))
    opportunity_id = await new_opportunity(service, capacity=1)
    for uid in (2, 3, 4):
        await service.sign_up(opportunity_id, uid)
    assert await service.edit(opportunity_id, 1, capacity=3) == 2  # 3 and 4 move up, told
    assert await states(service, opportunity_id) == {
        2: "confirmed",
        3: "confirmed",
        4: "confirmed",
    }
    assert await service.edit(opportunity_id, 1, title="Новое название") == 0  # not news
    later = START + timedelta(days=1)
    told = await service.edit(
        opportunity_id, 1, starts_at=later, ends_at=later + timedelta(hours=3)
    )
    assert told == 3
    changed = await pushes(service, "opp_changed")
    assert "New time" in json.loads(str(changed[0]["payload"]))["text"]
    with pytest.raises(OpportunityProblem):
        await service.edit(opportunity_id, 1, ends_at=later - timedelta(hours=1))
    with pytest.raises(ValueError, match="created_by"):
        await service.edit(opportunity_id, 1, created_by=5)


async def test_a_place_freed_by_deleted_data_goes_to_the_queue_on_the_tick(
    service: VolunteerService,
) -> None:
    await people(service, range(1, 5))
    opportunity_id = await new_opportunity(service, capacity=1)
    for uid in (2, 3):
        await service.sign_up(opportunity_id, uid)
    async with service.engine.begin() as conn:
        await users_repo.delete_all(conn, 2)  # /delete_me: the sign-up goes with the user
    assert await states(service, opportunity_id) == {3: "waiting"}
    await service.tick()
    assert await states(service, opportunity_id) == {3: "confirmed"}
    assert [p["user_id"] for p in await pushes(service, "opp_promoted")] == [3]
    # A place freed between ticks goes to the queue, not to whoever presses next.
    await service.sign_up(opportunity_id, 4)
    async with service.engine.begin() as conn:
        await users_repo.delete_all(conn, 3)
    await people(service, range(5, 6))
    late = await service.sign_up(opportunity_id, 5)
    assert late is not None
    assert late.result == "waiting"
    assert late.enqueued == 1
    assert await states(service, opportunity_id) == {4: "confirmed", 5: "waiting"}
    async with service.engine.connect() as conn:
        exported = await repo.export(conn, 4)
    assert exported["signups"][0]["status"] == "confirmed"
