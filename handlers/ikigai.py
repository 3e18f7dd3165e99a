"""The ikigai exercise: what I want / what I can / what the territory needs (1–3 typed entries
each, with back, skip and edit), then the territory topics, then a summary and a picture.

Entries are stored as they are typed; the FSM only remembers which step the user is on (and
the id of the step's message), so the exercise resumes after a restart.

A typed entry edits the step's message — the prompt just above it — instead of sending the
prompt again, and gets a ✍ reaction: on a phone the chat reads as the question, then the user's
own answers, each marked as taken, with the numbered list growing in the question above; a
reply per entry would double the bubbles and push the buttons off the screen. A hint (a
sticker, an over-long entry) is a message of its own, so the entry after it gets a fresh
prompt below.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import F, Router
from aiogram.enums import ChatAction
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message

from bot.content import Catalog
from bot.domain import ikigai as rules
from bot.domain.errors import StaleButton
from bot.infra.turns import stepped_aside
from bot.services.profile import Profile, ProfileService
from bot.ui.keyboards import IkigaiCb, Menu, TopicCb, button, grid, keyboard
from bot.ui.painter import Painter
from bot.ui.pictures import Column as PictureColumn
from bot.ui.pictures import IkigaiPicture, render_ikigai
from bot.ui.screen import Screen
from handlers import journey

log = logging.getLogger(__name__)
router = Router(name=__name__)


class Ikigai(StatesGroup):
    entry = State()  # typing an entry of data["ik_col"]
    edit = State()  # typing a replacement for entry data["ik_pos"] of data["ik_col"]
    topics = State()
    focus = State()  # typing the sentence for what the project does


def _column_keyboard(screen: Screen, col: str, entries: list[str]) -> Any:
    tr = screen.tr
    previous = rules.previous_column(col)
    nav: list[InlineKeyboardButton] = []
    if previous:
        nav.append(button(tr._("« Back"), IkigaiCb(action="col", column=previous)))
    label = tr._("Next ▶") if entries else tr._("Skip ▶")
    nav.append(button(label, IkigaiCb(action="next", column=col)))
    rows = [nav]
    if entries:
        rows.append([button(tr._("✏️ Edit entries"), IkigaiCb(action="edit", column=col))])
    rows.append([button(tr._("☰ Menu"), Menu(section="home"))])
    return keyboard(rows)


PROMPT_KEY = "ik_msg"  # FSM data: the id of the message the exercise's step is shown in
TAKEN = "✍"  # the reaction on a typed entry that was taken


async def _present(
    screen: Screen, text: str, markup: Any, typed: Message | None = None, *, anew: bool = True
) -> None:
    """Show a step of the exercise. After a press: in place. After a typed entry (`typed`):
    the entry gets its reaction and the step's message above it is edited; a new message
    only when there is none to edit (and `anew`)."""
    assert screen.state is not None
    if typed is not None and screen.query is None:
        await screen.react(typed.message_id, TAKEN)
        prompt = (await screen.state.get_data()).get(PROMPT_KEY)
        if isinstance(prompt, int) and await screen.edit(prompt, text, markup):
            return
        if not anew:
            return
    shown = await screen.show(text, markup)
    await screen.state.update_data({PROMPT_KEY: shown})


def _column_text(screen: Screen, catalog: Catalog, col: str, entries: list[str]) -> str:
    return screen.tr(
        "ikigai/column.j2",
        column=catalog.ikigai.column(col),
        number=rules.COLUMNS.index(col) + 1,
        entries=entries,
        limit=rules.ENTRY_LIMIT,
        max_entries=rules.MAX_ENTRIES,
    )


async def show_column(
    screen: Screen,
    profiles: ProfileService,
    catalog: Catalog,
    col: str,
    entries: list[str] | None = None,
    typed: Message | None = None,
) -> None:
    """The column's screen; `entries` when the caller has just read or written them, `typed`
    when the user has just typed one."""
    if entries is None:
        entries = await profiles.ikigai_column(screen.user_id, col)
    assert screen.state is not None
    await screen.state.set_state(Ikigai.entry)
    await screen.state.update_data(ik_col=col)
    text = _column_text(screen, catalog, col, entries)
    await _present(screen, text, _column_keyboard(screen, col, entries), typed)


@journey.step("ikigai")
async def start_ikigai(screen: Screen, deps: dict[str, Any]) -> None:
    await show_column(screen, deps["profiles"], deps["catalog"], rules.COLUMNS[0])


def _column(code: str) -> str:
    if code not in rules.COLUMNS:
        raise StaleButton
    return code


@router.callback_query(IkigaiCb.filter(F.action == "col"))
async def column_pressed(
    query: CallbackQuery,
    callback_data: IkigaiCb,
    screen: Screen,
    profiles: ProfileService,
    catalog: Catalog,
) -> None:
    await show_column(screen, profiles, catalog, _column(callback_data.column))


@router.callback_query(IkigaiCb.filter(F.action == "next"))
async def next_pressed(
    query: CallbackQuery,
    callback_data: IkigaiCb,
    screen: Screen,
    profiles: ProfileService,
    catalog: Catalog,
) -> None:
    following = rules.next_column(_column(callback_data.column))
    if following is None:
        await show_topics(screen, profiles, catalog)
    else:
        await show_column(screen, profiles, catalog, following)


@router.message(Ikigai.entry)
async def entry_typed(
    message: Message, screen: Screen, profiles: ProfileService, catalog: Catalog
) -> None:
    assert screen.state is not None
    col = _column((await screen.state.get_data()).get("ik_col", rules.COLUMNS[0]))
    entry = rules.clean_entry(message.text)
    if isinstance(entry, rules.EntryProblem):
        await _hint(screen, message, entry, col)
        return
    entries = await profiles.ikigai_column(screen.user_id, col)
    entries = [*entries, entry][-rules.MAX_ENTRIES :]
    await profiles.set_ikigai_column(screen.user_id, col, entries)
    following = rules.next_column(col)
    if len(entries) < rules.MAX_ENTRIES:
        await show_column(screen, profiles, catalog, col, entries, typed=message)
        return
    # The column is full: its message keeps the list (its buttons done with), the next step
    # comes below.
    done = _column_text(screen, catalog, col, entries)
    await _present(screen, done, None, message, anew=False)
    if following is None:
        await show_topics(screen, profiles, catalog)
    else:
        await show_column(screen, profiles, catalog, following)


async def _hint(
    screen: Screen, message: Message, problem: rules.EntryProblem, col: str, back: str = "col"
) -> None:
    if message.text is None:
        template = "ikigai/hint_not_text.j2"
    elif problem is rules.EntryProblem.TOO_LONG:
        template = "ikigai/hint_too_long.j2"
    else:
        template = "ikigai/hint_empty.j2"
    length = len(" ".join((message.text or "").split()))
    text = screen.tr(template, length=length, limit=rules.ENTRY_LIMIT)
    await screen.send(
        text, keyboard([[button(screen.tr._("« Back"), IkigaiCb(action=back, column=col))]])
    )
    assert screen.state is not None
    await screen.state.update_data({PROMPT_KEY: None})  # the next entry's prompt comes below


# --- editing entries ---


@router.callback_query(IkigaiCb.filter(F.action == "edit"))
async def edit_screen(
    query: CallbackQuery,
    callback_data: IkigaiCb,
    screen: Screen,
    profiles: ProfileService,
    catalog: Catalog,
) -> None:
    col = _column(callback_data.column)
    entries = await profiles.ikigai_column(screen.user_id, col)
    if not entries:
        await show_column(screen, profiles, catalog, col, entries)
        return
    tr = screen.tr
    rows = [
        [
            button(
                tr._("✏️ Change {n}").format(n=i), IkigaiCb(action="chg", column=col, position=i)
            ),
            button(
                tr._("🗑 Delete {n}").format(n=i), IkigaiCb(action="del", column=col, position=i)
            ),
        ]
        for i in range(1, len(entries) + 1)
    ]
    rows.append([button(tr._("« Back"), IkigaiCb(action="col", column=col))])
    text = tr("ikigai/edit.j2", column=catalog.ikigai.column(col), entries=entries)
    await _present(screen, text, keyboard(rows))


async def _entry_at(profiles: ProfileService, user_id: int, col: str, pos: int) -> list[str]:
    entries = await profiles.ikigai_column(user_id, col)
    if not 1 <= pos <= len(entries):
        raise StaleButton
    return entries


@router.callback_query(IkigaiCb.filter(F.action == "del"))
async def delete_entry(
    query: CallbackQuery,
    callback_data: IkigaiCb,
    screen: Screen,
    profiles: ProfileService,
    catalog: Catalog,
) -> None:
    col = _column(callback_data.column)
    entries = await _entry_at(profiles, screen.user_id, col, callback_data.position)
    del entries[callback_data.position - 1]
    await profiles.set_ikigai_column(screen.user_id, col, entries)
    await edit_screen(query, IkigaiCb(action="edit", column=col), screen, profiles, catalog)


@router.callback_query(IkigaiCb.filter(F.action == "chg"))
async def change_entry(
    query: CallbackQuery, callback_data: IkigaiCb, screen: Screen, profiles: ProfileService
) -> None:
    col = _column(callback_data.column)
    entries = await _entry_at(profiles, screen.user_id, col, callback_data.position)
    assert screen.state is not None
    await screen.state.set_state(Ikigai.edit)
    await screen.state.update_data(ik_col=col, ik_pos=callback_data.position)
    text = screen.tr(
        "ikigai/change.j2", entry=entries[callback_data.position - 1], limit=rules.ENTRY_LIMIT
    )
    cancel = keyboard([[button(screen.tr._("« Cancel"), IkigaiCb(action="edit", column=col))]])
    await _present(screen, text, cancel)


@router.message(Ikigai.edit)
async def replacement_typed(
    message: Message, screen: Screen, profiles: ProfileService, catalog: Catalog
) -> None:
    assert screen.state is not None
    data = await screen.state.get_data()
    col = _column(data.get("ik_col", ""))
    entry = rules.clean_entry(message.text)
    if isinstance(entry, rules.EntryProblem):
        await _hint(screen, message, entry, col)
        return
    entries = await profiles.ikigai_column(screen.user_id, col)
    pos = int(data.get("ik_pos", 0))
    if 1 <= pos <= len(entries):
        entries[pos - 1] = entry
    else:  # the entry went away meanwhile: keep the text as a new one
        entries = [*entries, entry][-rules.MAX_ENTRIES :]
    await profiles.set_ikigai_column(screen.user_id, col, entries)
    await show_column(screen, profiles, catalog, col, entries, typed=message)


# --- topics: what the territory needs ---


def _topics_keyboard(screen: Screen, catalog: Catalog, chosen: frozenset[str]) -> Any:
    tr = screen.tr
    toggles = [
        button(("✅ " if t.code in chosen else "▫️ ") + tr.loc(t.short), TopicCb(code=t.code))
        for t in catalog.topics
    ]
    nav = [
        button(tr._("« Back"), IkigaiCb(action="col", column=rules.COLUMNS[-1])),
        button(tr._("Done ▶"), IkigaiCb(action="done")),
    ]
    return keyboard([*grid(toggles, 2), nav])


async def show_topics(
    screen: Screen,
    profiles: ProfileService,
    catalog: Catalog,
    chosen: frozenset[str] | None = None,
) -> None:
    """The topics' screen; `chosen` when the caller has just written them."""
    assert screen.state is not None
    await screen.state.set_state(Ikigai.topics)
    if chosen is None:
        chosen = await profiles.codes(screen.user_id, "topics")
    text = screen.tr("ikigai/topics.j2", chosen=len(chosen))
    await screen.show(text, _topics_keyboard(screen, catalog, chosen))


