"""Start-up and memory: `python -m bot` against the minimal aiogram echo bot (bench/echo_bot.py),
each started as a fresh process against the bundled emulator, alternately, several times:
seconds from the process start to its first getUpdates at the emulator (both import aiogram,
most of the time here), and the resident memory once idle. The bot's first start creates its
SQLite database (migrations); the others find it ready, as a restart does. The bot's modules
are compiled to bytecode first, as the image and the service install do (docs/deploy.md):
with PYTHONDONTWRITEBYTECODE set, as here, every start would compile ~140 modules again.

Then the bot starts on a database of 100 000 users whose weekly digests are due and plans
them on its first scheduler tick: its resident memory after that tick, and the peak.

    python bench/startup.py [--runs 5] [--users 100000]

Targets: start to first getUpdates ≤ 1.2 × the echo bot's; idle RSS ≤ the echo bot's + 80 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Figure, load_average, peak_rss_mb, rss_mb, table
from bench.data import seed
from bench.load import ECHO_TOKEN, start_bot_process
from bot.emulator import Emulator

TARGET_RATIO = 1.2
TARGET_EXTRA_MB = 80.0
SETTLE = 3.0  # seconds idle before the RSS is read


@dataclass
class Starts:
    echo: list[float] = field(default_factory=list)
    bot_first: float = 0.0  # with migrations on a new database
    bot: list[float] = field(default_factory=list)  # restarts
    echo_rss: list[float] = field(default_factory=list)
    bot_rss: list[float] = field(default_factory=list)


@dataclass
class Planned:
    users: int
    digests: int
    seconds: float  # from the bot's first getUpdates to its "planner workers done"
    rss_before: float
    rss_after: float
    peak: float
    workers: int = 0  # planner worker processes that planned the tick (bot/worker.py)
    worker_peak: float = 0.0  # the largest one's peak RSS


async def _one(emulator: Emulator, directory: Path, *, echo: bool) -> tuple[float, float]:
    started = await start_bot_process(
        emulator,
        directory / ("echo" if echo else "bot"),
        env={"BOT_TOKEN": ECHO_TOKEN} if echo else {},
        module="bench.echo_bot" if echo else "bot",
        name="echo" if echo else "bot",
    )
    try:
        await asyncio.sleep(SETTLE)
        return started.seconds, rss_mb(started.bot.process.pid)
    finally:
        await started.bot.terminate()


def compiled() -> None:
    """The bot's bytecode, as a deployment has it (read even under PYTHONDONTWRITEBYTECODE)."""
    import compileall

    root = Path(__file__).resolve().parent.parent
    for part in ("bot", "handlers", "migrations"):
        compileall.compile_dir(root / part, quiet=1)


async def starts(runs: int) -> Starts:
    compiled()
    result = Starts()
    with tempfile.TemporaryDirectory(prefix="opora-startup-") as tmp:
        async with Emulator(bot_username="opora_bench_bot") as emulator:
            emulator.register_bot(ECHO_TOKEN, username="echo_bench_bot")
            result.bot_first, _ = await _one(emulator, Path(tmp), echo=False)
            for _ in range(runs):
                seconds, rss = await _one(emulator, Path(tmp), echo=True)
                result.echo.append(seconds)
                result.echo_rss.append(rss)
                seconds, rss = await _one(emulator, Path(tmp), echo=False)
                result.bot.append(seconds)
                result.bot_rss.append(rss)
    return result


