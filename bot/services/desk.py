"""The consultation desk: an activist's or volunteer's question to the coordinators.

new ──take──> taken ──answer──> answered ──(asker closes | 7 days of silence)──> closed
 └──────────────────────────── withdrawn (by the asker, while unanswered)

A question goes to the coordinators' work group (a forum supergroup set with /desk_group: one
topic per question) or, without one, waits in the coordinators' inbox. Everything the asker
receives — taken, an answer, closed — is an outbox row (the paced sender delivers it); what
goes into the group is posted by the handler or the tick directly, as other replies are.

A question not taken within `desk_remind_hours` (plain hours, not working hours) is reminded
to the group once, by the tick.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.errors import StaleButton
from bot.infra.clock import Clock
from bot.storage import audit as audit_repo
from bot.storage import desk as repo
from bot.storage import outbox as outbox_repo
from bot.storage import users as users_repo
from bot.storage.desk import OPEN, DeskGroup, DeskMessage, Question
from bot.storage.outbox import NewPush
from bot.ui.desk import MAX_FILES, MAX_QUESTION, DeskCb, kind_name
from bot.ui.keyboards import Menu
from bot.ui.render import Renderer, Tr, split_html

__all__ = ["MAX_FILES", "MAX_QUESTION", "DeskGroup", "DeskMessage", "DeskService", "Question"]

log = logging.getLogger(__name__)
SILENCE = timedelta(days=7)  # an answered question closes after a week without a message
UNANSWERED = ("new", "taken")  # what the asker may still withdraw


@dataclass(frozen=True)
class Context:
    """What a question shares with the coordinators: the asker's stage, region and topics."""

    stage: int | None
    region: str | None
    topics: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"stage": self.stage, "region": self.region, "topics": list(self.topics)}


@dataclass(frozen=True)
class Figures:
    """The desk in /stats: questions by kind, still open, hours to the first answer (median and
    90th percentile, plain hours), ratings."""

    total: int
    kinds: tuple[tuple[str, int], ...]  # (kind, questions), most asked first
    open: int
    median: float | None
    p90: float | None
    rated: int
    average: float | None


def _rank(values: list[float], share: float) -> float:
    """The nearest-rank percentile of sorted `values`."""
    index = max(0, min(len(values) - 1, math.ceil(share * len(values)) - 1))
    return values[index]


