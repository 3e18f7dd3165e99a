"""Updates while the bot plans: the steady 100 updates/s load's p95 during a tick of many users'
digests, beside the same load's p95 on the same bot once the tick is over (idle), in one run —
for the planner in worker processes (PLANNER_WORKERS=2, bot/worker.py) and, for comparison,
in the bot's own process (PLANNER_WORKERS=0).

Per mode: a copy of one seeded database (bench/data.py, everyone's digest due), `python -m bot`
against the emulator; its first tick starts as it starts polling, and the steady load starts
with it (the activist journey, new users arriving at `--rate` updates/s). The database says
when the tick is over (every page of plan_claims done); then the same load runs again, idle.
The sender is slowed to a trickle (SEND_RATE) so that the digests going out do not count.

    python -m bench.busy [--users 100000] [--items 1000] [--rate 100] [--seconds 10]

Targets: p95 during a 100 000-user tick ≤ 2× the idle p95, and ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Figure, table
from bench.load import JOURNEY_UPDATES, LoadResult, journey_load, start_bot_process
from bot.emulator import Emulator

TARGET_TIMES = 2.0
TARGET_P95_MS = 50.0
MODES = ("workers", "in-process")


@dataclass
class Busy:
    mode: str
    tick_seconds: float  # from the bot's start to the tick's last page
    under_way: float  # the share of the busy load's time the tick was still under way
    busy: LoadResult
    idle: LoadResult


def _pages(db: Path) -> tuple[int, int]:
    """A tick's pages in plan_claims, and those not done (read-only, straight from the file)."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            total, waiting = conn.execute(
                "SELECT count(*), count(*) - count(done_at) FROM plan_claims"
            ).fetchone()
    except sqlite3.Error:
        return 0, 0
    return int(total), int(waiting)


def _tick_started(db: Path) -> bool:
    return _pages(db)[0] > 0


def _tick_over(db: Path) -> bool:
    total, waiting = _pages(db)
    return total > 0 and not waiting


async def _watch(db: Path, started: float) -> float:
    while not _tick_over(db):  # noqa: ASYNC110 - another process writes the file
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


def _copy(seeded: Path, db: Path) -> None:
    db.parent.mkdir(parents=True)
    for extra in ("", "-wal", "-shm"):
        if Path(f"{seeded}{extra}").exists():
            shutil.copyfile(f"{seeded}{extra}", f"{db}{extra}")


async def _load(emulator: Emulator, first: int, rate: float, seconds: float) -> LoadResult:
    budget = int(rate * seconds)
    arriving = range(first, first + budget // JOURNEY_UPDATES + 1)
    return await journey_load(
        emulator, arriving, rate=rate, max_updates=budget, arrivals=JOURNEY_UPDATES / rate
    )


async def measure(
    emulator: Emulator,
    directory: Path,
    seeded: Path,
    mode: str,
    rate: float,
    seconds: float,
    workers: int,
    page: int,
) -> Busy:
    db = directory / mode / "bench.db"
    _copy(seeded, db)
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "PLANNER_WORKERS": str(workers if mode == "workers" else 0),
        "PLANNER_PAGE": str(page),
        "PLANNER_WORKERS_FROM": "0",
        "TICK_SECONDS": "3600",  # one tick: the one at the start
        "SEND_RATE": "0.1",  # the digests wait: updates only
    }
    started = time.perf_counter()
    # Not waiting for the first getUpdates to come back (a long poll): the tick's pages in the
    # database say that the tick, and polling right after it, have started.
    bot = (await start_bot_process(emulator, directory / mode, env=env, name=mode, ready=None)).bot
    try:
        while not _tick_started(db):
            if bot.process.returncode is not None:
                raise RuntimeError(f"{mode}: the bot exited:\n{bot.log_tail()}")
            await asyncio.sleep(0.02)
        watching = asyncio.create_task(_watch(db, started))
        loaded = time.perf_counter()
        busy = await _load(emulator, 100_000, rate, seconds)
        spent = time.perf_counter() - loaded
        tick = await watching
        under_way = min(1.0, max(0.0, (started + tick - loaded) / spent)) if spent else 0.0
        idle = await _load(emulator, 200_000, rate, seconds)
    finally:
        await bot.terminate()
    print(f"  {mode}: tick {tick:.1f} s, p95 busy {busy.ms(95):.1f} ms, idle {idle.ms(95):.1f} ms")
    return Busy(mode, tick, under_way, busy, idle)


async def run(
    users: int,
    items: int,
    rate: float,
    seconds: float,
    workers: int = 2,
    page: int = 1_000,
    modes: tuple[str, ...] = MODES,
) -> list[Busy]:
    from bench.data import seed, wednesday_morning

    with tempfile.TemporaryDirectory(prefix="opora-busy-") as tmp:
        directory = Path(tmp)
        seeded = directory / "seeded.db"
        await seed(
            f"sqlite+aiosqlite:///{seeded}", users, items, now=wednesday_morning(), always_due=True
        )
        async with Emulator(bot_username="opora_bench_bot") as emulator:
            return [
                await measure(emulator, directory, seeded, mode, rate, seconds, workers, page)
                for mode in modes
            ]


def figures(runs: list[Busy], users: int, rate: float) -> list[Figure]:
    result = []
    for r in runs:
        idle, busy = r.idle.ms(95), r.busy.ms(95)
        times = busy / idle if idle else 0.0
        judged = r.mode == "workers"  # the target is the design's; in-process is the baseline
        result += [
            Figure(
                f"busy ({r.mode}): p95 ms at {rate:g} updates/s during a {users}-user tick",
                busy,
                f"≤ {TARGET_P95_MS:g} ms" if judged else "reported",
                busy <= TARGET_P95_MS if judged else None,
            ),
            Figure(
                f"busy ({r.mode}): p95 during the tick ÷ idle",
                times,
                f"≤ {TARGET_TIMES:g}" if judged else "reported",
                times <= TARGET_TIMES if judged else None,
            ),
        ]
    return result


def report(runs: list[Busy]) -> None:
    rows = [
        [
            r.mode,
            f"{r.tick_seconds:.1f}",
            f"{r.under_way * 100:.0f}",
            f"{r.idle.ms(50):.1f}",
            f"{r.idle.ms(95):.1f}",
            f"{r.busy.ms(50):.1f}",
            f"{r.busy.ms(95):.1f}",
            f"{r.busy.failures + r.idle.failures}",
        ]
        for r in runs
    ]
    header = ["planner", "tick s", "tick under way %", "idle p50", "idle p95"]
    print(table([*header, "busy p50", "busy p95", "unanswered"], rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2, help="PLANNER_WORKERS")
    parser.add_argument("--page", type=int, default=1_000, help="PLANNER_PAGE")
    parser.add_argument(
        "--modes", default=",".join(MODES), help="comma-separated: " + ", ".join(MODES)
    )
    args = parser.parse_args(argv)
    given = (args.users, args.items, args.rate, args.seconds, args.workers, args.page)
    modes = tuple(m for m in args.modes.split(",") if m in MODES)
    runs = asyncio.run(run(*given, modes=modes))
    report(runs)
    print(
        table(
            ["figure", "value", "target", "result"],
            [f.row() for f in figures(runs, args.users, args.rate)],
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
