"""`python -m bot` as a real process against the emulator: it answers, logs one JSON object per
line without the token or users' text, and Ctrl-C (SIGINT) stops it cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from bot.emulator import Emulator
from tests.conftest import OPERATOR_ENV, TOKEN


async def test_process_answers_logs_json_and_stops_on_ctrl_c(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "ADMIN_IDS"}},
        "BOT_TOKEN": TOKEN,
        **OPERATOR_ENV,
        "TELEGRAM_API_BASE": emulator.base_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'data' / 'bot.db'}",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "DEBUG",
        "POLLING_TIMEOUT": "2",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    drained = asyncio.ensure_future(process.stderr.read())  # a full pipe would block the bot
    try:
        user = emulator.user(3001, language_code="ru")
        await user.send("/start")
        greeting = await user.next_message(timeout=90)  # includes the interpreter's start-up
        assert "Опора" in greeting.text
        await user.send("мой секретный текст")
        await user.next_message(timeout=10)
        process.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(process.wait(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    lines = (await drained).decode().splitlines()
    assert code == 0
    events = [json.loads(line) for line in lines]  # every line is one JSON object
    names = [e["event"] for e in events]
    assert "migrations applied" in names
    assert "stopped" in names
    text = "\n".join(lines)
    assert TOKEN not in text
    assert TOKEN.split(":")[1] not in text
    assert "секретный" not in text
    assert "Traceback" not in text
    assert (tmp_path / "data" / "bot.db").exists()
