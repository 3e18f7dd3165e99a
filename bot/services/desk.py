"""The consultation desk: an activist's or volunteer's question to the coordinators.

new ──take──> taken ──answer──> answered ──(asker closes | 7 days of silence)──> closed
 └──────────────────────────── withdrawn (by the asker, while unanswered)

A question goes to the coordinators' work group (a forum supergroup set with /desk_group: one
topic per question) or, without one, waits in the coordinators' inbox. Everything the asker
receives — taken, an answer, closed — is an outbox row (the paced sender delivers it); what
goes into the group is posted by the handler or the tick directly, as other replies are.

A question not taken within `desk_remind_hours` working hours (weekdays 09:00–18:00 in the
deployment's zone, bot.domain.workhours) is reminded to the group once, by the tick.

Outside experts (a lawyer, an accountant): a coordinator makes a one-time invitation for some
kinds of questions — a deep link `t.me/<bot>?start=exp_<token>`, valid `INVITE_DAYS`, of which
only a hash of the token is stored. Whoever opens it becomes an expert (the role "expert" and
a `desk_experts` row with the kinds) and sees, takes and answers only questions of those kinds:
every coordinators'-side method takes `kinds` (None: a coordinator, all of them) and refuses a
question of another kind before changing anything. An expert is told of each new question of
their kinds (an outbox row).
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.errors import StaleButton, UserError
from bot.domain.workhours import after_working_hours
from bot.infra.clock import Clock
from bot.storage import audit as audit_repo
from bot.storage import desk as repo
from bot.storage import outbox as outbox_repo
from bot.storage import users as users_repo
from bot.storage.desk import OPEN, DeskGroup, DeskMessage, Expert, Invite, Question
from bot.storage.outbox import NewPush
from bot.ui.desk import KINDS, MAX_FILES, MAX_QUESTION, DeskCb, kind_name
from bot.ui.keyboards import Menu
from bot.ui.render import Renderer, Tr, split_html

__all__ = [
    "EXPERT",
    "MAX_FILES",
    "MAX_QUESTION",
    "DeskGroup",
    "DeskMessage",
    "DeskService",
    "Expert",
    "Invite",
    "NotTheirKind",
    "Question",
]

log = logging.getLogger(__name__)
SILENCE = timedelta(days=7)  # an answered question closes after a week without a message
UNANSWERED = ("new", "taken")  # what the asker may still withdraw
EXPERT = "expert"  # the role of an outside expert (user_roles)
INVITE_DAYS = 7  # an expert's invitation link is valid this long
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,40}$")  # what an invitation token looks like


class NotTheirKind(UserError):
    """An expert acted on a question of a kind they do not answer (a forged or old button)."""

    template = "desk/not_their_kind.j2"


@dataclass(frozen=True)
class Redeemed:
    """What opening an invitation link did: `outcome` is "joined", or why nothing changed —
    "forged", "used", "expired", "revoked", "own" (the coordinator's own link), "coordinator"
    (a coordinator sees every question anyway)."""

    outcome: str
    kinds: tuple[str, ...] = ()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
    """The desk in /stats: questions by kind and by the topics they shared, still open, hours
    to the first answer (median and 90th percentile, plain hours), ratings."""

    total: int
    kinds: tuple[tuple[str, int], ...]  # (kind, questions), most asked first
    topics: tuple[tuple[str, int], ...]  # (topic code, questions sharing it), most first
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
        timezone: str = "Europe/Moscow",
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.renderer = renderer
        self.default_locale = default_locale
        self.remind_hours = remind_hours  # working hours, in `timezone`
        self.timezone = timezone

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
            for expert_id in await repo.experts_of(conn, kind):
                if expert_id != user_id:
                    await self._tell_expert(conn, expert_id, question, now)
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
            message_id = await repo.add_message(conn, question, None, text[:MAX_QUESTION], now)
            fresh = await repo.get(conn, question_id)
            assert fresh is not None
            if await repo.is_expert(conn, fresh.taken_by):  # not in the work group: told
                assert fresh.taken_by is not None
                await self._tell_expert(conn, fresh.taken_by, fresh, now, key=str(message_id))
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

    @staticmethod
    def _allowed(question: Question, kinds: frozenset[str] | None) -> None:
        """`kinds`: an expert's (None: a coordinator's, every kind)."""
        if kinds is not None and question.kind not in kinds:
            log.warning(
                "not the expert's kind", extra={"target": question.id, "kind": question.kind}
            )
            raise NotTheirKind

    async def get(self, question_id: int, kinds: frozenset[str] | None = None) -> Question:
        async with self.engine.connect() as conn:
            question = await repo.get(conn, question_id)
        if question is None:
            raise StaleButton
        self._allowed(question, kinds)
        return question

    async def messages(self, question_id: int) -> list[DeskMessage]:
        async with self.engine.connect() as conn:
            return await repo.messages(conn, question_id)

    async def inbox(
        self, kinds: frozenset[str] | None = None, user_id: int | None = None
    ) -> list[Question]:
        """The open questions (a coordinator: `kinds` None) or an expert's: of their kinds,
        new or taken by them (`user_id`)."""
        async with self.engine.connect() as conn:
            return await repo.open_questions(conn, kinds, user_id)

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

    async def take(
        self, question_id: int, coordinator_id: int, kinds: frozenset[str] | None = None
    ) -> Question | None:
        """Take a new question (None: it was already taken, answered or closed); the asker is
        told (an outbox row: the caller wakes the sender)."""
        now = self.clock.now()
        await self.get(question_id, kinds)
        async with self.engine.begin() as conn:
            if not await repo.change(
                conn, question_id, ("new",), status="taken", taken_by=coordinator_id, taken_at=now
            ):
                return None
            question = await repo.get(conn, question_id)
            assert question is not None
            expert = await repo.is_expert(conn, coordinator_id)
            await self._push(conn, question, "taken", now, by_expert=expert)
        return question

    async def answer(
        self,
        question_id: int,
        coordinator_id: int,
        text: str,
        kinds: frozenset[str] | None = None,
    ) -> Question:
        """A coordinator's or an expert's answer (from the group topic or the inbox) goes to
        the asker as «Консультация №N» (an outbox row: the caller wakes the sender)."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            question = await repo.get(conn, question_id)
            if question is None or question.status not in OPEN:
                raise StaleButton
            self._allowed(question, kinds)
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

    async def shut(
        self, question_id: int, coordinator_id: int, kinds: frozenset[str] | None = None
    ) -> Question:
        """A coordinator closes a question (the asker is told and asked to rate it)."""
        now = self.clock.now()
        await self.get(question_id, kinds)
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
        topics = Counter(topic for *_, shared in rows for topic in shared)
        waits = sorted(
            round((answered - created).total_seconds() / 3600, 1)
            for _kind, _status, created, answered, _rating, _topics in rows
            if answered is not None
        )
        ratings = [rating for *_, rating, _topics in rows if rating is not None]
        return Figures(
            total=len(rows),
            kinds=tuple(kinds.most_common()),
            topics=tuple(topics.most_common()),
            open=sum(1 for _kind, status, *_ in rows if status in OPEN),
            median=_rank(waits, 0.5) if waits else None,
            p90=_rank(waits, 0.9) if waits else None,
            rated=len(ratings),
            average=round(sum(ratings) / len(ratings), 1) if ratings else None,
        )

    # ------------------------------------------------------------------ outside experts

    async def invite(self, by: int, kinds: tuple[str, ...]) -> tuple[str, Invite]:
        """A one-time invitation for `kinds` (at least one known kind): the token for the link
        (shown once: only its hash is kept) and the invitation."""
        chosen = tuple(k for k in KINDS if k in set(kinds))
        if not chosen or len(chosen) != len(set(kinds)):
            raise UserError("desk/experts_no_kind.j2")
        token = secrets.token_urlsafe(16)
        now = self.clock.now()
        async with self.engine.begin() as conn:
            invite_id = await repo.add_invite(
                conn, token_hash(token), chosen, by, now, now + timedelta(days=INVITE_DAYS)
            )
            await audit_repo.add(conn, by, "expert.invite", str(invite_id), {"kinds": chosen}, now)
            invite = await repo.get_invite(conn, invite_id)
        assert invite is not None
        return token, invite

    async def invites(self) -> list[Invite]:
        """The invitations that may still be used."""
        async with self.engine.connect() as conn:
            return await repo.pending_invites(conn, self.clock.now())

    async def revoke_invite(self, by: int, invite_id: int) -> Invite:
        now = self.clock.now()
        async with self.engine.begin() as conn:
            if not await repo.revoke_invite(conn, invite_id, now):
                raise StaleButton
            await audit_repo.add(conn, by, "expert.revoke", str(invite_id), {}, now)
            invite = await repo.get_invite(conn, invite_id)
        assert invite is not None
        return invite

    async def redeem(self, token: str, user_id: int, roles: frozenset[str]) -> Redeemed:
        """The invitation link opened by `user_id` (who has consented): they become an expert
        for its kinds (added to the kinds they had), or nothing changes and `outcome` says
        why."""
        if not TOKEN.match(token):
            return Redeemed("forged")
        now = self.clock.now()
        async with self.engine.begin() as conn:
            invite = await repo.invite_by_hash(conn, token_hash(token))
            if invite is None:
                log.warning("forged expert invitation", extra={"user_id": user_id})
                return Redeemed("forged")
            if invite.created_by == user_id:
                return Redeemed("own", invite.kinds)
            if invite.revoked_at is not None:
                return Redeemed("revoked", invite.kinds)
            if invite.used_at is not None:
                return Redeemed("used", invite.kinds)
            if invite.expires_at <= now:
                return Redeemed("expired", invite.kinds)
            if roles & {"coordinator", "admin"}:
                return Redeemed("coordinator", invite.kinds)
            if not await repo.use_invite(conn, invite.id, user_id, now):
                return Redeemed("used", invite.kinds)
            had = await repo.expert(conn, user_id)
            joined = set(invite.kinds) | set(had.kinds if had else ())
            kinds = tuple(k for k in KINDS if k in joined)
            await repo.set_expert(conn, user_id, kinds, invite.created_by, now)
            await users_repo.grant_role(conn, user_id, EXPERT, now, by=invite.created_by)
            details = {"invite": invite.id, "kinds": kinds}
            await audit_repo.add(conn, user_id, "expert.join", str(user_id), details, now)
        log.info("expert joined", extra={"user_id": user_id, "invite": invite.id})
        return Redeemed("joined", kinds)

    async def expert_kinds(self, user_id: int) -> frozenset[str]:
        """The kinds an expert answers (empty: not an expert, or no longer)."""
        async with self.engine.connect() as conn:
            found = await repo.expert(conn, user_id)
        return frozenset(found.kinds) if found else frozenset()

    async def experts(self) -> list[Expert]:
        async with self.engine.connect() as conn:
            return await repo.experts(conn)

    async def remove_expert(self, by: int, user_id: int) -> None:
        """The expert loses the role and the kinds at once (their answers stay), and is told
        (an outbox row: the caller wakes the sender)."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            if not await repo.remove_expert(conn, user_id):
                raise StaleButton
            await users_repo.revoke_role(conn, user_id, EXPERT)
            await audit_repo.add(conn, by, "expert.remove", str(user_id), {}, now)
            user = await users_repo.get(conn, user_id)
            if user is not None:  # told, so that the menu's missing button is no riddle
                tr = self.renderer.bind(user.locale or self.default_locale)
                await outbox_repo.enqueue(
                    conn,
                    [
                        NewPush(
                            user_id=user_id,
                            chat_id=user_id,
                            kind="desk",
                            dedup_key=f"desk:expert_removed:{user_id}:{now.isoformat()}",
                            payload={
                                "text": tr("desk/push_expert_removed.j2"),
                                "parse_mode": "HTML",
                                "buttons": [[_button(tr._("☰ Menu"), Menu(section="home"))]],
                            },
                            not_before=now,
                        )
                    ],
                    now,
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
            late = [  # at least as many plain hours as working hours have passed
                q
                for q in await repo.not_taken(conn, now - timedelta(hours=self.remind_hours))
                if after_working_hours(q.created_at, self.remind_hours, self.timezone) <= now
            ]
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

    # ------------------------------------------------------------------ pushes

    async def _tell_expert(
        self, conn: Any, expert_id: int, question: Question, now: datetime, *, key: str = ""
    ) -> None:
        """To an expert (an outbox row): a new question of their kind, or (`key`: the
        message's id) the asker wrote again in a question they took."""
        user = await users_repo.get(conn, expert_id)
        if user is None:
            return
        tr = self.renderer.bind(user.locale or self.default_locale)
        body = tr(
            "desk/push_expert.j2",
            question=question,
            kind=kind_name(tr, question.kind),
            follow_up=bool(key),
        )
        open_it = _button(tr._("📥 Open the question"), DeskCb(action="see", id=question.id))
        await outbox_repo.enqueue(
            conn,
            [
                NewPush(
                    user_id=user.id,
                    chat_id=user.id,
                    kind="desk",
                    dedup_key=f"desk:{question.id}:expert:{user.id}:{key}",
                    payload={
                        "text": split_html(body)[0],
                        "parse_mode": "HTML",
                        "buttons": [[open_it], [_button(tr._("☰ Menu"), Menu(section="home"))]],
                    },
                    not_before=now,
                )
            ],
            now,
        )

    async def _push(
        self,
        conn: Any,
        question: Question,
        event: str,
        now: datetime,
        *,
        text: str = "",
        key: str = "",
        by_expert: bool = False,
    ) -> None:
        """One push to the asker; `key` tells apart pushes of one event (each answer's message
        id), so a retried transaction never queues one twice; `by_expert`: an outside expert
        took it, not a coordinator."""
        user = await users_repo.get(conn, question.user_id)
        if user is None:
            return
        tr = self.renderer.bind(user.locale or self.default_locale)
        body = tr(
            f"desk/push_{event}.j2",
            question=question,
            kind=kind_name(tr, question.kind),
            text=text,
            by_expert=by_expert,
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
