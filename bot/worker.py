"""The planner in a process of its own: `python -m bot worker` (or `python -m bot.worker`).

The bot's event loop answers updates; planning a tick for 100 000 users is seconds of pure
Python that would compete with them on one core. A worker claims the tick's pages
(bot/storage/plan_claims.py), plans each and writes its pushes to the outbox, and the bot's
sender sends them. Run apart (a deployment's own service, any number of them, with the bot's
DATABASE_URL) it plans every page it finds, polling for the next tick. Started by the bot
(`Workers`, with `--serve`) it waits on its stdin: a `plan` line plans until no page is left
and answers one line of JSON on its stdout; the end of its stdin (the bot retires it after
PLANNER_WORKER_IDLE seconds without a tick, or the bot is gone) ends it. So a tick pays no
process start, imports nor catalog load but the first one's (`--once`: one tick and exit).

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
import contextlib
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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
# kernel gives the bot's process the time first (planning waits; a user would not). 19, not
# 10: alternating runs of bench/busy.py gave the updates' p95 45–70 ms against 68–99 ms.
NICE = 19
STOP_SECONDS = 10.0  # a worker told to stop with the bot is killed after this


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


async def serve(settings: Settings, name: str, *, die_after: int | None = None) -> int:
    """The bot's worker: `ready` once built, then a tick per `plan` line read from stdin, each
    answered with a line of JSON ({"pages": …, "enqueued": …}); returns at the end of stdin."""
    planner, engine = build_planner(settings)
    hook = _die_after(die_after) if die_after else None
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    planned = 0
    try:
        _answer({"ready": True})
        while line := await reader.readline():
            if line.strip() != b"plan":
                continue
            report = await planner.work(name, written=hook)
            planned += report.pages
            timings = {k: round(v, 3) for k, v in report.timings.items()}
            _answer({"pages": report.pages, "enqueued": report.enqueued, "timings": timings})
            _shrink()
    finally:
        await engine.dispose()
    return planned


def _answer(message: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _shrink() -> None:
    """After a tick: its objects freed, the heap's free pages given back (glibc), so an idle
    worker holds its catalog and code, not the tick's peak."""
    import ctypes
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


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
    parser.add_argument(
        "--serve", action="store_true", help="plan a tick per `plan` line on stdin (the bot's)"
    )
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
        if args.serve:
            pages = asyncio.run(serve(settings, args.name, die_after=args.die_after))
        else:
            pages = asyncio.run(run(settings, args.name, once=args.once, die_after=args.die_after))
    except SettingsError as exc:
        print(f"opora worker: {exc}", file=sys.stderr)  # noqa: T201 - the one clear line
        return 2
    except (KeyboardInterrupt, BrokenPipeError):  # stopped, or the bot is gone
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


@dataclass(eq=False)
class _Worker:
    """One worker process the bot started, and the task that waits for its end."""

    name: str
    proc: asyncio.subprocess.Process
    ended: asyncio.Task[int] | None = None
    busy: bool = False  # planning a tick
    retiring: bool = False  # told to exit (idle, or the bot stops): its end is no death
    ticks: int = field(default=0)


