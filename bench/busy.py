"""Updates while the bot plans or broadcasts: the steady 100 updates/s load's p95 during a tick
of many users' digests, or during a broadcast at 1 000/s, beside the same load's p95 on the same
bot once that work is over (idle), in one run — for the planner in worker processes
(PLANNER_WORKERS=2, bot/worker.py) and, for comparison, in the bot's own process
(PLANNER_WORKERS=0); and for a broadcast ("broadcast").

Per mode: a copy of one seeded database (bench/data.py, everyone's digest due), `python -m bot`
against the emulator; its first tick starts as it starts polling, and the steady load starts
with it (the activist journey, new users arriving at `--rate` updates/s). The database says
when the tick is over (every page of plan_claims done); then the same load runs again, idle.
The sender is slowed to a trickle (SEND_RATE) so that the digests going out do not count.

"broadcast": a database of `--recipients` users (default: enough for the broadcast to outlast
the load with room to spare) and nothing else due; a broadcast to everyone scheduled the way
bench/pacing.py does (the bot's tick starts it), SEND_RATE=`--send-rate` with the emulator
enforcing that rate (plus the load's answers: Telegram counts paid broadcasts apart). The
steady load starts with the broadcast's first message; once every recipient has theirs, the
same load runs again, idle. The sends/s during the busy load are printed beside it, so that the
figure says the broadcast really went at its rate while measured.

    python -m bench.busy [--users 100000] [--items 1000] [--rate 100] [--seconds 10]
                         [--modes workers,in-process,broadcast] [--send-rate 1000]

Targets: p95 during a 100 000-user tick ≤ 2× the idle p95, and ≤ 50 ms; during a 1 000/s
broadcast ≤ 2× the idle p95, the broadcast at ≥ 0.95× its rate meanwhile.
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
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Figure, cpu_seconds, load_average, table
from bench.load import JOURNEY_UPDATES, LoadResult, journey_load, start_bot_process
from bench.pacing import AUTHOR, broadcast_sends, recipients_of, schedule_broadcast, wait_until
from bot.emulator import Emulator

TARGET_TIMES = 2.0
TARGET_P95_MS = 50.0
TARGET_SEND_RATIO = 0.95
MODES = ("workers", "in-process", "broadcast")
PLANNING = ("workers", "in-process")
SEND_RATE = 1000.0
TEXT = "Объявление: сбор в субботу в 10:00 у ДК, приходите всей семьёй."


@dataclass
class Busy:
    mode: str
    tick_seconds: float  # from the bot's start to the tick's last page; a broadcast: its sends
    under_way: float  # the share of the busy load's time the tick (broadcast) was under way
    busy: LoadResult
    idle: LoadResult
    send_rate: float = 0.0  # "broadcast": the configured rate, and what went during the load
    sent_per_second: float = 0.0
    refused: int = 0  # 429s during the broadcast
    # A core's share of CPU the bot's process, and this one (the emulator and the simulated
    # users), used during the busy load and during the idle one: which of them was the limit.
    cpu: tuple[float, float] = (0.0, 0.0)
    harness_cpu: tuple[float, float] = (0.0, 0.0)


class _Cpu:
    """A core's share of CPU a process and this one used since the last `share()`."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._at = self._now()

    def _now(self) -> tuple[float, float, float]:
        return time.monotonic(), cpu_seconds(self.pid), time.process_time()

    def share(self) -> tuple[float, float]:
        then, self._at = self._at, self._now()
        wall = self._at[0] - then[0]
        if wall <= 0:
            return 0.0, 0.0
        return (self._at[1] - then[1]) / wall, (self._at[2] - then[2]) / wall


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
        cpu = _Cpu(bot.process.pid)
        busy = await _load(emulator, 100_000, rate, seconds)
        busy_cpu = cpu.share()
        spent = time.perf_counter() - loaded
        tick = await watching
        under_way = min(1.0, max(0.0, (started + tick - loaded) / spent)) if spent else 0.0
        cpu.share()
        idle = await _load(emulator, 200_000, rate, seconds)
        idle_cpu = cpu.share()
    finally:
        await bot.terminate()
    print(f"  {mode}: tick {tick:.1f} s, p95 busy {busy.ms(95):.1f} ms, idle {idle.ms(95):.1f} ms")
    return Busy(
        mode,
        tick,
        under_way,
        busy,
        idle,
        cpu=(busy_cpu[0], idle_cpu[0]),
        harness_cpu=(busy_cpu[1], idle_cpu[1]),
    )


