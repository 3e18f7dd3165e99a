"""Grant application windows as instants (pure: no I/O, no clock — ``now`` is passed in).

A grant has one or more *windows* (``content/grants.yaml``, the ``grants.windows`` JSON column):

* ``{"yearly": {"open": "MM-DD", "close": "MM-DD"}}`` — every year; a ``close`` earlier in the
  year than ``open`` spans New Year (``11-15`` … ``02-01``); ``02-29`` is 28 February in a
  common year;
* ``{"fixed": {"open": "YYYY-MM-DD", "close": "YYYY-MM-DD"}}`` — one dated window, e.g. the
  confirmed dates of this year's contest;
* ``{"always": true}`` — applications all year round (microloans): open, no deadline.

The dates are in the grant's time zone: a window opens at 00:00:00 local on ``open`` and its
deadline is 23:59:59 local on ``close`` (both inclusive). A fixed window *supersedes* the
yearly occurrences it overlaps: the usual "early Feb – mid Mar" gives way to this year's
confirmed "2 Feb – 16 Mar".

A yearly occurrence is *expected*: its dates are inferred from past years, and the programme
may move them — the bot shows them with "≈" and asks to check the official site, and never
calls its last day a deadline. A fixed window is *confirmed*: the programme announced it.

Deadlines are counted in the *organiser's* days and shown with the organiser's date first: a
deadline of 23:59:59 in Moscow is 08:59:59 the next day in Kamchatka, but it never reads there
as a day later ("20.12 23:59 МСК (у вас 21.12 08:59)"), and "deadline tomorrow" is the
organiser's tomorrow. Callers pass the grant's zone as ``user_tz`` of :func:`days_left` and
:func:`reminders_due`.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Literal
from zoneinfo import ZoneInfo

from bot.domain.fields import (
    check_month_day,
    format_month_day,
    parse_iso_date,
    parse_month_day,
    zone_info,
)

__all__ = [
    "DEADLINE_TIME",
    "OPEN_TIME",
    "REMINDER_DAYS",
    "MonthDay",
    "Occurrence",
    "Window",
    "WindowKind",
    "current_or_next",
    "days_left",
    "deadline_in",
    "parse_month_day",
    "parse_windows",
    "reminders_due",
    "status",
]

WindowKind = Literal["yearly", "fixed", "always"]
MonthDay = tuple[int, int]  # (month, day), 1-based; (2, 29) allowed

OPEN_TIME = time(0, 0, 0)
DEADLINE_TIME = time(23, 59, 59)
REMINDER_DAYS = (14, 3, 1)

_KINDS: tuple[WindowKind, ...] = ("yearly", "fixed", "always")


def _parse_date(value: object, field: str) -> date:
    try:
        return parse_iso_date(value)
    except ValueError as exc:
        raise ValueError(f"fixed.{field}: {exc}") from None


def _in_year(year: int, month_day: MonthDay) -> date:
    """The day ``month_day`` of ``year``; 29 February is the 28th in a common year."""
    month, day = month_day
    if (month, day) == (2, 29) and not calendar.isleap(year):
        day = 28
    return date(year, month, day)


@dataclass(frozen=True, slots=True)
class Window:
    """One application window: yearly (month-days), fixed (dates) or always open."""

    kind: WindowKind
    open: MonthDay | date | None = None
    close: MonthDay | date | None = None

    def __post_init__(self) -> None:
        if self.kind == "yearly":
            check_month_day(self.open)
            check_month_day(self.close)
        elif self.kind == "fixed":
            for field, value in (("open", self.open), ("close", self.close)):
                if not isinstance(value, date) or isinstance(value, datetime):
                    raise ValueError(f"fixed.{field}: expected a date, got {value!r}")
            assert isinstance(self.open, date)
            assert isinstance(self.close, date)
            if self.open > self.close:
                raise ValueError(
                    f"fixed: open {self.open.isoformat()} is after close {self.close.isoformat()}"
                )
        elif self.kind == "always":
            if self.open is not None or self.close is not None:
                raise ValueError("always: takes no open or close dates")
        else:
            raise ValueError(f"unknown window kind {self.kind!r} (known: {', '.join(_KINDS)})")

    # ── constructors ─────────────────────────────────────────────────────────────────────

    @classmethod
    def yearly(cls, open: MonthDay, close: MonthDay) -> Window:
        return cls("yearly", open, close)

    @classmethod
    def fixed(cls, open: date, close: date) -> Window:
        return cls("fixed", open, close)

    @classmethod
    def always(cls) -> Window:
        return cls("always")

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Window:
        """A window from its YAML/JSON shape (see the module's docstring); ValueError if bad."""
        if not isinstance(spec, Mapping):
            raise ValueError(f"a window must be a mapping, got {spec!r}")
        kinds = [k for k in spec if k in _KINDS]
        if unknown := sorted(str(k) for k in spec if k not in _KINDS):
            raise ValueError(f"unknown window keys {unknown} (known: {', '.join(_KINDS)})")
        if len(kinds) != 1:
            raise ValueError(f"a window needs exactly one of {', '.join(_KINDS)}, got {kinds}")
        kind = kinds[0]
        value = spec[kind]
        if kind == "always":
            if value is not True:
                raise ValueError(f"always: must be true, got {value!r}")
            return cls.always()
        if not isinstance(value, Mapping) or set(value) != {"open", "close"}:
            raise ValueError(f"{kind}: needs exactly 'open' and 'close', got {value!r}")
        if kind == "yearly":
            try:
                return cls.yearly(parse_month_day(value["open"]), parse_month_day(value["close"]))
            except ValueError as exc:
                raise ValueError(f"yearly: {exc}") from None
        return cls.fixed(_parse_date(value["open"], "open"), _parse_date(value["close"], "close"))

    def to_spec(self) -> dict[str, Any]:
        """The YAML/JSON shape: ``Window.from_spec(w.to_spec()) == w``."""
        if self.kind == "always":
            return {"always": True}
        if self.kind == "yearly":
            assert isinstance(self.open, tuple)
            assert isinstance(self.close, tuple)
            return {
                "yearly": {
                    "open": format_month_day(self.open),
                    "close": format_month_day(self.close),
                }
            }
        assert isinstance(self.open, date)
        assert isinstance(self.close, date)
        return {"fixed": {"open": self.open.isoformat(), "close": self.close.isoformat()}}

    # ── occurrences ──────────────────────────────────────────────────────────────────────

    def dates(self) -> tuple[date, date]:
        """A fixed window's open and close dates."""
        if not isinstance(self.open, date) or not isinstance(self.close, date):
            raise ValueError(f"dates: a {self.kind} window has no fixed dates")
        return self.open, self.close

    def dates_in(self, year: int) -> tuple[date, date]:
        """A yearly window's open and close dates for the occurrence opening in ``year``."""
        if self.kind != "yearly":
            raise ValueError(f"dates_in: a {self.kind} window has no yearly occurrences")
        assert isinstance(self.open, tuple)
        assert isinstance(self.close, tuple)
        close_year = year if self.close >= self.open else year + 1  # spans New Year
        return _in_year(year, self.open), _in_year(close_year, self.close)


def parse_windows(specs: Iterable[Mapping[str, Any]]) -> tuple[Window, ...]:
    """Windows from a list of specs (e.g. the JSON of the ``grants.windows`` column)."""
    return tuple(Window.from_spec(spec) for spec in specs)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One concrete opening of a window, as UTC instants; ``close_at`` None: no deadline;
    ``expected``: the dates are inferred from past years (a yearly window), not announced."""

    open_at: datetime
    close_at: datetime | None
    expected: bool = False

    def __post_init__(self) -> None:
        _require_aware(self.open_at, "open_at")
        if self.close_at is not None:
            _require_aware(self.close_at, "close_at")
            if self.close_at < self.open_at:
                raise ValueError("close_at is before open_at")

    @property
    def has_deadline(self) -> bool:
        return self.close_at is not None

    def contains(self, now: datetime) -> bool:
        """Open at ``now`` (both ends inclusive)."""
        return self.open_at <= now and (self.close_at is None or now <= self.close_at)


def _require_aware(value: datetime, what: str) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {value!r}")


def _span(open_day: date, close_day: date, zone: ZoneInfo, *, expected: bool) -> Occurrence:
    return Occurrence(
        open_at=datetime.combine(open_day, OPEN_TIME, tzinfo=zone).astimezone(UTC),
        close_at=datetime.combine(close_day, DEADLINE_TIME, tzinfo=zone).astimezone(UTC),
        expected=expected,
    )


def _overlap(a: Occurrence, b: Occurrence) -> bool:
    assert a.close_at is not None
    assert b.close_at is not None
    return a.open_at <= b.close_at and b.open_at <= a.close_at


def current_or_next(windows: Sequence[Window], tz: str, now: datetime) -> Occurrence | None:
    """The occurrence open at ``now`` (the one with the earliest deadline if several are),
    else the next one to open; None if there is none (only past fixed windows, or none).

    ``tz`` is the grant's IANA zone, in which the windows' dates are.
    """
    _require_aware(now, "now")
    zone = zone_info(tz)
    today = now.astimezone(zone).date()
    fixed = [_span(*w.dates(), zone, expected=False) for w in windows if w.kind == "fixed"]
    candidates = list(fixed)
    # a year before (a window spanning New Year) … a few after (superseded by fixed windows)
    years = range(today.year - 1, today.year + 3 + len(fixed))
    for window in windows:
        if window.kind == "always":
            # open since the start of the grant's local day, so that open_at <= now
            start = datetime.combine(today, OPEN_TIME, tzinfo=zone).astimezone(UTC)
            candidates.append(Occurrence(open_at=start, close_at=None))
        elif window.kind == "yearly":
            for year in years:
                occurrence = _span(*window.dates_in(year), zone, expected=True)
                if not any(_overlap(occurrence, f) for f in fixed):
                    candidates.append(occurrence)
    live = [c for c in candidates if c.close_at is None or now <= c.close_at]
    if opened := [c for c in live if c.open_at <= now]:
        return min(opened, key=_deadline_key)
    return min(live, key=lambda c: (c.open_at, _deadline_key(c)), default=None)


def _deadline_key(occurrence: Occurrence) -> tuple[bool, datetime]:
    """Earliest deadline first; no deadline last."""
    if occurrence.close_at is None:
        return True, occurrence.open_at
    return False, occurrence.close_at


def status(occurrence: Occurrence, now: datetime) -> Literal["open", "upcoming"]:
    """Whether the occurrence is "open" at ``now`` or "upcoming" (opens later).

    An occurrence that has closed by ``now`` is a caller's mistake (:func:`current_or_next`
    never returns one): ValueError.
    """
    _require_aware(now, "now")
    if now < occurrence.open_at:
        return "upcoming"
    if occurrence.contains(now):
        return "open"
    raise ValueError(f"the occurrence closed at {occurrence.close_at} before {now}")


def _user_date(instant: datetime, user_tz: str) -> date:
    return instant.astimezone(zone_info(user_tz)).date()


def deadline_in(occurrence: Occurrence, user_tz: str) -> datetime:
    """The deadline in the user's zone (23:59:59 Moscow time is 08:59:59 next day in
    Kamchatka); ValueError for an always-open occurrence, which has none."""
    if occurrence.close_at is None:
        raise ValueError("an always-open occurrence has no deadline")
    return occurrence.close_at.astimezone(zone_info(user_tz))


def days_left(occurrence: Occurrence, now: datetime, user_tz: str) -> int | None:
    """Calendar days in the user's zone from today to the deadline's day: 0 — today is the
    last day, 1 — tomorrow, …; negative once the deadline's day has passed; None — no
    deadline."""
    _require_aware(now, "now")
    if occurrence.close_at is None:
        return None
    return (_user_date(occurrence.close_at, user_tz) - _user_date(now, user_tz)).days


def reminders_due(
    occurrence: Occurrence,
    now: datetime,
    user_tz: str,
    days: Sequence[int] = REMINDER_DAYS,
) -> list[int]:
    """Which of ``days`` are "today" for the user: their local date equals the deadline's
    local date (in the user's zone) minus N days. In the order of ``days``; the caller picks
    the hour of the day and deduplicates sends."""
    left = days_left(occurrence, now, user_tz)
    if left is None:
        return []
    return [n for n in days if n == left]
