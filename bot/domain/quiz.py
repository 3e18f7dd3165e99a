"""Scoring the stage quiz (pure): which of the 7 stages of development a project is at.

The quiz (``content/quiz.yaml``, loaded as :class:`bot.content.Quiz`) asks about observable facts;
every answer option carries ``weights``: stage number (1–7) → points of evidence for that stage.

The rule, deterministic and documented in the YAML header too:

* every question must be answered with one of its options, and nothing else may be answered
  (otherwise :class:`QuizError`);
* a stage's score is the sum of the points it gets from the chosen options (every stage 1–7 is in
  :attr:`QuizResult.scores`, 0 when no answer speaks for it);
* the stage with the highest score wins; a tie goes to the EARLIER stage — a project between two
  stages should finish the work of the earlier one first;
* the decisive answers are the chosen options that gave the winning stage the most points: the
  (at most :data:`DECISIVE`) biggest contributions (equal contributions: the earlier question
  first), leaving out any that gave less than half of the biggest one, reported in question
  order. When no answer gives points at all (impossible with the real quiz) the winner is
  stage 1 and there are no decisive answers.

Any object shaped like the catalog's quiz will do (see :class:`QuizLike`), so tests may pass
plain dataclasses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "DECISIVE",
    "STAGES",
    "OptionLike",
    "QuestionLike",
    "QuizError",
    "QuizLike",
    "QuizResult",
    "score",
]

STAGES = tuple(range(1, 8))
DECISIVE = 3  # at most this many decisive answers are reported


class OptionLike(Protocol):
    @property
    def code(self) -> str: ...

    @property
    def weights(self) -> Mapping[int, int]: ...


class QuestionLike(Protocol):
    @property
    def code(self) -> str: ...

    @property
    def options(self) -> Sequence[OptionLike]: ...


class QuizLike(Protocol):
    @property
    def questions(self) -> Sequence[QuestionLike]: ...


class QuizError(ValueError):
    """The answers do not fit the quiz: a missing answer, an unknown question or option."""


@dataclass(frozen=True, slots=True)
class QuizResult:
    stage: int  # 1–7
    scores: dict[int, int]  # every stage 1–7 → its points
    decisive: tuple[tuple[str, str], ...]  # (question code, option code), in question order


def _validate(quiz: QuizLike, answers: Mapping[str, str]) -> list[OptionLike]:
    """The chosen option of every question, in question order; or :class:`QuizError`."""
    known = {q.code for q in quiz.questions}
    if unknown := sorted(set(answers) - known):
        raise QuizError(f"unknown quiz questions: {', '.join(unknown)}")
    chosen: list[OptionLike] = []
    missing: list[str] = []
    for question in quiz.questions:
        if question.code not in answers:
            missing.append(question.code)
            continue
        code = answers[question.code]
        option = next((o for o in question.options if o.code == code), None)
        if option is None:
            raise QuizError(f"question {question.code!r} has no option {code!r}")
        chosen.append(option)
    if missing:
        raise QuizError(f"unanswered quiz questions: {', '.join(missing)}")
    return chosen


def score(quiz: QuizLike, answers: Mapping[str, str]) -> QuizResult:
    """Score a complete set of answers (question code → option code); see the module docstring."""
    chosen = _validate(quiz, answers)
    scores = dict.fromkeys(STAGES, 0)
    for option in chosen:
        for stage, points in option.weights.items():
            if stage not in scores:
                raise QuizError(f"option {option.code!r} gives points to unknown stage {stage!r}")
            scores[stage] += points
    best = max(scores.values())
    stage = min(n for n, points in scores.items() if points == best)

    contributions = [(option.weights.get(stage, 0), i) for i, option in enumerate(chosen)]
    biggest = max((points for points, _ in contributions), default=0)
    strong = [(points, i) for points, i in contributions if points > 0 and 2 * points >= biggest]
    top = sorted(strong, key=lambda c: (-c[0], c[1]))[:DECISIVE]
    decisive = tuple((quiz.questions[i].code, chosen[i].code) for i in sorted(i for _, i in top))
    return QuizResult(stage=stage, scores=scores, decisive=decisive)