def recipients_for(send_rate: float, seconds: float) -> int:
    """Enough recipients for the broadcast to outlast the load (and its slowest answers)."""
    return int(send_rate * (seconds * 1.5 + 5))


async def measure_broadcast(
    emulator: Emulator,
    directory: Path,
    rate: float,
    seconds: float,
    send_rate: float,
    recipients: int,
) -> Busy:
    from bench.data import seed

    work = directory / "broadcast"
    url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
    work.mkdir(parents=True)
    seeded = await seed(url, recipients, 4, now=datetime.now(UTC), no_digests=True)
    for uid in (AUTHOR, *range(seeded.first_user, seeded.first_user + recipients)):
        emulator.user(uid).chat.started = True  # they pressed Start in Telegram
    # Telegram's 1 000/s is for paid broadcasts; the load's answers are counted apart.
    emulator.set_flood_limits(global_rate=send_rate + rate)
    env = {
        "DATABASE_URL": url,
        "TICK_SECONDS": "1",  # the tick starts the scheduled broadcast
        "SEND_RATE": f"{send_rate:g}",
        "SEND_CONCURRENCY": "64",
        "SEND_CHAT_INTERVAL": "1",
    }
    bot = (await start_bot_process(emulator, work, env=env, name="broadcast")).bot
    try:
        since = len(emulator.calls)
        broadcast = await schedule_broadcast(url, emulator, TEXT)
        if not await wait_until(lambda: bool(broadcast_sends(emulator, TEXT, since)), 60, 0.02):
            raise RuntimeError(f"the broadcast did not start:\n{bot.log_tail()}")
        loaded = time.monotonic()
        cpu = _Cpu(bot.process.pid)
        busy = await _load(emulator, 100_000, rate, seconds)
        busy_cpu = cpu.share()
        spent = time.monotonic() - loaded
        rows = await recipients_of(url, emulator, broadcast)
        due = sum(1 for status in rows.values() if status != "skipped")
        everyone = await wait_until(
            lambda: sum(1 for c in broadcast_sends(emulator, TEXT, since) if c.ok) >= due, 600
        )
        if not everyone:
            raise RuntimeError(f"the broadcast did not finish:\n{bot.log_tail()}")
        calls = broadcast_sends(emulator, TEXT, since)
        ok = [c.time for c in calls if c.ok]
        during = sum(1 for t in ok if loaded <= t <= loaded + spent)
        under_way = min(1.0, max(0.0, (ok[-1] - loaded) / spent)) if spent else 0.0
        cpu.share()
        idle = await _load(emulator, 200_000, rate, seconds)
        idle_cpu = cpu.share()
    finally:
        await bot.terminate()
        emulator.disable_flood_limits()
    result = Busy(
        "broadcast",
        ok[-1] - ok[0],
        under_way,
        busy,
        idle,
        send_rate=send_rate,
        # Over the part of the load the broadcast was still going (all of it, when it outlasts).
        sent_per_second=during / (spent * under_way) if spent and under_way else 0.0,
        refused=sum(1 for c in calls if c.error_code == 429),
        cpu=(busy_cpu[0], idle_cpu[0]),
        harness_cpu=(busy_cpu[1], idle_cpu[1]),
    )
    print(
        f"  broadcast: {result.sent_per_second:.0f} sends/s during the load, "
        f"p95 busy {busy.ms(95):.1f} ms, idle {idle.ms(95):.1f} ms"
    )
    return result


