"""Planning: the weekly digest for 10k / 50k / 100k users with 1 000 catalog items.

Each size gets a fresh SQLite database (bench/data.py) and a copy of it; then a fresh process
builds the app (`create_app`, as `python -m bot` does) with the clock on a Wednesday morning
and runs one tick's planning: everything due is rendered and written to the outbox — on the
original in the bot's own process (the single-process planner, PLANNER_WORKERS=0), on the copy
by `--workers` worker processes the app starts (bot/worker.py), side by side in one run.
Printed per size and mode: seconds, microseconds per user (flat = linear), digests and
reminders enqueued, the process's peak RSS (and the workers' largest); then a second tick
(everything already planned) for the cost of a no-op tick. The workers are started before
the timed tick, as every tick after a bot's first finds them (PLANNER_WORKER_IDLE); their
start is printed apart (the first tick's extra cost).

    python bench/planning.py [--sizes 10000,50000,100000] [--items 1000] [--workers 2] [--keep DIR]
    python bench/planning.py --postgres   # the same on PostgreSQL (TEST_POSTGRES_URL)

Targets: 100 000 users in ≤ 10 s with peak RSS ≤ 300 MB; with two workers ≤ 0.55× the single
process's time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Figure, cpu_seconds, peak_rss_mb, rss_mb, table

TARGET_SECONDS = 10.0
TARGET_RSS_MB = 300.0
TARGET_RATIO = 0.55  # workers' time ÷ the single process's


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
    workers: int = 0  # 0: planned in the process itself
    worker_peak_rss_mb: float = 0.0  # the largest worker's
    worker_start_seconds: float = 0.0  # the workers' start (a first tick's extra), apart
    timings: list[dict[str, float]] = field(default_factory=list)  # each planner's PlanReport

    @property
    def us_per_user(self) -> float:
        return self.seconds / self.users * 1e6


def page_for(users: int) -> int:
    """Users per page: the product's 1 000, fewer at the small sizes of a quick run (so that
    two workers have pages to share)."""
    return min(1_000, max(50, users // 10))


async def _plan_in_this_process(url: str, workers: int = 0, page: int = 1_000) -> dict[str, Any]:
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
        planner_workers=workers,
        planner_workers_from=0,
        planner_page=page,
    )
    app = create_app(settings, clock=ManualClock(wednesday_morning()))

    async def kinds() -> dict[str, int]:
        async with app.engine.connect() as conn:
            rows = await conn.execute(select(outbox.c.kind, func.count()).group_by(outbox.c.kind))
            return {kind: int(n) for kind, n in rows.all()}

    worker_peak = [0.0]
    start_seconds = 0.0
    answers: list[dict[str, Any]] = []
    try:
        before = rss_mb()
        started, cpu = time.perf_counter(), time.process_time()
        if workers:
            worker_cpu: dict[int, float] = {}
            sampling = asyncio.create_task(_sample_workers(app, worker_peak, worker_cpu))
            # The workers as a tick after the first finds them (PLANNER_WORKER_IDLE): started,
            # imported, the catalog loaded — that start is timed apart (the first tick's).
            await app.workers.start(workers)
            start_seconds = time.perf_counter() - started
            for pid in app.workers.pids:
                worker_cpu[pid] = cpu_seconds(pid)
            before_cpu = dict(worker_cpu)
            started, cpu = time.perf_counter(), time.process_time()
            await app.plan()  # the app's workers plan; this process waits
            seconds = time.perf_counter() - started
            for pid in app.workers.pids:
                worker_cpu[pid] = cpu_seconds(pid)
            sampling.cancel()
            answers = app.workers.answers
            cpu = time.process_time() - cpu
            cpu += sum(worker_cpu[p] - before_cpu.get(p, 0.0) for p in worker_cpu)
            found = await kinds()
            digests, reminders = found.get("digest", 0), found.get("reminder", 0)
            enqueued = digests + reminders
        else:
            report = await app.planner.plan()
            seconds = time.perf_counter() - started
            answers = [{"pages": report.pages, "timings": report.timings}]
            cpu = time.process_time() - cpu
            digests, reminders, enqueued = report.digests, report.reminders, report.enqueued
        after = rss_mb()
        counted = sum((await kinds()).values())
        started = time.perf_counter()
        if workers:
            await app.plan()
        else:
            await app.planner.plan()
        second = time.perf_counter() - started
        assert sum((await kinds()).values()) == counted, "a second tick planned again"
        async with app.engine.connect() as conn:
            distinct = (
                await conn.execute(
                    select(func.count(func.distinct(outbox.c.payload))).where(
                        outbox.c.kind == "digest"
                    )
                )
            ).scalar_one()
    finally:
        await app.workers.close()
        await app.bot.session.close()
        await app.engine.dispose()
    peak = peak_rss_mb()  # VmHWM: ru_maxrss would count the forking parent too
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "digests": digests,
        "reminders": reminders,
        "enqueued": enqueued,
        "workers": workers,
        "worker_peak_rss_mb": worker_peak[0],
        "worker_start_seconds": start_seconds,
        "timings": [a.get("timings", {}) for a in answers],
        "rss_before_mb": before,
        "peak_rss_mb": peak,
        "rss_after_mb": after,
        "second_tick_seconds": second,
        "distinct_digests": int(distinct),
    }


async def _sample_workers(app: Any, peak: list[float], cpu: dict[int, float]) -> None:
    """The largest worker's peak RSS (VmHWM, read while they run: a forked child's own
    getrusage counts the parent's pages it had before exec), and each worker's CPU seconds
    (they outlive the tick: getrusage of the children would not count them)."""
    while True:
        for pid in app.workers.pids:
            with contextlib.suppress(OSError, ValueError):
                peak[0] = max(peak[0], peak_rss_mb(pid))
                cpu[pid] = cpu_seconds(pid)
        await asyncio.sleep(0.05)


def plan_in_subprocess(
    url: str, env: dict[str, str] | None = None, *, workers: int = 0, page: int = 1_000
) -> dict[str, Any]:
    """One planner tick in a fresh interpreter (so the RSS is the planning's own); with
    `workers`, planned by that many worker processes it starts."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.planning",
            "--plan-only",
            url,
            "--workers",
            str(workers),
            "--page",
            str(page),
        ],
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


