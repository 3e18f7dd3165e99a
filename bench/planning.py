"""Planning: the weekly digest for 10k / 50k / 100k users with 1 000 catalog items.

Each size gets a fresh SQLite database (bench/data.py), then a fresh process builds the app
(`create_app`, as `python -m bot` does) with the clock on a Wednesday morning and runs one
planner tick: everything due is rendered and written to the outbox. Printed per size: seconds,
microseconds per user (flat = linear), digests and reminders enqueued, the process's peak RSS;
then a second tick (everything already planned) for the cost of a no-op tick.

    python bench/planning.py [--sizes 10000,50000,100000] [--items 1000] [--keep DIR]

Targets: 100 000 users in ≤ 10 s with peak RSS ≤ 300 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Figure, peak_rss_mb, rss_mb, table

TARGET_SECONDS = 10.0
TARGET_RSS_MB = 300.0


@dataclass
class PlanRun:
    users: int
    seconds: float
    cpu_seconds: float
    digests: int
    reminders: int
    enqueued: int
    rss_before_mb: float
    peak_rss_mb: float
    rss_after_mb: float
    second_tick_seconds: float
    distinct_digests: int
    seed_seconds: float = 0.0

    @property
    def us_per_user(self) -> float:
        return self.seconds / self.users * 1e6


async def _plan_in_this_process(url: str) -> dict[str, Any]:
    from sqlalchemy import func, select

    from bench.data import wednesday_morning
    from bot.app import create_app
    from bot.config import Settings
    from bot.emulator import DEFAULT_TOKEN
    from bot.infra.clock import ManualClock
    from bot.storage.tables import outbox

    settings = Settings(
        _env_file=None,
        bot_token=DEFAULT_TOKEN,
        telegram_api_base="http://127.0.0.1:9",  # never called: planning only writes rows
        database_url=url,
        log_level="WARNING",
    )
    app = create_app(settings, clock=ManualClock(wednesday_morning()))
    try:
        before = rss_mb()
        started, cpu = time.perf_counter(), time.process_time()
        report = await app.planner.plan()
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        after = rss_mb()
        started = time.perf_counter()
        again = await app.planner.plan()
        second = time.perf_counter() - started
        assert again.enqueued == 0, "a second tick planned again"
        async with app.engine.connect() as conn:
            distinct = (
                await conn.execute(
                    select(func.count(func.distinct(outbox.c.payload))).where(
                        outbox.c.kind == "digest"
                    )
                )
            ).scalar_one()
    finally:
        await app.bot.session.close()
        await app.engine.dispose()
    peak = peak_rss_mb()  # VmHWM: ru_maxrss would count the forking parent too
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "digests": report.digests,
        "reminders": report.reminders,
        "enqueued": report.enqueued,
        "rss_before_mb": before,
        "peak_rss_mb": peak,
        "rss_after_mb": after,
        "second_tick_seconds": second,
        "distinct_digests": int(distinct),
    }


def plan_in_subprocess(url: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """One planner tick in a fresh interpreter (so the RSS is the planning's own)."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.planning", "--plan-only", url],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, **(env or {})},
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


async def seed_database(directory: Path, users: int, items: int) -> tuple[str, float]:
    from bench.data import seed, wednesday_morning

    url = f"sqlite+aiosqlite:///{directory / f'plan_{users}.db'}"
    started = time.perf_counter()
    await seed(url, users, items, now=wednesday_morning())
    return url, time.perf_counter() - started


async def run(sizes: list[int], items: int, keep: Path | None = None) -> list[PlanRun]:
    runs = []
    with tempfile.TemporaryDirectory(prefix="opora-plan-") as tmp:
        directory = keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        for users in sizes:
            url, seeded = await seed_database(directory, users, items)
            result = await asyncio.to_thread(plan_in_subprocess, url)
            runs.append(PlanRun(users=users, seed_seconds=seeded, **result))
            print(f"  planned {users} users: {result['seconds']:.2f} s", flush=True)
    return runs


def figures(runs: list[PlanRun]) -> list[Figure]:
    largest = max(runs, key=lambda r: r.users)
    smallest = min(runs, key=lambda r: r.users)
    growth = largest.us_per_user / smallest.us_per_user if smallest.us_per_user else 0.0
    result = [
        Figure(
            f"planning: {largest.users} users, seconds",
            largest.seconds,
            f"≤ {TARGET_SECONDS:g} s",
            largest.seconds <= TARGET_SECONDS,
        ),
        Figure(
            f"planning: {largest.users} users, peak RSS MB",
            largest.peak_rss_mb,
            f"≤ {TARGET_RSS_MB:g} MB",
            largest.peak_rss_mb <= TARGET_RSS_MB,
        ),
        Figure(
            f"planning: cost per user {largest.users} ÷ {smallest.users}",
            growth,
            "≈ 1 (linear)",
            None,
        ),
    ]
    return result


def report(runs: list[PlanRun]) -> None:
    rows = [
        [
            f"{r.users}",
            f"{r.seconds:.2f}",
            f"{r.cpu_seconds:.2f}",
            f"{r.us_per_user:.0f}",
            f"{r.digests}",
            f"{r.reminders}",
            f"{r.distinct_digests}",
            f"{r.rss_before_mb:.0f}",
            f"{r.peak_rss_mb:.0f}",
            f"{r.second_tick_seconds:.2f}",
            f"{r.seed_seconds:.1f}",
        ]
        for r in runs
    ]
    print(
        table(
            [
                "users",
                "plan s",
                "cpu s",
                "µs/user",
                "digests",
                "reminders",
                "distinct",
                "RSS before MB",
                "peak RSS MB",
                "2nd tick s",
                "seed s",
            ],
            rows,
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,50000,100000")
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--keep", type=Path, help="keep the databases in this directory")
    parser.add_argument("--plan-only", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.plan_only:
        print(json.dumps(asyncio.run(_plan_in_this_process(args.plan_only))))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    runs = asyncio.run(run(sizes, args.items, args.keep))
    report(runs)
    print(table(["figure", "value", "target", "result"], [f.row() for f in figures(runs)]))
    print("json:", json.dumps([asdict(r) for r in runs]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
