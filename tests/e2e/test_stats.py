"""Coordinators' statistics end to end: /stats sends charts as photos, the anonymised CSV and a
summary; the self-assessment saves each result with its date and draws it next to the previous
one; anyone else is refused before anything is computed."""

from __future__ import annotations

import csv
import io
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from bot.app import App
from bot.emulator import ChatMessage, EmulatedUser, Emulator
from bot.infra.clock import ManualClock
from bot.storage.tables import audit_log, broadcasts, outbox, self_assessments, user_roles
from tests.conftest import Launch
from tests.e2e.test_journey import say, tap

COORDINATOR = 80_417_001
START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

# (id, first name, last name, username, stage, zone, region, topics, problems)
PEOPLE = (
    (80_417_101, "Агафья", "Лыкова", "agafya_taiga", 4, "Asia/Krasnoyarsk", "kya",
     {"social_services", "culture"}, {"lack_of_funds", "high_costs"}),
    (80_417_102, "Евлампий", "Стародубцев", "evlampiy77", 2, "Europe/Moscow", "mow",
     {"culture"}, {"lack_of_funds"}),
    (80_417_103, "Zinaida", "Quartermaine", "zina_q", 6, "Asia/Vladivostok", "pri",
     {"prevention", "education_access"}, {"no_public_demand"}),
)  # fmt: skip
SECRETS = [
    str(COORDINATOR),
    *(str(p[0]) for p in PEOPLE),
    *(p[1] for p in PEOPLE),
    *(p[2] for p in PEOPLE),
    *(p[3] for p in PEOPLE),
]


async def onboard_people(app: App, emulator: Emulator) -> None:
    for uid, first, last, username, stage, zone, region, topics, problems in PEOPLE:
        user = emulator.user(uid, first, last_name=last, username=username, language_code="ru")
        await user.send("/start")
        await user.next_message(timeout=5)
        await app.profiles.give_consent(uid, first, last, username)
        await app.profiles.set_role(uid, "activist")
        await app.profiles.set_place(uid, zone, region)
        await app.profiles.add_quiz_result(uid, 1, {"problem": "feel"})
        await app.profiles.add_quiz_result(uid, stage, {"problem": "tackling"})  # the latest
        await app.profiles.set_codes(uid, "topics", frozenset(topics))
        await app.profiles.set_codes(uid, "problems", frozenset(problems))
        await app.profiles.set_ikigai_column(uid, "want", [f"Хочу помочь, {first}"])


async def add_broadcast(app: App, recipients: dict[int, str]) -> None:
    now = app.clock.now()
    async with app.engine.begin() as conn:
        inserted = (
            await conn.execute(
                broadcasts.insert().values(
                    author_id=COORDINATOR,
                    text="Приглашаем на встречу активистов района 🎉",
                    status="done",
                    recipients=len(recipients),
                    created_at=now,
                )
            )
        ).inserted_primary_key
        assert inserted is not None
        batch = inserted[0]
        for uid, status in recipients.items():
            await conn.execute(
                outbox.insert().values(
                    user_id=uid,
                    chat_id=uid,
                    kind="broadcast",
                    dedup_key=f"broadcast:{batch}:{uid}",
                    payload=json.dumps({"text": "…"}),
                    batch_id=batch,
                    status=status,
                    not_before=now,
                    created_at=now,
                )
            )


def image_of(message: ChatMessage) -> Image.Image:
    assert message.kind == "photo"
    assert message.photo is not None
    image = Image.open(io.BytesIO(message.photo))
    image.load()
    return image


async def stats_messages(user: EmulatedUser, marker: str) -> list[ChatMessage]:
    user.skip_pending()
    await user.send("/stats")
    return await user.messages_until(lambda m: marker in m.text, timeout=20)


