"""The one paced sender: delivers the outbox (`bot.storage.outbox`) to Telegram.

The outbox row is the truth; the sender only moves rows along:

    pending ──claim──> sending ──> sent | failed | blocked | skipped
                          └──(429, 5xx, network, stop)──> pending (later)

* **Claiming.** A loop claims due rows in batches (`outbox.claim`, safe with several
  instances) and keeps about two seconds of work in memory (at least 2 × `concurrency`).
* **Pacing.** A global `RateLimiter` (`rate` messages/s; the default `TokenBucket` is
  in-process; with REDIS_URL `bot.ratelimit.RedisRateLimiter` shares it between instances),
  at most one message per `chat_interval` seconds to one chat (counted from the end of the
  previous send to that chat; a row waits in memory without holding anything other chats
  need, or, if its chat is booked further ahead than a short hold, goes back with
  `not_before` = when it may go; with a `ChatPacer` the chat is also held across instances,
  and a row whose chat another instance is writing to goes back for a moment), and at most
  `concurrency` requests in flight. With a shared pace the rows held in memory are sized to
  what this instance actually sends in a quarter of the lease. Under it, the sender's own
  `Pace`: after a 429 the sender goes at half its rate, and climbs back by a twentieth of
  `rate` after each second's worth of sends without one (see `Pace`).
* **Errors.** 429 pauses *all* sending for `retry_after` seconds, halves the sender's own
  rate (once for the requests in flight together: they met the same flood) and puts the row
  back pending (the attempt is given back). A sender that came back at the full rate after
  each pause met a 429 after every pause under a lower limit, one per request in flight
  (608 in a minute); now a few a minute, and the rate climbs back when the limit goes. 403
  marks the user blocked (their other pending rows are skipped); 400 and other refusals fail
  the row at once; 5xx, timeouts and dropped connections retry with exponential backoff
  (`backoff_base` · 2ⁿ, capped) until `max_attempts`, then fail. Nothing kills the loops;
  each failure is logged with the row id, never the text.
* **Expiry.** A row whose payload's `expires_at` has passed (a reminder of an event that has
  started) is `skipped`, never sent late.
* **Results** are written in small batches by one writer task (one transaction each), so a
  busy sender does not queue on the database.
* **Crashes.** A row claimed by an instance that dies stays `sending` until its lease runs
  out (`lease` seconds after the claim), then any instance claims it again. That is the only
  way a message can go twice: a row whose request reached Telegram but whose result was not
  yet written when the process died is sent once more. A live sender never sends a row whose
  claim is past half its lease (it goes back unsent), and writes results only for rows still
  held under its own claim (`claimed_by`), so a slow instance cannot clobber a row another
  instance took over. A graceful `stop()` lets requests in
  flight finish, writes their results and puts the rows not yet started back to pending.

Times for the database (`not_before`, `claimed_at`, the lease) come from the injected clock;
pacing uses the real monotonic clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypedDict, TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.infra.clock import Clock
from bot.storage import outbox
from bot.storage.outbox import OutboxRow

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

BLOCKED_REASON = "user blocked the bot"
EXPIRED = "expired: its moment has passed"
UNAUTHORIZED_PAUSE = 60.0  # seconds: a revoked token pauses the sender instead of failing rows


# --------------------------------------------------------------------------- rate limiting


class RateLimiter(Protocol):
    """The global pace: `acquire()` returns when one more message may go."""

    async def acquire(self) -> None: ...


class ChatPacer(Protocol):
    """Pacing per chat shared with other instances (optional: a sender always paces its own
    sends to one chat; this keeps two instances from writing to one chat at once)."""

    async def hold_chat(self, chat_id: int, seconds: float) -> float:
        """Reserve the chat for one send for at most `seconds`: 0 when reserved, else the
        seconds until the current reservation ends."""
        ...

    async def free_chat(self, chat_id: int, after: float) -> None:
        """The send is over: the chat may be written to again `after` seconds from now."""
        ...


class TokenBucket:
    """An in-process rate limiter (GCRA, the "virtual scheduling" form of a token bucket).

    Every `acquire()` books the next slot on a virtual timeline spaced 1/`rate` apart and
    sleeps until it; lateness of one sleeper does not shift the others, so the long-run rate
    is exact however coarse the event loop's timers are. Up to `burst` acquisitions may go at
    once after an idle spell (default: a tenth of a second's worth, at least one).
    """

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        monotonic: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self._burst = burst
        self.set_rate(rate)
        self._monotonic = monotonic or _monotonic
        self._sleep = sleep
        self._next = -math.inf  # the theoretical time of the next free slot

    def set_rate(self, rate: float) -> None:
        """From now on `rate` a second (slots booked already keep their times)."""
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(1.0, self._burst if self._burst is not None else rate / 10)
        self._interval = 1.0 / rate
        self._tolerance = (self.burst - 1.0) * self._interval

    async def acquire(self) -> None:
        now = self._monotonic()
        slot = max(self._next, now - self._tolerance)
        self._next = slot + self._interval
        wait = slot - now
        if wait > 0:
            await self._sleep(wait)


def _monotonic() -> float:
    return time.monotonic()


class Pace:
    """This sender's own rate under the configured one: lowered by Telegram's 429, climbed
    back slowly (AIMD, as TCP does under congestion).

    A 429 halves the rate (not below `floor`); requests already in flight when it was cut
    answer for the same flood and cut nothing more. Each window of sends without a 429
    (as many as the rate sends in a second) adds `step` (a twentieth of the configured
    rate), up to the configured rate; there `acquire()` costs nothing and the global
    `RateLimiter` alone paces. Without it the sender came back at the full rate after every
    pause into a limit lower than its own: one 429 a second, one for every request in flight.
    """

    def __init__(
        self,
        ceiling: float,
        *,
        floor: float = 1.0,
        step: float | None = None,
        monotonic: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.ceiling = ceiling
        self.rate = ceiling
        self.floor = min(ceiling, floor)
        self.step = step if step is not None else ceiling / 20
        self._monotonic = monotonic or _monotonic
        self._bucket = TokenBucket(ceiling, monotonic=self._monotonic, sleep=sleep)
        self._clean = 0  # sends since the last change, none of them refused
        self._cut_at = -math.inf  # when the rate was last cut

    @property
    def lowered(self) -> bool:
        return self.rate < self.ceiling

    async def acquire(self) -> None:
        if self.lowered:
            await self._bucket.acquire()

    def started(self) -> float:
        """When a request starts (to tell `throttled` whether it began before a cut)."""
        return self._monotonic()

    def throttled(self, started: float) -> bool:
        """A 429 for a request that started at `started`: True when it cut the rate."""
        if started < self._cut_at:
            return False
        self._cut_at = self._monotonic()
        self._set(max(self.floor, self.rate / 2))
        return True

    def sent(self) -> None:
        if not self.lowered:
            return
        self._clean += 1
        if self._clean >= self.rate:
            self._set(min(self.ceiling, self.rate + self.step))

    def _set(self, rate: float) -> None:
        self._clean = 0
        self.rate = rate
        self._bucket.set_rate(rate)


# --------------------------------------------------------------------------- statistics


@dataclass
class SenderStats:
    """Counters since `start()`, for live progress; `recent_rate()` is messages/s sent."""

    started_at: datetime | None = None
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    skipped: int = 0
    retried: int = 0
    throttled_429: int = 0
    given_back: int = 0  # claims that aged past half the lease before their turn came
    _seconds: deque[list[int]] = field(default_factory=deque, repr=False)

    def note_sent(self, mono: float | None = None) -> None:
        self.sent += 1
        second = int(mono if mono is not None else time.monotonic())
        buckets = self._seconds
        if buckets and buckets[-1][0] == second:
            buckets[-1][1] += 1
        else:
            buckets.append([second, 1])
            while len(buckets) > 120:
                buckets.popleft()

    def recent_rate(self, window: float = 10.0, *, now: float | None = None) -> float:
        """Messages per second sent over the last `window` seconds (whole seconds)."""
        current = int(now if now is not None else time.monotonic())
        span = max(1, int(window))
        since = current - span
        total = sum(count for second, count in self._seconds if since < second <= current)
        return total / span


# --------------------------------------------------------------------------- the sender

OutcomeKind = Literal["sent", "failed", "retry", "blocked", "skipped"]


@dataclass(slots=True)
class _Outcome:
    kind: OutcomeKind
    row: OutboxRow
    message_id: int | None = None
    error: str | None = None
    not_before: datetime | None = None
    refund: bool = False


class _ChatBusy(Exception):  # another instance is writing to the chat
    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class _ChatSlot:
    """Pacing state of one chat: a FIFO lock (one send at a time) and when it may go next."""

    __slots__ = ("lock", "ready_at", "waiting")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.ready_at = 0.0  # monotonic
        self.waiting = 0


def _default_instance() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TelegramAPIError):
        return exc.message
    return type(exc).__name__


class Sender:
    """Delivers outbox rows: `await start()`, `wake()` after enqueueing, `await stop()`."""

    def __init__(
        self,
        bot: Bot,
        engine: AsyncEngine,
        clock: Clock,
        *,
        rate: float,
        chat_interval: float,
        concurrency: int,
        max_attempts: int,
        lease: float,
        instance: str | None = None,
        poll_interval: float = 1.0,
        idle_interval: float = 30.0,
        limiter: RateLimiter | None = None,
        chat_pacer: ChatPacer | None = None,
        backoff_base: float = 1.0,
        backoff_cap: float = 300.0,
        request_timeout: float | None = None,
        allow_paid_broadcast: bool = False,
    ) -> None:
        if rate <= 0 or concurrency < 1 or max_attempts < 1 or lease <= 0:
            raise ValueError("rate, concurrency, max_attempts and lease must be positive")
        self.bot = bot
        self.engine = engine
        self.clock = clock
        self.rate = rate
        self.chat_interval = max(0.0, chat_interval)
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.lease = timedelta(seconds=lease)
        self.instance = (instance or _default_instance())[:64]
        # How often to look for due rows while busy, and at most how long to sleep when the
        # outbox is idle (the sleep ends at the next `not_before`, or at `wake()`).
        self.poll_interval = poll_interval
        self.idle_interval = max(poll_interval, idle_interval)
        self.limiter: RateLimiter = limiter or TokenBucket(rate)
        self.pace = Pace(rate)  # this sender's own rate, lowered by 429s
        self.chat_pacer = chat_pacer
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        # A request must end well inside the lease, or another instance could take its row.
        self.request_timeout = max(1, int(min(request_timeout or 30.0, lease / 3)))
        # Longest a claimed row may wait in memory (its chat, a 429 pause) before it goes back.
        self.max_hold = min(10.0, lease / 4)
        # Telegram's paid broadcasts (over 30 messages/s) cost Stars: only when asked for.
        self.allow_paid_broadcast = bool(allow_paid_broadcast)
        # Rows kept in memory: about two seconds of work (at least two per request slot), but
        # never more than a quarter of the lease can send, nor 2000.
        self.high_water = max(
            1, int(min(max(rate * 2.0, 2.0 * concurrency), rate * lease / 4, 2000))
        )
        self.low_water = self.high_water // 2
        self.stats = SenderStats()

        self._task: asyncio.Task[None] | None = None
        self._tg: asyncio.TaskGroup | None = None
        self._stopping = False
        self._stop_event = asyncio.Event()
        self._kick = asyncio.Event()
        self._sem = asyncio.Semaphore(concurrency)
        self._chats: dict[int, _ChatSlot] = {}
        self._owned: set[int] = set()  # ids of rows claimed and not yet finished
        self._blocked_users: dict[int, float] = {}  # user id → monotonic time of the 403
        self._pause_until = 0.0  # monotonic
        self._results: list[_Outcome] = []
        self._results_ready = asyncio.Event()
        self._changed = asyncio.Condition()
        self._version = 0
        self._last_prune = 0.0

    @classmethod
    def from_settings(
        cls, bot: Bot, engine: AsyncEngine, clock: Clock, settings: Settings, **kwargs: Any
    ) -> Sender:
        return cls(
            bot,
            engine,
            clock,
            rate=settings.send_rate,
            chat_interval=settings.send_chat_interval,
            concurrency=settings.send_concurrency,
            max_attempts=settings.send_max_attempts,
            lease=settings.outbox_lease,
            **kwargs,
        )

    # ------------------------------------------------------------------ public

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The background task (None before `start()`)."""
        return self._task

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def in_memory(self) -> int:
        """Rows claimed by this sender and not finished yet."""
        return len(self._owned)

    @property
    def version(self) -> int:
        """Grows after every claim and every batch of results written."""
        return self._version

    async def start(self) -> None:
        if self.running:
            return
        self._stopping = False
        self._stop_event.clear()
        self.stats = SenderStats(started_at=self.clock.now())
        self._task = asyncio.create_task(self._run(), name=f"sender-{self.instance}")
        log.info(
            "sender started",
            extra={
                "instance": self.instance,
                "rate": self.rate,
                "chat_interval": self.chat_interval,
                "concurrency": self.concurrency,
            },
        )

    async def stop(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Take no new rows, let requests in flight finish, write every result, put rows not
        started back to pending; then return. After `timeout` seconds (None: no limit) the
        sender is cancelled as if it crashed: its rows come back when their lease runs out."""
        task = self._task
        if task is None:
            return
        self._stopping = True
        self._stop_event.set()
        self._kick.set()
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            log.error("sender did not stop in time", extra={"instance": self.instance})
            task.cancel()
            await asyncio.wait({task})
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("sender failed", exc_info=error, extra={"instance": self.instance})
        log.info(
            "sender stopped",
            extra={"instance": self.instance, "sent": self.stats.sent},
        )

    def wake(self) -> None:
        """Look for due rows now (call after enqueueing)."""
        self._kick.set()

    def note_sent(self, chat_id: int) -> None:
        """A message went to `chat_id` outside the outbox (a broadcast's live progress): this
        sender's next one to that chat keeps the gap too. Two at once would meet Telegram's
        per-chat limit, and the 429 pauses every send."""
        slot = self._chats.get(chat_id)
        if slot is None:
            slot = self._chats[chat_id] = _ChatSlot()
        slot.ready_at = max(slot.ready_at, time.monotonic() + self.chat_interval)

    async def changed(self, since: int, timeout: float | None = None) -> int:  # noqa: ASYNC109
        """Wait until `version` is past `since` (a claim or a batch of results written);
        returns the new version. Raises TimeoutError after `timeout` seconds."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: self._version > since)
            return self._version

    # ------------------------------------------------------------------ loops

    async def _run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            self._tg = tg
            writer = tg.create_task(self._write_loop(), name="sender-writer")
            await self._claim_loop()
            while self._owned:  # graceful stop: rows finish or go back
                await self._bump_wait()
            self._results_ready.set()
            await writer

    async def _bump_wait(self) -> None:
        since = self._version
        with contextlib.suppress(TimeoutError):
            await self.changed(since, timeout=0.5)

    async def _claim_loop(self) -> None:
        failures = 0
        while not self._stopping:
            self._kick.clear()
            wait = self.poll_interval
            try:
                window = self._window()
                room = window - len(self._owned)
                paused = self._pause_until - time.monotonic()
                if paused > 0:
                    wait = min(wait, paused)
                elif room > 0 and (room >= window // 2 or not self._owned):
                    rows = await self._claim(room)
                    failures = 0
                    if rows:
                        for row in rows:
                            self._dispatch(row)
                        await self._bump()
                        if len(rows) == room:
                            continue  # more may be due; the kick comes when room frees up
                    elif not self._owned:
                        wait = await self._idle_wait()
                self._prune_chats()
            except Exception:  # the database is away, or a bug: log, back off, go on
                failures += 1
                wait = min(self.poll_interval * 2**failures, 30.0)
                log.exception("outbox claim failed", extra={"instance": self.instance})
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._kick.wait()

    def _window(self) -> int:
        """How many rows to hold in memory. With a pace shared by several instances this one
        gets only its part of `rate`: hold what it actually sent in a quarter of the lease
        (at least two per request slot), so claims do not age while they wait their turn."""
        if not getattr(self.limiter, "instances_share", False):
            return self.high_water
        part = int(self.stats.recent_rate(5.0) * self.lease.total_seconds() / 4)
        return min(self.high_water, max(2 * self.concurrency, part))

    async def _idle_wait(self) -> float:
        """Nothing due and nothing in hand: sleep until the next row falls due (or a lease
        runs out), at most `idle_interval`; `wake()` cuts it short."""

        async def look() -> datetime | None:
            async with self.engine.connect() as conn:
                return await outbox.next_due(conn, self.lease)

        try:
            due = await _to_completion(look())
        except Exception:
            log.exception("outbox look-ahead failed", extra={"instance": self.instance})
            return self.poll_interval
        if due is None:
            return self.idle_interval
        ahead = (due - self.clock.now()).total_seconds()
        return min(self.idle_interval, max(self.poll_interval, ahead))

    async def _claim(self, limit: int) -> list[OutboxRow]:
        async def claim() -> list[OutboxRow]:
            async with self.engine.begin() as conn:
                now = self.clock.now()
                return await outbox.claim(conn, self.instance, now, limit, self.lease)

        return await _to_completion(claim())

    def _dispatch(self, row: OutboxRow) -> None:
        if row.id in self._owned:  # our own row came back (held past the lease): keep one
            log.warning("outbox row reclaimed while held", extra={"outbox_id": row.id})
            return
        assert self._tg is not None
        self._owned.add(row.id)
        self._tg.create_task(self._handle(row))

    async def _handle(self, row: OutboxRow) -> None:
        try:
            outcome = await self._deliver(row)
        except Exception as exc:  # a bug: never lose the row, never kill the sender
            log.exception("outbox row crashed the sender", extra={"outbox_id": row.id})
            outcome = self._retry(row, f"sender error: {type(exc).__name__}")
        self._finish(outcome)

    def _finish(self, outcome: _Outcome) -> None:
        self._results.append(outcome)
        self._results_ready.set()

    # ------------------------------------------------------------------ one row

    async def _deliver(self, row: OutboxRow) -> _Outcome:
        if row.attempts > self.max_attempts:
            return self._fail(row, f"gave up after {row.attempts - 1} attempts")
        if self._expired(row):
            self.stats.skipped += 1
            return _Outcome("skipped", row, error=EXPIRED)
        if row.user_id in self._blocked_users:
            self.stats.skipped += 1
            return _Outcome("skipped", row, error=BLOCKED_REASON)
        if self.chat_interval <= 0:
            return await self._attempt(row)
        slot = self._chats.get(row.chat_id)
        if slot is None:
            slot = self._chats[row.chat_id] = _ChatSlot()
        now = time.monotonic()
        ahead = max(0.0, slot.ready_at - now) + slot.waiting * self.chat_interval
        if slot.lock.locked():
            ahead += self.chat_interval
        if ahead > self.max_hold:  # booked too far ahead: back to the table until then
            return self._release(row, self.clock.now() + timedelta(seconds=ahead))
        slot.waiting += 1
        async with slot.lock:
            slot.waiting -= 1
            wait = slot.ready_at - time.monotonic()
            if wait > 0 and await self._stopped_within(wait):
                return self._release(row)
            if row.user_id in self._blocked_users:
                self.stats.skipped += 1
                return _Outcome("skipped", row, error=BLOCKED_REASON)
            try:
                return await self._attempt(row)
            finally:  # counted from the end of this send: what Telegram saw, plus the gap
                slot.ready_at = time.monotonic() + self.chat_interval

    def _expired(self, row: OutboxRow) -> bool:
        """The row's moment is over (`expires_at`: say, the event it reminds of has started)."""
        expires = row.payload.get("expires_at")
        return expires is not None and self.clock.now() >= datetime.fromisoformat(expires)

    async def _attempt(self, row: OutboxRow) -> _Outcome:
        async with self._sem:
            if not await self._unpaused():
                return self._release(row)
            await self.pace.acquire()
            await self.limiter.acquire()
            if not await self._unpaused():
                return self._release(row)
            if self._claim_aging(row):
                return self._give_back(row)
            if self._expired(row):  # it waited for its turn past its moment
                self.stats.skipped += 1
                return _Outcome("skipped", row, error=EXPIRED)
            started = self.pace.started()
            try:
                message_id = await self._send_paced(row)
            except _ChatBusy as busy:  # another instance is writing to this chat right now
                later = min(busy.seconds, 2 * self.chat_interval)
                return self._release(row, self.clock.now() + timedelta(seconds=later))
            except TelegramRetryAfter as exc:
                self.stats.throttled_429 += 1
                self._pause(exc.retry_after)
                if self.pace.throttled(started):
                    slower = {"rate": self.pace.rate, "instance": self.instance}
                    log.warning("sender slowed down", extra=slower)
                log.warning(
                    "outbox send throttled",
                    extra={"outbox_id": row.id, "retry_after": exc.retry_after},
                )
                not_before = self.clock.now() + timedelta(seconds=exc.retry_after)
                return self._release(row, not_before, error=_describe(exc))
            except TelegramForbiddenError as exc:
                self._blocked_users[row.user_id] = time.monotonic()
                self.stats.blocked += 1
                log.info("outbox user blocked the bot", extra={"outbox_id": row.id})
                return _Outcome("blocked", row, error=_describe(exc))
            except TelegramUnauthorizedError as exc:
                self._pause(UNAUTHORIZED_PAUSE)
                log.error("outbox send unauthorized: check the token", extra={"outbox_id": row.id})
                return self._release(row, error=_describe(exc))
            except (TelegramNetworkError, TelegramServerError) as exc:
                return self._retry(row, _describe(exc))
            except TelegramBadRequest as exc:
                return self._fail(row, _describe(exc))
            except TelegramAPIError as exc:  # 404, 409, 413, …: Telegram refuses this one
                return self._fail(row, _describe(exc))
            except (ValueError, TypeError, KeyError) as exc:  # a malformed payload
                return self._fail(row, f"bad payload: {type(exc).__name__}")
        self.stats.note_sent()
        if self.pace.lowered:
            self.pace.sent()
            if not self.pace.lowered:
                log.info("sender back at full rate", extra={"instance": self.instance})
        return _Outcome("sent", row, message_id=message_id)

    async def _send_paced(self, row: OutboxRow) -> int:
        """`_send`, with the chat held across instances (when a `chat_pacer` is set)."""
        pacer = self.chat_pacer
        if pacer is None or self.chat_interval <= 0:
            return await self._send(row)
        busy = await pacer.hold_chat(row.chat_id, self.request_timeout + self.chat_interval + 1)
        if busy > 0:
            raise _ChatBusy(busy)
        try:
            return await self._send(row)
        finally:  # counted from the end of the send, as the sender's own pacing does
            await pacer.free_chat(row.chat_id, self.chat_interval)

    async def _send(self, row: OutboxRow) -> int:
        message = await send_payload(
            self.bot,
            row.chat_id,
            row.payload,
            allow_paid_broadcast=True if self.allow_paid_broadcast else None,
            request_timeout=self.request_timeout,
        )
        return message.message_id

    # ------------------------------------------------------------------ outcomes

    def _fail(self, row: OutboxRow, error: str) -> _Outcome:
        self.stats.failed += 1
        log.warning(
            "outbox send failed",
            extra={"outbox_id": row.id, "attempt": row.attempts, "error": error},
        )
        return _Outcome("failed", row, error=error)

    def _retry(self, row: OutboxRow, error: str) -> _Outcome:
        if row.attempts >= self.max_attempts:
            return self._fail(row, f"gave up after {row.attempts} attempts: {error}")
        delay = min(self.backoff_cap, self.backoff_base * 2 ** max(0, row.attempts - 1))
        self.stats.retried += 1
        log.warning(
            "outbox send will be retried",
            extra={"outbox_id": row.id, "attempt": row.attempts, "delay": delay, "error": error},
        )
        not_before = self.clock.now() + timedelta(seconds=delay)
        return _Outcome("retry", row, error=error, not_before=not_before)

    def _release(
        self, row: OutboxRow, not_before: datetime | None = None, *, error: str | None = None
    ) -> _Outcome:
        """Back to pending without spending an attempt (stop, pause, a busy chat)."""
        if not_before is None:
            paused = self._pause_until - time.monotonic()
            not_before = row.not_before
            if paused > 0:
                not_before = max(not_before, self.clock.now() + timedelta(seconds=paused))
        return _Outcome("retry", row, error=error or row.error, not_before=not_before, refund=True)

    def _claim_aging(self, row: OutboxRow) -> bool:
        """The claim is past half its lease: a send now might still be in flight when the
        lease runs out and another instance takes the row (the request may last a third)."""
        if row.claimed_at is None:
            return False
        return self.clock.now() - row.claimed_at > self.lease / 2

    def _give_back(self, row: OutboxRow) -> _Outcome:
        """Back to pending unsent, for any instance to claim afresh (it waited too long here:
        the pace shared with other instances was slower than this sender's window)."""
        self.stats.given_back += 1
        log.info("outbox row given back unsent", extra={"outbox_id": row.id})
        return self._release(row)

    # ------------------------------------------------------------------ pauses

    def _pause(self, seconds: float) -> None:
        until = time.monotonic() + seconds
        if until > self._pause_until:
            self._pause_until = until
            log.warning("sender paused", extra={"seconds": seconds, "instance": self.instance})
            asyncio.get_running_loop().call_later(seconds, self._kick.set)

    async def _unpaused(self) -> bool:
        """Wait out a pause; False when stopping or the pause is too long to hold the row."""
        while True:
            if self._stopping:
                return False
            remaining = self._pause_until - time.monotonic()
            if remaining <= 0:
                return True
            if remaining > self.max_hold or await self._stopped_within(remaining):
                return False

    async def _stopped_within(self, seconds: float) -> bool:
        if self._stopping:
            return True
        try:
            async with asyncio.timeout(seconds):
                await self._stop_event.wait()
        except TimeoutError:
            return False
        return True

    # ------------------------------------------------------------------ writing results

    async def _write_loop(self) -> None:
        failures = 0
        while True:
            await self._results_ready.wait()
            self._results_ready.clear()
            batch, self._results = self._results, []
            if batch:
                try:
                    await _to_completion(self._write(batch))
                    failures = 0
                except Exception:
                    failures += 1
                    log.exception("outbox results not written", extra={"rows": len(batch)})
                    self._results[:0] = batch
                    await self._stopped_within(min(0.1 * 2**failures, 5.0))
                    self._results_ready.set()
                    continue
                for outcome in batch:
                    self._owned.discard(outcome.row.id)
                self._after_write(batch)
                await self._bump()
            if self._stopping and not self._owned and not self._results:
                return

    async def _write(self, batch: Sequence[_Outcome]) -> None:
        now = self.clock.now()
        me = self.instance  # only rows still held under this instance's claim are written
        async with self.engine.begin() as conn:
            sent = [(o.row.id, o.message_id or 0) for o in batch if o.kind == "sent"]
            await outbox.mark_sent_many(conn, sent, now, claimed_by=me)
            skipped = [o for o in batch if o.kind == "skipped"]
            for reason in {o.error or BLOCKED_REASON for o in skipped}:
                ids = [o.row.id for o in skipped if (o.error or BLOCKED_REASON) == reason]
                await outbox.mark_skipped(conn, ids, reason, claimed_by=me)
            for o in batch:
                if o.kind == "failed":
                    await outbox.mark_failed(
                        conn, o.row.id, o.error or "failed", now, claimed_by=me
                    )
                elif o.kind == "retry":
                    assert o.not_before is not None
                    await outbox.retry_later(
                        conn, o.row.id, o.not_before, o.error, refund=o.refund, claimed_by=me
                    )
                elif o.kind == "blocked":
                    await outbox.mark_blocked_user(
                        conn, o.row.user_id, now, row_id=o.row.id, error=o.error, claimed_by=me
                    )

    def _after_write(self, batch: Sequence[_Outcome]) -> None:
        loop = asyncio.get_running_loop()
        now = self.clock.now()
        soonest: float | None = None
        for outcome in batch:
            if outcome.kind == "retry" and outcome.not_before is not None:
                delay = (outcome.not_before - now).total_seconds()
                soonest = delay if soonest is None else min(soonest, delay)
        if soonest is not None:
            if soonest <= 0:
                self._kick.set()
            else:
                loop.call_later(soonest, self._kick.set)
        if len(self._owned) <= self._window() // 2:
            self._kick.set()

    async def _bump(self) -> None:
        async with self._changed:
            self._version += 1
            self._changed.notify_all()

    def _prune_chats(self) -> None:
        now = time.monotonic()
        if now - self._last_prune < 5.0:
            return
        self._last_prune = now
        idle = [
            chat_id
            for chat_id, slot in self._chats.items()
            if slot.ready_at < now and not slot.waiting and not slot.lock.locked()
        ]
        for chat_id in idle:
            del self._chats[chat_id]
        # The in-memory list only covers rows already claimed at the 403; later rows are
        # skipped by `claim` (users.blocked), which also sees a user who came back.
        forget = now - max(60.0, self.lease.total_seconds())
        for user_id in [u for u, at in self._blocked_users.items() if at < forget]:
            del self._blocked_users[user_id]


async def _to_completion(coro: Coroutine[Any, Any, T]) -> T:
    """Run a database transaction to its end even if the caller is cancelled meanwhile, then
    re-raise the cancellation. A transaction cut midway can leave its connection terminated
    but not closed, and SQLite locked until that object is garbage-collected; this way a
    cancelled sender behaves like a process that died between two statements."""
    task = asyncio.ensure_future(coro)
    cancelled: asyncio.CancelledError | None = None
    while True:
        try:
            result = await asyncio.shield(task)
        except asyncio.CancelledError as exc:
            if task.done():
                raise
            cancelled = exc
        else:
            break
    if cancelled is not None:
        raise cancelled
    return result


class _Captioned(TypedDict):
    """What sendPhoto and sendDocument get alike besides the file."""

    caption: str | None
    parse_mode: str | None
    caption_entities: list[MessageEntity] | None
    reply_markup: InlineKeyboardMarkup | None
    allow_paid_broadcast: bool | None
    request_timeout: int | None


async def send_payload(
    bot: Bot,
    chat_id: int,
    payload: Mapping[str, Any],
    *,
    allow_paid_broadcast: bool | None = None,
    request_timeout: int | None = None,
) -> Message:
    """Send an outbox payload (see `bot.storage.outbox`) to `chat_id`: the one place a stored
    payload becomes a Bot API call — sendPhoto or sendDocument with the text as caption, else
    sendMessage; entities (then no parse mode) or the payload's parse mode; the buttons as an
    inline keyboard. The bot's defaults (link previews, notifications) apply. A malformed
    payload raises ValueError, TypeError or KeyError; Telegram's refusals raise as usual.

    The sender's hot path: the payload is read as it is, without validating or copying it."""
    text: str = payload.get("text") or ""
    raw_entities = payload.get("entities")
    entities = [MessageEntity.model_validate(e) for e in raw_entities] if raw_entities else None
    parse_mode = None if entities else payload.get("parse_mode")
    markup = _markup(payload.get("buttons"))
    photo: Any = payload.get("photo")  # a file_id or URL, as stored
    document: Any = None if photo else payload.get("document")
    if photo or document:
        captioned: _Captioned = {
            "caption": text or None,
            "parse_mode": parse_mode,
            "caption_entities": entities,
            "reply_markup": markup,
            "allow_paid_broadcast": allow_paid_broadcast,
            "request_timeout": request_timeout,
        }
        if photo:
            return await bot.send_photo(chat_id, photo, **captioned)
        return await bot.send_document(chat_id, document, **captioned)
    return await bot.send_message(
        chat_id,
        text,
        parse_mode=parse_mode,
        entities=entities,
        reply_markup=markup,
        allow_paid_broadcast=allow_paid_broadcast,
        request_timeout=request_timeout,
    )


def _markup(buttons: Any) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=b["text"], callback_data=b.get("callback_data"), url=b.get("url")
                )
                for b in line
            ]
            for line in buttons
        ]
    )
