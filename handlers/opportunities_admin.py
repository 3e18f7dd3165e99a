"""The organisers' opportunities (coordinators and admins — the parent router checks the role):
create in nine short steps with a preview, edit, close or reopen the sign-up, cancel (everyone
signed up is told), the participants with attendance marks, a CSV, a message to all, and the
link to share (t.me/<bot>?start=opp_<id>).

Times are typed in the organiser's own zone (their profile's, else the deployment's).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.config import Settings
from bot.content import Catalog
from bot.delivery import Sender
from bot.domain import attendance as turnout
from bot.domain import opportunities as rules
from bot.domain.errors import StaleButton
from bot.domain.fields import DayOutOfRange, blank
from bot.domain.opportunities import Listing, Opportunity
from bot.domain.shifts import ShiftProblem
from bot.infra.clock import Clock
from bot.services.volunteering import Draft, OpportunityProblem, VolunteerService
from bot.ui.keyboards import Menu, OrganiserCb, button, grid, keyboard, page_row
from bot.ui.render import Tr
from bot.ui.screen import Screen
from handlers.coordinator import CoordinatorCb

router = Router(name=__name__)

STEPS = (
    "title",
    "description",
    "topic",
    "place",
    "starts_at",
    "ends_at",
    "capacity",
    "signup_until",
    "contact",
)
LIMITS = {
    "title": rules.TITLE_LIMIT,
    "description": rules.DESCRIPTION_LIMIT,
    "place": rules.PLACE_LIMIT,
    "link": rules.LINK_LIMIT,
    "contact": rules.CONTACT_LIMIT,
}
CUTOFFS = {"start": None, "1d": timedelta(days=1), "3h": timedelta(hours=3)}
DRAFT = "oa_draft"


class NewOpportunity(StatesGroup):
    typing = State()  # data[DRAFT]["step"] says which answer is awaited


class EditOpportunity(StatesGroup):
    typing = State()  # data: oa_id, oa_field


class MessageParticipants(StatesGroup):
    typing = State()  # data: oa_id


class EditHours(StatesGroup):
    typing = State()  # data: oa_id, oa_uid


class AddShifts(StatesGroup):
    typing = State()  # data: oa_id, oa_what (shift / role / weekly)


async def _share_link(bot: Bot, opportunity_id: int) -> str:
    me = await bot.me()
    return f"https://t.me/{me.username}?start=opp_{opportunity_id}"


def _problem(tr: Tr, problem: str, limit: int = 0, **params: Any) -> str:
    return tr(
        "opportunities/problem.j2",
        problem=problem,
        limit=limit,
        max_capacity=rules.MAX_CAPACITY,
        earliest=params.get("earliest", ""),
        latest=params.get("latest", ""),
    )


# --- the list and the card ------------------------------------------------------------------


@router.message(Command("opportunities"))
@router.callback_query(CoordinatorCb.filter(F.section == "opportunities"))
@router.callback_query(Menu.filter(F.section == "opportunities"))
@router.callback_query(OrganiserCb.filter(F.action == "list"))
async def opportunities_list(
    event: Message | CallbackQuery,
    screen: Screen,
    volunteering: VolunteerService,
    callback_data: OrganiserCb | None = None,
) -> None:
    if screen.state is not None:
        await screen.state.set_state(None)
    tr = screen.tr
    items, page = await volunteering.managed(
        callback_data.page if isinstance(callback_data, OrganiserCb) else 0, owner=_owner(screen)
    )
    rows: list[list[InlineKeyboardButton]] = [
        [button(tr._("➕ New opportunity"), OrganiserCb(action="new"))]
    ]
    now = volunteering.clock.now()
    for item in items:
        opp = item.opportunity
        start = opp.starts_at.astimezone(ZoneInfo(opp.timezone)).strftime("%d.%m %H:%M")
        taken = f"{item.confirmed}/{opp.capacity}" if opp.capacity else str(item.confirmed)
        label = f"{_mark(opp, now)}{start} · {opp.title[:36]} · 👥 {taken}"
        rows.append([button(label, OrganiserCb(action="card", id=opp.id, page=page.number))])
    rows.append(page_row(page, lambda n: OrganiserCb(action="list", page=n)))
    rows.append([button(tr._("🏁 Past opportunities"), OrganiserCb(action="past"))])
    rows.append(
        [
            button(tr._("« Coordinator menu"), CoordinatorCb(section="menu")),
            button(tr._("☰ Menu"), Menu(section="home")),
        ]
    )
    await screen.show(tr("opportunities/list.j2", page=page), keyboard(rows))


def _owner(screen: Screen) -> int | None:
    """An activist allowed to publish manages only their own; coordinators manage all."""
    return None if screen.roles & {"coordinator", "admin"} else screen.user_id


def _mark(opp: Opportunity, now: datetime) -> str:
    if opp.status == "cancelled":
        return "❌ "
    if now >= opp.ends_at:
        return "🏁 "
    return "⏸ " if opp.status == "closed" else ""


@router.callback_query(OrganiserCb.filter(F.action == "past"))
async def past_list(
    query: CallbackQuery,
    callback_data: OrganiserCb,
    screen: Screen,
    volunteering: VolunteerService,
) -> None:
    """The opportunities that are over, the latest first, with how many came."""
    if screen.state is not None:
        await screen.state.set_state(None)
    tr = screen.tr
    items, page = await volunteering.managed(callback_data.page, owner=_owner(screen), past=True)
    rows: list[list[InlineKeyboardButton]] = []
    now = volunteering.clock.now()
    for item in items:
        opp = item.opportunity
        day = opp.starts_at.astimezone(ZoneInfo(opp.timezone)).strftime("%d.%m.%y")
        label = f"{_mark(opp, now)}{day} · {opp.title[:36]} · ✅ {item.attended}/{item.confirmed}"
        rows.append([button(label, OrganiserCb(action="card", id=opp.id, page=page.number))])
    rows.append(page_row(page, lambda n: OrganiserCb(action="past", page=n)))
    rows.append([button(tr._("« Back"), OrganiserCb(action="list"))])
    await screen.show(tr("opportunities/past.j2", page=page), keyboard(rows))


async def show_card(
    screen: Screen, volunteering: VolunteerService, bot: Bot, opportunity_id: int, page: int = 0
) -> None:
    listing = await volunteering.listing(opportunity_id)
    if listing is None:
        raise StaleButton
    tr = screen.tr
    opp = listing.opportunity
    oid = opp.id
    now = volunteering.clock.now()
    over = now >= opp.ends_at
    rows: list[list[InlineKeyboardButton]] = [
        [
            button(tr._("👥 Participants"), OrganiserCb(action="people", id=oid)),
            button(tr._("📄 CSV"), OrganiserCb(action="csv", id=oid)),
        ],
        [button(tr._("✉️ Message participants"), OrganiserCb(action="msg", id=oid))],
    ]
    if opp.status != "cancelled" and not over:
        rows.append([button(tr._("🕐 Shifts and roles"), OrganiserCb(action="shifts", id=oid))])
        rows.append([button(tr._("✏️ Edit"), OrganiserCb(action="edit", id=oid))])
        if opp.status == "closed":
            rows.append([button(tr._("▶ Reopen the sign-up"), OrganiserCb(action="open", id=oid))])
        else:
            rows.append([button(tr._("⏸ Close the sign-up"), OrganiserCb(action="close", id=oid))])
        rows.append(
            [button(tr._("📢 Post to a group or channel"), OrganiserCb(action="post", id=oid))]
        )
        rows.append(
            [button(tr._("❌ Cancel the opportunity"), OrganiserCb(action="cancel", id=oid))]
        )
    rows.append(
        [
            button(tr._("« Back"), OrganiserCb(action="past" if over else "list", page=page)),
            button(tr._("☰ Menu"), Menu(section="home")),
        ]
    )
    share = await _share_link(bot, oid)
    text = tr(
        "opportunities/card.j2",
        listing=listing,
        preview=False,
        share=share,
        over=over,
        started=now >= opp.starts_at,
    )
    await screen.show(text, keyboard(rows))


@router.callback_query(OrganiserCb.filter(F.action == "card"))
async def card(
    query: CallbackQuery,
    callback_data: OrganiserCb,
    screen: Screen,
    volunteering: VolunteerService,
    bot: Bot,
) -> None:
    if screen.state is not None:
        await screen.state.set_state(None)
    await show_card(screen, volunteering, bot, callback_data.id, callback_data.page)


# --- creating -------------------------------------------------------------------------------


def _step_keyboard(screen: Screen, step: str, catalog: Catalog, back: OrganiserCb) -> Any:
    tr = screen.tr
    rows: list[list[InlineKeyboardButton]] = []
    edit = back.action == "card"
    if step == "topic":
        prefix = "etopic" if edit else "wtopic"
        topics = [
            button(t.short.get(tr.locale), OrganiserCb(action=prefix, id=back.id, value=t.code))
            for t in catalog.topics
        ]
        rows += grid(topics, 2)
    elif step == "capacity":
        rows.append(
            [button(tr._("No limit"), OrganiserCb(action="ecap" if edit else "wcap", id=back.id))]
        )
    elif step == "signup_until":
        prefix = "ecut" if edit else "wcut"
        rows.append(
            [
                button(
                    tr._("Until the start"), OrganiserCb(action=prefix, id=back.id, value="start")
                )
            ]
        )
        rows.append(
            [
                button(tr._("A day before"), OrganiserCb(action=prefix, id=back.id, value="1d")),
                button(tr._("3 hours before"), OrganiserCb(action=prefix, id=back.id, value="3h")),
            ]
        )
    elif step == "contact" and not edit:
        username = screen.user.username if screen.user else None
        if username:
            rows.append([button(f"@{username}", OrganiserCb(action="wcontact", value="me"))])
        rows.append([button(tr._("Skip"), OrganiserCb(action="wcontact", value="skip"))])
    rows.append([button(tr._("✖ Cancel") if back.action == "discard" else tr._("« Back"), back)])
    return keyboard(rows)


async def _ask(
    screen: Screen,
    step: str,
    catalog: Catalog,
    settings: Settings,
    problem: str = "",
    *,
    revising: bool = False,
) -> None:
    """Ask the draft's `step`: a typed answer is awaited (after a press too); `revising` one
    answer from the preview, whose « Back leads back to it (instead of ✖ Cancel, which
    discards the draft)."""
    assert screen.state is not None
    await screen.state.set_state(NewOpportunity.typing)
    text = screen.tr(
        "opportunities/ask.j2",
        new=not revising,
        step=step,
        number=STEPS.index(step) + 1,
        limit=LIMITS.get(step, 0),
        tz=screen.zone(settings.default_timezone),
    )
    if problem:
        text = f"{problem}\n\n{text}"
        screen.query = None  # after typed text: a new message under it
    back = OrganiserCb(action="dpreview" if revising else "discard")
    await screen.show(text, _step_keyboard(screen, step, catalog, back))


async def _draft(screen: Screen) -> dict[str, Any]:
    assert screen.state is not None
    draft = (await screen.state.get_data()).get(DRAFT)
    if not isinstance(draft, dict):
        raise StaleButton
    return draft


async def _next(
    screen: Screen,
    draft: dict[str, Any],
    catalog: Catalog,
    settings: Settings,
    **values: Any,
) -> None:
    """Store the answer and ask the next question (or show the preview; after an answer
    revised from the preview, the preview again — a new start moves the end and the sign-up
    cutoff with it)."""
    assert screen.state is not None
    if draft.get(REVISING):
        draft = {**_moved(draft, values.get("starts_at")), **values, REVISING: False}
        draft["step"] = "preview"
        await screen.state.update_data({DRAFT: draft})
        await _preview(screen, draft)
        return
    draft = {**draft, **values}
    position = STEPS.index(draft["step"]) + 1
    if position < len(STEPS):
        draft["step"] = STEPS[position]
        await screen.state.update_data({DRAFT: draft})
        await _ask(screen, draft["step"], catalog, settings)
        return
    draft["step"] = "preview"
    await screen.state.update_data({DRAFT: draft})
    await _preview(screen, draft)


def _from_draft(draft: dict[str, Any]) -> Draft:
    def when(key: str) -> datetime | None:
        value = draft.get(key)
        return datetime.fromisoformat(value) if value else None

    starts_at, ends_at = when("starts_at"), when("ends_at")
    assert starts_at is not None
    assert ends_at is not None
    return Draft(
        title=draft["title"],
        description=draft["description"],
        topic=draft["topic"],
        place=draft.get("place"),
        link=draft.get("link"),
        region=draft.get("region"),
        timezone=draft["timezone"],
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=draft.get("capacity"),
        signup_until=when("signup_until"),
        contact=draft.get("contact"),
    )


async def _preview(screen: Screen, draft: dict[str, Any]) -> None:
    d = _from_draft(draft)
    opp = Opportunity(
        id=0,
        title=d.title,
        description=d.description,
        topic=d.topic,
        place=d.place,
        link=d.link,
        region=d.region,
        timezone=d.timezone,
        starts_at=d.starts_at,
        ends_at=d.ends_at,
        capacity=d.capacity,
        signup_until=d.signup_until,
        contact=d.contact,
        status="open",
        created_by=screen.user_id,
        created_at=d.starts_at,
    )
    tr = screen.tr
    markup = keyboard(
        [
            [button(tr._("✅ Publish"), OrganiserCb(action="publish"))],
            [button(tr._("✏️ Change something"), OrganiserCb(action="dedit"))],
            [button(tr._("✖ Discard"), OrganiserCb(action="discard"))],
        ]
    )
    text = tr(
        "opportunities/card.j2",
        listing=Listing(opp),
        preview=True,
        share="",
        over=False,
        started=False,
    )
    if screen.state is not None:  # the preview is answered with buttons
        await screen.state.set_state(None)
    await screen.show(text, markup)


REVISING = "revising"  # in the draft: the step asked is one answer changed from the preview


def _moved(draft: dict[str, Any], starts_at: str | None) -> dict[str, Any]:
    """The draft with its end and sign-up cutoff moved as far as a new start moves."""
    if starts_at is None or not draft.get("starts_at"):
        return draft
    shift = datetime.fromisoformat(starts_at) - datetime.fromisoformat(draft["starts_at"])
    moved = dict(draft)
    for key in ("ends_at", "signup_until"):
        if draft.get(key):
            moved[key] = (datetime.fromisoformat(draft[key]) + shift).isoformat()
    return moved


def _field_names(tr: Tr) -> dict[str, str]:
    return {
        "title": tr._("Title"),
        "description": tr._("Description"),
        "topic": tr._("Topic"),
        "place": tr._("Place"),
        "link": tr._("Online link"),
        "starts_at": tr._("Start"),
        "ends_at": tr._("End"),
        "capacity": tr._("Places"),
        "signup_until": tr._("Sign-up until"),
        "contact": tr._("Contact"),
    }


@router.callback_query(OrganiserCb.filter(F.action == "dedit"))
async def draft_fields(query: CallbackQuery, screen: Screen) -> None:
    """From the preview: which answer to change."""
    draft = await _draft(screen)
    if draft.get("step") != "preview":
        raise StaleButton
    tr = screen.tr
    names = _field_names(tr)
    fields = [button(names[f], OrganiserCb(action="dfield", value=f)) for f in STEPS]
    rows = [*grid(fields, 2), [button(tr._("« Back"), OrganiserCb(action="dpreview"))]]
    await screen.show(tr("opportunities/draft_edit.j2"), keyboard(rows))


@router.callback_query(OrganiserCb.filter(F.action == "dfield"))
async def draft_field(
    query: CallbackQuery,
    callback_data: OrganiserCb,
    screen: Screen,
    catalog: Catalog,
    settings: Settings,
) -> None:
    assert screen.state is not None
    draft = await _draft(screen)
    field = callback_data.value
    if field not in STEPS or draft.get("step") not in ("preview", *STEPS):
        raise StaleButton
    await screen.state.update_data({DRAFT: {**draft, "step": field, REVISING: True}})
    await _ask(screen, field, catalog, settings, revising=True)


@router.callback_query(OrganiserCb.filter(F.action == "dpreview"))
async def draft_preview(query: CallbackQuery, screen: Screen) -> None:
    """« Back from changing an answer: the preview as it was."""
    assert screen.state is not None
    draft = await _draft(screen)
    if not draft.get(REVISING) and draft.get("step") != "preview":
        raise StaleButton
    draft = {**draft, "step": "preview", REVISING: False}
    draft.pop(PENDING, None)
    await screen.state.update_data({DRAFT: draft})
    await _preview(screen, draft)


@router.callback_query(OrganiserCb.filter(F.action == "new"))
async def new(query: CallbackQuery, screen: Screen, catalog: Catalog, settings: Settings) -> None:
    assert screen.state is not None
    user = screen.user
    draft = {
        "step": STEPS[0],
        "timezone": screen.zone(settings.default_timezone),
        "region": user.region if user else None,
    }
    await screen.state.update_data({DRAFT: draft})
    await _ask(screen, STEPS[0], catalog, settings)


@router.callback_query(OrganiserCb.filter(F.action == "discard"))
async def discard(
    query: CallbackQuery,
    screen: Screen,
    volunteering: VolunteerService,
    callback_answer: CallbackAnswer,
) -> None:
    if screen.state is not None:
        await screen.state.set_state(None)
        await screen.state.update_data({DRAFT: None})
    callback_answer.text = screen.tr._("Discarded.")
    await opportunities_list(query, screen, volunteering)


def _typed_value(
    step: str, text: str, tz: str, now: datetime, draft: dict[str, Any]
) -> tuple[dict[str, Any], str | None]:
    """An answer typed at `step` → (draft values, None), or (the problem's parameters, its
    code)."""
    try:
        return _typed(step, text, tz, now, draft)
    except DayOutOfRange as out:  # a date typed at any of the date steps
        days = {"earliest": out.earliest, "latest": out.latest}
        return {k: v.strftime("%d.%m.%Y") for k, v in days.items()}, "out_of_range"


def _typed(
    step: str, text: str, tz: str, now: datetime, draft: dict[str, Any]
) -> tuple[dict[str, Any], str | None]:
    if step in ("title", "description", "contact"):
        value = rules.clean_text(text, LIMITS[step])
        return ({step: value}, None) if value else ({}, "text")
    if step == "place":
        value = rules.clean_text(text, LIMITS["place"])
        if value is None:
            return {}, "text"
        if not rules.looks_like_link(value):
            return {"place": value, "link": None}, None
        link = rules.typed_link(value)
        return ({"place": None, "link": link, "region": None}, None) if link else ({}, "link")
    if step == "link":
        if text.strip() in {"-", "—"}:
            return {"link": None}, None
        link = rules.typed_link(text)
        return ({"link": link}, None) if link else ({}, "link")
    if step == "capacity":
        try:
            return {"capacity": rules.parse_capacity(text)}, None
        except ValueError:
            return {}, "capacity"
    if step in ("starts_at", "signup_until"):
        found = rules.parse_when(text, tz, now)
        if found is None:
            return {}, "not_understood"
        if found <= now:
            return {}, "start_past"
        if step == "starts_at" and found - now > rules.MAX_AHEAD:
            return {}, "start_far"
        start = draft.get("starts_at")
        if step == "signup_until" and start and found > datetime.fromisoformat(start):
            return {}, "cutoff_after_start"
        return {step: found.isoformat()}, None
    if step == "ends_at":
        start = datetime.fromisoformat(draft["starts_at"])
        end = rules.parse_end(text, start, tz, now)
        if end is None:
            return {}, "not_understood"
        problem = rules.time_problem(now, start, end, None)
        return ({"ends_at": end.isoformat()}, None) if problem is None else ({}, problem)
    return {}, "text"  # a step answered with buttons


@router.message(NewOpportunity.typing, F.text)
async def new_typed(
    message: Message, screen: Screen, catalog: Catalog, settings: Settings, clock: Clock
) -> None:
    assert message.text is not None
    draft = await _draft(screen)
    step = draft.get("step", "")
    if step not in STEPS:
        return
    revising = bool(draft.get(REVISING))
    if step == "topic":  # answered with a button: ask again under the typed text
        screen.query = None
        await _ask(screen, step, catalog, settings, revising=revising)
        return
    values, problem = _typed_value(step, message.text, draft["timezone"], clock.now(), draft)
    if problem is not None:
        text = _problem(screen.tr, problem, LIMITS.get(step, 0), **values)
        await _ask(screen, step, catalog, settings, problem=text, revising=revising)
        return
    screen.query = None
    if step == "contact":
        await _contact_consent(screen, draft, values["contact"])
        return
    await _next(screen, draft, catalog, settings, **values)


# --- a contact shown to everyone: its own consent (152-ФЗ art. 10.1) --------------------------

PENDING = "pending_contact"


async def _ask_contact_consent(
    screen: Screen, contact: str, yes: OrganiserCb, rest: list[Any]
) -> None:
    """The contact shown to everyone who opens the card is personal data permitted for
    dissemination when it is a person's: it needs that separate consent, asked here."""
    tr = screen.tr
    rows = [
        [button(tr._("✅ I agree: show it to everyone"), yes)],
        *rest,
    ]
    await screen.show(tr("opportunities/contact_consent.j2", contact=contact), keyboard(rows))


