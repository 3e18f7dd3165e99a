"""/broadcast (and 📣 in the coordinators' menu): an announcement to a segment of users.

Screens, in order:
  compose   — "send me the message": text, or one photo / document with a caption, formatted
              as the coordinator likes (entities kept as sent); the author's scheduled and
              running broadcasts are listed under it
  segment   — who gets it, with the live recipient count; one button per kind of filter
  kind      — toggles for roles / stages / topics (the count updates with every tap)
  zones     — the 11 zone groups; a group opens its regions (paged), with "the whole zone"
  participants — the volunteering opportunities (paged), to send to their participants
  control   — under the preview (the real message, as recipients will see it): send now,
              schedule, change recipients, discard
  schedule  — "in 1 hour", "tomorrow 10:00", "Monday 10:00", or a typed DD.MM HH:MM
  scheduled — when it goes, with "cancel the schedule"
  progress  — the control message, edited live by the service: sent / failed / blocked, rate,
              time left, ⛔ Cancel; at the end the report

Callbacks are stateless (`BroadcastCb`: action, broadcast id, value, page), so buttons survive
restarts; only two typed inputs use FSM states (the message, a typed time). The parent router lets
only coordinators and admins in; a coordinator may act on their own broadcasts, an admin on any.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
)
from aiogram.utils.callback_answer import CallbackAnswer

from bot.config import Settings
from bot.content import Catalog
from bot.domain.errors import StaleButton
from bot.domain.paging import Page, paged
from bot.domain.segments import PRESETS, ROLES, STAGES, Segment, WhenError, parse_when, preset_time
from bot.domain.zones import offset_label
from bot.infra.clock import Clock
from bot.services.broadcasts import (
    CANCELLED,
    DRAFT,
    SCHEDULED,
    Broadcast,
    BroadcastService,
    Content,
    NotDraft,
    OpportunityChoice,
)
from bot.services.coordination import CoordinationService
from bot.ui.broadcast import KEEP, BroadcastCb, after_markup, progress_view
from bot.ui.keyboards import button, grid, keyboard, page_row
from bot.ui.render import Tr
from bot.ui.screen import Screen
from handlers.coordinator import CoordinatorCb, show_menu

router = Router(name=__name__)
REGIONS_PAGE = 10
OPPORTUNITIES_PAGE = 8
TITLE_LIMIT = 40
ON, OFF = "✅ ", "▫️ "


class Composing(StatesGroup):
    message = State()  # waiting for the message itself
    when = State()  # waiting for a typed time; data: {"id": broadcast id}


# ------------------------------------------------------------------ helpers


def _page_row(tr: Tr, at: Page, to: Callable[[int], CallbackData]) -> list[InlineKeyboardButton]:
    return page_row(at, to, tr._("◀ Previous"), tr._("Next ▶"))


def _draft(broadcast: Broadcast) -> Broadcast:
    if broadcast.status != DRAFT:
        raise NotDraft
    return broadcast


def _role_name(tr: Tr, role: str) -> str:
    names = {
        "activist": tr._("Activists"),
        "volunteer": tr._("Volunteers"),
        "coordinator": tr._("Coordinators"),
    }
    return names[role]


def _stage_name(tr: Tr, catalog: Catalog, number: int) -> str:
    return f"{number} · {tr.loc(catalog.stage_by_number(number).name)}"


def _place_name(tr: Tr, catalog: Catalog, code: str) -> str:
    if code.startswith("utc") and code[3:].isdigit():
        return catalog.zone(code).label(tr.locale)
    return catalog.region(code).name(tr.locale)


def _opportunity_name(choice: OpportunityChoice | None, code: str) -> str:
    """`28.11 Clean the park` (the date in the organiser's zone)."""
    if choice is None:
        return f"#{code}"
    when = ""
    if choice.starts_at is not None:
        starts = choice.starts_at
        if choice.timezone:
            with contextlib.suppress(ValueError, KeyError):
                starts = starts.astimezone(ZoneInfo(choice.timezone))
        when = f"{starts:%d.%m} "
    title = choice.title if len(choice.title) <= TITLE_LIMIT else choice.title[:TITLE_LIMIT] + "…"
    return f"{when}{title}"


def who(
    tr: Tr,
    catalog: Catalog,
    segment: Segment,
    titles: Mapping[int, OpportunityChoice] | None = None,
) -> list[tuple[str, list[str]]]:
    """The segment for a screen: (kind, names of the chosen values)."""
    titles = titles or {}
    parts: list[tuple[str, list[str]]] = []
    for kind, codes in segment.describe():
        if kind == "roles":
            names = [_role_name(tr, c) for c in codes]
        elif kind == "stages":
            names = [_stage_name(tr, catalog, int(c)) for c in codes]
        elif kind == "topics":
            names = [tr.loc(catalog.topic(c).short) for c in codes]
        elif kind == "place":
            names = [_place_name(tr, catalog, c) for c in codes]
        else:
            names = [_opportunity_name(titles.get(int(c)), c) for c in codes]
        parts.append((kind, names))
    return parts


async def _parts(
    tr: Tr, catalog: Catalog, broadcasts: BroadcastService, segment: Segment
) -> list[tuple[str, list[str]]]:
    titles = (
        await broadcasts.opportunity_titles(segment.opportunity_ids)
        if segment.opportunity_ids
        else {}
    )
    return who(tr, catalog, segment, titles)


def _content_of(message: Message) -> Content | None:
    """The broadcast in a coordinator's message, as sent; None for what cannot be one."""

    def dump(entities: Sequence[MessageEntity] | None) -> tuple[dict[str, object], ...]:
        # Kept as sent, but for custom emoji: bots may send those only with a Fragment
        # username, and Telegram would refuse every message; the emoji itself stays.
        return tuple(
            e.model_dump(mode="json", exclude_none=True)
            for e in entities or ()
            if e.type != "custom_emoji"
        )

    if message.media_group_id is not None:
        return None  # an album: one file only
    if message.photo:
        return Content(
            text=message.caption or "",
            entities=dump(message.caption_entities),
            photo=message.photo[-1].file_id,
        )
    if message.document is not None:
        return Content(
            text=message.caption or "",
            entities=dump(message.caption_entities),
            document=message.document.file_id,
            filename=message.document.file_name,
        )
    if message.text and not message.text.startswith("/"):
        return Content(text=message.text, entities=dump(message.entities))
    return None


def _content_info(content: Content) -> dict[str, object]:
    kind = "photo" if content.photo else "document" if content.document else "text"
    return {"kind": kind, "length": len(content.text), "filename": content.filename or ""}


async def _broadcast(
    callback_data: BroadcastCb, screen: Screen, broadcasts: BroadcastService
) -> Broadcast:
    return await broadcasts.owned(callback_data.id, screen.user_id, screen.roles)


def _kind_button(
    segment: Segment, kind: str, label: str, target: BroadcastCb
) -> InlineKeyboardButton:
    chosen = len(segment.values(kind))
    return button(f"{label} · {chosen}" if chosen else label, target)


# ------------------------------------------------------------------ compose


@router.message(Command("broadcast"))
@router.callback_query(CoordinatorCb.filter(F.section == "broadcast"))
@router.callback_query(BroadcastCb.filter(F.action == "new"))
async def compose(
    event: Message | CallbackQuery,
    screen: Screen,
    broadcasts: BroadcastService,
    settings: Settings,
    callback_data: CallbackData | None = None,
) -> None:
    tr = screen.tr
    if isinstance(callback_data, BroadcastCb) and callback_data.value == KEEP:
        screen.query = None  # leave the report where it is
    assert screen.state is not None
    await screen.state.set_state(Composing.message)
    tz = screen.zone(settings.default_timezone)
    rows = []
    for b in await broadcasts.mine(screen.user_id):
        if b.status == SCHEDULED and b.scheduled_at is not None:
            when = b.scheduled_at.astimezone(ZoneInfo(tz)).strftime("%d.%m %H:%M")
            label = tr._("🕐 #{id} at {when}").format(id=b.id, when=when)
        else:
            label = tr._("📤 #{id} is going out").format(id=b.id)
        rows.append([button(label, BroadcastCb(action="show", id=b.id))])
    rows.append([button(tr._("« Coordinators' menu"), BroadcastCb(action="menu"))])
    await screen.show(tr("broadcast/compose.j2"), keyboard(rows))


@router.callback_query(BroadcastCb.filter(F.action == "menu"))
async def to_menu(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    screen: Screen,
    coordination: CoordinationService,
    catalog: Catalog,
) -> None:
    if screen.state is not None:
        await screen.state.set_state(None)
    if callback_data.value == KEEP:
        screen.query = None  # leave the report where it is
    await show_menu(screen, coordination, catalog)


@router.message(Composing.message)
async def composed(
    message: Message, screen: Screen, broadcasts: BroadcastService, catalog: Catalog
) -> None:
    tr = screen.tr
    content = _content_of(message)
    if content is None:
        cancel = keyboard([[button(tr._("« Coordinators' menu"), BroadcastCb(action="menu"))]])
        await screen.send(tr("broadcast/compose_hint.j2"), cancel)
        return
    created = await broadcasts.create(screen.user_id, content, tr.locale)  # TooLong: state stays
    assert screen.state is not None
    await screen.state.set_state(None)
    await show_segment(screen, broadcasts, catalog, created)


# ------------------------------------------------------------------ recipients


async def show_segment(
    screen: Screen, broadcasts: BroadcastService, catalog: Catalog, b: Broadcast
) -> None:
    tr = screen.tr
    segment = b.segment
    count = await broadcasts.count(segment)
    rows = [
        [
            _kind_button(
                segment,
                "roles",
                tr._("👥 Role"),
                BroadcastCb(action="kind", id=b.id, value="roles"),
            ),
            _kind_button(
                segment,
                "stages",
                tr._("🧭 Stage"),
                BroadcastCb(action="kind", id=b.id, value="stages"),
            ),
        ],
        [
            _kind_button(
                segment,
                "topics",
                tr._("🏷 Topic"),
                BroadcastCb(action="kind", id=b.id, value="topics"),
            ),
            _kind_button(segment, "place", tr._("🌍 Place"), BroadcastCb(action="zones", id=b.id)),
        ],
        [
            _kind_button(
                segment,
                "opportunities",
                tr._("🙋 Participants of an opportunity"),
                BroadcastCb(action="opps", id=b.id),
            )
        ],
        [button(tr._("🧹 Everyone (clear filters)"), BroadcastCb(action="clr", id=b.id))]
        if not segment.is_empty
        else [],
        [button(tr._("👁 Preview"), BroadcastCb(action="prev", id=b.id))],
        [button(tr._("🗑 Discard"), BroadcastCb(action="drop", id=b.id))],
    ]
    text = tr(
        "broadcast/segment.j2",
        id=b.id,
        parts=await _parts(tr, catalog, broadcasts, segment),
        count=count,
        content=_content_info(b.content),
    )
    await screen.show(text, keyboard(rows))


async def show_kind(
    screen: Screen, broadcasts: BroadcastService, catalog: Catalog, b: Broadcast, kind: str
) -> None:
    tr = screen.tr
    segment = b.segment
    toggles: list[InlineKeyboardButton]
    if kind == "roles":
        toggles = [
            button(
                (ON if r in segment.roles else OFF) + _role_name(tr, r),
                BroadcastCb(action="role", id=b.id, value=r),
            )
            for r in ROLES
        ]
        width = 1
    elif kind == "stages":
        toggles = [
            button(
                (ON if n in segment.stages else OFF) + _stage_name(tr, catalog, n),
                BroadcastCb(action="stage", id=b.id, value=str(n)),
            )
            for n in STAGES
        ]
        width = 2
    elif kind == "topics":
        toggles = [
            button(
                (ON if t.code in segment.topics else OFF) + tr.loc(t.short),
                BroadcastCb(action="topic", id=b.id, value=t.code),
            )
            for t in catalog.topics
        ]
        width = 2
    else:
        raise StaleButton
    rows = grid(toggles, width)
    if segment.values(kind):
        rows.append([button(tr._("🧹 Clear"), BroadcastCb(action="clr", id=b.id, value=kind))])
    rows.append([button(tr._("« Back"), BroadcastCb(action="seg", id=b.id))])
    count = await broadcasts.count(segment)
    text = tr(
        "broadcast/kind.j2",
        kind=kind,
        parts=await _parts(tr, catalog, broadcasts, segment),
        count=count,
    )
    await screen.show(text, keyboard(rows))


async def show_zones(
    screen: Screen, broadcasts: BroadcastService, catalog: Catalog, b: Broadcast
) -> None:
    tr = screen.tr
    segment = b.segment
    buttons = []
    for zone in catalog.zones:
        if zone.code in segment.zones:
            mark = ON
        elif any(r.code in segment.regions for r in catalog.regions_in(zone.code)):
            mark = "☑️ "
        else:
            mark = ""
        buttons.append(
            button(
                mark + zone.label(tr.locale), BroadcastCb(action="zone", id=b.id, value=zone.code)
            )
        )
    rows = grid(buttons, 2)
    if segment.values("place"):
        rows.append([button(tr._("🧹 Clear"), BroadcastCb(action="clr", id=b.id, value="place"))])
    rows.append([button(tr._("« Back"), BroadcastCb(action="seg", id=b.id))])
    count = await broadcasts.count(segment)
    text = tr(
        "broadcast/zones.j2", parts=await _parts(tr, catalog, broadcasts, segment), count=count
    )
    await screen.show(text, keyboard(rows))


async def show_zone(
    screen: Screen,
    broadcasts: BroadcastService,
    catalog: Catalog,
    b: Broadcast,
    zone_code: str,
    page: int,
) -> None:
    tr = screen.tr
    segment = b.segment
    zone = catalog.zone(zone_code)
    regions = catalog.regions_in(zone.code)
    at = paged(len(regions), page, REGIONS_PAGE)
    page = at.number
    shown = regions[at.slice]
    whole = (ON if zone.code in segment.zones else OFF) + tr._("The whole zone {zone}").format(
        zone=zone.label(tr.locale)
    )
    rows: list[list[InlineKeyboardButton]] = [
        [button(whole, BroadcastCb(action="wz", id=b.id, value=zone.code, page=page))]
    ]
    rows += [
        [
            button(
                (ON if r.code in segment.regions else OFF) + r.name(tr.locale),
                BroadcastCb(action="reg", id=b.id, value=r.code, page=page),
            )
        ]
        for r in shown
    ]
    rows.append(
        _page_row(tr, at, lambda n: BroadcastCb(action="zone", id=b.id, value=zone.code, page=n))
    )
    rows.append(
        [
            button(tr._("« Zones"), BroadcastCb(action="zones", id=b.id)),
            button(tr._("✔ Done"), BroadcastCb(action="seg", id=b.id)),
        ]
    )
    count = await broadcasts.count(segment)
    text = tr(
        "broadcast/zone.j2",
        zone=zone.label(tr.locale),
        page=page + 1,
        pages=at.pages,
        parts=await _parts(tr, catalog, broadcasts, segment),
        count=count,
    )
    await screen.show(text, keyboard(rows))


@router.callback_query(BroadcastCb.filter(F.action == "seg"))
async def segment_screen(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    screen: Screen,
    broadcasts: BroadcastService,
    catalog: Catalog,
) -> None:
    if screen.state is not None:
        await screen.state.set_state(None)
    b = _draft(await _broadcast(callback_data, screen, broadcasts))
    await show_segment(screen, broadcasts, catalog, b)


@router.callback_query(BroadcastCb.filter(F.action == "kind"))
async def kind_screen(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    screen: Screen,
    broadcasts: BroadcastService,
    catalog: Catalog,
) -> None:
    b = _draft(await _broadcast(callback_data, screen, broadcasts))
    await show_kind(screen, broadcasts, catalog, b, callback_data.value)


@router.callback_query(BroadcastCb.filter(F.action.in_({"role", "stage", "topic"})))
async def toggle(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    screen: Screen,
    broadcasts: BroadcastService,
    catalog: Catalog,
) -> None:
    b = _draft(await _broadcast(callback_data, screen, broadcasts))
    value = callback_data.value
    try:
        if callback_data.action == "role":
            segment, kind = b.segment.toggle_role(value), "roles"
        elif callback_data.action == "stage":
            segment, kind = b.segment.toggle_stage(int(value)), "stages"
        else:
            segment, kind = b.segment.toggle_topic(catalog.topic(value).code), "topics"
    except ValueError as exc:
        raise StaleButton from exc
    b = await broadcasts.set_segment(b, segment)
    await show_kind(screen, broadcasts, catalog, b, kind)


@router.callback_query(BroadcastCb.filter(F.action == "zones"))
async def zones_screen(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    screen: Screen,
    broadcasts: BroadcastService,
    catalog: Catalog,
) -> None:
    b = _draft(await _broadcast(callback_data, screen, broadcasts))
    await show_zones(screen, broadcasts, catalog, b)


@router.callback_query(BroadcastCb.filter(F.action == "zone"))
async def zone_screen(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    screen: Screen,
    broadcasts: BroadcastService,
    catalog: Catalog,
) -> None:
    b = _draft(await _broadcast(callback_data, screen, broadcasts))
    await show_zone(screen, broadcasts, catalog, b, callback_data.value, callback_data.page)


@router.callback_query(BroadcastCb.filter(F.action.in_({"wz", "reg"})))
async def toggle_place(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    screen: Screen,
    broadcasts: BroadcastService,
    catalog: Catalog,
) -> None:
    b = _draft(await _broadcast(callback_data, screen, broadcasts))
    try:
        if callback_data.action == "wz":
            segment = b.segment.toggle_zone(callback_data.value, broadcasts.geo)
            zone = callback_data.value
        else:
            segment = b.segment.toggle_region(callback_data.value, broadcasts.geo)
            zone = broadcasts.geo.region_zone[callback_data.value]
    except ValueError as exc:
        raise StaleButton from exc
    b = await broadcasts.set_segment(b, segment)
    await show_zone(screen, broadcasts, catalog, b, zone, callback_data.page)


async def show_opportunities(
    screen: Screen, broadcasts: BroadcastService, catalog: Catalog, b: Broadcast, page: int
) -> None:
    tr = screen.tr
    segment = b.segment
    choices, at = await broadcasts.opportunity_page(page, OPPORTUNITIES_PAGE)
    page = at.number
    rows = [
        [
            button(
                (ON if c.id in segment.opportunity_ids else OFF) + _opportunity_name(c, str(c.id)),
                BroadcastCb(action="opp", id=b.id, value=str(c.id), page=page),
            )
        ]
        for c in choices
    ]
    rows.append(_page_row(tr, at, lambda n: BroadcastCb(action="opps", id=b.id, page=n)))
    if segment.opportunity_ids:
        rows.append(
            [button(tr._("🧹 Clear"), BroadcastCb(action="clr", id=b.id, value="opportunities"))]
        )
    rows.append([button(tr._("« Back"), BroadcastCb(action="seg", id=b.id))])
    count = await broadcasts.count(segment)
    text = tr(
        "broadcast/opportunities.j2",
        parts=await _parts(tr, catalog, broadcasts, segment),
        count=count,
        empty=not choices,
        page=page + 1,
        pages=at.pages,
    )
    await screen.show(text, keyboard(rows))


@router.callback_query(BroadcastCb.filter(F.action == "opps"))
async def opportunities_screen(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    screen: Screen,
    broadcasts: BroadcastService,
    catalog: Catalog,
) -> None:
    b = _draft(await _broadcast(callback_data, screen, broadcasts))
    await show_opportunities(screen, broadcasts, catalog, b, callback_data.page)


@router.callback_query(BroadcastCb.filter(F.action == "opp"))
async def toggle_opportunity(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    screen: Screen,
    broadcasts: BroadcastService,
    catalog: Catalog,
) -> None:
    b = _draft(await _broadcast(callback_data, screen, broadcasts))
    if not callback_data.value.isdigit():
        raise StaleButton
    opportunity_id = int(callback_data.value)
    chosen = opportunity_id in b.segment.opportunity_ids
    if not chosen and opportunity_id not in await broadcasts.opportunity_titles([opportunity_id]):
        raise StaleButton
    try:
        segment = b.segment.toggle_opportunity(opportunity_id)
    except ValueError as exc:
        raise StaleButton from exc
    b = await broadcasts.set_segment(b, segment)
    await show_opportunities(screen, broadcasts, catalog, b, callback_data.page)


@router.callback_query(BroadcastCb.filter(F.action == "clr"))
async def clear(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    screen: Screen,
    broadcasts: BroadcastService,
    catalog: Catalog,
) -> None:
    b = _draft(await _broadcast(callback_data, screen, broadcasts))
    try:
        segment = b.segment.cleared(callback_data.value or None)
    except ValueError as exc:
        raise StaleButton from exc
    b = await broadcasts.set_segment(b, segment)
    await show_segment(screen, broadcasts, catalog, b)


# ------------------------------------------------------------------ preview and control


async def show_control(
    screen: Screen, broadcasts: BroadcastService, catalog: Catalog, b: Broadcast, *, new: bool
) -> None:
    tr = screen.tr
    count = await broadcasts.count(b.segment)
    rows = [
        [
            button(
                tr.n_(
                    "🚀 Send now to {n} recipient", "🚀 Send now to {n} recipients", count
                ).format(n=count),
                BroadcastCb(action="go", id=b.id),
            )
        ]
        if count
        else [],
        [button(tr._("🕐 Schedule…"), BroadcastCb(action="when", id=b.id))] if count else [],
        [button(tr._("👥 Change recipients"), BroadcastCb(action="seg", id=b.id))],
        [button(tr._("🗑 Discard"), BroadcastCb(action="drop", id=b.id))],
    ]
    text = tr(
        "broadcast/control.j2",
        id=b.id,
        parts=await _parts(tr, catalog, broadcasts, b.segment),
        count=count,
    )
    if new:
        await screen.send(text, keyboard(rows))
    else:
        await screen.show(text, keyboard(rows))


@router.callback_query(BroadcastCb.filter(F.action == "prev"))
async def preview(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    screen: Screen,
    broadcasts: BroadcastService,
    catalog: Catalog,
) -> None:
    b = _draft(await _broadcast(callback_data, screen, broadcasts))
    await broadcasts.preview(b, screen.chat_id, screen.tr.locale)
    await show_control(screen, broadcasts, catalog, b, new=True)


@router.callback_query(BroadcastCb.filter(F.action == "ctl"))
async def control(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    screen: Screen,
    broadcasts: BroadcastService,
    catalog: Catalog,
) -> None:
    if screen.state is not None:
        await screen.state.set_state(None)
    b = _draft(await _broadcast(callback_data, screen, broadcasts))
    await show_control(screen, broadcasts, catalog, b, new=False)


@router.callback_query(BroadcastCb.filter(F.action == "drop"))
async def discard(
    query: CallbackQuery, callback_data: BroadcastCb, screen: Screen, broadcasts: BroadcastService
) -> None:
    b = _draft(await _broadcast(callback_data, screen, broadcasts))
    await broadcasts.discard(b, screen.user_id)
    await screen.show(screen.tr("broadcast/discarded.j2", id=b.id), after_markup(screen.tr))


# ------------------------------------------------------------------ send, schedule, cancel


@router.callback_query(BroadcastCb.filter(F.action == "go"))
async def send_now(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    screen: Screen,
    broadcasts: BroadcastService,
    callback_answer: CallbackAnswer,
) -> None:
    b = _draft(await _broadcast(callback_data, screen, broadcasts))
    message_id = query.message.message_id if isinstance(query.message, Message) else None
    await broadcasts.send_now(b, screen.user_id, screen.chat_id, message_id, screen.tr.locale)
    callback_answer.text = screen.tr._("Sending has started.")


def _schedule_markup(tr: Tr, b: Broadcast, now: datetime, tz: str) -> InlineKeyboardMarkup:
    labels = {
        "1h": tr._("In 1 hour ({time})"),
        "tomorrow": tr._("Tomorrow {time}"),
        "monday": tr._("Monday {date} {time}"),
    }
    zone = ZoneInfo(tz)
    rows = []
    for preset in PRESETS:
        at = preset_time(preset, now, tz).astimezone(zone)
        label = labels[preset].format(time=at.strftime("%H:%M"), date=at.strftime("%d.%m"))
        rows.append([button(label, BroadcastCb(action="at", id=b.id, value=preset))])
    rows.append([button(tr._("« Back"), BroadcastCb(action="ctl", id=b.id))])
    return keyboard(rows)


@router.callback_query(BroadcastCb.filter(F.action == "when"))
async def when_screen(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    screen: Screen,
    broadcasts: BroadcastService,
    settings: Settings,
    clock: Clock,
) -> None:
    b = _draft(await _broadcast(callback_data, screen, broadcasts))
    assert screen.state is not None
    await screen.state.set_state(Composing.when)
    await screen.state.update_data(id=b.id)
    tz, now = screen.zone(settings.default_timezone), clock.now()
    text = screen.tr("broadcast/schedule.j2", id=b.id, offset=offset_label(tz, now), tz=tz)
    await screen.show(text, _schedule_markup(screen.tr, b, now, tz))


async def _scheduled(
    screen: Screen,
    broadcasts: BroadcastService,
    catalog: Catalog,
    settings: Settings,
    b: Broadcast,
    at: datetime,
    message_id: int | None,
) -> None:
    tr = screen.tr
    b = await broadcasts.schedule(b, screen.user_id, at, screen.chat_id, message_id, tr.locale)
    if screen.state is not None:
        await screen.state.set_state(None)
    await show_scheduled(screen, broadcasts, catalog, settings, b)


async def show_scheduled(
    screen: Screen,
    broadcasts: BroadcastService,
    catalog: Catalog,
    settings: Settings,
    b: Broadcast,
) -> None:
    tr = screen.tr
    assert b.scheduled_at is not None
    tz = screen.zone(settings.default_timezone)
    count = await broadcasts.count(b.segment)
    text = tr(
        "broadcast/scheduled.j2",
        id=b.id,
        at=b.scheduled_at,
        tz=tz,
        offset=offset_label(tz, b.scheduled_at),
        parts=await _parts(tr, catalog, broadcasts, b.segment),
        count=count,
    )
    markup = keyboard(
        [
            [button(tr._("✖ Cancel the schedule"), BroadcastCb(action="unsch", id=b.id))],
            [button(tr._("🛠 Coordinators' menu"), BroadcastCb(action="menu"))],
        ]
    )
    await screen.show(text, markup)


@router.callback_query(BroadcastCb.filter(F.action == "at"))
async def at_preset(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    screen: Screen,
    broadcasts: BroadcastService,
    catalog: Catalog,
    settings: Settings,
    clock: Clock,
) -> None:
    b = _draft(await _broadcast(callback_data, screen, broadcasts))
    if callback_data.value not in PRESETS:
        raise StaleButton
    at = preset_time(callback_data.value, clock.now(), screen.zone(settings.default_timezone))
    message_id = query.message.message_id if isinstance(query.message, Message) else None
    await _scheduled(screen, broadcasts, catalog, settings, b, at, message_id)


@router.message(Composing.when)
async def typed_time(
    message: Message,
    screen: Screen,
    broadcasts: BroadcastService,
    catalog: Catalog,
    settings: Settings,
    clock: Clock,
) -> None:
    assert screen.state is not None
    data = await screen.state.get_data()
    try:
        b = _draft(await broadcasts.owned(int(data.get("id", 0)), screen.user_id, screen.roles))
    except (NotDraft, StaleButton):
        await screen.state.set_state(None)  # nothing to schedule: stop waiting for a time
        raise
    tz = screen.zone(settings.default_timezone)
    now = clock.now()
    try:
        at = parse_when(message.text or "", now, tz)
    except WhenError as exc:
        text = screen.tr(
            "broadcast/when_hint.j2",
            reason=exc.reason,
            offset=offset_label(tz, now),
            earliest=exc.earliest,
            latest=exc.latest,
        )
        await screen.send(text, _schedule_markup(screen.tr, b, now, tz))
        return
    await _scheduled(screen, broadcasts, catalog, settings, b, at, None)


@router.callback_query(BroadcastCb.filter(F.action == "unsch"))
async def unschedule(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    screen: Screen,
    broadcasts: BroadcastService,
    catalog: Catalog,
) -> None:
    b = await _broadcast(callback_data, screen, broadcasts)
    b = await broadcasts.unschedule(b, screen.user_id)
    await show_control(screen, broadcasts, catalog, b, new=False)


@router.callback_query(BroadcastCb.filter(F.action == "stop"))
async def cancel(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    screen: Screen,
    broadcasts: BroadcastService,
    callback_answer: CallbackAnswer,
) -> None:
    b = await _broadcast(callback_data, screen, broadcasts)
    after = await broadcasts.cancel(b, screen.user_id)
    tr = screen.tr
    if after.status == CANCELLED and after.started_at is None:  # it had not started
        await screen.show(tr("broadcast/discarded.j2", id=b.id), after_markup(tr))
    elif after.status == CANCELLED:
        callback_answer.text = tr._("Cancelled: messages already on their way still arrive.")
    else:
        callback_answer.text = tr._("It has already finished.")


@router.callback_query(BroadcastCb.filter(F.action == "show"))
async def status_screen(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    screen: Screen,
    broadcasts: BroadcastService,
    catalog: Catalog,
    settings: Settings,
) -> None:
    """A scheduled or running broadcast from the list under the compose screen."""
    if screen.state is not None:
        await screen.state.set_state(None)
    b = await _broadcast(callback_data, screen, broadcasts)
    if b.status == DRAFT:
        await show_segment(screen, broadcasts, catalog, b)
    elif b.status == SCHEDULED:
        await show_scheduled(screen, broadcasts, catalog, settings, b)
    elif b.finished_at is None and isinstance(query.message, Message):
        # the live progress moves to this message
        await broadcasts.move_progress(
            b, screen.chat_id, query.message.message_id, screen.tr.locale
        )
    else:
        progress = await broadcasts.progress(b.id, b.recipients)
        text, markup = progress_view(screen.tr, b, progress)
        await screen.show(text, markup)
