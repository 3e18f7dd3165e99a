"""Peers whose projects complement each other, and mentors: pure matching (no clock, no I/O).

Two activists complement each other when one's ikigai «Что нужно» shares a word with the
other's «Что могу» — words compared by their Russian (or English) stems, so «юридическая
помощь» meets «помогу с юридическими вопросами». A peer is suggested with the reason, in both
directions: «вам нужно то, что они могут» and «им нужно то, что можете вы». Among complementary
peers the same region comes first, then the same zone, then a shared topic, then a stage ahead
(someone to learn from), then the strength of the match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

# What an activist may show other activists; nothing is shown before they choose.
FIELDS: Final = ("name", "stage", "region", "topics", "can", "need")
SUGGEST: Final = 3  # suggestions shown at a time
DAILY_REQUESTS: Final = 5  # introduction requests one person may send a day
MENTOR_STAGES: Final = frozenset({5, 6, 7})  # who may offer to mentor by themselves
MENTEE_STAGES: Final = frozenset({1, 2, 3})  # who sees mentors among their measures
MENTOR_WAYS: Final = ("chat", "call", "meeting")
MENTOR_OFTEN: Final = ("weekly", "biweekly", "monthly")
MAX_MENTEES: Final = 5
MIN_STEM: Final = 3  # a shorter stem («в», «по», «со») says nothing

_WORD = re.compile(r"[a-zа-яё]+", re.IGNORECASE)
_STOP_WORDS: Final = """
    и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только
    ее её мне было вот от меня еще ещё нет о из ему теперь когда даже ну вдруг ли если уже или
    ни быть был него до вас нибудь опять уж вам ведь там потом себя ничего ей может они тут где
    есть надо ней для мы тебя их чем была сам чтоб без будто чего раз тоже себе под будет ж
    тогда кто этот того потому этого какой совсем ним здесь этом один почти мой тем чтобы нее
    сейчас были куда зачем всех никогда можно при наконец два об другой хоть после над больше
    тот через эти нас про всего них какая много разве три эту моя впрочем хорошо свою этой
    перед иногда лучше чуть том нельзя такой им более всегда конечно всю между нужно нужен
    нужна нужны могу можем могут помочь хочу хотим очень свой своих наш наша наши
    the a an and or of to in on for with by at from is are be we can need our my i you"""
_STOP: Final = frozenset(_STOP_WORDS.split())


@lru_cache(maxsize=2)
def _stemmer(language: str) -> Any:
    """Snowball's stemmer, made at the first word: the package imports all its languages
    (3 MB), which the bot's start-up does not need."""
    import snowballstemmer

    return snowballstemmer.stemmer(language)


@lru_cache(maxsize=4096)
def _stem(word: str) -> str:
    word = word.lower().replace("ё", "е")
    if re.fullmatch(r"[a-z]+", word):
        return str(_stemmer("english").stemWord(word))
    return str(_stemmer("russian").stemWord(word))


def stems(text: str) -> frozenset[str]:
    """The meaningful stems of a text: stop words and stems shorter than MIN_STEM left out."""
    found = set()
    for word in _WORD.findall(text):
        if word.lower() in _STOP:
            continue
        stem = _stem(word)
        if len(stem) >= MIN_STEM:
            found.add(stem)
    return frozenset(found)


@dataclass(frozen=True)
class Peer:
    """An activist as matching sees them: only what they chose to show (an empty field when
    hidden); `zone` is their region's UTC-offset group."""

    user_id: int
    stage: int | None = None
    region: str | None = None
    zone: str | None = None
    topics: frozenset[str] = frozenset()
    can: tuple[str, ...] = ()
    need: tuple[str, ...] = ()


@dataclass(frozen=True)
class Fit:
    """One ikigai entry of one side meeting one of the other: the entries as written and the
    stems they share."""

    need: str
    can: str
    words: frozenset[str]


