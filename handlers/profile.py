"""/profile: everything the user told us — role, place, ikigai, stage with its history, topics,
problems — each part editable from here (and back here when done)."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message

from bot.config import Settings
from bot.content import Catalog
from bot.domain.attendance import hours_text
from bot.domain.errors import StaleButton
from bot.services.profile import Profile, ProfileService
from bot.services.volunteering import VolunteerService
from bot.ui.keyboards import (
    CertCb,
    Consent,
    DiagnosisCb,
    Menu,
    MyData,
    ProfileCb,
    QuizCb,
    SetupCb,
    SkillsCb,
    button,
    keyboard,
)
from bot.ui.render import Tr
from bot.ui.screen import Screen
from handlers import journey

router = Router(name=__name__)

# profile part → the journey step that edits it
EDITS = {
    "role": "role",
    "place": "place",
    "ikigai": "ikigai",
    "topics": "ikigai_topics",
    "problems": "problems",
}


@journey.step("profile")
async def profile_screen(screen: Screen, deps: dict[str, Any]) -> None:
    profiles: ProfileService = deps["profiles"]
    catalog: Catalog = deps["catalog"]
    profile = await profiles.load(screen.user_id)
    if profile.role == "volunteer":
        await volunteer_profile_screen(screen, profile, deps)
        return
    tr = screen.tr
    region = catalog.region(profile.user.region) if profile.user.region else None
    text = tr(
        "profile/profile.j2",
        profile=profile,
        region=region,
        topics=[catalog.topic(c) for c in sorted(profile.topics)],
        problems=[catalog.problem(c) for c in sorted(profile.problems)],
        stages={r.stage: catalog.stage_by_number(r.stage) for r in profile.history},
    )
    rows = [
        [
            button(tr._("🌱 Ikigai"), ProfileCb(part="ikigai")),
            button(tr._("🗺 Topics"), ProfileCb(part="topics")),
        ],
        [
            button(tr._("🧭 Stage quiz"), QuizCb(action="start")),
            button(tr._("📋 Problems"), ProfileCb(part="problems")),
        ],
        *_about_me(tr),
    ]
    if profile.history:
        rows.insert(0, [button(tr._("🩺 Diagnosis"), DiagnosisCb(screen="card"))])
    if "activist" in profile.user.roles:  # peers whose projects complement theirs, mentors
        rows.append([button(tr._("🤝 Peers and mentors"), Menu(section="peers"))])
    if "volunteer" in profile.user.roles:  # a volunteer too: their skills, time, sign-ups
        rows.append([button(tr._("🛠 Skills and time"), SkillsCb(action="show"))])
    rows.append([button(tr._("☰ Menu"), Menu(section="home"))])
    await screen.show(text, keyboard(rows))


def _about_me(tr: Tr) -> list[list[InlineKeyboardButton]]:
    """The rows both profiles share: role and region, notifications and language, data."""
    return [
        [
            button(tr._("👤 Role"), ProfileCb(part="role")),
            button(tr._("🕐 Region"), ProfileCb(part="place")),
        ],
        [
            button(tr._("🔔 Notifications"), Menu(section="settings")),
            button(tr._("🌐 Language"), Menu(section="lang")),
        ],
        [button(tr._("🔒 My data"), ProfileCb(part="data"))],
    ]


async def volunteer_profile_screen(screen: Screen, profile: Profile, deps: dict[str, Any]) -> None:
    """A volunteer's profile: where, topics, skills, time, reach, and what they came to."""
    catalog: Catalog = deps["catalog"]
    volunteering: VolunteerService = deps["volunteering"]
    settings: Settings = deps["settings"]
    tr = screen.tr
    history = await volunteering.history(screen.user_id)
    hours = hours_text(sum(a.counted for a in history), tr.locale)
    text = tr(
        "profile/volunteer.j2",
        profile=profile,
        vp=await volunteering.volunteer_profile(screen.user_id),
        region=catalog.region(profile.user.region) if profile.user.region else None,
        topics=[catalog.topic(c) for c in sorted(profile.topics)],
        history=history,
        hours=hours,
        tz=screen.zone(settings.default_timezone),
    )
    rows = [
        [
            button(tr._("🗺 Topics"), SetupCb(action="topics")),
            button(tr._("🛠 Skills and time"), SkillsCb(action="show")),
        ],
        *_about_me(tr),
        *([[button(tr._("📜 Certificate (PDF)"), CertCb(action="ask"))]] if history else []),
        [button(tr._("🚀 I have a project of my own too"), Menu(section="own_project"))],
        [button(tr._("☰ Menu"), Menu(section="home"))],
    ]
    await screen.show(text, keyboard(rows))


@router.message(Command("profile"))
@router.callback_query(Menu.filter(F.section == "profile"))
@router.callback_query(ProfileCb.filter(F.part == ""))
async def show(event: Message | CallbackQuery, screen: Screen, **deps: Any) -> None:
    await profile_screen(screen, deps)


@router.callback_query(ProfileCb.filter(F.part != ""))
async def edit(
    query: CallbackQuery, callback_data: ProfileCb, screen: Screen, **deps: Any
) -> None:
    part = callback_data.part
    if part == "data":
        tr = screen.tr
        markup = keyboard(
            [
                [button(tr._("📄 Privacy policy"), Consent(action="policy"))],
                [button(tr._("🗑 Delete my data"), MyData(action="delete"))],
                [button(tr._("« Back"), ProfileCb())],
            ]
        )
        await screen.show(tr("profile/data.j2"), markup)
        return
    if part not in EDITS:
        raise StaleButton
    await journey.come_back_to_profile(screen)
    await journey.start_step(EDITS[part], screen, deps)
