"""Which step of the journey comes next, the activist's or the volunteer's (pure)."""

from __future__ import annotations

STEPS = ("consent", "announcements", "role", "place", "ikigai", "quiz", "diagnosis")
VOLUNTEER_STEPS = ("consent", "announcements", "role", "place", "volunteer_setup", "volunteer")


def next_step(
    *,
    consented: bool,
    announcements_asked: bool = True,
    role: str | None,
    has_place: bool,
    ikigai_done: bool,
    quiz_taken: bool,
    volunteer_ready: bool = False,
) -> str:
    """The first missing step; "diagnosis" once everything is there.

    Volunteers have a path of their own: no ikigai of a project, no stage quiz — their
    interests, skills, time and reach ("volunteer_setup"), then the opportunities that fit
    ("volunteer"). Right after consent comes the question about announcements, a mailing
    with a consent of its own.
    """
    if not consented:
        return "consent"
    if not announcements_asked:
        return "announcements"
    if role is None:
        return "role"
    if not has_place:
        return "place"
    if role == "volunteer":
        return "volunteer" if volunteer_ready else "volunteer_setup"
    if not ikigai_done:
        return "ikigai"
    if not quiz_taken:
        return "quiz"
    return "diagnosis"
