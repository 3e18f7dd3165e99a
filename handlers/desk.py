"""The consultation desk (bot/services/desk.py): three routers.

* `router` — the asker (an activist or volunteer who consented): pick a kind, write the
  question, see it back with what will be shared, send; their questions, follow-ups, closing,
  withdrawing, rating.
* `inbox` — the coordinators' «📥 Questions» (under the role check): list, open, take,
  answer, close; the same flow as the work group, for a deployment without one. Outside
  experts use it too (handlers/desk_experts.py invites them): `desk_kinds` (set by
  handlers.guards.DeskScope for every update) limits them to their kinds, and every action
  passes it to the service, which refuses a question of another kind.
* `group` — the coordinators' work group (a forum supergroup): `/desk_group` sets it (the
  sender a coordinator, the group a forum, the bot an administrator that may manage topics:
  checked with getChat and getChatMember); a coordinator's message in a question's topic is
  the answer; anything else there is left alone (no reply to group chatter, nothing passed on
  from people who are not coordinators).
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.content import Catalog, UnknownCodeError
from bot.delivery import Sender
from bot.domain.errors import StaleButton
from bot.infra.routing import ChatTypes
from bot.services.coordination import CoordinationService
from bot.services.desk import MAX_FILES, MAX_QUESTION, Context, DeskService, Question
from bot.services.faq import FaqService
from bot.services.profile import ProfileService
from bot.services.users import UserService
from bot.ui.desk import KINDS, DeskCb, ExpertCb, kind_name, status_name
from bot.ui.faq import FaqAdminCb, FaqCb, permission_rows, title
from bot.ui.keyboards import Menu, button, keyboard
from bot.ui.render import Renderer, Tr, escape_html
from bot.ui.screen import Screen
from handlers.coordinator import CoordinatorCb, region_name, topic_name

log = logging.getLogger(__name__)
router = Router(name=__name__)
inbox = Router(name=f"{__name__}.inbox")
group = Router(name=f"{__name__}.group")
GROUPS = (ChatType.GROUP, ChatType.SUPERGROUP)
COORDINATORS = frozenset({"coordinator", "admin"})


class DeskForm(StatesGroup):
    text = State()  # the asker writes the question
    preview = State()  # …and sees it back
    follow_up = State()  # the asker writes again in their question
    comment = State()  # a comment to the rating
    answer = State()  # a coordinator answers from the inbox


class DeskGroupCb(CallbackData, prefix="dg"):
    """A button on a question's post in the work group: `take` question `id`."""

    action: str
    id: int


def who(user: Any, fallback: int) -> str:
    """A person as coordinators see them: name and @username."""
    if user is None:
        return str(fallback)
    name = " ".join(p for p in (user.first_name, user.last_name) if p) or str(user.id)
    return f"{name} (@{user.username})" if user.username else name


def menu_row(tr: Tr) -> list[InlineKeyboardButton]:
    return [button(tr._("☰ Menu"), Menu(section="home"))]


def shared(tr: Tr, catalog: Catalog, context: dict[str, Any]) -> dict[str, Any]:
    """A question's context in words: stage, region and topics, in `tr`'s language."""
    stage = context.get("stage")
    stage_text = None
    if stage:
        try:
            stage_text = f"{stage} · {tr.loc(catalog.stage_by_number(stage).name)}"
        except (UnknownCodeError, KeyError, ValueError):
            stage_text = str(stage)
    topics = [topic_name(catalog, code, tr.locale) for code in context.get("topics") or ()]
    return {
        "stage": stage_text,
        "region": region_name(catalog, context.get("region"), tr.locale),
        "topics": topics,
    }


async def _context(screen: Screen, profiles: ProfileService) -> Context:
    profile = await profiles.load(screen.user_id)
    return Context(
        stage=profile.stage,
        region=profile.user.region,
        topics=tuple(sorted(profile.topics)),
    )


async def _clear(screen: Screen) -> None:
    if screen.state is not None:
        await screen.state.clear()


# --------------------------------------------------------------------------- the asker


