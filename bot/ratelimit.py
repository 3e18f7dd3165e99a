"""The sender's global pace, shared by every instance through Redis.

Telegram limits a bot as a whole (about 30 messages/s; paid broadcasts more), however many
processes send for it. With `REDIS_URL` set, every instance's sender books its slots on one
timeline in Redis, so three instances together send at SEND_RATE, not three times it.

The algorithm is the same GCRA ("virtual scheduling") as `bot.delivery.TokenBucket`, run as one
Lua script, so a booking is atomic however many instances book at once, and it reads the time
from Redis (`TIME`), so the instances' clocks need not agree. Every `acquire()` books the next
free slot, `interval` = 1/rate apart, and sleeps until it; after an idle spell up to `burst`
slots may fall due at once.

**Redis away.** At start-up the app refuses to run with a Redis it cannot reach (one clear line,
see `bot.app.App.prepare`). If Redis goes away later, the limiter paces this instance alone
with an in-process bucket at the full rate and logs one warning (several instances may then
send faster than SEND_RATE; Telegram's 429 pauses the sender, so nothing is lost); when Redis
answers again the shared pace resumes and that is logged too.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.delivery import TokenBucket

log = logging.getLogger(__name__)

# KEYS[1]: the timeline's key. ARGV: interval and tolerance (burst − 1 intervals), in µs.
# Returns {slot, now} in µs of Redis time: the caller may go at `slot`.
GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local slot = tonumber(redis.call('GET', KEYS[1]))
if slot == nil or slot < now - tolerance then
  slot = now - tolerance
end
local next_slot = slot + interval
local ttl = math.floor((next_slot - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', next_slot), 'PX', ttl)
return {string.format('%.0f', slot), string.format('%.0f', now)}
"""


# KEYS[1]: a chat's key. ARGV[1]: how long to hold it (ms). Returns 0 when this caller now
# holds the chat, else the milliseconds the current holder still has.
HOLD_CHAT = """
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  return 0
end
return math.max(1, redis.call('PTTL', KEYS[1]))
"""


@dataclass(frozen=True, slots=True)
class Slot:
    """One booking: the slot and the moment it was booked, µs of Redis time."""

    at_us: int
    booked_us: int

    @property
    def wait(self) -> float:
        """Seconds from the booking to the slot (0 when it is due at once)."""
        return max(0, self.at_us - self.booked_us) / 1_000_000


class RedisRateLimiter:
    """`acquire()` returns when one more message may go, at `rate` per second across every
    limiter that shares `key` in one Redis (every instance of one bot)."""

    instances_share = True  # the sender sizes its in-memory window to its part of the rate

    def __init__(
        self,
        redis: Redis,
        rate: float,
        burst: float | None = None,
        *,
        key: str = "opora:send-rate",
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(1.0, burst if burst is not None else rate / 10)
        self.key = key
        self.interval_us = max(1, round(1_000_000 / rate))
        self.tolerance_us = math.floor((self.burst - 1.0) * self.interval_us)
        self._script = redis.register_script(GCRA)
        self._hold = redis.register_script(HOLD_CHAT)
        self._redis = redis
        self._sleep = sleep
        self._local = TokenBucket(rate, self.burst)
        self.shared = True  # False while Redis is away and this instance paces alone

    async def book(self) -> Slot:
        """Book the next slot on the shared timeline (raises RedisError when Redis is away)."""
        at, booked = await self._script(
            keys=[self.key], args=[self.interval_us, self.tolerance_us]
        )
        return Slot(int(at), int(booked))

    async def acquire(self) -> None:
        try:
            slot = await self.book()
        except RedisError as exc:
            self._away(exc)
            await self._local.acquire()
            return
        self._back()
        if slot.wait > 0:
            await self._sleep(slot.wait)

    # The pace of one chat (Telegram: about one message a second), shared the same way. The
    # sender holds a chat while it sends there and frees it `chat_interval` after the send.

    def _chat_key(self, chat_id: int) -> str:
        return f"{self.key}:chat:{chat_id}"

    async def hold_chat(self, chat_id: int, seconds: float) -> float:
        try:
            busy_ms = await self._hold(
                keys=[self._chat_key(chat_id)], args=[max(1, int(seconds * 1000))]
            )
        except RedisError as exc:  # the sender's own pacing of the chat still holds
            self._away(exc)
            return 0.0
        self._back()
        return int(busy_ms) / 1000

    async def free_chat(self, chat_id: int, after: float) -> None:
        try:
            if after > 0:
                await self._redis.set(self._chat_key(chat_id), "1", px=max(1, int(after * 1000)))
            else:
                await self._redis.delete(self._chat_key(chat_id))
        except RedisError as exc:
            self._away(exc)

    def _away(self, exc: Exception) -> None:
        if self.shared:
            self.shared = False
            log.warning(
                "shared send rate unavailable: pacing this instance alone",
                extra={"error": type(exc).__name__, "rate": self.rate},
            )

    def _back(self) -> None:
        if not self.shared:
            self.shared = True
            log.info("shared send rate back", extra={"rate": self.rate})
