"""Shifts and roles of an opportunity. Each shift (a date, a time, a capacity) and each role
within a shift («водитель — 2») is an opportunity of its own linked to the first one
(`parent_id`), so it has its own capacity, waiting list, reminders, confirmation and hours;
a recurring opportunity copies its shifts week by week. Pure: times are passed in."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from bot.domain.opportunities import parse_end, parse_when

ROLE_LIMIT: Final = 60
MAX_WEEKS: Final = 12
MAX_CAPACITY: Final = 10_000
MAX_SERIES: Final = 60  # shifts and roles of one opportunity

_SHIFT = re.compile(r"^\s*(\S+\s+\d{1,2}[:.]\d{2})\s*[-–—]\s*(\d{1,2})[:.](\d{2})\s+(\d{1,7})\s*$")
_ROLE = re.compile(r"^\s*(.+?)\s*[-–—:]?\s+(\d{1,7})\s*$")


class ShiftProblem(ValueError):
    """What is wrong with a shift, a role or a repetition as typed (a code)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _capacity(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_CAPACITY:
        raise ShiftProblem("capacity")
    return value


def parse_shift(text: str, tz: str, now: datetime) -> tuple[datetime, datetime, int]:
    """ "06.12.2026 10:00-13:00 5" in the organiser's zone → (start, end, capacity), UTC. A
    shift ends on its day: an end not after the start is refused."""
    m = _SHIFT.match(text)
    if m is None:
        raise ShiftProblem("format")
    starts_at = parse_when(m.group(1), tz, now)
    if starts_at is None:
        raise ShiftProblem("format")
    hour, minute = int(m.group(2)), int(m.group(3))
    if hour > 23 or minute > 59:
        raise ShiftProblem("format")
    local = starts_at.astimezone(ZoneInfo(tz))
    if (hour, minute) <= (local.hour, local.minute):
        raise ShiftProblem("end_before_start")
    ends_at = parse_end(f"{hour:02d}:{minute:02d}", starts_at, tz, now)
    if ends_at is None or ends_at <= starts_at:
        raise ShiftProblem("end_before_start")
    return starts_at, ends_at, _capacity(m.group(4))


def parse_role(text: str) -> tuple[str, int]:
    """ "водитель 2" (or "водитель — 2") → (the role, its capacity)."""
    m = _ROLE.match(text)
    if m is None:
        raise ShiftProblem("role_format")
    name = m.group(1).strip(" -–—:")
    if not name or len(name) > ROLE_LIMIT:
        raise ShiftProblem("role_format")
    return name, _capacity(m.group(2))


def parse_weeks(text: str) -> int:
    raw = text.strip()
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_WEEKS:
        raise ShiftProblem("weeks")
    return int(raw)


def overlaps(
    starts_at: datetime,
    ends_at: datetime,
    role: str | None,
    series: Iterable[tuple[datetime, datetime, str | None]],
) -> bool:
    """A shift of the same role (or both without one) that overlaps in time."""
    key = (role or "").casefold()
    return any(
        (other_role or "").casefold() == key and s < ends_at and starts_at < e
        for s, e, other_role in series
    )


def weekly(
    items: Iterable[tuple[datetime, datetime, str | None]], weeks: int
) -> list[tuple[datetime, datetime, str | None, int]]:
    """Each shift and role copied 1..weeks weeks later: (start, end, role, week)."""
    return [
        (s + timedelta(weeks=k), e + timedelta(weeks=k), role, k)
        for k in range(1, weeks + 1)
        for s, e, role in items
    ]
