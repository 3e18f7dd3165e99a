"""«Частые вопросы»: answered desk questions published for everyone — pure parts.

* `anonymise` — the first pass a coordinator's edit starts from: the asker's name (and its
  Russian case forms), any @username, phone numbers and e-mail addresses become «[…]». It is
  a first pass only: the coordinator reads and edits the text before publishing.
* `terms` / `similarity` / `similar` — how a new question finds published ones: Russian (or
  English) snowball stems with stop words left out, an abbreviation or two spelled out
  («НКО»), and a Dice overlap of the two sets of stems. Two stems count as one when they are
  equal or when the core of one (the stem without its last two letters, five at least) stands
  inside the other: «регистрац» (регистрация) inside «зарегистрирова» (зарегистрировать).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

MAX_QUESTION: Final = 1000  # characters of a published question
MAX_ANSWER: Final = 3000  # … and of its answer (a card stays under Telegram's 4096)
THRESHOLD: Final = 0.5  # a new question and a published one this alike are «похожие»
SEARCH_THRESHOLD: Final = 0.5  # share of the searched stems an entry must have
MIN_STEM: Final = 3
MIN_CORE: Final = 5  # a stem shorter than this matches only itself
REDACTED: Final = "[…]"

_WORD = re.compile(r"[a-zа-яё0-9]+", re.IGNORECASE)
_STOP_WORDS: Final = """
    и в во не что он на я с со как а то все всё она так его но да ты к у же вы за бы по только
    ее её мне было вот от меня еще ещё нет о из ему теперь когда даже ну ли если уже или ни быть
    был него до вас нибудь уж вам ведь там потом себя ничего ей может они тут где есть надо ней
    для мы тебя их чем была сам чтоб без чего раз тоже себе под будет ж тогда кто этот того
    потому этого какой какая какие каким каких совсем ним здесь этом почти мой тем чтобы нее
    сейчас были куда зачем всех можно при об другой хоть после над больше тот через эти нас про
    всего них много эту моя свою этой перед лучше чуть том нельзя такой им более всегда между
    нужно нужен нужна нужны надо могу можем могут можно ли хочу хотим очень свой своих наш наша
    наши нашей нашего нашу нам нами нас сделать делать правильно подскажите скажите пожалуйста
    вопрос вопросы здравствуйте добрый день спасибо
    the a an and or of to in on for with by at from is are be we can need our my i you how
    what do does should please"""
_STOP: Final = frozenset(_STOP_WORDS.split())
# Abbreviations a question often uses where the answer spells the words out.
_SPELLED: Final = {
    "нко": "некоммерческая организация",
    "ано": "автономная некоммерческая организация",
    "ип": "индивидуальный предприниматель",
    "ооо": "общество с ограниченной ответственностью",
    "ngo": "non-profit organisation",
}


@lru_cache(maxsize=2)
def _stemmer(language: str) -> Any:
    """Snowball's stemmer, made at the first word: the package imports all its languages
    (3 MB), which the bot's start-up does not need."""
    import snowballstemmer

    return snowballstemmer.stemmer(language)


@lru_cache(maxsize=8192)
def _stem(word: str) -> str:
    if re.fullmatch(r"[a-z0-9]+", word):
        return str(_stemmer("english").stemWord(word))
    return str(_stemmer("russian").stemWord(word))


def terms(text: str) -> frozenset[str]:
    """The meaningful stems of a text (lower case, «ё» as «е»): stop words, numbers and stems
    shorter than MIN_STEM left out; an abbreviation of `_SPELLED` counts as its words."""
    found: set[str] = set()
    for raw in _WORD.findall(text.lower().replace("ё", "е")):
        words = _SPELLED[raw].split() if raw in _SPELLED else [raw]
        for word in words:
            if word in _STOP or word.isdigit():
                continue
            stem = _stem(word)
            if len(stem) >= MIN_STEM:
                found.add(stem)
    return frozenset(found)


def _core(stem: str) -> str:
    return stem[: max(MIN_CORE, len(stem) - 2)]


def _alike(a: str, b: str) -> bool:
    if a == b:
        return True
    if len(a) < MIN_CORE or len(b) < MIN_CORE:
        return False
    return _core(a) in b or _core(b) in a


