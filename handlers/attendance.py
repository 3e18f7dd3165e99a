"""Before and after an event, the volunteer's side: the answer to «Придёте?» under the
reminder (yes — kept; no — the place goes at once to the next in the waiting list), and after
the event the one-tap rating with an optional comment.

The buttons carry whose sign-up they are (`uid`): pressed by someone else (a forwarded
message, forged data) they change nothing and say so; pressed after the start, the same.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import Bot, F, Router
from aiogram.enums import ChatAction
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.config import Settings
from bot.delivery import Sender
from bot.domain.attendance import hours_text
from bot.infra.turns import stepped_aside
from bot.services.volunteering import VolunteerService
from bot.ui.certificate import render_certificate
from bot.ui.keyboards import CertCb, ConfirmCb, Menu, RateCb, VolunteerCb, button, keyboard
from bot.ui.painter import Painter
from bot.ui.render import Tr, escape_html
from bot.ui.screen import Screen

router = Router(name=__name__)


class RatingComment(StatesGroup):
    typing = State()  # data: at_id (the opportunity)


def _answers(tr: Tr) -> dict[str, str]:
    return {
        "yes": tr._("✅ Thank you! See you there."),
        "already_yes": tr._("✅ You have confirmed already. See you there."),
        "no": tr._("Thank you for telling us. Your place goes to the next volunteer."),
        "not_yours": tr._("This button is someone else’s: nothing changed."),
        "not_signed": tr._("You no longer hold a place at this one: nothing changed."),
        "started": tr._("This opportunity has already started: nothing changed."),
        "cancelled": tr._("❌ The organiser cancelled this opportunity."),
    }


def _card_row(tr: Tr, opportunity_id: int) -> list[InlineKeyboardButton]:
    return [button(tr._("🙋 Open the opportunity"), VolunteerCb(action="card", id=opportunity_id))]


@router.callback_query(ConfirmCb.filter(F.action.in_({"yes", "no"})))
async def confirm(
    query: CallbackQuery,
    callback_data: ConfirmCb,
    screen: Screen,
    volunteering: VolunteerService,
    sender: Sender,
    callback_answer: CallbackAnswer,
) -> None:
    result = await volunteering.answer(
        callback_data.id, callback_data.uid, screen.user_id, callback_data.action == "yes"
    )
    tr = screen.tr
    said = _answers(tr)[result]
    callback_answer.text = said
    if result == "no":
        sender.wake()  # the next in the waiting list is told
    message = query.message
    if (
        result in {"yes", "already_yes", "no"}
        and isinstance(message, Message)
        and message.html_text
    ):
        # The question answered: the reminder keeps its text, says the answer, loses the buttons.
        rows = [] if result == "no" else [_card_row(tr, callback_data.id)]
        text = f"{message.html_text}\n\n<b>{escape_html(said)}</b>"
        if await screen.edit(message.message_id, text, keyboard(rows)):
            return
    menu = keyboard(
        [_card_row(tr, callback_data.id), [button(tr._("☰ Menu"), Menu(section="home"))]]
    )
    await screen.send(said, menu)


def _rated(tr: Tr) -> dict[str, str]:
    return {
        "not_yours": tr._("This button is someone else’s: nothing changed."),
        "bad_value": tr._("A rating is from 1 to 5: nothing changed."),
        "not_attended": tr._("Only those marked as having come rate an event: nothing changed."),
        "not_ended": tr._("The event has not ended yet: nothing changed."),
        "no_rating": tr._("Rate it first (1–5), then add a comment."),
    }


@router.callback_query(RateCb.filter(F.action == "rate"))
async def rate(
    query: CallbackQuery,
    callback_data: RateCb,
    screen: Screen,
    volunteering: VolunteerService,
    callback_answer: CallbackAnswer,
) -> None:
    tr = screen.tr
    result = await volunteering.rate(
        callback_data.id, callback_data.uid, screen.user_id, value=callback_data.value
    )
    if result != "ok":
        callback_answer.text = _rated(tr)[result]
        await screen.send(
            _rated(tr)[result], keyboard([[button(tr._("☰ Menu"), Menu(section="home"))]])
        )
        return
    said = tr._("Your rating: {stars} ({n} of 5). Thank you!").format(
        stars="⭐" * callback_data.value, n=callback_data.value
    )
    callback_answer.text = said
    rows = [
        [
            button(
                tr._("💬 Add a comment"),
                RateCb(action="comment", id=callback_data.id, uid=callback_data.uid),
            )
        ],
        [button(tr._("☰ Menu"), Menu(section="home"))],
    ]
    message = query.message
    if isinstance(message, Message) and message.html_text:
        base = message.html_text.split("\n\n⭐ ")[0]  # a second tap replaces the first answer
        if await screen.edit(
            message.message_id, f"{base}\n\n⭐ {escape_html(said)}", keyboard(rows)
        ):
            return
    await screen.send(said, keyboard(rows))


@router.callback_query(RateCb.filter(F.action == "comment"))
async def comment_ask(
    query: CallbackQuery,
    callback_data: RateCb,
    screen: Screen,
    volunteering: VolunteerService,
    callback_answer: CallbackAnswer,
) -> None:
    tr = screen.tr
    if callback_data.uid != screen.user_id:
        callback_answer.text = _rated(tr)["not_yours"]
        await screen.send(
            _rated(tr)["not_yours"], keyboard([[button(tr._("☰ Menu"), Menu(section="home"))]])
        )
        return
    assert screen.state is not None
    await screen.state.set_state(RatingComment.typing)
    await screen.state.update_data(at_id=callback_data.id)
    await screen.send(
        tr._("💬 A few words for the organiser: what went well, what to change?"),
        keyboard([[button(tr._("« Back"), Menu(section="home"))]]),
    )


@router.message(RatingComment.typing, F.text)
async def comment_typed(message: Message, screen: Screen, volunteering: VolunteerService) -> None:
    assert screen.state is not None
    assert message.text is not None
    tr = screen.tr
    opportunity_id = int((await screen.state.get_data()).get("at_id", 0))
    menu = keyboard([[button(tr._("☰ Menu"), Menu(section="home"))]])
    if not message.text.strip():
        await screen.send(tr._("Please write the comment as text."), menu)
        return
    result = await volunteering.rate(
        opportunity_id, screen.user_id, screen.user_id, comment=message.text
    )
    await screen.state.set_state(None)
    if result != "ok":
        await screen.send(_rated(tr)[result], menu)
        return
    await screen.send(tr._("✅ Thank you! The organiser will see your comment."), menu)


@router.message(RatingComment.typing)
async def comment_not_text(message: Message, screen: Screen) -> None:
    tr = screen.tr
    await screen.send(
        tr._("Please write the comment as text."),
        keyboard([[button(tr._("« Back"), Menu(section="home"))]]),
    )


# --- the certificate ------------------------------------------------------------------------


@router.callback_query(CertCb.filter(F.action == "ask"))
async def certificate_ask(
    query: CallbackQuery, screen: Screen, volunteering: VolunteerService
) -> None:
    tr = screen.tr
    history = await volunteering.history(screen.user_id)
    back = [button(tr._("« Back"), Menu(section="profile"))]
    if not history:
        await screen.show(tr("attendance/no_record.j2"), keyboard([back]))
        return
    user = screen.user
    first = (user.first_name if user else None) or ""
    full = " ".join(p for p in (first, user.last_name if user else None) if p)
    rows = [
        [button(tr._("👤 Full name: {name}").format(name=full[:40]), CertCb(action="full"))],
        [
            button(
                tr._("👤 First name only: {name}").format(name=first[:40]), CertCb(action="first")
            )
        ],
        back,
    ]
    text = tr(
        "attendance/cert_ask.j2",
        events=len(history),
        hours=hours_text(sum(a.counted for a in history), tr.locale),
    )
    await screen.show(text, keyboard(rows))


@router.callback_query(CertCb.filter(F.action.in_({"full", "first"})))
async def certificate_pdf(
    query: CallbackQuery,
    callback_data: CertCb,
    screen: Screen,
    volunteering: VolunteerService,
    painter: Painter,
    settings: Settings,
    bot: Bot,
    answer_press: Callable[[], Awaitable[None]],
) -> None:
    tr = screen.tr
    me = await bot.me()
    cert = await volunteering.certificate(
        screen.user_id,
        full_name=callback_data.action == "full",
        tr=tr,
        bot_username=me.username or "",
        tz=screen.zone(settings.default_timezone),
    )
    await answer_press()  # the button stops spinning now, not once the PDF is made
    await screen.chat_action(ChatAction.UPLOAD_DOCUMENT)
    async with stepped_aside():  # other users' updates go on while this one waits
        pdf = await painter.draw(render_certificate, cert)
    screen.query = None  # the document comes under the choice, which stays
    await screen.document(pdf, cert.filename, tr("attendance/cert_sent.j2", cert=cert))