def _copy(url: str, suffix: str) -> str:
    """A copy of a seeded SQLite database (its file and WAL), for the second mode."""
    path = Path(url.removeprefix("sqlite+aiosqlite:///"))
    target = path.with_name(f"{path.stem}{suffix}{path.suffix}")
    for extra in ("", "-wal", "-shm"):
        source = Path(f"{path}{extra}")
        if source.exists():
            shutil.copyfile(source, f"{target}{extra}")
    return f"sqlite+aiosqlite:///{target}"


async def run_postgres(sizes: list[int], items: int, workers: int = 2) -> list[PlanRun]:
    """As `run`, on PostgreSQL (TEST_POSTGRES_URL, or the local test server): per size and
    mode a fresh database, seeded alike."""
    os.environ.setdefault("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    from bench.data import seed, wednesday_morning
    from tests.conftest import fresh_postgres

    runs = []
    for users in sizes:
        page = page_for(users)
        for mode_workers in (0, workers) if workers else (0,):
            async with fresh_postgres() as url:
                started = time.perf_counter()
                await seed(url, users, items, now=wednesday_morning())
                seeded = time.perf_counter() - started
                result = await asyncio.to_thread(
                    partial(plan_in_subprocess, url, workers=mode_workers, page=page)
                )
            runs.append(PlanRun(users=users, seed_seconds=seeded, **result))
            said = f"with {mode_workers} workers" if mode_workers else "in-process"
            print(f"  PostgreSQL, {users} users {said}: {result['seconds']:.2f} s", flush=True)
    return runs


async def run(
    sizes: list[int], items: int, keep: Path | None = None, workers: int = 2
) -> list[PlanRun]:
    """Per size: the single-process planner, then (`workers` > 0) the workers on a copy."""
    runs = []
    with tempfile.TemporaryDirectory(prefix="opora-plan-") as tmp:
        directory = keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        for users in sizes:
            url, seeded = await seed_database(directory, users, items)
            copy = _copy(url, "_workers") if workers else None
            page = page_for(users)
            result = await asyncio.to_thread(plan_in_subprocess, url, page=page)
            runs.append(PlanRun(users=users, seed_seconds=seeded, **result))
            print(f"  planned {users} users: {result['seconds']:.2f} s", flush=True)
            if copy is not None:
                result = await asyncio.to_thread(
                    partial(plan_in_subprocess, copy, workers=workers, page=page)
                )
                runs.append(PlanRun(users=users, seed_seconds=seeded, **result))
                print(f"  … with {workers} workers: {result['seconds']:.2f} s", flush=True)
    return runs


def figures(all_runs: list[PlanRun]) -> list[Figure]:
    runs = [r for r in all_runs if not r.workers]
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
    parallel = [r for r in all_runs if r.workers]
    if parallel:
        big = max(parallel, key=lambda r: r.users)
        small = min(parallel, key=lambda r: r.users)
        single = next(r for r in runs if r.users == big.users)
        ratio = big.seconds / single.seconds if single.seconds else 0.0
        grows = big.us_per_user / small.us_per_user if small.us_per_user else 0.0
        n = big.workers
        result += [
            Figure(
                f"planning: {big.users} users with {n} workers, seconds",
                big.seconds,
                f"≤ {TARGET_SECONDS:g} s",
                big.seconds <= TARGET_SECONDS,
            ),
            Figure(
                f"planning: {n} workers ÷ single process, {big.users} users",
                ratio,
                f"≤ {TARGET_RATIO:g}",
                ratio <= TARGET_RATIO,
            ),
            Figure(
                f"planning: {n} workers ÷ single process, {big.users} users, the first tick "
                "(workers started)",
                (big.seconds + big.worker_start_seconds) / single.seconds if single.seconds else 0,
                "reported",
                None,
            ),
            Figure(
                f"planning: with workers, cost per user {big.users} ÷ {small.users}",
                grows,
                "≈ 1 (linear)",
                None,
            ),
            Figure(
                f"planning: {big.users} users, a worker's peak RSS MB",
                big.worker_peak_rss_mb,
                "reported",
                None,
            ),
        ]
    return result


def report(runs: list[PlanRun]) -> None:
    rows = [
        [
            f"{r.users}",
            f"{r.workers or 'in-process'}",
            f"{r.seconds:.2f}",
            f"{r.cpu_seconds:.2f}",
            f"{r.us_per_user:.0f}",
            f"{r.digests}",
            f"{r.reminders}",
            f"{r.distinct_digests}",
            f"{r.rss_before_mb:.0f}",
            f"{r.peak_rss_mb:.0f}",
            f"{r.worker_peak_rss_mb:.0f}" if r.workers else "",
            f"{r.worker_start_seconds:.2f}" if r.workers else "",
            f"{r.second_tick_seconds:.2f}",
            f"{r.seed_seconds:.1f}",
        ]
        for r in runs
    ]
    print(
        table(
            [
                "users",
                "workers",
                "plan s",
                "cpu s",
                "µs/user",
                "digests",
                "reminders",
                "distinct",
                "RSS before MB",
                "peak RSS MB",
                "worker peak MB",
                "workers' start s",
                "2nd tick s",
                "seed s",
            ],
            rows,
        )
    )
    print("where each planner's loop spent the tick (s): prepare, plan, waiting for reads, writes")
    for r in runs:
        said = "; ".join(", ".join(f"{k} {v:.2f}" for k, v in t.items()) for t in r.timings if t)
        print(f"  {r.users} {r.workers or 'in-process'}: {said}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,50000,100000")
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--keep", type=Path, help="keep the databases in this directory")
    parser.add_argument(
        "--workers", type=int, default=2, help="worker processes beside the single one (0: none)"
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="on PostgreSQL (TEST_POSTGRES_URL; a fresh database per size and mode)",
    )
    parser.add_argument("--plan-only", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--page", type=int, default=1_000, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.plan_only:
        found = asyncio.run(_plan_in_this_process(args.plan_only, args.workers, args.page))
        print(json.dumps(found))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.postgres:
        runs = asyncio.run(run_postgres(sizes, args.items, args.workers))
    else:
        runs = asyncio.run(run(sizes, args.items, args.keep, args.workers))
    report(runs)
    print(table(["figure", "value", "target", "result"], [f.row() for f in figures(runs)]))
    print("json:", json.dumps([asdict(r) for r in runs]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
