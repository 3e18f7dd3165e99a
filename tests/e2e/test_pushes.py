"""Scheduled pushes end to end with a moved clock: weekly digests at each user's own local hour,
deadline reminders on the right local days, quiet hours, one-tap unsubscribe."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.app import App
from bot.emulator import ChatMessage, EmulatedUser, Emulator
from bot.infra.clock import ManualClock
from bot.storage import catalogs as catalogs_repo
from bot.storage import settings as settings_repo
from bot.storage.tables import grants, outbox
from tests.conftest import Launch

THURSDAY = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
STAGE_4 = {"problem": "tackling"}  # the stored answers do not matter to the planner


async def onboard(app: App, emulator: Emulator, uid: int, tz: str, region: str) -> EmulatedUser:
    user = emulator.user(uid, language_code="ru")
    await user.send("/start")
    await user.next_message(timeout=5)
    await app.profiles.give_consent(uid, f"User {uid}", None, None)
    await app.profiles.set_role(uid, "activist")
    await app.profiles.set_place(uid, tz, region)
    await app.profiles.add_quiz_result(uid, 4, STAGE_4)
    return user


async def add_grant(app: App, title: str, window: Mapping[str, object]) -> None:
    """A coordinator's grant (G1 for the first) with one window, its dates in Moscow time."""
    async with app.engine.begin() as conn:
        await conn.execute(
            grants.insert().values(
                title=title,
                organiser="Ресурсный центр",
                link="https://example.org/grant",
                who="НКО и инициативные группы",
                windows=json.dumps([window]),
                timezone="Europe/Moscow",
                created_at=app.clock.now(),
            )
        )


async def started(launch: Launch) -> tuple[App, ManualClock]:
    """The bot on a clock that starts on THURSDAY; its ticks are the test's to make."""
    clock = ManualClock(THURSDAY)
    running = await launch(clock=clock, tick_seconds=3600)
    return running.app, clock


async def tick(app: App, clock: ManualClock, at: datetime) -> None:
    clock.offset += at - clock.now()
    await app.tick()


async def rows(app: App, uid: int, kind: str) -> list[dict[str, object]]:
    async with app.engine.connect() as conn:
        result = await conn.execute(
            select(outbox)
            .where(outbox.c.user_id == uid, outbox.c.kind == kind)
            .order_by(outbox.c.id)  # PostgreSQL returns updated rows in any order
        )
        return [dict(r) for r in result.mappings()]


async def delivered(user: EmulatedUser, marker: str) -> ChatMessage:
    messages = await user.messages_until(lambda m: marker in m.text, timeout=10)
    return messages[-1]


async def test_digests_and_reminders_follow_each_users_clock(
    emulator: Emulator, launch: Launch
) -> None:
    app, clock = await started(launch)
    east = await onboard(app, emulator, 5001, "Asia/Vladivostok", "pri")
    west = await onboard(app, emulator, 5002, "Europe/Kaliningrad", "kgd")
    # A coordinator's grant with a deadline on 20 December, Moscow time.
    window = {"fixed": {"open": "2026-12-01", "close": "2026-12-20"}}
    await add_grant(app, "Грант «Добрый Приморско-Калининградский»", window)
    for uid in (5001, 5002):
        assert await app.catalogs.toggle_follow(uid, "G1")

    # Monday 10:00 in Vladivostok is 00:00 UTC; in Kaliningrad it is 02:00 — still night.
    await tick(app, clock, datetime(2026, 11, 30, 0, 0, tzinfo=UTC))
    digest = await delivered(east, "еженедельный дайджест")
    assert "🔕 Отписаться от дайджеста" in digest.button_texts()
    # A usual window reads as expected, with the organiser's date first (2 Dec 23:59 Moscow
    # is 3 Dec in Vladivostok); the coordinator's dated one as confirmed.
    assert (
        "Конкурс Президентского фонда культурных инициатив — обычно до ≈ 02.12.2026 МСК "
        "(у вас 03.12), по прошлым годам — проверьте на сайте"
    ) in digest.text
    assert "Грант «Добрый Приморско-Калининградский» — откроется 01.12.2026\n" in digest.text
    assert await rows(app, 5002, "digest") == []
    # 10:00 in Kaliningrad: now the west gets theirs, the east no second one.
    await tick(app, clock, datetime(2026, 11, 30, 8, 0, tzinfo=UTC))
    await delivered(west, "еженедельный дайджест")
    assert len(await rows(app, 5001, "digest")) == 1
    assert len(await rows(app, 5002, "digest")) == 1
    await tick(app, clock, datetime(2026, 11, 30, 12, 0, tzinfo=UTC))  # repeated ticks: no doubles
    assert len(await rows(app, 5001, "digest")) == 1

    # Reminders count the organiser's days: the deadline (20 Dec 23:59 MSK) is 21 Dec 06:59
    # in Vladivostok, yet "14 days before" is 6 Dec for both, each from their digest hour.
    await tick(app, clock, datetime(2026, 12, 6, 0, 0, tzinfo=UTC))  # 10:00 Vladivostok
    reminder = await delivered(east, "Срок подачи — через 14 дней")
    assert "Приём заявок до 20.12.2026 23:59 МСК (у вас 21.12 06:59)." in reminder.text
    assert await rows(app, 5002, "reminder") == []  # 02:00 in Kaliningrad: not yet its day
    await tick(app, clock, datetime(2026, 12, 6, 8, 0, tzinfo=UTC))  # 6 Dec, 10:00 Kaliningrad
    reminder = await delivered(west, "Срок подачи — через 14 дней")
    assert "Добрый Приморско-Калининградский" in reminder.text
    assert "Приём заявок до 20.12.2026 23:59 МСК (у вас 20.12 22:59)." in reminder.text
    await tick(app, clock, datetime(2026, 12, 17, 8, 0, tzinfo=UTC))
    await delivered(west, "Срок подачи — через 3 дня")
    await tick(app, clock, datetime(2026, 12, 19, 0, 0, tzinfo=UTC))  # 19 Dec, 10:00 east
    tomorrow = await delivered(east, "Срок завтра")  # the organiser's tomorrow, not the 21st
    assert "🔕 Отписаться от грантов" in tomorrow.button_texts()
    await tick(app, clock, datetime(2026, 12, 19, 8, 0, tzinfo=UTC))
    await delivered(west, "Срок завтра")
    for uid in (5001, 5002):
        assert [r["dedup_key"] for r in await rows(app, uid, "reminder")] == [
            f"reminder:{uid}:G1:2026-12-20:{n}" for n in (14, 3, 1)
        ]

    # One tap under a push unsubscribes; the next week's digest does not come.
    east_before = len(await rows(app, 5001, "digest"))
    west_before = len(await rows(app, 5002, "digest"))
    answer = await east.press("🔕 Отписаться от дайджеста", message=digest)
    assert answer.text == "Готово: вы отписались. Вернуть — в /settings."
    assert east.current(digest).buttons == []
    await tick(app, clock, datetime(2026, 12, 28, 8, 0, tzinfo=UTC))  # Monday again
    assert len(await rows(app, 5001, "digest")) == east_before
    assert len(await rows(app, 5002, "digest")) == west_before + 1  # the west still gets theirs
    assert emulator.rejections() == []


