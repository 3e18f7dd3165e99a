"""Coordinators' broadcasts: drafts, segments, preview, sending now or on schedule, live
progress, cancelling, and the final report.

Everything goes through the outbox (kind "broadcast", dedup key `broadcast:<id>:<user>`,
batch id = the broadcast's id), so the Sender's pacing, 429 pauses, 403 handling and restarts
apply. Starting a broadcast is one transaction: the conditional move to `sending`, the
audience query, the outbox rows, the recipient count and the audit entry commit together, so
a crash either starts it fully or not at all, and a second press, tick or instance cannot
start it twice.

Live progress is a task owned by this service per broadcast (`_follow`): it wakes when the
sender writes results (or every `PROGRESS_EVERY` seconds), counts the broadcast's rows
(`outbox.batch_counts`) and edits one message of the author's chat — at most every
`PROGRESS_EVERY` seconds, or sooner after `PROGRESS_ROWS` more deliveries. When no row is
pending or in flight it writes the final status and edits the message into the report. The
task ends quietly when the sender stops (the app is stopping); `tick()` starts tasks again for
every broadcast still going out, so a restart resumes them. With several instances each one
follows the broadcasts it finds; their edits show the same counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.content import get_catalog
from bot.delivery import Sender, send_payload
from bot.domain.broadcasts import Progress as Progress
from bot.domain.errors import StaleButton, UserError
from bot.domain.fields import blank
from bot.domain.paging import Page, asked
from bot.domain.segments import Geography, Segment
from bot.infra.clock import Clock
from bot.infra.sqlite import off_loop
from bot.storage import audit as audit_repo
from bot.storage import broadcasts as repo
from bot.storage import locks, outbox
from bot.storage.broadcasts import CANCELLED as CANCELLED  # handed on to the handlers
from bot.storage.broadcasts import DRAFT as DRAFT
from bot.storage.broadcasts import SCHEDULED as SCHEDULED
from bot.storage.broadcasts import Broadcast as Broadcast
from bot.storage.broadcasts import Content as Content
from bot.storage.broadcasts import OpportunityChoice as OpportunityChoice
from bot.storage.outbox import NewPush
from bot.storage.tables import user_roles, users
from bot.ui.broadcast import progress_view
from bot.ui.keyboards import Unsub
from bot.ui.render import CAPTION_LIMIT, MESSAGE_LIMIT, Renderer, utf16_len

log = logging.getLogger(__name__)


def _(message: str) -> str:
    """Marks a string for extraction; it is translated per recipient."""
    return message


KIND = "broadcast"
UNSUBSCRIBE = _("🔕 Unsubscribe from announcements")
PROGRESS_EVERY = 2.0  # seconds between two edits of the progress message
PROGRESS_ROWS = 100  # ... or this many deliveries, but never more often than every
PROGRESS_MIN_GAP = 1.0  # ... second
COORDINATING_ROLES = frozenset({"coordinator", "admin"})
OPPORTUNITIES_SINCE = timedelta(days=30)  # participants of opportunities over since then


class NotDraft(UserError):
    """The broadcast has been sent, scheduled or discarded meanwhile (an older screen)."""

    template = "broadcast/not_draft.j2"


class TooLong(UserError):
    template = "broadcast/too_long.j2"


def dedup_key(broadcast_id: int, user_id: int) -> str:
    return f"broadcast:{broadcast_id}:{user_id}"


def check_content(content: Content) -> None:
    """Telegram's limits: 4096 characters of text, 1024 of a caption (UTF-16 units), and
    something to send."""
    limit = CAPTION_LIMIT if content.has_file else MESSAGE_LIMIT
    length = utf16_len(content.text)
    if length > limit:
        raise TooLong(length=length, limit=limit, caption=content.has_file)
    if blank(content.text) and not content.has_file:
        raise TooLong(length=0, limit=limit, caption=False)


class BroadcastService:
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        renderer: Renderer,
        sender: Sender,
        settings: Settings,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.renderer = renderer
        self.sender = sender
        self.settings = settings
        catalog = get_catalog()
        self.geo = Geography.of(catalog.zones, catalog.regions)
        self.topic_codes = tuple(t.code for t in catalog.topics)
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._nudges: dict[int, asyncio.Event] = {}
        self._locales: dict[int, str] = {}  # broadcast → the author's locale, as last seen
        self._shown: dict[int, tuple[Any, ...]] = {}  # broadcast → the progress last shown
        self._tick_lock = asyncio.Lock()

    # ------------------------------------------------------------------ drafts

    async def create(
        self, author_id: int, content: Content, locale: str | None = None
    ) -> Broadcast:
        """A new draft to everyone (raises TooLong over Telegram's limits); `locale` is the
        author's language while composing, kept for the progress and the report."""
        check_content(content)
        now = self.clock.now()
        async with self.engine.begin() as conn:
            broadcast_id = await repo.create(conn, author_id, content, Segment(), now, locale)
            await audit_repo.add(conn, author_id, "broadcast.draft", str(broadcast_id), {}, now)
            created = await repo.get(conn, broadcast_id)
        assert created is not None
        return created

    async def get(self, broadcast_id: int) -> Broadcast | None:
        async with self.engine.connect() as conn:
            return await repo.get(conn, broadcast_id)

    async def owned(
        self, broadcast_id: int, actor_id: int, roles: frozenset[str] = frozenset()
    ) -> Broadcast:
        """The broadcast, if `actor_id` wrote it (admins may touch any); StaleButton
        otherwise — a forged or outdated button gets "this menu is out of date"."""
        found = await self.get(broadcast_id)
        if found is None or (found.author_id != actor_id and "admin" not in roles):
            raise StaleButton
        return found

    async def mine(self, author_id: int) -> list[Broadcast]:
        """The author's broadcasts that are scheduled or going out, newest first."""
        async with self.engine.connect() as conn:
            return await repo.of_author(conn, author_id, (repo.SCHEDULED, repo.SENDING), 5)

    async def count(self, segment: Segment) -> int:
        """How many users the segment reaches now (over every user: off the event loop)."""
        with off_loop():
            async with self.engine.connect() as conn:
                return await repo.count_audience(
                    conn, self._known(segment), self.geo, self.settings.default_timezone
                )

    async def set_segment(self, broadcast: Broadcast, segment: Segment) -> Broadcast:
        """Change a draft's recipients (NotDraft when it has moved on)."""
        segment = self._known(segment)
        async with self.engine.begin() as conn:
            if not await repo.set_segment(conn, broadcast.id, segment):
                raise NotDraft
            changed = await repo.get(conn, broadcast.id)
        assert changed is not None
        return changed

    async def discard(self, broadcast: Broadcast, actor_id: int) -> None:
        now = self.clock.now()
        async with self.engine.begin() as conn:
            if not await repo.delete_draft(conn, broadcast.id):
                raise NotDraft
            await audit_repo.add(conn, actor_id, "broadcast.discard", str(broadcast.id), {}, now)

    async def opportunity_page(
        self, page: int, size: int
    ) -> tuple[list[repo.OpportunityChoice], Page]:
        """Opportunities to choose participants of: from a month ago on, soonest first (a page
        past the end, from a stale button, is empty)."""
        since = self.clock.now() - OPPORTUNITIES_SINCE
        at = asked(page, size)
        async with self.engine.connect() as conn:
            choices, total = await repo.opportunity_choices(conn, since, at.offset, at.limit)
        return choices, at.counted(total)

    async def opportunity_titles(self, ids: Iterable[int]) -> dict[int, repo.OpportunityChoice]:
        async with self.engine.connect() as conn:
            return await repo.opportunity_titles(conn, ids)

    def _known(self, segment: Segment) -> Segment:
        return segment.known_only(self.topic_codes, self.geo)

    # ------------------------------------------------------------------ the message itself

    def payload(self, broadcast: Broadcast, locale: str) -> dict[str, Any]:
        """The outbox payload: the author's text and entities as sent (no parse mode), the
        file, and the one-tap unsubscribe from announcements in the recipient's language."""
        content = broadcast.content
        label = self.renderer.gettext(locale, UNSUBSCRIBE)
        payload: dict[str, Any] = {
            "text": content.text,
            "parse_mode": None,
            "entities": [dict(e) for e in content.entities] or None,
            "buttons": [[{"text": label, "callback_data": Unsub(what="announcements").pack()}]],
        }
        if content.photo:
            payload["photo"] = content.photo
        if content.document:
            payload["document"] = content.document
            payload["filename"] = content.filename
        return payload

    async def preview(self, broadcast: Broadcast, chat_id: int, locale: str) -> None:
        """Send the message to `chat_id` exactly as recipients will get it."""
        await send_payload(self.sender.bot, chat_id, self.payload(broadcast, locale))

    # ------------------------------------------------------------------ sending

    async def send_now(
        self,
        broadcast: Broadcast,
        actor_id: int,
        chat_id: int,
        message_id: int | None,
        locale: str,
    ) -> Broadcast:
        """Start a draft now; the progress shows in `message_id` of `chat_id` (edited in
        place; None: a new message). NotDraft when it has moved on meanwhile."""
        self._locales[broadcast.id] = locale
        started = await self._start(
            broadcast.id,
            from_=(repo.DRAFT,),
            actor_id=actor_id,
            action="broadcast.send",
            chat_id=chat_id,
            message_id=message_id,
        )
        if started is None:
            raise NotDraft
        self.sender.wake()
        self._ensure_follow(started.id)
        return started

    async def schedule(
        self,
        broadcast: Broadcast,
        actor_id: int,
        at: datetime,
        chat_id: int,
        message_id: int | None,
        locale: str,
    ) -> Broadcast:
        """A draft goes out at `at` (tick() starts it); survives restarts as a row."""
        self._locales[broadcast.id] = locale
        now = self.clock.now()
        async with self.engine.begin() as conn:
            moved = await repo.move(
                conn,
                broadcast.id,
                (repo.DRAFT,),
                repo.SCHEDULED,
                scheduled_at=at,
                progress_chat_id=chat_id,
                progress_message_id=message_id,
            )
            if not moved:
                raise NotDraft
            await audit_repo.add(
                conn,
                actor_id,
                "broadcast.schedule",
                str(broadcast.id),
                {"at": at.isoformat(), "segment": broadcast.segment.summary()},
                now,
            )
            scheduled = await repo.get(conn, broadcast.id)
        assert scheduled is not None
        return scheduled

    async def unschedule(self, broadcast: Broadcast, actor_id: int) -> Broadcast:
        """A scheduled broadcast back to a draft (NotDraft when it has started meanwhile)."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            if not await repo.move(
                conn, broadcast.id, (repo.SCHEDULED,), repo.DRAFT, scheduled_at=None
            ):
                raise NotDraft
            await audit_repo.add(
                conn, actor_id, "broadcast.unschedule", str(broadcast.id), {}, now
            )
            back = await repo.get(conn, broadcast.id)
        assert back is not None
        return back

    async def cancel(self, broadcast: Broadcast, actor_id: int) -> Broadcast:
        """⛔ Cancel a scheduled or sending broadcast: rows not yet taken by the sender are
        cancelled (`outbox.cancel_batch`); those in flight still go, then the report comes.
        A finished or already cancelled one is left as it is."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            current = await repo.get(conn, broadcast.id)
            if current is None:
                raise StaleButton
            cancelled = 0
            if current.status == repo.SCHEDULED:
                moved = await repo.move(
                    conn, broadcast.id, (repo.SCHEDULED,), repo.CANCELLED, finished_at=now
                )
            elif current.status == repo.SENDING:
                moved = await repo.move(conn, broadcast.id, (repo.SENDING,), repo.CANCELLED)
                if moved:
                    cancelled = await outbox.cancel_batch(conn, broadcast.id)
            else:
                moved = False
            if moved:
                await audit_repo.add(
                    conn,
                    actor_id,
                    "broadcast.cancel",
                    str(broadcast.id),
                    {"was": current.status, "not_sent": cancelled},
                    now,
                )
            after = await repo.get(conn, broadcast.id)
        assert after is not None
        if after.status == repo.CANCELLED and after.started_at is not None:
            self._ensure_follow(after.id)
            self._nudge(after.id)
        return after

    async def tick(self) -> None:
        """Called on every scheduler tick: start scheduled broadcasts that are due, and follow
        every broadcast still going out (after a restart: resume its progress message)."""
        try:
            await self._tick()
        except asyncio.CancelledError:
            # Only a stopping app cancels a tick (Ticker.stop shuts APScheduler down, which
            # cancels the running job, and APScheduler would log that as a crash). Nothing is
            # half done — a start is one transaction — and the next start ticks again.
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            log.info("broadcast tick cut short by the shutdown")

    async def _tick(self) -> None:
        async with self._tick_lock:
            now = self.clock.now()
            async with self.engine.connect() as conn:
                due = await repo.due(conn, now)
            for broadcast in due:
                try:
                    await self._start_scheduled(broadcast)
                except Exception:  # one bad row must not stop the others
                    log.exception("scheduled broadcast failed to start", extra=_ids(broadcast))
            if due:
                self.sender.wake()
            async with self.engine.connect() as conn:
                going = await repo.unfinished(conn)
            for broadcast in going:
                self._ensure_follow(broadcast.id)

    async def close(self) -> None:
        """Stop following (the rows stay in the outbox; the next start resumes)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _start_scheduled(self, broadcast: Broadcast) -> None:
        if not await self._may_coordinate(broadcast.author_id):
            now = self.clock.now()
            async with self.engine.begin() as conn:
                if await repo.move(
                    conn, broadcast.id, (repo.SCHEDULED,), repo.CANCELLED, finished_at=now
                ):
                    await audit_repo.add(
                        conn,
                        broadcast.author_id,
                        "broadcast.cancel",
                        str(broadcast.id),
                        {"was": repo.SCHEDULED, "reason": "the author is no coordinator now"},
                        now,
                    )
            log.warning("scheduled broadcast of a former coordinator", extra=_ids(broadcast))
            return
        started = await self._start(
            broadcast.id,
            from_=(repo.SCHEDULED,),
            actor_id=broadcast.author_id,
            action="broadcast.start",
            chat_id=broadcast.author_id,
            message_id=None,  # a new progress message at the bottom of the author's chat
        )
        if started is not None:
            log.info("scheduled broadcast started", extra=_ids(started))

    async def _may_coordinate(self, user_id: int) -> bool:
        if user_id in self.settings.admin_ids:
            return True
        async with self.engine.connect() as conn:
            found = await conn.execute(
                select(user_roles.c.role).where(
                    user_roles.c.user_id == user_id,
                    user_roles.c.role.in_(sorted(COORDINATING_ROLES)),
                )
            )
            return found.first() is not None

    async def _start(
        self,
        broadcast_id: int,
        *,
        from_: tuple[str, ...],
        actor_id: int,
        action: str,
        chat_id: int,
        message_id: int | None,
    ) -> Broadcast | None:
        """One transaction: move to `sending`, resolve the audience, enqueue, count, audit.
        None when the broadcast was no longer in `from_` (someone else started it)."""
        with off_loop():  # the audience, every user: off the event loop
            now = self.clock.now()
            async with self.engine.begin() as conn:
                moved = await repo.move(
                    conn,
                    broadcast_id,
                    from_,
                    repo.SENDING,
                    started_at=now,
                    progress_chat_id=chat_id,
                    progress_message_id=message_id,
                )
                if not moved:
                    return None
                broadcast = await repo.get(conn, broadcast_id)
                assert broadcast is not None
                audience = await repo.audience_of(
                    conn, self._known(broadcast.segment), self.geo, self.settings.default_timezone
                )
                payloads: dict[str, dict[str, Any]] = {}
                pushes = []
                for user_id, stored_locale in audience:
                    locale = stored_locale or self.settings.default_locale
                    if locale not in payloads:
                        payloads[locale] = self.payload(broadcast, locale)
                    pushes.append(
                        NewPush(
                            user_id=user_id,
                            chat_id=user_id,
                            kind=KIND,
                            dedup_key=dedup_key(broadcast_id, user_id),
                            payload=payloads[locale],
                            not_before=now,
                            batch_id=broadcast_id,
                        )
                    )
                enqueued = await outbox.enqueue(conn, pushes, now)
                await repo.set_values(conn, broadcast_id, recipients=enqueued)
                await audit_repo.add(
                    conn,
                    actor_id,
                    action,
                    str(broadcast_id),
                    {"recipients": enqueued, "segment": broadcast.segment.summary()},
                    now,
                )
                started = await repo.get(conn, broadcast_id)
            log.info(
                "broadcast started", extra={"broadcast_id": broadcast_id, "recipients": enqueued}
            )
            return started

        # ------------------------------------------------------------------ progress

    async def progress(self, broadcast_id: int, total: int | None = None) -> Progress:
        async with self.engine.connect() as conn:
            counts = await outbox.batch_counts(conn, broadcast_id)
        return Progress.of(counts, total)

    async def move_progress(
        self, broadcast: Broadcast, chat_id: int, message_id: int, locale: str
    ) -> None:
        """Show the live progress in another message (edited into it now) from now on."""
        self._locales[broadcast.id] = locale
        async with self.engine.begin() as conn:
            await repo.set_values(
                conn, broadcast.id, progress_chat_id=chat_id, progress_message_id=message_id
            )
            moved = await repo.get(conn, broadcast.id)
        assert moved is not None
        progress = await self.progress(moved.id, moved.recipients)
        await self._show(
            moved, progress.with_rate(self.sender.stats.recent_rate(), self.sender.rate)
        )
        self._ensure_follow(moved.id)

    def following(self, broadcast_id: int) -> bool:
        task = self._tasks.get(broadcast_id)
        return task is not None and not task.done()

    def _ensure_follow(self, broadcast_id: int) -> None:
        if self.following(broadcast_id):
            return
        self._nudges[broadcast_id] = asyncio.Event()
        with off_loop():  # counting a broadcast's rows, every second: not on the event loop
            self._tasks[broadcast_id] = asyncio.create_task(
                self._follow(broadcast_id), name=f"broadcast-{broadcast_id}"
            )

    def _nudge(self, broadcast_id: int) -> None:
        event = self._nudges.get(broadcast_id)
        if event is not None:
            event.set()

    async def _follow(self, broadcast_id: int) -> None:
        try:
            # One instance shows the progress (every instance's tick tries to follow it).
            async with locks.exclusive(self.engine, "broadcast-follow", broadcast_id) as mine:
                if mine:
                    await self._follow_loop(broadcast_id)
        except asyncio.CancelledError:
            raise
        except Exception:  # logged; the next tick follows it again
            log.exception("broadcast progress failed", extra={"broadcast_id": broadcast_id})
        finally:
            if self._tasks.get(broadcast_id) is asyncio.current_task():
                del self._tasks[broadcast_id]
                self._nudges.pop(broadcast_id, None)
                self._shown.pop(broadcast_id, None)

    async def _follow_loop(self, broadcast_id: int) -> None:
        first_mono: float | None = None
        first_done = 0
        last_edit = -math.inf
        last_done = -1
        last_count = -math.inf
        while True:
            broadcast = await self.get(broadcast_id)
            if broadcast is None or broadcast.finished_at is not None:
                return
            if broadcast.status == repo.CANCELLED:
                # a row the sender put back (a 429 pause, a busy chat) after the cancel
                async with self.engine.begin() as conn:
                    await outbox.cancel_batch(conn, broadcast_id)
            last_count = time.monotonic()
            current = await self.progress(broadcast_id, broadcast.recipients)
            if current.finished:
                await self._finish(broadcast, current)
                return
            mono = time.monotonic()
            if first_mono is None:
                first_mono, first_done = mono, current.done
            elapsed = mono - first_mono
            rate = (
                (current.done - first_done) / elapsed
                if elapsed >= 1.0
                else self.sender.stats.recent_rate()
            )
            current = current.with_rate(rate, self.sender.rate)
            since = mono - last_edit
            if since >= PROGRESS_EVERY or (
                since >= PROGRESS_MIN_GAP and current.done - last_done >= PROGRESS_ROWS
            ):
                await self._show(broadcast, current)
                last_edit, last_done = time.monotonic(), current.done
            if not self.sender.running:
                return  # the app is stopping: the next start resumes from the table
            await self._wait(broadcast_id, PROGRESS_EVERY)
            if not self.sender.running:
                return
            gap = last_count + 0.5 - time.monotonic()  # at most two counts a second
            if gap > 0:
                await asyncio.sleep(gap)

    async def _wait(self, broadcast_id: int, timeout: float) -> None:  # noqa: ASYNC109
        """Until the sender writes results, this broadcast is nudged (cancelled), the sender
        stops, or `timeout` seconds pass."""
        nudge = self._nudges.get(broadcast_id)
        waiters: set[asyncio.Future[Any]] = {
            asyncio.ensure_future(self.sender.changed(self.sender.version, timeout=timeout))
        }
        if nudge is not None:
            waiters.add(asyncio.ensure_future(nudge.wait()))
        sender_task = self.sender.task
        try:
            if sender_task is not None:
                await asyncio.wait({*waiters, sender_task}, return_when=asyncio.FIRST_COMPLETED)
            else:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            for waiter in waiters:
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    await waiter
            if nudge is not None:
                nudge.clear()

    async def _finish(self, broadcast: Broadcast, final: Progress) -> None:
        now = self.clock.now()
        async with self.engine.begin() as conn:
            status = await repo.finish(conn, broadcast.id, now)
            if status is None:
                return  # finished by another follower
            details = {
                "status": status,
                "sent": final.sent,
                "failed": final.failed,
                "blocked": final.blocked,
                "not_sent": final.cancelled,
            }
            await audit_repo.add(
                conn, broadcast.author_id, "broadcast.finish", str(broadcast.id), details, now
            )
            finished = await repo.get(conn, broadcast.id)
        assert finished is not None
        log.info("broadcast finished", extra={"broadcast_id": broadcast.id, **details})
        await self._show(finished, final)
        self._locales.pop(broadcast.id, None)

    async def _locale(self, broadcast: Broadcast) -> str:
        known = self._locales.get(broadcast.id) or broadcast.locale
        if known:
            return known
        async with self.engine.connect() as conn:
            stored = (
                await conn.execute(select(users.c.locale).where(users.c.id == broadcast.author_id))
            ).scalar()
        return stored or self.settings.default_locale

    async def _show(self, broadcast: Broadcast, progress: Progress) -> None:
        """Edit the progress message (or send one, and remember it)."""
        tr = self.renderer.bind(await self._locale(broadcast))
        text, markup = progress_view(tr, broadcast, progress)
        chat_id = broadcast.progress_chat_id or broadcast.author_id
        shown = (chat_id, broadcast.progress_message_id, text, markup)
        if broadcast.progress_message_id is not None and self._shown.get(broadcast.id) == shown:
            return  # Telegram refuses an edit that changes nothing
        bot = self.sender.bot
        try:
            if broadcast.progress_message_id is not None:
                try:
                    await bot.edit_message_text(
                        text,
                        chat_id=chat_id,
                        message_id=broadcast.progress_message_id,
                        reply_markup=markup,
                    )
                    self._shown[broadcast.id] = shown
                    return
                except TelegramBadRequest as exc:
                    if "not modified" in exc.message:
                        return
                    log.info("progress message gone, sending anew", extra=_ids(broadcast))
            sent = await bot.send_message(chat_id, text, reply_markup=markup)
            self.sender.note_sent(chat_id)  # the author's own copy waits its second
        except TelegramAPIError as exc:  # the author blocked the bot, a network failure …
            log.warning(
                "progress message not shown", extra={**_ids(broadcast), "error": exc.message}
            )
            return
        async with self.engine.begin() as conn:
            await repo.set_values(
                conn, broadcast.id, progress_chat_id=chat_id, progress_message_id=sent.message_id
            )
        self._shown[broadcast.id] = (chat_id, sent.message_id, text, markup)


def _ids(broadcast: Broadcast) -> dict[str, int]:
    return {"broadcast_id": broadcast.id, "author_id": broadcast.author_id}
