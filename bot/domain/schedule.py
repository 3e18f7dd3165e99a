"""When a push may go to a user (pure): local daytime, quiet hours, digest periods."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


def in_quiet_hours(hour: int, start: int, end: int) -> bool:
    """Quiet hours [start, end) in local hours; they may span midnight; start == end: none."""
    if start == end:
        return False
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end


def allowed_at(now: datetime, tz: str, quiet_start: int, quiet_end: int) -> datetime:
    """`now`, or the end of the user's quiet hours when `now` falls into them (UTC)."""
    local = now.astimezone(ZoneInfo(tz))
    if not in_quiet_hours(local.hour, quiet_start, quiet_end):
        return now
    end = datetime.combine(local.date(), time(quiet_end), tzinfo=local.tzinfo)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(now.tzinfo)


def before_quiet(instant: datetime, tz: str, quiet_start: int, quiet_end: int) -> datetime:
    """`instant`, or when it falls into the user's quiet hours, an hour before those hours
    begin (UTC): for what must reach the user before a moment, not after the night."""
    zone = ZoneInfo(tz)
    local = instant.astimezone(zone)
    if not in_quiet_hours(local.hour, quiet_start, quiet_end):
        return instant
    begin = datetime.combine(local.date(), time(quiet_start), tzinfo=zone)
    if begin > local:
        begin -= timedelta(days=1)
    return (begin - timedelta(hours=1)).astimezone(instant.tzinfo)


def digest_period(now: datetime, tz: str, digest: str, hour: int, weekday: int) -> str | None:
    """The period whose digest is due at `now` ("2026-W48" weekly, "2026-11-29" daily), or
    None when this period's slot (local weekday and hour) has not come yet or digests are off.

    A slot missed (the bot was down) is still due later in the same period.
    """
    if digest == "off":
        return None
    local = now.astimezone(ZoneInfo(tz))
    if digest == "daily":
        return local.date().isoformat() if local.hour >= hour else None
    year, week, day = local.isocalendar()
    if (day - 1, local.hour) < (weekday, hour):
        return None
    return f"{year}-W{week:02d}"


def local_daytime(now: datetime, tz: str, from_hour: int) -> bool:
    """True once the user's local hour has reached `from_hour` today."""
    return now.astimezone(ZoneInfo(tz)).hour >= from_hour
