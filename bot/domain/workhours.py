"""Working hours: when a number of a resource centre's working hours has passed.

The consultation desk reminds the coordinators of a question nobody took after
DESK_REMIND_HOURS *working* hours — a question asked on Friday evening is not "late" on
Sunday. Working hours are Monday to Friday, 09:00–18:00 in the deployment's time zone
(DEFAULT_TIMEZONE); public holidays are not known here and count as working days.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_START = time(9, 0)
DAY_END = time(18, 0)
WORKDAYS = frozenset(range(5))  # Monday … Friday
_MAX_DAYS = 3660  # a bound for the walk: ten years of calendar


def after_working_hours(start: datetime, hours: float, tz: str) -> datetime:
    """The instant at which `hours` working hours have passed since the aware `start`.

    Time outside working hours does not count: 4 hours from Friday 17:00 is Monday 12:00.
    """
    if start.tzinfo is None:
        raise ValueError("start must be aware")
    zone = ZoneInfo(tz)
    left = timedelta(hours=hours)
    cursor = start.astimezone(zone)
    for _ in range(_MAX_DAYS):
        day = cursor.date()
        opens = datetime.combine(day, DAY_START, zone)
        closes = datetime.combine(day, DAY_END, zone)
        if day.weekday() in WORKDAYS and cursor < closes:
            cursor = max(cursor, opens)
            if cursor + left <= closes:
                return cursor + left
            left -= closes - cursor
        cursor = datetime.combine(day + timedelta(days=1), time(0, 0), zone)
    raise ValueError(f"{hours} working hours do not fit in {_MAX_DAYS} days")
