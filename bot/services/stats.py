"""(being built)"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from bot.config import Settings
from bot.content import Catalog


class StatsService:
    def __init__(
        self, engine: AsyncEngine, clock: Clock, catalog: Catalog, settings: Settings
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.catalog = catalog
        self.settings = settings
