"""(being built)"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from bot.config import Settings
from bot.render import Renderer


class VolunteerService:
    def __init__(
        self, engine: AsyncEngine, clock: Clock, renderer: Renderer, settings: Settings
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.renderer = renderer
        self.settings = settings

    async def tick(self) -> int:
        """Called on every scheduler tick: enqueue due reminders and organiser notices;
        returns how many outbox rows were added."""
        return 0
