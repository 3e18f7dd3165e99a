"""APScheduler only ticks. What is due lives in our tables; every tick asks the planner to
enqueue it (dedup keys make repeated or concurrent ticks harmless) and wakes the sender."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)


class Ticker:
    def __init__(self, interval: float, tick: Callable[[], Awaitable[object]]) -> None:
        self.interval = interval
        self.tick = tick
        self.scheduler: AsyncIOScheduler | None = None
        self.ticks = 0
        self._busy = False
        self._idle = asyncio.Event()
        self._idle.set()

    async def _run(self) -> None:
        if self._busy:  # the previous tick is still at work (a short TICK_SECONDS): skip
            log.debug("tick skipped: the previous one still runs")
            return
        self._busy = True
        self._idle.clear()
        try:
            await self.tick()
            self.ticks += 1
        except asyncio.CancelledError:  # shutting down mid-tick: the next start redoes it
            log.info("tick cancelled")
        except Exception:  # a failed tick is logged; the next one tries again
            log.exception("tick failed")
        finally:
            self._busy = False
            self._idle.set()

    async def idle(self) -> None:
        """Return once no tick is running (after `stop`, none starts again)."""
        await self._idle.wait()

    def start(self) -> None:
        # APScheduler logs two INFO lines per run and a WARNING per overlapping one; a tick
        # says itself what it did, and an overlap is skipped quietly in `_run`.
        logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.scheduler.add_job(
            self._run,
            "interval",
            seconds=self.interval,
            next_run_time=datetime.now(UTC),
            max_instances=2,  # the second returns at once (see `_run`) instead of a warning
            coalesce=True,
            id="tick",
        )
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.scheduler = None