async def test_a_reminder_of_an_expected_deadline_asks_to_check_the_dates(
    emulator: Emulator, launch: Launch
) -> None:
    """A deadline inferred from past years is reminded as the usual one: "≈", "by past years",
    check the site; never an exact "applications until", never "last day"."""
    app, clock = await started(launch)
    user = await onboard(app, emulator, 5010, "Europe/Moscow", "mow")
    usual = {"yearly": {"open": "12-01", "close": "12-20"}}
    await add_grant(app, "Грант «Обычно в декабре»", usual)
    assert await app.catalogs.toggle_follow(5010, "G1")
    await tick(app, clock, datetime(2026, 12, 6, 9, 0, tzinfo=UTC))  # 6 Dec, 12:00 Moscow
    reminder = await delivered(user, "Обычный срок подачи — примерно через 14 дней")
    assert "Грант «Обычно в декабре»" in reminder.text
    assert "По прошлым годам приём заявок заканчивается около 20.12.2026." in reminder.text
    assert "проверьте их на официальном сайте" in reminder.text
    assert "Приём заявок до" not in reminder.text
    await tick(app, clock, datetime(2026, 12, 19, 9, 0, tzinfo=UTC))
    tomorrow = await delivered(user, "примерно через 1 день")
    assert "завтра" not in tomorrow.text
    assert "последний день" not in tomorrow.text


async def test_nothing_arrives_in_quiet_hours(emulator: Emulator, launch: Launch) -> None:
    app, clock = await started(launch)
    user = await onboard(app, emulator, 5003, "Asia/Kamchatka", "kam")
    async with app.engine.begin() as conn:  # a digest at 22:00, inside quiet hours 21–8
        await settings_repo.save(
            conn,
            5003,
            settings_repo.PushSettings(digest_hour=22, quiet_start=21, quiet_end=8),
            clock.now(),
        )
    # Monday 22:00 in Kamchatka (UTC+12) is 10:00 UTC: due, but quiet.
    await tick(app, clock, datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
    [row] = await rows(app, 5003, "digest")
    assert row["status"] == "pending"
    assert row["not_before"] == datetime(2026, 11, 30, 20, 0, tzinfo=UTC)  # 08:00 local
    app.sender.wake()
    await user.no_message(within=0.5)
    # 08:00 in Kamchatka: it goes.
    await tick(app, clock, datetime(2026, 11, 30, 20, 0, tzinfo=UTC))
    app.sender.wake()
    await delivered(user, "еженедельный дайджест")


async def test_articles_never_reach_a_user_twice(emulator: Emulator, launch: Launch) -> None:
    app, clock = await started(launch)
    user = await onboard(app, emulator, 5004, "Europe/Moscow", "mow")
    async with app.engine.begin() as conn:
        await settings_repo.save(
            conn, 5004, settings_repo.PushSettings(digest="daily"), clock.now()
        )
    seen = []
    day = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)  # 11:00 in Moscow
    for n in range(6):
        await tick(app, clock, day + timedelta(days=n))
        message = await delivered(user, "дайджест")
        seen.append(message.text.split("Что почитать сегодня")[-1].strip().splitlines()[0])
    assert len(set(seen)) == len(seen)
    async with app.engine.connect() as conn:
        states = await catalogs_repo.article_states(conn, 5004)
    assert len(states) == 6


