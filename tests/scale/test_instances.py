"""Done when: three bot processes in webhook mode behind a round-robin proxy (the load
balancer), one PostgreSQL, one Redis and the emulator (Telegram, flood limits on). Every
instance ticks; the work is done once:

* each of the users whose weekly digest is due gets exactly one digest;
* a scheduled 5 000-recipient broadcast starts once and goes out at the shared rate (not three
  times it), with (almost) no 429s;
* one instance is killed (SIGKILL) in the middle; the other two finish the work: nobody is
  missed, and the only doubles are rows the killed instance had in flight, or requests that
  timed out on a loaded machine and were retried (both at-least-once windows; counted).

Updates from users go through the proxy to all three instances meanwhile, and still get
answered after the kill. The figures are printed (run with -s to see them).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from bot.emulator import Emulator
from bot.infra.db import make_engine
from bot.storage.tables import audit_log, broadcasts, outbox, user_settings, users
from tests.conftest import OPERATOR_ENV, TOKEN, fresh_postgres
from tests.scale.cluster import ROOT, SECRET, BotProcess, RoundRobinProxy, free_port, wait_until

RECIPIENTS = 5_000
DIGESTS = 300  # the first users of the audience have their weekly digest due now
FIRST = 5_000_000_000  # Telegram ids beyond 2^32: BIGINT all the way
ADMIN = 7_000_000_001
SEND_RATE = 120.0  # what this 2-core machine sustains with 3 bots, PG and the emulator
LEASE = 20.0  # a request may take a third of it: room for a loaded machine's stalls
MARKER = "Собрание ресурсного центра в субботу"
INSTANCES = 3


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    async with fresh_postgres() as url:
        yield url


def migrate(url: str, directory: Path) -> None:
    """`python -m bot migrate` once before the instances start, as docs/deploy.md says."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DATABASE_URL": url}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"], cwd=directory, env=env, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


async def seed(url: str, now: datetime) -> None:
    """RECIPIENTS consented users (the first DIGESTS with a weekly digest due now, in UTC, no
    quiet hours; the others with digests off) and a broadcast to everyone, due now."""
    consented = now - timedelta(days=3)
    people = [
        {"id": FIRST + i, "first_name": f"U{i}", "locale": "ru", "timezone": "UTC",
         "consent_version": "2026-11", "consent_at": consented, "blocked": False,
         "created_at": consented, "updated_at": consented}
        for i in range(RECIPIENTS)
    ]  # fmt: skip
    settings = [
        {"user_id": FIRST + i, "digest": "weekly" if i < DIGESTS else "off",
         "digest_weekday": now.weekday(), "digest_hour": 0, "quiet_start": 0, "quiet_end": 0,
         "announcements": True, "updated_at": consented}
        for i in range(RECIPIENTS)
    ]  # fmt: skip
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(users), people)
            await conn.execute(insert(user_settings), settings)
            await conn.execute(
                insert(broadcasts).values(
                    author_id=ADMIN, text=MARKER, segment="{}", status="scheduled",
                    scheduled_at=now, created_at=now,
                )
            )  # fmt: skip
    finally:
        await engine.dispose()


def instance_env(
    emulator: Emulator, db: str, redis: str, proxy: RoundRobinProxy, port: int
) -> dict[str, str]:
    return {
        **OPERATOR_ENV,
        "BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": emulator.base_url, "DATABASE_URL": db,
        "REDIS_URL": redis, "MODE": "webhook", "WEBHOOK_URL": proxy.url,
        "WEBHOOK_SECRET": SECRET, "WEBHOOK_HOST": "127.0.0.1", "WEBHOOK_PORT": str(port),
        "ADMIN_IDS": str(ADMIN), "SEND_RATE": str(SEND_RATE), "OUTBOX_LEASE": str(LEASE),
        "TICK_SECONDS": "1", "FLOOD_BURST": "1000", "LOG_LEVEL": "INFO",
    }  # fmt: skip


