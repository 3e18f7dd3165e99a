"""How fast /start is answered: the production app long-polls the bundled Bot API emulator over
real HTTP; new users send /start one after another. Prints p50/p95/max.

    python bench/start_latency.py [users]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.app import create_app
from bot.config import Settings
from bot.emulator import DEFAULT_TOKEN, Emulator


async def main(users: int) -> None:
    async with Emulator() as emu:
        db = Path(tempfile.mkdtemp()) / "bench.db"
        settings = Settings(
            _env_file=None,
            bot_token=DEFAULT_TOKEN,
            telegram_api_base=emu.base_url,
            database_url=f"sqlite+aiosqlite:///{db}",
            flood_burst=1000,
            log_level="WARNING",
        )
        app = create_app(settings)
        task = asyncio.create_task(app.run_polling(handle_signals=False))
        await app.ready.wait()
        latencies = []
        for i in range(users):
            user = emu.user(10_000 + i, language_code="ru")
            started = time.perf_counter()
            await user.send("/start")
            await user.next_message(timeout=10)
            latencies.append(time.perf_counter() - started)
        await app.stop()
        await task
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(
        f"/start answered: p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {p95 * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms ({users} new users)"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
