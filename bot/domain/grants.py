"""Which grants fit a user and how they are ordered (pure)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from bot.domain.windows import Occurrence, Window, current_or_next, days_left, status

HORIZON = timedelta(days=90)  # a window opening within this is "soon"; later: "season"


def fits(
    *,
    grant_topics: Collection[str],
    grant_phases: Collection[str],
    grant_region: str | None,
    phase: str | None,
    topics: Collection[str],
    region: str | None,
) -> bool:
    """A grant fits unless it is for another phase, other topics or another region.

    Unknown facts about the user (no stage, no topics) never exclude a grant.
    """
    if grant_phases and phase is not None and phase not in grant_phases:
        return False
    if grant_topics and topics and not set(grant_topics) & set(topics):
        return False
    return grant_region is None or grant_region == region


Status = Literal["open", "soon", "season", "unannounced"]
STATUSES: tuple[Status, ...] = ("open", "soon", "season", "unannounced")


@dataclass(frozen=True)
class Opening:
    """A grant as the user sees it now, with one of four statuses:

    * ``open`` — applications are accepted (``days_left`` to the deadline, None: all year);
    * ``soon`` — the next window opens within HORIZON;
    * ``season`` — closed until the next season, which usually opens later than that;
    * ``unannounced`` — no dates known (regional contests, or only past confirmed windows):
      ``occurrence`` None, the note and the site say what is known.

    ``occurrence.expected`` tells whether its dates are inferred from past years."""

    key: str
    occurrence: Occurrence | None
    status: Status
    days_left: int | None  # to the deadline, in the organiser's calendar days; None: none
    zone: str = "Europe/Moscow"  # the organiser's zone, in which the deadline is set

    @property
    def expected(self) -> bool:
        return self.occurrence is not None and self.occurrence.expected


def opening(key: str, windows: tuple[Window, ...], tz: str, now: datetime) -> Opening:
    """The grant's status at ``now``, with the window open now or next; its days left are the
    organiser's (``tz``), so a deadline never reads as a later day in the user's zone."""
    occurrence = current_or_next(windows, tz, now) if windows else None
    if occurrence is None:
        return Opening(key=key, occurrence=None, status="unannounced", days_left=None, zone=tz)
    if status(occurrence, now) == "open":
        found: Status = "open"
    else:
        found = "soon" if occurrence.open_at <= now + HORIZON else "season"
    return Opening(
        key=key,
        occurrence=occurrence,
        status=found,
        days_left=days_left(occurrence, now, tz),  # the organiser's days: never a day later
        zone=tz,
    )


def order(openings: list[Opening]) -> list[Opening]:
    """Open ones first, nearest deadline first (no deadline last); then the others by the date
    they open; those without dates last. Ties keep the given order (the catalog's)."""
    far = datetime.max.replace(tzinfo=UTC)

    def key(o: Opening) -> tuple[int, datetime]:
        if o.occurrence is None:
            return 2, far
        if o.status == "open":
            return 0, o.occurrence.close_at or far
        return 1, o.occurrence.open_at

    return sorted(openings, key=key)
