"""Before and after an event: the day-before confirmation, the rating, the hours counted and
the certificate's code. Pure: times are passed in."""

from __future__ import annotations

import math
import secrets
from datetime import datetime, timedelta
from typing import Final

# The confirmation: asked with the reminders, answered until the start; no answer by
# CONFIRM_LEAD before the start shows the organiser "not confirmed".
CONFIRM_LEAD: Final = timedelta(hours=3)
ASK_WITHIN: Final = timedelta(hours=24)  # a promotion this close to the start asks at once
ASKED: Final = "asked"
YES: Final = "yes"
NO: Final = "no"
SILENT: Final = "silent"  # asked, no answer by the deadline
ANSWERS: Final = (YES, NO)
STATES: Final = (ASKED, YES, NO, SILENT)

RATINGS: Final = range(1, 6)
COMMENT_LIMIT: Final = 500
DAY_MINUTES: Final = 24 * 60
THANKS_SETTLE: Final = timedelta(minutes=2)  # the thanks wait while the marks may change
THANKS_WITHIN: Final = timedelta(days=7)  # attendance marked later gets no thanks push

CODE_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH: Final = 10


def confirm_by(starts_at: datetime) -> datetime:
    """The deadline of the confirmation."""
    return starts_at - CONFIRM_LEAD


def may_ask(starts_at: datetime, now: datetime) -> bool:
    """A confirmation asked now still has time to be answered before its deadline."""
    return now < confirm_by(starts_at)


def confirm_state(confirm: str | None, starts_at: datetime, now: datetime) -> str | None:
    """What the organiser sees: None (never asked), asked, yes, no, silent (no answer by the
    deadline)."""
    if confirm == ASKED and now >= confirm_by(starts_at):
        return SILENT
    return confirm


def answer_refusal(
    status: str, confirm: str | None, starts_at: datetime, now: datetime, cancelled: bool
) -> str | None:
    """Why a confirmation answer is not taken (None: it is): the event cancelled or started,
    the place no longer the volunteer's."""
    if cancelled:
        return "cancelled"
    if now >= starts_at:
        return "started"
    if status != "confirmed":
        return "not_signed"
    return None


def event_minutes(starts_at: datetime, ends_at: datetime) -> int:
    """What an attended event counts: its length, in whole minutes."""
    return max(0, round((ends_at - starts_at).total_seconds() / 60))


def event_days(starts_at: datetime, ends_at: datetime) -> int:
    """The days an event spans (at least 1): 24 hours of each may be counted."""
    return max(1, math.ceil((ends_at - starts_at) / timedelta(days=1)))


class HoursProblem(ValueError):
    """A correction of the hours that cannot be (code: text, zero, negative, too_many)."""

    def __init__(self, code: str, limit: int = 0) -> None:
        super().__init__(code)
        self.code = code
        self.limit = limit


def parse_hours(text: str, starts_at: datetime, ends_at: datetime) -> int:
    """The organiser's correction typed as hours ("3", "2.5", "1,5", "2:30") → minutes.
    More than 24 hours a day of the event is refused."""
    raw = text.strip().replace(",", ".")
    try:
        if ":" in raw:
            h, m = raw.split(":", 1)
            if not (h.lstrip("-").isdigit() and m.isdigit() and len(m) == 2 and int(m) < 60):
                raise ValueError(raw)
            minutes = int(h) * 60 + (-int(m) if h.startswith("-") else int(m))
        else:
            value = float(raw)
            if not math.isfinite(value):
                raise ValueError(raw)
            minutes = round(value * 60)
    except ValueError:
        raise HoursProblem("text") from None
    if minutes < 0:
        raise HoursProblem("negative")
    if minutes == 0:
        raise HoursProblem("zero")
    days = event_days(starts_at, ends_at)
    if minutes > days * DAY_MINUTES:
        raise HoursProblem("too_many", days * 24)
    return minutes


def hours_text(minutes: int, locale: str = "en") -> str:
    """Minutes as hours for people: "3", "2.5", "1.25" (in Russian "2,5")."""
    value = f"{round(minutes / 60, 2):g}"
    return value.replace(".", ",") if locale == "ru" else value


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def clean_code(text: str) -> str | None:
    """A code as typed or from a link, upper-cased; None when it cannot be one."""
    code = text.strip().upper()
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return code