class DeskService:
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        renderer: Renderer,
        default_locale: str = "ru",
        remind_hours: float = 24,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.renderer = renderer
        self.default_locale = default_locale
        self.remind_hours = remind_hours

    # ------------------------------------------------------------------ the asker's side

    async def ask(
        self,
        user_id: int,
        kind: str,
        text: str,
        context: Context,
        files: list[dict[str, str]] | None = None,
    ) -> Question:
        """A new question; `files`: photos and documents attached (at most MAX_FILES)."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            question_id = await repo.create(
                conn,
                user_id,
                kind,
                text[:MAX_QUESTION],
                context.to_json(),
                now,
                (files or [])[:MAX_FILES],
            )
            question = await repo.get(conn, question_id)
        assert question is not None
        log.info("desk question", extra={"question_id": question_id, "kind": kind})
        return question

    async def own(self, question_id: int, user_id: int) -> Question:
        """The asker's question, or StaleButton (someone else's, a forged id, gone)."""
        async with self.engine.connect() as conn:
            question = await repo.get(conn, question_id)
        if question is None or question.user_id != user_id:
            log.warning("not their question", extra={"user_id": user_id, "target": question_id})
            raise StaleButton
        return question

    async def mine(self, user_id: int) -> list[Question]:
        async with self.engine.connect() as conn:
            return await repo.of_user(conn, user_id)

    async def follow_up(self, question_id: int, user_id: int, text: str) -> Question:
        """The asker writes again in an open question (a coordinator answered it: it waits
        for them again)."""
        question = await self.own(question_id, user_id)
        now = self.clock.now()
        async with self.engine.begin() as conn:
            status = "taken" if question.status == "answered" else question.status
            if not await repo.change(conn, question_id, OPEN, status=status, active_at=now):
                raise StaleButton
            await repo.add_message(conn, question, None, text[:MAX_QUESTION], now)
            fresh = await repo.get(conn, question_id)
        assert fresh is not None
        return fresh

    async def close(self, question_id: int, user_id: int) -> Question:
        await self.own(question_id, user_id)
        now = self.clock.now()
        async with self.engine.begin() as conn:
            if not await repo.change(conn, question_id, OPEN, status="closed", closed_at=now):
                raise StaleButton
            question = await repo.get(conn, question_id)
        assert question is not None
        return question

    async def withdraw(self, question_id: int, user_id: int) -> Question:
        await self.own(question_id, user_id)
        now = self.clock.now()
        async with self.engine.begin() as conn:
            if not await repo.change(
                conn, question_id, UNANSWERED, status="withdrawn", closed_at=now
            ):
                raise StaleButton
            question = await repo.get(conn, question_id)
        assert question is not None
        return question

    async def rate(self, question_id: int, user_id: int, rating: int) -> Question:
        """A rating of an answered question (1-5; the answer came, so it may be closed)."""
        question = await self.own(question_id, user_id)
        if not 1 <= rating <= 5 or question.answered_at is None:
            raise StaleButton
        async with self.engine.begin() as conn:
            await repo.change(conn, question_id, (*OPEN, "closed"), rating=rating)
            fresh = await repo.get(conn, question_id)
        assert fresh is not None
        return fresh

    async def comment(self, question_id: int, user_id: int, text: str) -> None:
        question = await self.own(question_id, user_id)
        if question.rating is None:
            raise StaleButton
        async with self.engine.begin() as conn:
            await repo.change(
                conn, question_id, (*OPEN, "closed"), rating_comment=text[:MAX_QUESTION]
            )

    # ------------------------------------------------------------------ the coordinators' side

    async def get(self, question_id: int) -> Question:
        async with self.engine.connect() as conn:
            question = await repo.get(conn, question_id)
        if question is None:
            raise StaleButton
        return question

    async def messages(self, question_id: int) -> list[DeskMessage]:
        async with self.engine.connect() as conn:
            return await repo.messages(conn, question_id)

    async def inbox(self) -> list[Question]:
        async with self.engine.connect() as conn:
            return await repo.open_questions(conn)

    async def by_thread(self, group_id: int, thread_id: int) -> Question | None:
        async with self.engine.connect() as conn:
            return await repo.by_thread(conn, group_id, thread_id)

    async def attach_topic(self, question_id: int, group_id: int, thread_id: int) -> None:
        async with self.engine.begin() as conn:
            await repo.change(
                conn,
                question_id,
                (*OPEN, "closed", "withdrawn"),
                group_id=group_id,
                thread_id=thread_id,
            )

    async def take(self, question_id: int, coordinator_id: int) -> Question | None:
        """Take a new question (None: it was already taken, answered or closed); the asker is
        told (an outbox row: the caller wakes the sender)."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            if not await repo.change(
                conn, question_id, ("new",), status="taken", taken_by=coordinator_id, taken_at=now
            ):
                return None
            question = await repo.get(conn, question_id)
            assert question is not None
            await self._push(conn, question, "taken", now)
        return question

    async def answer(self, question_id: int, coordinator_id: int, text: str) -> Question:
        """A coordinator's answer (from the group topic or the inbox) goes to the asker
        as «Консультация №N» (an outbox row: the caller wakes the sender)."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            question = await repo.get(conn, question_id)
            if question is None or question.status not in OPEN:
                raise StaleButton
            values: dict[str, Any] = {"status": "answered", "active_at": now}
            if question.taken_by is None:
                values.update(taken_by=coordinator_id, taken_at=now)
            if question.answered_at is None:
                values["answered_at"] = now
            await repo.change(conn, question_id, OPEN, **values)
            message_id = await repo.add_message(
                conn, question, coordinator_id, text[:MAX_QUESTION], now
            )
            await self._push(
                conn, question, "answer", now, text=text[:MAX_QUESTION], key=str(message_id)
            )
            fresh = await repo.get(conn, question_id)
        assert fresh is not None
        return fresh

    async def shut(self, question_id: int, coordinator_id: int) -> Question:
        """A coordinator closes a question (the asker is told and asked to rate it)."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            if not await repo.change(conn, question_id, OPEN, status="closed", closed_at=now):
                raise StaleButton
            question = await repo.get(conn, question_id)
            assert question is not None
            await self._push(conn, question, "closed", now)
        return question

    async def figures(self) -> Figures:
        async with self.engine.connect() as conn:
            rows = await repo.figures_rows(conn)
        kinds = Counter(kind for kind, *_ in rows)
        waits = sorted(
            round((answered - created).total_seconds() / 3600, 1)
            for _kind, _status, created, answered, _rating in rows
            if answered is not None
        )
        ratings = [rating for *_, rating in rows if rating is not None]
        return Figures(
            total=len(rows),
            kinds=tuple(kinds.most_common()),
            open=sum(1 for _kind, status, *_ in rows if status in OPEN),
            median=_rank(waits, 0.5) if waits else None,
            p90=_rank(waits, 0.9) if waits else None,
            rated=len(ratings),
            average=round(sum(ratings) / len(ratings), 1) if ratings else None,
        )

    # ------------------------------------------------------------------ the work group

    async def group(self) -> DeskGroup | None:
        async with self.engine.connect() as conn:
            return await repo.group(conn)

    async def set_group(self, chat_id: int, title: str | None, by: int) -> None:
        now = self.clock.now()
        async with self.engine.begin() as conn:
            await repo.set_group(conn, chat_id, title, by, now)
            await audit_repo.add(conn, by, "desk.group", str(chat_id), {}, now)

    # ------------------------------------------------------------------ the tick

    async def tick(self, bot: Bot) -> int:
        """Close answered questions after a week of silence (the asker is told and asked to
        rate: outbox rows, returned as a count so the caller wakes the sender) and remind the
        group once of questions not taken within `remind_hours`."""
        now = self.clock.now()
        enqueued = 0
        async with self.engine.begin() as conn:
            for question in await repo.silent_answered(conn, now - SILENCE):
                if await repo.change(
                    conn, question.id, ("answered",), status="closed", closed_at=now
                ):
                    await self._push(conn, question, "closed", now)
                    enqueued += 1
        group = await self.group()
        if group is None:
            return enqueued
        async with self.engine.begin() as conn:
            late = await repo.not_taken(conn, now - timedelta(hours=self.remind_hours))
            for question in late:
                await repo.change(conn, question.id, ("new",), reminded_at=now)
        tr = self.renderer.bind(self.default_locale)
        for question in late:
            try:
                await bot.send_message(
                    group.chat_id,
                    tr(
                        "desk/reminder.j2",
                        question=question,
                        kind=kind_name(tr, question.kind),
                        hours=self.remind_hours,
                    ),
                    message_thread_id=question.thread_id
                    if question.group_id == group.chat_id
                    else None,
                )
            except TelegramAPIError as exc:
                log.warning(
                    "desk reminder not sent", extra={"question_id": question.id, "error": str(exc)}
                )
        return enqueued

    # ------------------------------------------------------------------ pushes to the asker

    async def _push(
        self,
        conn: Any,
        question: Question,
        event: str,
        now: datetime,
        *,
        text: str = "",
        key: str = "",
    ) -> None:
        """One push to the asker; `key` tells apart pushes of one event (each answer's message
        id), so a retried transaction never queues one twice."""
        user = await users_repo.get(conn, question.user_id)
        if user is None:
            return
        tr = self.renderer.bind(user.locale or self.default_locale)
        body = tr(
            f"desk/push_{event}.j2",
            question=question,
            kind=kind_name(tr, question.kind),
            text=text,
        )
        await outbox_repo.enqueue(
            conn,
            [
                NewPush(
                    user_id=user.id,
                    chat_id=user.id,
                    kind="desk",
                    dedup_key=f"desk:{question.id}:{event}:{key}",
                    payload={
                        "text": split_html(body)[0],
                        "parse_mode": "HTML",
                        "buttons": _buttons(tr, question, event),
                    },
                    not_before=now,
                )
            ],
            now,
        )


def _button(text: str, data: DeskCb | Menu) -> dict[str, str]:
    return {"text": text, "callback_data": data.pack()}


def _buttons(tr: Tr, question: Question, event: str) -> list[list[dict[str, str]]]:
    menu = [_button(tr._("☰ Menu"), Menu(section="home"))]
    if event == "answer":
        return [
            [
                _button(tr._("↩️ Reply"), DeskCb(action="reply", id=question.id)),
                _button(tr._("✅ Close the question"), DeskCb(action="close", id=question.id)),
            ],
            menu,
        ]
    if event == "closed":
        stars = [
            _button(str(n), DeskCb(action="rate", id=question.id, arg=str(n))) for n in range(1, 6)
        ]
        return [stars, menu] if question.answered_at is not None else [menu]
    return [[_button(tr._("💬 My question"), DeskCb(action="open", id=question.id))], menu]
