"""«Частые вопросы»: answered desk questions published for everyone, with the asker's yes.

question answered ──asker: yes──> candidate ──coordinator opens──> draft (anonymised:
bot/domain/faq.py) ──edits, publishes──> published ──hides──> hidden ──publishes──> published

The asker's no (at any time, from their question's card) drops a draft and hides a published
entry. /delete_me keeps a published entry only when it no longer names the asker
(bot/storage/faq.py, `before_erasure`). A new question's preview shows the published entries
like it (`similar`); everyone may list them by kind and search them.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain import faq as domain
from bot.domain.errors import StaleButton
from bot.infra.clock import Clock
from bot.storage import audit as audit_repo
from bot.storage import desk as desk_repo
from bot.storage import faq as repo
from bot.storage import users as users_repo
from bot.storage.faq import DRAFT, HIDDEN, PUBLISHED, Candidate, Entry

__all__ = ["DRAFT", "HIDDEN", "PUBLISHED", "Candidate", "Entry", "FaqService"]

log = logging.getLogger(__name__)
FIELDS = {"q": "question", "a": "answer"}
LIMITS = {"question": domain.MAX_QUESTION, "answer": domain.MAX_ANSWER}


class FaqService:
    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    # ------------------------------------------------------------------ the asker

    async def set_permission(self, question_id: int, user_id: int, allowed: bool) -> None:
        """The asker's yes or no for their answered question (StaleButton: not theirs, or no
        answer yet). A no drops a draft and hides a published entry."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            question = await desk_repo.get(conn, question_id)
            if question is None or question.user_id != user_id or question.answered_at is None:
                log.warning("faq permission refused", extra={"user_id": user_id})
                raise StaleButton
            await repo.set_permission(conn, question_id, user_id, allowed)
            if not allowed:
                await repo.delete_unpublished(conn, question_id)
                entry = await repo.of_question(conn, question_id)
                if entry is not None:
                    await repo.change(conn, entry.id, (PUBLISHED,), status=HIDDEN, updated_at=now)

    # ------------------------------------------------------------------ everyone

    async def published(self) -> list[Entry]:
        async with self.engine.connect() as conn:
            return await repo.listed(conn)

    async def public(self, entry_id: int) -> Entry:
        """A published entry (StaleButton: hidden, a draft, gone)."""
        async with self.engine.connect() as conn:
            entry = await repo.get(conn, entry_id)
        if entry is None or entry.status != PUBLISHED:
            raise StaleButton
        return entry

    async def similar(self, text: str, limit: int = 3) -> list[Entry]:
        """Published entries whose question is like `text`, most alike first."""
        entries = {e.id: e for e in await self.published()}
        indexed = [domain.index(e.id, e.question, e.answer) for e in entries.values()]
        return [entries[i] for i, _ in domain.similar(text, indexed, limit)]

    async def search(self, text: str, limit: int = 10) -> list[Entry]:
        entries = {e.id: e for e in await self.published()}
        indexed = [domain.index(e.id, e.question, e.answer) for e in entries.values()]
        return [entries[i] for i in domain.search(text, indexed, limit)]

    # ------------------------------------------------------------------ coordinators

    async def candidates(self) -> list[Candidate]:
        async with self.engine.connect() as conn:
            return await repo.candidates(conn)

    async def every(self) -> list[Entry]:
        """Published and hidden entries, for the coordinators to edit."""
        async with self.engine.connect() as conn:
            return await repo.listed(conn, (PUBLISHED, HIDDEN))

    async def entry(self, entry_id: int) -> Entry:
        async with self.engine.connect() as conn:
            entry = await repo.get(conn, entry_id)
        if entry is None:
            raise StaleButton
        return entry

    async def start(self, question_id: int, coordinator_id: int) -> Entry:
        """The entry of an allowed, answered question: begun as a draft from the question and
        the coordinators' answers, anonymised as a first pass; an existing one as it is."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            question = await desk_repo.get(conn, question_id)
            if (
                question is None
                or question.answered_at is None
                or await repo.permission(conn, question_id) is not True
            ):
                raise StaleButton
            entry = await repo.of_question(conn, question_id)
            if entry is None:
                asker = await users_repo.get(conn, question.user_id)
                names = (asker.first_name, asker.last_name, asker.username) if asker else (None,)
                answers = [
                    m.text
                    for m in await desk_repo.messages(conn, question_id)
                    if m.author_id is not None
                ]
                entry_id = await repo.create(
                    conn,
                    question_id,
                    question.kind,
                    domain.anonymise(question.text, names)[: domain.MAX_QUESTION],
                    domain.anonymise("\n\n".join(answers), names)[: domain.MAX_ANSWER],
                    coordinator_id,
                    now,
                )
                entry = await repo.get(conn, entry_id)
        assert entry is not None
        return entry

    async def edit(self, entry_id: int, field: str, text: str, coordinator_id: int) -> Entry:
        """A coordinator's new text of the question (`q`) or the answer (`a`); too long:
        ValueError (the handler says so)."""
        column = FIELDS.get(field)
        if column is None:
            raise StaleButton
        text = text.strip()
        if not text or len(text) > LIMITS[column]:
            raise ValueError(column)
        now = self.clock.now()
        async with self.engine.begin() as conn:
            if not await repo.change(
                conn,
                entry_id,
                repo.STATUSES,
                **{column: text},
                edited_by=coordinator_id,
                updated_at=now,
            ):
                raise StaleButton
            entry = await repo.get(conn, entry_id)
        assert entry is not None
        return entry

    async def publish(self, entry_id: int, coordinator_id: int) -> Entry:
        """Publish a draft or a hidden entry — while the asker's yes holds (an entry cut from
        its question by an erasure was published already: it may be shown again)."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            entry = await repo.get(conn, entry_id)
            if entry is None or entry.status == PUBLISHED:
                raise StaleButton
            if entry.question_id is not None and (
                await repo.permission(conn, entry.question_id) is not True
            ):
                raise StaleButton
            await repo.change(
                conn,
                entry_id,
                (DRAFT, HIDDEN),
                status=PUBLISHED,
                edited_by=coordinator_id,
                updated_at=now,
                published_at=entry.published_at or now,
            )
            await audit_repo.add(conn, coordinator_id, "faq.publish", str(entry_id), {}, now)
            fresh = await repo.get(conn, entry_id)
        assert fresh is not None
        return fresh

    async def hide(self, entry_id: int, coordinator_id: int) -> Entry:
        now = self.clock.now()
        async with self.engine.begin() as conn:
            if not await repo.change(
                conn, entry_id, (PUBLISHED,), status=HIDDEN, edited_by=coordinator_id,
                updated_at=now,
            ):  # fmt: skip
                raise StaleButton
            await audit_repo.add(conn, coordinator_id, "faq.hide", str(entry_id), {}, now)
            entry = await repo.get(conn, entry_id)
        assert entry is not None
        return entry
