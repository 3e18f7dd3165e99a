"""Coordinators' broadcasts end to end through the emulator: compose with formatting and a
photo, choose recipients with a live count, preview, send, live progress, the report; cancel a
big broadcast midway; a scheduled broadcast survives a restart; nobody else may broadcast."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import func, insert, select, update

from bot.app import App
from bot.emulator import ChatMessage, EmulatedUser, Emulator
from bot.emulator.methods import image_size
from bot.infra.clock import ManualClock
from bot.storage import settings as settings_repo
from bot.storage.tables import (
    audit_log,
    broadcasts,
    opportunities,
    outbox,
    signups,
    user_roles,
    user_settings,
    users,
)
from bot.ui.broadcast import BroadcastCb
from bot.ui.keyboards import Unsub
from tests.conftest import Launch, RunningBot
from tests.e2e.test_journey import say, tap

ADMIN = 8001
COORDINATOR = 8002
ANSWERS = {"problem": "tackling"}  # the stored answers do not matter here


# ------------------------------------------------------------------ helpers


async def member(
    app: App,
    emulator: Emulator,
    uid: int,
    tz: str,
    region: str | None,
    stages: tuple[int, ...] = (4,),
    role: str = "activist",
    announcements: bool | None = True,
) -> EmulatedUser:
    """A user who started the bot, consented, said yes to announcements (unless told
    otherwise: None is "never answered"), and took the quiz (latest stage last)."""
    user = emulator.user(uid, language_code="en")
    await user.send("/start")
    await user.next_message(timeout=5)
    await app.profiles.give_consent(uid, f"User {uid}", None, None, locale="en")
    await app.profiles.set_role(uid, role)
    await app.profiles.set_place(uid, tz, region)
    if announcements is not None:
        await app.profiles.save_push_settings(
            uid, settings_repo.PushSettings(announcements=announcements)
        )
    for stage in stages:
        await app.profiles.add_quiz_result(uid, stage, ANSWERS)
    return user


async def appoint(app: App, uid: int) -> None:
    """A coordinator who reads English (their stored language: progress messages edited after
    a restart, outside any update, are written in it)."""
    await app.users.set_locale(uid, "en")
    async with app.engine.begin() as conn:
        await conn.execute(
            insert(user_roles).values(user_id=uid, role="coordinator", granted_at=app.clock.now())
        )


def photo_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


async def send_formatted_photo(
    emulator: Emulator, user: EmulatedUser, data: bytes, caption: str, entities: list[Any]
) -> ChatMessage:
    """A photo with a formatted caption, as a Telegram client sends it. The emulator's
    `send_photo` takes no caption entities, so this posts the same message with them."""
    width, height = image_size(data)
    stored = emulator.state.store_file(
        "photo", data, width=width, height=height, mime_type="image/jpeg"
    )
    text, ents = user._format(caption, entities)
    return user._post("photo", text=text, entities=ents, file=stored)


async def until(
    user: EmulatedUser,
    message: ChatMessage,
    done: Callable[[str], bool],
    timeout: float = 30,  # noqa: ASYNC109
) -> ChatMessage:
    """Follow the edits of `message` until its text satisfies `done`; returns that version
    and asserts that every version on the way was an edit of the same message."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    current = user.current(message)
    while not done(current.text):
        current = await user.wait_edit(current, timeout=max(0.1, deadline - loop.time()))
    return current