class Workers:
    """The worker processes the bot starts (PLANNER_WORKERS of them at most) and watches.
    They are started by the first tick that needs them and kept for the next ones; a worker
    that sees no tick for PLANNER_WORKER_IDLE seconds is retired (its stdin closed: it
    exits), so an idle bot holds none. A worker that dies — in a tick or between — is said once
    in the log, its pages are given back at once (`plan_claims.release`), `state` is "down"
    until a tick's workers all end it well again; the next tick starts new ones."""

    def __init__(self, settings: Settings, engine: AsyncEngine) -> None:
        self.settings = settings
        self.engine = engine
        self.state = "ok"
        self.extra_args: list[str] = []  # tests: ["--die-after", "1"]
        self.started = 0
        self._closing = False
        self._pool: list[_Worker] = []
        self._idle: asyncio.TimerHandle | None = None
        self.answers: list[dict[str, object]] = []  # the last tick's, one per worker

    @property
    def pids(self) -> list[int]:
        """The live workers' process ids (the benchmarks sample their memory)."""
        return [w.proc.pid for w in self._pool]

    @property
    def endings(self) -> list[asyncio.Task[int]]:
        """The live workers' ends (each its exit code, once said in the log)."""
        return [w.ended for w in self._pool if w.ended is not None]

    def _env(self) -> dict[str, str]:
        from bot.config import ROOT

        given = self.settings.model_dump(mode="json", exclude=set(SECRETS))
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        return {**os.environ, SETTINGS_ENV: json.dumps(given), "PYTHONPATH": path}

    async def start(self, count: int) -> int:
        """Have `count` workers alive and ready (started now if need be); returns how many."""
        missing = count - len(self._ready())
        if missing > 0:
            await asyncio.gather(*(self._start_one() for _ in range(missing)))
        return len(self._ready())

    def _ready(self) -> list[_Worker]:
        """The workers that take a tick: alive and not told to exit (one retired as its idle
        time ran out may still be exiting when the next tick comes)."""
        return [w for w in self._pool if not w.retiring and w.proc.returncode is None]

    async def _start_one(self) -> None:
        name = f"bot-{os.getpid()}-{self.started}"
        self.started += 1
        args = ["-m", "bot.worker", "--serve", "--nice", str(NICE), *self.extra_args]
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *args,
            "--name",
            name,
            env=self._env(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        worker = _Worker(name, proc)
        worker.ended = asyncio.create_task(self._watch(worker))
        self._pool.append(worker)
        if await self._line(worker) is None:  # died while starting: said by `_watch`
            await worker.ended

    async def _line(self, worker: _Worker) -> dict[str, object] | None:
        """The worker's next answer; None: it has gone."""
        assert worker.proc.stdout is not None
        try:
            line = await worker.proc.stdout.readline()
            found: dict[str, object] = json.loads(line) if line else {}
        except (ValueError, ConnectionError):
            return None
        return found or None

    async def _watch(self, worker: _Worker) -> int:
        code = await worker.proc.wait()
        if worker in self._pool:
            self._pool.remove(worker)
        if worker.retiring or self._closing:
            log.info("planner worker retired", extra={"worker": worker.name, "exit_code": code})
            return code
        log.error("planner worker died", extra={"worker": worker.name, "exit_code": code})
        self.state = "down"
        with contextlib.suppress(Exception):  # the database down too: the lease gives it back
            await self._release(worker.name)
        return code

    async def run(self, count: int) -> bool:
        """Plan a tick with `count` workers (started if need be) and wait for them; True when
        every one planned it to the end."""
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        await self.start(count)
        chosen = self._ready()[:count]
        self.answers = []
        healthy = len(chosen) == count
        results = await asyncio.gather(*(self._tick(w) for w in chosen))
        if self._closing:  # stopped with the bot: not a death
            return False
        healthy = healthy and all(results)
        self.state = "ok" if healthy else "down"
        log.info("planner workers done", extra={"workers": count, "healthy": healthy})
        idle = self.settings.planner_worker_idle
        if idle > 0:
            self._idle = asyncio.get_running_loop().call_later(idle, self.retire)
        else:
            self.retire()
            await asyncio.gather(*(w.ended for w in chosen if w.ended is not None))
        return healthy

    async def _tick(self, worker: _Worker) -> bool:
        assert worker.proc.stdin is not None
        worker.busy = True
        try:
            worker.proc.stdin.write(b"plan\n")
            await worker.proc.stdin.drain()
            answer = await self._line(worker)
        except ConnectionError:
            answer = None
        finally:
            worker.busy = False
        if answer is None:  # gone mid-tick: `_watch` says so and gives its pages back
            if worker.ended is not None:
                await worker.ended
            return False
        worker.ticks += 1
        self.answers.append(answer)
        return True

    def retire(self) -> None:
        """Tell the idle workers to exit (their stdin ends); a new tick starts others."""
        self._idle = None
        for worker in list(self._pool):
            if not worker.busy:
                worker.retiring = True
                if worker.proc.stdin is not None:
                    worker.proc.stdin.close()

    async def _release(self, name: str) -> None:
        from bot.storage import plan_claims

        async with self.engine.begin() as conn:
            await plan_claims.release(conn, name)

    async def close(self) -> None:
        """Stop the workers: idle ones exit, a tick under way is stopped (its pages are taken
        again later)."""
        self._closing = True
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        for worker in list(self._pool):
            worker.retiring = True
            if worker.busy and worker.proc.returncode is None:
                worker.proc.terminate()
            elif worker.proc.stdin is not None:
                worker.proc.stdin.close()
        ended = {w: w.ended for w in list(self._pool) if w.ended is not None}
        if ended:
            _, late = await asyncio.wait(ended.values(), timeout=STOP_SECONDS)
            for worker, task in ended.items():
                if task in late and worker.proc.returncode is None:
                    worker.proc.kill()
            if late:
                await asyncio.wait(late)


if __name__ == "__main__":
    sys.exit(main())