TOPICS_ONLY = "ik_topics_only"  # FSM data: only the topics are edited (from /profile)


@journey.step("ikigai_topics")
async def start_topics(screen: Screen, deps: dict[str, Any]) -> None:
    assert screen.state is not None
    await screen.state.update_data({TOPICS_ONLY: True})
    await show_topics(screen, deps["profiles"], deps["catalog"])


@router.callback_query(IkigaiCb.filter(F.action == "topics"))
async def topics_pressed(
    query: CallbackQuery, screen: Screen, profiles: ProfileService, catalog: Catalog
) -> None:
    await show_topics(screen, profiles, catalog)


@router.callback_query(TopicCb.filter())
async def topic_toggled(
    query: CallbackQuery,
    callback_data: TopicCb,
    screen: Screen,
    profiles: ProfileService,
    catalog: Catalog,
) -> None:
    catalog.topic(callback_data.code)  # unknown code: a stale button
    chosen = await profiles.codes(screen.user_id, "topics") ^ {callback_data.code}
    await profiles.set_codes(screen.user_id, "topics", chosen)
    await show_topics(screen, profiles, catalog, chosen)


# --- the focus: the user's own sentence, the picture's centre ---


def _topic_labels(screen: Screen, catalog: Catalog, codes: frozenset[str]) -> list[str]:
    return [screen.tr.loc(catalog.topic(code).short) for code in sorted(codes)]