def shape(entities: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted((e["type"], e["offset"], e["length"], e.get("url")) for e in entities)


async def table_rows(app: App, table: Any) -> list[dict[str, Any]]:
    async with app.engine.connect() as conn:
        return [dict(r) for r in (await conn.execute(select(table))).mappings()]


async def audit_actions(app: App) -> list[str]:
    async with app.engine.connect() as conn:
        return list((await conn.execute(select(audit_log.c.action))).scalars())


def bot_count(user: EmulatedUser) -> int:
    return len(user.bot_messages)


def refused_after_restart(emulator: Emulator) -> list[Any]:
    """What Telegram would refuse, but for the one 409 a restart causes: the stopped
    instance's long poll, still open on the server, is ended by the new instance's first
    getUpdates (Telegram does the same). Nothing the bot sends is left out."""
    return [
        call
        for call in emulator.rejections()
        if not (call.method == "getUpdates" and call.error_code == 409)
    ]


# ------------------------------------------------------------------ the main journey


async def test_formatted_photo_to_stage_4_in_novosibirsk(
    emulator: Emulator, launch: Launch
) -> None:
    running = await launch(admin_ids=str(ADMIN))
    app = running.app
    admin = emulator.user(ADMIN, first_name="Admin", language_code="en")
    coordinator = emulator.user(COORDINATOR, first_name="Olga", language_code="en")
    await say(coordinator, "/start")
    # The admin appoints the coordinator.
    await say(admin, "/coordinators")
    await tap(admin, "➕ Add a coordinator")
    admin.skip_pending()
    await admin.send(str(COORDINATOR))
    await admin.messages_until(lambda m: "is now a coordinator" in m.text)
    # Told in the deployment's language: no language is stored before consent.
    await coordinator.messages_until(lambda m: "координатор «Опоры»" in m.text)

    nsk = "Asia/Novosibirsk"
    targets = [
        await member(app, emulator, 100, nsk, "nvs"),
        await member(app, emulator, 101, nsk, "nvs", stages=(2, 4)),  # the latest counts
    ]
    others = [
        await member(app, emulator, 102, "Asia/Tomsk", "tom"),  # UTC+7, another region
        await member(app, emulator, 103, "Europe/Moscow", "mow"),  # stage 4 elsewhere
        await member(app, emulator, 104, nsk, "nvs", stages=(2,)),  # another stage
        await member(app, emulator, 105, nsk, "nvs", stages=(5,)),
        await member(app, emulator, 106, nsk, "nvs", stages=(4, 3)),  # was 4, now 3
        await member(app, emulator, 107, nsk, "nvs"),  # turned announcements off
        await member(app, emulator, 108, nsk, "nvs"),  # blocked the bot
        # never answered the question about announcements: a mailing needs a yes
        await member(app, emulator, 109, nsk, "nvs", announcements=None),
    ]
    async with app.engine.begin() as conn:
        await settings_repo.save(
            conn, 107, settings_repo.PushSettings(announcements=False), app.clock.now()
        )
        await conn.execute(update(users).where(users.c.id == 108).values(blocked=True))
    emulator.block(108, notify=False)
    before = {u.id: bot_count(u) for u in [*targets, *others]}

    # Compose: a photo with a formatted caption (UTF-16 offsets after an emoji).
    composing = await say(coordinator, "/broadcast")
    assert "New broadcast" in composing.text
    caption = "🚀 Grant session on Friday! Everyone is welcome, details on the site"
    entities = [
        {"type": "bold", "offset": 2, "length": 13},
        {"type": "italic", "offset": 27, "length": 19},
        {"type": "text_link", "offset": 60, "length": 4, "url": "https://example.org/grant"},
    ]
    coordinator.skip_pending()
    sent = await send_formatted_photo(emulator, coordinator, photo_bytes(), caption, entities)
    assert len(sent.entities) == 3
    screen = await coordinator.next_message()
    assert "who gets it" in screen.text
    assert "A photo with a caption" in screen.text
    assert "👥 7 recipients now" in screen.text  # 100–106: consented, not blocked, not off

    # Stage 4: the count follows every tap.
    stages = await tap(coordinator, "🧭 Stage")
    stages = await tap(coordinator, "▫️ 4 · Formalisation", stages)
    assert "👥 4 recipients now" in stages.text  # 100, 101, 102, 103
    assert "✅ 4 · Formalisation" in stages.button_texts()
    segment = await tap(coordinator, "« Back", stages)
    assert "🧭 Stage · 1" in segment.button_texts()

    # Place: the zone, then a region of it.
    zones = await tap(coordinator, "🌍 Place", segment)
    assert len([b for b in zones.button_texts() if b.startswith("UTC+")]) == 11
    zone = await tap(coordinator, "UTC+7 Novosibirsk", zones)
    zone = await tap(coordinator, "▫️ The whole zone UTC+7 Novosibirsk", zone)
    assert "👥 3 recipients now" in zone.text  # 100, 101, 102
    zone = await tap(coordinator, "▫️ Novosibirsk Oblast", zone)  # narrows to one region
    assert "👥 2 recipients now" in zone.text
    assert "▫️ The whole zone UTC+7 Novosibirsk" in zone.button_texts()
    segment = await tap(coordinator, "✔ Done", zone)
    assert "👥 2 recipients now" in segment.text
    assert "stage: 4 · Formalisation" in segment.text
    assert "region or time zone: Novosibirsk Oblast" in segment.text

    # The preview is the real message; the controls come under it.
    await coordinator.press("👁 Preview", message=segment)
    preview = await coordinator.next_message()
    assert preview.kind == "photo"
    assert preview.text == sent.text
    assert shape(preview.entities) == shape(sent.entities)
    assert preview.file_id == sent.file_id
    unsubscribe = preview.buttons[0][0]
    assert unsubscribe.callback_data == Unsub(what="announcements").pack()
    control = await coordinator.next_message()
    assert "this is how recipients will see it" in control.text
    assert "🚀 Send now to 2 recipients" in control.button_texts()
    assert [r["kind"] for r in await table_rows(app, outbox)] == ["role_notice"]  # no broadcast

    # Send: the control message becomes the live progress, then the report.
    await coordinator.press("🚀 Send now to 2 recipients", message=control)
    first = await coordinator.wait_edit(control, timeout=10)
    assert "Broadcast #1" in first.text
    report = await until(coordinator, control, lambda t: "has gone out" in t)
    assert "Delivered: 2 of 2 messages" in report.text
    assert "📣 New broadcast" in report.button_texts()

    for user in targets:
        received = user.bot_messages[before[user.id] :]
        assert len(received) == 1, user.transcript()
        message = received[0]
        assert message.kind == "photo"
        assert message.text == sent.text
        assert shape(message.entities) == shape(sent.entities)
        assert message.buttons[0][0].callback_data == Unsub(what="announcements").pack()
    for user in others:
        assert bot_count(user) == before[user.id], user.transcript()

    [row] = await table_rows(app, broadcasts)
    assert (row["status"], row["recipients"]) == ("done", 2)
    assert json.loads(row["segment"]) == {"regions": ["nvs"], "stages": [4]}
    sent_rows = [r for r in await table_rows(app, outbox) if r["kind"] == "broadcast"]
    keys = sorted(r["dedup_key"] for r in sent_rows)
    assert keys == ["broadcast:1:100", "broadcast:1:101"]
    assert {r["status"] for r in await table_rows(app, outbox)} == {"sent"}
    actions = await audit_actions(app)
    assert [a for a in actions if a.startswith("broadcast.")] == [
        "broadcast.draft",
        "broadcast.send",
        "broadcast.finish",
    ]
    # The report stays; the next screen comes as a new message.
    await coordinator.press("📣 New broadcast", message=report)
    again = await coordinator.next_message()
    assert "New broadcast" in again.text
    assert coordinator.current(report).text == report.text
    # The unsubscribe under the broadcast works (it is handled by /settings).
    answer = await targets[0].press(unsubscribe.text, message=targets[0].bot_messages[before[100]])
    assert answer.text
    async with app.engine.connect() as conn:
        assert not (await settings_repo.get(conn, 100)).announcements
    assert emulator.rejections() == []


async def test_participants_of_an_opportunity(emulator: Emulator, launch: Launch) -> None:
    running = await launch(admin_ids=str(ADMIN))
    app = running.app
    coordinator = emulator.user(COORDINATOR, language_code="en")
    await say(coordinator, "/start")
    await appoint(app, COORDINATOR)
    going = await member(app, emulator, 500, "Europe/Moscow", "mow", stages=(), role="volunteer")
    waiting = await member(app, emulator, 501, "Europe/Moscow", "mow", stages=(), role="volunteer")
    elsewhere = await member(
        app, emulator, 502, "Europe/Moscow", "mow", stages=(), role="volunteer"
    )
    now = app.clock.now()
    async with app.engine.begin() as conn:
        park = (
            await conn.execute(
                insert(opportunities)
                .values(
                    title="Clean the park",
                    description="Bring gloves",
                    topic="culture",
                    timezone="Europe/Moscow",
                    starts_at=now + timedelta(days=2),
                    ends_at=now + timedelta(days=2, hours=3),
                    created_by=COORDINATOR,
                    created_at=now,
                    updated_at=now,
                )
                .returning(opportunities.c.id)
            )
        ).scalar_one()
        await conn.execute(
            insert(signups),
            [
                {
                    "opportunity_id": park,
                    "user_id": uid,
                    "status": status,
                    "position": n,
                    "created_at": now,
                    "status_at": now,
                }
                for n, (uid, status) in enumerate([(500, "confirmed"), (501, "waiting")])
            ],
        )
    before = {u.id: bot_count(u) for u in (going, waiting, elsewhere)}

    await say(coordinator, "/broadcast")
    coordinator.skip_pending()
    await coordinator.send("The park cleaning starts at the main gate")
    segment = await coordinator.next_message()
    assert "👥 3 recipients now" in segment.text
    choices = await tap(coordinator, "🙋 Participants of an opportunity", segment)
    day = f"{(now + timedelta(days=2)).astimezone(ZoneInfo('Europe/Moscow')):%d.%m}"
    choices = await tap(coordinator, f"▫️ {day} Clean the park", choices)
    assert "👥 1 recipient now" in choices.text
    segment = await tap(coordinator, "« Back", choices)
    assert f"participants of opportunities: {day} Clean the park" in segment.text
    await coordinator.press("👁 Preview", message=segment)
    await coordinator.next_message()
    control = await coordinator.next_message()
    await coordinator.press("🚀 Send now to 1 recipient", message=control)
    await until(coordinator, control, lambda t: "has gone out" in t)
    assert bot_count(going) == before[500] + 1
    assert bot_count(waiting) == before[501]
    assert bot_count(elsewhere) == before[502]
    assert emulator.rejections() == []


# ------------------------------------------------------------------ cancelling a big one


async def many(app: App, emulator: Emulator, first: int, n: int) -> list[EmulatedUser]:
    """`n` consented users who started the bot long ago (rows inserted directly)."""
    now = app.clock.now()
    async with app.engine.begin() as conn:
        await conn.execute(
            insert(users),
            [
                {
                    "id": uid,
                    "locale": "en",
                    "timezone": "Europe/Moscow",
                    "region": "mow",
                    "consent_version": "2026-11",
                    "consent_at": now,
                    "blocked": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for uid in range(first, first + n)
            ],
        )
        await conn.execute(
            insert(user_settings),
            [
                {"user_id": uid, "announcements": True, "updated_at": now}
                for uid in range(first, first + n)
            ],
        )
    people = [emulator.user(uid, language_code="en") for uid in range(first, first + n)]
    for person in people:
        person.chat.started = True  # they pressed Start in Telegram before
    return people


async def test_cancel_midway_stops_the_rest(emulator: Emulator, launch: Launch) -> None:
    running = await launch(admin_ids=str(ADMIN), send_rate=20, send_concurrency=4)
    app = running.app
    coordinator = emulator.user(COORDINATOR, language_code="en")
    await say(coordinator, "/start")
    await appoint(app, COORDINATOR)
    total = 200
    people = await many(app, emulator, 10_000, total)

    await say(coordinator, "/broadcast")
    coordinator.skip_pending()
    await coordinator.send(
        "Subbotnik on Saturday at 10:00",
        entities=[{"type": "bold", "offset": 0, "length": 9}],
    )
    segment = await coordinator.next_message()
    assert f"👥 {total} recipients now" in segment.text
    await coordinator.press("👁 Preview", message=segment)
    preview = await coordinator.next_message()
    assert preview.entities == [{"type": "bold", "offset": 0, "length": 9}]
    control = await coordinator.next_message()
    await coordinator.press(f"🚀 Send now to {total} recipients", message=control)

    def delivered() -> int:
        return sum(1 for p in people if p.bot_messages)

    # The progress message moves while the messages go out.
    progress = await until(
        coordinator, control, lambda t: "is going out" in t and "Done: 0 of" not in t
    )
    assert f"of {total}" in progress.text
    assert "⛔ Cancel" in progress.button_texts()
    assert 0 < delivered() < total
    answer = await coordinator.press("⛔ Cancel", message=progress)
    assert "Cancelled" in (answer.text or "")
    report = await until(coordinator, control, lambda t: "was cancelled" in t)
    assert "not sent because of the cancel" in report.text

    arrived = delivered()
    assert 0 < arrived < total
    await asyncio.sleep(1.5)  # absence can only be watched over a window
    assert delivered() == arrived
    assert all(len(p.bot_messages) <= 1 for p in people)
    statuses = {r["status"] for r in await table_rows(app, outbox)}
    assert statuses == {"sent", "cancelled"}
    async with app.engine.connect() as conn:
        sent = (
            await conn.execute(
                select(func.count()).select_from(outbox).where(outbox.c.status == "sent")
            )
        ).scalar_one()
    assert sent == arrived
    assert f"Delivered: {arrived} of {total} messages" in report.text
    [row] = await table_rows(app, broadcasts)
    assert row["status"] == "cancelled"
    assert row["finished_at"] is not None
    assert "broadcast.cancel" in await audit_actions(app)
    assert emulator.rejections() == []


# ------------------------------------------------------------------ scheduled, across a restart


async def test_scheduled_broadcast_survives_a_restart(emulator: Emulator, launch: Launch) -> None:
    thursday = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    running = await launch(clock=ManualClock(thursday), tick_seconds=3600, admin_ids=str(ADMIN))
    app = running.app
    coordinator = emulator.user(COORDINATOR, language_code="en")
    await say(coordinator, "/start")
    await appoint(app, COORDINATOR)
    reader = await member(app, emulator, 300, "Asia/Vladivostok", "pri")
    seen = bot_count(reader)

    await say(coordinator, "/broadcast")
    coordinator.skip_pending()
    await coordinator.send("Round table on Friday")
    segment = await coordinator.next_message()
    await coordinator.press("👁 Preview", message=segment)
    await coordinator.next_message()  # the preview
    control = await coordinator.next_message()
    when = await tap(coordinator, "🕐 Schedule…", control)
    assert "Your time: UTC+3 (MSK)" in when.text
    assert "Tomorrow 10:00" in when.button_texts()
    assert "In 1 hour (16:00)" in when.button_texts()  # 13:00 UTC is 16:00 in Moscow
    assert "Monday 30.11 10:00" in when.button_texts()
    hint = await say(coordinator, "yesterday")
    assert "DD.MM HH:MM" in hint.text
    past = await say(coordinator, "25.11 10:00")
    assert "already passed" in past.text
    scheduled = await say(coordinator, "27.11 10:00")
    assert "goes out on 27.11.2026 10:00 (UTC+3)" in scheduled.text
    assert "✖ Cancel the schedule" in scheduled.button_texts()

    listed = await say(coordinator, "/broadcast")  # scheduled ones are listed there
    assert "🕐 #1 at 27.11 10:00" in listed.button_texts()
    shown = await tap(coordinator, "🕐 #1 at 27.11 10:00", listed)
    assert "goes out on 27.11.2026 10:00" in shown.text

    await app.tick()  # not due yet
    [row] = await table_rows(app, broadcasts)
    assert row["status"] == "scheduled"
    assert row["scheduled_at"] == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    assert await table_rows(app, outbox) == []

    # Restart the next morning, after the time has come.
    await running.stop()
    coordinator.skip_pending()
    running = await launch(
        clock=ManualClock(datetime(2026, 11, 27, 7, 1, tzinfo=UTC)),
        tick_seconds=3600,
        admin_ids=str(ADMIN),
    )
    app = running.app
    await app.tick()
    [message] = await reader.messages_until(lambda m: "Round table" in m.text, timeout=10)
    assert message.text == "Round table on Friday"
    progress = await coordinator.next_message(timeout=10)  # a new message at the bottom
    report = await until(coordinator, progress, lambda t: "has gone out" in t)
    assert "Delivered: 1 of 1 message" in report.text.splitlines()
    await app.tick()  # repeated ticks change nothing
    assert bot_count(reader) == seen + 1
    [row] = await table_rows(app, broadcasts)
    assert (row["status"], row["recipients"]) == ("done", 1)
    actions = [a for a in await audit_actions(app) if a.startswith("broadcast.")]
    assert actions == [
        "broadcast.draft",
        "broadcast.schedule",
        "broadcast.start",
        "broadcast.finish",
    ]
    assert refused_after_restart(emulator) == []


async def test_a_sending_broadcast_resumes_after_a_restart(
    emulator: Emulator, launch: Launch
) -> None:
    running = await launch(admin_ids=str(ADMIN), send_rate=20, send_concurrency=4)
    app = running.app
    coordinator = emulator.user(COORDINATOR, language_code="en")
    await say(coordinator, "/start")
    await appoint(app, COORDINATOR)
    people = await many(app, emulator, 20_000, 80)
    await say(coordinator, "/broadcast")
    coordinator.skip_pending()
    await coordinator.send("Volunteers needed on Sunday")
    segment = await coordinator.next_message()
    await coordinator.press("👁 Preview", message=segment)
    await coordinator.next_message()
    control = await coordinator.next_message()
    await coordinator.press("🚀 Send now to 80 recipients", message=control)
    await until(coordinator, control, lambda t: "Done: 0 of" not in t and "going out" in t)
    await running.stop()  # midway

    running = await launch(admin_ids=str(ADMIN), send_rate=50)
    report = await until(coordinator, control, lambda t: "has gone out" in t)
    assert "Delivered: 80 of 80 messages" in report.text
    assert all(len(p.bot_messages) == 1 for p in people)
    [row] = await table_rows(running.app, broadcasts)
    assert row["status"] == "done"
    assert refused_after_restart(emulator) == []


# ------------------------------------------------------------------ nobody else


async def drafted(running: RunningBot, emulator: Emulator) -> int:
    """A draft of the coordinator's, ready to send; returns its id."""
    await appoint(running.app, COORDINATOR)
    coordinator = emulator.user(COORDINATOR, language_code="en")
    await say(coordinator, "/broadcast")
    await say(coordinator, "Hello everyone")
    [row] = await table_rows(running.app, broadcasts)
    return int(row["id"])


@pytest.mark.parametrize(
    "attempt",
    ["/broadcast", "cm:broadcast", "new", "go", "at", "stop", "photo"],
)
async def test_a_volunteer_cannot_broadcast(
    emulator: Emulator, launch: Launch, attempt: str
) -> None:
    running = await launch(admin_ids=str(ADMIN))
    app = running.app
    volunteer = await member(
        app, emulator, 400, "Europe/Moscow", "mow", stages=(), role="volunteer"
    )
    await say(emulator.user(COORDINATOR, language_code="en"), "/start")
    draft = await drafted(running, emulator) if attempt in ("go", "at", "stop") else 0
    volunteer.skip_pending()
    if attempt.startswith("/"):
        await volunteer.send(attempt)
    elif attempt == "photo":  # as if in the compose step
        await volunteer.send_photo(photo_bytes(), caption="Spam to everyone")
    else:
        data = {
            "cm:broadcast": "cm:broadcast",
            "new": BroadcastCb(action="new").pack(),
            "go": BroadcastCb(action="go", id=draft).pack(),
            "at": BroadcastCb(action="at", id=draft, value="1h").pack(),
            "stop": BroadcastCb(action="stop", id=draft).pack(),
        }[attempt]
        await volunteer.press_data(data)
    reply = await volunteer.next_message(timeout=5)
    if attempt == "photo":
        assert "only for coordinators" not in reply.text  # the fallback: not a broadcast
    else:
        assert "only for coordinators" in reply.text
    assert await table_rows(app, outbox) == []
    rows = await table_rows(app, broadcasts)
    if draft:
        assert [(r["id"], r["status"]) for r in rows] == [(draft, "draft")]
    else:
        assert rows == []
    assert emulator.rejections() == []


async def test_another_coordinator_cannot_touch_a_draft(
    emulator: Emulator, launch: Launch
) -> None:
    running = await launch(admin_ids=str(ADMIN))
    await say(emulator.user(COORDINATOR, language_code="en"), "/start")
    draft = await drafted(running, emulator)
    other = emulator.user(8003, language_code="en")
    await say(other, "/start")
    await appoint(running.app, 8003)
    other.skip_pending()
    await other.press_data(BroadcastCb(action="go", id=draft).pack())
    reply = await other.next_message(timeout=5)
    assert "out of date" in reply.text
    assert await table_rows(running.app, outbox) == []
    [row] = await table_rows(running.app, broadcasts)
    assert row["status"] == "draft"
    assert emulator.rejections() == []


async def test_over_long_captions_and_other_things_are_refused(
    emulator: Emulator, launch: Launch
) -> None:
    running = await launch(admin_ids=str(ADMIN))
    coordinator = emulator.user(COORDINATOR, language_code="en")
    await say(coordinator, "/start")
    await appoint(running.app, COORDINATOR)
    await say(coordinator, "/broadcast")
    long = await send_formatted_photo(emulator, coordinator, photo_bytes(), "x" * 1100, [])
    assert long.kind == "photo"
    refused = await coordinator.next_message()
    assert "The caption is 1100 characters long" in refused.text
    coordinator.skip_pending()
    await coordinator.send_sticker()
    hint = await coordinator.next_message()
    assert "That cannot be a broadcast" in hint.text
    screen = await say(coordinator, "Still composing: this one is fine")  # the step goes on
    assert "who gets it" in screen.text
    # An older screen of a broadcast that moved on says so and changes nothing.
    discarded = await tap(coordinator, "🗑 Discard", screen)
    assert "is cancelled; nobody got it" in discarded.text
    coordinator.skip_pending()
    await coordinator.press_data(
        BroadcastCb(action="kind", id=1, value="stages").pack(), message=discarded
    )
    stale = await coordinator.next_message()
    assert "out of date" in stale.text
    assert await table_rows(running.app, broadcasts) == []
    assert [a for a in await audit_actions(running.app) if a.startswith("broadcast.")] == [
        "broadcast.draft",
        "broadcast.discard",
    ]
    assert emulator.rejections() == []


async def test_choosing_recipients_pages_toggles_and_clears(
    emulator: Emulator, launch: Launch
) -> None:
    running = await launch(admin_ids=str(ADMIN))
    app = running.app
    admin = emulator.user(ADMIN, language_code="en")  # an admin may broadcast too
    await say(admin, "/start")
    await member(app, emulator, 600, "Europe/Moscow", "iva", stages=(3,))  # Ivanovo
    await member(app, emulator, 601, "Europe/Moscow", "mow", stages=(3,), role="volunteer")
    await say(admin, "/broadcast")
    screen = await say(admin, "Hello, Ivanovo")
    assert "👥 2 recipients now" in screen.text

    roles = await tap(admin, "👥 Role", screen)
    roles = await tap(admin, "▫️ Volunteers", roles)
    assert "👥 1 recipient now" in roles.text
    roles = await tap(admin, "▫️ Activists", roles)  # OR within a kind
    assert "👥 2 recipients now" in roles.text
    segment = await tap(admin, "« Back", roles)
    assert "👥 Role · 2" in segment.button_texts()

    zones = await tap(admin, "🌍 Place", segment)
    moscow = await tap(admin, "UTC+3 Moscow", zones)
    assert "page 1 of 6" in moscow.text
    page2 = await tap(admin, "Next ▶", moscow)
    assert "page 2 of 6" in page2.text
    page2 = await tap(admin, "▫️ Ivanovo Oblast", page2)
    assert "👥 1 recipient now" in page2.text
    assert "✅ Ivanovo Oblast" in page2.button_texts()
    page1 = await tap(admin, "◀ Previous", page2)
    assert "page 1 of 6" in page1.text
    zones = await tap(admin, "« Zones", page1)
    assert "☑️ UTC+3 Moscow" in zones.button_texts()  # some of its regions
    zones = await tap(admin, "🧹 Clear", zones)  # clears the place, back to the segment
    assert "👥 2 recipients now" in zones.text
    everyone = await tap(admin, "🧹 Everyone (clear filters)", zones)
    assert "everyone who receives announcements" in everyone.text
    assert "🧹 Everyone (clear filters)" not in everyone.button_texts()
    [row] = await table_rows(app, broadcasts)
    assert json.loads(row["segment"]) == {}
    assert emulator.rejections() == []