async def test_a_tick_over_several_pages_plans_each_user_once(
    emulator: Emulator, launch: Launch
) -> None:
    app, clock = await started(launch)
    app.planner.page = 2  # five users: three pages, each read while the one before is planned
    uids = range(5301, 5306)
    for uid in uids:
        await onboard(app, emulator, uid, "Europe/Moscow", "mow")
    await tick(app, clock, datetime(2026, 11, 30, 7, 0, tzinfo=UTC))  # Monday 10:00 Moscow
    for uid in uids:
        assert len(await rows(app, uid, "digest")) == 1, uid
    await tick(app, clock, datetime(2026, 11, 30, 8, 0, tzinfo=UTC))
    for uid in uids:
        assert len(await rows(app, uid, "digest")) == 1, uid


async def test_a_weekly_digest_waits_a_week_for_whoever_consented_the_day_before(
    emulator: Emulator, launch: Launch
) -> None:
    app, clock = await started(launch)
    older = await onboard(app, emulator, 5401, "Europe/Moscow", "mow")
    monday_10 = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # Monday 10:00 in Moscow
    clock.offset += monday_10 - timedelta(hours=23, minutes=59) - clock.now()
    newcomer = await onboard(app, emulator, 5402, "Europe/Moscow", "mow")  # Sunday 10:01
    clock.offset += monday_10 - timedelta(days=1) - clock.now()
    day_old = await onboard(app, emulator, 5403, "Europe/Moscow", "mow")  # Sunday 10:00
    await tick(app, clock, monday_10)
    for user in (older, day_old):  # a day with the bot is enough
        await delivered(user, "еженедельный дайджест")
    assert await rows(app, 5402, "digest") == []  # not even a day with the bot
    await tick(app, clock, monday_10 + timedelta(days=7))
    for user in (newcomer, older, day_old):  # nothing left in flight when the test ends
        await delivered(user, "еженедельный дайджест")
    assert len(await rows(app, 5402, "digest")) == 1


async def test_a_reminder_day_digest_leaves_that_grant_to_the_reminder(
    emulator: Emulator, launch: Launch
) -> None:
    """One push per grant a day: the digest of a reminder's day leaves the grant out."""
    app, clock = await started(launch)
    window = {"fixed": {"open": "2026-11-20", "close": "2026-12-14"}}  # 14 days after Monday
    await add_grant(app, "Грант «Один раз в день»", window)
    follower = await onboard(app, emulator, 5501, "Europe/Moscow", "mow")
    assert await app.catalogs.toggle_follow(5501, "G1")
    other = await onboard(app, emulator, 5502, "Europe/Moscow", "mow")
    await tick(app, clock, datetime(2026, 11, 30, 7, 0, tzinfo=UTC))  # Monday 10:00 Moscow
    markers = {"еженедельный дайджест", "Срок подачи — через 14 дней"}
    got: list[ChatMessage] = []
    while markers - {k for k in markers for m in got if k in m.text}:
        got.append(await follower.next_message(timeout=10))
    [digest] = [m for m in got if "еженедельный дайджест" in m.text]
    assert "Один раз в день" not in digest.text
    digest = await delivered(other, "еженедельный дайджест")  # not following: in the digest
    assert "• Грант «Один раз в день» — до 14.12.2026 · осталось 14 дней" in digest.text


async def test_a_daily_digest_says_a_grant_again_only_when_its_line_changes(
    emulator: Emulator, launch: Launch
) -> None:
    app, clock = await started(launch)
    user = await onboard(app, emulator, 5503, "Europe/Moscow", "mow")
    async with app.engine.begin() as conn:
        await settings_repo.save(
            conn, 5503, settings_repo.PushSettings(digest="daily"), clock.now()
        )
    window = {"fixed": {"open": "2026-12-14", "close": "2026-12-20"}}
    await add_grant(app, "Грант «Каждый день»", window)
    said = []
    for day in (29, 30, 31, 44, 45, 50):  # 29 Nov … 20 Dec, 10:00 Moscow
        await tick(app, clock, datetime(2026, 11, 1, 7, 0, tzinfo=UTC) + timedelta(days=day - 1))
        digest = await delivered(user, "Ваш дайджест на сегодня")
        assert "на этой неделе" not in digest.text
        assert "Что почитать сегодня" in digest.text
        said.append([line for line in digest.text.splitlines() if "Каждый день" in line])
    assert said == [
        [],  # opens in more than two weeks
        ["• Грант «Каждый день» — откроется 14.12.2026"],  # opens within two weeks
        [],  # yesterday's line is not repeated
        ["• Грант «Каждый день» — до 20.12.2026 · осталось 6 дней"],  # opened
        [],
        ["• Грант «Каждый день» — ⏰ сегодня последний день"],  # the last day
    ]
