"""The posted cards' refresher (bot/services/sharing.py) stops when told, whenever the stop
comes: also in the turn of the loop when a wake-up has just been set."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.config import Settings
from bot.services.sharing import SharingService


async def test_the_refresher_stops_even_as_it_is_woken() -> None:
    settings = Settings(_env_file=None, card_edit_delay=30)
    nothing: Any = None  # the loop never gets as far as the database or Telegram here
    for turns in range(8):  # a stop that comes 0…7 turns of the loop after the wake-up
        sharing = SharingService(nothing, nothing, nothing, nothing, settings, nothing)
        await sharing.start()
        await asyncio.sleep(0)  # the refresher waits for a wake-up
        sharing.wake()
        for _ in range(turns):
            await asyncio.sleep(0)
        refresher = sharing._task
        assert refresher is not None
        stopping = asyncio.create_task(sharing.stop())
        done, _ = await asyncio.wait({stopping}, timeout=5)
        assert done, f"the refresher did not stop ({turns} turns after the wake-up)"
        assert refresher.cancelled()
