"""(being built)"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from bot.content import Catalog


class ContentAdminService:
    def __init__(self, engine: AsyncEngine, clock: Clock, catalog: Catalog) -> None:
        self.engine = engine
        self.clock = clock
        self.catalog = catalog
