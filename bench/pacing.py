"""Broadcast pacing: a coordinator's broadcast to 10 000 recipients, sent by the bot
(`python -m bot`, its own process, SQLite) through its outbox and paced sender, with the
emulator enforcing Telegram's flood limits (429 beyond them).

The broadcast goes the way a scheduled one does: created and scheduled with the real
`BroadcastService`, started by the bot's own scheduler tick, enqueued, sent by its `Sender`.

1. SEND_RATE=30 against a 30/s limit: the first `--window` seconds are measured, then the bot
   is stopped (SIGTERM) mid-broadcast.
2. The bot comes back with SEND_RATE=1000 (paid broadcasts) against a 1000/s limit: it finishes
   the first broadcast, then sends a second one to everyone, measured whole.

Printed: achieved ÷ configured rate, 429s per send, and per broadcast the recipients that got
it twice or not at all (from the emulator's record of delivered messages).

    python bench/pacing.py [--recipients 10000] [--window 60]

Targets: rate ≥ 0.95 × configured at 30/s and at 1000/s; 429s ≤ 0.1 % of sends; 0 duplicates,
0 missing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from bench.common import Figure, load_average, table
from bench.data import seed
from bench.load import start_bot_process
from bot.app import create_app
from bot.config import Settings
from bot.emulator import DEFAULT_TOKEN, ApiCall, Emulator
from bot.storage.broadcasts import Content
from bot.storage.tables import outbox

AUTHOR = 1  # the seeded admin
TARGET_RATIO = 0.95
TARGET_429 = 0.001


@dataclass
class Phase:
    name: str
    configured: float
    sends: int = 0  # successful sendMessage calls to recipients in the measured span
    seconds: float = 0.0
    refused: int = 0  # 429 answers during the phase
    attempts: int = 0  # every sendMessage to a recipient during the phase (429s included)

    @property
    def rate(self) -> float:
        """Intervals between the first and the last send ÷ the time between them."""
        return (self.sends - 1) / self.seconds if self.seconds and self.sends > 1 else 0.0

    @property
    def ratio(self) -> float:
        return self.rate / self.configured

    @property
    def refused_share(self) -> float:
        return self.refused / self.attempts if self.attempts else 0.0


@dataclass
class Delivery:
    broadcast: int
    recipients: int
    delivered: int = 0
    duplicates: int = 0
    missing: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


def _settings(url: str, emulator: Emulator) -> Settings:
    return Settings(
        _env_file=None,
        bot_token=DEFAULT_TOKEN,
        telegram_api_base=emulator.base_url,
        database_url=url,
        log_level="WARNING",
    )


async def schedule_broadcast(url: str, emulator: Emulator, text: str) -> int:
    """A draft to everyone, scheduled for now, through the real service (the bot's next tick
    starts it); returns its id."""
    app = create_app(_settings(url, emulator))
    try:
        draft = await app.broadcasts.create(AUTHOR, Content(text=text))
        await app.broadcasts.schedule(
            draft, AUTHOR, datetime.now(UTC), chat_id=AUTHOR, message_id=None, locale="ru"
        )
        return draft.id
    finally:
        await app.bot.session.close()
        await app.engine.dispose()


async def recipients_of(url: str, emulator: Emulator, broadcast_id: int) -> dict[int, str]:
    """user id → status of the broadcast's outbox rows."""
    app = create_app(_settings(url, emulator))
    try:
        async with app.engine.connect() as conn:
            rows = await conn.execute(
                select(outbox.c.user_id, outbox.c.status).where(outbox.c.batch_id == broadcast_id)
            )
            return {int(u): s for u, s in rows.all()}
    finally:
        await app.bot.session.close()
        await app.engine.dispose()


def broadcast_sends(emulator: Emulator, text: str, since: int = 0) -> list[ApiCall]:
    return [
        c
        for c in emulator.calls[since:]
        if c.method == "sendMessage" and c.params.get("text") == text
    ]


async def wait_until(condition, timeout: float, every: float = 0.2) -> bool:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(every)
    return condition()


