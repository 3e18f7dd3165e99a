"""The ikigai exercise's rules (pure): what an entry may be, and the project's focus."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum

from bot.domain.fields import blank

COLUMNS = ("want", "can", "need")
MAX_ENTRIES = 3
ENTRY_LIMIT = 200


class EntryProblem(Enum):
    EMPTY = "empty"
    TOO_LONG = "too_long"


def clean_entry(text: str | None) -> str | EntryProblem:
    """The entry as stored (whitespace folded), or what is wrong with it."""
    if text is None or blank(text):
        return EntryProblem.EMPTY
    folded = " ".join(text.split())
    if len(folded) > ENTRY_LIMIT:
        return EntryProblem.TOO_LONG
    return folded


def next_column(col: str) -> str | None:
    i = COLUMNS.index(col)
    return COLUMNS[i + 1] if i + 1 < len(COLUMNS) else None


def previous_column(col: str) -> str | None:
    i = COLUMNS.index(col)
    return COLUMNS[i - 1] if i > 0 else None


def focus(ikigai: Mapping[str, Sequence[str]], topic_labels: Sequence[str]) -> str:
    """What sits in the middle of the picture: where wanting, ability and need meet.

    The territory's need leads (the seed's third column); topics stand in for a typed need;
    with neither, what the person wants.
    """
    if ikigai.get("need"):
        return ikigai["need"][0]
    if topic_labels:
        return ", ".join(topic_labels[:3])
    for col in ("want", "can"):
        if ikigai.get(col):
            return ikigai[col][0]
    return ""