async def run(
    users: int,
    items: int,
    rate: float,
    seconds: float,
    workers: int = 2,
    page: int = 1_000,
    modes: tuple[str, ...] = MODES,
    send_rate: float = SEND_RATE,
    recipients: int | None = None,
) -> list[Busy]:
    from bench.data import seed, wednesday_morning

    with tempfile.TemporaryDirectory(prefix="opora-busy-") as tmp:
        directory = Path(tmp)
        seeded = directory / "seeded.db"
        if any(mode in PLANNING for mode in modes):
            await seed(
                f"sqlite+aiosqlite:///{seeded}",
                users,
                items,
                now=wednesday_morning(),
                always_due=True,
            )
        found = []
        async with Emulator(bot_username="opora_bench_bot") as emulator:
            for mode in modes:
                if mode == "broadcast":
                    audience = recipients or recipients_for(send_rate, seconds)
                    found.append(
                        await measure_broadcast(
                            emulator, directory, rate, seconds, send_rate, audience
                        )
                    )
                else:
                    found.append(
                        await measure(
                            emulator, directory, seeded, mode, rate, seconds, workers, page
                        )
                    )
        return found


def figures(runs: list[Busy], users: int, rate: float) -> list[Figure]:
    result = []
    for r in runs:
        idle, busy = r.idle.ms(95), r.busy.ms(95)
        times = busy / idle if idle else 0.0
        if r.mode == "broadcast":
            pace = r.sent_per_second / r.send_rate if r.send_rate else 0.0
            result += [
                Figure(
                    f"busy (broadcast): p95 ms at {rate:g} updates/s during a "
                    f"{r.send_rate:g}/s broadcast",
                    busy,
                    "reported",
                    None,
                ),
                Figure(
                    "busy (broadcast): p95 during the broadcast ÷ idle",
                    times,
                    f"≤ {TARGET_TIMES:g}",
                    times <= TARGET_TIMES,
                ),
                Figure(
                    "busy (broadcast): sends/s during the load ÷ configured",
                    pace,
                    f"≥ {TARGET_SEND_RATIO:g}",
                    pace >= TARGET_SEND_RATIO,
                ),
            ]
            continue
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
            f"{r.sent_per_second:.0f} ({r.refused} 429s)" if r.mode == "broadcast" else "",
            f"{r.idle.ms(50):.1f}",
            f"{r.idle.ms(95):.1f}",
            f"{r.busy.ms(50):.1f}",
            f"{r.busy.ms(95):.1f}",
            f"{r.busy.failures + r.idle.failures}",
            f"{r.cpu[0] * 100:.0f} / {r.cpu[1] * 100:.0f}",
            f"{r.harness_cpu[0] * 100:.0f} / {r.harness_cpu[1] * 100:.0f}",
        ]
        for r in runs
    ]
    header = ["mode", "work s", "under way %", "sends/s", "idle p50", "idle p95"]
    cpu = ["bot CPU % busy / idle", "emulator+users CPU %"]
    print(table([*header, "busy p50", "busy p95", "unanswered", *cpu], rows))
    print(f"(load average now {load_average():.2f})")


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
    parser.add_argument("--send-rate", type=float, default=SEND_RATE, help="broadcast: SEND_RATE")
    parser.add_argument(
        "--recipients", type=int, default=None, help="broadcast: users (default: to outlast)"
    )
    args = parser.parse_args(argv)
    given = (args.users, args.items, args.rate, args.seconds, args.workers, args.page)
    modes = tuple(m for m in args.modes.split(",") if m in MODES)
    runs = asyncio.run(
        run(*given, modes=modes, send_rate=args.send_rate, recipients=args.recipients)
    )
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
