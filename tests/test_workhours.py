"""Working hours for the desk's reminder: weekdays 09:00–18:00 in the deployment's zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.workhours import after_working_hours

MSK = ZoneInfo("Europe/Moscow")


def msk(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MSK)


def test_within_one_working_day() -> None:
    assert after_working_hours(msk(2026, 12, 7, 10, 0), 4, "Europe/Moscow") == msk(
        2026, 12, 7, 14, 0
    )


def test_the_night_does_not_count() -> None:
    # Monday 16:00 + 4 h: 2 h on Monday, 2 h from Tuesday 09:00.
    assert after_working_hours(msk(2026, 12, 7, 16, 0), 4, "Europe/Moscow") == msk(
        2026, 12, 8, 11, 0
    )


def test_a_question_on_friday_evening_waits_for_monday() -> None:
    # Friday 17:00 + 4 h: 1 h on Friday, then Monday 09:00–12:00.
    assert after_working_hours(msk(2026, 12, 11, 17, 0), 4, "Europe/Moscow") == msk(
        2026, 12, 14, 12, 0
    )
    # Asked on Saturday: counted from Monday 09:00.
    assert after_working_hours(msk(2026, 12, 12, 11, 0), 24, "Europe/Moscow") == msk(
        2026, 12, 16, 15, 0
    )


def test_before_opening_and_after_closing() -> None:
    assert after_working_hours(msk(2026, 12, 7, 6, 30), 1, "Europe/Moscow") == msk(
        2026, 12, 7, 10, 0
    )
    assert after_working_hours(msk(2026, 12, 7, 19, 0), 1, "Europe/Moscow") == msk(
        2026, 12, 8, 10, 0
    )
    # Exactly a day's hours end at its closing time.
    assert after_working_hours(msk(2026, 12, 7, 9, 0), 9, "Europe/Moscow") == msk(
        2026, 12, 7, 18, 0
    )


def test_the_zone_is_the_deployments_and_the_answer_is_an_instant() -> None:
    start = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # 10:00 in Tomsk (UTC+7)
    due = after_working_hours(start, 2, "Asia/Tomsk")
    assert due == datetime(2026, 12, 7, 5, 0, tzinfo=UTC)


def test_a_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        after_working_hours(datetime(2026, 12, 7, 10, 0), 1, "Europe/Moscow")