async def planned(users: int, timeout: float = 600) -> Planned:  # noqa: ASYNC109
    """The bot with `users` due digests: RSS before and after its first tick plans them."""
    with tempfile.TemporaryDirectory(prefix="opora-startup-plan-") as tmp:
        directory = Path(tmp)
        url = f"sqlite+aiosqlite:///{directory / 'plan.db'}"
        await seed(url, users, 1_000, now=datetime.now(UTC), always_due=True)
        async with Emulator(bot_username="opora_bench_bot") as emulator:
            env = {
                "DATABASE_URL": url,
                "TICK_SECONDS": "2",
                "PLANNER_WORKERS_FROM": "0",  # the default workers, whatever the size
                "LOG_LEVEL": "INFO",
                "LOG_FORMAT": "json",
            }
            started = await start_bot_process(emulator, directory, env=env, name="bot-plan")
            bot = started.bot
            try:
                ready = time.monotonic()
                before = rss_mb(bot.process.pid)
                deadline = ready + timeout
                done: dict[str, object] | None = None
                while done is None and time.monotonic() < deadline:
                    await asyncio.sleep(0.5)
                    # A big tick is planned by worker processes (their log is the bot's):
                    # the bot says when they are done; a small one by the bot itself.
                    done = next(
                        (e for e in bot.events() if e.get("event") == "planner workers done"),
                        None,
                    )
                    if bot.process.returncode is not None:
                        raise RuntimeError(f"the bot exited:\n{bot.log_tail()}")
                if done is None:
                    raise RuntimeError(f"no tick planned within {timeout:g} s:\n{bot.log_tail()}")
                seconds = time.monotonic() - ready
                after, peak = rss_mb(bot.process.pid), peak_rss_mb(bot.process.pid)
                events = bot.events()
                digests = sum(
                    int(str(e.get("digests", 0)))
                    for e in events
                    if e.get("event") == "pushes planned"
                )
                ends = [e for e in events if e.get("event") == "planner worker done"]
                worker_peak = max((float(str(e.get("peak_rss_mb", 0))) for e in ends), default=0)
            finally:
                await bot.terminate()
    workers = int(str(done.get("workers", 0)))  # the first tick's (later ones start their own)
    return Planned(users, digests, seconds, before, after, peak, workers, worker_peak)


def figures(s: Starts, p: Planned | None) -> list[Figure]:
    echo, bot = statistics.median(s.echo), statistics.median(s.bot)
    echo_rss, bot_rss = statistics.median(s.echo_rss), statistics.median(s.bot_rss)
    result = [
        Figure("start-up: echo bot s to first getUpdates", echo, "", None),
        Figure("start-up: bot s to first getUpdates", bot, "", None),
        Figure(
            "start-up: bot ÷ echo", bot / echo, f"≤ {TARGET_RATIO}", bot / echo <= TARGET_RATIO
        ),
        Figure("start-up: bot idle RSS MB", bot_rss, "", None),
        Figure(
            "start-up: bot − echo idle RSS MB",
            bot_rss - echo_rss,
            f"≤ {TARGET_EXTRA_MB:g} MB",
            bot_rss - echo_rss <= TARGET_EXTRA_MB,
        ),
    ]
    if p is not None:
        result.append(
            Figure(f"start-up: bot RSS MB after planning {p.users} users", p.rss_after, "", None)
        )
        result.append(Figure("start-up: bot peak RSS MB (that tick)", p.peak, "", None))
        result.append(Figure("start-up: a planner worker's peak RSS MB", p.worker_peak, "", None))
        result.append(
            Figure(
                "start-up: bot + planner workers peak RSS MB",
                p.peak + p.workers * p.worker_peak,
                "",
                None,
            )
        )
    return result


def report(s: Starts, p: Planned | None) -> None:
    def row(name: str, seconds: list[float], rss: list[float]) -> list[str]:
        return [
            name,
            f"{statistics.median(seconds):.2f}",
            f"{min(seconds):.2f}–{max(seconds):.2f}",
            f"{statistics.median(rss):.0f}" if rss else "",
        ]

    rows = [
        row("echo bot", s.echo, s.echo_rss),
        row("bot (restart)", s.bot, s.bot_rss),
        ["bot (new database)", f"{s.bot_first:.2f}", "", ""],
    ]
    print(table(["process", "s to first getUpdates (median)", "range", "idle RSS MB"], rows))
    if p is not None:
        print(
            f"bot with {p.users} users: {p.digests} digests planned on its first tick, "
            f"{p.seconds:.1f} s after its first getUpdates; RSS {p.rss_before:.0f} MB before, "
            f"{p.rss_after:.0f} MB after, peak {p.peak:.0f} MB; {p.workers} planner workers, "
            f"peak {p.worker_peak:.0f} MB each at most"
        )
    print(f"(load average now {load_average():.2f})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--users", type=int, default=100_000, help="0: skip the planning run")
    args = parser.parse_args(argv)
    s = asyncio.run(starts(args.runs))
    p = asyncio.run(planned(args.users)) if args.users else None
    report(s, p)
    print(table(["figure", "value", "target", "result"], [f.row() for f in figures(s, p)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
