"""The outbox repository (on SQLite and PostgreSQL) and the sender's rate limiter."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.delivery import Pace, SenderStats, TokenBucket
from bot.infra.db import make_engine, migrate
from bot.storage import outbox as repo
from bot.storage import users
from bot.storage.outbox import NewPush
from bot.storage.tables import outbox
from bot.storage.tables import users as users_table

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)
TEXT = {"text": "Привет, <b>мир</b>", "parse_mode": "HTML"}


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    await migrate(engine)
    yield engine
    await engine.dispose()


async def add_users(engine: AsyncEngine, *ids: int) -> None:
    async with engine.begin() as conn:
        for uid in ids:
            await users.ensure(conn, uid, NOW)


def push(
    uid: int,
    key: str,
    *,
    at: datetime = NOW,
    batch: int | None = None,
    payload: dict[str, Any] | None = None,
) -> NewPush:
    return NewPush(uid, uid, "broadcast", key, payload or dict(TEXT), at, batch)


async def enqueue(engine: AsyncEngine, pushes: list[NewPush]) -> int:
    async with engine.begin() as conn:
        return await repo.enqueue(conn, pushes, NOW)


async def claim(
    engine: AsyncEngine, *, at: datetime = NOW, limit: int = 100, who: str = "a"
) -> list[repo.OutboxRow]:
    async with engine.begin() as conn:
        return await repo.claim(conn, who, at, limit, LEASE)


async def statuses(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(outbox.c.dedup_key, outbox.c.status))
        return {str(key): str(status) for key, status in rows.all()}


# --------------------------------------------------------------------------- enqueue


async def test_enqueue_skips_a_dedup_key_that_exists(engine: AsyncEngine) -> None:
    await add_users(engine, 1, 2)
    assert await enqueue(engine, [push(1, "digest:1:w49"), push(1, "digest:1:w49")]) == 1
    assert await enqueue(engine, [push(1, "digest:1:w49"), push(2, "digest:2:w49")]) == 1
    async with engine.connect() as conn:
        assert await repo.counts(conn) == {"pending": 2}
        rows = (await conn.execute(select(outbox).order_by(outbox.c.id))).mappings().all()
    first = await _get(engine, rows[0]["id"])
    assert first.payload == TEXT  # JSON round trip, Cyrillic kept
    assert first.not_before == NOW
    assert first.status == "pending"
    assert first.attempts == 0


async def _get(engine: AsyncEngine, row_id: int) -> repo.OutboxRow:
    async with engine.connect() as conn:
        row = await repo.get(conn, row_id)
    assert row is not None
    return row


async def test_enqueue_ten_thousand_rows_goes_in_chunks(engine: AsyncEngine) -> None:
    await add_users(engine, *range(1, 101))
    pushes = [push(1 + i % 100, f"broadcast:7:{i}", batch=7) for i in range(10_000)]
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        assert await enqueue(engine, pushes) == 10_000
        again = await enqueue(engine, [*pushes[:1500], push(1, "broadcast:7:new", batch=7)])
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert again == 1
    # multi-row INSERTs (99 rows a statement on SQLite, 1 000 on PostgreSQL), not one per row
    assert statements <= 125
    async with engine.connect() as conn:
        assert await repo.batch_counts(conn, 7) == {"pending": 10_001}


async def test_enqueue_rejects_a_malformed_payload(engine: AsyncEngine) -> None:
    await add_users(engine, 1)
    bad: list[dict[str, Any]] = [
        {"parse_mode": "HTML"},  # no text
        {"text": "x", "parse_mode": "Markdown"},
        {"text": "x", "parse_mode": "HTML", "entities": [{"type": "bold"}]},
        {"text": "x", "buttons": [[{"text": "no action"}]]},
        {
            "text": "x",
            "buttons": [[{"text": "both", "url": "https://a.ru", "callback_data": "x"}]],
        },
        {"text": "x", "photo": "AgAD", "document": "BQAD"},
        {"text": "x", "colour": "red"},
    ]
    for payload in bad:
        with pytest.raises(ValueError, match="payload"):
            await enqueue(engine, [push(1, "k", payload=payload)])
    good = {
        "text": "Грант",
        "parse_mode": None,
        "entities": [{"type": "bold", "offset": 0, "length": 5}],
        "buttons": [[{"text": "Подробнее", "url": "https://example.org"}]],
        "photo": "AgADphoto",
        "document": None,
        "filename": None,
    }
    assert await enqueue(engine, [push(1, "k", payload=good)]) == 1


@settings(max_examples=200, deadline=None)
@given(pieces=st.lists(st.text(), max_size=6), buttons=st.booleans())
def test_a_payload_joined_from_escaped_pieces_is_the_payloads_json(
    pieces: list[str], buttons: bool
) -> None:
    rest: dict[str, Any] = {"parse_mode": "HTML"}
    if buttons:
        rest["buttons"] = [[{"text": "Все гранты «»", "callback_data": "menu:grants"}]]
    encoded = repo.PayloadTail(**rest).encode(repo.escaped(p) for p in pieces)
    whole = {"text": "".join(pieces), **rest}
    assert encoded.json == json.dumps(whole, ensure_ascii=False, separators=(",", ":"))
    plain = repo.PayloadTail().encode(repo.escaped(p) for p in pieces)
    assert json.loads(plain.json) == {"text": "".join(pieces)}


def test_the_rest_of_an_encoded_payload_is_checked() -> None:
    with pytest.raises(ValueError, match="payload"):
        repo.PayloadTail(parse_mode="Markdown")
    with pytest.raises(ValueError, match="payload"):
        repo.PayloadTail(buttons=[[{"text": "no action"}]])


async def test_an_encoded_payload_is_stored_as_given_and_times_as_sqlalchemy_stores_them(
    engine: AsyncEngine,
) -> None:
    await add_users(engine, 1, 2)
    tail = repo.PayloadTail(parse_mode="HTML")
    encoded = tail.encode([repo.escaped("Привет, "), repo.escaped("<b>мир</b> \"\n")])
    later = NOW + timedelta(hours=3, microseconds=7)
    pushes = [NewPush(1, 1, "digest", "digest:1", encoded, later), push(2, "b:2", at=later)]
    assert await enqueue(engine, pushes) == 2
    async with engine.begin() as conn:  # the same times written by SQLAlchemy itself
        await conn.execute(
            outbox.insert().values(
                user_id=2, chat_id=2, kind="x", dedup_key="sa:2", payload="{}",
                not_before=later, created_at=NOW,
            )
        )  # fmt: skip
        raw = (
            await conn.exec_driver_sql(
                "SELECT dedup_key, payload, not_before, created_at, status, attempts FROM outbox"
            )
        ).all()
    by_key: dict[str, tuple[Any, ...]] = {row[0]: tuple(row[1:]) for row in raw}
    assert by_key["digest:1"][0] == encoded.json
    assert json.loads(by_key["digest:1"][0])["text"] == 'Привет, <b>мир</b> "\n'
    assert by_key["digest:1"][1:] == by_key["b:2"][1:] == by_key["sa:2"][1:]
    rows = {r.dedup_key: r for r in [await _get(engine, i) for i in (1, 2, 3)]}
    assert rows["digest:1"].not_before == later
    assert rows["digest:1"].payload == {"text": 'Привет, <b>мир</b> "\n', "parse_mode": "HTML"}


# --------------------------------------------------------------------------- claim


async def test_claim_takes_due_rows_oldest_first_up_to_the_limit(engine: AsyncEngine) -> None:
    await add_users(engine, 1, 2, 3)
    await enqueue(
        engine,
        [
            push(1, "late", at=NOW + timedelta(seconds=30)),
            push(2, "second", at=NOW - timedelta(minutes=1)),
            push(3, "first", at=NOW - timedelta(minutes=2)),
            push(1, "third", at=NOW),
        ],
    )
    taken = await claim(engine, limit=2)
    assert [r.dedup_key for r in taken] == ["first", "second"]
    assert all(r.status == "sending" and r.claimed_by == "a" for r in taken)
    assert all(r.attempts == 1 and r.claimed_at == NOW for r in taken)
    assert [r.dedup_key for r in await claim(engine, limit=10)] == ["third"]
    assert await claim(engine, limit=10) == []  # "late" is not due yet
    assert [r.dedup_key for r in await claim(engine, at=NOW + timedelta(seconds=30))] == ["late"]
    assert await claim(engine, limit=0) == []


async def test_two_claimers_never_get_the_same_row(database_url: str, engine: AsyncEngine) -> None:
    await add_users(engine, *range(1, 51))
    await enqueue(engine, [push(1 + i % 50, f"k{i}") for i in range(2_000)])
    other = make_engine(database_url)  # a second instance: its own engine and connections

    async def drain(eng: AsyncEngine, who: str) -> list[int]:
        got: list[int] = []
        while rows := await claim(eng, limit=37, who=who):
            got += [r.id for r in rows]
            await asyncio.sleep(0)
        return got

    try:
        results = await asyncio.gather(
            drain(engine, "a"), drain(other, "b"), drain(engine, "c"), drain(other, "d")
        )
    finally:
        await other.dispose()
    every = [row_id for got in results for row_id in got]
    assert len(every) == len(set(every)) == 2_000
    assert sum(1 for got in results if got) >= 2  # they did overlap
    async with engine.connect() as conn:
        assert await repo.counts(conn) == {"sending": 2_000}


async def test_a_stale_claim_is_taken_again_after_the_lease(engine: AsyncEngine) -> None:
    await add_users(engine, 1)
    await enqueue(engine, [push(1, "k")])
    [first] = await claim(engine, who="crashed")
    async with engine.connect() as conn:
        assert await repo.next_due(conn) is None  # nothing pending
        assert await repo.next_due(conn, LEASE) == NOW + LEASE  # when the lease runs out
    assert await claim(engine, at=NOW + LEASE - timedelta(seconds=1), who="b") == []
    later = NOW + LEASE + timedelta(seconds=1)
    [again] = await claim(engine, at=later, who="b")
    assert again.id == first.id
    assert (again.claimed_by, again.claimed_at, again.attempts) == ("b", later, 2)


async def test_results_and_retries(engine: AsyncEngine) -> None:
    await add_users(engine, 1, 2, 3)
    await enqueue(engine, [push(1, "ok"), push(2, "bad"), push(3, "flaky")])
    ok, bad, flaky = await claim(engine)
    async with engine.begin() as conn:
        await repo.mark_sent(conn, ok.id, 555, NOW)
        await repo.mark_failed(conn, bad.id, "Bad Request: can't parse entities", NOW)
        await repo.retry_later(conn, flaky.id, NOW + timedelta(seconds=4), "Internal Server Error")
    sent = await _get(engine, ok.id)
    assert (sent.status, sent.message_id, sent.sent_at) == ("sent", 555, NOW)
    failed = await _get(engine, bad.id)
    assert (failed.status, failed.error) == ("failed", "Bad Request: can't parse entities")
    retried = await _get(engine, flaky.id)
    assert (retried.status, retried.attempts, retried.claimed_by) == ("pending", 1, None)
    assert await claim(engine, at=NOW + timedelta(seconds=3)) == []
    [back] = await claim(engine, at=NOW + timedelta(seconds=4))
    assert back.attempts == 2
    async with engine.begin() as conn:  # a 429: the attempt is given back
        await repo.retry_later(conn, back.id, NOW, None, refund=True)
    assert (await _get(engine, back.id)).attempts == 1
    async with engine.connect() as conn:
        assert await repo.counts(conn) == {"sent": 1, "failed": 1, "pending": 1}
        assert await repo.next_due(conn) == NOW


async def test_a_blocked_user_gets_nothing_more(engine: AsyncEngine) -> None:
    await add_users(engine, 1, 2)
    await enqueue(
        engine,
        [push(1, "u1-a"), push(2, "u2-a"), push(1, "u1-b", at=NOW + timedelta(hours=1))],
    )
    taken = await claim(engine, limit=1)
    assert [r.dedup_key for r in taken] == ["u1-a"]
    async with engine.begin() as conn:
        skipped = await repo.mark_blocked_user(
            conn, 1, NOW, row_id=taken[0].id, error="Forbidden: bot was blocked by the user"
        )
    assert skipped == 1
    async with engine.connect() as conn:
        user = await users.get(conn, 1)
        blocked_at = (
            await conn.execute(select(users_table.c.blocked_at).where(users_table.c.id == 1))
        ).scalar()
    assert user is not None
    assert user.blocked
    assert blocked_at == NOW
    assert await statuses(engine) == {"u1-a": "blocked", "u1-b": "skipped", "u2-a": "pending"}
    # A row enqueued later for the blocked user is skipped when its turn comes, not sent.
    await enqueue(engine, [push(1, "u1-c")])
    assert [r.dedup_key for r in await claim(engine)] == ["u2-a"]
    assert (await statuses(engine))["u1-c"] == "skipped"


async def test_cancel_batch_and_counts(engine: AsyncEngine) -> None:
    await add_users(engine, *range(1, 11))
    await enqueue(engine, [push(uid, f"b1:{uid}", batch=1) for uid in range(1, 11)])
    await enqueue(engine, [push(uid, f"b2:{uid}", batch=2) for uid in range(1, 4)])
    taken = await claim(engine, limit=3)
    async with engine.begin() as conn:
        await repo.mark_sent(conn, taken[0].id, 1, NOW)
        assert await repo.cancel_batch(conn, 1) == 7  # pending ones; two stay in flight
        assert await repo.cancel_batch(conn, 1) == 0
    async with engine.connect() as conn:
        assert await repo.batch_counts(conn, 1) == {"sent": 1, "sending": 2, "cancelled": 7}
        assert await repo.batch_counts(conn, 2) == {"pending": 3}
        assert await repo.batch_counts(conn, 3) == {}
        assert await repo.counts(conn) == {
            "sent": 1,
            "sending": 2,
            "cancelled": 7,
            "pending": 3,
        }
    assert [r.batch_id for r in await claim(engine)] == [2, 2, 2]


# --------------------------------------------------------------------------- pacing


class FakeTime:
    """A monotonic clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        target = self.now + seconds
        await asyncio.sleep(0)
        self.now = max(self.now, target)


