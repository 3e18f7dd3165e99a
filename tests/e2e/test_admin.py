"""Roles on the server: admins appoint coordinators; anyone else who sends a coordinator's
command or replays its button data is refused politely, changes nothing, and is logged."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.emulator import Emulator
from bot.storage.tables import audit_log, user_roles
from tests.conftest import Launch
from tests.e2e.test_journey import say, tap

ADMIN = 7001


async def test_admin_appoints_and_removes_a_coordinator(
    emulator: Emulator, launch: Launch
) -> None:
    running = await launch(admin_ids=str(ADMIN))
    admin = emulator.user(ADMIN, first_name="Админ", language_code="ru")
    helper = emulator.user(7002, first_name="Мария", language_code="ru")
    menu = await say(admin, "/menu")
    assert "🛠 Координатору" in menu.button_texts()
    await say(helper, "/start")

    screen = await say(admin, "/coordinators")
    assert "Координаторов пока нет" in screen.text
    await tap(admin, "➕ Добавить координатора")
    hint = await say(admin, "not an id")
    assert "числовой id" in hint.text
    unknown = await say(admin, "999999")
    assert "ещё не запускал бота" in unknown.text
    admin.skip_pending()
    await admin.send("7002")
    done = await admin.messages_until(lambda m: "Координаторы" in m.text)
    assert any("Мария (id 7002) теперь координатор" in m.text for m in done)
    assert "✖ Убрать: 7002" in done[-1].button_texts()
    await helper.messages_until(lambda m: "Теперь вы координатор" in m.text)

    tools = await say(helper, "/coordinator")
    assert "Координатору" in tools.text
    assert "📣 Рассылка" in tools.button_texts()

    await tap(admin, "✖ Убрать: 7002", done[-1])
    refused = await say(helper, "/coordinator")
    assert "только для координаторов" in refused.text
    async with running.app.engine.connect() as conn:
        actions = (await conn.execute(select(audit_log.c.action))).scalars().all()
    assert actions == ["coordinator.appoint", "coordinator.remove", "denied"]
    log = await say(admin, "/audit")
    assert "назначен координатор" in log.text  # in words, not the code
    assert "coordinator.appoint" not in log.text
    assert "Время — МСК." in log.text
    assert emulator.rejections() == []


@pytest.mark.parametrize(
    "attempt", ["/coordinators", "/audit", "/coordinator", "co:add:0", "co:del:7002", "cm:menu"]
)
async def test_others_are_refused_and_nothing_changes(
    emulator: Emulator, launch: Launch, attempt: str, caplog: pytest.LogCaptureFixture
) -> None:
    running = await launch(admin_ids=str(ADMIN))
    volunteer = emulator.user(7003, language_code="ru")
    await say(volunteer, "/start")
    async with running.app.engine.begin() as conn:
        await conn.execute(
            user_roles.insert().values(
                user_id=7003, role="coordinator", granted_at=running.app.clock.now()
            )
        ) if attempt == "co:del:7002" else None
    if attempt.startswith("/"):
        reply = await say(volunteer, attempt)
    else:
        volunteer.skip_pending()
        await volunteer.press_data(attempt)
        reply = await volunteer.next_message(timeout=5)
    if attempt == "co:del:7002":  # a coordinator, but not an admin
        assert "только для координаторов" in reply.text or "администратор" in reply.text
    else:
        assert "только для координаторов" in reply.text
    assert any(r.getMessage() == "role refused" for r in caplog.records)
    async with running.app.engine.connect() as conn:
        roles = (await conn.execute(select(user_roles.c.role))).scalars().all()
        denied = (await conn.execute(select(audit_log.c.action))).scalars().all()
    assert roles == (["coordinator"] if attempt == "co:del:7002" else [])
    assert denied == ["denied"]


async def test_forged_presses_are_counted_and_the_audit_pages_through_everything(
    emulator: Emulator, launch: Launch
) -> None:
    running = await launch(admin_ids=str(ADMIN))
    forger = emulator.user(7003, language_code="ru")
    await say(emulator.user(7002, language_code="ru"), "/start")  # to be appointed
    await say(forger, "/start")
    admin = emulator.user(ADMIN, language_code="ru")
    for _ in range(40):
        await forger.press_data("co:add:0")
    coordination = running.app.dp["coordination"]
    await coordination.appoint(ADMIN, 7002)
    async with running.app.engine.connect() as conn:
        rows = (await conn.execute(select(audit_log.c.action, audit_log.c.times))).all()
    assert [tuple(r) for r in rows] == [("denied", 40), ("coordinator.appoint", 1)]
    log = await say(admin, "/audit")
    assert "назначен координатор" in log.text
    assert "отказано: нет прав · admin · 40 раз" in log.text

    for n in range(45):  # older pages: the appointment and the refusals move past the first
        await coordination.audit(ADMIN, "stats.export", f"T{n}")
    first = await say(admin, "/audit")
    assert "страница 1 из 3" in first.text
    assert first.button_texts() == ["›"]
    assert "T44" in first.text
    assert "назначен координатор" not in first.text
    second = await tap(admin, "›", first)
    assert "страница 2 из 3" in second.text
    assert second.button_texts() == ["‹", "›"]
    last = await tap(admin, "›", second)
    assert "страница 3 из 3" in last.text
    assert last.button_texts() == ["‹"]
    assert "назначен координатор" in last.text
    pages = "\n".join([first.text, second.text, last.text])
    seen = re.findall(r"выгрузка статистики · (T\d+)", pages)
    assert seen == [f"T{n}" for n in reversed(range(45))]  # every row once, newest first
    assert (await tap(admin, "‹", last)).text == second.text
    assert emulator.rejections() == []