async def _contact_consent(screen: Screen, draft: dict[str, Any], contact: str) -> None:
    assert screen.state is not None
    await screen.state.update_data({DRAFT: {**draft, PENDING: contact}})
    tr = screen.tr
    rest = [
        [button(tr._("✏️ Another contact"), OrganiserCb(action="wconsent", value="again"))],
        [button(tr._("Skip: no contact"), OrganiserCb(action="wcontact", value="skip"))],
    ]
    await _ask_contact_consent(screen, contact, OrganiserCb(action="wconsent", value="yes"), rest)


@router.callback_query(OrganiserCb.filter(F.action == "wconsent"))
async def new_contact_consent(
    query: CallbackQuery,
    callback_data: OrganiserCb,
    screen: Screen,
    catalog: Catalog,
    settings: Settings,
) -> None:
    draft = await _draft(screen)
    contact = draft.pop(PENDING, None)
    if draft.get("step") != "contact" or not isinstance(contact, str):
        raise StaleButton
    if callback_data.value == "yes":
        await _next(screen, draft, catalog, settings, contact=contact)
        return
    assert screen.state is not None
    await screen.state.update_data({DRAFT: draft})
    await _ask(screen, "contact", catalog, settings, revising=bool(draft.get(REVISING)))


@router.callback_query(OrganiserCb.filter(F.action == "wtopic"))
async def new_topic(
    query: CallbackQuery,
    callback_data: OrganiserCb,
    screen: Screen,
    catalog: Catalog,
    settings: Settings,
) -> None:
    draft = await _draft(screen)
    if draft.get("step") != "topic":
        raise StaleButton
    await _next(screen, draft, catalog, settings, topic=catalog.topic(callback_data.value).code)


