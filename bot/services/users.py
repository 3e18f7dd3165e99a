"""Users: who they are, their language, their roles."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.infra.clock import Clock
from bot.storage import outbox as outbox_repo
from bot.storage import users as repo
from bot.storage.users import User as User  # the handlers' type of a user

# How often the last action is written: the retention term is counted in days, and a write per
# update would cost every update a transaction.
SEEN_EVERY: Final = timedelta(days=1)


class UserService:
    def __init__(self, engine: AsyncEngine, clock: Clock, admin_ids: frozenset[int]) -> None:
        self.engine = engine
        self.clock = clock
        self.admin_ids = admin_ids

    async def get(self, user_id: int) -> User | None:
        read, user = repo.known(user_id)
        if read:  # the update's memo: no connection to take from the pool and give back
            return user
        async with self.engine.connect() as conn:
            return await repo.get(conn, user_id)

    def roles(self, user_id: int, user: User | None) -> frozenset[str]:
        roles = user.roles if user else frozenset()
        return roles | {"admin"} if user_id in self.admin_ids else roles

    async def saw(self, user: User) -> None:
        """The user acted: the retention term starts again (written at most once a day)."""
        now = self.clock.now()
        if user.last_seen_at is not None and now - user.last_seen_at < SEEN_EVERY:
            return
        async with self.engine.begin() as conn:
            await repo.seen(conn, user.id, now)

    async def left(self, user_id: int) -> None:
        """The user blocked the bot (Telegram's my_chat_member in their private chat): marked
        blocked at once, their pending pushes skipped — not found out one 403 at a time."""
        async with self.engine.begin() as conn:
            await outbox_repo.mark_blocked_user(conn, user_id, self.clock.now())

    async def returned(self, user_id: int) -> None:
        """The user unblocked the bot: pushes may reach them again."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            await repo.set_fields(conn, user_id, now, blocked=False, blocked_at=None)

    async def started(self, user_id: int) -> None:
        """/start: make sure we know the id, and that a user who blocked us is back."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            await repo.ensure(conn, user_id, now)
            await repo.set_fields(conn, user_id, now, blocked=False, blocked_at=None)

    async def set_locale(self, user_id: int, locale: str) -> None:
        now = self.clock.now()
        async with self.engine.begin() as conn:
            await repo.ensure(conn, user_id, now)
            await repo.set_fields(conn, user_id, now, locale=locale)
