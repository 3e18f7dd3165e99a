"""Synthetic data for the benchmarks: consented users with profiles and the catalog items a
coordinator adds (grants, articles, local measures, volunteer opportunities), written straight
into a migrated database in bulk. Deterministic for a given seed.

The users look like a deployment's audience: every time zone of Russia (Moscow-heavy), regions
of their zone, 0–3 topics, a stage for most, "what I can" ikigai entries (volunteering skills)
for half, settings of their own for a third, grants followed, articles already seen and
sign-ups for some.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.content import get_catalog
from bot.infra.db import make_engine, migrate
from bot.storage.tables import (
    article_log,
    articles,
    grant_follows,
    grants,
    ikigai_entries,
    local_measures,
    opportunities,
    quiz_results,
    signups,
    user_roles,
    user_settings,
    user_topics,
    users,
    volunteer_profiles,
)

FIRST_USER = 1_000_000  # user ids start here (emulated users of other benches stay below)
ZONE_WEIGHTS = {
    "utc3": 40,
    "utc5": 12,
    "utc7": 10,
    "utc4": 8,
    "utc2": 3,
    "utc6": 5,
    "utc8": 6,
    "utc9": 5,
    "utc10": 5,
    "utc11": 3,
    "utc12": 3,
}
SKILLS = (
    "учу детей программированию",
    "фотографирую мероприятия",
    "вожу машину",
    "пишу тексты и новости",
    "готовлю еду",
    "организую праздники",
    "шью и ремонтирую одежду",
    "веду соцсети",
    "рисую плакаты",
    "перевожу с английского",
    "юрист, консультирую",
    "бухгалтерия и отчёты",
    "ремонт и стройка",
    "музыка и песни",
    "спорт и тренировки",
    "уход за пожилыми",
    "помощь с животными",
    "дизайн и вёрстка",
    "монтаж видео",
    "психологическая поддержка",
)
OPP_WORDS = (
    "программированию",
    "фотографирую",
    "машину",
    "тексты",
    "еду",
    "праздники",
    "одежду",
    "соцсети",
    "плакаты",
    "английского",
    "консультирую",
    "отчёты",
    "ремонт",
    "музыка",
    "тренировки",
    "пожилыми",
    "животными",
    "дизайн",
    "видео",
    "поддержка",
)
MEASURE_TYPES = ("financial", "property", "information", "consulting", "personnel")
PHASES = ("origin", "formalization", "expansion")
CHUNK = 5_000


@dataclass(frozen=True)
class Seeded:
    users: int
    items: int
    first_user: int
    admin_id: int


def _chunks(rows: Sequence[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield list(rows[start : start + size])


async def _insert(conn: AsyncConnection, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    for part in _chunks(rows):
        await conn.execute(insert(table), part)


def _local_date(at: datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).date().isoformat()


async def seed(
    url: str,
    n_users: int,
    n_items: int = 1_000,
    *,
    now: datetime,
    seed: int = 8,
    always_due: bool = False,
    no_digests: bool = False,
) -> Seeded:
    """Migrate the database at `url` and fill it: `n_users` users (ids from FIRST_USER), an admin
    (id 1, role admin) and `n_items` catalog items, a quarter of each kind. With `always_due`
    everyone's weekly digest is due whenever the bot looks (Monday 00:00 has passed, no quiet
    hours), for a bot process on the real clock; with `no_digests` nobody gets digests,
    follows a grant or signs up for an opportunity (nothing but what the benchmark sends)."""
    rnd = random.Random(seed)
    catalog = get_catalog()
    zones = {z.code: z for z in catalog.zones}
    by_zone: dict[str, list[str]] = {}
    for r in catalog.regions:
        by_zone.setdefault(r.zone, []).append(r.code)
    zone_codes = list(ZONE_WEIGHTS)
    zone_weights = list(ZONE_WEIGHTS.values())
    topics = [t.code for t in catalog.topics]
    long_ago = now - timedelta(days=40)

    engine = make_engine(url)
    try:
        await migrate(engine)
        async with engine.begin() as conn:
            await _seed_users(
                conn,
                rnd,
                n_users,
                now,
                long_ago,
                zones,
                by_zone,
                zone_codes,
                zone_weights,
                topics,
                always_due,
                no_digests,
            )
            await _seed_items(conn, rnd, n_items, n_users, now, by_zone, topics, not no_digests)
    finally:
        await engine.dispose()
    return Seeded(users=n_users, items=n_items, first_user=FIRST_USER, admin_id=1)


async def _seed_users(
    conn: AsyncConnection,
    rnd: random.Random,
    n: int,
    now: datetime,
    long_ago: datetime,
    zones: dict[str, Any],
    by_zone: dict[str, list[str]],
    zone_codes: list[str],
    zone_weights: list[int],
    topics: list[str],
    always_due: bool = False,
    no_digests: bool = False,
) -> None:
    people: list[dict[str, Any]] = [
        {"id": 1, "first_name": "Admin", "locale": "ru", "timezone": "Europe/Moscow",
         "region": "mow", "consent_version": "2026-11", "consent_at": long_ago,
         "blocked": False, "created_at": long_ago, "updated_at": long_ago},
    ]  # fmt: skip
    roles = [{"user_id": 1, "role": "admin", "granted_by": None, "granted_at": long_ago}]
    settings, user_topics_rows, quizzes, ikigai, profiles = [], [], [], [], []
    for i in range(n):
        uid = FIRST_USER + i
        zone = rnd.choices(zone_codes, zone_weights)[0]
        region = rnd.choice(by_zone.get(zone) or ["mow"])
        consent = long_ago + timedelta(minutes=rnd.randrange(30 * 24 * 60))
        people.append(
            {
                "id": uid,
                "first_name": f"User{uid}",
                "locale": rnd.choice(("ru",) * 9 + ("en",)),
                "timezone": zones[zone].iana,
                "region": region,
                "consent_version": "2026-11",
                "consent_at": consent,
                "blocked": rnd.random() < 0.02,
                "created_at": consent,
                "updated_at": consent,
            }
        )
        for topic in rnd.sample(topics, rnd.choice((0, 1, 1, 2, 2, 3))):
            user_topics_rows.append({"user_id": uid, "topic": topic})
        if rnd.random() < 0.85:
            quizzes.append(
                {"user_id": uid, "stage": rnd.randint(1, 7), "answers": "{}", "taken_at": consent}
            )
        if rnd.random() < 0.5:
            for position, skill in enumerate(rnd.sample(SKILLS, rnd.randint(1, 3)), start=1):
                ikigai.append(
                    {
                        "user_id": uid,
                        "col": "can",
                        "position": position,
                        "text": skill,
                        "updated_at": consent,
                    }
                )
        if rnd.random() < 0.1:
            avail = rnd.sample(("weekdays", "evenings", "weekends"), rnd.randint(1, 2))
            profiles.append(
                {
                    "user_id": uid,
                    "skills": json.dumps(rnd.sample(SKILLS, 2)),
                    "availability": json.dumps(sorted(avail)),
                    "updated_at": consent,
                }
            )
        if always_due or no_digests:
            settings.append(
                {
                    "user_id": uid,
                    "measures": True,
                    "grants": True,
                    "articles": True,
                    "announcements": True,
                    "opportunities": True,
                    "digest": "off" if no_digests else "weekly",
                    "digest_hour": 0,
                    "digest_weekday": 0,
                    "quiet_start": 0,
                    "quiet_end": 0,
                    "updated_at": consent,
                }
            )
        elif rnd.random() < 0.33:
            digest = rnd.choices(("weekly", "daily", "off"), (70, 20, 10))[0]
            settings.append(
                {
                    "user_id": uid,
                    "measures": rnd.random() < 0.9,
                    "grants": rnd.random() < 0.9,
                    "articles": rnd.random() < 0.9,
                    "announcements": True,
                    "opportunities": rnd.random() < 0.8,
                    "digest": digest,
                    "digest_hour": rnd.choice((8, 9, 10, 12)),
                    "digest_weekday": rnd.choice((0, 1)),
                    "quiet_start": 22,
                    "quiet_end": 9,
                    "updated_at": consent,
                }
            )
    await _insert(conn, users, people)
    await _insert(conn, user_roles, roles)
    await _insert(conn, user_settings, settings)
    await _insert(conn, user_topics, user_topics_rows)
    await _insert(conn, quiz_results, quizzes)
    await _insert(conn, ikigai_entries, ikigai)
    await _insert(conn, volunteer_profiles, profiles)


async def _seed_items(
    conn: AsyncConnection,
    rnd: random.Random,
    n_items: int,
    n_users: int,
    now: datetime,
    by_zone: dict[str, list[str]],
    topics: list[str],
    follows_and_signups: bool = True,
) -> None:
    quarter = max(1, n_items // 4)
    regions = [code for codes in by_zone.values() for code in codes]
    created = now - timedelta(days=30)
    grant_rows = []
    for i in range(quarter):
        kind = rnd.random()
        if kind < 0.1:
            windows: list[dict[str, Any]] = [{"always": True}]
        else:
            opens = now + timedelta(days=rnd.randint(-40, 20))
            closes = opens + timedelta(days=rnd.randint(10, 60))
            windows = [
                {
                    "fixed": {
                        "open": _local_date(opens, "Europe/Moscow"),
                        "close": _local_date(closes, "Europe/Moscow"),
                    }
                }
            ]
        grant_rows.append(
            {
                "title": f"Грант №{i + 1} «Доброе дело»",
                "organiser": "Фонд поддержки инициатив",
                "link": f"https://example.org/grants/{i + 1}",
                "who": "НКО и инициативные группы",
                "amount": "до 500 000 ₽",
                "topics": json.dumps(rnd.sample(topics, rnd.randint(0, 2))),
                "phases": json.dumps(rnd.sample(PHASES, rnd.randint(0, 2))),
                "region": None if rnd.random() < 0.4 else rnd.choice(regions),
                "windows": json.dumps(windows),
                "timezone": "Europe/Moscow",
                "created_by": 1,
                "created_at": created,
            }
        )
    article_rows = [
        {
            "title": f"Практика №{i + 1}: как команда нашла партнёров",
            "link": f"https://example.org/articles/{i + 1}",
            "summary": "Короткий разбор: что сработало, что нет и почему.",
            "topics": json.dumps(rnd.sample(topics, rnd.randint(0, 2))),
            "stages": json.dumps(sorted(rnd.sample(range(1, 8), rnd.randint(1, 4)))),
            "created_by": 1,
            "created_at": created,
        }
        for i in range(quarter)
    ]
    measure_rows = [
        {
            "title": f"Мера поддержки №{i + 1}",
            "description": "Консультации и помещение.",
            "type": rnd.choice(MEASURE_TYPES),
            "phase": rnd.choice((None, *PHASES)),
            "region": None if rnd.random() < 0.2 else rnd.choice(regions),
            "topics": json.dumps(rnd.sample(topics, rnd.randint(0, 2))),
            "problems": "[]",
            "contact": "+7 900 000-00-00",
            "link": None,
            "created_by": 1,
            "created_at": now - timedelta(days=rnd.randint(0, 30), hours=1),
        }
        for i in range(quarter)
    ]
    opportunity_rows = []
    for i in range(n_items - 3 * quarter):
        starts = now + timedelta(days=rnd.randint(1, 21), hours=rnd.randint(0, 23))
        online = rnd.random() < 0.2
        words = " ".join(rnd.sample(OPP_WORDS, 2))
        opportunity_rows.append(
            {
                "title": f"Помощь №{i + 1}: {words}",
                "description": f"Нужны люди: {words}.",
                "topic": rnd.choice(topics),
                "place": None if online else "ул. Ленина, 1",
                "link": "https://example.org/meet" if online else None,
                "region": None if online else rnd.choice(regions),
                "timezone": "Europe/Moscow",
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=3),
                "capacity": rnd.choice((None, 5, 10, 20)),
                "signup_until": None,
                "contact": "@organiser",
                "status": "open",
                "seq": 0,
                "noticed_change": 0,
                "created_by": 1,
                "created_at": created,
                "updated_at": created,
            }
        )
    await _insert(conn, grants, grant_rows)
    await _insert(conn, articles, article_rows)
    await _insert(conn, local_measures, measure_rows)
    await _insert(conn, opportunities, opportunity_rows)

    follows, seen, taken = [], [], []
    for i in range(n_users if follows_and_signups else 0):
        uid = FIRST_USER + i
        if rnd.random() < 0.2:
            for g in rnd.sample(range(1, quarter + 1), min(quarter, rnd.randint(1, 3))):
                follows.append({"user_id": uid, "grant_key": f"G{g}", "created_at": created})
        if rnd.random() < 0.3:
            for a in rnd.sample(range(1, quarter + 1), min(quarter, rnd.randint(1, 5))):
                seen.append(
                    {"user_id": uid, "article_key": f"A{a}", "sent_at": created, "read_at": None}
                )
        if opportunity_rows and rnd.random() < 0.05:
            taken.append(
                {
                    "opportunity_id": rnd.randint(1, len(opportunity_rows)),
                    "user_id": uid,
                    "status": "confirmed",
                    "position": 1,
                    "created_at": created,
                    "status_at": created,
                    "attended": None,
                }
            )
    unique_taken = list({(t["opportunity_id"], t["user_id"]): t for t in taken}.values())
    await _insert(conn, grant_follows, follows)
    await _insert(conn, article_log, seen)
    await _insert(conn, signups, unique_taken)


def wednesday_morning() -> datetime:
    """The planning benchmark's clock: a Wednesday 09:00 UTC (every zone past its Monday and
    Tuesday digest hours, inside nobody's quiet hours east of Moscow but Kamchatka's)."""
    return datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