@router.callback_query(Menu.filter(F.section == "desk"))
@router.callback_query(DeskCb.filter(F.action == "ask"))
async def ask(query: CallbackQuery, screen: Screen) -> None:
    await _clear(screen)
    tr = screen.tr
    kinds = [
        [button(tr._(label), DeskCb(action="kind", arg=code))] for code, label in KINDS.items()
    ]
    rows = [
        *kinds,
        [
            button(tr._("📂 My questions"), DeskCb(action="mine")),
            button(tr._("📚 Frequent questions"), FaqCb(action="list")),
        ],
        menu_row(tr),
    ]
    await screen.show(tr("desk/ask_kind.j2"), keyboard(rows))


@router.callback_query(DeskCb.filter(F.action == "kind"))
async def kind_chosen(query: CallbackQuery, callback_data: DeskCb, screen: Screen) -> None:
    if callback_data.arg not in KINDS:
        raise StaleButton
    assert screen.state is not None
    await screen.state.set_state(DeskForm.text)
    await screen.state.set_data({"kind": callback_data.arg})
    tr = screen.tr
    back = [button(tr._("« Back"), DeskCb(action="ask")), *menu_row(tr)]
    text = tr("desk/ask_text.j2", kind=kind_name(tr, callback_data.arg))
    await screen.show(text, keyboard([back]))


async def _preview(
    screen: Screen, profiles: ProfileService, catalog: Catalog, faq: FaqService | None = None
) -> None:
    assert screen.state is not None
    data = await screen.state.get_data()
    tr = screen.tr
    context = await _context(screen, profiles)
    similar = await faq.similar(data["text"]) if faq is not None else []
    rows = [
        *(
            [button(f"📚 {title(e.question)}", FaqCb(action="open", id=e.id, arg="ask"))]
            for e in similar
        ),
        [button(tr._("📨 Send"), DeskCb(action="send"))],
        [button(tr._("✏️ Write again"), DeskCb(action="kind", arg=data["kind"]))],
        [button(tr._("✖ Cancel"), DeskCb(action="ask")), *menu_row(tr)],
    ]
    text = tr(
        "desk/preview.j2",
        kind=kind_name(tr, data["kind"]),
        text=data["text"],
        files=len(data.get("files") or ()),
        ctx=shared(tr, catalog, context.to_json()),
    )
    if similar:
        text += "\n\n" + tr("faq/similar.j2", entries=[title(e.question) for e in similar])
    await screen.show(text, keyboard(rows))


@router.message(DeskForm.text, F.text)
@router.message(DeskForm.preview, F.text)  # typed again over the preview: the new text
async def question_typed(
    message: Message, screen: Screen, profiles: ProfileService, catalog: Catalog, faq: FaqService
) -> None:
    assert message.text is not None
    assert screen.state is not None
    text = message.text.strip()
    if len(text) > MAX_QUESTION:
        await screen.send(screen.tr("desk/too_long.j2"))
        return
    await screen.state.update_data(text=text)
    await screen.state.set_state(DeskForm.preview)
    await _preview(screen, profiles, catalog, faq)


@router.callback_query(DeskCb.filter(F.action == "send"))
async def send_question(
    query: CallbackQuery,
    screen: Screen,
    desk: DeskService,
    profiles: ProfileService,
    catalog: Catalog,
    renderer: Renderer,
    bot: Bot,
    sender: Sender,
) -> None:
    assert screen.state is not None
    data = await screen.state.get_data()
    if await screen.state.get_state() != DeskForm.preview.state or not data.get("text"):
        raise StaleButton  # sent already, or a preview of an old session
    await screen.state.clear()
    question = await desk.ask(
        screen.user_id,
        data["kind"],
        data["text"],
        await _context(screen, profiles),
        list(data.get("files") or ()),
    )
    sender.wake()  # the experts of its kind are told
    await post_to_group(bot, desk, renderer, catalog, question, screen)
    tr = screen.tr
    rows = [[button(tr._("💬 My question"), DeskCb(action="open", id=question.id))], menu_row(tr)]
    await screen.show(tr("desk/sent.j2", question=question), keyboard(rows))


@router.callback_query(DeskCb.filter(F.action == "mine"))
async def mine(query: CallbackQuery, screen: Screen, desk: DeskService) -> None:
    await _clear(screen)
    tr = screen.tr
    questions = await desk.mine(screen.user_id)
    listed = [
        {"id": q.id, "kind_name": kind_name(tr, q.kind), "status_name": status_name(tr, q.status)}
        for q in questions[:10]
    ]
    rows = [
        [button(f"№{q.id} · {kind_name(tr, q.kind)}"[:60], DeskCb(action="open", id=q.id))]
        for q in questions[:10]
    ]
    rows += [[button(tr._("💬 Ask a question"), DeskCb(action="ask"))], menu_row(tr)]
    await screen.show(tr("desk/mine.j2", questions=listed), keyboard(rows))


