"""Volunteering opportunities: the rules, pure (no database, no clock, no aiogram — pass `now`).

* **Places.** An opportunity has an optional capacity. A sign-up is *confirmed* while a place is
  free, otherwise it joins the *waiting* list; a freed place goes to the earliest in the queue
  (`position`, handed out in sign-up order under the opportunity's lock, see
  `bot.storage.volunteering.lock`). Lowering the capacity never bumps anyone already confirmed.
* **Cut-off.** Sign-up and cancelling a confirmed place end at `signup_until` (the start when
  not set); leaving the waiting list is possible until the start.
* **Periods** (today / this week / this month) are calendar periods in the *volunteer's* zone.
* **Reminders** 24 h and 2 h before the start; one whose moment passed before the volunteer got
  the place is not sent (they have just seen the card), and after a gap only the nearest goes.
* **Matching** for the weekly digest: region, availability, topics, skills (`opportunities_for`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, NamedTuple, Protocol, TypeVar
from zoneinfo import ZoneInfo

from bot.domain.csvio import Invalid, clean_link, spreadsheet
from bot.domain.fields import LINK_LIMIT as LINK_LIMIT  # a stored link's characters
from bot.domain.fields import blank, check_day, day_range
from bot.domain.schedule import allowed_at, before_quiet

# --- the opportunity ----------------------------------------------------------------------

OPEN: Final = "open"
CLOSED: Final = "closed"  # the organiser stopped sign-ups; the event still takes place
CANCELLED: Final = "cancelled"
STATUSES: Final = (OPEN, CLOSED, CANCELLED)

CONFIRMED: Final = "confirmed"
WAITING: Final = "waiting"
WITHDRAWN: Final = "cancelled"  # a sign-up the volunteer cancelled (or left the waiting list)

TITLE_LIMIT: Final = 200
DESCRIPTION_LIMIT: Final = 2000
PLACE_LIMIT: Final = 300
CONTACT_LIMIT: Final = 200
MAX_CAPACITY: Final = 10_000
MAX_AHEAD: Final = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class Opportunity:
    id: int
    title: str
    description: str
    topic: str  # a topic code of topics.yaml
    place: str | None  # an address; None: online only
    link: str | None  # an online link (a meeting, a form)
    region: str | None  # a region code; None: anywhere
    timezone: str  # the organiser's IANA zone: times are entered and shown in it
    starts_at: datetime
    ends_at: datetime
    capacity: int | None  # None: no limit
    signup_until: datetime | None  # None: until the start
    contact: str | None
    status: str
    created_by: int
    created_at: datetime
    seq: int = 0  # grows under the lock with every sign-up change: the queue position
    updated_at: datetime | None = None  # the last change of its fields (None: not read)
    parent_id: int | None = None  # a shift or role of that opportunity (bot.domain.shifts)
    role: str | None = None  # the role within the shift; None: any

    @property
    def cutoff(self) -> datetime:
        return self.signup_until if self.signup_until is not None else self.starts_at

    @property
    def online(self) -> bool:
        return self.place is None and self.link is not None


def free_places(capacity: int | None, confirmed: int) -> int | None:
    """Free places (never negative); None: no limit."""
    return None if capacity is None else max(0, capacity - confirmed)


def seat(capacity: int | None, confirmed: int) -> str:
    """What a new sign-up gets: a place while one is free, otherwise the waiting list."""
    free = free_places(capacity, confirmed)
    return CONFIRMED if free is None or free > 0 else WAITING


class Queued(Protocol):
    """Anything with a queue `position` (a waiting sign-up)."""

    @property
    def position(self) -> int: ...


Q = TypeVar("Q", bound=Queued)


def promotions(capacity: int | None, confirmed: int, waiting: Iterable[Q]) -> list[Q]:
    """Who moves up from the waiting list now: the earliest in the queue, one per free place."""
    queue = sorted(waiting, key=lambda w: w.position)
    free = free_places(capacity, confirmed)
    return queue if free is None else queue[:free]


def signup_refusal(opp: Opportunity, now: datetime) -> str | None:
    """Why nobody may sign up now (None: they may): cancelled, started, closed or cutoff."""
    if opp.status == CANCELLED:
        return "cancelled"
    if now >= opp.starts_at:
        return "started"
    if opp.status == CLOSED:
        return "closed"
    if now >= opp.cutoff:
        return "cutoff"
    return None


def cancel_refusal(opp: Opportunity, status: str, now: datetime) -> str | None:
    """Why a sign-up of `status` may not be cancelled now (None: it may). A confirmed place is
    given back until the cut-off; the waiting list may be left until the start."""
    if opp.status == CANCELLED:
        return "cancelled"
    if now >= opp.starts_at:
        return "started"
    if status == CONFIRMED and now >= opp.cutoff:
        return "cutoff"
    return None


# --- periods in the volunteer's zone --------------------------------------------------------

PERIODS: Final = ("d", "w", "m", "a")  # today, this week, this month, all upcoming


def period_bounds(period: str, now: datetime, tz: str) -> tuple[datetime, datetime | None]:
    """[from, to) of a browsing period in the volunteer's zone: from is `now` (only what has
    not started is shown), to is the end of the local day, ISO week or month (None: "all")."""
    local = now.astimezone(ZoneInfo(tz))
    today = local.date()
    if period == "d":
        end = today + timedelta(days=1)
    elif period == "w":
        end = today + timedelta(days=7 - today.weekday())
    elif period == "m":
        end = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    elif period == "a":
        return now, None
    else:
        raise ValueError(f"unknown period {period!r}")
    return now, datetime.combine(end, time(), tzinfo=ZoneInfo(tz)).astimezone(UTC)


# --- reminders ------------------------------------------------------------------------------

REMINDER_LEADS: Final = (timedelta(hours=24), timedelta(hours=2))
LAST_CALL: Final = timedelta(hours=1)  # quiet hours never push a reminder closer than this


def reminder_due(
    starts_at: datetime,
    confirmed_at: datetime,
    now: datetime,
    leads: Sequence[timedelta] = REMINDER_LEADS,
    quiet: tuple[str, int, int] | None = None,
) -> timedelta | None:
    """The reminder due now (its lead before the start), or None. Only leads whose moment has
    come and that the volunteer held a place before; after a gap only the nearest one. With
    `quiet` (the volunteer's zone and quiet hours), a moment inside quiet hours comes an hour
    before they begin (`reminder_moment`): an imminent event is not held back by the night."""
    if now >= starts_at:
        return None
    due = []
    for lead in leads:
        moment = starts_at - lead if quiet is None else reminder_moment(starts_at, lead, *quiet)
        if moment <= now and confirmed_at < moment:
            due.append(lead)
    return min(due) if due else None


def reminder_moment(
    starts_at: datetime, lead: timedelta, tz: str, quiet_start: int, quiet_end: int
) -> datetime:
    """When the reminder `lead` before the start goes: then, or, should that fall into the
    volunteer's quiet hours, when they end if that still leaves half the lead (the day's
    reminder at 09:00 instead of 08:00), else an hour before they begin (the evening before
    an early start): quiet hours never push a reminder up to the start."""
    moment = starts_at - lead
    after = allowed_at(moment, tz, quiet_start, quiet_end)
    if after == moment or after <= starts_at - lead / 2:
        return after
    return before_quiet(moment, tz, quiet_start, quiet_end)


def reminder_at(
    now: datetime,
    starts_at: datetime,
    tz: str,
    quiet_start: int,
    quiet_end: int,
    *,
    latest: datetime | None = None,
) -> datetime:
    """When a reminder due `now` may go: after the volunteer's quiet hours, unless that would
    be too close to the start (or later than `latest`: a confirmation's deadline) — then at
    once (they signed up for an early start)."""
    when = allowed_at(now, tz, quiet_start, quiet_end)
    limit = starts_at - LAST_CALL if latest is None else min(latest, starts_at - LAST_CALL)
    return when if when <= limit else now


# --- the organiser's input ------------------------------------------------------------------

_DAY_MONTH = re.compile(
    r"^\s*(\d{1,2})[./](\d{1,2})(?:[./](\d{2}|\d{4}))?[,\s]+(\d{1,2})[:.](\d{2})\s*$"
)
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})[T\s]+(\d{1,2}):(\d{2})\s*$")
_TIME = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*$")


def _day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _local(day: date, hour: int, minute: int, tz: str) -> datetime | None:
    try:
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(tz))
    except ValueError:
        return None


def parse_when(text: str, tz: str, now: datetime) -> datetime | None:
    """A local date and time typed by the organiser, as UTC: `25.12.2026 10:00`, `25.12 10:00`
    (the next such date) or `2026-12-25 10:00`. None: not understood; DayOutOfRange: a day
    too far from today in `tz` (bot.domain.fields.day_range)."""
    today = now.astimezone(ZoneInfo(tz)).date()
    if m := _ISO.match(text):
        y, mo, d, h, mi = (int(g) for g in m.groups())
        day = _day(y, mo, d)
    elif m := _DAY_MONTH.match(text):
        d, mo = int(m[1]), int(m[2])
        h, mi = int(m[4]), int(m[5])
        if m[3] is not None:
            day = _day(int(m[3]) + (2000 if len(m[3]) == 2 else 0), mo, d)
        else:  # this year's, unless it has passed: next year's
            day = _day(today.year, mo, d)
            found = None if day is None else _local(day, h, mi, tz)
            if found is not None and found < now - timedelta(days=1):
                day = _day(today.year + 1, mo, d)
    else:
        return None
    if day is None:
        return None
    found = _local(check_day(day, *day_range(today)), h, mi, tz)
    return None if found is None else found.astimezone(UTC)


def parse_end(text: str, starts_at: datetime, tz: str, now: datetime) -> datetime | None:
    """The end: a time alone (`13:00`, the start's local day — or the next day for an
    overnight event) or a full date and time. None: not understood; DayOutOfRange as
    `parse_when`."""
    if m := _TIME.match(text):
        start = starts_at.astimezone(ZoneInfo(tz))
        end = _local(start.date(), int(m[1]), int(m[2]), tz)
        if end is None:
            return None
        if end <= start:
            end += timedelta(days=1)
        return end.astimezone(UTC)
    return parse_when(text, tz, now)


def parse_capacity(text: str) -> int | None:
    """A number of places, 1 … MAX_CAPACITY; ValueError otherwise. 0 or `-`: no limit (None)."""
    value = text.strip()
    if value in {"0", "-", "—"}:
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_CAPACITY:
        raise ValueError(value)
    return int(value)


def time_problem(
    now: datetime,
    starts_at: datetime,
    ends_at: datetime,
    signup_until: datetime | None,
) -> str | None:
    """What is wrong with an opportunity's times (a code for the organiser), or None."""
    if starts_at <= now:
        return "start_past"
    if starts_at - now > MAX_AHEAD:
        return "start_far"
    if ends_at <= starts_at:
        return "end_before_start"
    if ends_at - starts_at > timedelta(days=31):
        return "too_long"
    if signup_until is not None and signup_until > starts_at:
        return "cutoff_after_start"
    return None


def clean_text(text: str | None, limit: int) -> str | None:
    """Typed text trimmed; None when empty (nothing visible: `fields.blank`) or over `limit`
    characters."""
    value = (text or "").strip()
    return value if not blank(value) and len(value) <= limit else None


def typed_link(text: str) -> str | None:
    """A link typed into the form, by the one rule of links (:data:`bot.domain.fields.Link`:
    https to a site on the Internet, in ASCII as Telegram wants it); None when it breaks it."""
    try:
        return clean_link(text)
    except Invalid:
        return None


def looks_like_link(text: str) -> bool:
    """Typed as a link (it starts with a scheme): an online place, not an address."""
    return re.match(r"[a-z][a-z0-9+.-]*://", text.strip(), re.IGNORECASE) is not None


# --- matching volunteers and opportunities --------------------------------------------------

AVAILABILITY: Final = ("weekdays", "evenings", "weekends")
EVENING: Final = 18  # a weekday start from this local hour is an evening


def slot_of(starts_at: datetime, tz: str) -> str:
    """weekdays (daytime) / evenings (weekday, from 18:00) / weekends — in the volunteer's zone."""
    local = starts_at.astimezone(ZoneInfo(tz))
    if local.weekday() >= 5:
        return "weekends"
    return "evenings" if local.hour >= EVENING else "weekdays"


class VolunteerFit(NamedTuple):
    """What matching knows about a volunteer (any part may be empty). A named tuple: the
    digest planner builds one per volunteer each tick."""

    timezone: str
    region: str | None = None
    topics: frozenset[str] = frozenset()
    skills: tuple[str, ...] = ()
    availability: frozenset[str] = frozenset()  # empty: any time
    taken: frozenset[int] = frozenset()  # opportunities they are signed up for already
    reach: str | None = None  # how far they travel (REACH); None: not said, their region
    city: str | None = None  # their town, as typed (with reach "town")


@dataclass(frozen=True, slots=True)
class Listing:
    """An opportunity with its current numbers."""

    opportunity: Opportunity
    confirmed: int = 0
    waiting: int = 0
    attended: int = 0  # confirmed volunteers the organiser marked as "came"

    @property
    def free(self) -> int | None:
        return free_places(self.opportunity.capacity, self.confirmed)


_WORD = re.compile(r"\w+", re.UNICODE)
STEM: Final = 5  # a crude stem for Russian: the first five letters of a word


def _stems(texts: Iterable[str]) -> set[str]:
    return {w[:STEM] for t in texts for w in _WORD.findall(t.lower()) if len(w) >= 4}


def skill_hits(skills: Iterable[str], opp: Opportunity) -> int:
    """How many skill words (by stem) the opportunity's title and description mention."""
    return len(_stems(skills) & _stems([opp.title, opp.description]))


def interest(fit: VolunteerFit, opp: Opportunity) -> int:
    """How well an opportunity fits what the volunteer cares about and can: a topic of theirs
    counts 2, each skill it mentions 1."""
    return (2 if opp.topic in fit.topics else 0) + skill_hits(fit.skills, opp)


REACH: Final = ("online", "town", "region", "far")  # how far a volunteer travels


def in_reach(fit: VolunteerFit, opp: Opportunity) -> bool:
    """Online always; for a volunteer who helps only online, nothing else. Otherwise
    region-less, the volunteer's region, or a volunteer who gave no region (or travels
    further); one who stays in their town, only a place that names it."""
    if opp.online or fit.reach == "far":
        return True
    if fit.reach == "online":
        return False
    if not (opp.region is None or fit.region is None or opp.region == fit.region):
        return False
    if fit.reach == "town" and fit.city and opp.place:
        return bool(_stems([fit.city]) & _stems([opp.place]))
    return True


def opportunities_for(
    fit: VolunteerFit,
    listings: Iterable[Listing],
    now: datetime,
    *,
    limit: int = 3,
    horizon: timedelta = timedelta(days=14),
) -> list[Listing]:
    """Opportunities to suggest (the weekly digest): open for sign-up with a free place, in the
    next `horizon`, within reach, at a time the volunteer said they have, not taken yet; best
    fit first, then soonest. A volunteer who named topics or skills gets only those that match
    one of them."""
    picky = bool(fit.topics or fit.skills)
    found: list[tuple[int, datetime, int, Listing]] = []
    for item in listings:
        opp = item.opportunity
        if opp.id in fit.taken or signup_refusal(opp, now) is not None:
            continue
        if opp.starts_at - now > horizon or item.free == 0 or not in_reach(fit, opp):
            continue
        if fit.availability and slot_of(opp.starts_at, fit.timezone) not in fit.availability:
            continue
        points = interest(fit, opp)
        if picky and points == 0:
            continue
        if fit.region is not None and opp.region == fit.region:
            points += 1  # near home first
        found.append((-points, opp.starts_at, opp.id, item))
    found.sort(key=lambda x: (x[0], x[1], x[2]))
    return [x[3] for x in found[:limit]]


# --- files ----------------------------------------------------------------------------------


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """The participants' CSV: see :func:`bot.domain.csvio.spreadsheet`."""
    return spreadsheet(header, rows)


PRODID: Final = "-//Опора//RU"


def to_ics(opp: Opportunity, now: datetime, *, url: str | None = None) -> bytes:
    """One opportunity as an iCalendar file: a real meeting from start to end in the organiser's
    zone (with its VTIMEZONE), busy time, a reminder 2 h before. (`bot.ui.calendar` models
    deadlines — instants, transparent — so it does not fit here.)"""
    from icalendar import Alarm, Calendar, Event  # at the first file, not at start-up

    zone = ZoneInfo(opp.timezone)
    event = Event()
    event.add("uid", f"opportunity-{opp.id}@opora")
    event.add("dtstamp", now.astimezone(UTC).replace(microsecond=0))
    event.add("dtstart", opp.starts_at.astimezone(zone).replace(microsecond=0))
    event.add("dtend", opp.ends_at.astimezone(zone).replace(microsecond=0))
    event.add("summary", opp.title)
    details = [opp.description]
    if opp.contact:
        details.append(opp.contact)
    if opp.link:
        details.append(opp.link)
    if url:
        details.append(url)
    event.add("description", "\n\n".join(details))
    if opp.place:
        event.add("location", opp.place)
    elif opp.link:
        event.add("location", opp.link)
    if opp.link or url:
        event.add("url", opp.link or url)
    event.add("status", "CANCELLED" if opp.status == CANCELLED else "CONFIRMED")
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", -REMINDER_LEADS[-1])
    alarm.add("description", opp.title)
    event.add_component(alarm)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add_component(event)
    year = opp.starts_at.astimezone(zone).year
    cal.add_missing_timezones(first_date=date(year - 1, 1, 1), last_date=date(year + 2, 1, 1))
    return bytes(cal.to_ical())


# --- cards shown outside the bot (inline results, group posts) --------------------------------

_ENDINGS: Final = (  # the longest first
    "ость",
    "ами",
    "ями",
    "ого",
    "его",
    "ому",
    "ему",
    "ыми",
    "ими",
    "ая",
    "яя",
    "ое",
    "ее",
    "ые",
    "ие",
    "ый",
    "ий",
    "ой",
    "ом",
    "ем",
    "ах",
    "ях",
    "ов",
    "ев",
    "ам",
    "ям",
    "ую",
    "юю",
    "а",
    "я",
    "о",
    "е",
    "ы",
    "и",
    "у",
    "ю",
    "ь",
    "й",
)


def _search_norm(text: str) -> str:
    return text.lower().replace("ё", "е")


def _search_stem(word: str) -> str:
    """A crude Russian stem: one common ending off, at least three letters kept."""
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)]
    return word


def search_matches(query: str, texts: Iterable[str]) -> bool:
    """Every word of `query` (ё = е, case and a common ending ignored) is in one of `texts`."""
    words = [_search_stem(w) for w in _WORD.findall(_search_norm(query))]
    haystack = _search_norm(" ".join(texts))
    return all(w in haystack for w in words)


def card_phase(opp: Opportunity, now: datetime) -> str:
    """What a card shown outside the bot says about signing up: cancelled / over / started /
    closed / cutoff / open (a posted card is edited when this changes)."""
    if opp.status == CANCELLED:
        return "cancelled"
    if now >= opp.ends_at:
        return "over"
    return signup_refusal(opp, now) or "open"
