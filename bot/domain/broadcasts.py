"""A broadcast's progress: where its outbox rows are, its rate and the time left."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from bot.domain.outbox import BLOCKED, CANCELLED, FAILED, PENDING, SENDING, SENT, SKIPPED


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a broadcast's rows are, from the outbox's counts by status
    (`bot.storage.outbox.batch_counts`); rate in messages/s and
    seconds left (None: not known yet)."""

    total: int
    sent: int = 0
    failed: int = 0
    blocked: int = 0  # blocked now (403) or earlier (skipped)
    cancelled: int = 0
    waiting: int = 0  # pending or in flight
    rate: float = 0.0
    eta: int | None = None

    @classmethod
    def of(cls, counts: Mapping[str, int], total: int | None = None) -> Progress:
        sent = counts.get(SENT, 0)
        failed = counts.get(FAILED, 0)
        blocked = counts.get(BLOCKED, 0) + counts.get(SKIPPED, 0)
        cancelled = counts.get(CANCELLED, 0)
        waiting = counts.get(PENDING, 0) + counts.get(SENDING, 0)
        rows = sent + failed + blocked + cancelled + waiting
        return cls(
            total=max(rows, total or 0),
            sent=sent,
            failed=failed,
            blocked=blocked,
            cancelled=cancelled,
            waiting=waiting,
        )

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.blocked + self.cancelled

    @property
    def finished(self) -> bool:
        return self.waiting == 0

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else min(100, math.floor(100 * self.done / self.total))

    def with_rate(self, rate: float, fallback_rate: float) -> Progress:
        """With the measured `rate`; the time left from it, or from `fallback_rate` (the
        sender's configured pace) while nothing is measured yet."""
        pace = rate if rate > 0 else fallback_rate
        eta = math.ceil(self.waiting / pace) if pace > 0 else None
        return replace(self, rate=rate, eta=eta)