async def show_own(screen: Screen, desk: DeskService, question: Question) -> None:
    tr = screen.tr
    messages = await desk.messages(question.id)
    rows: list[list[InlineKeyboardButton]] = []
    if question.status in ("taken", "answered"):
        rows.append([button(tr._("↩️ Reply"), DeskCb(action="reply", id=question.id))])
    if question.status == "answered":
        rows.append(
            [button(tr._("✅ Close the question"), DeskCb(action="close", id=question.id))]
        )
    if question.status in ("new", "taken"):
        rows.append([button(tr._("↩️ Withdraw"), DeskCb(action="withdraw", id=question.id))])
    if question.answered_at is not None and question.rating is None:
        rows.append(
            [
                button(str(n), DeskCb(action="rate", id=question.id, arg=str(n)))
                for n in range(1, 6)
            ]
        )
    closed = question.status == "closed" and question.answered_at is not None
    if closed or question.faq_permission is not None:  # «Частые вопросы»: asked once closed
        rows += permission_rows(tr, question.id, question.faq_permission)
    rows.append([button(tr._("« My questions"), DeskCb(action="mine")), *menu_row(tr)])
    text = tr(
        "desk/question.j2",
        question=question,
        kind=kind_name(tr, question.kind),
        status=status_name(tr, question.status),
        messages=messages,
    )
    if closed or question.faq_permission is not None:
        text += "\n\n" + tr("faq/permission.j2", permission=question.faq_permission)
    await screen.show(text, keyboard(rows))


@router.callback_query(DeskCb.filter(F.action == "open"))
async def open_own(
    query: CallbackQuery, callback_data: DeskCb, screen: Screen, desk: DeskService
) -> None:
    await _clear(screen)
    await show_own(screen, desk, await desk.own(callback_data.id, screen.user_id))


@router.callback_query(DeskCb.filter(F.action == "reply"))
async def reply(
    query: CallbackQuery, callback_data: DeskCb, screen: Screen, desk: DeskService
) -> None:
    question = await desk.own(callback_data.id, screen.user_id)
    if question.status not in ("new", "taken", "answered"):
        raise StaleButton
    assert screen.state is not None
    await screen.state.set_state(DeskForm.follow_up)
    await screen.state.set_data({"question": question.id})
    tr = screen.tr
    back = [button(tr._("« Back"), DeskCb(action="open", id=question.id)), *menu_row(tr)]
    prompt = tr._("Write your message to the coordinators about question №{n}.")
    await screen.send(prompt.format(n=question.id), keyboard([back]))


@router.message(DeskForm.follow_up, F.text)
async def follow_up_typed(
    message: Message,
    screen: Screen,
    desk: DeskService,
    renderer: Renderer,
    bot: Bot,
    sender: Sender,
) -> None:
    assert message.text is not None
    assert screen.state is not None
    data = await screen.state.get_data()
    text = message.text.strip()
    tr = screen.tr
    if len(text) > MAX_QUESTION:
        await screen.send(tr("desk/too_long.j2"))
        return
    await screen.state.clear()
    question = await desk.follow_up(int(data.get("question", 0)), screen.user_id, text)
    sender.wake()  # an expert who took it is told
    await post_follow_up(bot, desk, renderer, question, text)
    rows = [[button(tr._("💬 My question"), DeskCb(action="open", id=question.id))], menu_row(tr)]
    await screen.send(tr._("📨 Sent to the coordinators."), keyboard(rows))


@router.callback_query(DeskCb.filter(F.action.in_({"close", "withdraw"})))
async def close(
    query: CallbackQuery, callback_data: DeskCb, screen: Screen, desk: DeskService, bot: Bot
) -> None:
    """The asker closes an answered question or withdraws an unanswered one; its topic closes."""
    end = desk.close if callback_data.action == "close" else desk.withdraw
    question = await end(callback_data.id, screen.user_id)
    await close_topic(bot, desk, question)
    await show_own(screen, desk, question)


