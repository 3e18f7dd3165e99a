"""One mechanism for UI strings: every string marked for gettext has a Russian translation, and
every message with a count has the three Russian plural forms, picked by the count."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.app import COMMANDS
from bot.config import ROOT
from bot.content import CONTENT_DIR, load_catalog
from bot.ui.render import Renderer, load_translations
from tests.test_content import walk_l10n

METHOD_MAP = [
    ("bot/**.py", "python"),
    ("handlers/**.py", "python"),
    ("content/templates/**.j2", "jinja2"),
]
# ngettext: a template's {% trans count=… %}…{% pluralize %}; n_: tr.n_ and csvio's n_ in Python
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "n_": (1, 2)}
OPTIONS = {"content/templates/**.j2": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}}


def extracted() -> set[str]:
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHOD_MAP, OPTIONS, keywords=KEYWORDS
    ):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def test_every_ui_string_is_translated_to_russian() -> None:
    po = ROOT / "content" / "locales" / "ru" / "LC_MESSAGES" / "messages.po"
    with Path(po).open("rb") as fh:
        catalog = read_po(fh, locale="ru")
    ids = extracted()
    assert len(ids) > 30
    missing = sorted(i for i in ids if i not in catalog or not catalog[i].string)
    assert missing == [], "run `python tools/po.py` and translate these in ru/messages.po"
    fuzzy = sorted(m.id for m in catalog if m.id and m.fuzzy)
    assert fuzzy == []


def test_commands_have_both_languages() -> None:
    renderer = Renderer()
    for _name, desc in COMMANDS:
        assert renderer.gettext("en", desc) == desc
        ru = renderer.gettext("ru", desc)
        assert ru
        assert ru != desc or "Language" in desc


# content/glossary.md: one word per thing. What the Russian catalog must not say.
RU_BANNED = {
    r"(?<!«)Опор[аеуыой]": "«Опора» is written in quotes",
    r"[Вв]олонтёр": "a volunteer is «доброволец»",
    r"\((а|ла|ась|на)\)": "no gender brackets: rephrase neutrally",
    r"[Дд]иагноз": "«диагностика», not a medical «диагноз»",
    r"тест этапа": "«вопросы об этапе», not a calque of “stage quiz”",
    r"Пономарев(?!ё)": "ё: Пономарёв",
}


def test_the_russian_catalog_follows_the_glossary() -> None:
    po = ROOT / "content" / "locales" / "ru" / "LC_MESSAGES" / "messages.po"
    with Path(po).open("rb") as fh:
        catalog = read_po(fh, locale="ru")
    found = []
    for message in catalog:
        if not message.id:
            continue
        string = message.string
        forms = [string] if isinstance(string, str) else list(string or ())
        for text in forms:
            for pattern, rule in RU_BANNED.items():
                if re.search(pattern, text):
                    found.append(f"{rule}: {text[:80]!r}")
    assert found == []


# --- plural forms ------------------------------------------------------------------------

CATALOG = ROOT / "content" / "locales" / "ru" / "LC_MESSAGES" / "messages.po"
# Russian: one (1, 21, 101…), few (2–4, 22–24…), many (0, 5–20, 25–30…, 11–14 included)
COUNTS = {0: 2, 1: 0, 2: 1, 5: 2, 11: 2, 21: 0, 22: 1, 111: 2, 1001: 0}
PLACEHOLDER = re.compile(r"%\((\w+)\)s|\{(\w+)\}")
# words whose three forms follow a count; a message using one must pick it by the count
WORDS = [
    ("день", "дня", "дней"),
    ("оценка", "оценки", "оценок"),
    ("смена", "смены", "смен"),
    ("год", "года", "лет"),
    ("час", "часа", "часов"),
    ("минуту", "минуты", "минут"),
    ("раз", "раза", "раз"),
    ("место", "места", "мест"),
    ("человек", "человека", "человек"),
    ("знакомство", "знакомства", "знакомств"),
    ("участник", "участника", "участников"),
    ("участнику", "участникам", "участникам"),
    ("получатель", "получателя", "получателей"),
    ("получателю", "получателям", "получателям"),
    ("запись", "записи", "записей"),
    ("заявка", "заявки", "заявок"),
    ("возможность", "возможности", "возможностей"),
    ("сообщение", "сообщения", "сообщений"),
    ("ошибка", "ошибки", "ошибок"),
    ("неявка", "неявки", "неявок"),
    ("строка", "строки", "строк"),
    ("ячейка", "ячейки", "ячеек"),
    ("символ", "символа", "символов"),
    ("проблема", "проблемы", "проблем"),
    ("рассылка", "рассылки", "рассылок"),
    ("программа", "программы", "программ"),
    ("мера", "меры", "мер"),
    ("окно", "окна", "окон"),
    ("активист", "активиста", "активистов"),
    ("активисту", "активистам", "активистам"),
    ("доброволец", "добровольца", "добровольцев"),
    ("дело", "дела", "дел"),
    ("координатор", "координатора", "координаторов"),
    ("вопрос", "вопроса", "вопросов"),
    ("изменение", "изменения", "изменений"),
    ("статья", "статьи", "статей"),
    ("грант", "гранта", "грантов"),
    ("грантом", "грантами", "грантами"),
    ("объявление", "объявления", "объявлений"),
    ("самооценка", "самооценки", "самооценок"),
    # after «из» / «до» / «от» / «не больше» (genitive): one is singular, few and many plural
    ("символа", "символов", "символов"),
    ("сообщения", "сообщений", "сообщений"),
    ("места", "мест", "мест"),
    ("запроса", "запросов", "запросов"),
    ("условия", "условий", "условий"),
    ("навыка", "навыков", "навыков"),
    ("байта", "байт", "байт"),
    ("участника", "участников", "участников"),
    ("строки", "строк", "строк"),
    ("статьи", "статей", "статей"),
    # what agrees with the count
    ("остался", "осталось", "осталось"),
    ("записался", "записались", "записались"),
    ("прошёл", "прошли", "прошли"),
    ("определил", "определили", "определили"),
    ("дал", "дали", "дали"),
    ("запустил", "запустили", "запустили"),
    ("заблокировал", "заблокировали", "заблокировали"),
    ("Выбрал", "Выбрали", "Выбрали"),
    ("получит", "получат", "получат"),
    ("новый", "новых", "новых"),
    ("короткий", "коротких", "коротких"),
    ("Нашлась", "Нашлись", "Нашлось"),
    ("Отмечена", "Отмечены", "Отмечено"),
    ("добавлена", "добавлены", "добавлено"),
    ("обновлена", "обновлены", "обновлено"),
    ("ждёт", "ждут", "ждут"),
]
# English ids whose noun is not next to the count, so both forms read the same
SAME_IN_ENGLISH = {
    "%(count)s added",
    "%(count)s updated",
    "%(count)s unchanged",
    "%(count)s failed",
    "%(count)s waiting",
    "%(count)s started the bot",
    "{n} gave consent",
}


@dataclass(frozen=True)
class PluralMessage:
    singular: str
    plural: str
    forms: tuple[str, ...]  # Russian: one, few, many
    brace: bool  # {name} (Python's str.format), else %(name)s


def plural_messages() -> list[PluralMessage]:
    with CATALOG.open("rb") as fh:
        catalog = read_po(fh, locale="ru")
    found = []
    for m in catalog:
        if m.id and m.pluralizable:
            assert isinstance(m.id, tuple), m.id
            assert isinstance(m.string, tuple), m.id
            brace = "python-brace-format" in m.flags
            found.append(PluralMessage(m.id[0], m.id[1], tuple(m.string), brace))
    return found


def placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def filled(text: str, message: PluralMessage, n: int) -> str:
    """The text as shown: every parameter is the count (a date or a name would do as well)."""
    values = dict.fromkeys(placeholders(text), n)
    return text.format(**values) if message.brace else text % values


def has_word(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w-]){word}(?![\w-])", text) is not None


def test_plural_messages_are_extracted() -> None:
    ids = {m.singular for m in plural_messages()}
    assert "Deadline in %(count)s day" in ids  # a template's {% pluralize %}
    assert "🚀 Send now to {n} recipient" in ids  # tr.n_ in a handler
    assert "too long: {count} character, at most {limit}" in ids  # csvio's n_
    assert ids <= extracted()


def test_every_plural_message_has_three_russian_forms_with_its_placeholders() -> None:
    messages = plural_messages()
    assert len(messages) > 60
    for m in messages:
        assert len(m.forms) == 3, m.singular
        wanted = placeholders(m.singular) | placeholders(m.plural)
        for form in m.forms:
            assert form.strip(), f"an empty Russian form of {m.singular!r}"
            assert placeholders(form) == wanted, f"{form!r}: not the placeholders of the id"
        if m.singular not in SAME_IN_ENGLISH:
            assert m.singular != m.plural, f"{m.singular!r}: the English plural is the singular"
        assert "(s)" not in m.singular + m.plural


def test_every_plural_message_picks_its_form_by_the_count() -> None:
    ru, en = load_translations("ru"), load_translations("en")
    for m in plural_messages():
        words = [
            triple
            for triple in WORDS
            if all(has_word(form, word) for form, word in zip(m.forms, triple, strict=True))
            and len(set(triple)) > 1
        ]
        if len(set(m.forms)) > 1:
            assert words, f"{m.forms[2]!r}: no known word shows which form is which (add it)"
        for n, form in COUNTS.items():
            shown = filled(ru.ngettext(m.singular, m.plural, n), m, n)
            assert shown == filled(m.forms[form], m, n), (m.singular, n)
            for triple in words:
                assert has_word(shown, triple[form]), f"{shown!r}: {n} wants «{triple[form]}»"
                for other in set(triple) - {triple[form]}:
                    if not all(has_word(f, other) for f in m.forms):  # not a fixed word
                        assert not has_word(shown, other), f"{shown!r}: «{other}» with {n}"
            english = filled(en.ngettext(m.singular, m.plural, n), m, n)
            assert english == filled(m.singular if n == 1 else m.plural, m, n)


def test_known_words_pick_the_russian_form() -> None:
    ru = load_translations("ru")

    def shown(singular: str, plural: str, n: int) -> str:
        return ru.ngettext(singular, plural, n) % {"count": n, "date": "01.12.2026"}

    day = ("until %(date)s · %(count)s day left", "until %(date)s · %(count)s days left")
    expected = {
        0: "осталось 0 дней",
        1: "остался 1 день",
        2: "осталось 2 дня",
        5: "осталось 5 дней",
        11: "осталось 11 дней",
        21: "остался 21 день",
        22: "осталось 22 дня",
    }
    for n, text in expected.items():
        assert shown(*day, n) == f"до 01.12.2026 · {text}"
    places = ("👥 %(count)s place", "👥 %(count)s places")
    assert [shown(*places, n) for n in (1, 2, 5, 21)] == [
        "👥 1 место",
        "👥 2 места",
        "👥 5 мест",
        "👥 21 место",
    ]
    people = ("%(count)s person did not come", "%(count)s people did not come")
    assert [shown(*people, n) for n in (1, 3, 12)] == [
        "Не пришёл 1 человек",
        "Не пришли 3 человека",
        "Не пришли 12 человек",
    ]
    en = load_translations("en")
    assert en.ngettext(*places, 1) % {"count": 1} == "👥 1 place"
    assert en.ngettext(*places, 2) % {"count": 2} == "👥 2 places"
    assert en.ngettext(*places, 0) % {"count": 0} == "👥 0 places"


# content/glossary.md, the English side: what the msgids and the YAML's English must not say.
EN_BANNED = {
    r"Опора": "in English the bot is Opora",
    r"«(?=\S)|(?<=\S)»": "English quotes are “…” (a « before a space is the back arrow)",
    r"\b[Tt]erritor(y|ies)\b": "“area” or “community”, not a calque of «территория»",
    r"\b[Oo]rganiz": "British spelling: organis…",
    r"\b[Cc]enters?\b": "British spelling: centre",
    r"\b[Pp]rograms?\b": "British spelling: programme",
    r"(?<!%)\(s\)": "a count is a plural message, never “(s)”",
}


def _english_problems(text: str) -> list[str]:
    return [f"{rule}: {text[:80]!r}" for p, rule in EN_BANNED.items() if re.search(p, text)]


def test_the_english_texts_follow_the_glossary() -> None:
    found = [problem for message in extracted() for problem in _english_problems(message)]
    found += [
        p
        for text in (t.en for t in walk_l10n(load_catalog(CONTENT_DIR)))
        for p in _english_problems(text)
    ]
    assert found == []
