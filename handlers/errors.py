"""One error router: expected errors become friendly replies, anything else is logged with the
update id and apologised for. Polling never dies of a handler's exception."""

from __future__ import annotations

import logging
from contextlib import suppress

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from bot.content import UnknownCodeError
from bot.domain.errors import StaleButton, UserError
from bot.infra.middlewares import AnswerPresses
from bot.services.users import User
from bot.ui.keyboards import main_menu
from bot.ui.render import Renderer

log = logging.getLogger(__name__)
router = Router(name=__name__)


@router.errors()
async def on_error(event: ErrorEvent, bot: Bot, renderer: Renderer, **data: object) -> None:
    update = event.update
    exc = event.exception
    locale = data.get("locale")
    tr = renderer.bind(locale if isinstance(locale, str) else "ru")
    user = data.get("user")
    presses = data.get("presses")
    if isinstance(exc, UserError):
        text = tr(exc.template, **exc.context)
    elif isinstance(exc, UnknownCodeError):  # forged or outdated button data
        log.info("unknown code in an update", extra={"update_id": update.update_id})
        text = tr(StaleButton.template)
    else:
        log.error(
            "update failed",
            exc_info=exc,
            extra={
                "update_id": update.update_id,
                "user_id": user.id if isinstance(user, User) else None,
                "error": type(exc).__name__,
            },
        )
        text = tr("errors/generic.j2")
    query = update.callback_query
    chat_id: int | None = None
    if query is not None:
        chat_id = query.message.chat.id if query.message else query.from_user.id
        # Usually answered already (AnswerPresses); not when a middleware before it failed.
        if not (isinstance(presses, AnswerPresses) and presses.was_answered(query.id)):
            with suppress(TelegramAPIError):
                await bot.answer_callback_query(query.id)
    elif update.message is not None:
        chat_id = update.message.chat.id
    if chat_id is None:
        return
    try:
        await bot.send_message(
            chat_id, text, reply_markup=main_menu(tr, user if isinstance(user, User) else None)
        )
    except Exception:  # the apology itself failed: log, never raise out of the error router
        log.exception("apology failed", extra={"update_id": update.update_id})