def most_within(times: list[float], seconds: float) -> int:
    """The most sends that arrived within any window of `seconds`."""
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_three_instances_do_the_work_once(
    emulator: Emulator, postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    migrate(postgres_url, tmp_path)
    await seed(postgres_url, now)
    admin = emulator.user(ADMIN, language_code="ru")
    admin.chat.started = True
    for i in range(RECIPIENTS):  # they all started the bot once
        emulator.user(FIRST + i, language_code="ru").chat.started = True
    # Telegram's limits, scaled to this deployment's SEND_RATE: 10 % over it is refused
    # (a second's worth of burst), and one message a second to a chat.
    emulator.set_flood_limits(global_rate=SEND_RATE * 1.1, chat_rate=1.0, retry_after=1)

    ports = [free_port() for _ in range(INSTANCES)]
    proxy = RoundRobinProxy([f"http://127.0.0.1:{p}" for p in ports])
    await proxy.start()
    bots: list[BotProcess] = []
    try:
        for n, port in enumerate(ports):
            env = instance_env(emulator, postgres_url, redis_url, proxy, port)
            bots.append(await BotProcess.start(f"bot{n}", env, tmp_path))
        for bot in bots:
            await wait_until(bot.healthy, 120, f"{bot.name} to answer /healthz")

        # Updates reach all three through the proxy.
        people = [emulator.user(9_000 + i, language_code="ru") for i in range(12)]
        for person in people:
            await person.send("/start")
        for person in people:
            assert "Опора" in (await person.next_message(timeout=30)).text
        assert set(proxy.served) == {b.url for b in bots}

        # Kill one instance in the middle of the broadcast.
        def broadcast_sent() -> int:
            return sum(
                1 for c in emulator.calls_of("sendMessage")
                if c.ok and MARKER in str(c.params.get("text", ""))
            )  # fmt: skip

        await wait_until(lambda: broadcast_sent() >= RECIPIENTS * 0.4, 120, "40 % sent", 0.5)
        victim = bots[1]
        await victim.kill()
        killed_at = emulator.state.clock()
        engine = make_engine(postgres_url)
        try:
            async with engine.connect() as conn:
                in_flight = set(
                    (
                        await conn.execute(
                            select(outbox.c.user_id).where(
                                outbox.c.status == "sending",
                                outbox.c.claimed_by.like(f"%:{victim.process.pid}:%"),
                            )
                        )
                    ).scalars()
                )
            # Users still get answers: the proxy passes over the dead instance.
            late = emulator.user(9_100, language_code="ru")
            await late.send("/start")
            assert "Опора" in (await late.next_message(timeout=30)).text

            # The other two finish: every row final, the broadcast finished.
            async def finished() -> bool:
                async with engine.connect() as conn:
                    open_rows = (
                        await conn.execute(
                            select(func.count()).where(outbox.c.status.in_(("pending", "sending")))
                        )
                    ).scalar_one()
                    done = (await conn.execute(select(broadcasts.c.finished_at))).scalar_one()
                return open_rows == 0 and done is not None

            await wait_until(finished, 180, "all rows sent and the broadcast finished", 0.5)
            async with engine.connect() as conn:
                by_kind = select(outbox.c.kind, func.count()).group_by(outbox.c.kind)
                kinds: dict[str, int] = dict((await conn.execute(by_kind)).all())
                by_status = select(outbox.c.status, func.count()).group_by(outbox.c.status)
                statuses: dict[str, int] = dict((await conn.execute(by_status)).all())
                # Rows whose request failed (a timeout on a loaded machine) and went again:
                # the request may have reached Telegram, so a double there is allowed too.
                retried_rows = {
                    e["outbox_id"] for bot in bots for e in bot.events()
                    if e.get("event") == "outbox send will be retried"
                }  # fmt: skip
                retried = set(
                    (
                        await conn.execute(
                            select(outbox.c.user_id).where(outbox.c.id.in_(retried_rows))
                        )
                    ).scalars()
                )
                starts = (
                    await conn.execute(
                        select(func.count()).where(audit_log.c.action == "broadcast.start")
                    )
                ).scalar_one()
        finally:
            await engine.dispose()
        for bot in bots:
            if bot is not victim:
                assert await bot.terminate() == 0, bot.log_tail()
    finally:
        for bot in bots:
            await bot.kill()
        await proxy.stop()

    # --- what the users got
    recipients = {FIRST + i for i in range(RECIPIENTS)}
    sends = [
        c for c in emulator.calls_of("sendMessage") if c.ok and c.params["chat_id"] in recipients
    ]
    broadcast = Counter(c.params["chat_id"] for c in sends if MARKER in c.params["text"])
    digest = Counter(c.params["chat_id"] for c in sends if MARKER not in c.params["text"])
    missing = recipients - set(broadcast)
    doubles = {uid for uid, n in broadcast.items() if n > 1}
    digest_doubles = {uid for uid, n in digest.items() if n > 1}
    progress = [
        c for c in emulator.calls_of("sendMessage") if c.ok and c.params["chat_id"] == ADMIN
    ]
    # --- the shared pace, on the emulator's clock
    times = sorted(c.time for c in sends)
    steady = times[: int(len(times) * 0.9)]
    achieved = (len(steady) - 1) / (steady[-1] - steady[0])
    peak = most_within(times, 1.0)
    per_10s = most_within(times, 10.0)
    floods = emulator.flood_429_count
    allowed = in_flight | retried
    figures: dict[str, Any] = {
        "instances": INSTANCES, "send_rate": SEND_RATE, "messages": len(sends),
        "achieved_rate_first_90pct": round(achieved, 1), "peak_per_second": peak,
        "peak_per_10s": per_10s, "sent_before_kill": sum(1 for t in times if t < killed_at),
        "in_flight_at_kill": len(in_flight), "doubles": len(doubles) + len(digest_doubles),
        "doubles_of_the_killed": len((doubles | digest_doubles) & in_flight),
        "retried_requests": len(retried_rows),
        "missing": len(missing), "flood_429": floods, "progress_messages": len(progress),
        "updates_per_instance": sorted(proxy.served.values()),
    }  # fmt: skip
    print("\nscale figures:", json.dumps(figures, ensure_ascii=False))

    assert missing == set()
    assert set(broadcast) == recipients
    assert doubles <= allowed  # only rows in flight at the kill, or retried after a timeout
    assert max(broadcast.values()) <= 2
    assert set(digest) == {FIRST + i for i in range(DIGESTS)}
    assert digest_doubles <= allowed
    assert kinds == {"broadcast": RECIPIENTS, "digest": DIGESTS}  # one row each, all instances
    assert statuses == {"sent": RECIPIENTS + DIGESTS}
    assert starts == 1
    # The pace is the configured rate for all three, not three times it: over any 10 s (a
    # loaded machine's stalls bunch arrivals up within a second or two, not over ten).
    assert per_10s <= 1.5 * SEND_RATE * 10
    assert floods <= len(sends) // 100, f"{floods} flood-control refusals"  # ≈ 0: under 1 %
    # The admin: one progress message, however many instances follow the broadcast.
    assert len(progress) == 1, [c.params["text"][:60] for c in progress]
    assert emulator.rejections() == []
    assert len(emulator.calls_of("setWebhook")) == 1
    assert emulator.calls_of("deleteWebhook") == []
