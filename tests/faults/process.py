"""`python -m bot` as a real process against the in-test emulator, killable with SIGKILL, and
the recipients it serves: used by the crash tests here and by `bench/faults.py`."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.emulator import Emulator
from bot.storage import settings as settings_repo
from bot.storage.tables import outbox, quiz_results, users
from tests.conftest import OPERATOR_ENV

TOKEN = Emulator.DEFAULT_TOKEN
# What the child must not inherit from a developer's shell or CI.
_DROP = {"REDIS_URL", "ADMIN_IDS", "DATABASE_URL", "BOT_TOKEN", "MODE", "TELEGRAM_API_BASE"}


@dataclass
class BotProcess:
    """One `python -m bot` at a time on the same database and emulator; `start` again after
    `kill` is a restart. Its log (JSON lines) goes to a file, shown when a test fails."""

    emulator: Emulator
    database: Path
    workdir: Path
    settings: dict[str, str] = field(default_factory=dict)
    process: asyncio.subprocess.Process | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"sqlite+aiosqlite:///{self.database}"

    def env(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if k not in _DROP}
        return {
            **base,
            "BOT_TOKEN": TOKEN,
            **OPERATOR_ENV,
            "TELEGRAM_API_BASE": self.emulator.base_url,
            "DATABASE_URL": self.url,
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            "POLLING_TIMEOUT": "1",
            **self.settings,
        }

    async def start(self) -> None:
        assert self.process is None or self.process.returncode is not None, "already running"
        self.starts += 1
        log = (self.workdir / f"bot-{self.starts}.log").open("wb")
        try:  # the child keeps its own copy of the descriptor
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                cwd=self.workdir,  # no developer's .env here
                env=self.env(),
                stdout=log,
                stderr=log,
            )
        finally:
            log.close()

    async def kill(self) -> None:
        """SIGKILL: no graceful stop, nothing more is written."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> int | None:
        """Ctrl-C, and wait for it to end (killed after 30 s)."""
        process = self.process
        if process is None or process.returncode is not None:
            return None if process is None else process.returncode
        process.send_signal(signal.SIGINT)
        try:
            return await asyncio.wait_for(process.wait(), timeout=30)
        except TimeoutError:
            process.kill()
            return await process.wait()

    def logs(self) -> str:
        parts = []
        for n in range(1, self.starts + 1):
            path = self.workdir / f"bot-{n}.log"
            if path.exists():
                parts.append(f"--- run {n}\n" + path.read_text(errors="replace")[-6000:])
        return "\n".join(parts)

    def errors(self) -> list[str]:
        """Lines the bot logged at ERROR or above (a traceback's lines included)."""
        found = []
        for n in range(1, self.starts + 1):
            path = self.workdir / f"bot-{n}.log"
            if path.exists():
                text = path.read_text(errors="replace")
                found += [line for line in text.splitlines() if '"level": "ERROR"' in line]
                found += [line for line in text.splitlines() if "Traceback" in line]
        return found


async def seed_users(
    engine: AsyncEngine,
    emulator: Emulator,
    ids: Iterable[int],
    now: datetime,
    *,
    digest_due: bool = False,
) -> None:
    """Users who consented long ago and pressed Start in Telegram (rows written through the
    storage layer); with `digest_due`, this week's digest due at once (Monday 00:00 has
    passed, no quiet hours) and a stage-4 quiz result, so the catalog's articles fit them;
    without, no digest at all."""
    ids = list(ids)
    long_ago = now - timedelta(days=30)
    async with engine.begin() as conn:
        await conn.execute(
            insert(users),
            [
                {
                    "id": uid,
                    "first_name": f"User {uid}",
                    "locale": "ru",
                    "timezone": "Europe/Moscow",
                    "region": "mow",
                    "consent_version": "2026-11",
                    "consent_at": long_ago,
                    "blocked": False,
                    "created_at": long_ago,
                    "updated_at": long_ago,
                }
                for uid in ids
            ],
        )
        chosen = settings_repo.PushSettings(  # weekly from Monday 00:00: due any time
            announcements=True,
            digest="weekly" if digest_due else "off",
            digest_weekday=0,
            digest_hour=0,
            quiet_start=0,
            quiet_end=0,
        )
        for uid in ids:
            await settings_repo.save(conn, uid, chosen, long_ago)
        if digest_due:
            await conn.execute(
                insert(quiz_results),
                [
                    {"user_id": uid, "stage": 4, "answers": "{}", "taken_at": long_ago}
                    for uid in ids
                ],
            )
    for uid in ids:
        emulator.user(uid, language_code="ru").chat.started = True


async def statuses(engine: AsyncEngine, kind: str) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.status, func.count())
            .where(outbox.c.kind == kind)
            .group_by(outbox.c.status)
        )
        return {str(status): int(n) for status, n in rows.all()}


async def in_flight(engine: AsyncEngine, kind: str) -> set[int]:
    """Chats of the rows a dead sender had claimed and not finished ("sending")."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.chat_id).where(outbox.c.kind == kind, outbox.c.status == "sending")
        )
        return set(rows.scalars())


@dataclass
class Served:
    """How a crash went for the recipients."""

    recipients: int
    sent_before_kill: int  # recorded as sent in the outbox when the process died
    in_flight: int  # claimed ("sending") when it died: the only rows that may go twice
    expected_doubles: int  # in flight and already delivered: these will go twice
    missing: int
    doubles: int
    concurrency: int

    def line(self, what: str) -> str:
        return (
            f"{what}: {self.recipients} recipients, {self.sent_before_kill} recorded sent at the "
            f"kill, {self.in_flight} in flight (SEND_CONCURRENCY {self.concurrency}), "
            f"{self.expected_doubles} of those already delivered; after the restart "
            f"{self.missing} missing, {self.doubles} delivered twice"
        )


def delivered(emulator: Emulator, ids: Iterable[int]) -> dict[int, int]:
    counts = emulator.delivered_counts()
    return {uid: counts.get(uid, 0) for uid in ids}


def summary(
    before: dict[int, int], after: dict[int, int], flying: set[int], sent: int, concurrency: int
) -> Served:
    return Served(
        recipients=len(after),
        sent_before_kill=sent,
        in_flight=len(flying),
        expected_doubles=sum(1 for uid in flying if before.get(uid, 0) > 0),
        missing=sum(1 for n in after.values() if n == 0),
        doubles=sum(n - 1 for n in after.values() if n > 1),
        concurrency=concurrency,
    )


def settings_for(**values: Any) -> dict[str, str]:
    return {key.upper(): str(value) for key, value in values.items()}
