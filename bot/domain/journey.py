"""Which step of the activist's journey comes next (pure)."""

from __future__ import annotations

STEPS = ("consent", "announcements", "role", "place", "ikigai", "quiz", "diagnosis")


def next_step(
    *,
    consented: bool,
    announcements_asked: bool = True,
    role: str | None,
    has_place: bool,
    ikigai_done: bool,
    quiz_taken: bool,
) -> str:
    """The first missing step; "diagnosis" once everything is there.

    Volunteers skip the stage quiz: they have no project of their own to place. Right after
    consent comes the question about announcements, a mailing with a consent of its own.
    """
    if not consented:
        return "consent"
    if not announcements_asked:
        return "announcements"
    if role is None:
        return "role"
    if not has_place:
        return "place"
    if not ikigai_done:
        return "ikigai"
    if role == "volunteer":
        return "volunteer"
    if not quiz_taken:
        return "quiz"
    return "diagnosis"
