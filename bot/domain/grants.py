"""Which grants fit a user and how they are ordered (pure)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.windows import Occurrence, Window, current_or_next, days_left, status

HORIZON = timedelta(days=90)  # an upcoming window further away than this is not listed


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


@dataclass(frozen=True)
class Opening:
    """A grant's current or next window as the user sees it."""

    key: str
    occurrence: Occurrence
    status: str  # open / upcoming
    days_left: int | None  # to the deadline, in the user's calendar days; None: no deadline


def opening(
    key: str, windows: tuple[Window, ...], tz: str, now: datetime, user_tz: str
) -> Opening | None:
    """The window open now or opening within HORIZON; None when there is none."""
    occurrence = current_or_next(windows, tz, now) if windows else None
    if occurrence is None or occurrence.open_at > now + HORIZON:
        return None
    return Opening(
        key=key,
        occurrence=occurrence,
        status=status(occurrence, now),
        days_left=days_left(occurrence, now, user_tz),
    )


def order(openings: list[Opening]) -> list[Opening]:
    """Open ones first, nearest deadline first (no deadline last); then upcoming by opening."""

    def key(o: Opening) -> tuple[int, datetime, str]:
        if o.status == "open":
            far = o.occurrence.open_at + timedelta(days=3650)
            return 0, o.occurrence.close_at or far, o.key
        return 1, o.occurrence.open_at, o.key

    return sorted(openings, key=key)
