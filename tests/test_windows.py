"""Grant application windows as instants: roll-over, New Year, 29 February, Russia's 11 zones."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.domain.windows import (
    MonthDay,
    Occurrence,
    Window,
    current_or_next,
    days_left,
    deadline_in,
    parse_month_day,
    parse_windows,
    reminders_due,
    status,
)

# one IANA zone per UTC offset, UTC+2 … UTC+12
ZONES = {
    "Europe/Kaliningrad": 2,
    "Europe/Moscow": 3,
    "Europe/Samara": 4,
    "Asia/Yekaterinburg": 5,
    "Asia/Omsk": 6,
    "Asia/Novosibirsk": 7,
    "Asia/Irkutsk": 8,
    "Asia/Yakutsk": 9,
    "Asia/Vladivostok": 10,
    "Asia/Magadan": 11,
    "Asia/Kamchatka": 12,
}
MSK = "Europe/Moscow"
KGD = "Europe/Kaliningrad"
KAM = "Asia/Kamchatka"


def at(tz: str, y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    """A local wall time in ``tz`` as an aware datetime."""
    return datetime(y, m, d, hh, mm, ss, tzinfo=ZoneInfo(tz))


def utc(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=UTC)


def yearly(open_: str, close: str) -> Window:
    return Window.yearly(parse_month_day(open_), parse_month_day(close))


def fixed(open_: str, close: str) -> Window:
    return Window.fixed(date.fromisoformat(open_), date.fromisoformat(close))


def local_span(occ: Occurrence | None, tz: str) -> tuple[datetime, datetime | None]:
    assert occ is not None
    zone = ZoneInfo(tz)
    close = occ.close_at.astimezone(zone) if occ.close_at else None
    return occ.open_at.astimezone(zone), close


# ── the window shapes ─────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "spec",
    [
        {"yearly": {"open": "09-01", "close": "10-15"}},
        {"yearly": {"open": "11-15", "close": "02-01"}},
        {"yearly": {"open": "02-29", "close": "02-29"}},
        {"fixed": {"open": "2026-02-02", "close": "2026-03-16"}},
        {"fixed": {"open": "2026-05-05", "close": "2026-05-05"}},
        {"always": True},
    ],
)
def test_spec_round_trip(spec: dict[str, Any]) -> None:
    window = Window.from_spec(spec)
    assert window.to_spec() == spec
    assert Window.from_spec(window.to_spec()) == window


def test_window_constructors() -> None:
    assert Window.from_spec({"yearly": {"open": "09-01", "close": "10-15"}}) == Window(
        "yearly", (9, 1), (10, 15)
    )
    assert Window.from_spec({"fixed": {"open": date(2026, 2, 2), "close": "2026-03-16"}}) == (
        Window.fixed(date(2026, 2, 2), date(2026, 3, 16))
    )
    assert Window.from_spec({"always": True}) == Window.always() == Window("always")
    assert parse_windows([{"always": True}, {"yearly": {"open": "01-01", "close": "12-31"}}]) == (
        Window.always(),
        Window.yearly((1, 1), (12, 31)),
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({}, "exactly one of"),
        ({"yearly": {"open": "09-01", "close": "10-15"}, "always": True}, "exactly one of"),
        ({"weekly": {}}, "unknown window keys"),
        ({"always": False}, "must be true"),
        ({"always": "yes"}, "must be true"),
        ({"yearly": {"open": "09-01"}}, "needs exactly 'open' and 'close'"),
        ({"yearly": {"open": "09-01", "close": "10-15", "x": 1}}, "needs exactly"),
        ({"yearly": {"open": "02-30", "close": "03-01"}}, "no such day of the year"),
        ({"yearly": {"open": "13-01", "close": "03-01"}}, "no such day of the year"),
        ({"yearly": {"open": "04-31", "close": "05-01"}}, "no such day of the year"),
        ({"yearly": {"open": "9-1", "close": "10-15"}}, "'MM-DD'"),
        ({"yearly": {"open": 901, "close": "10-15"}}, "'MM-DD'"),
        ({"fixed": {"open": "2026-03-16", "close": "2026-02-02"}}, "is after close"),
        ({"fixed": {"open": "2026-02-30", "close": "2026-03-02"}}, "fixed.open"),
        ({"fixed": {"open": "02-02", "close": "2026-03-02"}}, "fixed.open"),
        ({"fixed": {"open": datetime(2026, 2, 2), "close": "2026-03-02"}}, "fixed.open"),
        ([("always", True)], "must be a mapping"),
    ],
)
def test_bad_specs(spec: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Window.from_spec(spec)


def test_bad_windows_and_occurrences() -> None:
    with pytest.raises(ValueError, match="no such day"):
        Window("yearly", (2, 30), (3, 1))
    with pytest.raises(ValueError, match="expected a date"):
        Window("fixed", (2, 1), (3, 1))
    with pytest.raises(ValueError, match="no open or close"):
        Window("always", (1, 1), None)
    with pytest.raises(ValueError, match="unknown window kind"):
        Window("weekly")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone-aware"):
        Occurrence(open_at=datetime(2026, 1, 1), close_at=None)
    with pytest.raises(ValueError, match="before open_at"):
        Occurrence(open_at=utc(2026, 1, 2), close_at=utc(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        current_or_next([Window.always()], MSK, datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="unknown IANA time zone"):
        current_or_next([Window.always()], "Mars/Olympus", utc(2026, 1, 1))
    with pytest.raises(ValueError, match="unknown IANA time zone"):
        days_left(Occurrence(utc(2026, 1, 1), utc(2026, 1, 2)), utc(2026, 1, 1), "Nowhere")


def test_month_day() -> None:
    assert parse_month_day("02-29") == (2, 29)
    assert parse_month_day("12-31") == (12, 31)
    with pytest.raises(ValueError, match="no such day"):
        parse_month_day("00-10")


# ── yearly windows ────────────────────────────────────────────────────────────────────────────

AUTUMN = yearly("09-01", "10-15")


def test_open_window_local_midnight_to_23_59_59() -> None:
    occ = current_or_next([AUTUMN], MSK, at(MSK, 2026, 9, 20, 12))
    assert occ == Occurrence(utc(2026, 8, 31, 21), utc(2026, 10, 15, 20, 59, 59), expected=True)
    assert local_span(occ, MSK) == (at(MSK, 2026, 9, 1), at(MSK, 2026, 10, 15, 23, 59, 59))
    assert occ.open_at.tzinfo is UTC
    assert occ.close_at is not None
    assert occ.close_at.tzinfo is UTC
    assert status(occ, at(MSK, 2026, 9, 20, 12)) == "open"


def test_before_the_window_this_years_is_upcoming() -> None:
    now = at(MSK, 2026, 3, 1)
    occ = current_or_next([AUTUMN], MSK, now)
    assert local_span(occ, MSK) == (at(MSK, 2026, 9, 1), at(MSK, 2026, 10, 15, 23, 59, 59))
    assert occ is not None
    assert status(occ, now) == "upcoming"


def test_roll_over_a_closed_window_gives_next_years() -> None:
    now = at(MSK, 2026, 11, 29, 14, 24)
    occ = current_or_next([AUTUMN], MSK, now)
    assert local_span(occ, MSK) == (at(MSK, 2027, 9, 1), at(MSK, 2027, 10, 15, 23, 59, 59))
    assert occ is not None
    assert status(occ, now) == "upcoming"


def test_the_edges_are_inclusive() -> None:
    opens = at(MSK, 2026, 9, 1)
    closes = at(MSK, 2026, 10, 15, 23, 59, 59)
    this_year = Occurrence(opens.astimezone(UTC), closes.astimezone(UTC), expected=True)
    assert current_or_next([AUTUMN], MSK, opens - timedelta(microseconds=1)) == this_year
    assert status(this_year, opens - timedelta(microseconds=1)) == "upcoming"
    assert current_or_next([AUTUMN], MSK, opens) == this_year
    assert status(this_year, opens) == "open"
    assert current_or_next([AUTUMN], MSK, closes) == this_year
    assert status(this_year, closes) == "open"
    after = closes + timedelta(seconds=1)
    assert local_span(current_or_next([AUTUMN], MSK, after), MSK)[0] == at(MSK, 2027, 9, 1)
    with pytest.raises(ValueError, match="closed"):
        status(this_year, after)


SPANNING = yearly("11-15", "02-01")


@pytest.mark.parametrize(
    ("now", "opens", "closes"),
    [
        # before it opens in November: this year's, closing next February
        (at(MSK, 2026, 10, 1), at(MSK, 2026, 11, 15), at(MSK, 2027, 2, 1, 23, 59, 59)),
        # in December and in January it is the same occurrence
        (at(MSK, 2026, 12, 31, 23, 59), at(MSK, 2026, 11, 15), at(MSK, 2027, 2, 1, 23, 59, 59)),
        (at(MSK, 2027, 1, 1, 0, 0), at(MSK, 2026, 11, 15), at(MSK, 2027, 2, 1, 23, 59, 59)),
        (at(MSK, 2027, 2, 1, 23, 59, 59), at(MSK, 2026, 11, 15), at(MSK, 2027, 2, 1, 23, 59, 59)),
        # after 1 February: the one opening in November
        (at(MSK, 2027, 2, 2), at(MSK, 2027, 11, 15), at(MSK, 2028, 2, 1, 23, 59, 59)),
    ],
)
def test_window_spanning_new_year(now: datetime, opens: datetime, closes: datetime) -> None:
    occ = current_or_next([SPANNING], MSK, now)
    assert local_span(occ, MSK) == (opens, closes)


def test_spanning_window_days_left_across_new_year() -> None:
    occ = current_or_next([SPANNING], MSK, at(MSK, 2026, 12, 31, 12))
    assert occ is not None
    assert days_left(occ, at(MSK, 2026, 12, 31, 12), MSK) == 32  # 31 Dec → 1 Feb


@pytest.mark.parametrize(("year", "close_day"), [(2027, 28), (2028, 29), (2100, 28), (2000, 29)])
def test_29_february_closes_on_the_28th_in_a_common_year(year: int, close_day: int) -> None:
    occ = current_or_next([yearly("02-01", "02-29")], MSK, at(MSK, year, 1, 10))
    assert local_span(occ, MSK) == (
        at(MSK, year, 2, 1),
        at(MSK, year, 2, close_day, 23, 59, 59),
    )


def test_29_february_opens_on_the_28th_in_a_common_year() -> None:
    window = yearly("02-29", "03-10")
    assert local_span(current_or_next([window], MSK, at(MSK, 2027, 1, 1)), MSK)[0] == at(
        MSK, 2027, 2, 28
    )
    assert local_span(current_or_next([window], MSK, at(MSK, 2027, 3, 11)), MSK)[0] == at(
        MSK, 2028, 2, 29
    )
    one_day = yearly("02-29", "02-29")
    assert local_span(current_or_next([one_day], MSK, at(MSK, 2027, 2, 28, 12)), MSK) == (
        at(MSK, 2027, 2, 28),
        at(MSK, 2027, 2, 28, 23, 59, 59),
    )


def test_a_one_day_window() -> None:
    occ = current_or_next([yearly("05-05", "05-05")], MSK, at(MSK, 2026, 5, 5, 23))
    assert local_span(occ, MSK) == (at(MSK, 2026, 5, 5), at(MSK, 2026, 5, 5, 23, 59, 59))


# ── fixed and always ──────────────────────────────────────────────────────────────────────────


def test_fixed_windows_past_current_and_future() -> None:
    window = fixed("2026-03-04", "2026-04-02")
    assert current_or_next([window], MSK, at(MSK, 2026, 4, 3)) is None
    assert current_or_next([window], MSK, at(MSK, 2027, 3, 5)) is None
    future = current_or_next([window], MSK, at(MSK, 2025, 12, 1))
    assert local_span(future, MSK) == (at(MSK, 2026, 3, 4), at(MSK, 2026, 4, 2, 23, 59, 59))
    assert future is not None
    assert status(future, at(MSK, 2025, 12, 1)) == "upcoming"
    current = current_or_next([window], MSK, at(MSK, 2026, 4, 2, 23))
    assert current == future
    assert status(future, at(MSK, 2026, 4, 2, 23)) == "open"
    assert current_or_next([], MSK, at(MSK, 2026, 1, 1)) is None


PGF = [yearly("09-01", "10-15"), yearly("02-01", "03-15"), fixed("2026-02-02", "2026-03-16")]


def test_fixed_window_supersedes_the_yearly_one_it_overlaps() -> None:
    # 1 Feb 2026: the usual spring window would be open, but this year's contest opens 2 Feb
    occ = current_or_next(PGF, MSK, at(MSK, 2026, 2, 1, 12))
    assert local_span(occ, MSK) == (at(MSK, 2026, 2, 2), at(MSK, 2026, 3, 16, 23, 59, 59))
    assert occ is not None
    assert status(occ, at(MSK, 2026, 2, 1, 12)) == "upcoming"
    # 16 March 2026: the usual window has closed, this year's is open one day longer
    occ = current_or_next(PGF, MSK, at(MSK, 2026, 3, 16, 20))
    assert local_span(occ, MSK)[1] == at(MSK, 2026, 3, 16, 23, 59, 59)
    # then the autumn contest, and next spring the usual dates again
    occ = current_or_next(PGF, MSK, at(MSK, 2026, 3, 17))
    assert local_span(occ, MSK)[0] == at(MSK, 2026, 9, 1)
    occ = current_or_next(PGF, MSK, at(MSK, 2026, 11, 29))
    assert local_span(occ, MSK) == (at(MSK, 2027, 2, 1), at(MSK, 2027, 3, 15, 23, 59, 59))


def test_a_confirmed_window_is_not_expected_and_the_usual_one_is() -> None:
    # the 2026 spring contest was announced: confirmed; the autumn one and the 2027 spring one
    # are inferred from past years: expected
    spring = current_or_next(PGF, MSK, at(MSK, 2026, 2, 10))
    autumn = current_or_next(PGF, MSK, at(MSK, 2026, 5, 1))
    next_spring = current_or_next(PGF, MSK, at(MSK, 2026, 12, 7))
    always = current_or_next([Window.always()], MSK, at(MSK, 2026, 12, 7))
    assert spring is not None
    assert autumn is not None
    assert next_spring is not None
    assert always is not None
    assert (spring.expected, autumn.expected, next_spring.expected) == (False, True, True)
    assert always.expected is False


def test_several_windows_open_one_with_the_earliest_deadline() -> None:
    windows = [yearly("01-01", "12-31"), yearly("03-01", "03-31"), Window.always()]
    occ = current_or_next(windows, MSK, at(MSK, 2026, 3, 10))
    assert local_span(occ, MSK)[1] == at(MSK, 2026, 3, 31, 23, 59, 59)
    occ = current_or_next(windows, MSK, at(MSK, 2026, 4, 10))
    assert local_span(occ, MSK)[1] == at(MSK, 2026, 12, 31, 23, 59, 59)
    # none open: the next to open
    occ = current_or_next(
        [yearly("06-01", "06-30"), yearly("04-01", "04-30")], MSK, at(MSK, 2026, 3, 1)
    )
    assert local_span(occ, MSK)[0] == at(MSK, 2026, 4, 1)


def test_always_is_open_with_no_deadline() -> None:
    now = at(KAM, 2026, 11, 29, 23, 30)
    occ = current_or_next([Window.always()], MSK, now)
    assert occ is not None
    assert occ.close_at is None
    assert not occ.has_deadline
    assert occ.open_at <= now
    assert status(occ, now) == "open"
    assert days_left(occ, now, KAM) is None
    assert reminders_due(occ, now, KAM) == []
    with pytest.raises(ValueError, match="no deadline"):
        deadline_in(occ, KAM)
    # a window with a deadline that is open comes first; otherwise always
    windows = [Window.always(), yearly("11-01", "11-30")]
    assert local_span(current_or_next(windows, MSK, now), MSK)[1] == at(
        MSK, 2026, 11, 30, 23, 59, 59
    )
    later = at(MSK, 2026, 12, 5)
    assert current_or_next(windows, MSK, later) == Occurrence(at(MSK, 2026, 12, 5), None)


# ── Russia's 11 zones ─────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(("tz", "offset"), ZONES.items())
def test_window_dates_are_in_the_grants_zone(tz: str, offset: int) -> None:
    occ = current_or_next([AUTUMN], tz, utc(2026, 10, 1))
    assert occ is not None
    assert occ.open_at == utc(2026, 9, 1) - timedelta(hours=offset)
    assert occ.close_at == utc(2026, 10, 15, 23, 59, 59) - timedelta(hours=offset)
    # shown in the grant's own zone it is 23:59:59 on 15 October, in every zone
    assert deadline_in(occ, tz) == at(tz, 2026, 10, 15, 23, 59, 59)
    assert deadline_in(occ, tz).utcoffset() == timedelta(hours=offset)


@pytest.mark.parametrize(("tz", "offset"), ZONES.items())
def test_moscow_deadline_for_a_user_in_every_zone(tz: str, offset: int) -> None:
    occ = current_or_next([AUTUMN], MSK, utc(2026, 10, 1))
    assert occ is not None
    shown = deadline_in(occ, tz)
    assert shown == utc(2026, 10, 15, 20, 59, 59)
    assert shown.utcoffset() == timedelta(hours=offset)
    # 23:59:59 MSK is still 15 October up to UTC+3 and already 16 October east of Moscow
    assert shown.date() == (date(2026, 10, 15) if offset <= 3 else date(2026, 10, 16))
    assert shown.time() == time((23 + offset - 3) % 24, 59, 59)
    # on the user's 15 October at noon
    noon = at(tz, 2026, 10, 15, 12)
    assert days_left(occ, noon, tz) == (0 if offset <= 3 else 1)


def test_new_year_eve_in_kaliningrad_is_new_year_in_moscow() -> None:
    now = at(KGD, 2026, 12, 31, 23, 30)  # = 1 Jan 2027 00:30 in Moscow
    assert now.astimezone(ZoneInfo(MSK)) == at(MSK, 2027, 1, 1, 0, 30)
    january = yearly("01-01", "01-31")
    # a Moscow grant's January window has opened; a Kaliningrad grant's has not
    occ = current_or_next([january], MSK, now)
    assert occ is not None
    assert status(occ, now) == "open"
    assert days_left(occ, now, KGD) == 31  # 31 Dec → 31 Jan in Kaliningrad
    assert days_left(occ, now, MSK) == 30  # 1 Jan → 31 Jan in Moscow
    kgd = current_or_next([january], KGD, now)
    assert kgd is not None
    assert status(kgd, now) == "upcoming"
    assert local_span(kgd, KGD)[0] == at(KGD, 2027, 1, 1)
    # December: the Moscow window has closed (next December), the Kaliningrad one is open
    december = yearly("12-01", "12-31")
    assert local_span(current_or_next([december], MSK, now), MSK)[0] == at(MSK, 2027, 12, 1)
    kgd = current_or_next([december], KGD, now)
    assert kgd is not None
    assert status(kgd, now) == "open"
    assert days_left(kgd, now, KGD) == 0


def test_new_year_in_kamchatka_is_still_december_in_moscow() -> None:
    now = at(KAM, 2027, 1, 1, 5)  # = 31 Dec 2026 20:00 in Moscow
    occ = current_or_next([yearly("12-01", "12-31")], MSK, now)
    assert local_span(occ, MSK) == (at(MSK, 2026, 12, 1), at(MSK, 2026, 12, 31, 23, 59, 59))
    assert occ is not None
    assert status(occ, now) == "open"
    # the deadline is 1 Jan 08:59:59 in Kamchatka: today, there, is the last day
    assert deadline_in(occ, KAM) == at(KAM, 2027, 1, 1, 8, 59, 59)
    assert days_left(occ, now, KAM) == 0
    assert days_left(occ, now, MSK) == 0
    assert days_left(occ, now, KGD) == 0


# ── days left and reminders ───────────────────────────────────────────────────────────────────


def test_days_left_on_the_deadline_day_and_the_day_after() -> None:
    occ = current_or_next([AUTUMN], MSK, at(MSK, 2026, 10, 1))
    assert occ is not None
    assert days_left(occ, at(MSK, 2026, 10, 1), MSK) == 14
    assert days_left(occ, at(MSK, 2026, 10, 14, 23, 59), MSK) == 1
    assert days_left(occ, at(MSK, 2026, 10, 15, 0, 0), MSK) == 0
    assert days_left(occ, at(MSK, 2026, 10, 15, 23, 59, 59), MSK) == 0
    day_after = at(MSK, 2026, 10, 16, 9)
    assert days_left(occ, day_after, MSK) == -1  # the old occurrence: closed yesterday
    assert reminders_due(occ, day_after, MSK) == []
    nxt = current_or_next([AUTUMN], MSK, day_after)  # asked again: next year's
    assert nxt is not None
    assert days_left(nxt, day_after, MSK) == 364
    # in Kamchatka the last day is the 16th, until 08:59:59
    assert days_left(occ, at(KAM, 2026, 10, 16, 8, 59, 59), KAM) == 0
    assert days_left(occ, at(KAM, 2026, 10, 15, 23), KAM) == 1


def reminder_days(occ: Occurrence, user_tz: str, start: date, end: date) -> dict[date, list[int]]:
    """Every hour of the user's local days from start to end: local date → reminders due."""
    zone = ZoneInfo(user_tz)
    due: dict[date, list[int]] = {}
    day = start
    while day <= end:
        per_hour = []
        for hour in range(24):
            now = datetime.combine(day, time(hour, 30), tzinfo=zone)
            per_hour.append(reminders_due(occ, now, user_tz))
        assert all(r == per_hour[0] for r in per_hour), (day, per_hour)  # by date, not hour
        if per_hour[0]:
            due[day] = per_hour[0]
        day += timedelta(days=1)
    return due


