"""The update load of the benchmarks: simulated activists doing the whole journey through the
bundled emulator, and the bot under test in a process of its own.

* `journey_load(emulator, user_ids, rate=None)` — each user goes from /start through consent,
  role and place, three ikigai entries (the picture), the stage quiz and the diagnosis to the
  matched measures: JOURNEY_UPDATES updates. Closed loop (`rate=None`): every user sends their
  next update as soon as the previous one is answered. Open loop (`rate=100.0`): updates start
  at that steady rate, whoever is ready takes the next slot (arrivals do not wait for answers
  as long as enough users are idle). Latency of an update = from it being queued at the
  emulator to the bot's answering call arriving there: its first message for a text, its
  answerCallbackQuery for a button.
* `echo=True` runs the very same sequence of updates (the same texts, a button press where the
  journey presses one) against `bench/echo_bot.py`, which answers every message with its text
  and every press with an edit and an answer.
* `start_bot_process(emulator, directory, env=..., module=...)` starts `python -m bot` (or the
  echo bot) against the emulator — polling by default; extra env switches it (webhook mode,
  PostgreSQL, Redis…) — and returns once it has made its first `ready` call.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import percentile
from bot.content import get_catalog
from bot.emulator import DEFAULT_TOKEN, EmulatedUser, Emulator
from tests.scale.cluster import ROOT, BotProcess

ECHO_TOKEN = "987654321:AAEchoBotBenchToken_opora_0123456789"  # a fake token
QUIZ = ["tackling", "team", "daily", "written", "planning",
        "donations", "regular_work", "one_place", "helpers", "carry_on"]  # fmt: skip


def journey() -> list[tuple[str, str]]:
    """The activist journey as (kind, what): ("say", text), ("enter", an ikigai entry: the
    step's message is edited, no new one comes) or ("tap", button label)."""
    catalog = get_catalog()
    quiz = [
        ("tap", q.option(o).label.get("ru"))
        for q, o in zip(catalog.quiz.questions, QUIZ, strict=True)
    ]
    topic = catalog.topic("education_access").short.ru
    return [
        ("say", "/start"),
        ("tap", "🚀 Начать: мой проект"),
        ("tap", "✅ Даю согласие"),
        ("tap", "🔕 Нет, спасибо"),
        ("tap", "🚀 Активист: веду или начинаю проект"),
        ("tap", "Сибирский"),
        ("tap", "Новосибирская область"),
        ("enter", "Кружок робототехники для детей в селе"),
        ("enter", "Мастерская по ремонту техники"),
        ("tap", "Дальше ▶"),
        ("enter", "Паять и учить"),
        ("tap", "Дальше ▶"),
        ("tap", "Пропустить ▶"),
        ("tap", f"▫️ {topic}"),
        ("tap", "Готово ▶"),  # the focus step
        ("tap", "✅ Взять подсказку"),  # the ikigai picture, then the first question
        *quiz,
        ("tap", "📋 Проблемы"),
        ("tap", "▫️ Нехватка средств"),
        ("tap", "Готово ▶"),  # the matched measures
    ]


JOURNEY_UPDATES = len(journey())


@dataclass
class LoadResult:
    updates: int
    seconds: float
    latencies: list[float] = field(default_factory=list)  # seconds, one per answered update
    by_step: dict[int, list[float]] = field(default_factory=dict)  # the same, by journey step
    failures: int = 0  # updates not answered within the timeout, or a journey that broke off
    errors: list[str] = field(default_factory=list)
    first_sent: float = 0.0  # perf_counter() when the first update went, and the last
    last_sent: float = 0.0

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0

    @property
    def sent_per_second(self) -> float:
        """Updates sent per second, from the first to the last (the load offered)."""
        span = self.last_sent - self.first_sent
        return (self.updates - 1) / span if self.updates > 1 and span > 0 else 0.0

    def ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    def slowest_steps(self, q: float = 95, n: int = 3) -> list[tuple[int, float]]:
        """The `n` journey steps with the highest `q`-th percentile latency: (step, ms)."""
        ranked = sorted(
            ((step, percentile(times, q) * 1000) for step, times in self.by_step.items()),
            key=lambda found: -found[1],
        )
        return ranked[:n]


class _Pacer:
    """Hands out start times `1/rate` apart (virtual schedule: lateness does not drift)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next = time.perf_counter()

    async def slot(self) -> None:
        at = self.next
        self.next += self.interval
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)


def _has_button(user: EmulatedUser, label: str) -> bool:
    for message in reversed(user.chat.bot_messages):
        if message.deleted:
            continue
        markup = message.inline_markup
        if markup is not None:
            return any(b["text"] == label for row in markup["inline_keyboard"] for b in row)
    return False


async def _journey(
    user: EmulatedUser,
    steps: Sequence[tuple[str, str]],
    result: LoadResult,
    *,
    echo: bool,
    pace: Callable[[], Any] | None,
    timeout: float,  # noqa: ASYNC109
    budget: list[int],
) -> None:
    notifier = user.chat.notifier
    for n, (kind, what) in enumerate(steps):
        if budget[0] <= 0:
            return
        budget[0] -= 1
        # A button is pressed once its screen has arrived (think time, not latency).
        if (
            kind == "tap"
            and not echo
            and not await notifier.wait_for(lambda w=what: _has_button(user, w), timeout)
        ):
            raise AssertionError(f"no button {what!r}\n{user.transcript()}")
        if pace is not None:
            await pace()
        user.skip_pending()
        started = time.perf_counter()
        result.first_sent = result.first_sent or started
        result.last_sent = started
        if kind == "enter" and not echo:
            prompt = user.last_bot_message
            assert prompt is not None
            await user.send(what)
            await user.wait_edit(prompt, timeout=timeout)
        elif kind in ("say", "enter"):
            await user.send(what)
            await user.next_message(timeout=timeout)
        elif echo:
            await user.press_data(f"{n}:{what}"[:60], timeout=timeout)
        else:
            await user.press(what, timeout=timeout)
        took = time.perf_counter() - started
        result.latencies.append(took)
        result.by_step.setdefault(n, []).append(took)
        result.updates += 1


async def journey_load(
    emulator: Emulator,
    user_ids: Sequence[int],
    *,
    rate: float | None = None,
    token: str | None = None,
    echo: bool = False,
    concurrency: int | None = None,
    max_updates: int | None = None,
    timeout: float = 120.0,  # noqa: ASYNC109
    language_code: str = "ru",
    arrivals: float | None = None,
) -> LoadResult:
    """Run the journey for every user (at most `concurrency` at once; None: all), closed loop
    or at `rate` updates/s, stopping after `max_updates` updates if given. With `arrivals`
    the users start that many seconds apart, in order (else all at once)."""
    steps = journey()
    result = LoadResult(updates=0, seconds=0.0)
    pacer = _Pacer(rate) if rate else None
    gate = asyncio.Semaphore(concurrency or len(user_ids) or 1)
    budget = [max_updates if max_updates is not None else len(user_ids) * len(steps)]

    async def one(n: int, uid: int) -> None:
        if arrivals:
            await asyncio.sleep(n * arrivals)
        async with gate:
            user = emulator.user(uid, language_code=language_code, token=token)
            try:
                await _journey(
                    user,
                    steps,
                    result,
                    echo=echo,
                    pace=pacer.slot if pacer else None,
                    timeout=timeout,
                    budget=budget,
                )
            except (AssertionError, TimeoutError) as exc:
                result.failures += 1
                if len(result.errors) < 3:
                    result.errors.append(str(exc)[-1500:])

    started = time.perf_counter()
    await asyncio.gather(*(one(n, uid) for n, uid in enumerate(user_ids)))
    result.seconds = time.perf_counter() - started
    return result


# --------------------------------------------------------------------------- processes

# A bot with a token must name its personal-data operator (bot/config.py).
OPERATOR_ENV = {"OPERATOR_NAME": "АНО «Бенчмарк»", "OPERATOR_CONTACT": "bench@example.org"}


def bot_env(emulator: Emulator, directory: Path, **extra: str) -> dict[str, str]:
    """The environment of a bot under test: the emulator, a fresh SQLite file, no flood guard
    in the way (scripted users are faster than people), warnings only."""
    return {
        "BOT_TOKEN": DEFAULT_TOKEN,
        **OPERATOR_ENV,
        "TELEGRAM_API_BASE": emulator.base_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'bench.db'}",
        "FLOOD_BURST": "100000",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


@dataclass
class Started:
    bot: BotProcess
    seconds: float  # from the process start to its first `ready` call at the emulator


async def start_bot_process(
    emulator: Emulator,
    directory: Path,
    *,
    env: dict[str, str] | None = None,
    module: str = "bot",
    name: str = "bot",
    ready: str | None = "getUpdates",
    timeout: float = 180.0,  # noqa: ASYNC109
) -> Started:
    """`python -m <module>` with `bot_env(...)` plus `env`, its log in `directory/<name>.log`;
    returns when it made its first `ready` call (getUpdates: polling; setWebhook: webhook
    mode; None: at once). The token in `env` (BOT_TOKEN) tells whose calls count."""
    full = {**bot_env(emulator, directory), **(env or {})}
    token = full["BOT_TOKEN"]
    bot_id = int(token.split(":")[0])
    os.makedirs(directory, exist_ok=True)
    log_path = directory / f"{name}.log"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PYTEST"))}
    started = time.monotonic()
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            cwd=directory,
            env={**base, "PYTHONPATH": str(ROOT), **full},
            stderr=log,
            stdout=asyncio.subprocess.DEVNULL,
        )
    bot = BotProcess(name, int(full.get("WEBHOOK_PORT", "0")), log_path, process)
    if ready is None:
        return Started(bot, 0.0)
    waiting = asyncio.ensure_future(
        emulator.wait_for_call(
            ready,
            timeout=timeout,
            predicate=lambda c: c.bot_id == bot_id and c.time >= started,
        )
    )
    exited = asyncio.ensure_future(process.wait())
    await asyncio.wait({waiting, exited}, return_when=asyncio.FIRST_COMPLETED)
    if not waiting.done():
        waiting.cancel()
        raise RuntimeError(f"{name} exited with {process.returncode}:\n{bot.log_tail()}")
    exited.cancel()
    call = waiting.result()
    return Started(bot, call.time - started)
