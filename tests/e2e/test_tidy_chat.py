"""A tidy chat on a phone: the ikigai's typed entries edit the step's message and are echoed,
text typed where a button is awaited points back to the question, and the picture's centre is
the user's own sentence."""

from __future__ import annotations

from bot.emulator import Emulator
from tests.conftest import RunningBot
from tests.e2e.test_journey import CATALOG, FORMALIZATION, consent, current, label, say, tap


async def to_the_quiz(user) -> None:  # type: ignore[no-untyped-def]
    await consent(user)
    await tap(user, "🚀 Активист: веду или начинаю проект")
    await tap(user, "UTC+7 Новосибирск")
    await tap(user, "Новосибирская область")
    await say(user, "Кружок робототехники")
    await tap(user, "Дальше ▶")
    await tap(user, "Пропустить ▶")
    await tap(user, "Пропустить ▶")
    user.skip_pending()
    await user.press("Готово ▶")
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
