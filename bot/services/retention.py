"""The retention term, enforced: once a day the bot deletes what the consent screen promises
not to keep — users inactive for `RETENTION_DAYS`, ids stored at /start without consent after
a few days, finished outbox rows after a month.

Deleting a user goes through `ProfileService.forget`, the same path as /delete_me, so the purge
removes exactly what /delete_me does. The purge is idempotent: two instances, or a restart
that runs it twice in a day, delete nothing twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.infra.clock import Clock
from bot.services.profile import ProfileService
from bot.storage import outbox as outbox_repo
from bot.storage import users as users_repo

log = logging.getLogger(__name__)

UNCONSENTED_DAYS: Final = 3  # an id stored at /start by someone who did not consent
OUTBOX_DAYS: Final = 30  # a finished outbox row: longer than any dedup key needs
BATCH: Final = 500  # users deleted per transaction


@dataclass(frozen=True, slots=True)
class Purged:
    users: int = 0
    outbox_deleted: int = 0
    outbox_scrubbed: int = 0


class RetentionService:
    def __init__(
        self, engine: AsyncEngine, clock: Clock, profiles: ProfileService, retention_days: int
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.profiles = profiles
        self.retention = timedelta(days=retention_days)
        self._done_on: date | None = None

    async def tick(self) -> Purged | None:
        """The daily purge, on the first tick of each (UTC) day; None on the other ticks."""
        today = self.clock.now().date()
        if self._done_on == today:
            return None
        purged = await self.purge()
        self._done_on = today
        return purged

    async def purge(self) -> Purged:
        now = self.clock.now()
        users = 0
        while True:
            async with self.engine.connect() as conn:
                due = await users_repo.expired(
                    conn, now - self.retention, now - timedelta(days=UNCONSENTED_DAYS), BATCH
                )
            for user_id in due:
                await self.profiles.forget(user_id)
            users += len(due)
            if len(due) < BATCH:
                break
        async with self.engine.begin() as conn:
            deleted, scrubbed = await outbox_repo.prune(conn, now - timedelta(days=OUTBOX_DAYS))
        purged = Purged(users, deleted, scrubbed)
        log.info(
            "retention purge",
            extra={"users": users, "outbox_deleted": deleted, "outbox_scrubbed": scrubbed},
        )
        return purged