async def show_focus(
    screen: Screen, profiles: ProfileService, catalog: Catalog, typed: Message | None = None
) -> None:
    """The last step: one sentence for what the project does, with a suggestion built from
    the three columns that one tap takes."""
    assert screen.state is not None
    profile = await profiles.load(screen.user_id)
    suggestion = rules.suggest_focus(
        profile.ikigai, _topic_labels(screen, catalog, profile.topics)
    )
    await screen.state.set_state(Ikigai.focus)
    await screen.state.update_data(ik_suggestion=suggestion)
    tr = screen.tr
    rows = []
    if suggestion:
        rows.append([button(tr._("✅ Take the suggestion"), IkigaiCb(action="take"))])
    nav = [button(tr._("« Back"), IkigaiCb(action="topics"))]
    if profile.user.ikigai_focus:
        nav.append(button(tr._("Keep it ▶"), IkigaiCb(action="keep")))
    else:
        nav.append(button(tr._("Skip ▶"), IkigaiCb(action="keep")))
    rows.append(nav)
    text = tr(
        "ikigai/focus.j2",
        suggestion=suggestion,
        current=profile.user.ikigai_focus,
        limit=rules.ENTRY_LIMIT,
    )
    await _present(screen, text, keyboard(rows), typed)


@router.callback_query(IkigaiCb.filter(F.action == "focus"))
async def focus_pressed(
    query: CallbackQuery, screen: Screen, profiles: ProfileService, catalog: Catalog
) -> None:
    await show_focus(screen, profiles, catalog)