async def test_stats_sends_charts_csv_and_summary(
    emulator: Emulator, launch: Launch, database_url: str
) -> None:
    clock = ManualClock(START)
    running = await launch(clock=clock, admin_ids=str(COORDINATOR), database_url=database_url)
    app = running.app
    await onboard_people(app, emulator)
    await add_broadcast(app, {80_417_101: "sent", 80_417_102: "blocked", 80_417_103: "failed"})
    coordinator = emulator.user(COORDINATOR, "Координатор", username="coord", language_code="en")

    messages = await stats_messages(coordinator, "The area in numbers")
    photos = [m for m in messages if m.kind == "photo"]
    documents = [m for m in messages if m.kind == "document"]
    assert len(messages) == 5  # three charts, the CSV, the summary
    assert [image_of(p).size for p in photos] == [(1080, 1080), (1080, 1440), (1080, 1440)]
    assert [p.caption for p in photos] == [
        "📊 Participants by stage",
        "🧩 Needs and problems",
        "📈 Sign-ups and broadcasts",
    ]

    [document] = documents
    assert document.file_name == "opora-profiles-2026-11-26.csv"
    data = document.document
    assert data is not None
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["row", "role", "stage"]
    assert "consent month" in header
    assert len(body) == len(PEOPLE)
    assert all(len(row) == len(header) for row in body)
    assert [row[0] for row in body] == ["1", "2", "3"]
    assert sorted(row[2] for row in body) == ["2", "4", "6"]  # the latest result counts
    assert {row[header.index("consent month")] for row in body} == {"2026-11"}
    assert "Krasnoyarsk Krai" in text
    assert "Asia/Vladivostok" in text
    for secret in SECRETS:
        assert secret not in text, f"the CSV leaks {secret!r}"
    assert "(UTF-8, comma-separated): 3 rows." in document.text

    summary = messages[-1]
    assert "3 people gave consent" in summary.text
    assert "3 activists · " in summary.text
    assert "1 of 3 messages delivered" in summary.text
    assert "🧭 Self-assessment" in summary.button_texts()
    async with app.engine.connect() as conn:
        actions = (await conn.execute(select(audit_log.c.action))).scalars().all()
    assert actions == ["stats.export"]
    assert emulator.rejections() == []

    # The menu's button does the same, in Russian for a Russian coordinator; one who lives
    # in Moscow sees Moscow first, and everyone a tap away.
    async with app.engine.begin() as conn:
        await conn.execute(
            user_roles.insert().values(user_id=80_417_102, role="coordinator", granted_at=START)
        )
    colleague = emulator.user(80_417_102)
    menu = await say(colleague, "/coordinator")
    colleague.skip_pending()
    await colleague.press("📊 Статистика", message=menu)
    moscow = [await colleague.next_message(timeout=20) for _ in range(5)]
    assert [m.kind for m in moscow] == ["photo", "photo", "photo", "document", "text"]
    assert "Территория в цифрах · Москва" in moscow[-1].text
    assert "Согласие дал 1 человек" in moscow[-1].text
    colleague.skip_pending()
    await colleague.press("🌍 Все регионы", message=moscow[-1])
    again = [await colleague.next_message(timeout=20) for _ in range(5)]
    assert [m.kind for m in again] == ["photo", "photo", "photo", "document", "text"]
    assert "🧭 Самооценка" in again[-1].button_texts()
    assert "📍 Москва" in again[-1].button_texts()
    assert "Согласие дали 3 человека" in again[-1].text
    assert "запятая): 3 строки." in again[3].text
    ru = again[3].document
    assert ru is not None
    ru_text = ru.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(ru_text)))) == 4
    assert "Красноярский край" in ru_text
    assert "Формализация" in ru_text
    for secret in SECRETS:
        assert secret not in ru_text


async def test_empty_territory_gets_charts_that_say_so(emulator: Emulator, launch: Launch) -> None:
    await launch(admin_ids=str(COORDINATOR))
    coordinator = emulator.user(COORDINATOR, language_code="en")
    messages = await stats_messages(coordinator, "The area in numbers")
    assert [m.kind for m in messages] == ["photo", "photo", "photo", "document", "text"]
    for message in messages[:3]:
        image_of(message)
    csv_rows = list(csv.reader(io.StringIO(messages[3].document.decode("utf-8-sig"))))  # type: ignore[union-attr]
    assert len(csv_rows) == 1  # the header only
    assert "0 people gave consent (0 started the bot)" in messages[-1].text


