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


def weekly_slot(now: datetime, tz: str, hour: int, weekday: int) -> datetime:
    """The instant (UTC) of the weekly digest's slot in the local week of `now`."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    day = local.date() + timedelta(days=weekday - local.weekday())
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(now.tzinfo)


def local_daytime(now: datetime, tz: str, from_hour: int) -> bool:
    """True once the user's local hour has reached `from_hour` today."""
    return now.astimezone(ZoneInfo(tz)).hour >= from_hour


NEWCOMER_WAIT = timedelta(days=1)  # a weekly slot a day after consent at the earliest


def first_digest(
    now: datetime,
    consented_at: datetime,
    tz: str,
    digest: str,
    hour: int,
    weekday: int,
    quiet_start: int,
    quiet_end: int,
) -> datetime | None:
    """When the planner's first digest for a user will arrive (UTC), None when digests are
    off: the first moment from `now` at which a period is due (`digest_period`) — for a weekly
    one, only a week whose slot is a day after consent or later (`NEWCOMER_WAIT`) — moved
    past quiet hours (`allowed_at`). Looked up hour by hour, as the ticks see it; the hours
    that cannot be it (before the day's or the week's slot, the rest of a week too early for
    a newcomer) are skipped, all but the last one or two, which are looked at as the ticks
    would (a zone's offset of half an hour, a clock moved that night)."""
    if digest == "off":
        return None
    zone = ZoneInfo(tz)
    start = now.replace(minute=0, second=0, microsecond=0)
    n = 0
    while n < 15 * 24:
        at = max(now, start + timedelta(hours=n))
        target: datetime | None = None  # no period is due before this instant
        if digest_period(at, tz, digest, hour, weekday) is None:
            if digest == "daily":
                local = at.astimezone(zone)
                target = datetime.combine(local.date(), time(hour), tzinfo=zone)
            else:
                target = weekly_slot(at, tz, hour, weekday)
        elif digest == "weekly" and weekly_slot(at, tz, hour, weekday) < (
            consented_at + NEWCOMER_WAIT
        ):
            local = at.astimezone(zone)
            monday = local.date() + timedelta(days=7 - local.weekday())
            target = datetime.combine(monday, time(0), tzinfo=zone)  # the next local week
        else:
            return allowed_at(at, tz, quiet_start, quiet_end)
        ahead = int((target - start) / timedelta(hours=1))  # whole hours before the target
        n = max(n + 1, ahead - 1)
    return None
