"""`insert_ignore`: rows go in as given, conflicts and repeats are skipped and not counted — on
SQLite in multi-row statements of up to 999 values, on PostgreSQL in chunks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    select,
)

from bot.infra.db import make_engine
from bot.storage.dialect import SQLITE_VARIABLES, insert_ignore
from bot.storage.tables import UTCDateTime

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
meta = MetaData()
things = Table(
    "things",
    meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("big", BigInteger),
    Column("body", Text),
    Column("flag", Boolean),
    Column("at", UTCDateTime()),
)
odd = Table(  # values of other kinds: floats and bytes
    "odd",
    meta,
    Column("key", String(20), primary_key=True),
    Column("ratio", Float),
    Column("blob", LargeBinary),
)


@pytest.fixture
async def engine(database_url):
    engine = make_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(meta.create_all)
    yield engine
    await engine.dispose()


def row(key: str, **values: object) -> dict[str, object]:
    return {"key": key, "big": None, "body": None, "flag": None, "at": None, **values}


async def stored(engine, table: Table = things) -> list[tuple[object, ...]]:
    async with engine.connect() as conn:
        query = select(*(c for c in table.c if c.name != "id")).order_by(table.c.key)
        return [tuple(r) for r in (await conn.execute(query)).all()]


async def test_rows_go_in_as_given_and_conflicts_are_skipped_uncounted(engine) -> None:
    later = NOW + timedelta(hours=3)
    first = [
        row("a", big=2**62, body='{"text":"Привет \\"мир\\"\\n<b>"}', flag=True, at=NOW),
        row("b", big=-(2**63), body="👩🏽‍🚀 \u200f\u0301 ' ; DROP TABLE things; --", flag=False),
        row("c", body="", at=later),
    ]
    async with engine.begin() as conn:
        assert await insert_ignore(conn, things, first, key=["key"]) == 3
    second = [row("b", body="changed"), row("d", big=7), row("d", big=8), row("e", body="x")]
    async with engine.begin() as conn:
        # b is there already and the second d repeats the first: two rows added
        assert await insert_ignore(conn, things, second, key=["key"]) == 2
    assert await stored(engine) == [
        ("a", 2**62, '{"text":"Привет \\"мир\\"\\n<b>"}', True, NOW),
        ("b", -(2**63), "👩🏽‍🚀 \u200f\u0301 ' ; DROP TABLE things; --", False, None),
        ("c", None, "", None, later),
        ("d", 7, None, None, None),
        ("e", None, "x", None, None),
    ]


async def test_floats_and_bytes_go_in_too(engine) -> None:
    rows: list[dict[str, object]] = [
        {"key": "x", "ratio": 0.1, "blob": b"\x00\xff"},
        {"key": "y", "ratio": None, "blob": None},
    ]
    async with engine.begin() as conn:
        assert await insert_ignore(conn, odd, rows, key=["key"]) == 2
        assert await insert_ignore(conn, odd, rows, key=["key"]) == 0
    assert await stored(engine, odd) == [("x", 0.1, b"\x00\xff"), ("y", None, None)]


async def test_more_rows_than_a_statement_takes(engine) -> None:
    """Rows enough for several statements, of several sizes, with repeats across them."""
    count = 3 * SQLITE_VARIABLES // 6 + 37  # six values a row
    rows: list[dict[str, object]] = [
        row(f"k{n:04}", big=n, body=f"тело {n}", flag=n % 2 == 0, at=NOW) for n in range(count)
    ]
    rows.insert(200, row("k0003", big=-1))  # a repeat, in another statement than the first
    async with engine.begin() as conn:
        assert await insert_ignore(conn, things, rows[:100], key=["key"]) == 100
        assert await insert_ignore(conn, things, rows, key=["key"]) == count - 100
    assert await stored(engine) == [
        (f"k{n:04}", n, f"тело {n}", n % 2 == 0, NOW) for n in range(count)
    ]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=300), min_size=1, max_size=30))
async def test_any_text_comes_back_as_it_went_in(tmp_path_factory, texts: list[str]) -> None:
    """Any text comes back the same (but lone surrogates, which SQLite cannot store)."""
    texts = [t for t in texts if not any("\ud800" <= ch <= "\udfff" for ch in t)]
    if not texts:
        return
    path = tmp_path_factory.mktemp("texts") / "db.sqlite"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(meta.create_all)
            rows = [row(f"k{n}", body=t) for n, t in enumerate(texts)]
            assert await insert_ignore(conn, things, rows, key=["key"]) == len(texts)
        assert [body for _, _, body, _, _ in await stored(engine)] == [
            t for _, t in sorted((f"k{n}", t) for n, t in enumerate(texts))
        ]
    finally:
        await engine.dispose()