def measure(
    emulator: Emulator, text: str, name: str, rate: float, since: int, window: float | None
) -> Phase:
    """The phase's successful sends of `text` from its first one on (within `window` seconds
    if given, else to the last one), and its 429s."""
    calls = broadcast_sends(emulator, text, since)
    ok = [c for c in calls if c.ok]
    phase = Phase(name, rate)
    phase.refused = sum(1 for c in calls if c.error_code == 429)
    phase.attempts = len(calls)
    if len(ok) < 2:
        return phase
    first = ok[0].time
    if window is not None:
        ok = [c for c in ok if c.time - first < window]
    phase.sends, phase.seconds = len(ok), ok[-1].time - first
    return phase


def delivery(emulator: Emulator, text: str, broadcast_id: int, rows: dict[int, str]) -> Delivery:
    got = Counter(int(c.params["chat_id"]) for c in broadcast_sends(emulator, text) if c.ok)
    result = Delivery(broadcast_id, len(rows))
    result.delivered = sum(1 for uid in rows if got[uid] >= 1)
    result.duplicates = sum(1 for uid in rows if got[uid] > 1)
    result.missing = sum(
        1 for uid, status in rows.items() if got[uid] == 0 and status != "skipped"
    )
    result.statuses = dict(Counter(rows.values()))
    return result


async def run(
    recipients: int, window: float, paid_rate: float
) -> tuple[list[Phase], list[Delivery]]:
    phases: list[Phase] = []
    deliveries: list[Delivery] = []
    with tempfile.TemporaryDirectory(prefix="opora-pacing-") as tmp:
        directory = Path(tmp)
        url = f"sqlite+aiosqlite:///{directory / 'pacing.db'}"
        seeded = await seed(url, recipients, 4, now=datetime.now(UTC), no_digests=True)
        async with Emulator(bot_username="opora_bench_bot") as emulator:
            for uid in (AUTHOR, *range(seeded.first_user, seeded.first_user + recipients)):
                emulator.user(uid).chat.started = True  # they pressed Start in Telegram
            env = {"DATABASE_URL": url, "TICK_SECONDS": "1", "SEND_CHAT_INTERVAL": "1"}
            first_text = "Объявление №1: субботник в эту субботу, сбор в 10:00 у ДК."
            second_text = "Объявление №2: итоги субботника и спасибо всем, кто пришёл!"

            # 1. 30/s: the first `window` seconds, then a graceful stop mid-broadcast.
            emulator.set_flood_limits(global_rate=30, chat_rate=1)
            since = len(emulator.calls)
            started = await start_bot_process(
                emulator, directory, env={**env, "SEND_RATE": "30"}, name="bot-30"
            )
            first = await schedule_broadcast(url, emulator, first_text)
            if not await wait_until(
                lambda: len(broadcast_sends(emulator, first_text, since)) > 0, 60
            ):
                raise RuntimeError(f"the broadcast did not start:\n{started.bot.log_tail()}")
            t0 = broadcast_sends(emulator, first_text, since)[0].time
            await wait_until(lambda: time.monotonic() - t0 > window + 0.5, window + 60)
            phases.append(measure(emulator, first_text, "30/s", 30, since, window))
            await started.bot.terminate()
            print(f"  30/s: {phases[-1].rate:.1f} messages/s", flush=True)

            # 2. paid broadcasts: the rest of the first one, then a second one to everyone.
            emulator.set_flood_limits(global_rate=paid_rate, chat_rate=1)
            since = len(emulator.calls)
            started = await start_bot_process(
                emulator,
                directory,
                env={**env, "SEND_RATE": f"{paid_rate:g}", "SEND_CONCURRENCY": "64"},
                name="bot-paid",
            )
            try:
                rows = await recipients_of(url, emulator, first)
                total = len(rows)
                done_first = await wait_until(
                    lambda: (
                        len(
                            {
                                c.params["chat_id"]
                                for c in broadcast_sends(emulator, first_text)
                                if c.ok
                            }
                        )
                        >= total - sum(1 for s in rows.values() if s == "skipped")
                    ),
                    600,
                )
                phases.append(
                    measure(
                        emulator,
                        first_text,
                        f"{paid_rate:g}/s (rest of #1)",
                        paid_rate,
                        since,
                        None,
                    )
                )
                since = len(emulator.calls)
                second = await schedule_broadcast(url, emulator, second_text)
                await wait_until(
                    lambda: len(broadcast_sends(emulator, second_text, since)) > 0, 60
                )
                rows2_total = total  # the same audience
                await wait_until(
                    lambda: (
                        sum(1 for c in broadcast_sends(emulator, second_text, since) if c.ok)
                        >= rows2_total - sum(1 for s in rows.values() if s == "skipped")
                    ),
                    600,
                )
                await asyncio.sleep(2.5)  # results written; a double would have shown by now
                phases.append(
                    measure(
                        emulator,
                        second_text,
                        f"{paid_rate:g}/s (#2 whole)",
                        paid_rate,
                        since,
                        None,
                    )
                )
                print(f"  {paid_rate:g}/s: {phases[-1].rate:.0f} messages/s", flush=True)
                for broadcast, text in ((first, first_text), (second, second_text)):
                    rows = await recipients_of(url, emulator, broadcast)
                    deliveries.append(delivery(emulator, text, broadcast, rows))
                if not done_first:
                    print("  (the first broadcast had not finished within 600 s)")
            finally:
                await started.bot.terminate()
    return phases, deliveries


