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
    assert "✅ Гранты" in screen.button_texts()
    screen = await tap(user, "✅ Гранты")
    assert "▫️ Гранты" in screen.button_texts()
    screen = await tap(user, "📅 День: следующий")
    assert "вторник в 10:00" in screen.text
    screen = await tap(user, "🕐 Час: позже")
    assert "вторник в 11:00" in screen.text
    screen = await tap(user, "🌙 Тихие часы: изменить")
    assert "Тихие часы: 21:00–8:00" in screen.text
    screen = await tap(user, "📬 Дайджест: изменить")  # weekly → off
    assert "Дайджест: выключен" in screen.text
    assert "🕐 Час: позже" not in screen.button_texts()

    async with app.engine.connect() as conn:
        stored = await settings_repo.get(conn, 4001)
    assert stored.grants is False
    assert stored.digest == "off"
    assert (stored.digest_weekday, stored.digest_hour) == (1, 11)
    assert (stored.quiet_start, stored.quiet_end) == (21, 8)
    assert emulator.rejections() == []


async def test_settings_need_consent(emulator: Emulator, running_bot: RunningBot) -> None:
    user = emulator.user(4002, language_code="ru")
    screen = await say(user, "/settings")
    assert "Согласие" in screen.text
    await user.press_data("se:grants")
    async with running_bot.app.engine.connect() as conn:
        assert await settings_repo.get(conn, 4002) == settings_repo.PushSettings()
