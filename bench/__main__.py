"""All five benchmarks in one run, then a summary of every figure with its target:

    python -m bench            # the sizes of the issue (1 000 users, 10 000 recipients, 100 000
                               # users planned, updates during a 1 000/s broadcast; about a
                               # quarter of an hour on 2 cores)
    python -m bench --quick    # small sizes, a couple of minutes: a smoke run
    python -m bench --only planning,startup

Each benchmark also runs alone (`python bench/updates.py --help`, …) and prints more detail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

if __package__ in (None, ""):  # `python bench/__main__.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import busy, pacing, planning, startup, updates
from bench.common import Figure, load_average, table

FULL = {
    "updates": {"users": 1000, "rate": 100.0, "seconds": 30.0},
    "pacing": {"recipients": 10_000, "window": 60.0, "paid_rate": 1000.0},
    "planning": {"sizes": [10_000, 50_000, 100_000], "items": 1000},
    "startup": {"runs": 5, "users": 100_000},
    "busy": {"users": 100_000, "items": 1000, "rate": 100.0, "seconds": 10.0, "send_rate": 1000.0},
}
QUICK = {
    "updates": {"users": 20, "rate": 100.0, "seconds": 3.0},
    "pacing": {"recipients": 200, "window": 3.0, "paid_rate": 300.0},
    "planning": {"sizes": [300, 900], "items": 100},
    "startup": {"runs": 1, "users": 300},
    "busy": {"users": 300, "items": 100, "rate": 100.0, "seconds": 2.0, "send_rate": 300.0},
}
NAMES = ("updates", "pacing", "planning", "startup", "busy")
MARK = "bench-figures: "  # the line a child prints its figures on (JSON)
ROOT = Path(__file__).resolve().parent.parent


def run_child(name: str, quick: bool) -> list[Figure]:
    """One benchmark in a fresh interpreter: what one leaves behind (the emulator's chats of a
    thousand users, a heap grown large) must not slow the next one down."""
    command = [sys.executable, "-m", "bench", "--child", name, *(["--quick"] if quick else [])]
    figures: list[Figure] = []
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith(MARK):
                figures = [Figure(**f) for f in json.loads(line[len(MARK) :])]
            else:
                print(line, end="", flush=True)
    if child.returncode != 0:
        raise SystemExit(f"benchmark {name} failed (exit {child.returncode})")
    return figures


def run(name: str, size: dict[str, object]) -> list[Figure]:
    print(f"\n== {name}", flush=True)
    if name == "updates":
        bot, echo = asyncio.run(
            updates.run(int(size["users"]), float(size["rate"]), float(size["seconds"]))
        )
        updates.report(bot, echo, float(size["rate"]))
        return updates.figures(bot, echo, float(size["rate"]))
    if name == "pacing":
        phases, deliveries = asyncio.run(
            pacing.run(int(size["recipients"]), float(size["window"]), float(size["paid_rate"]))
        )
        pacing.report(phases, deliveries)
        return pacing.figures(phases, deliveries)
    if name == "planning":
        sizes = [int(s) for s in size["sizes"]]  # type: ignore[attr-defined]
        runs = asyncio.run(planning.run(sizes, int(size["items"])))
        planning.report(runs)
        return planning.figures(runs)
    if name == "busy":
        users = int(size["users"])
        found = asyncio.run(
            busy.run(
                users,
                int(size["items"]),
                float(size["rate"]),
                float(size["seconds"]),
                send_rate=float(size["send_rate"]),
            )
        )
        busy.report(found)
        return busy.figures(found, users, float(size["rate"]))
    s = asyncio.run(startup.starts(int(size["runs"])))
    p = asyncio.run(startup.planned(int(size["users"]))) if size["users"] else None
    startup.report(s, p)
    return startup.figures(s, p)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument(
        "--only", default=",".join(NAMES), help="comma-separated: " + ", ".join(NAMES)
    )
    parser.add_argument("--child", choices=NAMES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.child:
        done = run(args.child, sizes[args.child])
        print(MARK + json.dumps([asdict(f) for f in done]), flush=True)
        return 0
    chosen = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = set(chosen) - set(NAMES)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    started, load = time.perf_counter(), load_average()
    figures: list[Figure] = []
    for name in chosen:
        figures += run_child(name, args.quick)
    minutes = (time.perf_counter() - started) / 60
    print(
        f"\n== summary ({'quick' if args.quick else 'full'} sizes; {os.cpu_count()} cores; "
        f"load average {load:.2f} at the start, {load_average():.2f} at the end; "
        f"{minutes:.1f} min)"
    )
    print(table(["figure", "value", "target", "result"], [f.row() for f in figures]))
    missed = [f for f in figures if f.passed is False]
    print(f"{sum(1 for f in figures if f.passed)} PASS, {len(missed)} MISS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
