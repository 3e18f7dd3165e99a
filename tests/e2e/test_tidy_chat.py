"""A tidy chat on a phone: the ikigai's typed entries edit the step's message and are echoed,
text typed where a button is awaited points back to the question, and the picture's centre is
the user's own sentence."""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image

from bot.emulator import ChatMessage, EmulatedUser, Emulator
from tests.conftest import RunningBot
from tests.e2e.test_journey import CATALOG, FORMALIZATION, consent, current, enter, label, say, tap


async def to_the_ikigai(user: EmulatedUser) -> ChatMessage:
    """Consent, an activist in Novosibirsk Oblast: the ikigai's first step."""
    await consent(user)
    await tap(user, "🚀 Активист: веду или начинаю проект")
    await tap(user, "Сибирский")
    return await tap(user, "Новосибирская область")


async def to_the_quiz(user: EmulatedUser) -> None:
    await to_the_ikigai(user)
    await enter(user, "Кружок робототехники")
    await tap(user, "Дальше ▶")
    await tap(user, "Пропустить ▶")
    await tap(user, "Пропустить ▶")
    await tap(user, "Готово ▶")
    user.skip_pending()
    await user.press("✅ Взять подсказку")
    await user.messages_until(lambda m: "Вопрос 1 / 10" in m.text, timeout=10)


async def test_text_typed_in_the_quiz_points_back_to_the_question(
    emulator: Emulator, running_bot: RunningBot
) -> None:
    user = emulator.user(2301, language_code="ru")
    await to_the_quiz(user)
    first = CATALOG.quiz.questions[0]
    second = CATALOG.quiz.questions[1]
    question = await tap(user, label(first.code, FORMALIZATION[0]))
    assert "Вопрос 2 / 10" in question.text

    again = await say(user, "не знаю, у нас всё сложно")
    assert again.message_id != question.message_id  # below the typed text, not above it
    assert "кнопкой" in again.text
    assert "Вопрос 2 / 10" in again.text
    assert second.text.ru in again.text
    assert again.button_texts()[: len(second.options)] == [o.label.ru for o in second.options]
    assert "Вот меню" not in again.text  # not the main menu
    await user.no_message()

    third = await tap(user, label(second.code, FORMALIZATION[1]), again)
    assert "Вопрос 3 / 10" in third.text
    assert "кнопкой" not in third.text
    assert current(user).message_id == again.message_id  # the press edits the new question

    # A command still works as a command.
    profile = await say(user, "/profile")
    assert "Ваш профиль" in profile.text
    assert emulator.rejections() == []


async def test_typed_ikigai_entries_edit_the_step_and_are_echoed(
    emulator: Emulator, running_bot: RunningBot
) -> None:
    user = emulator.user(2302, language_code="ru")
    step = await to_the_ikigai(user)
    sent_before = len(user.bot_messages)

    screen = await enter(user, "Кружок робототехники")
    assert "1. Кружок робототехники" in screen.text
    assert "Напишите запись 2 из 3" in screen.text
    screen = await enter(user, "Ремонт-кафе")
    assert "2. Ремонт-кафе" in screen.text
    assert len(user.bot_messages) == sent_before  # no prompt sent again

    # The third entry fills the column: its message keeps the list, the next step comes below.
    user.skip_pending()
    typed = await user.send("Библиотека вещей")
    second = await user.next_message(timeout=5)
    assert "2 / 3" in second.text
    done = user.current(step)
    assert "3. Библиотека вещей" in done.text
    assert done.buttons == []  # its buttons are done with
    assert user.current(typed).reactions == ("✍",)

    # Changing an entry: the request to type it and the column are one message.
    await enter(user, "Паять")
    await tap(user, "✏️ Изменить записи")
    ask = await tap(user, "✏️ Изменить 1")
    assert ask.message_id == second.message_id
    screen = await enter(user, "Паять и учить")
    assert screen.message_id == second.message_id
    assert "1. Паять и учить" in screen.text

    # A hint is a message of its own: the next entry's step comes below it.
    hint = await say(user, "я" * 201)
    assert "200" in hint.text
    screen = await say(user, "Собирать команду")
    assert "2. Собирать команду" in screen.text
    assert screen.message_id > hint.message_id
    assert emulator.rejections() == []