def test_reminders_for_a_moscow_deadline_in_kaliningrad_and_kamchatka() -> None:
    occ = current_or_next([AUTUMN], MSK, at(MSK, 2026, 9, 1))  # deadline 15 Oct 23:59:59 MSK
    assert occ is not None
    start, end = date(2026, 9, 1), date(2026, 10, 20)
    assert reminder_days(occ, KGD, start, end) == {
        date(2026, 10, 1): [14],
        date(2026, 10, 12): [3],
        date(2026, 10, 14): [1],
    }
    assert reminder_days(occ, MSK, start, end) == {
        date(2026, 10, 1): [14],
        date(2026, 10, 12): [3],
        date(2026, 10, 14): [1],
    }
    # 08:59:59 on 16 October in Kamchatka: every reminder a day later there
    assert reminder_days(occ, KAM, start, end) == {
        date(2026, 10, 2): [14],
        date(2026, 10, 13): [3],
        date(2026, 10, 15): [1],
    }


def test_reminder_offsets_are_the_callers() -> None:
    occ = current_or_next([AUTUMN], MSK, at(MSK, 2026, 9, 1))
    assert occ is not None
    assert reminders_due(occ, at(MSK, 2026, 10, 8), MSK, days=(7, 1)) == [7]
    assert reminders_due(occ, at(MSK, 2026, 10, 15, 12), MSK, days=(0,)) == [0]
    assert reminders_due(occ, at(MSK, 2026, 10, 15, 12), MSK) == []
    # an upcoming window whose deadline is 14 days away still gets its reminder
    short = current_or_next([yearly("10-10", "10-15")], MSK, at(MSK, 2026, 10, 1))
    assert short is not None
    assert status(short, at(MSK, 2026, 10, 1)) == "upcoming"
    assert reminders_due(short, at(MSK, 2026, 10, 1), MSK) == [14]