@router.callback_query(DeskCb.filter(F.action == "rate"))
async def rate(
    query: CallbackQuery, callback_data: DeskCb, screen: Screen, desk: DeskService
) -> None:
    if not callback_data.arg.isdigit():
        raise StaleButton
    question = await desk.rate(callback_data.id, screen.user_id, int(callback_data.arg))
    tr = screen.tr
    rows = [
        [button(tr._("✍️ Add a comment"), DeskCb(action="comment", id=question.id))],
        *(permission_rows(tr, question.id, None) if question.faq_permission is None else []),
        [button(tr._("« My questions"), DeskCb(action="mine")), *menu_row(tr)],
    ]
    text = tr._("Thank you! Your rating: {n}/5.").format(n=question.rating)
    if question.faq_permission is None:  # asked once: «Частые вопросы»
        text += "\n\n" + tr("faq/permission.j2", permission=None)
    await screen.show(text, keyboard(rows))


@router.callback_query(DeskCb.filter(F.action == "comment"))
async def comment(
    query: CallbackQuery, callback_data: DeskCb, screen: Screen, desk: DeskService
) -> None:
    question = await desk.own(callback_data.id, screen.user_id)
    if question.rating is None:
        raise StaleButton
    assert screen.state is not None
    await screen.state.set_state(DeskForm.comment)
    await screen.state.set_data({"question": question.id})
    tr = screen.tr
    await screen.show(tr._("Write your comment in one message."), keyboard([menu_row(tr)]))


@router.message(DeskForm.comment, F.text)
async def comment_typed(message: Message, screen: Screen, desk: DeskService) -> None:
    assert message.text is not None
    assert screen.state is not None
    data = await screen.state.get_data()
    await screen.state.clear()
    await desk.comment(int(data.get("question", 0)), screen.user_id, message.text.strip())
    tr = screen.tr
    rows = [[button(tr._("« My questions"), DeskCb(action="mine")), *menu_row(tr)]]
    await screen.send(tr._("Thank you! The coordinators will read it."), keyboard(rows))


def attached(message: Message) -> dict[str, str] | None:
    """A photo or a document of the message, as the question keeps it."""
    if message.photo:
        return {"kind": "photo", "file_id": message.photo[-1].file_id}
    if message.document is not None:
        name = message.document.file_name or "document"
        return {"kind": "document", "file_id": message.document.file_id, "name": name}
    return None


@router.message(DeskForm.text, F.photo | F.document)
@router.message(DeskForm.preview, F.photo | F.document)
async def file_attached(
    message: Message, screen: Screen, profiles: ProfileService, catalog: Catalog, faq: FaqService
) -> None:
    """Up to MAX_FILES photos or documents go with the question (the text is still needed)."""
    assert screen.state is not None
    tr = screen.tr
    data = await screen.state.get_data()
    files = list(data.get("files") or ())
    file = attached(message)
    if file is None or len(files) >= MAX_FILES:
        note = tr._("A question takes up to {n} files.").format(n=MAX_FILES)
        await screen.send(note, keyboard([menu_row(tr)]))
        return
    files.append(file)
    await screen.state.update_data(files=files)
    if data.get("text"):
        await screen.state.set_state(DeskForm.preview)
        await _preview(screen, profiles, catalog, faq)
        return
    note = tr._("📎 Attached: {n} of {max}. Now write the question itself as text.")
    await screen.send(note.format(n=len(files), max=MAX_FILES), keyboard([menu_row(tr)]))


@router.message(DeskForm.text)
@router.message(DeskForm.follow_up)
@router.message(DeskForm.comment)
async def not_text(message: Message, screen: Screen) -> None:
    tr = screen.tr
    await screen.send(tr._("Please write it as text, in one message."), keyboard([menu_row(tr)]))


# --------------------------------------------------------------------------- the work group


def _group_tr(renderer: Renderer, desk: DeskService) -> Tr:
    return renderer.bind(desk.default_locale)