@router.callback_query(OrganiserCb.filter(F.action == "wcap"))
async def new_no_limit(
    query: CallbackQuery, screen: Screen, catalog: Catalog, settings: Settings
) -> None:
    draft = await _draft(screen)
    if draft.get("step") != "capacity":
        raise StaleButton
    await _next(screen, draft, catalog, settings, capacity=None)


def _cutoff(code: str, starts_at: datetime) -> datetime | None:
    if code not in CUTOFFS:
        raise StaleButton
    before = CUTOFFS[code]
    return None if before is None else starts_at - before


@router.callback_query(OrganiserCb.filter(F.action == "wcut"))
async def new_cutoff(
    query: CallbackQuery,
    callback_data: OrganiserCb,
    screen: Screen,
    catalog: Catalog,
    settings: Settings,
) -> None:
    draft = await _draft(screen)
    if draft.get("step") != "signup_until":
        raise StaleButton
    until = _cutoff(callback_data.value, datetime.fromisoformat(draft["starts_at"]))
    await _next(
        screen, draft, catalog, settings, signup_until=until.isoformat() if until else None
    )


@router.callback_query(OrganiserCb.filter(F.action == "wcontact"))
async def new_contact(
    query: CallbackQuery,
    callback_data: OrganiserCb,
    screen: Screen,
    catalog: Catalog,
    settings: Settings,
) -> None:
    draft = await _draft(screen)
    if draft.get("step") != "contact":
        raise StaleButton
    draft.pop(PENDING, None)
    username = screen.user.username if screen.user else None
    if callback_data.value == "me" and username:
        await _contact_consent(screen, draft, f"@{username}")
        return
    await _next(screen, draft, catalog, settings, contact=None)