@router.message(Ikigai.focus)
async def focus_typed(
    message: Message, screen: Screen, profiles: ProfileService, **deps: Any
) -> None:
    entry = rules.clean_entry(message.text)
    if isinstance(entry, rules.EntryProblem):
        await _hint(screen, message, entry, rules.COLUMNS[-1], back="focus")
        return
    await screen.react(message.message_id, TAKEN)
    await profiles.set_ikigai_focus(screen.user_id, entry)
    await _finish(screen, profiles, deps)


@router.callback_query(IkigaiCb.filter(F.action == "take"))
async def suggestion_taken(
    query: CallbackQuery, screen: Screen, profiles: ProfileService, **deps: Any
) -> None:
    assert screen.state is not None
    suggestion = (await screen.state.get_data()).get("ik_suggestion")
    if isinstance(suggestion, str) and suggestion:
        await profiles.set_ikigai_focus(screen.user_id, suggestion)
    await _finish(screen, profiles, deps)


@router.callback_query(IkigaiCb.filter(F.action == "keep"))
async def focus_kept(
    query: CallbackQuery, screen: Screen, profiles: ProfileService, **deps: Any
) -> None:
    await _finish(screen, profiles, deps)


# --- the result ---


@router.callback_query(IkigaiCb.filter(F.action == "done"))
async def topics_done(
    query: CallbackQuery, screen: Screen, profiles: ProfileService, **deps: Any
) -> None:
    """After the topics: the focus step — unless only the topics were edited, or nothing at
    all was filled in (there is nothing to sum up in a sentence)."""
    assert screen.state is not None
    data = await screen.state.get_data()
    profile = await profiles.load(screen.user_id)
    if data.get(TOPICS_ONLY) or rules.is_empty(profile.ikigai, profile.topics):
        await _finish(screen, profiles, deps)
    else:
        await show_focus(screen, profiles, deps["catalog"])


