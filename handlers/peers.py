"""Peers and mentors: what an activist shows other activists, complementary peers with the
reason, double opt-in introductions, blocks and reports; mentoring offers, finding a mentor,
the month's check-in and the end with a rating. The rules live in bot.services.peers."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.types import CallbackQuery, InlineKeyboardButton

from bot.config import Settings
from bot.content import Catalog
from bot.domain import peers as rules
from bot.domain.errors import StaleButton
from bot.services.peers import MentorCb, PeerCb, PeerService
from bot.services.profile import ProfileService
from bot.ui.keyboards import Menu, ProfileCb, button, keyboard
from bot.ui.render import Tr
from bot.ui.screen import Screen

router = Router(name=__name__)


def _field_names(tr: Tr) -> dict[str, str]:
    return {
        "name": tr._("Project name"),
        "stage": tr._("Stage"),
        "region": tr._("Region"),
        "topics": tr._("Topics"),
        "can": tr._("What I can"),
        "need": tr._("What I need"),
    }


def _bottom(tr: Tr) -> list[list[InlineKeyboardButton]]:
    return [
        [button(tr._("« Profile"), ProfileCb()), button(tr._("☰ Menu"), Menu(section="home"))]
    ]


async def peers_menu(screen: Screen, deps: dict[str, Any]) -> None:
    service: PeerService = deps["peers"]
    profiles: ProfileService = deps["profiles"]
    tr = screen.tr
    profile = await profiles.load(screen.user_id)
    if "activist" not in profile.user.roles:
        raise StaleButton
    mine = await service.share(screen.user_id)
    fields = mine.fields if mine else frozenset()
    names = _field_names(tr)
    toggles = [
        button(("✅ " if f in fields else "▫️ ") + names[f], PeerCb(action="field", value=f))
        for f in rules.FIELDS
    ]
    rows = [toggles[i : i + 2] for i in range(0, len(toggles), 2)]
    if fields:
        rows.insert(0, [button(tr._("🔍 Find peers"), PeerCb(action="list"))])
        rows.append([button(tr._("🙈 Stop showing my project"), PeerCb(action="off"))])
    rows.append([button(tr._("🧑‍🏫 Mentors"), MentorCb(action="menu"))])
    rows += _bottom(tr)
    await screen.show(tr("peers/menu.j2", fields=fields), keyboard(rows))


@router.callback_query(Menu.filter(F.section == "peers"))
@router.callback_query(PeerCb.filter(F.action == "menu"))
async def menu_pressed(query: CallbackQuery, screen: Screen, **deps: Any) -> None:
    await peers_menu(screen, deps)


@router.callback_query(PeerCb.filter(F.action.in_({"field", "off"})))
async def share_pressed(
    query: CallbackQuery, callback_data: PeerCb, screen: Screen, **deps: Any
) -> None:
    service: PeerService = deps["peers"]
    if callback_data.action == "off":
        await service.set_fields(screen.user_id, frozenset())
    else:
        await service.toggle(screen.user_id, callback_data.value)
    await peers_menu(screen, deps)


@router.callback_query(PeerCb.filter(F.action == "list"))
async def list_pressed(query: CallbackQuery, screen: Screen, **deps: Any) -> None:
    service: PeerService = deps["peers"]
    tr = screen.tr
    if await service.share(screen.user_id) is None:
        await screen.show(tr("peers/asked.j2", result="share", limit=0), keyboard(_back(tr)))
        return
    found = await service.suggestions(screen.user_id)
    shown = [
        {
            "peer": x.suggestion.peer,
            "title": service.title(x.person, shown=True),
            "s": x.suggestion,
        }
        for x in found
    ]
    rows = [
        [button(tr._("🤝 Introduce? №{n}").format(n=i), PeerCb(action="ask", id=x.person.user_id))]
        for i, x in enumerate(found, start=1)
    ]
    if found:
        rows.append([button(tr._("🔄 Other peers"), PeerCb(action="list"))])
    rows.append([button(tr._("« Back"), PeerCb(action="menu"))])
    await screen.show(tr("peers/list.j2", shown=shown), keyboard(rows))


def _back(tr: Tr, target: PeerCb | MentorCb | None = None) -> list[list[InlineKeyboardButton]]:
    return [
        [
            button(tr._("« Back"), target or PeerCb(action="menu")),
            button(tr._("☰ Menu"), Menu(section="home")),
        ]
    ]


@router.callback_query(PeerCb.filter(F.action == "ask"))
@router.callback_query(MentorCb.filter(F.action == "ask"))
async def ask_pressed(
    query: CallbackQuery, callback_data: PeerCb | MentorCb, screen: Screen, **deps: Any
) -> None:
    service: PeerService = deps["peers"]
    mentor = isinstance(callback_data, MentorCb)
    result = await service.request(
        screen.user_id, callback_data.id, "mentor" if mentor else "peer"
    )
    tr = screen.tr
    back = MentorCb(action="list") if mentor else PeerCb(action="list")
    text = tr("peers/asked.j2", result=result, limit=rules.DAILY_REQUESTS)
    await screen.show(text, keyboard(_back(tr, back)))
    if result == "sent":
        deps["sender"].wake()


@router.callback_query(PeerCb.filter(F.action.in_({"yes", "no"})))
@router.callback_query(MentorCb.filter(F.action.in_({"yes", "no"})))
async def answer_pressed(
    query: CallbackQuery, callback_data: PeerCb | MentorCb, screen: Screen, **deps: Any
) -> None:
    service: PeerService = deps["peers"]
    yes = callback_data.action == "yes"
    intro = await service.answer(screen.user_id, callback_data.intro, yes)
    if intro is None:
        raise StaleButton
    tr = screen.tr
    menu = MentorCb(action="menu") if intro.kind == "mentor" else PeerCb(action="menu")
    await screen.show(tr("peers/answered.j2", yes=yes), keyboard(_back(tr, menu)))
    if yes:
        deps["sender"].wake()


@router.callback_query(PeerCb.filter(F.action == "report"))
async def report_pressed(
    query: CallbackQuery, callback_data: PeerCb, screen: Screen, **deps: Any
) -> None:
    tr = screen.tr
    who = callback_data.id
    rows = [
        [button(tr._("🚫 Block"), PeerCb(action="block", id=who))],
        [button(tr._("⚠️ Block and report"), PeerCb(action="block", id=who, value="report"))],
        *_back(tr),
    ]
    await screen.show(tr("peers/block.j2"), keyboard(rows))


@router.callback_query(PeerCb.filter(F.action == "block"))
async def block_pressed(
    query: CallbackQuery, callback_data: PeerCb, screen: Screen, **deps: Any
) -> None:
    service: PeerService = deps["peers"]
    reported = callback_data.value == "report"
    if not await service.block(screen.user_id, callback_data.id, reported):
        raise StaleButton
    tr = screen.tr
    await screen.show(tr("peers/blocked.j2", reported=reported), keyboard(_back(tr)))
    if reported:
        deps["sender"].wake()


# --- mentors ---------------------------------------------------------------------------------


async def mentors_screen(screen: Screen, deps: dict[str, Any], *, find: bool = False) -> None:
    service: PeerService = deps["peers"]
    profiles: ProfileService = deps["profiles"]
    settings: Settings = deps["settings"]
    tr = screen.tr
    profile = await profiles.load(screen.user_id)
    may_offer = await service.may_offer(screen.user_id)
    offer = await service.offer(screen.user_id) if may_offer else None
    mentee = rules.may_be_mentored(profile.stage)
    found = await service.mentors_for(screen.user_id) if find and mentee else None
    going = await service.mentorships(screen.user_id)
    rows: list[list[InlineKeyboardButton]] = []
    if may_offer:
        label = tr._("✏️ My mentoring offer") if offer else tr._("🧑‍🏫 Offer to mentor")
        rows.append([button(label, MentorCb(action="offer"))])
    if mentee and not find:
        rows.append([button(tr._("🔍 Find a mentor"), MentorCb(action="list"))])
    for i, m in enumerate(found or (), start=1):
        name = m.person.first_name or "—"
        rows.append([button(f"🙋 {i}. {name}"[:60], MentorCb(action="ask", id=m.person.user_id))])
    for intro, person in going:
        name = person.first_name or "—"
        rows.append([button(f"🏁 {name}"[:60], MentorCb(action="end", intro=intro.id))])
    rows.append(
        [
            button(tr._("« Back"), MentorCb(action="menu") if find else PeerCb(action="menu")),
            button(tr._("☰ Menu"), Menu(section="home")),
        ]
    )
    text = tr(
        "peers/mentors.j2",
        offer=offer,
        may_offer=may_offer,
        mentors=found,
        going=going,
        tz=screen.zone(settings.default_timezone),
    )
    await screen.show(text, keyboard(rows))


@router.callback_query(MentorCb.filter(F.action == "menu"))
async def mentors_pressed(query: CallbackQuery, screen: Screen, **deps: Any) -> None:
    await mentors_screen(screen, deps)


@router.callback_query(MentorCb.filter(F.action == "list"))
async def find_pressed(query: CallbackQuery, screen: Screen, **deps: Any) -> None:
    profiles: ProfileService = deps["profiles"]
    if not rules.may_be_mentored((await profiles.load(screen.user_id)).stage):
        raise StaleButton
    await mentors_screen(screen, deps, find=True)


OFFER_PARTS = frozenset({"offer", "topic", "cap", "way", "often", "on", "off"})


@router.callback_query(MentorCb.filter(F.action.in_(OFFER_PARTS)))
async def offer_pressed(
    query: CallbackQuery, callback_data: MentorCb, screen: Screen, **deps: Any
) -> None:
    service: PeerService = deps["peers"]
    catalog: Catalog = deps["catalog"]
    action = "show" if callback_data.action == "offer" else callback_data.action
    o = await service.edit_offer(screen.user_id, action, callback_data.value)
    tr = screen.tr
    topics = [
        button(
            ("✅ " if t.code in o.topics else "▫️ ") + tr.loc(t.short),
            MentorCb(action="topic", value=t.code),
        )
        for t in catalog.topics
    ]
    ways = {"chat": tr._("chat"), "call": tr._("call"), "meeting": tr._("meeting")}
    often = {
        "weekly": tr._("weekly"),
        "biweekly": tr._("every two weeks"),
        "monthly": tr._("monthly"),
    }
    following = rules.MENTOR_OFTEN[(rules.MENTOR_OFTEN.index(o.often) + 1) % 3]
    rows = [topics[i : i + 2] for i in range(0, len(topics), 2)]
    rows.append(
        [
            button(("✅ " if w in o.ways else "▫️ ") + name, MentorCb(action="way", value=w))
            for w, name in ways.items()
        ]
    )
    rows.append(
        [
            button(
                tr.n_("👥 {n} mentee", "👥 {n} mentees", o.capacity).format(n=o.capacity),
                MentorCb(action="cap", value=str(o.capacity % rules.MAX_MENTEES + 1)),
            ),
            button(f"🗓 {often[o.often]}", MentorCb(action="often", value=following)),
        ]
    )
    if o.active:
        rows.append([button(tr._("⏸ Stop offering"), MentorCb(action="off"))])
    else:
        rows.append([button(tr._("✅ Offer to mentor"), MentorCb(action="on"))])
    rows.append(
        [
            button(tr._("« Back"), MentorCb(action="menu")),
            button(tr._("☰ Menu"), Menu(section="home")),
        ]
    )
    settings: Settings = deps["settings"]
    text = tr(
        "peers/mentors.j2",
        offer=o,
        may_offer=True,
        mentors=None,
        going=(),
        tz=screen.zone(settings.default_timezone),
    )
    await screen.show(text, keyboard(rows))


@router.callback_query(MentorCb.filter(F.action.in_({"good", "end", "rate"})))
async def mentorship_pressed(
    query: CallbackQuery, callback_data: MentorCb, screen: Screen, **deps: Any
) -> None:
    service: PeerService = deps["peers"]
    tr = screen.tr
    back = _back(tr, MentorCb(action="menu"))
    if callback_data.action == "good":
        await screen.show(tr._("👍 Glad to hear it! Keep going."), keyboard(back))
        return
    if callback_data.action == "rate":
        value = callback_data.value
        if not value.isdigit() or not await service.rate(
            screen.user_id, callback_data.intro, int(value)
        ):
            raise StaleButton
        await screen.show(tr._("⭐ Thank you for the rating!"), keyboard(back))
        return
    intro = await service.end(screen.user_id, callback_data.intro)
    if intro is None:
        raise StaleButton
    stars = [
        button("⭐" * n, MentorCb(action="rate", intro=intro.id, value=str(n)))
        for n in range(1, 6)
    ]
    rows = [stars] if intro.from_id == screen.user_id else []
    await screen.show(
        tr("peers/ended_push.j2", mentee=intro.from_id == screen.user_id),
        keyboard([*rows, *back]),
    )
    deps["sender"].wake()
