"""Roles on the server: admins appoint coordinators; anyone else who sends a coordinator's
command or replays its button data is refused politely, changes nothing, and is logged."""

from __future__ import annotations

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
    assert any("7002 теперь координатор" in m.text for m in done)
    assert "✖ Убрать: 7002" in done[-1].button_texts()

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
    assert "coordinator.appoint" in log.text
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