# ── properties ───────────────────────────────────────────────────────────────────────────────

ZONE_NAMES = sorted(ZONES)


@st.composite
def month_days(draw: st.DrawFn) -> MonthDay:
    month = draw(st.integers(1, 12))
    return month, draw(st.integers(1, calendar.monthrange(2000, month)[1]))


@st.composite
def windows(draw: st.DrawFn) -> Window:
    kind = draw(st.sampled_from(["yearly", "yearly", "fixed", "always"]))
    if kind == "yearly":
        return Window.yearly(draw(month_days()), draw(month_days()))
    if kind == "fixed":
        first = draw(st.dates(date(2000, 1, 1), date(2100, 12, 31)))
        return Window.fixed(first, first + timedelta(days=draw(st.integers(0, 400))))
    return Window.always()


nows = st.datetimes(
    min_value=datetime(2001, 1, 1),
    max_value=datetime(2099, 12, 31),
    timezones=st.sampled_from([ZoneInfo(z) for z in ZONE_NAMES]),
)


@given(
    st.lists(windows(), max_size=4), st.sampled_from(ZONE_NAMES), nows, st.sampled_from(ZONE_NAMES)
)
def test_property_open_or_next(specs: list[Window], tz: str, now: datetime, user_tz: str) -> None:
    occ = current_or_next(specs, tz, now)
    if occ is None:
        # only windows that are over (or none at all)
        assert all(w.kind == "fixed" for w in specs)
        return
    assert occ.contains(now) or occ.open_at > now
    assert occ.open_at.tzinfo is UTC
    if occ.close_at is not None:
        assert occ.open_at < occ.close_at
        assert occ.close_at.tzinfo is UTC
        left = days_left(occ, now, user_tz)
        assert left is not None
        assert left >= 0
        assert reminders_due(occ, now, user_tz) == [n for n in (14, 3, 1) if n == left]
    else:
        assert any(w.kind == "always" for w in specs)
        assert status(occ, now) == "open"
    assert status(occ, now) == ("open" if occ.open_at <= now else "upcoming")


