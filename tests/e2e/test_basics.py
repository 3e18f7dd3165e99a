"""The foundation end to end: the real bot polls the emulator over HTTP."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.app import COMMANDS
from bot.emulator import Emulator
from bot.infra.logs import JsonFormatter, TextFormatter
from bot.storage.tables import broadcasts, users
from tests.conftest import TOKEN, Launch, RunningBot
from tests.e2e.test_broadcast import appoint


async def test_start_greets_in_russian_with_menu(
    emulator: Emulator, running_bot: RunningBot
) -> None:
    user = emulator.user(1001, first_name="Анна", language_code="ru")
    await user.send("/start")
    msg = await user.next_message(timeout=5)
    assert "Опора" in msg.text
    assert "семь этапов" in msg.text
    assert msg.button_texts() == [
        "🚀 Начать: мой проект",
        "🤝 Хочу помогать",
        "🧭 Этапы проекта",
        "🤝 Меры поддержки",
        "💰 Гранты",
        "📖 Практики",
        "ℹ️ О проекте",
        "❓ Помощь",
        "📚 Частые вопросы",
        "🌐 Язык",
    ]
    async with running_bot.app.engine.connect() as conn:
        row = (await conn.execute(select(users).where(users.c.id == 1001))).mappings().one()
    assert row["first_name"] is None  # nothing beyond the id before consent
    # Link previews are off the one way the Bot API has now (not the replaced parameter too).
    (call,) = emulator.calls_of("sendMessage")
    assert call.params["link_preview_options"] == {"is_disabled": True}
    assert "disable_web_page_preview" not in call.params
    assert emulator.rejections() == []


async def test_start_follows_telegram_language(
    emulator: Emulator, running_bot: RunningBot
) -> None:
    user = emulator.user(1002, first_name="John", language_code="en-US")
    await user.send("/start")
    msg = await user.next_message(timeout=5)
    assert "seven stages" in msg.text
    assert "🧭 Stages of a project" in msg.button_texts()


async def test_command_menu_is_registered_in_both_languages(
    emulator: Emulator, running_bot: RunningBot
) -> None:
    user = emulator.user(1003, language_code="ru")
    await user.send("/help")
    await user.next_message(timeout=5)  # the bot is up, so the menu was set before polling
    calls = [c for c in emulator.calls if c.method.lower() == "setmycommands"]
    by_lang = {c.params.get("language_code"): c.params for c in calls}
    assert {"ru", "en", None} <= set(by_lang)
    assert "Главное меню" in str(by_lang["ru"]["commands"])
    assert "Main menu" in str(by_lang["en"]["commands"])


async def test_help_and_back_to_menu(emulator: Emulator, running_bot: RunningBot) -> None:
    user = emulator.user(1004, language_code="ru")
    await user.send("/help")
    msg = await user.next_message(timeout=5)
    assert "/language" in msg.text
    assert "Справка" in msg.text
    # /help names every command of the menu Telegram shows beside the message box.
    assert [c for c, _ in COMMANDS if f"/{c} — " not in msg.text] == []
    answer = await user.press("« Главное меню", message=msg)
    assert answer is not None
    edited = await user.wait_edit(msg, timeout=5)
    assert "Главное меню" in edited.text
    assert "❓ Помощь" in edited.button_texts()


async def test_language_switch_is_stored_and_used(
    emulator: Emulator, running_bot: RunningBot
) -> None:
    user = emulator.user(1005, language_code="ru")
    await user.send("/language")
    msg = await user.next_message(timeout=5)
    assert msg.button_texts()[:2] == ["🇷🇺 Русский", "🇬🇧 English"]
    await user.press("🇬🇧 English", message=msg)
    edited = await user.wait_edit(msg, timeout=5)
    assert "now speaks English" in edited.text
    assert "🧭 Stages of a project" in edited.button_texts()
    await user.send("/help")
    help_msg = await user.next_message(timeout=5)
    assert "Commands:" in help_msg.text  # the Telegram client is Russian, the choice wins
    async with running_bot.app.engine.connect() as conn:
        locale = (await conn.execute(select(users.c.locale).where(users.c.id == 1005))).scalar()
    assert locale == "en"


async def test_menu_buttons_navigate_and_come_back(
    emulator: Emulator, running_bot: RunningBot
) -> None:
    user = emulator.user(1006, language_code="ru")
    await user.send("/menu")
    msg = await user.next_message(timeout=5)
    await user.press("ℹ️ О проекте", message=msg)
    about = await user.wait_edit(msg, timeout=5)
    assert "Пономарёв" in about.text
    await user.press("« Главное меню", message=about)
    home = await user.wait_edit(about, timeout=5)
    assert "Главное меню" in home.text
    # The stages: each name with its plain meaning (the seed's content column).
    await user.press("🧭 Этапы проекта", message=home)
    stages = await user.wait_edit(home, timeout=5)
    meaning = "Деятельность – хобби, необязательность, выработка первых правил игры"
    assert f"3. Пляжный волейбол — {meaning}" in stages.text
    assert "3. Пляжный волейбол" in stages.button_texts()


async def test_stale_and_forged_buttons_get_a_fresh_menu(
    emulator: Emulator, running_bot: RunningBot
) -> None:
    user = emulator.user(1007, language_code="ru")
    await user.send("/menu")
    msg = await user.next_message(timeout=5)
    for data in ("old:button:from:v0", "st:not-a-number", "lang:de", "m"):
        answer = await user.press_data(data, message=msg)
        assert answer.text == "Это меню устарело — вот свежее."
        fresh = await user.next_message(timeout=5)
        assert "устарело" in fresh.text
        assert "🧭 Этапы проекта" in fresh.button_texts()
    assert emulator.rejections() == []


async def test_user_text_is_echoed_safely(emulator: Emulator, running_bot: RunningBot) -> None:
    user = emulator.user(1008, language_code="ru")
    text = "<b>не жирный</b> & <script>alert(1)</script> 👩‍👩‍👧 &amp;"
    await user.send(text)
    msg = await user.next_message(timeout=5)
    assert f"Вы написали: «{text}»." in msg.text  # shown literally, not as markup
    assert not msg.entities or all(e["type"] != "bold" for e in msg.entities)
    await user.send("/nonsense_command")
    msg = await user.next_message(timeout=5)
    assert "Я не знаю команды /nonsense_command" in msg.text
    await user.send("x" * 5000)  # long input is cut in the echo, never rejected by Telegram
    msg = await user.next_message(timeout=5)
    assert "x" * 200 + "…" in msg.text
    await user.send_sticker()
    msg = await user.next_message(timeout=5)
    assert "понимаю текст, кнопки и команды" in msg.text
    assert emulator.rejections() == []


async def test_flood_guard_warns_once_and_others_are_served(
    emulator: Emulator, launch: Launch
) -> None:
    await launch(flood_burst=10, flood_rate=0.001)  # no refill during the test
    flooder = emulator.user(1009, language_code="ru")
    await asyncio.gather(*(flooder.send("/help") for _ in range(50)))
    other = emulator.user(1010, language_code="ru")
    await other.send("/start")
    greeting = await other.next_message(timeout=5)
    assert "Опора" in greeting.text
    replies = [await flooder.next_message(timeout=5) for _ in range(11)]
    await flooder.no_message(within=0.5)
    warnings = [m for m in replies if "Слишком много сообщений" in m.text]
    helps = [m for m in replies if "Справка" in m.text]
    assert len(warnings) == 1
    assert len(helps) == 10
    # A button press during the flood is still answered (quietly), never left spinning.
    answer = await flooder.press("« Главное меню", message=helps[0])
    assert answer is not None


async def test_restart_keeps_users_and_answers_again(
    emulator: Emulator, launch: Launch, running_bot: RunningBot
) -> None:
    user = emulator.user(1011, language_code="ru")
    await user.send("/language")
    msg = await user.next_message(timeout=5)
    await user.press("🇬🇧 English", message=msg)
    await user.wait_edit(msg, timeout=5)
    await running_bot.stop()
    await user.send("/menu")  # sent while the bot is down: delivered after the restart
    await launch()
    menu = await user.next_message(timeout=10)
    assert "Main menu" in menu.text


async def test_token_never_reaches_logs(
    emulator: Emulator, running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user = emulator.user(1012, language_code="ru")
    await user.send("секретный текст пользователя")
    await user.next_message(timeout=5)
    from bot.infra.logs import TextFormatter

    formatter = TextFormatter()
    lines = [formatter.format(r) for r in caplog.records]
    assert not any(TOKEN in line for line in lines)
    assert not any("секретный текст" in line for line in lines)


async def test_typed_text_of_a_failed_write_never_reaches_logs(
    emulator: Emulator,
    running_bot: RunningBot,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A database error carries the statement's values (SQLAlchemy's `[parameters: …]`, the
    server's `Failing row contains (…)`): the log keeps the error, not what the user typed."""
    app = running_bot.app

    async def broken_insert(conn: AsyncConnection, author_id: int, content: Any, *_: Any) -> int:
        # A real write of the typed text that the database refuses (author_id NOT NULL).
        await conn.execute(insert(broadcasts).values(author_id=None, text=content.text))
        raise AssertionError("the insert above fails")

    monkeypatch.setattr("bot.storage.broadcasts.create", broken_insert)
    coordinator = emulator.user(1014, language_code="en")
    await coordinator.send("/start")
    await coordinator.next_message(timeout=5)
    await appoint(app, 1014)
    await coordinator.send("/broadcast")
    await coordinator.next_message(timeout=5)
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    await coordinator.send("Секретный план: встреча у Ивана, +7 900 123-45-67")
    apology = await coordinator.next_message(timeout=5)
    assert "Sorry, something went wrong" in apology.text
    failures = [r for r in caplog.records if r.getMessage() == "update failed"]
    assert len(failures) == 1
    assert failures[0].exc_info is not None
    error = failures[0].exc_info[1]
    assert type(error).__name__ == "IntegrityError"  # the very error is logged
    assert "parameters hidden" in str(error)  # by the engine, for any handler
    for formatter in (TextFormatter(), JsonFormatter()):
        lines = "\n".join(formatter.format(r) for r in caplog.records)
        assert "IntegrityError" in lines
        assert "INSERT INTO broadcasts" in lines  # the statement, without its values
        for typed in ("Секретный план", "123-45-67", "Иван"):
            assert typed not in lines


async def test_a_failing_handler_gets_an_apology_and_polling_goes_on(
    emulator: Emulator,
    running_bot: RunningBot,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(*_args: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(running_bot.app.users, "set_locale", broken)
    user = emulator.user(1013, language_code="ru")
    await user.send("/language")
    msg = await user.next_message(timeout=5)
    answer = await user.press("🇬🇧 English", message=msg)
    assert answer is not None  # the press is answered even though the handler failed
    apology = await user.next_message(timeout=5)
    assert "Простите, у нас что-то сломалось" in apology.text
    assert "🧭 Этапы проекта" in apology.button_texts()
    failures = [r for r in caplog.records if r.getMessage() == "update failed"]
    assert len(failures) == 1
    assert isinstance(getattr(failures[0], "update_id", None), int)
    await user.send("/help")  # the bot keeps serving
    assert "Справка" in (await user.next_message(timeout=5)).text
    assert emulator.rejections() == []