@pytest.mark.parametrize("rate", [25.0, 1000.0])
async def test_token_bucket_keeps_the_rate_exactly(rate: float) -> None:
    fake = FakeTime()
    bucket = TokenBucket(rate, monotonic=fake.monotonic, sleep=fake.sleep)
    start = fake.now
    n = int(rate * 10)
    for _ in range(n):
        await bucket.acquire()
    elapsed = fake.now - start
    # Ten seconds' worth: the first `burst` go at once, the rest 1/rate apart.
    assert elapsed == pytest.approx((n - bucket.burst) / rate, abs=1.5 / rate)
    assert n / elapsed >= 0.95 * rate


async def test_token_bucket_oversleeping_does_not_lose_rate() -> None:
    """A late wake-up (a busy event loop) is caught up: slots are booked on a timeline."""
    fake = FakeTime()

    async def late_sleep(seconds: float) -> None:
        fake.now += seconds + 0.004  # every sleep overshoots by 4 ms
        await asyncio.sleep(0)

    bucket = TokenBucket(1000.0, monotonic=fake.monotonic, sleep=late_sleep)
    start = fake.now
    for _ in range(5000):
        await bucket.acquire()
    assert 5000 / (fake.now - start) >= 950


async def test_concurrent_acquirers_share_the_rate() -> None:
    fake = FakeTime()
    bucket = TokenBucket(100.0, burst=1, monotonic=fake.monotonic, sleep=fake.sleep)
    start = fake.now
    await asyncio.gather(*(bucket.acquire() for _ in range(300)))
    assert fake.now - start == pytest.approx(2.99, abs=0.02)


