"""/settings: categories, digest, hour and quiet hours are changed with buttons and stored."""

from __future__ import annotations

from bot.emulator import Emulator
from bot.storage import settings as settings_repo
from tests.conftest import RunningBot
from tests.e2e.test_journey import say, tap


async def test_settings_are_changed_with_buttons(
    emulator: Emulator, running_bot: RunningBot
) -> None:
    app = running_bot.app
    user = emulator.user(4001, language_code="ru")
    await say(user, "/start")
    await app.profiles.give_consent(4001, "Ира", None, None)

    screen = await say(user, "/settings")
    assert "Дайджест: раз в неделю, понедельник в 10:00" in screen.text
    assert "Тихие часы: 22:00–9:00" in screen.text
    assert "✅ Гранты" in screen.text
    # A toggle names the state it sets.
    screen = await tap(user, "🔕 Выключить: Гранты")
    assert ("▫️ Гранты" in screen.text, "🔔 Включить: Гранты" in screen.button_texts()) == (
        True,
        True,
    )
    # The day and the hour are chosen from a small grid: two taps, not «later» × 12.
    screen = await tap(user, "📅 День: понедельник")
    assert "В какой день присылать еженедельный дайджест?" in screen.text
    assert "● понедельник" in screen.button_texts()
    screen = await tap(user, "вторник")
    assert "вторник в 10:00" in screen.text
    screen = await tap(user, "🕐 Час: 10:00")
    assert [b.text for b in screen.buttons[0]] == ["7:00 🌙", "8:00 🌙", "9:00", "● 10:00"]
    assert "22:00 🌙" in screen.button_texts()  # inside quiet hours (22–9)
    screen = await tap(user, "22:00 🌙")
    assert "вторник в 22:00" in screen.text
    # The promise kept: a digest hour inside quiet hours says when it will really come.
    assert (
        "🌙 22:00 — внутри ваших тихих часов: дайджест на деле придёт в 9:00, "
        "когда они закончатся."
    ) in screen.text
    screen = await tap(user, "🌙 Тихие часы: 22–9")
    screen = await tap(user, "21–8")
    assert "Тихие часы: 21:00–8:00" in screen.text
    screen = await tap(user, "🔕 Без дайджеста")
    assert "Дайджест: выключен" in screen.text
    assert not [b for b in screen.button_texts() if b.startswith("🕐 Час")]
    assert "● 🔕 Без дайджеста" in screen.button_texts()

    async with app.engine.connect() as conn:
        stored = await settings_repo.get(conn, 4001)
    assert stored.grants is False
    assert stored.digest == "off"
    assert (stored.digest_weekday, stored.digest_hour) == (1, 22)
    assert (stored.quiet_start, stored.quiet_end) == (21, 8)
    assert emulator.rejections() == []


async def test_settings_need_consent(emulator: Emulator, running_bot: RunningBot) -> None:
    user = emulator.user(4002, language_code="ru")
    screen = await say(user, "/settings")
    assert "Согласие" in screen.text
    await user.press_data("se:grants")
    async with running_bot.app.engine.connect() as conn:
        assert await settings_repo.get(conn, 4002) == settings_repo.PushSettings()