async def post_to_group(
    bot: Bot,
    desk: DeskService,
    renderer: Renderer,
    catalog: Catalog,
    question: Question,
    screen: Screen,
) -> None:
    """A new question gets its own topic in the work group, if one is set (else it waits in
    the inbox). A group that stopped working (the bot removed, topics off) only logs: the
    question is in the inbox all the same."""
    work = await desk.group()
    if work is None:
        return
    tr = _group_tr(renderer, desk)
    kind = kind_name(tr, question.kind)
    asker = who(screen.user, question.user_id)
    try:
        topic = await bot.create_forum_topic(work.chat_id, f"№{question.id} · {kind}"[:128])
        await desk.attach_topic(question.id, work.chat_id, topic.message_thread_id)
        text = tr(
            "desk/group_question.j2",
            question=question,
            kind=kind,
            ctx=shared(tr, catalog, question.context),
        )
        markup = keyboard([[button(tr._("🙋 Take"), DeskGroupCb(action="take", id=question.id))]])
        await bot.send_message(
            work.chat_id,
            f"{text}\n\n👤 {escape_html(asker)}",
            message_thread_id=topic.message_thread_id,
            reply_markup=markup,
        )
        await send_files(bot, work.chat_id, question, topic.message_thread_id)
    except TelegramAPIError as exc:
        log.warning(
            "desk group post failed", extra={"question_id": question.id, "error": str(exc)}
        )


async def send_files(
    bot: Bot, chat_id: int, question: Question, thread_id: int | None = None
) -> None:
    """The question's photos and documents, by their Telegram file ids."""
    for file in question.files:
        if file["kind"] == "photo":
            await bot.send_photo(chat_id, file["file_id"], message_thread_id=thread_id)
        else:
            await bot.send_document(chat_id, file["file_id"], message_thread_id=thread_id)


async def post_follow_up(
    bot: Bot, desk: DeskService, renderer: Renderer, question: Question, text: str
) -> None:
    work = await desk.group()
    if work is None or question.thread_id is None or question.group_id != work.chat_id:
        return
    tr = _group_tr(renderer, desk)
    try:
        await bot.send_message(
            work.chat_id,
            tr("desk/group_follow_up.j2", question=question, text=text),
            message_thread_id=question.thread_id,
        )
    except TelegramAPIError as exc:
        log.warning(
            "desk follow-up not posted", extra={"question_id": question.id, "error": str(exc)}
        )


async def post_inbox_answer(
    bot: Bot, desk: DeskService, renderer: Renderer, question: Question, screen: Screen, text: str
) -> None:
    """An answer given from the inbox to a question that has a topic goes into the topic too,
    so the work group keeps the whole conversation."""
    work = await desk.group()
    if work is None or question.thread_id is None or question.group_id != work.chat_id:
        return
    tr = _group_tr(renderer, desk)
    name = who(screen.user, screen.user_id)  # the template escapes it
    try:
        await bot.send_message(
            work.chat_id,
            tr("desk/group_inbox_answer.j2", name=name, text=text),
            message_thread_id=question.thread_id,
        )
    except TelegramAPIError as exc:
        log.warning(
            "desk answer not posted", extra={"question_id": question.id, "error": str(exc)}
        )


async def close_topic(bot: Bot, desk: DeskService, question: Question) -> None:
    work = await desk.group()
    if work is None or question.thread_id is None or question.group_id != work.chat_id:
        return
    try:
        await bot.close_forum_topic(work.chat_id, question.thread_id)
    except TelegramAPIError as exc:
        log.warning("desk topic not closed", extra={"question_id": question.id, "error": str(exc)})


@group.message(Command("desk_group"), ChatTypes(*GROUPS))
async def desk_group(
    message: Message,
    bot: Bot,
    roles: frozenset[str],
    desk: DeskService,
    renderer: Renderer,
    coordination: CoordinationService,
) -> None:
    tr = _group_tr(renderer, desk)
    assert message.from_user is not None
    if not roles & COORDINATORS:
        log.warning("desk group refused", extra={"user_id": message.from_user.id})
        await coordination.refused(message.from_user.id, "desk.group", str(message.chat.id))
        await message.reply(tr("desk/group_refused.j2", reason="role"))
        return
    chat = await bot.get_chat(message.chat.id)
    if not chat.is_forum:
        await message.reply(tr("desk/group_refused.j2", reason="forum"))
        return
    me = await bot.get_chat_member(message.chat.id, bot.id)
    if me.status != "administrator" or not getattr(me, "can_manage_topics", False):
        await message.reply(tr("desk/group_refused.j2", reason="rights"))
        return
    await desk.set_group(message.chat.id, chat.title, message.from_user.id)
    await message.reply(tr("desk/group_set.j2"))


