"""One instance against three: the same update load — simulated activists doing the journey
(/start, consent, role and place, ikigai with its picture, the ten-question stage quiz) —
against 1 and then 3 bot processes in webhook mode (one PostgreSQL, one Redis, a round-robin
proxy standing in for the load balancer, the bundled emulator as Telegram), side by side in one
run. Prints updates/s and latency for each and the ratio.

    python bench/instances.py [--users 100] [--concurrency 20] [--instances 3]

Needs PostgreSQL and Redis: TEST_POSTGRES_URL and TEST_REDIS_URL (defaults: the local ones,
postgresql+asyncpg://postgres@127.0.0.1:5432/test and redis://127.0.0.1:6379/15 — flushed).

On a 2-core machine three instances cannot be three times faster: the instances, PostgreSQL,
Redis and the emulator (one Python process delivering webhooks and answering every Bot API
call) share the same two cores. What more instances buy there is that a slow update (a
picture) does not hold the others; the ratio shows how much of that survives the overhead.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/instances.py` from the repository
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
os.environ.setdefault("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

from redis.asyncio import Redis  # noqa: E402

from bench.common import percentile, table  # noqa: E402
from bench.load import OPERATOR_ENV  # noqa: E402
from bot.content import get_catalog  # noqa: E402
from bot.emulator import DEFAULT_TOKEN, EmulatedUser, Emulator  # noqa: E402
from tests.conftest import fresh_postgres  # noqa: E402
from tests.scale.cluster import (  # noqa: E402
    SECRET,
    BotProcess,
    RoundRobinProxy,
    free_port,
    wait_until,
)

CATALOG = get_catalog()
QUIZ = ["tackling", "team", "daily", "written", "planning",
        "donations", "regular_work", "one_place", "helpers", "carry_on"]  # fmt: skip
STEPS = 11 + len(QUIZ)  # updates one journey sends


@dataclass
class Run:
    instances: int
    users: int
    updates: int
    seconds: float
    latencies: list[float]
    served: list[int]

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds


async def journey(user: EmulatedUser, latencies: list[float]) -> None:
    """One activist from /start to the diagnosis; each step timed to the bot's answer."""

    async def say(text: str) -> None:
        user.skip_pending()
        started = time.perf_counter()
        await user.send(text)
        await user.next_message(timeout=60)
        latencies.append(time.perf_counter() - started)

    async def tap(label: str) -> None:
        started = time.perf_counter()
        await user.press(label, timeout=60)
        latencies.append(time.perf_counter() - started)
        user.skip_pending()

    await say("/start")
    for label in ("🚀 Начать: мой проект", "✅ Даю согласие", "🔕 Нет, спасибо",
                  "🚀 Активист: веду или начинаю проект", "Сибирский",
                  "Новосибирская область"):  # fmt: skip
        await tap(label)
    prompt = user.last_bot_message
    assert prompt is not None
    started = time.perf_counter()
    await user.send("Кружок робототехники для детей в селе")
    await user.wait_edit(prompt, timeout=60)  # the entry edits the step's message
    latencies.append(time.perf_counter() - started)
    for label in ("Дальше ▶", "Пропустить ▶", "Пропустить ▶", "Готово ▶", "✅ Взять подсказку"):
        await tap(label)
    for question, option in zip(CATALOG.quiz.questions, QUIZ, strict=True):
        await tap(question.option(option).label.get("ru"))


async def one_setup(instances: int, users: int, concurrency: int, first_id: int) -> Run:
    redis_url = os.environ["TEST_REDIS_URL"]
    client = Redis.from_url(redis_url)
    await client.flushdb()
    await client.aclose()
    directory = Path(tempfile.mkdtemp(prefix="bench-instances-"))
    async with fresh_postgres() as db, Emulator(bot_username="opora_bench_bot") as emulator:
        ports = [free_port() for _ in range(instances)]
        proxy = RoundRobinProxy([f"http://127.0.0.1:{p}" for p in ports])
        await proxy.start()
        bots: list[BotProcess] = []
        try:
            for n, port in enumerate(ports):
                env = {
                    **OPERATOR_ENV,
                    "BOT_TOKEN": DEFAULT_TOKEN, "TELEGRAM_API_BASE": emulator.base_url,
                    "DATABASE_URL": db, "REDIS_URL": redis_url, "MODE": "webhook",
                    "WEBHOOK_URL": proxy.url, "WEBHOOK_SECRET": SECRET,
                    "WEBHOOK_HOST": "127.0.0.1", "WEBHOOK_PORT": str(port),
                    "FLOOD_BURST": "1000", "LOG_LEVEL": "WARNING",
                }  # fmt: skip
                bots.append(await BotProcess.start(f"bot{n}", env, directory))
                if n == 0:  # the first one migrates the fresh database; the others find it done
                    await wait_until(bots[0].healthy, 180, "the first instance")
            for bot in bots:
                await wait_until(bot.healthy, 180, f"{bot.name} to start")
            warm = emulator.user(first_id - 1, language_code="ru")
            await journey(warm, [])  # templates, fonts and connections warmed up
            proxy.served.clear()

            latencies: list[float] = []
            gate = asyncio.Semaphore(concurrency)

            async def one(uid: int) -> None:
                async with gate:
                    await journey(emulator.user(uid, language_code="ru"), latencies)

            started = time.perf_counter()
            await asyncio.gather(*(one(first_id + i) for i in range(users)))
            seconds = time.perf_counter() - started
        finally:
            for bot in bots:
                await bot.terminate()
            await proxy.stop()
    return Run(instances, users, users * STEPS, seconds, latencies, sorted(proxy.served.values()))


async def main(users: int, concurrency: int, instances: int) -> int:
    runs = [
        await one_setup(1, users, concurrency, 20_000),
        await one_setup(instances, users, concurrency, 40_000),
    ]
    rows = []
    for run in runs:
        ms = [x * 1000 for x in run.latencies]
        rows.append([
            str(run.instances), str(run.updates), f"{run.seconds:.1f}", f"{run.per_second:.1f}",
            f"{statistics.median(ms):.0f}", f"{percentile(ms, 95):.0f}",
            f"{percentile(ms, 99):.0f}", "/".join(str(n) for n in run.served),
        ])  # fmt: skip
    print(f"{users} activists doing the journey ({STEPS} updates each), {concurrency} at once, "
          f"webhook mode, PostgreSQL + Redis, {os.cpu_count()} cores")  # fmt: skip
    print(table(
        ["instances", "updates", "s", "updates/s", "p50 ms", "p95 ms", "p99 ms", "per instance"],
        rows,
    ))  # fmt: skip
    ratio = runs[1].per_second / runs[0].per_second
    print(f"ratio {instances} instances ÷ 1: {ratio:.2f}× updates/s "
          f"(p95 {percentile([x * 1000 for x in runs[1].latencies], 95):.0f} ms vs "
          f"{percentile([x * 1000 for x in runs[0].latencies], 95):.0f} ms)")  # fmt: skip
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--instances", type=int, default=3)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.users, args.concurrency, args.instances)))