def covers(window: Window, day: date) -> bool:
    """An independent, date-based check: is ``day`` inside a yearly window?"""
    assert isinstance(window.open, tuple)
    assert isinstance(window.close, tuple)

    def clamp(year: int, md: MonthDay) -> date:
        month, d = md
        return date(year, month, min(d, calendar.monthrange(year, month)[1]))

    for year in (day.year - 1, day.year):
        start = clamp(year, window.open)
        end = clamp(year if window.close >= window.open else year + 1, window.close)
        if start <= day <= end:
            return True
    return False


@given(
    st.lists(st.tuples(month_days(), month_days()), min_size=1, max_size=3),
    st.sampled_from(ZONE_NAMES),
    nows,
)
def test_property_yearly_windows_against_a_date_oracle(
    pairs: list[tuple[MonthDay, MonthDay]], tz: str, now: datetime
) -> None:
    specs = [Window.yearly(o, c) for o, c in pairs]
    occ = current_or_next(specs, tz, now)
    assert occ is not None  # yearly windows always come round again
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    open_today = any(covers(w, today) for w in specs)
    assert (status(occ, now) == "open") == open_today
    if not open_today:
        # the next opening is the first later day that some window covers
        day = today + timedelta(days=1)
        while not any(covers(w, day) for w in specs):
            day += timedelta(days=1)
        assume(day.year < 2100)
        assert occ.open_at == datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    else:
        # the earliest deadline among the windows open today
        assert occ.close_at is not None
        closes = occ.close_at.astimezone(zone)
        assert closes.time() == time(23, 59, 59)
        open_windows = [w for w in specs if covers(w, today)]
        assert any(covers(w, closes.date()) for w in open_windows)


@given(windows())
def test_property_spec_round_trip(window: Window) -> None:
    assert Window.from_spec(window.to_spec()) == window
