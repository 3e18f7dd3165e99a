"""One mechanism for UI strings: every string marked for gettext has a Russian translation."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.app import COMMANDS
from bot.config import ROOT
from bot.ui.render import Renderer

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
