"""Migrations, the users repository and the SQL FSM storage (SQLite; PostgreSQL when asked)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from aiogram.fsm.storage.base import StorageKey
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from bot.clock import ManualClock
from bot.db import make_engine, migrate
from bot.storage import users as repo
from bot.storage.fsm import SqlStorage
from bot.storage.tables import metadata

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.fixture
async def engine(database_url):
    engine = make_engine(database_url)
    await migrate(engine)
    yield engine
    await engine.dispose()


async def test_migrations_create_tables_and_are_idempotent(engine) -> None:
    await migrate(engine)  # a second run changes nothing
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        # The migrations build exactly what bot.storage.tables declares.
        drift = await conn.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), metadata)
        )
    assert {"users", "user_roles", "fsm_states", "alembic_version"} <= tables
    assert drift == []


async def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'wal.sqlite'}")
    async with engine.connect() as conn:
        mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
        fks = (await conn.execute(text("PRAGMA foreign_keys"))).scalar()
    await engine.dispose()
    assert mode == "wal"
    assert fks == 1


async def test_user_round_trip_keeps_utc(engine) -> None:
    moscow = timezone(timedelta(hours=3))
    async with engine.begin() as conn:
        await repo.ensure(conn, 42, NOW)
        await repo.ensure(conn, 42, NOW + timedelta(days=1))  # existing row left alone
        await repo.set_fields(conn, 42, NOW, locale="en", consent_at=NOW.astimezone(moscow))
        await repo.grant_role(conn, 42, "volunteer", NOW)
    async with engine.connect() as conn:
        user = await repo.get(conn, 42)
    assert user is not None
    assert user.locale == "en"
    assert user.created_at == NOW
    assert user.consent_at == NOW
    assert user.consent_at.tzinfo is not None
    assert user.roles == frozenset({"volunteer"})


async def test_delete_all_leaves_nothing(engine) -> None:
    storage = SqlStorage(engine, ManualClock(NOW))
    key = StorageKey(bot_id=1, chat_id=42, user_id=42)
    async with engine.begin() as conn:
        await repo.ensure(conn, 42, NOW)
        await repo.grant_role(conn, 42, "activist", NOW)
    await storage.set_state(key, "Flow:step")
    async with engine.begin() as conn:
        await repo.delete_all(conn, 42)
    async with engine.connect() as conn:
        for table in ("users", "user_roles", "fsm_states"):
            count = (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar()
            assert count == 0, table


async def test_fsm_state_survives_a_new_engine(database_url) -> None:
    url = database_url
    key = StorageKey(bot_id=1, chat_id=7, user_id=7)
    first = make_engine(url)
    await migrate(first)
    storage = SqlStorage(first, ManualClock(NOW))
    await storage.set_state(key, "Ikigai:want")
    await storage.set_data(key, {"want": ["помогать <детям>"], "n": 1})
    await storage.update_data(key, {"n": 2})
    await first.dispose()

    second = make_engine(url)
    storage = SqlStorage(second, ManualClock(NOW))
    assert await storage.get_state(key) == "Ikigai:want"
    assert await storage.get_data(key) == {"want": ["помогать <детям>"], "n": 2}
    other = StorageKey(bot_id=1, chat_id=8, user_id=8)
    assert await storage.get_state(other) is None
    assert await storage.get_data(other) == {}
    await storage.set_state(key, None)
    assert await storage.get_state(key) is None
    assert await storage.get_data(key) == {"want": ["помогать <детям>"], "n": 2}
    await second.dispose()
