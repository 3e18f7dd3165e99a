"""The activist's profile: consent, role and place, ikigai, topics, problems, crises, quiz.

Everything here needs the user's consent (152-ФЗ): writes check it on the server and raise
`ConsentRequired` otherwise, whatever screen the request came from.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.content import Catalog
from bot.domain import matching
from bot.domain.errors import UserError
from bot.infra.clock import Clock
from bot.infra.sqlite import off_loop
from bot.storage import desk as desk_repo
from bot.storage import peers as peers_repo
from bot.storage import personal as personal_repo
from bot.storage import profile as repo
from bot.storage import settings as settings_repo
from bot.storage import users as users_repo
from bot.storage import volunteering as volunteering_repo
from bot.storage.profile import QuizRecord
from bot.storage.settings import CATEGORIES as CATEGORIES  # handed on to the handlers
from bot.storage.settings import DIGESTS as DIGESTS
from bot.storage.settings import PushSettings as PushSettings
from bot.storage.users import User

log = logging.getLogger(__name__)

# The policy's version, recorded with each consent and shown under the policy. 2026-12-07: the
# consultation desk, outside experts, the Frequent questions, confirmations and certificates.
CONSENT_VERSION = "2026-12-07"
SELF_CHOSEN_ROLES = frozenset({"activist", "volunteer"})
IKIGAI_COLUMNS = ("want", "can", "need")
ENTRY_LIMIT = 200
MAX_ENTRIES = 3


class ConsentRequired(UserError):
    template = "consent/required.j2"


@dataclass(frozen=True)
class Profile:
    user: User
    ikigai: dict[str, list[str]] = field(default_factory=dict)
    topics: frozenset[str] = frozenset()
    problems: frozenset[str] = frozenset()
    crises: frozenset[str] = frozenset()
    history: tuple[QuizRecord, ...] = ()

    @property
    def stage(self) -> int | None:
        return self.history[-1].stage if self.history else None

    def for_matching(self) -> matching.Profile | None:
        """The profile as the matching domain sees it (None before the stage quiz)."""
        if self.stage is None:
            return None
        return matching.Profile.for_stage(
            self.stage,
            problems=self.problems,
            topics=self.topics,
            region=self.user.region,
            crises=self.crises,
        )

    @property
    def role(self) -> str | None:
        chosen = self.user.roles & SELF_CHOSEN_ROLES
        return min(chosen) if chosen else None


class Organisers(Protocol):
    """What erasing a person needs of volunteering (bot.services.volunteering): cancel the
    opportunities they published and tell those signed up, in the erasure's transaction."""

    async def organiser_leaves(self, conn: AsyncConnection, organiser_id: int) -> int: ...


