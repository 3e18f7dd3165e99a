"""The pure rules of bot.domain.attendance: the hours an organiser types, the confirmation's
state as the organiser sees it, certificate codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import attendance as rules

START = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
END = START + timedelta(hours=3)


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [("3", 180), ("2.5", 150), ("1,5", 90), ("2:30", 150), (" 0.25 ", 15), ("24", 1440)],
)
def test_hours_typed(typed: str, minutes: int) -> None:
    assert rules.parse_hours(typed, START, END) == minutes


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "text"), ("a lot", "text"), ("nan", "text"), ("inf", "text"), ("2:75", "text"),
        ("0", "zero"), ("0:00", "zero"), ("-1", "negative"), ("-0:30", "negative"),
        ("24.5", "too_many"), ("100000", "too_many"),
    ],
)  # fmt: skip
def test_hours_refused(typed: str, code: str) -> None:
    with pytest.raises(rules.HoursProblem) as caught:
        rules.parse_hours(typed, START, END)
    assert caught.value.code == code


def test_a_two_day_event_allows_48_hours() -> None:
    end = START + timedelta(hours=30)
    assert rules.parse_hours("48", START, end) == 48 * 60
    with pytest.raises(rules.HoursProblem):
        rules.parse_hours("49", START, end)


def test_hours_shown() -> None:
    assert rules.hours_text(150) == "2.5"
    assert rules.hours_text(150, "ru") == "2,5"
    assert rules.hours_text(180) == "3"


def test_an_unanswered_question_is_silent_after_the_deadline() -> None:
    deadline = rules.confirm_by(START)
    assert rules.confirm_state("asked", START, deadline - timedelta(seconds=1)) == "asked"
    assert rules.confirm_state("asked", START, deadline) == "silent"
    assert rules.confirm_state("yes", START, deadline) == "yes"
    assert rules.confirm_state(None, START, deadline) is None


def test_codes() -> None:
    code = rules.new_code()
    assert rules.clean_code(code.lower()) == code
    assert rules.clean_code("O0O0O0O0O0") is None  # letters that read alike are never used
    assert rules.clean_code("SHORT") is None
