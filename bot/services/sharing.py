"""Opportunity cards outside the bot: inline search (`@bot субботник` in any chat), cards an
organiser posts into a group or channel the bot administers, and the live free places on both.

A card shown outside the bot is remembered (posted_cards) and redrawn in place when its
opportunity changes — a sign-up, an edit, a cancellation — or passes a phase (the cut-off, the
start, the end). Redrawing is coalesced and rate-limited: a change waits `card_edit_delay`
seconds so that a flood of sign-ups makes one edit, one card is edited at most every
`card_edit_interval` seconds (Telegram allows a group about 20 messages a minute), and all
cards together at most `card_edit_rate` edits a second. The rows are the truth, so a restart
(or another instance) picks up whatever was left unshown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.content import Catalog
from bot.delivery import TokenBucket
from bot.domain import opportunities as rules
from bot.domain.opportunities import Listing
from bot.infra.clock import Clock
from bot.storage import audit as audit_repo
from bot.storage import bot_chats as chats_repo
from bot.storage import sharing as repo
from bot.storage import volunteering as opp_repo
from bot.storage.bot_chats import KnownChat
from bot.storage.sharing import Posted
from bot.ui.render import Renderer

__all__ = ["KnownChat", "SharingService", "ShownCard"]

log = logging.getLogger(__name__)

INLINE_RESULTS = 20  # Telegram allows 50; a phone shows a handful
INLINE_CACHE_SECONDS = 10  # free places change: Telegram keeps an answer only briefly
SEARCH_HORIZON = timedelta(days=366)
KNOWN_CHATS_ASKED = 12  # known chats checked (getChatMember) for one organiser's screen
_ADMINS = ("creator", "administrator")
_GONE = ("message to edit not found", "MESSAGE_ID_INVALID", "chat not found", "can't be edited")


@dataclass(frozen=True, slots=True)
class ShownCard:
    text: str  # Telegram HTML
    markup: InlineKeyboardMarkup | None
    phase: str


class SharingService:
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        renderer: Renderer,
        catalog: Catalog,
        settings: Settings,
        bot: Bot,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.renderer = renderer
        self.catalog = catalog
        self.settings = settings
        self.bot = bot
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._bucket = TokenBucket(settings.card_edit_rate)
        self._edited_at: dict[int, float] = {}  # posted id -> monotonic time of the last edit
        self.edits = 0  # edits sent (for tests and logs)

    # ------------------------------------------------------------------ search and cards

    async def search(self, query: str) -> list[Listing]:
        """Open opportunities matching `query` (title, description, topic; ё = е, a common
        ending ignored), soonest first; `opp_<id>` is exactly that card; empty: the nearest."""
        text = query.strip()
        if text.startswith("opp_") and text[4:].isdigit() and len(text) < 14:
            async with self.engine.connect() as conn:
                found = await opp_repo.listing(conn, int(text[4:]))
            return [found] if found is not None else []
        now = self.clock.now()
        async with self.engine.connect() as conn:
            listings = await opp_repo.upcoming(conn, now, now + SEARCH_HORIZON)
        if not text:
            return listings[:INLINE_RESULTS]
        hits = []
        for listing in listings:
            opp = listing.opportunity
            topic = self.catalog.topic(opp.topic)
            names = [str(t.get(lang)) for t in (topic.name, topic.short) for lang in ("ru", "en")]
            if rules.search_matches(text, [opp.title, opp.description, *names]):
                hits.append(listing)
                if len(hits) == INLINE_RESULTS:
                    break
        return hits

    def card(self, listing: Listing, locale: str, bot_username: str | None) -> ShownCard:
        """The card as a group or an inline result shows it: the opportunity's own time zone,
        the free places, what happened to it, and «Sign up» opening the bot while one can."""
        tr = self.renderer.bind(locale)
        opp = listing.opportunity
        phase = rules.card_phase(opp, self.clock.now())
        text = tr("volunteer/shared_card.j2", listing=listing, phase=phase, tz=opp.timezone)
        markup = None
        if bot_username and phase in ("open", "closed", "cutoff"):
            label = tr._("✅ Sign up") if phase == "open" else tr._("ℹ️ More in the bot")
            url = f"https://t.me/{bot_username}?start=opp_{opp.id}"
            markup = InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text=label, url=url)]]
            )
        return ShownCard(text, markup, phase)

    def summary(self, listing: Listing, locale: str) -> str:
        """The inline result's description line: when, and the free places."""
        tr = self.renderer.bind(locale)
        opp = listing.opportunity
        return tr("volunteer/shared_line.j2", listing=listing, tz=opp.timezone).strip()

    # ------------------------------------------------------------------ remembering

    async def remember_inline(
        self, opportunity_id: int, inline_message_id: str, locale: str
    ) -> None:
        """A card someone chose from the inline results (chosen_inline_result)."""
        await self._remember(opportunity_id, locale, inline_message_id=inline_message_id)

    async def remember_post(
        self, opportunity_id: int, actor_id: int, chat_id: int, message_id: int, locale: str
    ) -> None:
        """A card the organiser posted into a group or channel (the audit log says who)."""
        await self._remember(opportunity_id, locale, chat_id=chat_id, message_id=message_id)
        async with self.engine.begin() as conn:
            await audit_repo.add(
                conn,
                actor_id,
                "opportunity.post",
                str(opportunity_id),
                {"chat_id": chat_id},
                self.clock.now(),
            )

    async def _remember(
        self,
        opportunity_id: int,
        locale: str,
        *,
        chat_id: int | None = None,
        message_id: int | None = None,
        inline_message_id: str | None = None,
    ) -> None:
        now = self.clock.now()
        async with self.engine.begin() as conn:
            opp = await opp_repo.get(conn, opportunity_id)
            if opp is None:
                return
            await repo.add(
                conn,
                opportunity_id,
                locale=locale,
                now=now,
                seq=opp.seq,
                updated=opp.updated_at or now,
                phase=rules.card_phase(opp, now),
                chat_id=chat_id,
                message_id=message_id,
                inline_message_id=inline_message_id,
            )

    # ------------------------------------------------------------------ chats the bot knows

    async def bot_membership(
        self,
        chat: KnownChat,
        status: str,
        can_post_messages: bool | None,
        at: datetime,
    ) -> None:
        """A my_chat_member update about the bot in a group or channel: remembered while it is
        an administrator that may post (in a channel, with the right to post), forgotten when
        it is demoted or removed (then the cards posted there are no longer updated)."""
        may_post = status == "administrator" and (
            chat.type != "channel" or bool(can_post_messages)
        )
        async with self.engine.begin() as conn:
            if may_post:
                await chats_repo.remember(conn, chat, at)
            else:
                removed = status in ("left", "kicked")
                await chats_repo.forget(conn, chat.chat_id, at, removed=removed)
        log.info(
            "bot chat membership",
            extra={"chat_id": chat.chat_id, "status": status, "may_post": may_post},
        )

    async def chats_of(self, user_id: int) -> list[KnownChat]:
        """The known chats that `user_id` administers, asked of Telegram now (the most
        recently added ones, at most KNOWN_CHATS_ASKED)."""
        async with self.engine.connect() as conn:
            known = await chats_repo.recent(conn, KNOWN_CHATS_ASKED)
        theirs = await asyncio.gather(*(self.administers(c.chat_id, user_id) for c in known))
        return [chat for chat, yes in zip(known, theirs, strict=True) if yes]

    async def administers(self, chat_id: int, user_id: int) -> bool:
        try:
            member = await self.bot.get_chat_member(chat_id, user_id)
        except TelegramAPIError:  # not there any more, or Telegram failed: not offered
            return False
        return member.status in _ADMINS

    async def known_chat(self, chat_id: int) -> KnownChat | None:
        async with self.engine.connect() as conn:
            return await chats_repo.get(conn, chat_id)

    async def chat_renamed(self, chat_id: int, title: str, username: str | None) -> None:
        async with self.engine.begin() as conn:
            await chats_repo.retitle(conn, chat_id, title, username)

    # ------------------------------------------------------------------ live updates

    def wake(self) -> None:
        """Something changed: redraw the cards that show it (after the coalescing delay)."""
        self._wake.set()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="card-refresher")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        idle = max(self.settings.tick_seconds, 1.0)
        while True:
            # asyncio.timeout, not wait_for: on Python 3.11 a wait_for whose event is set as
            # the task is cancelled returns and swallows the cancel, and `stop` waited for
            # this loop for ever (a teardown on CI, 2026-12-08).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(idle):
                    await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(self.settings.card_edit_delay)  # coalesce a flood of changes
            try:
                later = await self.refresh()
            except Exception:  # a bad round must not stop the updates
                log.exception("card refresh failed")
                later = 5.0
            if later is not None:
                asyncio.get_running_loop().call_later(later, self.wake)

    async def refresh(self) -> float | None:
        """Redraw every stale card once. Returns in how many seconds to look again (a card
        edited too recently waits), or None."""
        now = self.clock.now()
        async with self.engine.connect() as conn:
            cards = await repo.stale(conn, now, 200)
        if not cards:
            return None
        me = await self.bot.me()
        listings: dict[int, Listing | None] = {}
        later: float | None = None
        for posted in cards:
            wait = self._edited_at.get(posted.id, -1e9) + self.settings.card_edit_interval
            wait -= time.monotonic()
            if wait > 0:
                later = wait if later is None else min(later, wait)
                continue
            if posted.opportunity_id not in listings:
                async with self.engine.connect() as conn:
                    listings[posted.opportunity_id] = await opp_repo.listing(
                        conn, posted.opportunity_id
                    )
            listing = listings[posted.opportunity_id]
            if listing is None:
                continue
            retry = await self._redraw(posted, listing, me.username)
            if retry is not None:
                return retry
        return later

    async def _redraw(
        self, posted: Posted, listing: Listing, username: str | None
    ) -> float | None:
        shown = self.card(listing, posted.locale, username)
        await self._bucket.acquire()
        self._edited_at[posted.id] = time.monotonic()
        gone = False
        try:
            if posted.inline_message_id is not None:
                await self.bot.edit_message_text(
                    inline_message_id=posted.inline_message_id,
                    text=shown.text,
                    parse_mode="HTML",
                    reply_markup=shown.markup,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
            else:
                await self.bot.edit_message_text(
                    chat_id=posted.chat_id,
                    message_id=posted.message_id,
                    text=shown.text,
                    parse_mode="HTML",
                    reply_markup=shown.markup,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
            self.edits += 1
        except TelegramRetryAfter as exc:
            return float(exc.retry_after)
        except (TelegramServerError, TelegramNetworkError):
            return 30.0
        except TelegramForbiddenError:
            gone = True
        except TelegramBadRequest as exc:
            if "not modified" not in exc.message:
                gone = any(sign in exc.message for sign in _GONE)
                if not gone:
                    log.warning("card edit refused", extra={"posted_id": posted.id})
        opp = listing.opportunity
        async with self.engine.begin() as conn:
            if gone:
                await repo.forget(conn, posted.id)
            else:
                await repo.mark_shown(
                    conn, posted.id, opp.seq, opp.updated_at or self.clock.now(), shown.phase
                )
        return None