def test_pace_halves_once_per_flood_and_climbs_back_a_step_a_window() -> None:
    fake = FakeTime()
    pace = Pace(60.0, monotonic=fake.monotonic)
    assert (pace.rate, pace.lowered, pace.step) == (60.0, False, 3.0)
    in_flight = [pace.started() for _ in range(8)]
    fake.now += 0.1
    assert [pace.throttled(t) for t in in_flight] == [True] + [False] * 7  # one flood, one cut
    assert pace.rate == 30.0
    assert pace.throttled(pace.started())  # a request after the cut: the limit is lower still
    assert pace.rate == 15.0
    for _ in range(14):
        pace.sent()
    assert pace.rate == 15.0  # a window is a second's worth of sends at the rate: 15
    pace.sent()
    assert pace.rate == 18.0
    while pace.lowered:
        pace.sent()
    assert pace.rate == 60.0
    for _ in range(10):
        assert pace.throttled(pace.started())
    assert pace.rate == pace.floor == 1.0


async def test_a_lowered_pace_spaces_sends_at_its_rate() -> None:
    fake = FakeTime()
    pace = Pace(100.0, monotonic=fake.monotonic, sleep=fake.sleep)
    start = fake.now
    for _ in range(100):
        await pace.acquire()  # at the configured rate: the global limiter alone paces
    assert fake.now == start
    pace.throttled(pace.started())
    for _ in range(50):
        await pace.acquire()
    # 50/s: a tenth of a second's worth at once, then 1/50 s apart
    assert fake.now - start == pytest.approx((50 - 5) / 50, abs=0.03)


def test_recent_rate() -> None:
    stats = SenderStats()
    for second in range(100, 110):
        for _ in range(30):
            stats.note_sent(second + 0.5)
    assert stats.sent == 300
    assert stats.recent_rate(10, now=109.9) == pytest.approx(30)
    assert stats.recent_rate(5, now=114.0) == pytest.approx(0)