def _matched(these: frozenset[str], those: frozenset[str]) -> int:
    """How many of `these` have a like stem among `those`."""
    return sum(1 for t in these if t in those or any(_alike(t, o) for o in those))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Dice overlap of two sets of stems, 0…1, like stems counting as shared."""
    if not a or not b:
        return 0.0
    return (_matched(a, b) + _matched(b, a)) / (len(a) + len(b))


def coverage(query: frozenset[str], found_in: frozenset[str]) -> float:
    """The share of the searched stems `found_in` has (a search: a short query in a long
    entry)."""
    if not query:
        return 0.0
    return _matched(query, found_in) / len(query)


@dataclass(frozen=True, slots=True)
class Indexed:
    """A published entry as the matching sees it."""

    id: int
    question: frozenset[str]
    answer: frozenset[str]


def index(entry_id: int, question: str, answer: str) -> Indexed:
    return Indexed(entry_id, terms(question), terms(answer))


def similar(text: str, entries: Iterable[Indexed], limit: int = 3) -> list[tuple[int, float]]:
    """Published entries whose question is like `text` (score ≥ THRESHOLD), most alike first:
    (entry id, score). The answer adds a little: a tie goes to the entry whose answer shares
    more of the new question's stems."""
    wanted = terms(text)
    found = []
    for entry in entries:
        score = similarity(wanted, entry.question)
        if score >= THRESHOLD:
            found.append((entry.id, score, coverage(wanted, entry.answer)))
    found.sort(key=lambda f: (-f[1], -f[2], f[0]))
    return [(entry_id, round(score, 3)) for entry_id, score, _ in found[:limit]]


def search(text: str, entries: Iterable[Indexed], limit: int = 10) -> list[int]:
    """Entries that have most of the searched stems in their question or answer, best
    first."""
    wanted = terms(text)
    found = []
    for entry in entries:
        score = coverage(wanted, entry.question | entry.answer)
        if score >= SEARCH_THRESHOLD:
            found.append((entry.id, score, coverage(wanted, entry.question)))
    found.sort(key=lambda f: (-f[1], -f[2], f[0]))
    return [entry_id for entry_id, *_ in found[:limit]]


# --------------------------------------------------------------------------- anonymising

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_USERNAME = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{3,32}\b")
_PHONE = re.compile(r"(?<![\w+])\+?\d[\d\s().-]{7,}\d(?!\w)")
_MIN_DIGITS = 10  # a phone number has 10 or 11 digits; «100 000 рублей» is not one
_CYRILLIC_END = "[а-яё]{0,3}"


def _name_pattern(name: str) -> str:
    """A name and its case forms: «Анна» → Анна, Анны, Анне, Анну, Анной (a Russian name
    ends in a vowel or «й»/«ь» that changes; up to three letters may follow the rest)."""
    word = re.escape(name)
    if re.fullmatch(r"[а-яё]+", name, re.IGNORECASE) and len(name) >= 4:
        base = name[:-1] if name[-1].lower() in "аяеоиыйьу" else name
        word = re.escape(base) + _CYRILLIC_END
    return word


def anonymise(text: str, names: Sequence[str | None] = ()) -> str:
    """`text` without the asker's `names` (first name, last name, username: each word of three
    letters or more, whole words, case forms too), any @username, phone or e-mail."""
    text = _EMAIL.sub(REDACTED, text)
    text = _USERNAME.sub(REDACTED, text)

    def phone(match: re.Match[str]) -> str:
        digits = sum(c.isdigit() for c in match[0])
        return REDACTED if digits >= _MIN_DIGITS else match[0]

    text = _PHONE.sub(phone, text)
    words = sorted(
        {w for n in names if n for w in re.split(r"\s+", n.strip().lstrip("@")) if len(w) >= 3},
        key=len,
        reverse=True,
    )
    if words:
        pattern = "|".join(_name_pattern(w) for w in words)
        text = re.sub(rf"(?<!\w)(?:{pattern})(?!\w)", REDACTED, text, flags=re.IGNORECASE)
    return text


def carries(text: str, names: Sequence[str | None]) -> bool:
    """Whether `text` still holds one of `names` (or their case forms): what /delete_me asks
    of a published entry before keeping it."""
    return anonymise(text, names) != anonymise(text, ())
