"""Broadcast segments: the pure model (toggles, JSON, description, place resolution, schedule
times, progress figures) and its SQL on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert, update

from bot.content import get_catalog
from bot.domain.segments import (
    KINDS,
    ROLES,
    STAGES,
    Geography,
    Segment,
    WhenError,
    parse_when,
    preset_time,
)
from bot.infra.db import make_engine, migrate
from bot.services.broadcasts import Progress, check_content, dedup_key
from bot.storage import broadcasts as repo
from bot.storage.broadcasts import Content
from bot.storage.tables import (
    opportunities,
    quiz_results,
    signups,
    user_roles,
    user_settings,
    user_topics,
    users,
)

CATALOG = get_catalog()
GEO = Geography.of(CATALOG.zones, CATALOG.regions)
TOPICS = tuple(t.code for t in CATALOG.topics)
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday
NSK = "Asia/Novosibirsk"


# ------------------------------------------------------------------ the model


def test_the_empty_segment_is_everyone() -> None:
    segment = Segment()
    assert segment.is_empty
    assert segment.to_json() == {}
    assert segment.describe() == ()
    assert segment.summary() == "everyone"
    assert segment.place(GEO) is None


def test_toggles_add_and_remove_values() -> None:
    segment = Segment().toggle_stage(4).toggle_stage(5).toggle_role("activist")
    assert segment.stages == {4, 5}
    assert segment.toggle_stage(4).stages == {5}
    assert segment.toggle_role("activist").roles == frozenset()
    assert segment.describe() == (("roles", ("activist",)), ("stages", ("4", "5")))
    assert segment.summary() == "roles=activist; stages=4,5"
    with pytest.raises(ValueError, match="stage"):
        segment.toggle_stage(8)
    with pytest.raises(ValueError, match="role"):
        segment.toggle_role("admin")
    with pytest.raises(ValueError, match="opportunity"):
        segment.toggle_opportunity(0)


def test_a_whole_zone_and_its_regions_exclude_each_other() -> None:
    regions = Segment().toggle_region("nvs", GEO).toggle_region("tom", GEO)
    assert regions.regions == {"nvs", "tom"}
    zone = regions.toggle_zone("utc7", GEO)  # the whole zone replaces its regions
    assert zone.zones == {"utc7"}
    assert zone.regions == frozenset()
    back = zone.toggle_region("nvs", GEO)  # a region narrows the whole zone again
    assert back.zones == frozenset()
    assert back.regions == {"nvs"}
    both = back.toggle_zone("utc3", GEO)  # regions of another zone stay
    assert both.zones == {"utc3"}
    assert both.regions == {"nvs"}
    assert both.values("place") == ("utc3", "nvs")
    with pytest.raises(ValueError, match="zone"):
        Segment().toggle_zone("utc13", GEO)
    with pytest.raises(ValueError, match="region"):
        Segment().toggle_region("atlantis", GEO)


def test_place_resolves_zones_to_regions_and_time_zones() -> None:
    place = Segment(zones=frozenset({"utc7"}), regions=frozenset({"mow"})).place(GEO)
    assert place is not None
    assert {"nvs", "tom", "kya", "mow"} <= place.regions
    assert "spe" not in place.regions
    # the representative zone of UTC+7 and the zones of its regions' centres
    assert {"Asia/Krasnoyarsk", "Asia/Novosibirsk", "Asia/Tomsk", "Asia/Barnaul"} <= (
        place.timezones
    )
    assert "Europe/Moscow" not in place.timezones  # a region alone matches by region only


def test_zones_sort_by_offset_in_descriptions() -> None:
    segment = Segment(zones=frozenset({"utc10", "utc2", "utc3"}))
    assert segment.values("place") == ("utc2", "utc3", "utc10")


def test_json_is_tolerant_of_old_and_forged_data() -> None:
    stored = json.dumps(
        {
            "roles": ["activist", "admin", 3],
            "stages": [4, 9, "5", True],
            "topics": ["culture", ""],
            "zones": "utc7",  # not a list
            "opportunity_ids": [2, -1],
            "future_kind": ["x"],
        }
    )
    segment = Segment.from_json(stored)
    assert segment == Segment(
        roles=frozenset({"activist"}),
        stages=frozenset({4}),
        topics=frozenset({"culture"}),
        opportunity_ids=frozenset({2}),
    )
    assert Segment.from_json("not json") == Segment()
    assert Segment.from_json("") == Segment()
    assert Segment.from_json(None) == Segment()
    assert Segment.from_json("[1, 2]") == Segment()


def test_unknown_codes_are_dropped() -> None:
    segment = Segment(
        topics=frozenset({"culture", "gone"}),
        zones=frozenset({"utc7", "utc99"}),
        regions=frozenset({"nvs", "gone"}),
    )
    known = segment.known_only(TOPICS, GEO)
    assert known.topics == {"culture"}
    assert known.zones == {"utc7"}
    assert known.regions == {"nvs"}


def test_clearing_a_kind_keeps_the_others() -> None:
    segment = Segment(stages=frozenset({4}), zones=frozenset({"utc7"}), regions=frozenset({"mow"}))
    assert segment.cleared("place") == Segment(stages=frozenset({4}))
    assert segment.cleared("stages").stages == frozenset()
    assert segment.cleared() == Segment()
    with pytest.raises(ValueError, match="kind"):
        segment.cleared("planets")


segments = st.builds(
    Segment,
    roles=st.frozensets(st.sampled_from(ROLES)),
    stages=st.frozensets(st.sampled_from(STAGES)),
    topics=st.frozensets(st.sampled_from(TOPICS)),
    zones=st.frozensets(st.sampled_from(sorted(GEO.zone_regions))),
    regions=st.frozensets(st.sampled_from(sorted(GEO.region_zone))),
    opportunity_ids=st.frozensets(st.integers(min_value=1, max_value=10**6)),
)


@given(segments)
def test_json_round_trips(segment: Segment) -> None:
    assert Segment.from_json(segment.dumps()) == segment
    assert Segment.from_json(segment.to_json()) == segment
    assert segment.is_empty == (segment.to_json() == {})
    assert [kind for kind, _ in segment.describe()] == [k for k in KINDS if segment.values(k)]


@given(segments, st.sampled_from(STAGES))
def test_a_toggle_twice_changes_nothing(segment: Segment, stage: int) -> None:
    assert segment.toggle_stage(stage).toggle_stage(stage) == segment


# ------------------------------------------------------------------ when


def test_schedule_presets_in_the_coordinators_zone() -> None:
    # 12:00 UTC on Thursday is 19:00 in Novosibirsk.
    assert preset_time("1h", NOW, NSK) == datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
    assert preset_time("tomorrow", NOW, NSK) == datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    assert preset_time("monday", NOW, NSK) == datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    monday_early = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 08:00 Monday in Novosibirsk
    assert preset_time("monday", monday_early, NSK) == datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    monday_late = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # 10:00 sharp: the next Monday
    assert preset_time("monday", monday_late, NSK) == datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="preset"):
        preset_time("someday", NOW, NSK)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("27.11 10:00", datetime(2026, 11, 27, 3, 0, tzinfo=UTC)),
        (" 1.12  9.30 ", datetime(2026, 12, 1, 2, 30, tzinfo=UTC)),
        ("27.11.2026 10:00", datetime(2026, 11, 27, 3, 0, tzinfo=UTC)),
        ("27.11.27 10:00", datetime(2027, 11, 27, 3, 0, tzinfo=UTC)),
        ("05.01 10:00", datetime(2027, 1, 5, 3, 0, tzinfo=UTC)),  # January is next year's
        ("20:30", datetime(2026, 11, 26, 13, 30, tzinfo=UTC)),  # today, still ahead
        ("09:00", datetime(2026, 11, 27, 2, 0, tzinfo=UTC)),  # passed today: tomorrow
    ],
)
def test_typed_times(text: str, expected: datetime) -> None:
    assert parse_when(text, NOW, NSK) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("tomorrow", "format"),
        ("31.02 10:00", "format"),
        ("27.11 25:00", "format"),
        ("", "format"),
        ("25.11 10:00", "past"),  # two days ago: not next year
        ("26.11 18:00", "past"),  # an hour ago, local
        ("26.12.2027 10:00", "far"),  # farther than 2 years: "range"
    ],
)
def test_typed_times_that_cannot_be_used(text: str, reason: str) -> None:
    with pytest.raises(WhenError) as error:
        parse_when(text, NOW, NSK)
    assert error.value.reason == reason


@pytest.mark.parametrize("tz", sorted({z.iana for z in CATALOG.zones}))
@pytest.mark.parametrize(
    "text", ["01.01.0001 00:00", "01.01.0001 10:00", "31.12.9999 23:59", "01.01.2030 10:00"]
)
def test_typed_days_far_from_today_name_the_range(tz: str, text: str) -> None:
    """Year 0001 overflowed the zone conversion (and was read as 2001): a day outside
    yesterday … two years ahead is refused with the range."""
    with pytest.raises(WhenError) as error:
        parse_when(text, NOW, tz)
    assert error.value.reason == "range"
    today = NOW.astimezone(ZoneInfo(tz)).date()
    assert error.value.earliest == (today - timedelta(days=1)).strftime("%d.%m.%Y")
    assert error.value.latest == today.replace(year=today.year + 2).strftime("%d.%m.%Y")


# ------------------------------------------------------------------ progress and content


def test_progress_figures() -> None:
    counts = {"sent": 50, "failed": 2, "blocked": 1, "skipped": 2, "pending": 40, "sending": 5}
    progress = Progress.of(counts, total=100)
    assert (progress.done, progress.waiting, progress.blocked, progress.percent) == (
        55,
        45,
        3,
        55,
    )
    assert not progress.finished
    assert progress.with_rate(9.0, 25.0).eta == 5
    assert progress.with_rate(0.0, 15.0).eta == 3  # nothing measured yet: the sender's pace
    finished = Progress.of({"sent": 3, "cancelled": 7})
    assert finished.finished
    assert (finished.total, finished.percent) == (10, 100)
    assert Progress.of({}).percent == 100
    assert dedup_key(7, 42) == "broadcast:7:42"


def test_content_limits_count_utf16() -> None:
    check_content(Content(text="🚀" * 2048))  # 4096 UTF-16 units: fits a message
    with pytest.raises(Exception, match="too_long"):
        check_content(Content(text="🚀" * 2049))
    check_content(Content(text="x" * 1024, photo="FILE"))
    with pytest.raises(Exception, match="too_long"):
        check_content(Content(text="x" * 1025, document="FILE"))
    with pytest.raises(Exception, match="too_long"):
        check_content(Content(text="  "))
    check_content(Content(text="", photo="FILE"))  # a photo alone is a broadcast
    with pytest.raises(ValueError, match="not both"):
        Content(text="", photo="A", document="B")


# ------------------------------------------------------------------ SQL, on both backends


@pytest.fixture
async def engine(database_url):
    engine = make_engine(database_url)
    await migrate(engine)
    yield engine
    await engine.dispose()


async def add_user(
    conn,
    uid: int,
    *,
    tz: str | None = NSK,
    region: str | None = "nvs",
    stages: tuple[int, ...] = (4,),
    roles: tuple[str, ...] = ("activist",),
    topics: tuple[str, ...] = (),
    consent: bool = True,
    blocked: bool = False,
    announcements: bool | None = True,  # None: never answered the question (no settings row)
) -> None:
    await conn.execute(
        insert(users).values(
            id=uid,
            timezone=tz,
            region=region,
            consent_at=NOW if consent else None,
            blocked=blocked,
            created_at=NOW,
            updated_at=NOW,
        )
    )
    for n, stage in enumerate(stages):
        await conn.execute(
            insert(quiz_results).values(
                user_id=uid, stage=stage, answers="{}", taken_at=NOW + timedelta(minutes=n)
            )
        )
    for role in roles:
        await conn.execute(insert(user_roles).values(user_id=uid, role=role, granted_at=NOW))
    for topic in topics:
        await conn.execute(insert(user_topics).values(user_id=uid, topic=topic))
    if announcements is not None:
        await conn.execute(
            insert(user_settings).values(user_id=uid, announcements=announcements, updated_at=NOW)
        )


@pytest.fixture
async def people(engine):
    async with engine.begin() as conn:
        await add_user(conn, 1, topics=("culture",))
        await add_user(conn, 2, tz="Europe/Moscow", region="mow", stages=(4, 5), roles=())
        await add_user(conn, 3, tz="Asia/Krasnoyarsk", region=None)  # UTC+7, zone only
        await add_user(conn, 4, stages=(2,), roles=("activist", "coordinator"))
        await add_user(conn, 5, consent=False)
        await add_user(conn, 6, blocked=True)
        await add_user(conn, 7, announcements=False)
        await add_user(conn, 8, tz=None, region=None)  # the deployment's zone: Moscow
        await add_user(
            conn, 9, tz="Asia/Tomsk", region="tom", stages=(1,), topics=("culture", "publishing")
        )
        await add_user(conn, 10, announcements=True, roles=("volunteer",), stages=())
        await add_user(conn, 11, announcements=None)  # a mailing needs a yes
        await conn.execute(update(users).where(users.c.id == 2).values(locale="en"))
    return engine


async def audience(engine, **filters) -> set[int]:
    segment = Segment(**{k: frozenset(v) for k, v in filters.items()})
    async with engine.connect() as conn:
        found = await repo.audience_of(conn, segment, GEO, "Europe/Moscow")
        count = await repo.count_audience(conn, segment, GEO, "Europe/Moscow")
    ids = {uid for uid, _ in found}
    assert count == len(found) == len(ids)
    return ids


async def test_everyone_means_who_may_get_announcements(people) -> None:
    # no consent (5), blocked (6), announcements off (7) or never asked (11) are never reached
    assert await audience(people) == {1, 2, 3, 4, 8, 9, 10}


async def test_values_of_one_kind_widen_kinds_narrow(people) -> None:
    assert await audience(people, stages={4}) == {1, 3, 8}  # 2's latest stage is 5
    assert await audience(people, stages={4, 5}) == {1, 2, 3, 8}
    assert await audience(people, stages={4}, zones={"utc7"}) == {1, 3}
    assert await audience(people, stages={4}, regions={"nvs"}) == {1}
    assert await audience(people, zones={"utc3"}) == {2, 8}  # 8 has no zone: Moscow's
    assert await audience(people, zones={"utc3"}, regions={"tom"}) == {2, 8, 9}
    assert await audience(people, roles={"coordinator"}) == {4}
    assert await audience(people, roles={"activist", "volunteer"}) == {1, 3, 4, 8, 9, 10}
    assert await audience(people, topics={"culture"}) == {1, 9}
    assert await audience(people, topics={"culture"}, stages={1}) == {9}
    assert await audience(people, topics={"prevention"}) == set()


async def test_locales_come_with_the_audience(people) -> None:
    async with people.connect() as conn:
        found = dict(await repo.audience_of(conn, Segment(), GEO, "Europe/Moscow"))
    assert found[2] == "en"
    assert found[1] is None


async def add_opportunity(conn, title: str, starts: datetime) -> int:
    result = await conn.execute(
        insert(opportunities)
        .values(
            title=title,
            description="…",
            topic="culture",
            timezone=NSK,
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            created_by=4,
            created_at=NOW,
            updated_at=NOW,
        )
        .returning(opportunities.c.id)
    )
    return int(result.scalar_one())


async def test_confirmed_participants_of_opportunities(people) -> None:
    async with people.begin() as conn:
        old = await add_opportunity(conn, "Last year's fair", NOW - timedelta(days=400))
        park = await add_opportunity(conn, "Clean the park", NOW + timedelta(days=2))
        fair = await add_opportunity(conn, "Book fair", NOW + timedelta(days=1))
        rows = [
            (park, 1, "confirmed"),
            (park, 3, "waiting"),  # the waiting list is not "participants"
            (park, 8, "cancelled"),
            (park, 7, "confirmed"),  # turned announcements off
            (fair, 3, "confirmed"),
            (old, 2, "confirmed"),
        ]
        await conn.execute(
            insert(signups),
            [
                {
                    "opportunity_id": o,
                    "user_id": u,
                    "status": status,
                    "position": n,
                    "created_at": NOW,
                    "status_at": NOW,
                }
                for n, (o, u, status) in enumerate(rows)
            ],
        )
    assert await audience(people, opportunity_ids={park}) == {1}
    assert await audience(people, opportunity_ids={park, fair}) == {1, 3}
    assert await audience(people, opportunity_ids={park, fair}, regions={"nvs"}) == {1}
    async with people.connect() as conn:
        choices, total = await repo.opportunity_choices(conn, NOW - timedelta(days=30), 0, 10)
        assert [c.title for c in choices] == ["Book fair", "Clean the park"]  # soonest first
        assert total == 2
        page, _ = await repo.opportunity_choices(conn, NOW - timedelta(days=30), 1, 1)
        assert [c.id for c in page] == [park]
        titles = await repo.opportunity_titles(conn, [park, 999])
        assert list(titles) == [park]
        assert titles[park].title == "Clean the park"


async def test_broadcast_rows_move_once(engine) -> None:
    content = Content(text="Hi", entities=({"type": "bold", "offset": 0, "length": 2},))
    async with engine.begin() as conn:
        await add_user(conn, 1)
        bid = await repo.create(conn, 1, content, Segment(stages=frozenset({4})), NOW)
        assert await repo.set_segment(conn, bid, Segment(regions=frozenset({"nvs"})))
        draft = await repo.get(conn, bid)
        assert draft is not None
        assert draft.content == content
        assert draft.segment == Segment(regions=frozenset({"nvs"}))
        assert await repo.move(
            conn, bid, (repo.DRAFT,), repo.SCHEDULED, scheduled_at=NOW + timedelta(hours=1)
        )
        assert not await repo.move(conn, bid, (repo.DRAFT,), repo.SENDING)  # only once
        assert not await repo.set_segment(conn, bid, Segment())  # no longer a draft
        assert await repo.due(conn, NOW) == []
        [due] = await repo.due(conn, NOW + timedelta(hours=1))
        assert due.id == bid
        assert await repo.move(conn, bid, (repo.SCHEDULED,), repo.SENDING, started_at=NOW)
        assert [b.id for b in await repo.unfinished(conn)] == [bid]
        assert [b.id for b in await repo.of_author(conn, 1, (repo.SENDING,))] == [bid]
        assert await repo.finish(conn, bid, NOW) == repo.DONE
        assert await repo.finish(conn, bid, NOW) is None  # a second follower does nothing
        assert await repo.unfinished(conn) == []
        other = await repo.create(conn, 1, Content(text="x"), Segment(), NOW)
        assert await repo.delete_draft(conn, other)
        assert await repo.get(conn, other) is None
        with pytest.raises(ValueError, match="status"):
            await repo.move(conn, bid, (repo.DONE,), "lost")
