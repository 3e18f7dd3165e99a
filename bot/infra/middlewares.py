"""Middlewares of every update: the flood guard (outer); the end of a prompt the user left; the
press answerer; and the session middleware that retries a reply Telegram could not take. The
per-update context (user, roles, locale, screen) is `handlers.context`."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StateType
from aiogram.methods import SendChatAction
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, Message, TelegramObject, Update
from aiogram.types import User as TgUser
from aiogram.utils.callback_answer import CallbackAnswer

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

# True while an update is handled (and in tasks a handler starts): requests made then answer
# a user, and `RetryRequests` tries them again when Telegram is under strain.
ANSWERING: ContextVar[bool] = ContextVar("answering", default=False)


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float
    warned: bool = False


class FloodGuard(BaseMiddleware):
    """Per-user token bucket. Over the limit: one friendly "slow down", then quiet drops (every
    button press is still answered) until the bucket refills. Other users are unaffected.

    `refusal` gives the "slow down" text for a Telegram language code (`handlers.context`)."""

    def __init__(
        self,
        refusal: Callable[[str | None], str],
        burst: int,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        max_users: int = 100_000,
    ) -> None:
        self.refusal = refusal
        self.burst = burst
        self.rate = rate
        self.clock = clock
        self.max_users = max_users
        self.buckets: OrderedDict[int, _Bucket] = OrderedDict()

    def _take(self, user_id: int) -> _Bucket | None:
        """None when the update may pass; the bucket when it is over the limit."""
        now = self.clock()
        bucket = self.buckets.pop(user_id, None)
        if bucket is None:
            bucket = _Bucket(tokens=float(self.burst), stamp=now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
        self.buckets[user_id] = bucket  # most recently seen last
        if len(self.buckets) > self.max_users:
            self.buckets.popitem(last=False)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            if bucket.tokens >= 1:
                bucket.warned = False
            return None
        return bucket

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        # Registered on `update`, before the context middleware, so a flood costs no database.
        user: TgUser | None = data.get("event_from_user")
        inner = event.event if isinstance(event, Update) else event
        if user is None or not isinstance(inner, Message | CallbackQuery):
            return await handler(event, data)
        bucket = self._take(user.id)
        if bucket is None:
            return await handler(event, data)
        text = self.refusal(user.language_code)
        first = not bucket.warned
        bucket.warned = True
        if first:
            log.info("flood guard engaged", extra={"user_id": user.id})
        bot = data["bot"]
        if isinstance(inner, CallbackQuery):
            await bot.answer_callback_query(inner.id, text=text if first else None)
        elif first:
            await bot.send_message(inner.chat.id, text)
        return None


class _Watched(FSMContext):
    """The conversation's state, noting whether the handler set it (even to what it was)."""

    touched = False

    async def set_state(self, state: StateType = None) -> None:
        self.touched = True
        await super().set_state(state)


def is_command(message: Message) -> bool:
    """Text that aiogram's `Command` filter would read as a command (`/name …`)."""
    text = message.text or message.caption
    return text is not None and text.lstrip().startswith("/")


class EndPrompts(BaseMiddleware):
    """Outer update middleware, after aiogram's FSM one and before the user's context: a
    screen that waits for typed text (a prompt: one of the `prompts`, the states some message
    handler filters on — `bot.infra.routing.prompts`) takes only the answer to its question.

    * A command ends the prompt before it is routed, so it runs as it would anywhere.
    * A button press ends it after its handler, unless the handler set the state itself: a
      screen that still asks for text (the form's next step, the same question again) arms
      its prompt again as it is shown; any other screen leaves it ended, so a later text is
      not taken as the answer to a question no longer on screen.

    Other states (the quiz's, a list's) are kept as they are: buttons, not typed text, answer
    them. The FSM data stays; only the state is reset."""

    def __init__(self, prompts: frozenset[str]) -> None:
        self.prompts = prompts

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        state = data.get("state")
        if data.get("raw_state") not in self.prompts or not isinstance(state, FSMContext):
            return await handler(event, data)
        inner = event.event if isinstance(event, Update) else event
        if isinstance(inner, Message):
            if is_command(inner):
                await state.set_state(None)
                data["raw_state"] = None  # what the routers' state filters read
            return await handler(event, data)
        if not isinstance(inner, CallbackQuery):
            return await handler(event, data)
        watched = data["state"] = _Watched(storage=state.storage, key=state.key)
        try:
            return await handler(event, data)
        finally:
            if not watched.touched:
                await watched.set_state(None)


