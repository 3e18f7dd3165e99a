"""The journey (the activist's or the volunteer's) as a chain of steps: each flow module
registers the screen that starts its step; `advance` shows the first step the user has not
done yet. Modules never import each other, only this registry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.fsm.state import State

from bot.domain.journey import next_step
from bot.services.profile import ProfileService
from bot.services.volunteering import VolunteerService
from bot.ui.screen import Screen

StepStart = Callable[[Screen, dict[str, Any]], Awaitable[None]]
_steps: dict[str, StepStart] = {}


def step(name: str) -> Callable[[StepStart], StepStart]:
    def register(fn: StepStart) -> StepStart:
        _steps[name] = fn
        return fn

    return register


async def start_step(name: str, screen: Screen, deps: dict[str, Any]) -> None:
    await _steps[name](screen, deps)


RETURN_KEY = "return_to"


async def come_back_to_profile(screen: Screen) -> None:
    """The step about to start was opened from /profile: finish it there."""
    if screen.state is not None:
        await screen.state.update_data({RETURN_KEY: "profile"})


async def return_to_profile(screen: Screen, deps: dict[str, Any]) -> bool:
    """If the finished step was opened from /profile, show the profile again (True)."""
    if screen.state is None:
        return False
    data = await screen.state.get_data()
    if data.get(RETURN_KEY) != "profile":
        return False
    data.pop(RETURN_KEY)
    await screen.state.set_data(data)
    await start_step("profile", screen, deps)
    return True


async def advance(screen: Screen, deps: dict[str, Any]) -> None:
    """Show the first step the user has not done yet (consent comes first), or go back to
    the profile when the step just finished was opened from there."""
    profiles: ProfileService = deps["profiles"]
    user = screen.user
    if user is not None and user.consented and await return_to_profile(screen, deps):
        return
    if user is None or not user.consented:
        await start_step("consent", screen, deps)
        return
    profile = await profiles.load(screen.user_id)
    pushes = await profiles.push_settings(screen.user_id)
    volunteer_ready = False
    if profile.role == "volunteer":
        volunteering: VolunteerService = deps["volunteering"]
        volunteer_ready = (await volunteering.volunteer_profile(screen.user_id)).reach is not None
    name = next_step(
        consented=True,
        announcements_asked=pushes.announcements is not None,
        role=profile.role,
        has_place=profile.user.timezone is not None,
        ikigai_done=profile.user.ikigai_done_at is not None,
        quiz_taken=bool(profile.history),
        volunteer_ready=volunteer_ready,
    )
    await start_step(name, screen, deps)


# screens answered with their buttons: typed text there shows the screen again (the fallback)
_by_buttons: dict[str, StepStart] = {}


def answered_by_buttons(state: State) -> Callable[[StepStart], StepStart]:
    """The screen shown in FSM `state` waits for a press; `fn` shows it again, below the text
    the user typed instead."""

    def register(fn: StepStart) -> StepStart:
        assert state.state is not None
        _by_buttons[state.state] = fn
        return fn

    return register


async def show_again(state: str | None, screen: Screen, deps: dict[str, Any]) -> bool:
    """Show again the screen that waits for a press in `state` (True), if there is one."""
    again = _by_buttons.get(state) if state is not None else None
    if again is None:
        return False
    await again(screen, deps)
    return True