class ProfileService:
    """`organisers` tells the participants of an erased organiser's opportunities (without it
    those are cancelled silently); `catalog` names the catalog's grants and articles in the
    export; `forget_state` ends a conversation state kept outside the database (Redis)."""

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        *,
        organisers: Organisers | None = None,
        catalog: Catalog | None = None,
        forget_state: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.organisers = organisers
        self.catalog = catalog
        self.forget_state = forget_state

    async def _consented(self, conn: AsyncConnection, user_id: int) -> User:
        user = await users_repo.get(conn, user_id)
        if user is None or not user.consented:
            raise ConsentRequired
        return user

    # --- consent ---

    async def give_consent(
        self,
        user_id: int,
        first_name: str | None,
        last_name: str | None,
        username: str | None,
        locale: str | None = None,
    ) -> None:
        """Consent; `locale` (the language the user read the consent in) is kept unless they
        chose one with /language, so that pushes later speak it too."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            await users_repo.ensure(conn, user_id, now)
            current = await users_repo.get(conn, user_id)
            if locale and current is not None and current.locale is None:
                await users_repo.set_fields(conn, user_id, now, locale=locale)
            await users_repo.set_fields(
                conn,
                user_id,
                now,
                consent_version=CONSENT_VERSION,
                consent_at=now,
                first_name=_name(first_name, 128),
                last_name=_name(last_name, 128),
                username=_name(username, 64),
            )

    async def forget(self, user_id: int) -> None:
        """Declined consent, /delete_me or the retention purge (no update needed): in one
        transaction every row about the user goes, and what they did that stays names them
        no more (bot.storage.personal). Their published opportunities not started yet are
        cancelled, and those signed up are told."""
        with off_loop():  # it reads every table: not on the event loop
            async with self.engine.begin() as conn:
                told = 0
                if self.organisers is not None:  # first: it takes the opportunities' locks
                    told = await self.organisers.organiser_leaves(conn, user_id)
                erased = await personal_repo.erase(conn, user_id, self.clock.now())
        if self.forget_state is not None:
            await self.forget_state(user_id)
        if erased.pseudonym is not None or told:
            log.info(
                "personal data erased",
                extra={
                    "pseudonym": personal_repo.label(erased.pseudonym)
                    if erased.pseudonym is not None
                    else None,
                    "masked": erased.masked,
                    "told": told,
                },
            )

    # --- role and place ---

    async def set_role(self, user_id: int, role: str) -> None:
        if role not in SELF_CHOSEN_ROLES:
            raise ValueError(role)
        now = self.clock.now()
        async with self.engine.begin() as conn:
            await self._consented(conn, user_id)
            for other in SELF_CHOSEN_ROLES - {role}:
                await users_repo.revoke_role(conn, user_id, other)
            await users_repo.grant_role(conn, user_id, role, now)

    async def add_role(self, user_id: int, role: str) -> None:
        """One more self-chosen role, keeping the other: a volunteer with a project of their
        own is both, and each journey keeps what was told in it."""
        if role not in SELF_CHOSEN_ROLES:
            raise ValueError(role)
        async with self.engine.begin() as conn:
            await self._consented(conn, user_id)
            await users_repo.grant_role(conn, user_id, role, self.clock.now())

    async def set_place(self, user_id: int, timezone: str, region: str | None) -> None:
        now = self.clock.now()
        async with self.engine.begin() as conn:
            await self._consented(conn, user_id)
            await users_repo.set_fields(conn, user_id, now, timezone=timezone, region=region)

    # --- what the user told us ---

    async def load(self, user_id: int) -> Profile:
        async with self.engine.connect() as conn:
            user = await self._consented(conn, user_id)
            ikigai, codes, history = await repo.told(conn, user_id)
            return Profile(
                user=user,
                ikigai=ikigai,
                topics=codes["topics"],
                problems=codes["problems"],
                crises=codes["crises"],
                history=tuple(history),
            )

    async def ikigai_column(self, user_id: int, col: str) -> list[str]:
        """One ikigai column's entries: what the exercise's screens need, without the profile."""
        async with self.engine.connect() as conn:
            await self._consented(conn, user_id)
            return (await repo.ikigai(conn, user_id)).get(col, [])

    async def codes(self, user_id: int, kind: str) -> frozenset[str]:
        """One set of codes (topics, problems or crises), without loading the profile."""
        async with self.engine.connect() as conn:
            await self._consented(conn, user_id)
            return await repo.codes(conn, user_id, kind)

    async def set_ikigai_column(self, user_id: int, col: str, entries: list[str]) -> None:
        if col not in IKIGAI_COLUMNS:
            raise ValueError(col)
        clean = [e for e in entries if e][:MAX_ENTRIES]
        if any(len(e) > ENTRY_LIMIT for e in clean):
            raise ValueError("entry too long")
        async with self.engine.begin() as conn:
            await self._consented(conn, user_id)
            await repo.set_ikigai_column(conn, user_id, col, clean, self.clock.now())

    async def finish_ikigai(self, user_id: int) -> None:
        now = self.clock.now()
        async with self.engine.begin() as conn:
            await self._consented(conn, user_id)
            await users_repo.set_fields(conn, user_id, now, ikigai_done_at=now)

    async def set_ikigai_focus(self, user_id: int, focus: str | None) -> None:
        """The user's sentence for what their project does (None: they skipped it)."""
        if focus is not None and len(focus) > ENTRY_LIMIT:
            raise ValueError("focus too long")
        async with self.engine.begin() as conn:
            await self._consented(conn, user_id)
            await users_repo.set_fields(conn, user_id, self.clock.now(), ikigai_focus=focus)

    async def ikigai_shown(self, user_id: int, message_id: int | None) -> None:
        """The message the ikigai's result is now shown in (edited when it changes)."""
        async with self.engine.begin() as conn:
            await self._consented(conn, user_id)
            await users_repo.set_fields(
                conn, user_id, self.clock.now(), ikigai_message_id=message_id
            )

    async def set_codes(self, user_id: int, kind: str, values: frozenset[str]) -> None:
        async with self.engine.begin() as conn:
            await self._consented(conn, user_id)
            await repo.set_codes(conn, user_id, kind, values)

    async def add_quiz_result(self, user_id: int, stage: int, answers: dict[str, str]) -> None:
        async with self.engine.begin() as conn:
            await self._consented(conn, user_id)
            await repo.add_quiz_result(conn, user_id, stage, answers, self.clock.now())

    # --- push settings ---

    async def push_settings(self, user_id: int) -> PushSettings:
        async with self.engine.connect() as conn:
            await self._consented(conn, user_id)
            return await settings_repo.get(conn, user_id)

    async def save_push_settings(self, user_id: int, settings: PushSettings) -> None:
        async with self.engine.begin() as conn:
            await self._consented(conn, user_id)
            await settings_repo.save(conn, user_id, settings, self.clock.now())

    # --- the user's own data (152-ФЗ) ---

    async def export(self, user_id: int, locale: str | None = None) -> dict[str, Any] | None:
        """Everything stored about the user (times as datetimes; `export_json` makes the
        file), or None when nothing is. Titles of the catalog's grants and articles in
        `locale` (the user's by default)."""
        async with self.engine.connect() as conn:
            user = await users_repo.get(conn, user_id)
            if user is None:
                return None
            data: dict[str, Any] = {
                "user": {k: v for k, v in asdict(user).items() if k != "roles"},
                "roles": sorted(user.roles),
                "ikigai": await repo.ikigai(conn, user_id),
                "topics": sorted(await repo.codes(conn, user_id, "topics")),
                "problems": sorted(await repo.codes(conn, user_id, "problems")),
                "crisis_reactions": sorted(await repo.codes(conn, user_id, "crises")),
                "quiz_results": [asdict(r) for r in await repo.quiz_history(conn, user_id)],
                "push_settings": asdict(await settings_repo.get(conn, user_id)),
                "followed_grants": await personal_repo.followed_grants(conn, user_id),
                "articles": await personal_repo.seen_articles(conn, user_id),
                "volunteering": {
                    **await volunteering_repo.export(conn, user_id),
                    "changes": await personal_repo.sign_up_changes(conn, user_id),
                },
                "peers": await peers_repo.export(conn, user_id),
                "published_opportunities": await personal_repo.published(conn, user_id),
                "broadcasts": await personal_repo.authored(conn, user_id),
                "added": await personal_repo.added_content(conn, user_id),
                "self_assessments": await personal_repo.self_assessments_of(conn, user_id),
                "waiting_messages": await personal_repo.waiting_messages(conn, user_id),
                "audit": await personal_repo.audit_entries(conn, user_id),
                "consultations": await desk_repo.export(conn, user_id),
                "expert": await desk_repo.export_expert(conn, user_id),
            }
        self._name_catalog_items(data, locale or user.locale)
        return data

    def _name_catalog_items(self, data: dict[str, Any], locale: str | None) -> None:
        """A followed grant or an article of the catalog gets its title (a coordinator's has
        one from its row)."""
        if self.catalog is None:
            return
        for section, lookup in (
            ("followed_grants", self.catalog.grant),
            ("articles", self.catalog.article),
        ):
            for item in data[section]:
                # a key no longer in the catalog stays as it is
                with contextlib.suppress(KeyError):
                    item["title"] = item["title"] or lookup(item["key"]).title.get(locale)


def export_json(data: dict[str, Any]) -> bytes:
    """The export as the JSON file the user gets: times in ISO 8601, UTC."""

    def plain(value: object) -> str:
        return value.isoformat() if isinstance(value, datetime) else str(value)

    return json.dumps(data, ensure_ascii=False, indent=2, default=plain).encode()


def _name(value: str | None, limit: int) -> str | None:
    """A name from Telegram as stored: without NUL characters (PostgreSQL's text refuses them,
    and consent failed for such a name), at most `limit` characters; None when empty."""
    return (value or "").replace("\x00", "")[:limit] or None
