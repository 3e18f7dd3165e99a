"""Deadlines as an iCalendar (.ics) file that any calendar app imports (RFC 5545).

Each deadline is one VEVENT:

* ``DTSTART`` is the deadline in its own zone with a ``TZID`` (``DTSTART;TZID=Europe/Moscow:
  20261015T235959``) and the file carries the matching ``VTIMEZONE``, so every app converts it to
  the reader's zone correctly — a Moscow deadline shows at 08:59:59 the next day in Kamchatka;
* ``DTEND`` equals ``DTSTART``: a deadline is an instant, not a meeting. A zero-length event is
  shown by Google, Apple and Outlook calendars as a point at the deadline on the deadline's own
  day; a one-hour block *starting* at 23:59:59 would spill over into the next day, and an event
  *ending* at the deadline would show a start time that means nothing. (Leaving ``DTEND`` out
  means the same by RFC 5545, but some apps then invent a default length, so we say it.)
* ``TRANSP:TRANSPARENT``: a deadline does not make the reader "busy";
* a ``VALARM`` (``ACTION:DISPLAY``) ``alarm_before`` the deadline.

The output is deterministic for the same input (``DTSTAMP`` is the ``now`` passed in, the time
zone definitions cover a fixed span of years around the deadlines), so a file can be cached and
compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

# icalendar (and dateutil) are imported by the first file, not at the bot's start-up.
if TYPE_CHECKING:
    from icalendar import Event

__all__ = ["PRODID", "UID_DOMAIN", "CalendarEvent", "to_ics"]

PRODID = "-//Опора//RU"
UID_DOMAIN = "opora"


@dataclass(frozen=True)
class CalendarEvent:
    """One deadline; ``uid`` stable across exports (e.g. ``grant-presidential_grants-2026-10-15``)
    so that importing an updated file updates the event instead of duplicating it."""

    uid: str
    title: str
    description: str
    url: str | None
    deadline: datetime  # timezone-aware
    timezone: str  # IANA zone of the deadline, e.g. "Europe/Moscow"
    alarm_before: timedelta = timedelta(days=1)
    tentative: bool = False  # an expected date, not announced: STATUS:TENTATIVE

    def __post_init__(self) -> None:
        if not self.uid or any(c in self.uid for c in "\r\n"):
            raise ValueError(f"uid must be a non-empty single line, got {self.uid!r}")
        if self.deadline.tzinfo is None or self.deadline.utcoffset() is None:
            raise ValueError(f"deadline must be timezone-aware, got {self.deadline!r}")
        try:
            ZoneInfo(self.timezone)
        except (KeyError, ValueError, OSError):
            raise ValueError(f"unknown IANA time zone {self.timezone!r}") from None
        if self.alarm_before < timedelta(0):
            raise ValueError(f"alarm_before must not be negative, got {self.alarm_before}")

    @property
    def local_deadline(self) -> datetime:
        """The deadline in its own zone, to the second (iCalendar has no fractions)."""
        return self.deadline.astimezone(ZoneInfo(self.timezone)).replace(microsecond=0)

    @property
    def full_uid(self) -> str:
        return f"{self.uid}@{UID_DOMAIN}"


def _description(event: CalendarEvent) -> str:
    """Google Calendar ignores URL, so the link goes into the description as well."""
    if event.url and event.url not in event.description:
        return f"{event.description}\n\n{event.url}" if event.description else event.url
    return event.description


def _vevent(event: CalendarEvent, stamp: datetime) -> Event:
    from icalendar import Alarm, Event

    vevent = Event()
    vevent.add("uid", event.full_uid)
    vevent.add("dtstamp", stamp)
    vevent.add("dtstart", event.local_deadline)
    vevent.add("dtend", event.local_deadline)
    vevent.add("summary", event.title)
    vevent.add("description", _description(event))
    if event.url:
        vevent.add("url", event.url)
    vevent.add("status", "TENTATIVE" if event.tentative else "CONFIRMED")
    vevent.add("transp", "TRANSPARENT")
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", -event.alarm_before)
    alarm.add("description", event.title)
    vevent.add_component(alarm)
    return vevent


def to_ics(events: Sequence[CalendarEvent], *, name: str, now: datetime) -> bytes:
    """An iCalendar file (UTF-8, CRLF line endings) with one VEVENT per event, in order."""
    from icalendar import Calendar

    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now!r}")
    uids = [e.full_uid for e in events]
    if dupes := sorted({u for u in uids if uids.count(u) > 1}):
        raise ValueError(f"duplicate event uids: {', '.join(dupes)}")

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    stamp = now.astimezone(UTC).replace(microsecond=0)
    for event in events:
        cal.add_component(_vevent(event, stamp))
    if events:
        # time zone definitions for a span of whole years around the deadlines (and alarms):
        # small, and the same for the same input
        years = [e.local_deadline.year for e in events]
        cal.add_missing_timezones(
            first_date=date(min(years) - 1, 1, 1), last_date=date(max(years) + 2, 1, 1)
        )
    return bytes(cal.to_ical())