async def _finish(screen: Screen, profiles: ProfileService, deps: dict[str, Any]) -> None:
    assert screen.state is not None
    data = await screen.state.get_data()
    topics_only = bool(data.pop(TOPICS_ONLY, None))
    data.pop("ik_suggestion", None)
    await screen.state.set_data(data)
    await screen.state.set_state(None)
    await profiles.finish_ikigai(screen.user_id)
    profile = await profiles.load(screen.user_id)
    if screen.query is not None:
        await deps["answer_press"]()  # the button stops spinning now, not once it is drawn
    catalog: Catalog = deps["catalog"]
    font, painter = deps.get("font"), deps["painter"]
    shown = await send_result(screen, profile, catalog, font, painter, replace=topics_only)
    await profiles.ikigai_shown(screen.user_id, shown)
    await journey.advance(screen, {"profiles": profiles, **deps})


def _summary(screen: Screen, profile: Profile, topics: list[str]) -> str:
    focus = profile.user.ikigai_focus or ""
    return screen.tr("ikigai/summary.j2", ikigai=profile.ikigai, topics=topics, focus=focus)


async def send_result(
    screen: Screen,
    profile: Profile,
    catalog: Catalog,
    font: Any,
    painter: Painter,
    *,
    replace: bool = False,
) -> int | None:
    """The summary as text; with a font on the system, as a picture too. With `replace` (the
    topics changed from /profile) the message that already shows the result is edited;
    returns the id of the message showing it (None: the exercise was skipped entirely, which
    gets a line saying so, not an empty picture)."""
    tr = screen.tr
    topics = _topic_labels(screen, catalog, profile.topics)
    if rules.is_empty(profile.ikigai, profile.topics):
        screen.query = None
        await screen.send(tr("ikigai/skipped.j2"))
        return None
    summary = _summary(screen, profile, topics)
    earlier = profile.user.ikigai_message_id if replace else None
    if font is None:
        if earlier is not None and await screen.edit(earlier, summary):
            return earlier
        screen.query = None  # the result is a new message; the exercise's screen stays
        return await screen.send(summary)
    picture = IkigaiPicture(
        title=tr.loc(catalog.ikigai.title),
        columns=tuple(  # type: ignore[arg-type]
            PictureColumn(
                title=tr.loc(catalog.ikigai.column(c).title),
                entries=tuple(profile.ikigai.get(c, [])),
            )
            for c in rules.COLUMNS
        ),
        focus_title=tr._("Project focus"),
        focus=profile.user.ikigai_focus or "",
        topics=tuple(topics),
        footer="Опора",
    )
    await screen.chat_action(ChatAction.UPLOAD_PHOTO)  # "sending a photo…" meanwhile
    async with stepped_aside():  # other users' updates go on while this one waits
        png = await painter.draw(render_ikigai, picture, font)
    if earlier is not None and await screen.replace_photo(earlier, png, summary):
        return earlier
    screen.query = None  # the result is a new message; the exercise's screen stays as it was
    return await screen.photo(png, summary)
