"""Before and after an event, the volunteer's side: the answer to «Придёте?» under the
reminder (yes — kept; no — the place goes at once to the next in the waiting list), and after
the event the one-tap rating with an optional comment.

The buttons carry whose sign-up they are (`uid`): pressed by someone else (a forwarded
message, forged data) they change nothing and say so; pressed after the start, the same.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.delivery import Sender
from bot.services.volunteering import VolunteerService
from bot.ui.keyboards import ConfirmCb, Menu, VolunteerCb, button, keyboard
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
