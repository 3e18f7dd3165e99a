"""The diagnosis card after the stage quiz: the stage's content, factors and risks, which answers
decided it, what the next stage is; the crisis self-check and the problem checklist."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.types import CallbackQuery

from bot.content import Catalog
from bot.domain import crises
from bot.domain.errors import StaleButton
from bot.domain.quiz import QuizError, score
from bot.domain.schedule import first_digest
from bot.domain.zones import user_zone
from bot.infra.clock import Clock
from bot.services.profile import Profile, ProfileService
from bot.ui.keyboards import (
    Check,
    DiagnosisCb,
    MeasuresCb,
    Menu,
    ProfileCb,
    QuizCb,
    button,
    grid,
    keyboard,
)
from bot.ui.screen import Screen
from handlers import journey

router = Router(name=__name__)


def problem_group(stage: int) -> str:
    """New initiatives (stages 1–3) have other problems than running projects (4–7)."""
    return "new" if stage <= 3 else "running"


async def _first_digest(
    screen: Screen, profiles: ProfileService, deps: dict[str, Any]
) -> dict[str, Any] | None:
    """When the first digest comes, for the diagnosis right after the first quiz: the local
    day and time, and the settings that make it so (None: another time, or digests off)."""
    user = screen.user
    if not deps.get("just_taken") or user is None or user.consent_at is None:
        return None
    clock: Clock = deps["clock"]
    s = await profiles.push_settings(screen.user_id)
    tz = user_zone(user.timezone, deps["settings"].default_timezone)
    now = clock.now()
    at = first_digest(
        now, user.consent_at, tz, s.digest, s.digest_hour, s.digest_weekday,
        s.quiet_start, s.quiet_end,
    )  # fmt: skip
    if at is None:
        return None
    zone = ZoneInfo(tz)
    local = at.astimezone(zone)
    days = (local.date() - now.astimezone(zone).date()).days
    return {"days": days, "weekday": local.weekday(), "time": f"{local:%H:%M}", "s": s}


@journey.step("diagnosis")
async def diagnosis(screen: Screen, deps: dict[str, Any]) -> None:
    catalog: Catalog = deps["catalog"]
    profiles: ProfileService = deps["profiles"]
    profile = await profiles.load(screen.user_id)
    if not profile.history:
        await journey.start_step("quiz", screen, deps)
        return
    latest = profile.history[-1]
    try:
        result = score(catalog.quiz, latest.answers)
    except QuizError:  # answers to a quiz that has changed since: take the new one
        await journey.start_step("quiz", screen, deps)
        return
    stage = catalog.stage_by_number(latest.stage)
    following = catalog.stage_by_number(stage.number + 1) if stage.number < 7 else None
    decisive = [
        (catalog.quiz.question(q), catalog.quiz.question(q).option(o)) for q, o in result.decisive
    ]
    tr = screen.tr
    first = await _first_digest(screen, profiles, deps) if len(profile.history) == 1 else None
    text = tr(
        "diagnosis/card.j2",
        first_digest=first,
        stage=stage,
        phase=catalog.phase_of_stage(stage.number),
        following=following,
        decisive=decisive,
        taken_at=latest.taken_at,
        previous=profile.history[-2] if len(profile.history) > 1 else None,
    )
    markup = keyboard(
        [
            [button(tr._("🤝 Matched support measures"), MeasuresCb())],
            [
                button(tr._("📋 Problems"), DiagnosisCb(screen="problems")),
                button(tr._("🆘 Crisis check"), DiagnosisCb(screen="crises")),
            ],
            [
                button(tr._("🔁 Retake the quiz"), QuizCb(action="start")),
                button(tr._("👤 Profile"), ProfileCb()),
            ],
            [button(tr._("☰ Menu"), Menu(section="home"))],
        ]
    )
    await screen.show(text, markup)


@router.callback_query(DiagnosisCb.filter(F.screen == "card"))
async def card_pressed(query: CallbackQuery, screen: Screen, **deps: Any) -> None:
    await diagnosis(screen, deps)


# --- checklists: problems of the project, typical crisis reactions ---


async def show_checklist(screen: Screen, catalog: Catalog, profile: Profile, kind: str) -> None:
    tr = screen.tr
    if kind == "problems":
        items = [
            (p.code, tr.loc(p.name))
            for p in catalog.problem_group(problem_group(profile.stage or 1)).items
        ]
        chosen = profile.problems
    else:
        chain = catalog.crisis_reactions
        items = [(r.code, f"{n}. {tr.loc(r.name)}") for n, r in enumerate(chain, 1)]
        chosen = profile.crises
    toggles = [
        button(("✅ " if code in chosen else "▫️ ") + label, Check(kind=kind, code=code))
        for code, label in items
    ]
    rows = [*grid(toggles, 1), [button(tr._("Done ▶"), Check(kind=kind))]]
    rows.append([button(tr._("« Back"), DiagnosisCb(screen="card"))])
    template = "diagnosis/problems.j2" if kind == "problems" else "diagnosis/crises.j2"
    text = tr(
        template, stage=profile.stage, chosen=len(chosen), reactions=catalog.crisis_reactions
    )
    await screen.show(text, keyboard(rows))


@journey.step("problems")
async def start_problems(screen: Screen, deps: dict[str, Any]) -> None:
    profile = await deps["profiles"].load(screen.user_id)
    await show_checklist(screen, deps["catalog"], profile, "problems")


@router.callback_query(DiagnosisCb.filter(F.screen.in_({"problems", "crises"})))
async def checklist(
    query: CallbackQuery,
    callback_data: DiagnosisCb,
    screen: Screen,
    profiles: ProfileService,
    catalog: Catalog,
) -> None:
    profile = await profiles.load(screen.user_id)
    await show_checklist(screen, catalog, profile, callback_data.screen)


@router.callback_query(Check.filter(F.kind.in_({"problems", "crises"}) & (F.code != "")))
async def toggled(
    query: CallbackQuery,
    callback_data: Check,
    screen: Screen,
    profiles: ProfileService,
    catalog: Catalog,
) -> None:
    kind, code = callback_data.kind, callback_data.code
    profile = await profiles.load(screen.user_id)
    if kind == "problems":
        allowed = {p.code for p in catalog.problem_group(problem_group(profile.stage or 1)).items}
        current = profile.problems
    else:
        allowed = {r.code for r in catalog.crisis_reactions}
        current = profile.crises
    if code not in allowed:
        raise StaleButton
    await profiles.set_codes(screen.user_id, kind, current ^ {code})
    await show_checklist(screen, catalog, await profiles.load(screen.user_id), kind)


@router.callback_query(Check.filter(F.kind.in_({"problems", "crises"}) & (F.code == "")))
async def checklist_done(
    query: CallbackQuery,
    callback_data: Check,
    screen: Screen,
    profiles: ProfileService,
    **deps: Any,
) -> None:
    catalog: Catalog = deps["catalog"]
    profile = await profiles.load(screen.user_id)
    deps = {"profiles": profiles, **deps}
    if await journey.return_to_profile(screen, deps):
        return
    if callback_data.kind == "crises":
        chain = catalog.crisis_reactions
        reactions = [r for r in chain if r.code in profile.crises]
        at = crises.position([r.code for r in chain], profile.crises)
        by_code = {r.code: r for r in chain}
        current = by_code[at.code] if at else None
        following = by_code[at.next_code] if at and at.next_code else None
        markup = keyboard(
            [
                [button(screen.tr._("🤝 Matched support measures"), MeasuresCb())],
                [button(screen.tr._("« Back"), DiagnosisCb(screen="card"))],
            ]
        )
        text = screen.tr(
            "diagnosis/advice.j2", reactions=reactions, at=at, current=current, next=following
        )
        await screen.show(text, markup)
        return
    await journey.start_step("measures", screen, deps)
