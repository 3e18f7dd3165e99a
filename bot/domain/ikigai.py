"""The ikigai exercise's rules (pure): what an entry may be, and a suggestion for the
project's focus."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
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


def is_empty(ikigai: Mapping[str, Sequence[str]], topics: Collection[str]) -> bool:
    """Nothing typed in any column and no topic ticked: the exercise was skipped entirely."""
    return not topics and not any(ikigai.get(col) for col in COLUMNS)


def suggest_focus(ikigai: Mapping[str, Sequence[str]], topic_labels: Sequence[str]) -> str:
    """A sentence for the project's focus built from the three columns, for the user to take
    with one tap or to rewrite: the first thing wanted, the first thing they can, and the
    first need (ticked topics stand in for a typed one), joined by dashes. Parts that would
    not fit an entry are left off from the end; "" when there is nothing to build from."""
    firsts = [entries[0] for col in COLUMNS if (entries := ikigai.get(col))]
    parts = [e for e in firsts if e]
    if not ikigai.get("need") and topic_labels:
        parts.append(", ".join(topic_labels[:2]))
    while parts and len(" — ".join(parts)) > ENTRY_LIMIT:
        parts.pop()
    return " — ".join(parts)