@router.callback_query(OrganiserCb.filter(F.action == "publish"))
async def publish(
    query: CallbackQuery,
    screen: Screen,
    volunteering: VolunteerService,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    assert screen.state is not None
    draft = await _draft(screen)
    if draft.get("step") != "preview":
        raise StaleButton
    opportunity_id = await volunteering.create(screen.user_id, _from_draft(draft))
    await screen.state.set_state(None)
    await screen.state.update_data({DRAFT: None})
    callback_answer.text = screen.tr._("✅ Published. Share the link from the card.")
    await show_card(screen, volunteering, bot, opportunity_id)


# --- editing --------------------------------------------------------------------------------

FIELDS = (
    "title",
    "description",
    "topic",
    "place",
    "link",
    "starts_at",
    "ends_at",
    "capacity",
    "signup_until",
    "contact",
)


@router.callback_query(OrganiserCb.filter(F.action == "edit"))
async def edit_menu(
    query: CallbackQuery,
    callback_data: OrganiserCb,
    screen: Screen,
    volunteering: VolunteerService,
) -> None:
    if screen.state is not None:
        await screen.state.set_state(None)
    listing = await volunteering.listing(callback_data.id)
    if listing is None or listing.opportunity.status == "cancelled":
        raise StaleButton
    tr = screen.tr
    names = _field_names(tr)
    fields = [
        button(names[f], OrganiserCb(action="field", id=callback_data.id, value=f)) for f in FIELDS
    ]
    rows = [
        *grid(fields, 2),
        [button(tr._("« Back"), OrganiserCb(action="card", id=callback_data.id))],
    ]
    await screen.show(tr("opportunities/edit.j2", opp=listing.opportunity), keyboard(rows))


async def _ask_field(
    screen: Screen, opp: Opportunity, field: str, catalog: Catalog, problem: str = ""
) -> None:
    """Ask for a new value of `field`; all but the topic (buttons only) may be typed."""
    if field != "topic" and screen.state is not None:
        await screen.state.set_state(EditOpportunity.typing)
        await screen.state.update_data(oa_id=opp.id, oa_field=field)
    text = screen.tr(
        "opportunities/ask.j2",
        new=False,
        step=field,
        number=0,
        limit=LIMITS.get(field, 0),
        tz=opp.timezone,
    )
    if problem:
        text = f"{problem}\n\n{text}"
        screen.query = None
    back = OrganiserCb(action="card", id=opp.id)
    await screen.show(text, _step_keyboard(screen, field, catalog, back))


@router.callback_query(OrganiserCb.filter(F.action == "field"))
async def edit_field(
    query: CallbackQuery,
    callback_data: OrganiserCb,
    screen: Screen,
    volunteering: VolunteerService,
    catalog: Catalog,
) -> None:
    field = callback_data.value
    listing = await volunteering.listing(callback_data.id)
    if field not in FIELDS or listing is None:
        raise StaleButton
    await _ask_field(screen, listing.opportunity, field, catalog)


async def _save(
    screen: Screen,
    volunteering: VolunteerService,
    bot: Bot,
    sender: Sender,
    opp: Opportunity,
    catalog: Catalog,
    field: str,
    **changes: Any,
) -> None:
    try:
        told = await volunteering.edit(opp.id, screen.user_id, **changes)
    except OpportunityProblem as error:
        text = _problem(screen.tr, error.context["problem"])
        await _ask_field(screen, opp, field, catalog, problem=text)
        return
    if told:
        sender.wake()
    if screen.state is not None:
        await screen.state.set_state(None)
    await show_card(screen, volunteering, bot, opp.id)


@router.message(EditOpportunity.typing, F.text)
async def edit_typed(
    message: Message,
    screen: Screen,
    volunteering: VolunteerService,
    catalog: Catalog,
    bot: Bot,
    sender: Sender,
    clock: Clock,
) -> None:
    assert screen.state is not None
    assert message.text is not None
    data = await screen.state.get_data()
    listing = await volunteering.listing(int(data.get("oa_id", 0)))
    field = str(data.get("oa_field", ""))
    screen.query = None
    if listing is None or field not in FIELDS:
        await screen.state.set_state(None)
        raise StaleButton
    opp = listing.opportunity
    now = clock.now()
    draft = {"starts_at": opp.starts_at.isoformat()}
    values, problem = _typed_value(field, message.text, opp.timezone, now, draft)
    if problem is None and field == "ends_at":
        values = {"ends_at": datetime.fromisoformat(values["ends_at"])}
    elif problem is None and field in ("starts_at", "signup_until"):
        new = datetime.fromisoformat(values[field])
        values = {field: new}
        if field == "starts_at":  # the duration and the cut-off's distance stay
            values["ends_at"] = new + (opp.ends_at - opp.starts_at)
            if opp.signup_until is not None:
                values["signup_until"] = new - (opp.starts_at - opp.signup_until)
    if problem is not None:
        text = _problem(screen.tr, problem, LIMITS.get(field, 0), **values)
        await _ask_field(screen, opp, field, catalog, problem=text)
        return
    if field == "contact":
        await screen.state.update_data({PENDING: values["contact"]})
        rest = [
            [
                button(
                    screen.tr._("✏️ Another contact"),
                    OrganiserCb(action="field", id=opp.id, value="contact"),
                )
            ],
            [button(screen.tr._("« Back"), OrganiserCb(action="card", id=opp.id))],
        ]
        yes = OrganiserCb(action="econsent", id=opp.id)
        await _ask_contact_consent(screen, values["contact"], yes, rest)
        return
    await _save(screen, volunteering, bot, sender, opp, catalog, field, **values)


async def _consented_contact(screen: Screen, opportunity_id: int) -> str:
    """The contact typed for `opportunity_id` and now consented to (StaleButton: none)."""
    assert screen.state is not None
    data = await screen.state.get_data()
    contact = data.get(PENDING)
    if not isinstance(contact, str) or data.get("oa_id") != opportunity_id:
        raise StaleButton
    await screen.state.update_data({PENDING: None})
    return contact


@router.callback_query(OrganiserCb.filter(F.action.in_({"etopic", "ecap", "ecut", "econsent"})))
async def edit_pressed(
    query: CallbackQuery,
    callback_data: OrganiserCb,
    screen: Screen,
    volunteering: VolunteerService,
    catalog: Catalog,
    bot: Bot,
    sender: Sender,
) -> None:
    listing = await volunteering.listing(callback_data.id)
    if listing is None:
        raise StaleButton
    opp = listing.opportunity
    values: dict[str, Any]
    if callback_data.action == "etopic":
        field, values = "topic", {"topic": catalog.topic(callback_data.value).code}
    elif callback_data.action == "ecap":
        field, values = "capacity", {"capacity": None}
    elif callback_data.action == "econsent":
        field, values = "contact", {"contact": await _consented_contact(screen, opp.id)}
    else:
        field, values = (
            "signup_until",
            {"signup_until": _cutoff(callback_data.value, opp.starts_at)},
        )
    await _save(screen, volunteering, bot, sender, opp, catalog, field, **values)


# --- close, reopen, cancel ------------------------------------------------------------------


@router.callback_query(OrganiserCb.filter(F.action.in_({"close", "open"})))
async def close_or_open(
    query: CallbackQuery,
    callback_data: OrganiserCb,
    screen: Screen,
    volunteering: VolunteerService,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    opened = callback_data.action == "open"
    await volunteering.set_open(callback_data.id, screen.user_id, opened)
    callback_answer.text = (
        screen.tr._("The sign-up is open again.")
        if opened
        else screen.tr._("The sign-up is closed; the opportunity stays on.")
    )
    await show_card(screen, volunteering, bot, callback_data.id)


@router.callback_query(OrganiserCb.filter(F.action == "cancel"))
async def cancel_ask(
    query: CallbackQuery,
    callback_data: OrganiserCb,
    screen: Screen,
    volunteering: VolunteerService,
) -> None:
    listing = await volunteering.listing(callback_data.id)
    if listing is None or listing.opportunity.status == "cancelled":
        raise StaleButton
    tr = screen.tr
    markup = keyboard(
        [
            [
                button(
                    tr._("❌ Yes, cancel it"), OrganiserCb(action="cancel_ok", id=callback_data.id)
                )
            ],
            [button(tr._("« No, keep it"), OrganiserCb(action="card", id=callback_data.id))],
        ]
    )
    active = listing.confirmed + listing.waiting
    await screen.show(
        tr("opportunities/cancel_ask.j2", opp=listing.opportunity, active=active), markup
    )


@router.callback_query(OrganiserCb.filter(F.action == "cancel_ok"))
async def cancel_confirmed(
    query: CallbackQuery,
    callback_data: OrganiserCb,
    screen: Screen,
    volunteering: VolunteerService,
    bot: Bot,
    sender: Sender,
    callback_answer: CallbackAnswer,
) -> None:
    told = await volunteering.cancel_opportunity(callback_data.id, screen.user_id)
    if told:
        sender.wake()
    callback_answer.text = (
        screen.tr._("It was cancelled already.")
        if told is None
        else screen.tr.n_(
            "Cancelled. {n} participant gets a message.",
            "Cancelled. {n} participants get a message.",
            told,
        ).format(n=told)
    )
    await show_card(screen, volunteering, bot, callback_data.id)


# --- participants ---------------------------------------------------------------------------


async def show_people(
    screen: Screen, volunteering: VolunteerService, opportunity_id: int, now: datetime
) -> None:
    listing = await volunteering.listing(opportunity_id)
    if listing is None:
        raise StaleButton
    opp = listing.opportunity
    people = await volunteering.roster(opportunity_id)
    confirmed = [p for p in people if p.status == "confirmed"]
    waiting = [p for p in people if p.status == "waiting"]
    declined = [p for p in people if p.status not in ("confirmed", "waiting")]
    answers = {p.user_id: turnout.confirm_state(p.confirm, opp.starts_at, now) for p in people}
    started = now >= opp.starts_at
    tr = screen.tr
    rows: list[list[InlineKeyboardButton]] = []
    if started:
        marks = {True: "✅", False: "❌", None: "⬜"}
        rows += [
            [
                button(
                    f"{marks[p.attended]} {i}. {p.name[:40]}",
                    OrganiserCb(action="att", id=opportunity_id, value=str(p.user_id)),
                )
            ]
            for i, p in enumerate(confirmed[:40], start=1)
        ]
    if started and any(p.attended for p in confirmed):
        rows.append([button(tr._("⏱ Hours"), OrganiserCb(action="hours", id=opportunity_id))])
    rows.append(
        [
            button(tr._("📄 CSV"), OrganiserCb(action="csv", id=opportunity_id)),
            button(tr._("✉️ Message"), OrganiserCb(action="msg", id=opportunity_id)),
        ]
    )
    rows.append([button(tr._("« Back"), OrganiserCb(action="card", id=opportunity_id))])
    text = tr(
        "opportunities/people.j2",
        opp=opp,
        confirmed=confirmed,
        waiting=waiting,
        declined=declined,
        answers=answers,
        tally={k: sum(1 for p in confirmed if answers[p.user_id] == k) for k in turnout.STATES},
        started=started,
        ended=now >= opp.ends_at,
        ratings=[p.rating for p in confirmed if p.rating is not None],
        comments=[(p.name, p.rating, p.comment) for p in confirmed if p.comment],
    )
    await screen.show(text, keyboard(rows))


@router.callback_query(OrganiserCb.filter(F.action == "people"))
async def people(
    query: CallbackQuery,
    callback_data: OrganiserCb,
    screen: Screen,
    volunteering: VolunteerService,
    clock: Clock,
) -> None:
    await show_people(screen, volunteering, callback_data.id, clock.now())


@router.callback_query(OrganiserCb.filter(F.action == "att"))
async def attendance(
    query: CallbackQuery,
    callback_data: OrganiserCb,
    screen: Screen,
    volunteering: VolunteerService,
    clock: Clock,
    sender: Sender,
) -> None:
    if not callback_data.value.isdigit():
        raise StaleButton
    await volunteering.mark(callback_data.id, int(callback_data.value))
    sender.wake()  # marked as come after the end: the thanks with the rating go
    await show_people(screen, volunteering, callback_data.id, clock.now())


async def show_shifts(screen: Screen, volunteering: VolunteerService, opportunity_id: int) -> None:
    """The opportunity's shifts and roles, each a button to its own card, and what to add."""
    items = await volunteering.series(opportunity_id)
    if not items:
        raise StaleButton
    tr = screen.tr
    rows = [
        [
            button(
                _slot(x.opportunity, x.confirmed, x.waiting),
                OrganiserCb(action="card", id=x.opportunity.id),
            )
        ]
        for x in items[:40]
    ]
    add = OrganiserCb
    rows.append(
        [
            button(tr._("➕ Shift"), add(action="addsh", id=opportunity_id, value="shift")),
            button(
                tr._("➕ Role in this shift"), add(action="addsh", id=opportunity_id, value="role")
            ),
        ]
    )
    rows.append(
        [button(tr._("🔁 Every week"), add(action="addsh", id=opportunity_id, value="weekly"))]
    )
    rows.append([button(tr._("« Back"), OrganiserCb(action="card", id=opportunity_id))])
    await screen.show(tr("opportunities/shifts.j2", items=items), keyboard(rows))


def _slot(opp: Opportunity, confirmed: int, waiting: int) -> str:
    """A shift or role on a button: its local day and times, role, places."""
    zone = ZoneInfo(opp.timezone)
    start, end = opp.starts_at.astimezone(zone), opp.ends_at.astimezone(zone)
    places = f"{confirmed}/{opp.capacity}" if opp.capacity is not None else str(confirmed)
    role = f" · {opp.role[:24]}" if opp.role else ""
    queue = f" +{waiting}" if waiting else ""
    return f"{start:%d.%m %H:%M}–{end:%H:%M}{role} · {places}{queue}"


@router.callback_query(OrganiserCb.filter(F.action == "shifts"))
async def shifts_screen(
    query: CallbackQuery,
    callback_data: OrganiserCb,
    screen: Screen,
    volunteering: VolunteerService,
) -> None:
    await show_shifts(screen, volunteering, callback_data.id)


@router.callback_query(OrganiserCb.filter(F.action == "addsh"))
async def shifts_ask(
    query: CallbackQuery,
    callback_data: OrganiserCb,
    screen: Screen,
    volunteering: VolunteerService,
) -> None:
    assert screen.state is not None
    if callback_data.value not in ("shift", "role", "weekly"):
        raise StaleButton
    listing = await volunteering.listing(callback_data.id)
    if listing is None:
        raise StaleButton
    await screen.state.set_state(AddShifts.typing)
    await screen.state.update_data(oa_id=callback_data.id, oa_what=callback_data.value)
    markup = keyboard(
        [[button(screen.tr._("« Back"), OrganiserCb(action="shifts", id=callback_data.id))]]
    )
    text = screen.tr(
        "opportunities/shifts_ask.j2", what=callback_data.value, opp=listing.opportunity
    )
    await screen.show(text, markup)


@router.message(AddShifts.typing, F.text)
async def shifts_typed(message: Message, screen: Screen, volunteering: VolunteerService) -> None:
    assert screen.state is not None
    assert message.text is not None
    data = await screen.state.get_data()
    opportunity_id, what = int(data.get("oa_id", 0)), str(data.get("oa_what", ""))
    try:
        added = await volunteering.add_shifts(
            opportunity_id, screen.user_id, text=message.text, what=what
        )
    except ShiftProblem as problem:
        await screen.send(screen.tr("opportunities/shifts_problem.j2", code=problem.code))
        return
    await screen.state.set_state(None)
    await screen.send(screen.tr("opportunities/shifts_added.j2", count=len(added)))
    await show_shifts(screen, volunteering, opportunity_id)


@router.message(AddShifts.typing)
async def shifts_not_text(message: Message, screen: Screen) -> None:
    await screen.send(screen.tr("opportunities/shifts_problem.j2", code="format"))


async def show_hours(screen: Screen, volunteering: VolunteerService, opportunity_id: int) -> None:
    """Those marked as having come, each with the hours counted; a tap corrects them."""
    listing = await volunteering.listing(opportunity_id)
    if listing is None:
        raise StaleButton
    opp = listing.opportunity
    came = [p for p in await volunteering.roster(opportunity_id) if p.attended]
    default = turnout.event_minutes(opp.starts_at, opp.ends_at)
    tr = screen.tr
    rows = [
        [
            button(
                f"⏱ {turnout.hours_text(p.minutes or default, tr.locale)} · {p.name[:40]}",
                OrganiserCb(action="hrs", id=opportunity_id, value=str(p.user_id)),
            )
        ]
        for p in came[:40]
    ]
    rows.append([button(tr._("« Back"), OrganiserCb(action="people", id=opportunity_id))])
    text = tr("opportunities/hours.j2", opp=opp, came=came, default=default)
    await screen.show(text, keyboard(rows))


@router.callback_query(OrganiserCb.filter(F.action == "hours"))
async def hours(
    query: CallbackQuery,
    callback_data: OrganiserCb,
    screen: Screen,
    volunteering: VolunteerService,
) -> None:
    await show_hours(screen, volunteering, callback_data.id)


@router.callback_query(OrganiserCb.filter(F.action == "hrs"))
async def hours_ask(
    query: CallbackQuery,
    callback_data: OrganiserCb,
    screen: Screen,
    volunteering: VolunteerService,
) -> None:
    assert screen.state is not None
    if not callback_data.value.isdigit():
        raise StaleButton
    who = int(callback_data.value)
    person = next(
        (p for p in await volunteering.roster(callback_data.id) if p.user_id == who), None
    )
    if person is None or not person.attended:
        raise StaleButton
    await screen.state.set_state(EditHours.typing)
    await screen.state.update_data(oa_id=callback_data.id, oa_uid=who)
    markup = keyboard(
        [[button(screen.tr._("« Back"), OrganiserCb(action="hours", id=callback_data.id))]]
    )
    await screen.show(screen.tr("opportunities/hours_ask.j2", name=person.name), markup)


@router.message(EditHours.typing, F.text)
async def hours_typed(message: Message, screen: Screen, volunteering: VolunteerService) -> None:
    assert screen.state is not None
    assert message.text is not None
    data = await screen.state.get_data()
    opportunity_id, who = int(data.get("oa_id", 0)), int(data.get("oa_uid", 0))
    try:
        await volunteering.set_hours(opportunity_id, who, screen.user_id, message.text)
    except turnout.HoursProblem as problem:
        await screen.send(
            screen.tr("opportunities/hours_problem.j2", code=problem.code, limit=problem.limit)
        )
        return
    await screen.state.set_state(None)
    await show_hours(screen, volunteering, opportunity_id)


@router.message(EditHours.typing)
async def hours_not_text(message: Message, screen: Screen) -> None:
    await screen.send(screen.tr("opportunities/hours_problem.j2", code="text", limit=0))


@router.callback_query(OrganiserCb.filter(F.action == "csv"))
async def export_csv(
    query: CallbackQuery,
    callback_data: OrganiserCb,
    screen: Screen,
    volunteering: VolunteerService,
) -> None:
    data = await volunteering.csv(callback_data.id, screen.tr.locale)
    await screen.document(
        data,
        f"participants-{callback_data.id}.csv",
        screen.tr._("📄 Confirmed participants (UTF-8, opens in Excel and LibreOffice)."),
    )


@router.callback_query(OrganiserCb.filter(F.action == "msg"))
async def message_ask(
    query: CallbackQuery,
    callback_data: OrganiserCb,
    screen: Screen,
    volunteering: VolunteerService,
) -> None:
    assert screen.state is not None
    listing = await volunteering.listing(callback_data.id)
    if listing is None:
        raise StaleButton
    await screen.state.set_state(MessageParticipants.typing)
    await screen.state.update_data(oa_id=callback_data.id)
    markup = keyboard(
        [[button(screen.tr._("« Back"), OrganiserCb(action="card", id=callback_data.id))]]
    )
    text = screen.tr("opportunities/msg_ask.j2", opp=listing.opportunity, count=listing.confirmed)
    await screen.show(text, markup)


@router.message(MessageParticipants.typing, F.text)
async def message_typed(
    message: Message,
    screen: Screen,
    volunteering: VolunteerService,
    bot: Bot,
    sender: Sender,
) -> None:
    assert screen.state is not None
    assert message.text is not None
    opportunity_id = int((await screen.state.get_data()).get("oa_id", 0))
    text = message.text.strip()[: rules.DESCRIPTION_LIMIT]
    if blank(text):  # nothing anyone would see
        await not_text(message, screen)
        return
    added = await volunteering.message(
        opportunity_id, screen.user_id, text, str(message.message_id)
    )
    await screen.state.set_state(None)
    if added:
        sender.wake()
    await screen.send(screen.tr("opportunities/msg_sent.j2", count=added))
    await show_card(screen, volunteering, bot, opportunity_id)


# Any other message while a step waits for text: say what is expected.
@router.message(StateFilter(NewOpportunity.typing, EditOpportunity.typing))
@router.message(MessageParticipants.typing)
async def not_text(message: Message, screen: Screen) -> None:
    await screen.send(_problem(screen.tr, "text", rules.DESCRIPTION_LIMIT))
