"""(being built)"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from bot.config import Settings
from bot.delivery import Sender
from bot.render import Renderer


class BroadcastService:
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        renderer: Renderer,
        sender: Sender,
        settings: Settings,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.renderer = renderer
        self.sender = sender
        self.settings = settings

    async def tick(self) -> None:
        """Called on every scheduler tick: start scheduled broadcasts that are due."""
