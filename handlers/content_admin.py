"""Coordinators manage content: grants, articles and local support measures.

Lists (paginated) of what coordinators added, each item with Edit and Close; step-by-step forms
(one question per step, Back and Cancel on every step, buttons wherever a choice fits) ending
in a preview exactly as activists will see it, then Save / Edit a field / Cancel; CSV export
and import of grants and articles. The parent router checks the coordinator or admin role.

The FSM remembers the open form (kind, item id, draft, step) under ``ca_*`` keys; every form
button carries the step it belongs to, so a button of an older screen is "out of date", never
a wrong answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message

from bot.config import Settings
from bot.content import Catalog
from bot.domain import csvio
from bot.domain.csvio import GRANT_COLUMNS, Invalid, RowInvalid
from bot.domain.errors import StaleButton
from bot.domain.paging import paged
from bot.infra.clock import Clock
from bot.services.content_admin import (
    CSV_KINDS,
    FORMS,
    KINDS,
    ContentAdminService,
    Item,
    draft_of,
    key_of,
    step_of,
)
from bot.ui.keyboards import RowId, Small, button, grid, keyboard, page_row
from bot.ui.render import safe
from bot.ui.screen import Screen
from handlers.coordinator import CoordinatorCb

router = Router(name=__name__)
PAGE = 6
ERRORS_SHOWN = 40
SECTIONS = {"grants": "grant", "articles": "article", "measures": "measure"}


def _(message: str) -> str:
    """Marks a string for extraction; it is translated where it is shown."""
    return message


LABELS = {
    "title": _("Title"),
    "organiser": _("Organiser"),
    "link": _("Link"),
    "who": _("Who may apply"),
    "amount": _("Amount"),
    "topics": _("Topics"),
    "phases": _("Phases"),
    "phase": _("Phase"),
    "region": _("Region"),
    "windows": _("Application window"),
    "summary": _("Summary"),
    "stages": _("Stages"),
    "description": _("Description"),
    "type": _("Type"),
    "problems": _("Problems"),
    "contact": _("Contact"),
}
ADD = {
    "grant": _("➕ Add a grant"),
    "article": _("➕ Add an article"),
    "measure": _("➕ Add a local measure"),
}


class ContentCb(CallbackData, prefix="ca"):
    """Content lists: action list (at page), item, new, edit, close (ask), closed (done),
    export, import; kind grant, article or measure."""

    action: str
    kind: str
    item_id: RowId = 0
    page: Small = 0


class FormCb(CallbackData, prefix="cf"):
    """The open form: action tog, done, pick, zone, keep, skip, back, cancel, save, fields,
    field or preview; step the form step the button belongs to."""

    action: str
    step: str = ""
    value: str = ""


class Form(StatesGroup):
    step = State()  # answering data["ca_step"]
    preview = State()  # the preview: save, edit a field, cancel
    fields = State()  # choosing a field to edit
    upload = State()  # waiting for a CSV file of data["ca_kind"]


@dataclass
class Session:
    """The open form as kept in the FSM data."""

    kind: str
    item_id: int | None = None
    draft: dict[str, Any] = field(default_factory=dict)
    step: str = ""
    single: bool = False  # editing one field: answered, it goes back to the preview
    zone: str = ""  # the region step: the time zone group picked first
    page: int = 0

    @property
    def key(self) -> str:
        return key_of(self.kind, self.item_id) if self.item_id else ""


def _state(screen: Screen) -> FSMContext:
    assert screen.state is not None
    return screen.state


async def _load(screen: Screen) -> Session:
    data = await _state(screen).get_data()
    if data.get("ca_kind") not in KINDS:
        raise StaleButton
    return Session(
        kind=data["ca_kind"],
        item_id=data.get("ca_id"),
        draft=dict(data.get("ca_draft") or {}),
        step=data.get("ca_step") or "",
        single=bool(data.get("ca_single")),
        zone=data.get("ca_zone") or "",
        page=int(data.get("ca_page") or 0),
    )


async def _keep(screen: Screen, session: Session, state: State) -> None:
    fsm = _state(screen)
    await fsm.set_state(state)
    await fsm.update_data(
        ca_kind=session.kind,
        ca_id=session.item_id,
        ca_draft=session.draft,
        ca_step=session.step,
        ca_single=session.single,
        ca_zone=session.zone,
        ca_page=session.page,
    )


async def _finish(screen: Screen) -> None:
    """Forget the open form (other flows' FSM data stays)."""
    fsm = _state(screen)
    data = await fsm.get_data()
    if await fsm.get_state() in Form.__state_names__:
        await fsm.set_state(None)
    if any(key.startswith("ca_") for key in data):
        await fsm.set_data({k: v for k, v in data.items() if not k.startswith("ca_")})


async def _at(screen: Screen, *states: State) -> Session:
    """The open form, if the user is at one of ``states``; else the button is stale."""
    if await _state(screen).get_state() not in {s.state for s in states}:
        raise StaleButton
    return await _load(screen)


async def _at_step(screen: Screen, name: str) -> Session:
    session = await _at(screen, Form.step)
    if session.step != name:
        raise StaleButton
    return session


def _display(draft: dict[str, Any]) -> dict[str, Any]:
    """The draft as the coordinator reads it: a link with its Cyrillic domain and path."""
    link = draft.get("link")
    return {**draft, "link": csvio.readable_link(link)} if isinstance(link, str) else draft


def _kind(code: str, allowed: frozenset[str] | tuple[str, ...] = KINDS) -> str:
    if code not in allowed:
        raise StaleButton
    return code


# --- lists and items ---


async def show_list(
    screen: Screen, service: ContentAdminService, kind: str, page: int, note: str = ""
) -> None:
    items = await service.items(kind)
    at = paged(len(items), page, PAGE)
    page = at.number
    tr = screen.tr
    rows: list[list[InlineKeyboardButton]] = []
    for item in items[at.slice]:
        assert item.id is not None
        label = f"{key_of(kind, item.id)} · {item.title}"
        rows.append(
            [button(label[:60], ContentCb(action="item", kind=kind, item_id=item.id, page=page))]
        )
    rows.append(page_row(at, lambda n: ContentCb(action="list", kind=kind, page=n)))
    rows.append([button(tr._(ADD[kind]), ContentCb(action="new", kind=kind, page=page))])
    if kind in CSV_KINDS:
        rows.append(
            [
                button(tr._("⬇️ Export CSV"), ContentCb(action="export", kind=kind, page=page)),
                button(tr._("⬆️ Import CSV"), ContentCb(action="import", kind=kind, page=page)),
            ]
        )
    rows.append([button(tr._("« Coordinator menu"), CoordinatorCb(section="menu"))])
    text = tr(
        "content_admin/list.j2",
        kind=kind,
        total=len(items),
        page=page + 1,
        pages=at.pages,
        note=safe(note),
    )
    await screen.show(text, keyboard(rows))


@router.callback_query(CoordinatorCb.filter(F.section.in_(SECTIONS.keys())))
async def section(
    query: CallbackQuery,
    callback_data: CoordinatorCb,
    screen: Screen,
    content_admin: ContentAdminService,
) -> None:
    await _finish(screen)
    await show_list(screen, content_admin, SECTIONS[callback_data.section], 0)


@router.callback_query(ContentCb.filter(F.action == "list"))
async def list_page(
    query: CallbackQuery,
    callback_data: ContentCb,
    screen: Screen,
    content_admin: ContentAdminService,
) -> None:
    await _finish(screen)
    await show_list(screen, content_admin, _kind(callback_data.kind), callback_data.page)


def _preview_text(
    screen: Screen,
    service: ContentAdminService,
    kind: str,
    item: Item,
    timezone: str,
    *,
    mode: str,
    key: str,
) -> str:
    """The item's card as activists will see it, and what decides who sees it."""
    tr = screen.tr
    extra: dict[str, Any] = {}
    if isinstance(item, csvio.GrantItem):
        preview = service.grant_preview(item, timezone)
        card = tr(
            "grants/card.j2", g=preview.view, found=preview.found, tz=timezone, following=False
        )
        extra = {"undated": preview.found.status == "unannounced"}
    elif isinstance(item, csvio.ArticleItem):
        card = tr("articles/card.j2", a=service.article_view(item))
    else:
        card = tr("measures/card.j2", card=service.measure_card(item))
    return tr(
        "content_admin/preview.j2",
        kind=kind,
        mode=mode,
        key=key,
        card=safe(card),
        draft=_display(draft_of(item)),
        labels={name: tr._(label) for name, label in LABELS.items()},
        tz=timezone,
        **({"undated": False} | extra),
    )


@router.callback_query(ContentCb.filter(F.action == "item"))
async def item_screen(
    query: CallbackQuery,
    callback_data: ContentCb,
    screen: Screen,
    content_admin: ContentAdminService,
    settings: Settings,
) -> None:
    kind = _kind(callback_data.kind)
    item = await content_admin.item(kind, callback_data.item_id)
    if item is None:
        raise StaleButton
    await _finish(screen)
    tr = screen.tr
    key = key_of(kind, callback_data.item_id)
    zone = screen.zone(settings.default_timezone)
    text = _preview_text(screen, content_admin, kind, item, zone, mode="item", key=key)
    here = {"kind": kind, "item_id": callback_data.item_id, "page": callback_data.page}
    rows = [
        [
            button(tr._("✏️ Edit"), ContentCb(action="edit", **here)),
            button(tr._("🗑 Close"), ContentCb(action="close", **here)),
        ],
        [
            button(
                tr._("« Back to the list"),
                ContentCb(action="list", kind=kind, page=callback_data.page),
            )
        ],
    ]
    await screen.show(text, keyboard(rows))


@router.callback_query(ContentCb.filter(F.action == "close"))
async def close_ask(
    query: CallbackQuery,
    callback_data: ContentCb,
    screen: Screen,
    content_admin: ContentAdminService,
) -> None:
    kind = _kind(callback_data.kind)
    item = await content_admin.item(kind, callback_data.item_id)
    if item is None:
        raise StaleButton
    tr = screen.tr
    here = {"kind": kind, "item_id": callback_data.item_id, "page": callback_data.page}
    rows = [
        [button(tr._("🗑 Yes, close it"), ContentCb(action="closed", **here))],
        [button(tr._("« No, keep it"), ContentCb(action="item", **here))],
    ]
    key = key_of(kind, callback_data.item_id)
    await screen.show(tr("content_admin/close_ask.j2", key=key, title=item.title), keyboard(rows))


@router.callback_query(ContentCb.filter(F.action == "closed"))
async def close_done(
    query: CallbackQuery,
    callback_data: ContentCb,
    screen: Screen,
    content_admin: ContentAdminService,
) -> None:
    kind = _kind(callback_data.kind)
    if not await content_admin.close(screen.user_id, kind, callback_data.item_id):
        raise StaleButton
    note = screen.tr(
        "content_admin/note.j2", what="closed", key=key_of(kind, callback_data.item_id)
    )
    await show_list(screen, content_admin, kind, callback_data.page, note)


# --- the forms ---


def _step_markup(screen: Screen, catalog: Catalog, session: Session) -> list[list[Any]]:
    tr = screen.tr
    step = step_of(session.kind, session.step)
    value = session.draft.get(step.name)
    chosen = {str(v) for v in value} if isinstance(value, list) else set()
    name = step.name
    rows: list[list[InlineKeyboardButton]] = []

    def toggle(code: str, label: str) -> InlineKeyboardButton:
        mark = "✅ " if code in chosen else "▫️ "
        return button((mark + label)[:60], FormCb(action="tog", step=name, value=code))

    def pick(code: str, label: str) -> InlineKeyboardButton:
        mark = "• " if name in session.draft and (value or "-") == code else ""
        return button((mark + label)[:60], FormCb(action="pick", step=name, value=code))

    if step.input == "topics":
        rows += grid([toggle(t.code, tr.loc(t.short)) for t in catalog.topics], 2)
    elif step.input == "phases":
        rows += [[toggle(p.code, _phase_label(screen, catalog, p.code))] for p in catalog.phases]
    elif step.input == "stages":
        rows += grid([toggle(str(s.number), str(s.number)) for s in catalog.stages], 4)
    elif step.input == "problems":
        problems = [p for g in catalog.problem_groups for p in g.items]
        rows += [[toggle(p.code, tr.loc(p.name))] for p in problems]
    elif step.input == "type":
        rows += grid([pick(t.code, tr.loc(t.name)) for t in catalog.measure_types], 2)
    elif step.input == "phase":
        rows += [[pick(p.code, _phase_label(screen, catalog, p.code))] for p in catalog.phases]
        rows.append([pick("-", tr._("Any phase"))])
    elif step.input == "region":
        if session.zone:
            regions = catalog.regions_in(session.zone)
            rows += grid([pick(r.code, r.name(tr.locale)) for r in regions], 2)
            rows.append([button(tr._("« Time zones"), FormCb(action="zone", step=name))])
        else:
            everywhere = tr._("🇷🇺 Federal") if session.kind == "grant" else tr._("🌍 All regions")
            rows.append([pick("-", everywhere)])
            zones = [
                button(z.label(tr.locale), FormCb(action="zone", step=name, value=z.code))
                for z in catalog.zones
            ]
            rows += grid(zones, 2)
    elif step.input == "window":
        rows.append([pick("always", tr._("♾ All year round"))])
    if step.input in ("topics", "phases", "stages", "problems"):
        rows.append([button(tr._("Done ▶"), FormCb(action="done", step=name))])
    elif step.typed and step.name in session.draft and value and not session.single:
        rows.append([button(tr._("Keep ▶"), FormCb(action="keep", step=name))])
    if step.optional:
        rows.append([button(tr._("Leave empty ▶"), FormCb(action="skip", step=name))])
    index = [s.name for s in FORMS[session.kind]].index(name)
    nav = (
        [button(tr._("« Back"), FormCb(action="back", step=name))]
        if session.single or index > 0
        else []
    )
    nav.append(button(tr._("✖ Cancel"), FormCb(action="cancel")))
    rows.append(nav)
    return rows


def _phase_label(screen: Screen, catalog: Catalog, code: str) -> str:
    phase = catalog.phase(code)
    numbers = phase.stage_numbers
    span = f"{numbers[0]}–{numbers[-1]}" if len(numbers) > 1 else str(numbers[0])
    return f"{screen.tr.loc(phase.name)} ({span})"


async def show_step(
    screen: Screen,
    service: ContentAdminService,
    session: Session,
    settings: Settings,
    *,
    problem: str | None = None,
    fresh: bool = False,
) -> None:
    """Ask the session's step (``fresh``: as a new message, after a typed answer)."""
    catalog = service.catalog
    step = step_of(session.kind, session.step)
    steps = [s.name for s in FORMS[session.kind]]
    await _keep(screen, session, Form.step)
    text = screen.tr(
        "content_admin/step.j2",
        kind=session.kind,
        key=session.key,
        step=step,
        number=steps.index(step.name) + 1,
        count=len(steps),
        single=session.single,
        draft=_display(session.draft),
        problem=problem,
        zone=catalog.zone(session.zone) if session.zone else None,
        tz=screen.zone(settings.default_timezone),
    )
    markup = keyboard(_step_markup(screen, catalog, session))
    if fresh:
        await screen.send(text, markup)
    else:
        await screen.show(text, markup)


async def show_preview(
    screen: Screen,
    service: ContentAdminService,
    session: Session,
    settings: Settings,
    *,
    fresh: bool = False,
) -> None:
    """The preview with Save / Edit a field / Cancel; a draft still wrong goes back to the
    first wrong step, with the reason."""
    try:
        item = service.build(session.kind, session.draft, session.item_id)
    except RowInvalid as bad:
        column, problem = bad.errors[0]
        names = [s.name for s in FORMS[session.kind]]
        session.step = column if column in names else names[0]
        session.single, session.zone = True, ""
        problem_text = problem.render(screen.tr)
        await show_step(screen, service, session, settings, problem=problem_text, fresh=fresh)
        return
    await _keep(screen, session, Form.preview)
    tr = screen.tr
    text = _preview_text(
        screen,
        service,
        session.kind,
        item,
        screen.zone(settings.default_timezone),
        mode="preview",
        key=session.key,
    )
    rows = [
        [button(tr._("✅ Save"), FormCb(action="save"))],
        [button(tr._("✏️ Edit a field"), FormCb(action="fields"))],
        [button(tr._("✖ Cancel"), FormCb(action="cancel"))],
    ]
    if fresh:
        await screen.send(text, keyboard(rows))
    else:
        await screen.show(text, keyboard(rows))


async def show_fields(screen: Screen, session: Session) -> None:
    await _keep(screen, session, Form.fields)
    tr = screen.tr
    names = [s.name for s in FORMS[session.kind]]
    rows = grid([button(tr._(LABELS[n]), FormCb(action="field", value=n)) for n in names], 2)
    rows.append([button(tr._("« Back to the preview"), FormCb(action="preview"))])
    rows.append([button(tr._("✖ Cancel"), FormCb(action="cancel"))])
    text = tr("content_admin/fields.j2", kind=session.kind, key=session.key)
    await screen.show(text, keyboard(rows))


async def advance(
    screen: Screen,
    service: ContentAdminService,
    session: Session,
    settings: Settings,
    *,
    fresh: bool = False,
) -> None:
    """After an answer: the next step, or the preview (after the last step, or after
    changing one field)."""
    names = [s.name for s in FORMS[session.kind]]
    index = names.index(session.step)
    if session.single or index == len(names) - 1:
        await show_preview(screen, service, session, settings, fresh=fresh)
        return
    session.step, session.zone = names[index + 1], ""
    await show_step(screen, service, session, settings, fresh=fresh)


@router.callback_query(ContentCb.filter(F.action == "new"))
async def new_item(
    query: CallbackQuery,
    callback_data: ContentCb,
    screen: Screen,
    content_admin: ContentAdminService,
    settings: Settings,
) -> None:
    kind = _kind(callback_data.kind)
    await _finish(screen)
    session = Session(
        kind=kind,
        draft=content_admin.new_draft(kind, screen.zone(settings.default_timezone)),
        step=FORMS[kind][0].name,
        page=callback_data.page,
    )
    await show_step(screen, content_admin, session, settings)


@router.callback_query(ContentCb.filter(F.action == "edit"))
async def edit_item(
    query: CallbackQuery,
    callback_data: ContentCb,
    screen: Screen,
    content_admin: ContentAdminService,
) -> None:
    kind = _kind(callback_data.kind)
    item = await content_admin.item(kind, callback_data.item_id)
    if item is None:
        raise StaleButton
    await _finish(screen)
    session = Session(
        kind=kind, item_id=callback_data.item_id, draft=draft_of(item), page=callback_data.page
    )
    await show_fields(screen, session)


@router.message(Form.step, F.text, ~F.text.startswith("/"))
async def step_typed(
    message: Message, screen: Screen, content_admin: ContentAdminService, settings: Settings
) -> None:
    session = await _load(screen)
    step = step_of(session.kind, session.step)
    tr = screen.tr
    if not step.typed:
        hint = tr._("Please choose with the buttons below.")
        await show_step(screen, content_admin, session, settings, problem=hint, fresh=True)
        return
    try:
        zone = screen.zone(settings.default_timezone)
        changes = content_admin.accept(
            session.kind, step.name, message.text or "", zone, session.draft
        )
    except Invalid as problem:
        hint = problem.render(tr)
        await show_step(screen, content_admin, session, settings, problem=hint, fresh=True)
        return
    session.draft.update(changes)
    await advance(screen, content_admin, session, settings, fresh=True)


@router.message(Form.step, ~F.text)
async def step_not_text(
    message: Message, screen: Screen, content_admin: ContentAdminService, settings: Settings
) -> None:
    session = await _load(screen)
    hint = screen.tr._("Please answer with a text message or the buttons.")
    await show_step(screen, content_admin, session, settings, problem=hint, fresh=True)


@router.callback_query(FormCb.filter(F.action == "tog"))
async def toggled(
    query: CallbackQuery,
    callback_data: FormCb,
    screen: Screen,
    content_admin: ContentAdminService,
    settings: Settings,
) -> None:
    session = await _at_step(screen, callback_data.step)
    zone = screen.zone(settings.default_timezone)
    changes = content_admin.choose(
        session.kind, session.step, session.draft, callback_data.value, zone
    )
    session.draft.update(changes)
    await show_step(screen, content_admin, session, settings)


@router.callback_query(FormCb.filter(F.action == "done"))
async def multi_done(
    query: CallbackQuery,
    callback_data: FormCb,
    screen: Screen,
    content_admin: ContentAdminService,
    settings: Settings,
) -> None:
    session = await _at_step(screen, callback_data.step)
    step = step_of(session.kind, session.step)
    session.draft.setdefault(step.name, [])
    if step.input == "stages" and not session.draft[step.name]:
        hint = Invalid(csvio.NO_STAGE).render(screen.tr)
        await show_step(screen, content_admin, session, settings, problem=hint)
        return
    await advance(screen, content_admin, session, settings)


@router.callback_query(FormCb.filter(F.action == "pick"))
async def picked(
    query: CallbackQuery,
    callback_data: FormCb,
    screen: Screen,
    content_admin: ContentAdminService,
    settings: Settings,
) -> None:
    session = await _at_step(screen, callback_data.step)
    zone = screen.zone(settings.default_timezone)
    changes = content_admin.choose(
        session.kind, session.step, session.draft, callback_data.value, zone
    )
    session.draft.update(changes)
    await advance(screen, content_admin, session, settings)


@router.callback_query(FormCb.filter(F.action == "zone"))
async def zone_picked(
    query: CallbackQuery,
    callback_data: FormCb,
    screen: Screen,
    content_admin: ContentAdminService,
    settings: Settings,
) -> None:
    session = await _at_step(screen, callback_data.step)
    if step_of(session.kind, session.step).input != "region":
        raise StaleButton
    session.zone = (
        content_admin.catalog.zone(callback_data.value).code if callback_data.value else ""
    )
    await show_step(screen, content_admin, session, settings)


@router.callback_query(FormCb.filter(F.action == "keep"))
async def kept(
    query: CallbackQuery,
    callback_data: FormCb,
    screen: Screen,
    content_admin: ContentAdminService,
    settings: Settings,
) -> None:
    session = await _at_step(screen, callback_data.step)
    if session.step not in session.draft:
        raise StaleButton
    await advance(screen, content_admin, session, settings)


@router.callback_query(FormCb.filter(F.action == "skip"))
async def skipped(
    query: CallbackQuery,
    callback_data: FormCb,
    screen: Screen,
    content_admin: ContentAdminService,
    settings: Settings,
) -> None:
    session = await _at_step(screen, callback_data.step)
    step = step_of(session.kind, session.step)
    if not step.optional:
        raise StaleButton
    session.draft[step.name] = [] if step.input == "problems" else None
    await advance(screen, content_admin, session, settings)


@router.callback_query(FormCb.filter(F.action == "back"))
async def went_back(
    query: CallbackQuery,
    callback_data: FormCb,
    screen: Screen,
    content_admin: ContentAdminService,
    settings: Settings,
) -> None:
    session = await _at_step(screen, callback_data.step)
    if session.single:
        await show_preview(screen, content_admin, session, settings)
        return
    names = [s.name for s in FORMS[session.kind]]
    index = names.index(session.step)
    if index == 0:
        raise StaleButton
    session.step, session.zone = names[index - 1], ""
    await show_step(screen, content_admin, session, settings)


@router.callback_query(FormCb.filter(F.action == "fields"))
async def fields_pressed(query: CallbackQuery, screen: Screen) -> None:
    session = await _at(screen, Form.preview)
    await show_fields(screen, session)


@router.callback_query(FormCb.filter(F.action == "field"))
async def field_pressed(
    query: CallbackQuery,
    callback_data: FormCb,
    screen: Screen,
    content_admin: ContentAdminService,
    settings: Settings,
) -> None:
    session = await _at(screen, Form.fields, Form.preview)
    session.step = step_of(session.kind, callback_data.value).name
    session.single, session.zone = True, ""
    await show_step(screen, content_admin, session, settings)


@router.callback_query(FormCb.filter(F.action == "preview"))
async def preview_pressed(
    query: CallbackQuery,
    screen: Screen,
    content_admin: ContentAdminService,
    settings: Settings,
) -> None:
    session = await _at(screen, Form.fields, Form.step)
    await show_preview(screen, content_admin, session, settings)


@router.callback_query(FormCb.filter(F.action == "save"))
async def save_pressed(
    query: CallbackQuery,
    screen: Screen,
    content_admin: ContentAdminService,
    settings: Settings,
) -> None:
    session = await _at(screen, Form.preview)
    try:
        item = content_admin.build(session.kind, session.draft, session.item_id)
    except RowInvalid:
        await show_preview(screen, content_admin, session, settings)  # shows the wrong step
        return
    key = await content_admin.save(screen.user_id, session.kind, item)
    await _finish(screen)
    note = screen.tr("content_admin/note.j2", what="saved", key=key, title=item.title)
    await show_list(screen, content_admin, session.kind, session.page, note)


@router.callback_query(FormCb.filter(F.action == "cancel"))
async def cancelled(
    query: CallbackQuery, screen: Screen, content_admin: ContentAdminService
) -> None:
    session = await _load(screen)
    await _finish(screen)
    note = screen.tr("content_admin/note.j2", what="cancelled")
    await show_list(screen, content_admin, session.kind, session.page, note)


# --- CSV ---


@router.callback_query(ContentCb.filter(F.action == "export"))
async def export_csv(
    query: CallbackQuery,
    callback_data: ContentCb,
    screen: Screen,
    content_admin: ContentAdminService,
    clock: Clock,
) -> None:
    kind = _kind(callback_data.kind, CSV_KINDS)
    data = await content_admin.export(kind)
    count = len(await content_admin.items(kind))
    filename = f"opora-{kind}s-{clock.now().date().isoformat()}.csv"
    await screen.document(data, filename, screen.tr("content_admin/export.j2", count=count))


@router.callback_query(ContentCb.filter(F.action == "import"))
async def import_ask(query: CallbackQuery, callback_data: ContentCb, screen: Screen) -> None:
    kind = _kind(callback_data.kind, CSV_KINDS)
    await _finish(screen)
    await _keep(screen, Session(kind=kind, page=callback_data.page), Form.upload)
    columns = csvio.DELIMITER.join(GRANT_COLUMNS if kind == "grant" else csvio.ARTICLE_COLUMNS)
    cancel = keyboard([[button(screen.tr._("✖ Cancel"), FormCb(action="cancel"))]])
    await screen.show(screen.tr("content_admin/import_ask.j2", kind=kind, columns=columns), cancel)


@router.message(Form.upload, F.document)
async def csv_received(
    message: Message,
    bot: Bot,
    screen: Screen,
    content_admin: ContentAdminService,
    settings: Settings,
) -> None:
    session = await _load(screen)
    tr = screen.tr
    cancel = keyboard([[button(tr._("✖ Cancel"), FormCb(action="cancel"))]])
    document = message.document
    assert document is not None
    if document.file_size is not None and document.file_size > csvio.FILE_LIMIT:
        hint = tr("content_admin/import_hint.j2", too_big=True, limit=csvio.FILE_LIMIT)
        await screen.send(hint, cancel)
        return
    downloaded = await bot.download(document.file_id)
    data = downloaded.read() if downloaded is not None else b""
    report = await content_admin.import_csv(
        screen.user_id, session.kind, data, screen.zone(settings.default_timezone)
    )
    if report.errors:
        shown = [(e.line, e.column, e.render(tr)) for e in report.errors[:ERRORS_SHOWN]]
        text = tr(
            "content_admin/import_errors.j2",
            errors=shown,
            total=len(report.errors),
            more=max(0, len(report.errors) - ERRORS_SHOWN),
        )
        await screen.send(text, cancel)
        return
    await _finish(screen)
    note = tr(
        "content_admin/note.j2",
        what="imported",
        added=len(report.added),
        updated=len(report.updated),
        unchanged=len(report.unchanged),
    )
    await show_list(screen, content_admin, session.kind, 0, note)


@router.message(Form.upload, ~F.text.startswith("/"))
async def upload_hint(message: Message, screen: Screen) -> None:
    cancel = keyboard([[button(screen.tr._("✖ Cancel"), FormCb(action="cancel"))]])
    await screen.send(screen.tr("content_admin/import_hint.j2", too_big=False, limit=0), cancel)
