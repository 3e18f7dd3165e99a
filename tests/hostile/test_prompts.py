"""A screen that waits for typed text (a prompt) takes only the answer to its question: a command
typed there runs as it would anywhere, and leaving the screen (a menu button, another screen's
button, a command) ends the prompt, so a later text is not taken as an answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from bot.emulator import ChatMessage, EmulatedUser
from bot.storage.tables import broadcasts, ikigai_entries, opportunities, user_roles
from bot.storage.tables import volunteer_profiles as profiles
from bot.ui.keyboards import IkigaiCb, Menu, OrganiserCb, SkillsCb
from handlers.admin import CoordinatorsCb
from handlers.content_admin import ContentCb
from handlers.organisers import OrganisersCb
from tests.hostile.harness import ADMIN, Harness

HOME = Menu(section="home").pack()
ASK_WANT = IkigaiCb(action="col", column="want").pack()
COMMANDS = ["/profile", "/settings", "/volunteer", "/quiz", "/menu", "/help", "/nonsense"]


def texts_of(replies: list[ChatMessage]) -> list[str]:
    return [reply.text for reply in replies]


def echoed(replies: list[ChatMessage], text: str) -> bool:
    """The catch-all's answer to a text no screen waited for."""
    return any(f"You wrote: “{text}”" in reply.text for reply in replies)


async def test_a_command_typed_at_the_ikigai_prompt_runs(harness: Harness) -> None:
    user = await harness.consented(language_code="en")
    for command in COMMANDS:
        elsewhere = await harness.send(user, command)  # no prompt armed
        await harness.press(user, ASK_WANT)  # the exercise waits for an entry
        at_prompt = await harness.send(user, command)
        assert texts_of(at_prompt) == texts_of(elsewhere), command
    assert await harness.rows(ikigai_entries, user_id=user.id) == []


async def test_leaving_the_ikigai_prompt_through_the_menu_ends_it(harness: Harness) -> None:
    user = await harness.consented(language_code="en")
    await harness.press(user, ASK_WANT)
    await harness.press(user, HOME)  # its «☰ Menu» button
    replies = await harness.send(user, "A robotics club")
    assert echoed(replies, "A robotics club")
    assert await harness.rows(ikigai_entries, user_id=user.id) == []

    # Editing entries is a screen of buttons: a text typed there is not an entry either.
    await harness.press(user, ASK_WANT)
    await harness.send(user, "A robotics club")
    await harness.press(user, IkigaiCb(action="chg", column="want", position=1).pack())
    await harness.press(user, IkigaiCb(action="edit", column="want").pack())  # « Cancel
    replies = await harness.send(user, "A sewing circle")
    assert echoed(replies, "A sewing circle")
    rows = await harness.rows(ikigai_entries, user_id=user.id)
    assert [r["text"] for r in rows] == ["A robotics club"]


Arm = Callable[[Harness, EmulatedUser], Awaitable[object]]


async def _skills(harness: Harness, user: EmulatedUser) -> None:
    await harness.send(user, "/volunteer")
    await harness.press(user, SkillsCb(action="edit").pack())


async def _broadcast(harness: Harness, user: EmulatedUser) -> None:
    await harness.send(user, "/broadcast")


async def _opportunity(harness: Harness, user: EmulatedUser) -> None:
    await harness.send(user, "/opportunities")
    await harness.press(user, OrganiserCb(action="new").pack())


async def _grant(harness: Harness, user: EmulatedUser) -> None:
    await harness.send(user, "/coordinator")
    await harness.press(user, ContentCb(action="new", kind="grant").pack())


async def _organiser(harness: Harness, user: EmulatedUser) -> None:
    await harness.send(user, "/coordinator")
    await harness.press(user, OrganisersCb(action="add").pack())


PROMPTS: dict[str, Arm] = {
    "skills": _skills,
    "broadcast": _broadcast,
    "opportunity": _opportunity,
    "grant": _grant,
    "organiser": _organiser,
}


async def _stored(harness: Harness, user: EmulatedUser) -> list[object]:
    """What any of these prompts would have stored from the user's answer."""
    skills = [r["skills"] for r in await harness.rows(profiles, user_id=user.id)]
    return [
        *[s for s in skills if s not in ("[]", None)],
        *await harness.rows(broadcasts, author_id=user.id),
        *await harness.rows(opportunities, created_by=user.id),
        *[r for r in await harness.rows(user_roles) if r["role"] == "organiser"],
    ]


@pytest.mark.parametrize("prompt", list(PROMPTS))
@pytest.mark.parametrize("leave", ["command", "menu"])
async def test_leaving_any_prompt_ends_it(harness: Harness, prompt: str, leave: str) -> None:
    """Every screen that waits for text: a command typed there runs (the same screen as
    without the prompt), and after leaving — by that command or the menu — a typed text is the
    catch-all's, not an answer."""
    other = await harness.consented()
    user = await harness.coordinator(language_code="en")
    await harness.grant(user.id, "volunteer")
    elsewhere = await harness.send(user, "/help")
    await PROMPTS[prompt](harness, user)
    if leave == "command":
        assert texts_of(await harness.send(user, "/help")) == texts_of(elsewhere)
    else:
        await harness.press(user, HOME)
    answer = str(other.id)  # a text every one of these prompts would take
    assert echoed(await harness.send(user, answer), answer)
    assert await _stored(harness, user) == []


async def test_the_admins_prompt_ends_with_a_command(harness: Harness) -> None:
    admin = harness.emulator.user(ADMIN, "Admin", language_code="en")
    await harness.send(admin, "/start")
    await harness.app.profiles.give_consent(ADMIN, "Admin", None, None, locale="en")
    other = await harness.consented()
    await harness.send(admin, "/coordinators")
    await harness.press(admin, CoordinatorsCb(action="add").pack())
    await harness.send(admin, "/menu")
    assert echoed(await harness.send(admin, str(other.id)), str(other.id))
    assert await harness.rows(user_roles, user_id=other.id, role="coordinator") == []


async def test_a_press_inside_a_form_keeps_its_prompt(harness: Harness) -> None:
    """A button that answers a step (the topic) leaves the form waiting for the next answer."""
    user = await harness.coordinator(language_code="en")
    await _opportunity(harness, user)
    await harness.send(user, "Clean-up day")
    await harness.send(user, "We clean the park together.")
    screen = await harness.press(user, OrganiserCb(action="wtopic", value="culture").pack())
    assert screen is not None
    replies = await harness.send(user, "Central park")
    assert not echoed(replies, "Central park")
    assert "step 5 of 9" in replies[-1].text  # the start
