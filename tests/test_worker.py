"""The planner's worker processes (bot/worker.py): the worker stays small (no aiogram), plans
what the bot's own process plans, and a worker killed with SIGKILL in the middle of a tick
costs nobody their digest nor gives anyone two. SQLite, and PostgreSQL where
TEST_POSTGRES_URL is set."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bench.data import seed, wednesday_morning
from bot.app import App, create_app
from bot.config import ROOT, Settings
from bot.emulator import DEFAULT_TOKEN
from bot.infra.clock import ManualClock
from bot.storage import plan_claims
from bot.storage.tables import outbox
from bot.storage.tables import plan_claims as plan_claims_table
from bot.ui import keyboards, packed

USERS = 300
ITEMS = 40
PAGE = 40  # 8 pages


def test_the_worker_imports_no_aiogram(tmp_path: Path) -> None:
    """What a worker imports to plan (its planner built, `python -m bot worker`'s entry)."""
    code = (
        "import sys\n"
        "import bot.__main__, bot.worker\n"
        "from bot.config import Settings\n"
        f"bot.worker.build_planner(Settings(_env_file=None, database_url='sqlite+aiosqlite:///{tmp_path}/x.db'))\n"
        # nor the certificate's PDF parts: they load when a certificate is made
        "heavy = ('aiogram', 'fpdf', 'segno')\n"
        "found = sorted(m for m in sys.modules if m.split('.')[0] in heavy)\n"
        "assert not found, found\n"
        "print('clean')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "clean"


def test_packed_callbacks_are_what_aiogram_packs() -> None:
    assert packed.menu("grants") == keyboards.Menu(section="grants").pack()
    assert packed.unsub("digest") == keyboards.Unsub(what="digest").pack()
    assert packed.grant("card", "G12") == keyboards.GrantCb(action="card", key="G12").pack()
    assert packed.grant("ics", "fpg") == keyboards.GrantCb(action="ics", key="fpg").pack()
    assert packed.volunteer("card", 7) == keyboards.VolunteerCb(action="card", id=7).pack()
    assert packed.organiser("people", 9) == keyboards.OrganiserCb(action="people", id=9).pack()
    assert packed.confirm("no", 9, 7001) == keyboards.ConfirmCb(action="no", id=9, uid=7001).pack()
    rated = keyboards.RateCb(action="rate", id=9, uid=7001, value=5).pack()
    assert packed.rate("rate", 9, 7001, 5) == rated
    with pytest.raises(ValueError, match="holds"):
        packed.grant("card", "a:b")


def _app(url: str, **overrides: Any) -> App:
    settings = Settings(
        _env_file=None,
        bot_token=DEFAULT_TOKEN,
        telegram_api_base="http://127.0.0.1:9",  # never called: planning only writes rows
        database_url=url,
        log_level="WARNING",
        planner_page=PAGE,
        **overrides,
    )
    return create_app(settings, clock=ManualClock(wednesday_morning()))


Digests = dict[str, tuple[int, str, Any]]  # dedup key → user, payload, not before


async def _digests(app: App) -> Digests:
    async with app.engine.connect() as conn:
        rows = (await conn.execute(select(outbox).where(outbox.c.kind == "digest"))).all()
    return {r.dedup_key: (r.user_id, r.payload, r.not_before) for r in rows}


async def _close(app: App) -> None:
    await app.workers.close()
    await app.bot.session.close()
    await app.engine.dispose()


Make = Callable[..., Awaitable[App]]


@pytest.fixture
async def reference(tmp_path: Path) -> Digests:
    """The digests the bot's own process plans for the seeded users (SQLite)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'reference.db'}"
    await seed(url, USERS, ITEMS, now=wednesday_morning(), always_due=True)
    app = _app(url, planner_workers=0)
    try:
        report = await app.planner.plan()
        assert report.pages == -(-USERS // PAGE)
        found = await _digests(app)
    finally:
        await _close(app)
    assert len(found) > USERS // 2
    return found


@pytest.fixture
async def make(database_url: str) -> AsyncIterator[Make]:
    await seed(database_url, USERS, ITEMS, now=wednesday_morning(), always_due=True)
    made: list[App] = []

    async def _make(**overrides: Any) -> App:
        app = _app(database_url, planner_workers_from=0, **overrides)
        made.append(app)
        return app

    yield _make
    for app in made:
        await _close(app)


async def _all_done(app: App) -> None:
    async with app.engine.connect() as conn:
        assert await plan_claims.pending(conn) == 0


async def test_two_workers_plan_what_the_bot_plans(reference: Digests, make: Make) -> None:
    app = await make(planner_workers=2)
    assert await app.plan() == 1
    assert app.workers.started == 2
    assert await _digests(app) == reference
    await _all_done(app)
    assert (await app.health())["planner"] == "ok"
    # The next tick finds everything planned: nothing more, nothing twice — and is planned by
    # the same two processes, kept between ticks (no start, no imports, no catalog load).
    pids = app.workers.pids
    assert len(pids) == 2
    await app.plan()
    assert await _digests(app) == reference
    assert app.workers.started == 2
    assert app.workers.pids == pids


async def test_idle_workers_are_retired_without_a_word_of_death(
    reference: Digests, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    """PLANNER_WORKER_IDLE=0: a tick's workers exit when it is planned; the next starts new."""
    app = await make(planner_workers=2, planner_worker_idle=0)
    with caplog.at_level(logging.INFO, logger="bot.worker"):
        await app.plan()
    assert app.workers.pids == []
    assert await _digests(app) == reference
    said = [r.getMessage() for r in caplog.records]
    assert said.count("planner worker retired") == 2
    assert "planner worker died" not in said
    assert (await app.health())["planner"] == "ok"
    await app.plan()
    assert app.workers.started == 4
    assert await _digests(app) == reference


async def test_a_tick_right_after_the_idle_workers_are_retired_starts_new_ones(
    reference: Digests, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    """The idle time runs out just before a tick: the exiting workers take no part in it."""
    app = await make(planner_workers=2)
    await app.plan()
    endings = app.workers.endings
    with caplog.at_level(logging.INFO, logger="bot.worker"):
        app.workers.retire()  # what PLANNER_WORKER_IDLE's timer calls
        await app.plan()
        assert await asyncio.gather(*endings) == [0, 0]
    assert app.workers.started == 4
    assert "planner worker died" not in [r.getMessage() for r in caplog.records]
    assert (await app.health())["planner"] == "ok"
    assert await _digests(app) == reference


async def test_a_worker_killed_between_ticks_is_said_and_replaced(
    reference: Digests, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    app = await make(planner_workers=1)
    await app.plan()
    (pid,) = app.workers.pids
    (ending,) = app.workers.endings
    with caplog.at_level(logging.ERROR, logger="bot.worker"):
        os.kill(pid, signal.SIGKILL)
        assert await ending == -9  # the bot's watcher, on its event loop
    assert app.workers.pids == []
    died = [r for r in caplog.records if r.getMessage() == "planner worker died"]
    assert [d.exit_code for d in died] == [-9]  # type: ignore[attr-defined]
    assert (await app.health())["planner"] == "down"
    await app.plan()  # a new worker: everything was planned already
    assert app.workers.started == 2
    assert await _digests(app) == reference
    assert (await app.health())["planner"] == "ok"


async def test_a_worker_killed_mid_tick_costs_nobody_their_digest(
    reference: Digests, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    app = await make(planner_workers=1)
    app.workers.extra_args = ["--die-after", "1"]  # SIGKILL after the first page is written
    with caplog.at_level(logging.ERROR, logger="bot.worker"):
        await app.plan()
    died = [r for r in caplog.records if r.getMessage() == "planner worker died"]
    assert len(died) == 1
    assert died[0].exit_code == -9  # type: ignore[attr-defined]
    first = await _digests(app)
    assert 0 < len(first) < len(reference)  # the first page is written, the rest is not
    assert (await app.health())["planner"] == "down"
    # The bot process lives on; the next tick starts a worker that plans the rest.
    app.workers.extra_args = []
    await app.plan()
    found = await _digests(app)
    assert found == reference  # everyone due, once: the dedup keys are one per user and week
    assert len({user for user, _, _ in found.values()}) == len(found)
    await _all_done(app)
    assert (await app.health())["planner"] == "ok"


async def test_workers_run_apart_plan_the_ticks_the_bot_writes(
    reference: Digests, make: Make, database_url: str
) -> None:
    """PLANNER_EXTERNAL: the bot only writes the tick's pages; `python -m bot worker` plans."""
    app = await make(planner_external=True)
    assert await app.plan() == 1
    assert await _digests(app) == {}
    assert app.workers.started == 0
    assert (await app.health())["planner"] == "ok"  # the pages are young: not stalled
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    env.pop("OPORA_WORKER_SETTINGS", None)
    done = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "worker", "--once", "--name", "apart", env=env
    )
    assert await done.wait() == 0
    assert await _digests(app) == reference
    await _all_done(app)
    async with app.engine.connect() as conn:
        owners = (await conn.execute(select(plan_claims_table.c.claimed_by).distinct())).all()
    assert [o for (o,) in owners] == ["apart"]