async def test_the_pictures_centre_is_the_users_own_sentence_and_topics_edit_the_picture(
    emulator: Emulator, running_bot: RunningBot, tmp_path: Path
) -> None:
    user = emulator.user(2303, language_code="ru")
    await to_the_ikigai(user)
    await enter(user, "Кружок робототехники")
    await tap(user, "Дальше ▶")
    await enter(user, "Паять")
    await tap(user, "Дальше ▶")
    await tap(user, "Пропустить ▶")
    await tap(user, "▫️ Соцуслуги")
    focus = await tap(user, "Готово ▶")
    assert "Последний шаг · Фокус проекта" in focus.text
    assert "Одной фразой: что делает ваш проект?" in focus.text
    suggestion = "Кружок робототехники — Паять — Соцуслуги"
    assert f"Подсказка из ваших ответов: {suggestion}" in focus.text
    assert focus.button_texts() == ["✅ Взять подсказку", "« Назад", "Пропустить ▶"]

    user.skip_pending()
    await user.press("✅ Взять подсказку")
    result = await user.messages_until(lambda m: "Вопрос 1 / 10" in m.text, timeout=10)
    (picture,) = [m for m in result if m.photo is not None]
    assert f"🎯 Фокус проекта: {suggestion}" in picture.text
    assert picture.photo is not None
    (tmp_path / "focus.png").write_bytes(picture.photo)
    assert Image.open(io.BytesIO(picture.photo)).size == (1080, 1080)

    # Topics edited from /profile: the picture's message is redrawn, the profile comes back
    # in place of the topics, and nothing is sent again.
    profile = await say(user, "/profile")
    topics = await tap(user, "🗺 Темы")
    assert topics.message_id == profile.message_id
    ticked = await tap(user, "▫️ Предпринимательство")
    sent = len(user.bot_messages)
    await user.press("Готово ▶")  # answered at once: the picture is drawn after
    back = await user.wait_edit(ticked)
    assert "Ваш профиль" in back.text
    assert back.message_id == profile.message_id
    assert len(user.bot_messages) == sent
    redrawn = user.current(picture)
    assert redrawn.edited
    assert "Предпринимательство" in redrawn.text
    assert f"🎯 Фокус проекта: {suggestion}" in redrawn.text
    assert redrawn.photo is not None
    assert redrawn.photo != picture.photo
    (tmp_path / "topics.png").write_bytes(redrawn.photo)

    # /my_data shows the sentence.
    user.skip_pending()
    await user.send("/my_data")
    readable = await user.next_message(timeout=5)
    assert f"Фокус проекта: {suggestion}" in readable.text
    document = await user.next_message(timeout=5)
    assert document.document is not None
    assert json.loads(document.document)["user"]["ikigai_focus"] == suggestion
    assert emulator.rejections() == []


async def test_a_typed_focus_is_the_centre_and_a_skipped_exercise_gives_no_picture(
    emulator: Emulator, running_bot: RunningBot
) -> None:
    user = emulator.user(2304, language_code="ru")
    await to_the_ikigai(user)
    await tap(user, "Пропустить ▶")
    await tap(user, "Пропустить ▶")
    await tap(user, "Пропустить ▶")
    user.skip_pending()
    await user.press("Готово ▶")  # nothing filled in: no focus step, no empty picture
    result = await user.messages_until(lambda m: "Вопрос 1 / 10" in m.text, timeout=10)
    assert all(m.photo is None for m in result)
    assert any("Вы пропустили икигай, поэтому картинки пока нет" in m.text for m in result)

    # Done again from /profile with one entry: the focus step, answered by typing.
    profile = await say(user, "/profile")
    await tap(user, "🌱 Икигай", profile)
    await enter(user, "Библиотека вещей")
    await tap(user, "Дальше ▶")
    await tap(user, "Пропустить ▶")
    await tap(user, "Пропустить ▶")
    focus = await tap(user, "Готово ▶")
    assert "Подсказка из ваших ответов: Библиотека вещей" in focus.text
    user.skip_pending()
    typed = await user.send("Даём соседям вещи напрокат")
    result = await user.messages_until(lambda m: "Ваш профиль" in m.text, timeout=10)
    (picture,) = [m for m in result if m.photo is not None]
    assert "🎯 Фокус проекта: Даём соседям вещи напрокат" in picture.text
    assert user.current(typed).reactions == ("✍",)
    assert emulator.rejections() == []
