"""«Частые вопросы» (bot/services/faq.py): two routers.

* `router` — everyone: the kinds, an entry, a search; from a new question's preview, the
  similar entries (opened with the way back to the preview, where the question can still be
  sent); the asker's yes or no on their answered question.
* `admin` — coordinators (under the role check): the candidates (answered questions with the
  asker's yes) and the entries; a draft's question and answer typed anew, shown as everyone
  will see them, published, hidden again.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message

from bot.content import Catalog
from bot.domain.errors import StaleButton
from bot.services.desk import DeskService
from bot.services.faq import PUBLISHED, Entry, FaqService
from bot.services.profile import ProfileService
from bot.ui.desk import KINDS, DeskCb, kind_name
from bot.ui.faq import FaqAdminCb, FaqCb, title
from bot.ui.keyboards import Menu, button, keyboard
from bot.ui.render import Tr
from bot.ui.screen import Screen
from handlers.desk import DeskForm, _preview, show_own

router = Router(name=__name__)
admin = Router(name=f"{__name__}.admin")
MAX_SEARCH = 200


class FaqForm(StatesGroup):
    search = State()  # anyone types words to search
    edit = State()  # a coordinator types an entry's question or answer


def _menu(tr: Tr) -> list[InlineKeyboardButton]:
    return [button(tr._("☰ Menu"), Menu(section="home"))]


def _entry_rows(tr: Tr, entries: list[Entry], arg: str = "") -> list[list[InlineKeyboardButton]]:
    return [
        [button(f"📚 {title(e.question)}", FaqCb(action="open", id=e.id, arg=arg))]
        for e in entries
    ]


# --------------------------------------------------------------------------- everyone


@router.callback_query(Menu.filter(F.section == "faq"))
@router.callback_query(FaqCb.filter(F.action == "list"))
async def kinds(
    query: CallbackQuery, callback_data: FaqCb | Menu, screen: Screen, faq: FaqService
) -> None:
    tr = screen.tr
    kind = callback_data.arg if isinstance(callback_data, FaqCb) else ""
    entries = await faq.published()
    if kind:
        if kind not in KINDS:
            raise StaleButton
        of_kind = [e for e in entries if e.kind == kind]
        rows = _entry_rows(tr, of_kind[:30])
        rows.append([button(tr._("« Back"), FaqCb(action="list")), *_menu(tr)])
        text = tr("faq/list.j2", kind=kind_name(tr, kind), entries=of_kind)
        await screen.show(text, keyboard(rows))
        return
    counts = {code: sum(1 for e in entries if e.kind == code) for code in KINDS}
    rows = [
        [button(f"{kind_name(tr, code)} · {n}", FaqCb(action="list", arg=code))]
        for code, n in counts.items()
        if n
    ]
    if entries:
        rows.append([button(tr._("🔎 Search"), FaqCb(action="search"))])
    rows.append([button(tr._("💬 Ask a question"), Menu(section="desk")), *_menu(tr)])
    await screen.show(
        tr("faq/kinds.j2", kinds=[c for c, n in counts.items() if n]), keyboard(rows)
    )


@router.callback_query(FaqCb.filter(F.action == "open"))
async def open_entry(
    query: CallbackQuery, callback_data: FaqCb, screen: Screen, faq: FaqService
) -> None:
    entry = await faq.public(callback_data.id)
    tr = screen.tr
    rows: list[list[InlineKeyboardButton]] = []
    from_preview = False
    if callback_data.arg == "ask" and screen.state is not None:
        data = await screen.state.get_data()
        if await screen.state.get_state() == DeskForm.preview.state and data.get("text"):
            await screen.state.set_state(DeskForm.preview)  # the preview still waits
            from_preview = True
    if from_preview:
        rows.append([button(tr._("📨 Send my question anyway"), DeskCb(action="send"))])
        rows.append([button(tr._("« My question"), FaqCb(action="back")), *_menu(tr)])
    else:
        back = FaqCb(action="list", arg=entry.kind)
        rows.append([button(tr._("« Back"), back), *_menu(tr)])
    text = tr("faq/entry.j2", entry=entry, kind=kind_name(tr, entry.kind))
    await screen.show(text, keyboard(rows))


@router.callback_query(FaqCb.filter(F.action == "back"))
async def back_to_preview(
    query: CallbackQuery,
    screen: Screen,
    profiles: ProfileService,
    catalog: Catalog,
    faq: FaqService,
) -> None:
    assert screen.state is not None
    data = await screen.state.get_data()
    if await screen.state.get_state() != DeskForm.preview.state or not data.get("text"):
        raise StaleButton  # sent already, or an old session's
    await screen.state.set_state(DeskForm.preview)
    await _preview(screen, profiles, catalog, faq)


@router.callback_query(FaqCb.filter(F.action == "search"))
async def search(query: CallbackQuery, screen: Screen) -> None:
    assert screen.state is not None
    await screen.state.set_state(FaqForm.search)
    tr = screen.tr
    rows = [[button(tr._("« Back"), FaqCb(action="list")), *_menu(tr)]]
    await screen.show(tr("faq/search_ask.j2"), keyboard(rows))


@router.message(FaqForm.search, F.text)
async def search_typed(message: Message, screen: Screen, faq: FaqService) -> None:
    assert message.text is not None
    assert screen.state is not None
    text = message.text.strip()[:MAX_SEARCH]
    await screen.state.set_state(None)
    tr = screen.tr
    found = await faq.search(text)
    rows = _entry_rows(tr, found)
    rows.append([button(tr._("🔎 Search again"), FaqCb(action="search"))])
    rows.append([button(tr._("« Back"), FaqCb(action="list")), *_menu(tr)])
    await screen.send(tr("faq/found.j2", text=text, entries=found), keyboard(rows))


@router.message(FaqForm.search)
async def search_not_text(message: Message, screen: Screen) -> None:
    tr = screen.tr
    await screen.send(tr._("Please write it as text, in one message."), keyboard([_menu(tr)]))


@router.callback_query(FaqCb.filter(F.action == "perm"))
async def permission(
    query: CallbackQuery,
    callback_data: FaqCb,
    screen: Screen,
    faq: FaqService,
    desk: DeskService,
) -> None:
    if callback_data.arg not in ("y", "n"):
        raise StaleButton
    allowed = callback_data.arg == "y"
    await faq.set_permission(callback_data.id, screen.user_id, allowed)
    question = await desk.own(callback_data.id, screen.user_id)
    await show_own(screen, desk, question)  # its card says what was chosen


# --------------------------------------------------------------------------- coordinators


@admin.callback_query(FaqAdminCb.filter(F.action == "list"))
async def admin_list(query: CallbackQuery, screen: Screen, faq: FaqService) -> None:
    if screen.state is not None:
        await screen.state.set_state(None)
    tr = screen.tr
    candidates = await faq.candidates()
    entries = await faq.every()
    rows = [
        [
            button(
                f"✍️ №{c.question_id} · {kind_name(tr, c.kind)}",
                FaqAdminCb(action="start", id=c.question_id),
            )
        ]
        for c in candidates[:20]
    ]
    rows += [
        [
            button(
                f"{'📚' if e.status == PUBLISHED else '🙈'} {title(e.question)}",
                FaqAdminCb(action="card", id=e.id),
            )
        ]
        for e in entries[:30]
    ]
    rows.append([button(tr._("« Questions"), DeskCb(action="inbox")), *_menu(tr)])
    text = tr("faq/admin_list.j2", candidates=len(candidates), entries=len(entries))
    await screen.show(text, keyboard(rows))


async def _card(screen: Screen, entry: Entry) -> None:
    tr = screen.tr
    rows = [
        [
            button(tr._("✏️ Question"), FaqAdminCb(action="edit", id=entry.id, arg="q")),
            button(tr._("✏️ Answer"), FaqAdminCb(action="edit", id=entry.id, arg="a")),
        ],
        [button(tr._("🙈 Unpublish"), FaqAdminCb(action="hide", id=entry.id))]
        if entry.status == PUBLISHED
        else [button(tr._("✅ Publish"), FaqAdminCb(action="pub", id=entry.id))],
        [button(tr._("« Frequent questions"), FaqAdminCb(action="list")), *_menu(tr)],
    ]
    status = {
        "draft": tr._("not published yet"),
        "published": tr._("published"),
        "hidden": tr._("hidden"),
    }.get(entry.status, entry.status)
    text = tr("faq/admin_card.j2", entry=entry, kind=kind_name(tr, entry.kind), status=status)
    await screen.show(text, keyboard(rows))


@admin.callback_query(FaqAdminCb.filter(F.action == "start"))
async def admin_start(
    query: CallbackQuery, callback_data: FaqAdminCb, screen: Screen, faq: FaqService
) -> None:
    await _card(screen, await faq.start(callback_data.id, screen.user_id))


@admin.callback_query(FaqAdminCb.filter(F.action == "card"))
async def admin_card(
    query: CallbackQuery, callback_data: FaqAdminCb, screen: Screen, faq: FaqService
) -> None:
    await _card(screen, await faq.entry(callback_data.id))


@admin.callback_query(FaqAdminCb.filter(F.action == "edit"))
async def admin_edit(
    query: CallbackQuery, callback_data: FaqAdminCb, screen: Screen, faq: FaqService
) -> None:
    if callback_data.arg not in ("q", "a"):
        raise StaleButton
    entry = await faq.entry(callback_data.id)
    assert screen.state is not None
    await screen.state.set_state(FaqForm.edit)
    await screen.state.set_data({"entry": entry.id, "field": callback_data.arg})
    tr = screen.tr
    current = entry.question if callback_data.arg == "q" else entry.answer
    rows = [[button(tr._("« Back"), FaqAdminCb(action="card", id=entry.id))]]
    text = tr("faq/admin_edit.j2", field=callback_data.arg, current=current)
    await screen.show(text, keyboard(rows))


@admin.message(FaqForm.edit, F.text)
async def admin_edit_typed(message: Message, screen: Screen, faq: FaqService) -> None:
    assert message.text is not None
    assert screen.state is not None
    data = await screen.state.get_data()
    tr = screen.tr
    try:
        entry = await faq.edit(
            int(data.get("entry", 0)), str(data.get("field", "")), message.text, screen.user_id
        )
    except ValueError:
        await screen.send(tr._("Too long: please shorten it and send it again."))
        return
    await screen.state.set_state(None)
    await _card(screen, entry)


@admin.message(FaqForm.edit)
async def admin_edit_not_text(message: Message, screen: Screen) -> None:
    await screen.send(screen.tr._("Please write it as text, in one message."))


@admin.callback_query(FaqAdminCb.filter(F.action == "pub"))
async def admin_publish(
    query: CallbackQuery, callback_data: FaqAdminCb, screen: Screen, faq: FaqService
) -> None:
    await _card(screen, await faq.publish(callback_data.id, screen.user_id))


@admin.callback_query(FaqAdminCb.filter(F.action == "hide"))
async def admin_hide(
    query: CallbackQuery, callback_data: FaqAdminCb, screen: Screen, faq: FaqService
) -> None:
    await _card(screen, await faq.hide(callback_data.id, screen.user_id))
