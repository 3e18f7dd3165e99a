"""/volunteer: opportunities by period (in the volunteer's own zone) and by topic, a card with
free places and sign up / cancel, the waiting list, "my sign-ups", .ics, skills and time.

Every button is stateless (`VolunteerCb`: the list a card came from rides along), so buttons
survive restarts; a stale one — a cancelled event, a full one, a passed cut-off — answers with a
toast saying what changed and the card as it is now. The consent guard of the parent router runs
first, so everything here is for users who consented.
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.config import Settings
from bot.content import Catalog
from bot.delivery import Sender
from bot.domain import opportunities as rules
from bot.domain.errors import StaleButton
from bot.infra.middlewares import ANSWER_LIMIT
from bot.services.volunteering import (
    SKILLS_LIMIT,
    Card,
    Outcome,
    VolunteerService,
)
from bot.ui.keyboards import (
    Consent,
    Menu,
    SkillsCb,
    VolunteerCb,
    availability_toggles,
    button,
    grid,
    keyboard,
    page_row,
)
from bot.ui.render import Tr, utf16_len
from bot.ui.screen import Screen
from handlers import journey

router = Router(name=__name__)


class Skills(StatesGroup):
    typing = State()


def _period(code: str) -> str:
    if code not in rules.PERIODS:
        raise StaleButton
    return code


# --- the menu -------------------------------------------------------------------------------


@router.message(Command("volunteer"))
@router.callback_query(Menu.filter(F.section == "volunteer"))
@router.callback_query(VolunteerCb.filter(F.action == "menu"))
async def volunteer_menu(
    event: Message | CallbackQuery, screen: Screen, volunteering: VolunteerService
) -> None:
    tr = screen.tr
    mine = len(await volunteering.my_signups(screen.user_id))
    rows = [
        [
            button(tr._("📅 Today"), VolunteerCb(action="list", period="d")),
            button(tr._("🗓 This week"), VolunteerCb(action="list", period="w")),
        ],
        [
            button(tr._("🗓 This month"), VolunteerCb(action="list", period="m")),
            button(tr._("📋 All upcoming"), VolunteerCb(action="list", period="a")),
        ],
        [button(tr._("🗂 By topic"), VolunteerCb(action="topics"))],
        [button(tr._("✅ My sign-ups"), VolunteerCb(action="mine"))],
        [button(tr._("🛠 My skills and time"), SkillsCb(action="show"))],
        [button(tr._("☰ Menu"), Menu(section="home"))],
    ]
    await screen.show(tr("volunteer/menu.j2", mine=mine), keyboard(rows))


@router.callback_query(VolunteerCb.filter(F.action == "topics"))
async def topics(
    query: CallbackQuery, callback_data: VolunteerCb, screen: Screen, catalog: Catalog
) -> None:
    tr = screen.tr
    period = _period(callback_data.period)
    buttons = [
        button(t.short.get(tr.locale), VolunteerCb(action="list", topic=t.code, period=period))
        for t in catalog.topics
    ]
    rows = [*grid(buttons, 2), [button(tr._("« Back"), VolunteerCb(action="menu"))]]
    await screen.show(tr("volunteer/topics.j2"), keyboard(rows))


# --- the list -------------------------------------------------------------------------------


def _item_label(tr: Tr, listing: rules.Listing, tz: str) -> str:
    opp = listing.opportunity
    start = opp.starts_at.astimezone(ZoneInfo(tz)).strftime("%d.%m %H:%M")
    free = listing.free
    if free is None:
        tail = ""
    elif free == 0:
        tail = " · " + tr._("full")
    else:
        tail = " · " + tr.n_("{n} place free", "{n} places free", free).format(n=free)
    role = f" · {opp.role[:20]}" if opp.role else ""
    return f"{start} · {opp.title[:40]}{role}{tail}"


@router.callback_query(VolunteerCb.filter(F.action == "list"))
async def opportunity_list(
    query: CallbackQuery,
    callback_data: VolunteerCb,
    screen: Screen,
    volunteering: VolunteerService,
    catalog: Catalog,
    settings: Settings,
) -> None:
    tr = screen.tr
    period = _period(callback_data.period)
    topic = catalog.topic(callback_data.topic) if callback_data.topic else None
    tz = screen.zone(settings.default_timezone)
    region = screen.user.region if screen.user else None
    items, page = await volunteering.browse(
        period=period,
        topic=topic.code if topic else None,
        region=region,
        tz=tz,
        page=callback_data.page,
    )
    where = {"topic": callback_data.topic, "period": period, "page": page.number}
    rows: list[list[InlineKeyboardButton]] = [
        [
            button(
                _item_label(tr, item, tz),
                VolunteerCb(action="card", id=item.opportunity.id, **where),
            )
        ]
        for item in items
    ]
    rows.append(
        page_row(
            page,
            lambda n: VolunteerCb(action="list", topic=callback_data.topic, period=period, page=n),
        )
    )
    periods = [
        ("d", tr._("Today")),
        ("w", tr._("This week")),
        ("m", tr._("This month")),
        ("a", tr._("All")),
    ]
    rows.append(
        [
            button(
                ("• " if code == period else "") + label,
                VolunteerCb(action="list", topic=callback_data.topic, period=code),
            )
            for code, label in periods
        ]
    )
    back = (
        VolunteerCb(action="topics", period=period)
        if callback_data.topic
        else VolunteerCb(action="menu")
    )
    rows.append([button(tr._("« Back"), back), button(tr._("☰ Menu"), Menu(section="home"))])
    text = tr("volunteer/list.j2", period=period, topic=topic, page=page, tz=tz)
    await screen.show(text, keyboard(rows))


# --- the card -------------------------------------------------------------------------------


def card_keyboard(tr: Tr, card: Card, origin: VolunteerCb) -> Any:
    opp = card.opportunity
    where = {"topic": origin.topic, "period": origin.period, "page": origin.page}
    rows: list[list[InlineKeyboardButton]] = []
    mine = card.mine
    if mine is not None and card.cancel_refusal is None:
        if mine.status == "waiting":
            rows.append(
                [
                    button(
                        tr._("✖ Leave the waiting list"),
                        VolunteerCb(action="leave", id=opp.id, **where),
                    )
                ]
            )
        else:
            rows.append(
                [
                    button(
                        tr._("✖ Cancel my sign-up"),
                        VolunteerCb(action="cancel", id=opp.id, **where),
                    )
                ]
            )
    elif mine is None and card.refusal is None:
        label = tr._("🕐 Join the waiting list") if card.listing.free == 0 else tr._("✅ Sign up")
        rows.append([button(label, VolunteerCb(action="sign", id=opp.id, **where))])
    if mine is not None and mine.status == "confirmed" and opp.status != "cancelled":
        rows.append(
            [button(tr._("📅 Add to calendar"), VolunteerCb(action="ics", id=opp.id, **where))]
        )
    if opp.link and (url := rules.typed_link(opp.link)):
        rows.append([InlineKeyboardButton(text=tr._("💻 Online link"), url=url)])
    if opp.status != "cancelled" and card.now < opp.ends_at:
        # Any chat: the inline query `opp_<id>` offers exactly this card.
        share = InlineKeyboardButton(text=tr._("📤 Share"), switch_inline_query=f"opp_{opp.id}")
        rows.append([share])
    back = (
        VolunteerCb(action="menu")
        if origin.action == "open"
        else VolunteerCb(action="list", **where)
    )
    rows.append([button(tr._("« Back"), back), button(tr._("☰ Menu"), Menu(section="home"))])
    return keyboard(rows)


async def show_card(
    screen: Screen,
    card: Card,
    origin: VolunteerCb,
    settings: Settings,
    volunteering: VolunteerService | None = None,
) -> None:
    text = screen.tr("volunteer/card.j2", card=card, tz=screen.zone(settings.default_timezone))
    markup = card_keyboard(screen.tr, card, origin)
    if volunteering is not None and len(await volunteering.series(card.opportunity.id)) > 1:
        label = screen.tr._("🕐 Other shifts and roles")
        markup.inline_keyboard.insert(
            -1, [button(label, VolunteerCb(action="shifts", id=card.opportunity.id))]
        )
    await screen.show(text, markup)


@router.callback_query(VolunteerCb.filter(F.action == "shifts"))
async def shifts(
    query: CallbackQuery,
    callback_data: VolunteerCb,
    screen: Screen,
    volunteering: VolunteerService,
    settings: Settings,
) -> None:
    """The shifts and roles of an opportunity: each opens its own card to sign up."""
    items = await volunteering.series(callback_data.id)
    if not items:
        raise StaleButton
    tz = screen.zone(settings.default_timezone)
    tr = screen.tr
    rows = [
        [button(_item_label(tr, x, tz), VolunteerCb(action="card", id=x.opportunity.id))]
        for x in items[:40]
    ]
    rows.append(
        [
            button(tr._("« Back"), VolunteerCb(action="card", id=callback_data.id)),
            button(tr._("☰ Menu"), Menu(section="home")),
        ]
    )
    text = tr("volunteer/shifts.j2", opp=items[0].opportunity)
    await screen.show(text, keyboard(rows))


@journey.step("opportunity")
async def opportunity_from_link(screen: Screen, deps: dict[str, Any]) -> None:
    """A shared link (t.me/<bot>?start=opp_<id>, routed by handlers.basics): the card; for
    someone who has not consented, first the volunteer's consent screen, whose "I agree"
    carries the id (handled in handlers.basics, outside the consent guard) so that the card
    follows."""
    opportunity_id = int(deps["opportunity_id"])
    tr = screen.tr
    if screen.user is None or not screen.user.consented:
        markup = keyboard(
            [
                [button(tr._("✅ I agree"), Consent(action=f"opp_{opportunity_id}"))],
                [button(tr._("📄 Full privacy policy"), Consent(action="policy"))],
                [button(tr._("✖ I don't agree"), Consent(action="no"))],
            ]
        )
        await screen.show(tr("consent/volunteer.j2"), markup)
        return
    volunteering: VolunteerService = deps["volunteering"]
    card = await volunteering.card(opportunity_id, screen.user_id)
    if card is None:
        raise StaleButton
    await show_card(screen, card, VolunteerCb(action="open"), deps["settings"], volunteering)


@router.callback_query(VolunteerCb.filter(F.action == "card"))
async def card(
    query: CallbackQuery,
    callback_data: VolunteerCb,
    screen: Screen,
    volunteering: VolunteerService,
    settings: Settings,
) -> None:
    found = await volunteering.card(callback_data.id, screen.user_id)
    if found is None:
        raise StaleButton
    await show_card(screen, found, callback_data, settings, volunteering)


def _toast(tr: Tr, outcome: Outcome) -> str:
    opp = outcome.card.opportunity
    texts = {
        "confirmed": tr._("✅ You are signed up! The organiser sees your name and @username."),
        "waiting": tr._("🕐 No free places left — you are on the waiting list."),
        "already": tr._("You are signed up already."),
        "withdrawn": tr._("Your sign-up is cancelled."),
        "left": tr._("You left the waiting list."),
        "not_signed": tr._("You are not signed up for this one."),
        "moved_up": tr._("🎉 A place freed up for you meanwhile — you are signed up."),
        "cancelled": tr._("❌ The organiser cancelled this opportunity."),
        "started": tr._("This opportunity has already started."),
        "closed": tr._("The organiser has closed the sign-up."),
        "cutoff": tr._("The sign-up has ended."),
    }
    if outcome.result == "cutoff" and outcome.card.mine is not None:
        told = tr._("It is too late to cancel here — please tell the organiser: {contact}").format(
            contact=opp.contact or "—"
        )
        if utf16_len(told) <= ANSWER_LIMIT:
            return told
        # A long contact stays on the card, which shows it in full.
        return tr._("It is too late to cancel here — please tell the organiser (see the card).")
    return texts.get(outcome.result, "")


@router.callback_query(VolunteerCb.filter(F.action.in_({"sign", "cancel", "leave"})))
async def sign_or_cancel(
    query: CallbackQuery,
    callback_data: VolunteerCb,
    screen: Screen,
    volunteering: VolunteerService,
    settings: Settings,
    sender: Sender,
    callback_answer: CallbackAnswer,
) -> None:
    if callback_data.action == "sign":
        outcome = await volunteering.sign_up(callback_data.id, screen.user_id)
    else:
        only = "waiting" if callback_data.action == "leave" else None
        outcome = await volunteering.cancel(callback_data.id, screen.user_id, only=only)
    if outcome is None:
        raise StaleButton
    if outcome.enqueued:
        sender.wake()
    callback_answer.text = _toast(screen.tr, outcome)
    await show_card(screen, outcome.card, callback_data, settings, volunteering)


@router.callback_query(VolunteerCb.filter(F.action == "ics"))
async def add_to_calendar(
    query: CallbackQuery,
    callback_data: VolunteerCb,
    screen: Screen,
    volunteering: VolunteerService,
    bot: Bot,
) -> None:
    found = await volunteering.card(callback_data.id, screen.user_id)
    if found is None or found.mine is None or found.mine.status != "confirmed":
        raise StaleButton
    me = await bot.me()
    url = f"https://t.me/{me.username}?start=opp_{found.opportunity.id}" if me.username else None
    await screen.document(
        volunteering.ics(found.opportunity, url),
        f"opportunity-{found.opportunity.id}.ics",
        screen.tr._("📅 Open the file to add the opportunity to your calendar."),
    )


@router.callback_query(VolunteerCb.filter(F.action == "mine"))
@router.callback_query(Menu.filter(F.section == "signups"))
async def my_signups(
    query: CallbackQuery, screen: Screen, volunteering: VolunteerService, settings: Settings
) -> None:
    tr = screen.tr
    items = await volunteering.my_signups(screen.user_id)
    tz = screen.zone(settings.default_timezone)
    rows = [
        [
            button(
                _item_label(tr, listing, tz), VolunteerCb(action="card", id=listing.opportunity.id)
            )
        ]
        for listing, _ in items[:20]
    ]
    rows.append(
        [
            button(tr._("« Back"), VolunteerCb(action="menu")),
            button(tr._("☰ Menu"), Menu(section="home")),
        ]
    )
    no_shows = await volunteering.no_shows(screen.user_id)
    await screen.show(
        tr("volunteer/mine.j2", items=items, tz=tz, no_shows=no_shows), keyboard(rows)
    )


# --- skills and time ------------------------------------------------------------------------


async def show_skills(screen: Screen, volunteering: VolunteerService) -> None:
    tr = screen.tr
    profile = await volunteering.volunteer_profile(screen.user_id)
    toggles = availability_toggles(
        tr, profile.availability, lambda code: SkillsCb(action="av", value=code)
    )
    rows = [
        [button(tr._("✏️ Type my skills"), SkillsCb(action="edit"))],
        # A volunteer without a project has no ikigai to take them from.
        [button(tr._("🌱 Take them from my ikigai"), SkillsCb(action="ikigai"))]
        if "activist" in screen.roles
        else [],
        toggles[:2],
        toggles[2:],
        [
            button(tr._("« Back"), VolunteerCb(action="menu")),
            button(tr._("☰ Menu"), Menu(section="home")),
        ],
    ]
    await screen.show(tr("volunteer/skills.j2", profile=profile), keyboard(rows))


@router.callback_query(SkillsCb.filter(F.action == "show"))
async def skills(query: CallbackQuery, screen: Screen, volunteering: VolunteerService) -> None:
    if screen.state is not None:
        await screen.state.set_state(None)
    await show_skills(screen, volunteering)


@router.callback_query(SkillsCb.filter(F.action == "av"))
async def toggle_availability(
    query: CallbackQuery, callback_data: SkillsCb, screen: Screen, volunteering: VolunteerService
) -> None:
    await volunteering.toggle_availability(screen.user_id, callback_data.value)
    await show_skills(screen, volunteering)


@router.callback_query(SkillsCb.filter(F.action == "ikigai"))
async def skills_from_ikigai(
    query: CallbackQuery, screen: Screen, volunteering: VolunteerService
) -> None:
    await volunteering.seed_skills_from_ikigai(screen.user_id)
    await show_skills(screen, volunteering)


@router.callback_query(SkillsCb.filter(F.action == "edit"))
async def skills_ask(query: CallbackQuery, screen: Screen) -> None:
    assert screen.state is not None
    await screen.state.set_state(Skills.typing)
    markup = keyboard([[button(screen.tr._("« Back"), SkillsCb(action="show"))]])
    await screen.show(screen.tr("volunteer/skills_edit.j2", limit=SKILLS_LIMIT), markup)


@router.message(Skills.typing, F.text)
async def skills_typed(message: Message, screen: Screen, volunteering: VolunteerService) -> None:
    assert screen.state is not None
    assert message.text is not None
    parts = [p for p in re.split(r"[,;\n]+", message.text) if p.strip()]
    await volunteering.save_volunteer_profile(screen.user_id, skills=parts)
    await screen.state.set_state(None)
    await show_skills(screen, volunteering)
