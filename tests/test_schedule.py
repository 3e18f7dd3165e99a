"""Quiet hours, local daytime and digest periods across Russia's zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.schedule import allowed_at, digest_period, in_quiet_hours

ZONES = [
    "Europe/Kaliningrad",
    "Europe/Moscow",
    "Europe/Samara",
    "Asia/Yekaterinburg",
    "Asia/Omsk",
    "Asia/Novosibirsk",
    "Asia/Irkutsk",
    "Asia/Yakutsk",
    "Asia/Vladivostok",
    "Asia/Magadan",
    "Asia/Kamchatka",
]


@pytest.mark.parametrize(
    ("hour", "start", "end", "quiet"),
    [(23, 22, 9, True), (3, 22, 9, True), (9, 22, 9, False), (12, 22, 9, False),
     (13, 13, 15, True), (15, 13, 15, False), (5, 7, 7, False)],
)  # fmt: skip
def test_quiet_hours(hour: int, start: int, end: int, quiet: bool) -> None:
    assert in_quiet_hours(hour, start, end) is quiet


def test_allowed_at_moves_to_the_end_of_quiet_hours() -> None:
    # 23:30 in Vladivostok (UTC+10) is 13:30 UTC; quiet until 09:00 local = 23:00 UTC.
    now = datetime(2026, 12, 1, 13, 30, tzinfo=UTC)
    assert allowed_at(now, "Asia/Vladivostok", 22, 9) == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    # 03:00 local: the same morning.
    early = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    assert allowed_at(early, "Asia/Vladivostok", 22, 9) == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    noon = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    assert allowed_at(noon, "Asia/Vladivostok", 22, 9) == noon


def test_weekly_digest_is_due_from_the_local_monday_hour() -> None:
    # Monday 2026-11-30 10:00 in Kaliningrad is 08:00 UTC; in Vladivostok it is 00:00 UTC.
    before = datetime(2026, 11, 30, 7, 59, tzinfo=UTC)
    at = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert digest_period(before, "Europe/Kaliningrad", "weekly", 10, 0) is None
    assert digest_period(at, "Europe/Kaliningrad", "weekly", 10, 0) == "2026-W49"
    assert digest_period(datetime(2026, 11, 30, 0, 0, tzinfo=UTC), "Asia/Vladivostok",
                         "weekly", 10, 0) == "2026-W49"  # fmt: skip
    # Sunday evening is still last week's period, already due.
    sunday = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
    assert digest_period(sunday, "Europe/Kaliningrad", "weekly", 10, 0) == "2026-W48"


def test_daily_and_off() -> None:
    now = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)  # 2027-01-01 08:00 in Kamchatka
    assert digest_period(now, "Asia/Kamchatka", "daily", 8, 0) == "2027-01-01"
    assert digest_period(now, "Europe/Kaliningrad", "daily", 23, 0) is None  # 22:00 there
    assert digest_period(now, "Europe/Moscow", "off", 0, 0) is None


@given(st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1)),
       st.sampled_from(ZONES), st.integers(0, 23), st.integers(0, 23))  # fmt: skip
def test_allowed_at_is_never_quiet_and_never_earlier(
    naive: datetime, zone: str, start: int, end: int
) -> None:
    now = naive.replace(tzinfo=UTC)
    moved = allowed_at(now, zone, start, end)
    assert now <= moved < now + timedelta(days=1)
    from zoneinfo import ZoneInfo

    assert not in_quiet_hours(moved.astimezone(ZoneInfo(zone)).hour, start, end)


def test_the_first_digest_is_the_planners_first() -> None:
    from bot.domain.schedule import first_digest

    thursday = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # 15:00 in Moscow
    args = ("Europe/Moscow", "weekly", 10, 0, 22, 9)
    # Thursday: this week's slot has passed; Monday 10:00.
    assert first_digest(thursday, thursday, *args) == datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    # Consented on Sunday at 12:00: Monday 10:00 is within a day, so the Monday after.
    sunday = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    assert first_digest(sunday, sunday, *args) == datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    # An older user whose week's slot has passed unsent gets it at once.
    assert first_digest(thursday, sunday - timedelta(days=30), *args) == thursday
    daily = ("Europe/Moscow", "daily", 22, 0, 21, 8)  # 22:00 is quiet: 08:00 the next day
    assert first_digest(thursday, thursday, *daily) == datetime(2026, 11, 27, 5, 0, tzinfo=UTC)
    assert first_digest(thursday, thursday, "Europe/Moscow", "off", 10, 0, 22, 9) is None


def _first_digest_hour_by_hour(
    now: datetime,
    consented_at: datetime,
    tz: str,
    digest: str,
    hour: int,
    weekday: int,
    quiet_start: int,
    quiet_end: int,
) -> datetime | None:
    """The planner's rule looked up one hour after another, every hour (what `first_digest`
    skips through)."""
    from bot.domain.schedule import NEWCOMER_WAIT, weekly_slot

    if digest == "off":
        return None
    start = now.replace(minute=0, second=0, microsecond=0)
    for n in range(15 * 24):
        at = max(now, start + timedelta(hours=n))
        if digest_period(at, tz, digest, hour, weekday) is None:
            continue
        if digest == "weekly" and weekly_slot(at, tz, hour, weekday) < (
            consented_at + NEWCOMER_WAIT
        ):
            continue
        return allowed_at(at, tz, quiet_start, quiet_end)
    return None  # fmt: skip


@given(st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1)),
       st.integers(-3 * 24 * 60, 0), st.sampled_from([*ZONES, "Asia/Kolkata", "Europe/London",
       "America/St_Johns", "Australia/Lord_Howe", "Asia/Kathmandu"]),
       st.sampled_from(["weekly", "daily"]), st.integers(0, 23), st.integers(0, 6),
       st.integers(0, 23), st.integers(0, 23))  # fmt: skip
def test_the_first_digest_skips_hours_to_the_same_answer(
    naive: datetime,
    consent_minutes: int,
    zone: str,
    digest: str,
    hour: int,
    weekday: int,
    start: int,
    end: int,
) -> None:
    from bot.domain.schedule import first_digest

    now = naive.replace(tzinfo=UTC)
    consented = now + timedelta(minutes=consent_minutes)
    args = (now, consented, zone, digest, hour, weekday, start, end)
    assert first_digest(*args) == _first_digest_hour_by_hour(*args)
