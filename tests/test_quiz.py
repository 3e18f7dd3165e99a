"""The stage quiz: the real content/quiz.yaml, scored by bot.domain.quiz."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.content import Quiz, get_catalog
from bot.domain.quiz import DECISIVE, QuizError, QuizResult, score

QUIZ = get_catalog().quiz

# The "obvious" answers of a project at each stage, in question order.
QUESTIONS = (
    "problem",
    "people",
    "regularity",
    "rules",
    "registration",
    "money",
    "results",
    "geography",
    "leaders",
    "transition",
)


def answers(*options: str) -> dict[str, str]:
    return dict(zip(QUESTIONS, options, strict=True))


# 1. Ощущение проблемы: alone, something bothers me, no words for it yet
PROBLEM_SENSED = answers(
    "vague",
    "nobody",
    "not_yet",
    "none",
    "not_needed",
    "none_needed",
    "none_yet",
    "one_place",
    "one_person",
    "carry_on",
)
# 2. Первый круг: a few people who talk now and then; nothing done yet
FIRST_CIRCLE = answers(
    "named",
    "a_few",
    "now_and_then",
    "none",
    "not_needed",
    "none_needed",
    "none_yet",
    "one_place",
    "one_person",
    "carry_on",
)
# 3. Пляжный волейбол: a hobby group in free time, unwritten rules, own money, first events
BEACH_VOLLEYBALL = answers(
    "named",
    "steady_group",
    "free_time",
    "unwritten",
    "not_needed",
    "own_pockets",
    "first_events",
    "one_place",
    "one_person",
    "carry_on",
)
# 4. Формализация: a team with written rules and delegation, registering, donations
FORMALIZATION = answers(
    "tackling",
    "team",
    "daily",
    "written",
    "planning",
    "donations",
    "regular_work",
    "one_place",
    "helpers",
    "carry_on",
)
# 5. Экспансия: a registered organization with staff, contracts, measurable results, spreading
EXPANSION = answers(
    "tackling",
    "team",
    "daily",
    "staff",
    "registered",
    "contracts",
    "measurable",
    "several_places",
    "helpers",
    "carry_on",
)
# 6. Децентрализация: new leaders in several regions, decisions taken together
DECENTRALIZATION = answers(
    "tackling",
    "team",
    "daily",
    "staff",
    "registered",
    "contracts",
    "measurable",
    "several_regions",
    "new_leaders",
    "carry_on",
)
# 7. Финиш: the problem is largely solved, the work runs by itself, turning into a business
FINISH = answers(
    "largely_solved",
    "team",
    "daily",
    "staff",
    "registered",
    "contracts",
    "measurable",
    "several_regions",
    "runs_itself",
    "business",
)

OBVIOUS = {
    1: PROBLEM_SENSED,
    2: FIRST_CIRCLE,
    3: BEACH_VOLLEYBALL,
    4: FORMALIZATION,
    5: EXPANSION,
    6: DECENTRALIZATION,
    7: FINISH,
}


def weight(question: str, option: str, stage: int) -> int:
    return QUIZ.question(question).option(option).weights.get(stage, 0)


# ── the content ─────────────────────────────────────────────────────────────────────────────


def test_quiz_content_shape() -> None:
    assert isinstance(QUIZ, Quiz)
    assert tuple(q.code for q in QUIZ.questions) == QUESTIONS
    assert 8 <= len(QUIZ.questions) <= 12
    for question in QUIZ.questions:
        assert 3 <= len(question.options) <= 4
        assert len(question.text.ru) <= 200
        assert len(question.text.en) <= 200
        codes = [o.code for o in question.options]
        assert len(codes) == len(set(codes))
        for option in question.options:
            assert len(option.label.ru) <= 40
            assert len(option.label.en) <= 40
            assert set(option.weights) <= set(range(1, 8))
            # a button's callback data stays within Telegram's 64 bytes
            assert len(f"quiz:{question.code}:{option.code}".encode()) <= 64
    evidence = {n for q in QUIZ.questions for o in q.options for n in o.weights}
    assert evidence == set(range(1, 8))
    assert get_catalog().titles["quiz"].ru


def test_no_sensitive_subjects() -> None:
    stems = ("здоров", "болезн", "религ", "церк", "полит", "парти", "выбор", "голосов")
    stems_en = (
        "health",
        "illness",
        "disab",
        "religio",
        "church",
        "politic",
        "party",
        "vote",
        "election",
    )
    for question in QUIZ.questions:
        for text in (question.text, *(o.label for o in question.options)):
            assert not any(s in text.ru.lower() for s in stems), text.ru
            assert not any(s in text.en.lower() for s in stems_en), text.en


# ── every stage: its obvious answers, and it is reachable ───────────────────────────────────


@pytest.mark.parametrize("stage", range(1, 8))
def test_obvious_answers_give_their_stage(stage: int) -> None:
    result = score(QUIZ, OBVIOUS[stage])
    assert result.stage == stage
    assert set(result.scores) == set(range(1, 8))
    # the winner is clear: strictly ahead of every other stage
    others = [points for n, points in result.scores.items() if n != stage]
    assert result.scores[stage] > max(others)


def test_every_stage_is_reachable() -> None:
    assert {score(QUIZ, a).stage for a in OBVIOUS.values()} == set(range(1, 8))


@pytest.mark.parametrize("stage", range(1, 8))
def test_decisive_answers_belong_to_the_winner(stage: int) -> None:
    given_answers = OBVIOUS[stage]
    result = score(QUIZ, given_answers)
    assert 1 <= len(result.decisive) <= DECISIVE
    for question, option in result.decisive:
        assert given_answers[question] == option
        assert weight(question, option, stage) > 0
    # reported in question order
    positions = [QUESTIONS.index(q) for q, _ in result.decisive]
    assert positions == sorted(positions)
    # and they are the biggest contributions: nothing left out gives more
    smallest = min(weight(q, o, stage) for q, o in result.decisive)
    for question, option in given_answers.items():
        if (question, option) not in result.decisive:
            assert weight(question, option, stage) <= smallest


def test_decisive_examples() -> None:
    assert score(QUIZ, PROBLEM_SENSED).decisive == (
        ("problem", "vague"),
        ("people", "nobody"),
        ("regularity", "not_yet"),  # 2 points, like several others: the earliest question
    )
    assert score(QUIZ, DECENTRALIZATION).decisive == (
        ("geography", "several_regions"),  # 3 points
        ("leaders", "new_leaders"),  # 4 points; the 1-point answers are too small to count
    )
    assert score(QUIZ, FINISH).decisive == (
        ("problem", "largely_solved"),
        ("leaders", "runs_itself"),
        ("transition", "business"),
    )


def test_deterministic() -> None:
    for given_answers in OBVIOUS.values():
        first = score(QUIZ, given_answers)
        again = score(QUIZ, dict(reversed(list(given_answers.items()))))
        assert first == again
        assert isinstance(first, QuizResult)


@pytest.mark.parametrize("stage", range(1, 8))
def test_one_changed_answer_moves_the_stage_little(stage: int) -> None:
    base = OBVIOUS[stage]
    for question in QUIZ.questions:
        for option in question.options:
            moved = score(QUIZ, base | {question.code: option.code}).stage
            assert abs(moved - stage) <= 2, (question.code, option.code, moved)


def test_transition_plans_do_not_override_an_early_project() -> None:
    for early in (PROBLEM_SENSED, FIRST_CIRCLE, BEACH_VOLLEYBALL, FORMALIZATION):
        for plan in ("business", "state_body", "restart"):
            assert score(QUIZ, early | {"transition": plan}).stage != 7


# ── ties and validation ─────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Opt:
    code: str
    weights: dict[int, int]


@dataclass(frozen=True)
class Q:
    code: str
    options: tuple[Opt, ...]


@dataclass(frozen=True)
class Plain:
    questions: tuple[Q, ...]


TINY = Plain(
    (
        Q("a", (Opt("x", {2: 2}), Opt("y", {5: 2}), Opt("z", {}))),
        Q("b", (Opt("x", {5: 1}), Opt("y", {2: 1}), Opt("z", {}))),
    )
)


def one_question(*weights: dict[int, int]) -> Plain:
    return Plain((Q("only", tuple(Opt(f"o{i}", w) for i, w in enumerate(weights))),))


def test_highest_score_wins() -> None:
    assert score(TINY, {"a": "x", "b": "x"}).stage == 2  # stage 2: 2, stage 5: 1
    assert score(TINY, {"a": "y", "b": "y"}).stage == 5  # stage 2: 1, stage 5: 2


def test_tie_goes_to_the_earlier_stage() -> None:
    quiz = one_question({3: 1, 4: 1}, {6: 2, 2: 2}, {7: 1, 5: 1, 1: 0})
    result = score(quiz, {"only": "o0"})
    assert result.stage == 3
    assert result.scores == {1: 0, 2: 0, 3: 1, 4: 1, 5: 0, 6: 0, 7: 0}
    assert result.decisive == (("only", "o0"),)
    assert score(quiz, {"only": "o1"}).stage == 2
    assert score(quiz, {"only": "o2"}).stage == 5


def test_no_evidence_at_all_is_stage_one() -> None:
    result = score(TINY, {"a": "z", "b": "z"})
    assert result.stage == 1
    assert result.decisive == ()
    assert set(result.scores.values()) == {0}


def test_missing_answer() -> None:
    partial = dict(PROBLEM_SENSED)
    del partial["money"]
    with pytest.raises(QuizError, match="unanswered quiz questions: money"):
        score(QUIZ, partial)
    with pytest.raises(QuizError, match="unanswered"):
        score(QUIZ, {})


def test_unknown_question() -> None:
    with pytest.raises(QuizError, match="unknown quiz questions: health"):
        score(QUIZ, PROBLEM_SENSED | {"health": "good"})


def test_unknown_option() -> None:
    with pytest.raises(QuizError, match="question 'money' has no option 'lottery'"):
        score(QUIZ, PROBLEM_SENSED | {"money": "lottery"})


def test_quiz_error_is_a_value_error() -> None:
    assert issubclass(QuizError, ValueError)


# ── properties ──────────────────────────────────────────────────────────────────────────────

complete_answers = st.fixed_dictionaries(
    {q.code: st.sampled_from([o.code for o in q.options]) for q in QUIZ.questions}
)


@given(complete_answers)
def test_any_complete_answers_give_a_valid_result(given_answers: dict[str, str]) -> None:
    result = score(QUIZ, given_answers)
    assert 1 <= result.stage <= 7
    assert set(result.scores) == set(range(1, 8))
    assert result.scores[result.stage] == max(result.scores.values())
    # ties go to the earlier stage
    assert all(result.scores[n] < result.scores[result.stage] for n in range(1, result.stage))
    assert set(result.decisive) <= set(given_answers.items())
    assert len(result.decisive) <= DECISIVE
    points = [weight(q, o, result.stage) for q, o in given_answers.items()]
    assert (result.decisive != ()) == (max(points) > 0)
    for question, option in result.decisive:
        assert 2 * weight(question, option, result.stage) >= max(points) > 0
    assert score(QUIZ, given_answers) == result
    total = sum(sum(QUIZ.question(q).option(o).weights.values()) for q, o in given_answers.items())
    assert sum(result.scores.values()) == total