ANSWER_LIMIT = 200  # what Telegram shows of a press's answer (UTF-16 units; it refuses more)


def fit_answer(text: str | None, limit: int = ANSWER_LIMIT) -> str | None:
    """A press's answer as Telegram takes it: over `limit` UTF-16 units it is cut at a whole
    character and ends with "…" (an answer is plain text: no tag or entity to break)."""
    if text is None or len(text) * 2 <= limit or len(text.encode("utf-16-le")) // 2 <= limit:
        return text
    kept: list[str] = []
    room = limit - 1  # for the "…"
    for ch in text:
        room -= 2 if ord(ch) > 0xFFFF else 1
        if room < 0:
            break
        kept.append(ch)
    return "".join(kept).rstrip() + "…"


class AnswerPresses(BaseMiddleware):
    """Inner middleware: every button press gets exactly one answerCallbackQuery.

    Like aiogram's CallbackAnswerMiddleware (handlers may set `callback_answer.text`, cut to
    what Telegram takes: `fit_answer`), and it remembers which presses it answered, so the
    error router does not answer them twice.
    A handler about to do something slow may answer first: `await answer_press()`.
    """

    def __init__(self, remember: int = 10_000) -> None:
        self.remember = remember
        self.answered: OrderedDict[str, None] = OrderedDict()

    def was_answered(self, query_id: str) -> bool:
        return query_id in self.answered

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, CallbackQuery):
            return await handler(event, data)
        answer = data["callback_answer"] = CallbackAnswer(answered=False)
        sent = False

        async def answer_press() -> None:
            nonlocal sent
            if sent or answer.disabled:
                return
            sent = True
            self.answered[event.id] = None
            if len(self.answered) > self.remember:
                self.answered.popitem(last=False)
            await event.answer(text=fit_answer(answer.text), show_alert=answer.show_alert)

        data["answer_press"] = answer_press
        try:
            return await handler(event, data)
        finally:
            await answer_press()


class RetryRequests(BaseRequestMiddleware):
    """Session middleware: a request made while answering a user (a reply, an edit, a press's
    answer — see `ANSWERING`) that meets Telegram's flood control (429), a server error (5xx)
    or a network failure (timeout, dropped connection) is tried again — at most `attempts`
    times in all, waiting `retry_after` after a 429 (if no longer than `max_wait`) or
    `backoff` · 2ⁿ seconds — so users are still answered while Telegram is under strain.

    Requests outside updates pass untouched: the outbox sender pauses and retries on its own
    (its rows are the truth), and aiogram's polling backs off by itself. A retry after a lost
    answer may repeat a reply; that is better than no reply at all.
    """

    def __init__(
        self,
        attempts: int = 5,
        max_wait: float = 10.0,
        backoff: float = 0.25,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.attempts = max(1, attempts)
        self.max_wait = max_wait
        self.backoff = backoff
        self.sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if not ANSWERING.get() or isinstance(method, SendChatAction):  # a status: no retry
            return await make_request(bot, method)
        attempt = 1
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                wait = float(exc.retry_after)
                if attempt >= self.attempts or wait > self.max_wait:
                    raise
                error = type(exc).__name__
            except (TelegramServerError, TelegramNetworkError) as exc:
                wait = self.backoff * 2 ** (attempt - 1)
                if attempt >= self.attempts:
                    raise
                error = type(exc).__name__
            log.warning(
                "telegram request retried",
                extra={
                    "method": type(method).__name__,
                    "attempt": attempt,
                    "wait": wait,
                    "error": error,
                },
            )
            await self.sleep(wait)
            attempt += 1
