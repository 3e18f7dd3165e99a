"""Updates: simulated activists doing the whole journey (/start → consent → role and place →
ikigai with its picture → the stage quiz → the diagnosis → matched measures) through the bundled
emulator over HTTP, against the bot (`python -m bot`, its own process, SQLite, long polling)
and, in the same run, against a minimal aiogram echo bot (bench/echo_bot.py) doing the same
polling on the same emulator.

Loads, each against both bots: closed loop (every user sends their next update when the last
one is answered: the most updates/s the bot manages), then two open loops at `rate` updates/s
(an update is sent every 1/rate s at the earliest, whatever the answers: the latency a user
feels at that load):
* steady — users arrive one after another, one every JOURNEY_UPDATES/rate s, each going
  through the journey at once, so that the load is `rate` updates/s of every kind at every
  moment, as when people come and go. The p95 target is about this load.
* wave — all the users start together and move through the journey in step, so they all
  reach the ikigai picture within a second or two (a workshop finishing the exercise at once;
  the only open loop here until 2026-11-30).

    python bench/updates.py [--users 1000] [--rate 100] [--seconds 30]

Targets: the bot's updates/s ≥ 0.5 × the echo bot's; p95 ≤ 50 ms at a steady 100 updates/s.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Figure, cpu_seconds, load_average, table
from bench.load import (
    ECHO_TOKEN,
    JOURNEY_UPDATES,
    LoadResult,
    journey,
    journey_load,
    start_bot_process,
)
from bot.emulator import DEFAULT_TOKEN, Emulator

TARGET_RATIO = 0.5
TARGET_P95_MS = 50.0


@dataclass
class Measured:
    bot: str
    closed: LoadResult
    steady: LoadResult  # steady arrivals
    wave: LoadResult
    cpu_seconds: float  # the bot process's CPU over the three loads

    @property
    def cpu_ms_per_update(self) -> float:
        updates = self.closed.updates + self.steady.updates + self.wave.updates
        return self.cpu_seconds / updates * 1000 if updates else 0.0

    @property
    def loads(self) -> tuple[LoadResult, LoadResult, LoadResult]:
        return self.closed, self.steady, self.wave


async def measure(
    emulator: Emulator,
    directory: Path,
    *,
    echo: bool,
    users: int,
    rate: float,
    seconds: float,
    first_id: int,
) -> Measured:
    token = ECHO_TOKEN if echo else DEFAULT_TOKEN
    name = "echo" if echo else "bot"
    started = await start_bot_process(
        emulator,
        directory / name,
        env={"BOT_TOKEN": token},
        module="bench.echo_bot" if echo else "bot",
        name=name,
    )
    process = started.bot.process
    try:
        warm = await journey_load(emulator, [first_id - 1], token=token, echo=echo)
        if warm.failures:
            raise RuntimeError(f"{name}: the warm-up journey failed:\n{warm.errors[0]}")
        cpu = cpu_seconds(process.pid)
        closed = await journey_load(
            emulator, range(first_id, first_id + users), token=token, echo=echo
        )
        print(f"  {name}: closed loop {closed.per_second:.0f} updates/s", flush=True)
        budget = int(rate * seconds)
        start = first_id + users
        arriving = range(start, start + budget // JOURNEY_UPDATES + 1)
        steady = await journey_load(
            emulator, arriving, token=token, echo=echo, rate=rate, max_updates=budget,
            arrivals=JOURNEY_UPDATES / rate,
        )  # fmt: skip
        print(f"  {name}: open loop, steady arrivals: p95 {steady.ms(95):.1f} ms", flush=True)
        start += len(arriving)
        together = range(start, start + budget // JOURNEY_UPDATES + 50)
        wave = await journey_load(
            emulator, together, token=token, echo=echo, rate=rate, max_updates=budget
        )
        print(f"  {name}: open loop, all at once: p95 {wave.ms(95):.1f} ms", flush=True)
        cpu = cpu_seconds(process.pid) - cpu
    finally:
        await started.bot.terminate()
    return Measured(name, closed, steady, wave, cpu)


async def run(users: int, rate: float, seconds: float) -> tuple[Measured, Measured]:
    with tempfile.TemporaryDirectory(prefix="opora-updates-") as tmp:
        async with Emulator(bot_username="opora_bench_bot") as emulator:
            emulator.register_bot(ECHO_TOKEN, username="echo_bench_bot")
            bot, echo = [
                await measure(emulator, Path(tmp), echo=echo, users=users, rate=rate,
                              seconds=seconds, first_id=100_000)
                for echo in (False, True)
            ]  # fmt: skip
    return bot, echo


def figures(bot: Measured, echo: Measured, rate: float) -> list[Figure]:
    ratio = bot.closed.per_second / echo.closed.per_second if echo.closed.per_second else 0.0
    return [
        Figure("updates: bot updates/s (closed loop)", bot.closed.per_second, "", None),
        Figure("updates: echo bot updates/s (closed loop)", echo.closed.per_second, "", None),
        Figure("updates: bot ÷ echo updates/s", ratio, f"≥ {TARGET_RATIO}", ratio >= 0.5),
        Figure(
            f"updates: bot p95 ms at {rate:g} updates/s (steady arrivals)",
            bot.steady.ms(95),
            f"≤ {TARGET_P95_MS:g} ms",
            bot.steady.ms(95) <= TARGET_P95_MS,
        ),
        Figure("updates: that load as sent, updates/s", bot.steady.sent_per_second, "", None),
        Figure(f"updates: echo p95 ms at {rate:g} updates/s", echo.steady.ms(95), "", None),
        Figure(
            f"updates: bot p95 ms at {rate:g} updates/s, all users at once (wave)",
            bot.wave.ms(95),
            "",
            None,
        ),
        Figure(
            "updates: unanswered updates",
            sum(r.failures for r in bot.loads),
            "0",
            sum(r.failures for r in bot.loads) == 0,
        ),
    ]


def report(bot: Measured, echo: Measured, rate: float) -> None:
    rows = []
    for m in (bot, echo):
        modes = ("closed loop", f"{rate:g}/s steady", f"{rate:g}/s wave")
        for mode, r in zip(modes, m.loads, strict=True):
            rows.append(
                [
                    m.bot,
                    mode,
                    str(r.updates),
                    f"{r.seconds:.1f}",
                    f"{r.sent_per_second if r is not m.closed else r.per_second:.0f}",
                    f"{r.ms(50):.1f}",
                    f"{r.ms(95):.1f}",
                    f"{r.ms(99):.1f}",
                    str(r.failures),
                ]
            )
    print(
        table(
            ["bot", "load", "updates", "s", "updates/s", "p50 ms", "p95 ms", "p99 ms", "lost"],
            rows,
        )
    )
    print(
        f"bot process CPU: {bot.cpu_ms_per_update:.2f} ms per update; "
        f"echo bot: {echo.cpu_ms_per_update:.2f} ms (load average now {load_average():.2f})"
    )
    steps = journey()
    for mode, r in (("steady", bot.steady), ("wave", bot.wave)):
        slowest = ", ".join(
            f"{n + 1}. {steps[n][1][:24]!r} {ms:.0f} ms" for n, ms in r.slowest_steps()
        )
        print(f"bot, open loop ({mode}): the slowest journey steps by p95: {slowest}")
    for m in (bot, echo):
        for r in m.loads:
            for error in r.errors[:1]:
                print(f"{m.bot}: {error}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=30.0, help="of the open-loop load")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    bot, echo = asyncio.run(run(args.users, args.rate, args.seconds))
    took = time.perf_counter() - started
    print(
        f"{args.users} users × {JOURNEY_UPDATES} updates, closed loop; then {args.rate:g} "
        f"updates/s for {args.seconds:g} s ({took:.0f} s in all)"
    )
    report(bot, echo, args.rate)
    print(
        table(
            ["figure", "value", "target", "result"],
            [f.row() for f in figures(bot, echo, args.rate)],
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
