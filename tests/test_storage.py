"""Migrations, the users repository and the SQL FSM storage (SQLite; PostgreSQL when asked)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from bot.infra.clock import ManualClock
from bot.infra.db import _at_head, alembic_config, heads, make_engine, migrate
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


def test_the_heads_read_from_the_files_are_alembics() -> None:
    """A restart skips alembic when the database is at these heads (bot/infra/db.py)."""
    from alembic.script import ScriptDirectory

    assert heads() == frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


async def test_a_migrated_database_is_at_head_and_a_new_one_or_an_older_one_is_not(
    tmp_path,
) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'head.sqlite'}")
    async with engine.begin() as conn:
        assert not await conn.run_sync(_at_head)  # no alembic_version yet
    await migrate(engine)
    async with engine.begin() as conn:
        assert await conn.run_sync(_at_head)
        await conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        assert not await conn.run_sync(_at_head)  # behind: alembic upgrades it
    await engine.dispose()


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


async def test_profile_loads_everything_told_in_one_statement(engine) -> None:
    """The ikigai, the code sets and the quiz history come back whole and in order from the
    one union (`profile.told`), quiz times as UTC datetimes; another user's rows stay out."""
    from sqlalchemy import event

    from bot.services.profile import ProfileService
    from bot.storage import profile as profile_repo

    clock = ManualClock(NOW)
    service = ProfileService(engine, clock)
    for uid in (42, 43):
        await service.give_consent(uid, "Аня", None, None)
    await service.set_ikigai_column(42, "want", ["помогать <детям>", "💡 учить"])
    await service.set_ikigai_column(42, "need", ["клуб"])
    await service.set_ikigai_column(43, "want", ["чужое"])
    await service.set_codes(42, "topics", frozenset({"ecology", "education_access"}))
    await service.set_codes(42, "problems", frozenset({"no_money"}))
    await service.set_codes(43, "crises", frozenset({"quit"}))
    # The later result is written first: the history is ordered by time, not by id.
    clock.advance(timedelta(days=2))
    await service.add_quiz_result(42, 5, {"q1": "b"})
    clock.advance(timedelta(days=-1))
    await service.add_quiz_result(42, 3, {"q1": "a", "q2": "ё"})
    await service.add_quiz_result(43, 7, {"q1": "z"})

    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        profile = await service.load(42)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)

    assert len(statements) == 2  # the user, then everything told
    want = ["помогать <детям>", "💡 учить"]
    assert profile.ikigai == {"want": want, "can": [], "need": ["клуб"]}
    assert profile.topics == frozenset({"ecology", "education_access"})
    assert profile.problems == frozenset({"no_money"})
    assert profile.crises == frozenset()
    assert [(r.stage, r.answers, r.taken_at) for r in profile.history] == [
        (3, {"q1": "a", "q2": "ё"}, NOW + timedelta(days=1)),
        (5, {"q1": "b"}, NOW + timedelta(days=2)),
    ]
    assert all(r.taken_at.tzinfo is not None for r in profile.history)
    assert profile.stage == 5
    async with engine.connect() as conn:  # the same as the one-kind reads
        assert list(profile.history) == await profile_repo.quiz_history(conn, 42)
        assert profile.ikigai == await profile_repo.ikigai(conn, 42)
    other = await service.load(43)
    assert other.ikigai["want"] == ["чужое"]
    assert other.crises == frozenset({"quit"})
    assert [r.stage for r in other.history] == [7]


async def test_content_items_read_back_as_they_were_written(engine) -> None:
    """Grants, articles and local measures: one item type per table, written by the
    coordinators' storage and read by the users' (one mapping each) — equal after the round
    trip, closed ones gone."""
    from bot.domain.csvio import ArticleItem, GrantItem, MeasureItem
    from bot.domain.windows import parse_windows
    from bot.storage import catalogs, content_admin, measures
    from bot.storage.tables import grants

    spring = parse_windows([{"yearly": {"open": "02-01", "close": "03-15"}}])
    grant = GrantItem(
        title="Сельские библиотеки", organiser="Фонд «Книга»", link="https://example.org/lib",
        who="Библиотеки", windows=spring, timezone="Europe/Moscow",
        amount="до 500 000 ₽", topics=("culture",), phases=("growth",), region="nvs",
    )  # fmt: skip
    article = ArticleItem(
        title="Чек-лист", link="https://example.org/a", summary="Коротко.", stages=(3, 4),
        topics=("education",),
    )  # fmt: skip
    measure = MeasureItem(
        title="Микрогранты мэрии", description="До 100 000 ₽.", type="financial",
        contact="+7 383 111-22-33", phase="formalization", region="nvs",
        topics=("urban",), problems=("lack_of_funds",), link="https://example.org/m",
    )  # fmt: skip
    async with engine.begin() as conn:
        grant_id = await content_admin.save_grant(conn, grant, 1, NOW)
        article_id = await content_admin.save_article(conn, article, 1, NOW)
        measure_id = await content_admin.save_measure(conn, measure, 1, NOW)
    async with engine.connect() as conn:
        assert await catalogs.open_grants(conn) == [replace(grant, id=grant_id)]
        assert await catalogs.article(conn, article_id) == replace(article, id=article_id)
        saved = await measures.measure(conn, measure_id)
        assert saved == replace(measure, id=measure_id)
        assert saved is not None
        assert saved.code == f"L{measure_id}"
        assert saved.created_at == NOW
    async with engine.begin() as conn:
        assert await content_admin.close(conn, grants, grant_id, NOW)
    async with engine.connect() as conn:
        assert await catalogs.open_grants(conn) == []
        assert await catalogs.grant(conn, grant_id) is None


async def test_refusals_are_counted_an_hour_to_a_row(engine) -> None:
    """A refusal adds one to the row its actor's same attempt opened within the hour; other
    actors, other attempts, later hours and every real action keep rows of their own."""
    from bot.services.coordination import CoordinationService

    clock = ManualClock(NOW)
    service = CoordinationService(engine, clock)
    for _ in range(40):
        await service.refused(5, "denied", "admin")
        clock.advance(timedelta(minutes=1))  # 40 minutes: all within the row's hour
    await service.refused(6, "denied", "admin")
    await service.refused(5, "denied", "admin,coordinator")
    await service.audit(1, "coordinator.appoint", "7")
    clock.advance(timedelta(minutes=30))
    await service.refused(5, "denied", "admin")  # 70 minutes after the first: a new row
    entries, page = await service.log(0, 10)
    assert [(e.actor_id, e.target, e.times) for e in reversed(entries)] == [
        (5, "admin", 40),
        (6, "admin", 1),
        (5, "admin,coordinator", 1),
        (1, "7", 1),
        (5, "admin", 1),
    ]
    assert (page.number, page.pages, page.total) == (0, 1, 5)
    stale, last = await service.log(7, 2)  # a stale button past the end: the last page
    assert (last.number, [e.actor_id for e in stale]) == (2, [5])