@dataclass(frozen=True)
class Suggestion:
    peer: Peer
    they_can: tuple[Fit, ...]  # you need what they can
    you_can: tuple[Fit, ...]  # they need what you can
    same_region: bool
    same_zone: bool
    shared_topics: frozenset[str]
    ahead: bool  # their stage is ahead of yours: someone to learn from

    @property
    def strength(self) -> int:
        return sum(len(f.words) for f in (*self.they_can, *self.you_can))

    def key(self) -> tuple[int, int, int, int, int, int]:
        return (
            0 if self.same_region else 1,
            0 if self.same_zone else 1,
            0 if self.shared_topics else 1,
            0 if self.ahead else 1,
            -self.strength,
            self.peer.user_id,
        )


def fits(needs: Iterable[str], cans: Iterable[str]) -> tuple[Fit, ...]:
    """Each pair of a need and a can that share a stem, strongest first."""
    offers = [(c, stems(c)) for c in cans]
    found = []
    for need in needs:
        wanted = stems(need)
        for can, offered in offers:
            common = wanted & offered
            if common:
                found.append(Fit(need, can, common))
    return tuple(sorted(found, key=lambda f: (-len(f.words), f.need, f.can)))


def suggestion(me: Peer, other: Peer) -> Suggestion | None:
    """Why `other` complements `me`, or None when neither can what the other needs."""
    if other.user_id == me.user_id:
        return None
    they_can = fits(me.need, other.can)
    you_can = fits(other.need, me.can)
    if not they_can and not you_can:
        return None
    return Suggestion(
        peer=other,
        they_can=they_can,
        you_can=you_can,
        same_region=me.region is not None and me.region == other.region,
        same_zone=me.zone is not None and me.zone == other.zone,
        shared_topics=me.topics & other.topics,
        ahead=me.stage is not None and other.stage is not None and other.stage > me.stage,
    )


def rank(me: Peer, others: Iterable[Peer]) -> list[Suggestion]:
    """Every complementary peer, best first."""
    found = [s for o in others if (s := suggestion(me, o)) is not None]
    return sorted(found, key=Suggestion.key)


def pick(
    ranked: Sequence[Suggestion], last: Iterable[int], limit: int = SUGGEST
) -> list[Suggestion]:
    """`limit` suggestions, never the same set as `last` (the ids shown the time before) when
    there are others: those not shown last time first, in rank order, the rest after."""
    shown = frozenset(last)
    fresh = [s for s in ranked if s.peer.user_id not in shown]
    again = [s for s in ranked if s.peer.user_id in shown]
    return (fresh + again)[:limit]


# --- mentors ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mentor:
    user_id: int
    topics: frozenset[str]
    capacity: int  # mentees at once
    mentees: int  # mentorships going on now
    region: str | None = None
    zone: str | None = None
    stage: int | None = None


def may_mentor(stage: int | None, marked: bool) -> bool:
    """A project at stage 5–7 may offer to mentor; anyone a coordinator marked may too."""
    return marked or (stage is not None and stage in MENTOR_STAGES)


def may_be_mentored(stage: int | None) -> bool:
    return stage is not None and stage in MENTEE_STAGES


def mentors_for(
    user_id: int,
    topics: frozenset[str],
    region: str | None,
    zone: str | None,
    mentors: Iterable[Mentor],
) -> list[Mentor]:
    """Mentors with a free place whose topics meet the mentee's (any mentor when the mentee has
    no topics), the same region first, then the same zone, then the most topics in common."""
    found = [
        m
        for m in mentors
        if m.user_id != user_id
        and m.mentees < m.capacity
        and (not topics or not m.topics or topics & m.topics)
    ]

    def key(m: Mentor) -> tuple[int, int, int, int]:
        return (
            0 if region is not None and m.region == region else 1,
            0 if zone is not None and m.zone == zone else 1,
            -len(topics & m.topics),
            m.user_id,
        )

    return sorted(found, key=key)
