"""Crash safety at scale (the long version of tests/faults/test_kill.py): `python -m bot` as a
real process against the bundled emulator sends a broadcast (composed through the coordinator's
screens) and then a digest run to N recipients; it is killed with SIGKILL several times on the
way and restarted each time. Prints, per run, how many rows were in flight at each kill, how
many of those had already reached Telegram, and after the last restart how many recipients got
nothing (must be 0) and how many got a message twice (only those in flight and delivered).

    python bench/faults.py [--recipients 3000] [--kills 3] [--rate 200] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import table
from bot.emulator import Emulator
from bot.infra.db import make_engine, migrate
from bot.storage import users as users_repo
from tests.faults.process import (
    BotProcess,
    delivered,
    in_flight,
    seed_users,
    settings_for,
    statuses,
)

COORDINATOR = 9_000_001
FIRST = 9_100_001


async def _kills(
    process: BotProcess, emulator: Emulator, ids: list[int], kind: str, kills: int
) -> list[list[str]]:
    """Kill the process `kills` times, evenly along the run, restarting it after each kill;
    returns a row per kill (with the seconds from the kill to the restarted process's first
    message: the interpreter's start, plus the lease for a chat only in flight)."""
    engine = make_engine(process.url)
    recipients = set(ids)
    rows = []
    try:
        for k in range(1, kills + 1):
            target = len(ids) * k // (kills + 1)
            await emulator.wait_for_call(
                "sendMessage",
                count=target,
                timeout=600,
                predicate=lambda c: c.ok and c.params.get("chat_id") in recipients,
            )
            await process.kill()
            killed = time.perf_counter()
            at_kill = await statuses(engine, kind)
            flying = await in_flight(engine, kind)
            got = delivered(emulator, ids)
            reached = sum(1 for uid in flying if got[uid])
            sent = sum(got.values())
            await process.start()
            await emulator.wait_for_call(  # the first message the restarted process sends
                "sendMessage",
                count=sent + 1,
                timeout=600,
                predicate=lambda c: c.ok and c.params.get("chat_id") in recipients,
            )
            rows.append(
                [
                    f"{kind} kill {k}",
                    str(at_kill.get("sent", 0)),
                    str(len(flying)),
                    str(reached),
                    f"{time.perf_counter() - killed:.1f}",
                ]
            )
    finally:
        await engine.dispose()
    return rows


async def _finish(emulator: Emulator, engine_url: str, kind: str, total: int) -> None:
    """Until the outbox has every row sent: re-checked after each message the bot sends (or
    every few seconds, while a dead instance's lease runs out)."""
    engine = make_engine(engine_url)
    try:
        async with asyncio.timeout(900):
            while (await statuses(engine, kind)).get("sent", 0) < total:
                following = len(emulator.calls_of("sendMessage")) + 1
                with contextlib.suppress(TimeoutError):
                    await emulator.wait_for_call("sendMessage", count=following, timeout=5)
    finally:
        await engine.dispose()


async def run(recipients: int, kills: int, rate: int, concurrency: int) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="opora-faults-"))
    settings = settings_for(
        send_rate=rate,
        send_chat_interval=0,
        send_concurrency=concurrency,
        outbox_lease=5,
        tick_seconds=1,
        admin_ids=COORDINATOR,
        log_level="WARNING",
    )
    results: list[list[str]] = []
    totals: list[list[str]] = []
    async with Emulator(bot_username="opora_bench_bot", record_calls=True) as emulator:
        for n, kind in enumerate(("broadcast", "digest")):
            ids = list(range(FIRST + n * recipients, FIRST + (n + 1) * recipients))
            run_dir = workdir / kind
            run_dir.mkdir()
            process = BotProcess(emulator, run_dir / "bot.db", run_dir, dict(settings))
            engine = make_engine(process.url)
            await migrate(engine)
            now = datetime.now(UTC)
            await seed_users(engine, emulator, ids, now, digest_due=kind == "digest")
            async with engine.begin() as conn:
                await users_repo.ensure(conn, COORDINATOR, now)
                await users_repo.set_fields(conn, COORDINATOR, now, locale="en")
            await engine.dispose()
            try:
                await process.start()
                if kind == "broadcast":
                    await _broadcast(emulator)
                results += await _kills(process, emulator, ids, kind, kills)
                await _finish(emulator, process.url, kind, recipients)
            finally:
                await process.stop()
            got = delivered(emulator, ids)
            missing = sum(1 for n in got.values() if n == 0)
            doubles = sum(n - 1 for n in got.values() if n > 1)
            errors = len(process.errors())
            totals.append([kind, str(recipients), str(missing), str(doubles), str(errors)])
    header = ["kill", "sent at kill", "in flight", "in flight, delivered", "back sending after s"]
    print(table(header, results))
    print()
    print(table(["run", "recipients", "missing", "delivered twice", "errors logged"], totals))
    flying_delivered = sum(int(r[3]) for r in results)
    print(
        f"\ndoubles {sum(int(t[3]) for t in totals)} ≤ in flight and delivered "
        f"{flying_delivered}; missing {sum(int(t[2]) for t in totals)} (SEND_CONCURRENCY "
        f"{concurrency}, SEND_RATE {rate}/s)"
    )
    return 0 if all(t[2] == "0" for t in totals) else 1


async def _broadcast(emulator: Emulator) -> None:
    """The coordinator composes and sends it through the bot's screens."""
    coordinator = emulator.user(COORDINATOR, language_code="en")
    coordinator.chat.started = True
    await coordinator.send("/broadcast")
    await coordinator.next_message(timeout=120)
    await coordinator.send("Субботник в субботу в 10:00 — ждём всех!")
    segment = await coordinator.next_message(timeout=30)
    await coordinator.press("👁 Preview", message=segment, timeout=30)
    await coordinator.next_message(timeout=30)
    control = await coordinator.next_message(timeout=30)
    go = next(b for b in control.button_texts() if b.startswith("🚀 Send now"))
    await coordinator.press(go, message=control, timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=3000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    return asyncio.run(run(args.recipients, args.kills, args.rate, args.concurrency))


if __name__ == "__main__":
    sys.exit(main())
