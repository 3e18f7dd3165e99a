"""Deadlines as .ics files: they parse back, with the right instants, zones, alarms and text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event

from bot.domain.windows import current_or_next, deadline_in, parse_windows
from bot.ui.calendar import PRODID, CalendarEvent, to_ics

NOW = datetime(2026, 11, 29, 11, 24, 15, 123456, tzinfo=UTC)
PGF_LINK = "https://xn--80afcdbalict6afooklqi5o.xn--p1ai/"


def deadline(tz: str, y: int = 2026, m: int = 10, d: int = 15) -> datetime:
    return datetime(y, m, d, 23, 59, 59, tzinfo=ZoneInfo(tz))


def event(
    uid: str = "grant-presidential_grants-2026-10-15",
    tz: str = "Europe/Moscow",
    when: datetime | None = None,
    **kwargs: object,
) -> CalendarEvent:
    fields: dict[str, object] = {
        "title": "Фонд президентских грантов — последний день приёма заявок",
        "description": "Проверьте сроки на официальном сайте.",
        "url": PGF_LINK,
    }
    fields.update(kwargs)
    return CalendarEvent(
        uid=uid,
        deadline=when or deadline(tz),
        timezone=tz,
        **fields,  # type: ignore[arg-type]
    )


def parse(data: bytes) -> Calendar:
    return Calendar.from_ical(data)


def events_of(cal: Calendar) -> list[Event]:
    return [c for c in cal.walk("VEVENT") if isinstance(c, Event)]


def test_the_file_parses_back() -> None:
    data = to_ics([event()], name="Опора: дедлайны", now=NOW)
    assert isinstance(data, bytes)
    cal = parse(data)
    assert str(cal["PRODID"]) == PRODID == "-//Опора//RU"
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["X-WR-CALNAME"]) == "Опора: дедлайны"
    (vevent,) = events_of(cal)
    assert str(vevent["UID"]) == "grant-presidential_grants-2026-10-15@opora"
    assert str(vevent["SUMMARY"]) == "Фонд президентских грантов — последний день приёма заявок"
    assert str(vevent["URL"]) == PGF_LINK
    description = str(vevent["DESCRIPTION"])
    assert description.startswith("Проверьте сроки на официальном сайте.")
    assert PGF_LINK in description  # Google Calendar does not show URL
    assert vevent.decoded("DTSTAMP") == NOW.replace(microsecond=0)
    assert str(vevent["TRANSP"]) == "TRANSPARENT"


@pytest.mark.parametrize(
    ("tz", "utc_instant"),
    [
        ("Asia/Kamchatka", datetime(2026, 10, 15, 11, 59, 59, tzinfo=UTC)),
        ("Europe/Moscow", datetime(2026, 10, 15, 20, 59, 59, tzinfo=UTC)),
        ("Europe/Kaliningrad", datetime(2026, 10, 15, 21, 59, 59, tzinfo=UTC)),
    ],
)
def test_dtstart_is_the_deadline_in_its_own_zone(tz: str, utc_instant: datetime) -> None:
    data = to_ics([event(tz=tz)], name="Опора", now=NOW)
    assert f"DTSTART;TZID={tz}:20261015T235959".encode() in data
    assert f"DTEND;TZID={tz}:20261015T235959".encode() in data
    cal = parse(data)
    (vevent,) = events_of(cal)
    start = vevent.decoded("DTSTART")
    assert start.tzinfo is not None
    assert str(start.tzinfo) == tz
    assert start.astimezone(UTC) == utc_instant
    assert vevent.decoded("DTEND") == start  # a deadline is an instant
    # the file defines the zone it uses
    assert [str(tz_.get("TZID")) for tz_ in cal.walk("VTIMEZONE")] == [tz]
    assert cal.get_missing_tzids() == set()


def test_a_deadline_given_in_another_zone_is_written_in_the_events_zone() -> None:
    when = datetime(2026, 10, 15, 20, 59, 59, tzinfo=UTC)  # 23:59:59 in Moscow
    data = to_ics([event(tz="Europe/Moscow", when=when)], name="Опора", now=NOW)
    assert b"DTSTART;TZID=Europe/Moscow:20261015T235959" in data


def test_several_events_in_one_file() -> None:
    events = [
        event(uid="a", tz="Europe/Kaliningrad", title="Первый"),
        event(uid="b", tz="Asia/Kamchatka", title="Второй", url=None),
        event(uid="c", tz="Europe/Moscow", title="Третий", when=deadline("Europe/Moscow", 2027)),
    ]
    cal = parse(to_ics(events, name="Опора", now=NOW))
    vevents = events_of(cal)
    assert [str(v["UID"]) for v in vevents] == ["a@opora", "b@opora", "c@opora"]
    assert [str(v["SUMMARY"]) for v in vevents] == ["Первый", "Второй", "Третий"]
    assert "URL" not in vevents[1]
    assert [v.decoded("DTSTART").astimezone(UTC) for v in vevents] == [
        datetime(2026, 10, 15, 21, 59, 59, tzinfo=UTC),
        datetime(2026, 10, 15, 11, 59, 59, tzinfo=UTC),
        datetime(2027, 10, 15, 20, 59, 59, tzinfo=UTC),
    ]
    assert sorted(str(t["TZID"]) for t in cal.walk("VTIMEZONE")) == [
        "Asia/Kamchatka",
        "Europe/Kaliningrad",
        "Europe/Moscow",
    ]


@pytest.mark.parametrize(
    ("before", "trigger"),
    [(timedelta(days=1), "-P1D"), (timedelta(days=3), "-P3D"), (timedelta(hours=2), "-PT2H")],
)
def test_the_alarm(before: timedelta, trigger: str) -> None:
    data = to_ics([event(alarm_before=before)], name="Опора", now=NOW)
    assert f"TRIGGER:{trigger}".encode() in data
    (vevent,) = events_of(parse(data))
    (alarm,) = vevent.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm.decoded("TRIGGER") == -before
    assert str(alarm["DESCRIPTION"]) == str(vevent["SUMMARY"])


def test_cyrillic_text_survives() -> None:
    text = "Гранты «Росмолодёжи»: заявки; до 2,5 млн ₽ — успейте!\nВторая строка, ё и Ё"
    data = to_ics([event(title=text, description=text, url=None)], name="Мои дедлайны", now=NOW)
    data.decode("utf-8")  # valid UTF-8 even where long lines are folded
    (vevent,) = events_of(parse(data))
    assert str(vevent["SUMMARY"]) == text
    assert str(vevent["DESCRIPTION"]) == text
    assert str(parse(data)["X-WR-CALNAME"]) == "Мои дедлайны"


def test_crlf_line_endings_and_line_length() -> None:
    data = to_ics([event(), event(uid="x", tz="Asia/Kamchatka")], name="Опора", now=NOW)
    assert data.startswith(b"BEGIN:VCALENDAR\r\n")
    assert data.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    for line in data.split(b"\r\n"):
        assert len(line) <= 75  # octets, RFC 5545 3.1


def test_deterministic_output() -> None:
    events = [event(), event(uid="x", tz="Asia/Kamchatka")]
    assert to_ics(events, name="Опора", now=NOW) == to_ics(list(events), name="Опора", now=NOW)
    later = to_ics(events, name="Опора", now=NOW + timedelta(days=1))
    assert later != to_ics(events, name="Опора", now=NOW)  # DTSTAMP only
    assert later.replace(b"20261130T112415Z", b"20261129T112415Z") == to_ics(
        events, name="Опора", now=NOW
    )


def test_empty_calendar() -> None:
    cal = parse(to_ics([], name="Опора", now=NOW))
    assert events_of(cal) == []
    assert str(cal["X-WR-CALNAME"]) == "Опора"


def test_from_a_grant_window() -> None:
    windows = parse_windows([{"yearly": {"open": "09-01", "close": "10-15"}}])
    occ = current_or_next(windows, "Europe/Moscow", datetime(2026, 9, 10, tzinfo=UTC))
    assert occ is not None
    shown = deadline_in(occ, "Asia/Kamchatka")
    data = to_ics([event(tz="Asia/Kamchatka", when=shown)], name="Опора", now=NOW)
    (vevent,) = events_of(parse(data))
    assert vevent.decoded("DTSTART") == datetime(
        2026, 10, 16, 8, 59, 59, tzinfo=ZoneInfo("Asia/Kamchatka")
    )
    assert vevent.decoded("DTSTART").astimezone(UTC) == occ.close_at


def test_invalid_input() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        event(when=datetime(2026, 10, 15, 23, 59, 59))
    with pytest.raises(ValueError, match="unknown IANA time zone"):
        event(tz="Europe/Atlantis", when=deadline("Europe/Moscow"))
    with pytest.raises(ValueError, match="uid"):
        event(uid="")
    with pytest.raises(ValueError, match="alarm_before"):
        event(alarm_before=timedelta(hours=-1))
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        to_ics([event()], name="Опора", now=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="duplicate event uids: a@opora"):
        to_ics([event(uid="a"), event(uid="a")], name="Опора", now=NOW)
