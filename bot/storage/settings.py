"""A user's push settings; a user without a row has the defaults."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.dialect import upsert
from bot.storage.tables import user_settings

CATEGORIES = ("measures", "grants", "articles", "announcements", "opportunities")
DIGESTS = ("off", "daily", "weekly")


@dataclass(frozen=True, slots=True)
class PushSettings:
    measures: bool = True
    grants: bool = True
    articles: bool = True
    announcements: bool | None = None  # None: not asked yet, which means off
    opportunities: bool = True
    digest: str = "weekly"  # off / daily / weekly
    digest_hour: int = 10  # local hour
    digest_weekday: int = 0  # Monday
    quiet_start: int = 22  # local hour; quiet_start == quiet_end: no quiet hours
    quiet_end: int = 9

    def wants(self, category: str) -> bool:
        return bool(getattr(self, category))

    def with_(self, **changes: Any) -> PushSettings:
        return replace(self, **changes)


def from_row(row: Any) -> PushSettings:
    return PushSettings(**{k: row[k] for k in asdict(PushSettings())})


async def get(conn: AsyncConnection, user_id: int) -> PushSettings:
    row = (
        (await conn.execute(select(user_settings).where(user_settings.c.user_id == user_id)))
        .mappings()
        .first()
    )
    return from_row(row) if row else PushSettings()


async def save(conn: AsyncConnection, user_id: int, settings: PushSettings, now: datetime) -> None:
    await upsert(
        conn,
        user_settings,
        {"user_id": user_id, **asdict(settings), "updated_at": now},
        key=["user_id"],
    )
