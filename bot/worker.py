"""The planner in a process of its own: `python -m bot worker` (or `python -m bot.worker`).

The bot's event loop answers updates; planning a tick for 100 000 users is seconds of pure
Python that would compete with them on one core. A worker claims the tick's pages
(bot/storage/plan_claims.py), plans each and writes its pushes to the outbox, and the bot's
sender sends them. Run apart (a deployment's own service, any number of them, with the bot's
DATABASE_URL) it plans every page it finds, polling for the next tick; started by the bot
(`Workers`, with `--once`) it plans until no page is left and exits.

The module stays small: no aiogram (its buttons are packed by bot/ui/packed.py), so a worker
costs its share of SQLAlchemy, Jinja2 and the catalog, not the bot's whole memory.

The bot starts workers as plain subprocesses (`asyncio.create_subprocess_exec` of this
module), not with multiprocessing: nothing to pickle, no resource tracker process, the parent's
main module is not imported again, the exit code is awaited on the event loop without a
thread, and it is the very command a deployment runs apart.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.config import Settings
    from bot.services.pushes import Planner

log = logging.getLogger(__name__)
POLL_SECONDS = 5.0  # a worker run apart looks for a new tick's pages this often
SETTINGS_ENV = "OPORA_WORKER_SETTINGS"  # the bot's settings, as JSON, for the workers it starts
SECRETS = ("bot_token", "webhook_secret")  # a worker never talks to Telegram
# The workers the bot starts yield the CPU to its updates: where the cores are all busy, the
# kernel gives the bot's process the time first (planning waits; a user would not).
NICE = 10


def build_planner(settings: Settings) -> tuple[Planner, AsyncEngine]:
    """The planner as `create_app` builds it, without the bot."""
    from bot.content import get_catalog
    from bot.infra.clock import SystemClock
    from bot.infra.db import make_engine
    from bot.services.catalogs import CatalogService
    from bot.services.measures import MeasureService
    from bot.services.pushes import Planner
    from bot.services.volunteering import VolunteerService
    from bot.ui.render import Renderer

    clock = SystemClock()  # pages are planned at their tick's time, not this clock's
    catalog = get_catalog()
    engine = make_engine(settings.database_url)
    renderer = Renderer(globals_={"catalog": catalog, "settings": settings})
    planner = Planner(
        engine,
        clock,
        catalog,
        renderer,
        CatalogService(engine, catalog, clock),
        MeasureService(engine, catalog),
        default_timezone=settings.default_timezone,
        reminder_days=settings.reminder_days,
        volunteering=VolunteerService(engine, clock, renderer, settings),
        page=settings.planner_page,
    )
    return planner, engine


def _die_after(pages: int) -> Callable[[int], None]:
    """The kill -9 test's hook: the process kills itself once `pages` pages are written (the
    next one is claimed by then)."""

    def written(count: int) -> None:
        if count >= pages:
            os.kill(os.getpid(), signal.SIGKILL)

    return written


async def run(
    settings: Settings, name: str, *, once: bool = False, die_after: int | None = None
) -> int:
    """Plan pages as they come (with `once`, until none is left); returns the pages planned."""
    planner, engine = build_planner(settings)
    hook = _die_after(die_after) if die_after else None
    planned = 0
    try:
        while True:
            report = await planner.work(name, written=hook)
            planned += report.pages
            if once:
                return planned
            if not report.pages:
                await asyncio.sleep(POLL_SECONDS)
    finally:
        await engine.dispose()


def _settings() -> Settings:
    from pydantic import ValidationError

    from bot.config import Settings, SettingsError

    given = os.environ.get(SETTINGS_ENV)
    try:
        if given:  # started by the bot: its settings, whatever its environment said
            return Settings(_env_file=None, **json.loads(given))
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise SettingsError(f"{name} is invalid: {first['msg']} (see .env.example).") from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot worker", description="Опора's planner, apart from the bot"
    )
    parser.add_argument("--once", action="store_true", help="exit when no page is left")
    parser.add_argument("--name", default=f"{socket.gethostname()}-{os.getpid()}")
    parser.add_argument(
        "--nice", type=int, default=0, help="lower the process's CPU priority by this much"
    )
    parser.add_argument("--die-after", type=int, help=argparse.SUPPRESS)  # tests only
    args = parser.parse_args(argv)
    if args.nice:
        os.nice(args.nice)
    from bot.config import SettingsError
    from bot.infra.logs import setup_logging

    try:
        settings = _settings()
        setup_logging(settings.log_level, settings.log_format)
        pages = asyncio.run(run(settings, args.name, once=args.once, die_after=args.die_after))
    except SettingsError as exc:
        print(f"opora worker: {exc}", file=sys.stderr)  # noqa: T201 - the one clear line
        return 2
    except KeyboardInterrupt:
        return 0
    log.info(
        "planner worker done",
        extra={"worker": args.name, "pages": pages, "peak_rss_mb": _peak_rss_mb()},
    )
    return 0


def _peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM: since exec, unlike getrusage), for the benchmarks."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


class Workers:
    """The worker processes the bot starts for a tick (PLANNER_WORKERS of them at most) and
    watches: a worker that dies is said once in the log, its pages are given back at once
    (`plan_claims.release`), `state` is "down" until a tick's workers all end well again —
    the next tick starts new ones."""

    def __init__(self, settings: Settings, engine: AsyncEngine) -> None:
        self.settings = settings
        self.engine = engine
        self.state = "ok"
        self.extra_args: list[str] = []  # tests: ["--die-after", "1"]
        self.started = 0
        self._closing = False
        self._running: set[asyncio.subprocess.Process] = set()

    def _env(self) -> dict[str, str]:
        from bot.config import ROOT

        given = self.settings.model_dump(mode="json", exclude=set(SECRETS))
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        return {**os.environ, SETTINGS_ENV: json.dumps(given), "PYTHONPATH": path}

    async def run(self, count: int) -> bool:
        """Start `count` workers and wait for them; True when every one ended well."""
        env = self._env()
        names = [f"bot-{os.getpid()}-{self.started + i}" for i in range(count)]
        self.started += count
        args = ["-m", "bot.worker", "--once", "--nice", str(NICE), *self.extra_args]
        procs = [
            await asyncio.create_subprocess_exec(sys.executable, *args, "--name", name, env=env)
            for name in names
        ]
        self._running.update(procs)
        try:
            codes = await asyncio.gather(*(p.wait() for p in procs))
        finally:
            self._running.difference_update(procs)
        if self._closing:  # stopped with the bot: not a death
            return False
        healthy = True
        for name, code in zip(names, codes, strict=True):
            if code != 0:
                healthy = False
                log.error("planner worker died", extra={"worker": name, "exit_code": code})
                await self._release(name)
        self.state = "ok" if healthy else "down"
        log.info("planner workers done", extra={"workers": count, "healthy": healthy})
        return healthy

    async def _release(self, name: str) -> None:
        from bot.storage import plan_claims

        async with self.engine.begin() as conn:
            await plan_claims.release(conn, name)

    async def close(self) -> None:
        """Stop the workers of a tick under way (their pages are taken again later)."""
        self._closing = True
        for proc in list(self._running):
            if proc.returncode is None:
                proc.terminate()
        for proc in list(self._running):
            await proc.wait()


if __name__ == "__main__":
    sys.exit(main())