@group.message(ChatTypes(*GROUPS))
async def in_group(
    message: Message,
    roles: frozenset[str],
    desk: DeskService,
    renderer: Renderer,
    sender: Sender,
) -> None:
    """A message in a group: in a question's topic of the work group, a coordinator's text is
    the answer; everything else is left alone."""
    work = await desk.group()
    thread = message.message_thread_id if message.is_topic_message else None
    if work is None or message.chat.id != work.chat_id or thread is None:
        return
    question = await desk.by_thread(work.chat_id, thread)
    if question is None or message.from_user is None:
        return
    if not roles & COORDINATORS:
        log.info("desk reply from a non-coordinator ignored", extra={"question_id": question.id})
        return
    tr = _group_tr(renderer, desk)
    if not message.text:
        await message.reply(tr._("Only text goes to the asker for now."))
        return
    if question.status not in ("new", "taken", "answered"):
        await message.reply(tr._("This question is closed: nothing was sent."))
        return
    if len(message.text) > MAX_QUESTION:
        await message.reply(tr._("Too long for one message to the asker: please split it."))
        return
    await desk.answer(question.id, message.from_user.id, message.text)
    sender.wake()
    await message.reply(tr._("✅ Sent to the asker."))


@group.callback_query(DeskGroupCb.filter(F.action == "take"))
async def group_take(
    query: CallbackQuery,
    callback_data: DeskGroupCb,
    roles: frozenset[str],
    desk: DeskService,
    renderer: Renderer,
    sender: Sender,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    tr = _group_tr(renderer, desk)
    if not roles & COORDINATORS:
        log.warning("desk take refused", extra={"user_id": query.from_user.id})
        callback_answer.text = tr._("Only coordinators answer questions.")
        callback_answer.show_alert = True
        return
    question = await desk.take(callback_data.id, query.from_user.id)
    if question is None:
        callback_answer.text = tr._("Already taken.")
        return
    sender.wake()
    callback_answer.text = tr._("Taken.")
    if isinstance(query.message, Message):
        name = escape_html(query.from_user.full_name)
        await query.message.edit_reply_markup(reply_markup=None)
        await bot.send_message(
            query.message.chat.id,
            tr._("🙋 Taken by {name}.").format(name=name),
            message_thread_id=query.message.message_thread_id,
        )


# --------------------------------------------------------------------------- the inbox


@inbox.callback_query(CoordinatorCb.filter(F.section == "desk"))
@inbox.callback_query(DeskCb.filter(F.action == "inbox"))
async def inbox_list(
    query: CallbackQuery,
    screen: Screen,
    desk: DeskService,
    desk_kinds: frozenset[str] | None,
) -> None:
    await _clear(screen)
    tr = screen.tr
    questions = await desk.inbox(desk_kinds, screen.user_id)
    listed = [
        {"id": q.id, "kind_name": kind_name(tr, q.kind), "status_name": status_name(tr, q.status)}
        for q in questions[:20]
    ]
    rows = [
        [button(f"№{q.id} · {kind_name(tr, q.kind)}"[:60], DeskCb(action="see", id=q.id))]
        for q in questions[:20]
    ]
    if desk_kinds is None:  # a coordinator
        rows.append([button(tr._("🎓 Experts"), ExpertCb(action="list"))])
        rows.append([button(tr._("📚 Frequent questions"), FaqAdminCb(action="list"))])
        rows.append([button(tr._("« Coordinator menu"), CoordinatorCb(section="menu"))])
        work = await desk.group()
    else:  # an expert: their kinds only
        rows.append([button(tr._("« Back"), Menu(section="expert")), *menu_row(tr)])
        work = None
    text = tr("desk/inbox.j2", questions=listed, group=work)
    await screen.show(text, keyboard(rows))


async def show_inbox_question(
    screen: Screen, desk: DeskService, users: UserService, catalog: Catalog, question: Question
) -> None:
    tr = screen.tr
    asker = await users.get(question.user_id)
    rows: list[list[InlineKeyboardButton]] = []
    if question.status == "new":
        rows.append([button(tr._("🙋 Take"), DeskCb(action="take", id=question.id))])
    if question.status in ("new", "taken", "answered"):
        rows.append(
            [
                button(tr._("✍️ Answer"), DeskCb(action="answer", id=question.id)),
                button(tr._("✅ Close"), DeskCb(action="shut", id=question.id)),
            ]
        )
    if question.files:
        rows.append([button(tr._("📎 Show the files"), DeskCb(action="files", id=question.id))])
    rows.append([button(tr._("« Questions"), DeskCb(action="inbox"))])
    text = tr(
        "desk/inbox_question.j2",
        question=question,
        kind=kind_name(tr, question.kind),
        status=status_name(tr, question.status),
        asker=who(asker, question.user_id),
        ctx=shared(tr, catalog, question.context),
        messages=await desk.messages(question.id),
        experts={e.user_id for e in await desk.experts()},
    )
    await screen.show(text, keyboard(rows))


@inbox.callback_query(DeskCb.filter(F.action == "see"))
async def inbox_see(
    query: CallbackQuery,
    callback_data: DeskCb,
    screen: Screen,
    desk: DeskService,
    desk_kinds: frozenset[str] | None,
    users: UserService,
    catalog: Catalog,
) -> None:
    await _clear(screen)
    question = await desk.get(callback_data.id, desk_kinds)
    await show_inbox_question(screen, desk, users, catalog, question)


@inbox.callback_query(DeskCb.filter(F.action == "files"))
async def inbox_files(
    query: CallbackQuery,
    callback_data: DeskCb,
    screen: Screen,
    desk: DeskService,
    desk_kinds: frozenset[str] | None,
    bot: Bot,
) -> None:
    await send_files(bot, screen.chat_id, await desk.get(callback_data.id, desk_kinds))


@inbox.callback_query(DeskCb.filter(F.action == "take"))
async def inbox_take(
    query: CallbackQuery,
    callback_data: DeskCb,
    screen: Screen,
    desk: DeskService,
    desk_kinds: frozenset[str] | None,
    users: UserService,
    catalog: Catalog,
    sender: Sender,
    callback_answer: CallbackAnswer,
) -> None:
    question = await desk.take(callback_data.id, screen.user_id, desk_kinds)
    if question is None:
        callback_answer.text = screen.tr._("Already taken.")
        question = await desk.get(callback_data.id, desk_kinds)
    else:
        sender.wake()
    await show_inbox_question(screen, desk, users, catalog, question)


@inbox.callback_query(DeskCb.filter(F.action == "answer"))
async def inbox_answer(
    query: CallbackQuery,
    callback_data: DeskCb,
    screen: Screen,
    desk: DeskService,
    desk_kinds: frozenset[str] | None,
) -> None:
    question = await desk.get(callback_data.id, desk_kinds)
    if question.status not in ("new", "taken", "answered"):
        raise StaleButton
    assert screen.state is not None
    await screen.state.set_state(DeskForm.answer)
    await screen.state.set_data({"question": question.id})
    tr = screen.tr
    back = [button(tr._("« Back"), DeskCb(action="see", id=question.id))]
    prompt = tr._("Write the answer to question №{n} in one message: it goes to the asker.")
    await screen.show(prompt.format(n=question.id), keyboard([back]))


@inbox.message(DeskForm.answer)
async def inbox_answer_typed(
    message: Message,
    screen: Screen,
    desk: DeskService,
    desk_kinds: frozenset[str] | None,
    users: UserService,
    catalog: Catalog,
    sender: Sender,
    bot: Bot,
    renderer: Renderer,
) -> None:
    assert screen.state is not None
    tr = screen.tr
    if not message.text:
        await screen.send(tr._("Please write it as text, in one message."))
        return
    if len(message.text) > MAX_QUESTION:
        await screen.send(tr._("Too long for one message to the asker: please split it."))
        return
    data = await screen.state.get_data()
    await screen.state.clear()
    question = await desk.answer(
        int(data.get("question", 0)), screen.user_id, message.text, desk_kinds
    )
    sender.wake()
    await post_inbox_answer(bot, desk, renderer, question, screen, message.text)
    await screen.send(tr._("✅ Sent to the asker."))
    await show_inbox_question(screen, desk, users, catalog, question)


@inbox.callback_query(DeskCb.filter(F.action == "shut"))
async def inbox_shut(
    query: CallbackQuery,
    callback_data: DeskCb,
    screen: Screen,
    desk: DeskService,
    desk_kinds: frozenset[str] | None,
    users: UserService,
    catalog: Catalog,
    sender: Sender,
    bot: Bot,
) -> None:
    question = await desk.shut(callback_data.id, screen.user_id, desk_kinds)
    sender.wake()
    await close_topic(bot, desk, question)
    await show_inbox_question(screen, desk, users, catalog, question)
