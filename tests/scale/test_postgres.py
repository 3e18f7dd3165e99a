"""PostgreSQL runs the very migrations SQLite does: the schema they build is the one the code
declares, several instances may migrate at once, and Telegram ids beyond 32 bits fit."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.engine import Connection

from bot.infra.db import make_engine, migrate
from bot.storage import users
from bot.storage.tables import metadata
from bot.storage.tables import users as users_table
from tests.conftest import fresh_postgres
from tests.scale.cluster import ROOT


def _differences(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_migrations_build_the_declared_schema(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        await migrate(engine)
        async with engine.connect() as conn:
            assert await conn.run_sync(_differences) == []
    finally:
        await engine.dispose()


async def test_instances_starting_together_migrate_one_at_a_time(tmp_path: Path) -> None:
    async with fresh_postgres() as url:
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DATABASE_URL": url}
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "migrate", cwd=tmp_path, env=env,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            )
            for _ in range(3)
        ]
        results = [await asyncio.wait_for(p.communicate(), 120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0], [r[1].decode()[-500:] for r in results]
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                assert await conn.run_sync(_differences) == []
        finally:
            await engine.dispose()


async def test_telegram_ids_beyond_32_bits(database_url: str) -> None:
    big = 8_000_000_000  # ids grow past 2^31 (and 2^32); every id column is BIGINT
    engine = make_engine(database_url)
    try:
        await migrate(engine)
        async with engine.begin() as conn:
            await users.ensure(conn, big, datetime.now(UTC))
            found = (
                await conn.execute(select(users_table.c.id).where(users_table.c.id == big))
            ).scalar_one()
        assert found == big
    finally:
        await engine.dispose()
