"""The stage quiz: questions about observable facts, answered with buttons; the pure domain
places the project in one of the seed's seven stages. Retake any time; every result is kept."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message

from bot.content import Catalog
from bot.domain.quiz import score
from bot.services.profile import ProfileService
from bot.ui.keyboards import AnswerCb, Menu, QuizCb, button, keyboard
from bot.ui.screen import Screen
from handlers import journey

router = Router(name=__name__)


class QuizState(StatesGroup):
    question = State()  # data: qz_answers {question: option}


async def show_question(
    screen: Screen, catalog: Catalog, answers: dict[str, str], *, typed: bool = False
) -> None:
    """The current question; `typed`: the user typed text instead of pressing an answer."""
    questions = catalog.quiz.questions
    index = len(answers)
    question = questions[index]
    tr = screen.tr
    rows: list[list[InlineKeyboardButton]] = [
        [button(tr.loc(o.label), AnswerCb(question=question.code, option=o.code))]
        for o in question.options
    ]
    nav = [button(tr._("« Back"), QuizCb(action="back"))] if index else []
    nav.append(button(tr._("☰ Menu"), Menu(section="home")))
    rows.append(nav)
    text = tr(
        "quiz/question.j2",
        question=question,
        number=index + 1,
        total=len(questions),
        typed=typed,
    )
    await screen.show(text, keyboard(rows))


@journey.step("quiz")
async def start_quiz(screen: Screen, deps: dict[str, Any]) -> None:
    assert screen.state is not None
    await screen.state.set_state(QuizState.question)
    await screen.state.update_data(qz_answers={})
    await show_question(screen, deps["catalog"], {})


@journey.answered_by_buttons(QuizState.question)
async def question_again(screen: Screen, deps: dict[str, Any]) -> None:
    """Text typed where an answer button is awaited: the question again, at the bottom."""
    answers = await _answers(screen)
    if answers is None:
        await start_quiz(screen, deps)
        return
    await show_question(screen, deps["catalog"], answers, typed=True)


@router.message(Command("quiz"))
@router.callback_query(QuizCb.filter(F.action == "start"))
async def restart(event: Message | CallbackQuery, screen: Screen, **deps: Any) -> None:
    await start_quiz(screen, deps)


async def _answers(screen: Screen) -> dict[str, str] | None:
    assert screen.state is not None
    if await screen.state.get_state() != QuizState.question.state:
        return None
    return dict((await screen.state.get_data()).get("qz_answers", {}))


@router.callback_query(AnswerCb.filter())
async def answered(
    query: CallbackQuery,
    callback_data: AnswerCb,
    screen: Screen,
    catalog: Catalog,
    profiles: ProfileService,
    **deps: Any,
) -> None:
    assert screen.state is not None
    answers = await _answers(screen)
    if answers is None:  # a button of a finished or abandoned quiz: start it afresh
        await start_quiz(screen, {"catalog": catalog})
        return
    questions = catalog.quiz.questions
    current = questions[len(answers)]
    valid = {o.code for o in current.options}
    if callback_data.question != current.code or callback_data.option not in valid:
        await show_question(screen, catalog, answers)  # an older question's button
        return
    answers[current.code] = callback_data.option
    if len(answers) < len(questions):
        await screen.state.update_data(qz_answers=answers)
        await show_question(screen, catalog, answers)
        return
    result = score(catalog.quiz, answers)
    await profiles.add_quiz_result(screen.user_id, result.stage, answers)
    await screen.state.clear()
    await journey.start_step(
        "diagnosis", screen, {"catalog": catalog, "profiles": profiles, **deps, "just_taken": True}
    )


@router.callback_query(QuizCb.filter(F.action == "back"))
async def back(query: CallbackQuery, screen: Screen, catalog: Catalog) -> None:
    answers = await _answers(screen)
    if answers is None:
        await start_quiz(screen, {"catalog": catalog})
        return
    if answers:
        answers.pop(list(answers)[-1])
    assert screen.state is not None
    await screen.state.update_data(qz_answers=answers)
    await show_question(screen, catalog, answers)