def figures(phases: list[Phase], deliveries: list[Delivery]) -> list[Figure]:
    result = []
    slow = phases[0]
    paid = phases[-1]
    result.append(
        Figure(
            f"pacing: achieved ÷ configured at {slow.name}",
            slow.ratio,
            f"≥ {TARGET_RATIO}",
            slow.ratio >= TARGET_RATIO,
        )
    )
    result.append(
        Figure(
            f"pacing: achieved ÷ configured at {paid.configured:g}/s",
            paid.ratio,
            f"≥ {TARGET_RATIO}",
            paid.ratio >= TARGET_RATIO,
        )
    )
    refused = sum(p.refused for p in phases)
    attempts = sum(p.attempts for p in phases)
    share = refused / attempts if attempts else 0.0
    result.append(
        Figure(
            "pacing: 429s, % of sends",
            share * 100,
            f"≤ {TARGET_429 * 100:g} %",
            share <= TARGET_429,
        )
    )
    duplicates = sum(d.duplicates for d in deliveries)
    missing = sum(d.missing for d in deliveries)
    result.append(Figure("pacing: recipients served twice", duplicates, "0", duplicates == 0))
    result.append(Figure("pacing: recipients not served", missing, "0", missing == 0))
    return result


def report(phases: list[Phase], deliveries: list[Delivery]) -> None:
    print(
        table(
            ["phase", "configured/s", "sends", "s", "achieved/s", "ratio", "429s", "429 %"],
            [
                [
                    p.name,
                    f"{p.configured:g}",
                    str(p.sends),
                    f"{p.seconds:.1f}",
                    f"{p.rate:.1f}",
                    f"{p.ratio:.3f}",
                    str(p.refused),
                    f"{p.refused_share * 100:.2f}",
                ]
                for p in phases
            ],
        )
    )
    print(
        table(
            ["broadcast", "recipients", "delivered", "twice", "missing", "outbox statuses"],
            [
                [
                    f"#{d.broadcast}",
                    str(d.recipients),
                    str(d.delivered),
                    str(d.duplicates),
                    str(d.missing),
                    ", ".join(f"{k} {v}" for k, v in sorted(d.statuses.items())),
                ]
                for d in deliveries
            ],
        )
    )
    print(f"(load average now {load_average():.2f})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--window", type=float, default=60.0, help="seconds measured at 30/s")
    parser.add_argument("--paid-rate", type=float, default=1000.0)
    args = parser.parse_args(argv)
    phases, deliveries = asyncio.run(run(args.recipients, args.window, args.paid_rate))
    report(phases, deliveries)
    print(
        table(
            ["figure", "value", "target", "result"], [f.row() for f in figures(phases, deliveries)]
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