async def test_without_a_font_stats_come_as_text(
    emulator: Emulator,
    launch: Launch,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr("bot.app.find_font", lambda *args, **kwargs: None)
    running = await launch(admin_ids=str(COORDINATOR))
    await onboard_people(running.app, emulator)
    coordinator = emulator.user(COORDINATOR, language_code="en")
    with caplog.at_level(logging.WARNING):
        messages = await stats_messages(coordinator, "The area in numbers")
    assert [m.kind for m in messages] == ["text", "document", "text"]
    tables = messages[0].text
    assert "no font found" in tables
    assert "Participants by stage" in tables
    assert "4. Formalisation — 1" in tables
    assert any("no font" in r.getMessage() for r in caplog.records)


async def test_others_are_refused_and_get_nothing(emulator: Emulator, launch: Launch) -> None:
    running = await launch(admin_ids=str(COORDINATOR))
    await onboard_people(running.app, emulator)
    activist = emulator.user(PEOPLE[0][0])
    refused = await say(activist, "/stats")
    assert "только для координаторов" in refused.text
    await activist.no_message(within=0.5)
    activist.skip_pending()
    await activist.press_data("cm:stats")
    reply = await activist.next_message(timeout=5)
    assert "только для координаторов" in reply.text
    await activist.no_message(within=0.5)
    await activist.press_data("sa:q:333333")
    assert "только для координаторов" in (await activist.next_message(timeout=5)).text
    await activist.no_message(within=0.5)
    assert all(m.kind == "text" for m in activist.bot_messages)
    async with running.app.engine.connect() as conn:
        actions = (await conn.execute(select(audit_log.c.action, audit_log.c.times))).all()
        assessed = (await conn.execute(select(self_assessments))).all()
    assert [tuple(a) for a in actions] == [("denied", 3)]  # counted in one row
    assert assessed == []


async def rate(user: EmulatedUser, scores: str) -> ChatMessage:
    """Six taps on the self-assessment screen; returns the picture that follows."""
    screen = await tap(user, "▶ Rate now")
    assert "1/6" in screen.text
    for n, score in enumerate(scores, start=1):
        user.skip_pending()
        await user.press(score, message=screen)
        screen = user.current(screen)
        if n < len(scores):
            assert f"{n + 1}/6" in screen.text
    assert "saved" in screen.text
    assert screen.buttons == []
    picture = user.last_bot_message
    assert picture is not None
    assert picture.kind == "photo"
    return picture


async def saved_rows(app: App) -> list[tuple[dict[str, int], datetime]]:
    async with app.engine.connect() as conn:
        rows = await conn.execute(
            select(self_assessments.c.scores, self_assessments.c.created_at).order_by(
                self_assessments.c.id
            )
        )
        return [(json.loads(scores), at) for scores, at in rows.all()]


async def test_self_assessment_is_saved_and_compared(
    emulator: Emulator, launch: Launch, database_url: str
) -> None:
    clock = ManualClock(START)
    running = await launch(clock=clock, admin_ids=str(COORDINATOR), database_url=database_url)
    app = running.app
    coordinator = emulator.user(COORDINATOR, "Координатор", language_code="en")
    menu = await say(coordinator, "/coordinator")
    coordinator.skip_pending()
    await coordinator.press("🧭 Self-assessment", message=menu)
    intro = coordinator.current(menu)
    assert "Political will" in intro.text
    assert "📈 My latest result" not in intro.button_texts()

    # « Back steps back one condition, and from the first one to the introduction.
    screen = await tap(coordinator, "▶ Rate now")
    screen = await tap(coordinator, "4", screen)
    assert "2/6" in screen.text
    assert "✓ Political will — 4" in screen.text
    screen = await tap(coordinator, "« Back", screen)
    assert "1/6" in screen.text
    assert "✓" not in screen.text
    screen = await tap(coordinator, "« Back", screen)
    assert "Self-assessment of the area" in screen.text
    assert await saved_rows(app) == []

    first = await rate(coordinator, "234123")
    assert image_of(first).size == (1080, 1080)
    assert "Self-assessment saved · 26.11.2026" in first.text
    assert "Political will: 2" in first.text
    assert "next assessment will be drawn next to this one" in first.text
    codes = [c.code for c in app.catalog.support_conditions]
    assert await saved_rows(app) == [(dict(zip(codes, [2, 3, 4, 1, 2, 3], strict=True)), START)]

    # A double tap on the last button does not save twice.
    await coordinator.press_data("sa:q:234123")
    assert len(await saved_rows(app)) == 1

    clock.advance(timedelta(days=31))
    intro = await say(coordinator, "/assess")
    assert "Your last assessment: 26.11.2026" in intro.text
    second = await rate(coordinator, "345123")
    assert "Compared with your assessment of 26.11.2026" in second.text
    assert "Self-assessment saved · 27.12.2026" in second.text
    assert "Political will: 3 (▲ was 2)" in second.text
    assert "Public attitude: 3" in second.text
    assert "Public attitude: 3 (" not in second.text
    rows = await saved_rows(app)
    assert [at for _, at in rows] == [START, START + timedelta(days=31)]
    assert first.photo != second.photo
    assert image_of(second).size == (1080, 1080)

    intro = await say(coordinator, "/assess")
    coordinator.skip_pending()
    await coordinator.press("📈 My latest result", message=intro)
    shown = coordinator.last_bot_message
    assert shown is not None
    assert shown.kind == "photo"
    assert "Your latest self-assessment · 27.12.2026" in shown.text
    assert shown.photo == second.photo  # deterministic
    assert emulator.rejections() == []


async def test_stats_narrow_to_a_region_or_a_zone(emulator: Emulator, launch: Launch) -> None:
    running = await launch(admin_ids=str(COORDINATOR))
    app = running.app
    await onboard_people(app, emulator)
    # Someone at UTC+7 who gave only the time zone: counted in the zone, not in a region.
    zone_only = emulator.user(80_417_104, "Пётр", language_code="ru")
    await say(zone_only, "/start")
    await app.profiles.give_consent(80_417_104, "Пётр", None, None)
    await app.profiles.set_place(80_417_104, "Asia/Krasnoyarsk", None)
    coordinator = emulator.user(COORDINATOR, "Координатор", language_code="en")

    everyone = (await stats_messages(coordinator, "The area in numbers"))[-1]
    assert "4 people gave consent" in everyone.text
    assert "🌍 All regions" not in everyone.button_texts()
    zones = await tap(coordinator, "🔎 A region or time zone", everyone)
    assert "UTC+7 Novosibirsk" in zones.button_texts()
    regions = await tap(coordinator, "UTC+7 Novosibirsk", zones)
    assert "🗺 The whole zone UTC+7 Novosibirsk" in regions.button_texts()
    assert "Krasnoyarsk Krai" in regions.button_texts()

    coordinator.skip_pending()
    await coordinator.press("Krasnoyarsk Krai", message=regions)
    region = await coordinator.messages_until(lambda m: "The area in numbers" in m.text)
    assert [m.kind for m in region] == ["photo", "photo", "photo", "document", "text"]
    assert region[0].caption == "📊 Participants by stage · Krasnoyarsk Krai"
    summary = region[-1]
    assert "The area in numbers · Krasnoyarsk Krai" in summary.text
    assert "1 person gave consent" in summary.text
    assert "🌍 All regions" in summary.button_texts()
    document = region[3].document
    assert document is not None
    rows = list(csv.reader(io.StringIO(document.decode("utf-8-sig"))))
    assert len(rows) == 2  # the header and the one participant of the region
    assert "Krasnoyarsk Krai" in rows[1]

    picker = await tap(coordinator, "🔎 A region or time zone", summary)
    assert "🗺 The whole zone UTC+7 Novosibirsk" in picker.button_texts()  # opens at its zone
    coordinator.skip_pending()
    await coordinator.press("🗺 The whole zone UTC+7 Novosibirsk", message=picker)
    zone = (await coordinator.messages_until(lambda m: "The area in numbers" in m.text))[-1]
    assert "The area in numbers · UTC+7 Novosibirsk" in zone.text
    assert "2 people gave consent" in zone.text  # the region's one and the zone-only one

    coordinator.skip_pending()
    await coordinator.press("🌍 All regions", message=zone)
    back = (await coordinator.messages_until(lambda m: "The area in numbers" in m.text))[-1]
    assert "4 people gave consent" in back.text

    # A coordinator who serves Moscow sees Moscow first, and everyone a tap away.
    await app.dp["coordination"].appoint(COORDINATOR, 80_417_102)
    await app.dp["coordination"].serve(80_417_102, "mow", "Europe/Moscow")
    colleague = emulator.user(80_417_102)
    own = (await stats_messages(colleague, "в цифрах"))[-1]
    assert "в цифрах · Москва" in own.text
    assert "Согласие дал 1 человек" in own.text
    assert "🌍 Все регионы" in own.button_texts()
    colleague.skip_pending()
    await colleague.press("🌍 Все регионы", message=own)
    whole = (await colleague.messages_until(lambda m: "в цифрах" in m.text))[-1]
    assert "Согласие дали 4 человека" in whole.text
    assert "📍 Москва" in whole.button_texts()
    assert emulator.rejections() == []
