"""CSV import/export of grants and articles and the field rules the forms share (pure)."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.content import get_catalog
from bot.domain import csvio
from bot.domain.csvio import (
    ArticleItem,
    GrantItem,
    Invalid,
    RowError,
    Vocabulary,
    clean_link,
    clean_text,
    export_articles,
    export_grants,
    parse_articles,
    parse_grants,
    parse_typed_window,
    parse_windows_text,
)
from bot.domain.windows import Window
from bot.ui.render import Renderer

RENDERER = Renderer()
ENGLISH, RUSSIAN = RENDERER.bind("en"), RENDERER.bind("ru")

CATALOG = get_catalog()
VOCABULARY = Vocabulary(
    topics=tuple(t.code for t in CATALOG.topics),
    phases=tuple(p.code for p in CATALOG.phases),
    regions=frozenset(r.code for r in CATALOG.regions),
    stages=tuple(s.number for s in CATALOG.stages),
)
MSK = "Europe/Moscow"

GRANT = GrantItem(
    id=12,
    title="Грант «Добрые соседи», 2026",
    organiser='Фонд "Опора"; ресурсный центр',
    link="https://example.org/grants?id=1&x=2",
    who="НКО и инициативные группы\nиз сёл, до 5 человек",
    amount="до 500 000 ₽",
    topics=("culture", "social_services"),
    phases=("origin", "formalization"),
    region="nvs",
    windows=(
        Window.yearly((9, 1), (10, 15)),
        Window.fixed(date(2026, 2, 2), date(2026, 3, 16)),
        Window.always(),
    ),
    timezone="Asia/Novosibirsk",
)
ARTICLE = ArticleItem(
    id=5,
    title="Как написать первую заявку",
    link="https://example.org/article",
    summary="Начните с проблемы, а не с бюджета.\nОдна цель, 3–5 задач.",
    topics=("prevention",),
    stages=(1, 2, 3),
)
GRANT_HEADER = "id;title;organiser;link;who;amount;topics;phases;region;windows;timezone"


def grants_csv(*rows: str, header: str = GRANT_HEADER, end: str = "\r\n") -> bytes:
    return (end.join([header, *rows]) + end).encode("utf-8")


def reasons(errors: tuple[RowError, ...]) -> list[tuple[int, str, str]]:
    return [(e.line, e.column, e.render(ENGLISH)) for e in errors]


# --- round trip and format ---


def test_export_then_parse_gives_the_same_items() -> None:
    data = export_grants([GRANT, GrantItem(**{**GRANT.__dict__, "id": None, "amount": None})])
    parsed = parse_grants(data, VOCABULARY, MSK)
    assert parsed.errors == ()
    assert parsed.items == [GRANT, GrantItem(**{**GRANT.__dict__, "id": None, "amount": None})]
    assert [line for line, _ in parsed.rows] == [2, 3]

    articles = parse_articles(export_articles([ARTICLE]), VOCABULARY)
    assert articles.errors == ()
    assert articles.items == [ARTICLE]


def test_export_is_utf8_with_bom_header_and_compact_lists() -> None:
    data = export_grants([GRANT])
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows[0] == list(csvio.GRANT_COLUMNS)
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["id"] == "G12"
    assert row["topics"] == "culture|social_services"
    assert row["phases"] == "origin|formalization"
    assert row["windows"] == "yearly 09-01..10-15; fixed 2026-02-02..2026-03-16; always"
    assert row["who"] == GRANT.who  # a line break inside a quoted cell
    assert "\r\n" in text  # CRLF between rows, as Excel writes them
    article = export_articles([ARTICLE]).decode("utf-8-sig").splitlines()
    assert article[0] == "id;title;link;summary;topics;stages"
    assert article[1].startswith("A5;")
    assert article[-1].endswith(";prevention;1|2|3")


def test_a_formula_is_never_run_by_a_spreadsheet_and_comes_back_intact() -> None:
    tricky = GrantItem(**{**GRANT.__dict__, "title": '=HYPERLINK("x")', "amount": "-5%"})
    data = export_grants([tricky])
    assert ';"\'=HYPERLINK(""x"")";' in data.decode("utf-8-sig")
    assert parse_grants(data, VOCABULARY, MSK).items == [tricky]


def test_semicolons_commas_lf_and_no_bom_are_all_accepted() -> None:
    row = ";Грант;Фонд;https://example.org;НКО;;culture;;;yearly 09-01..10-15;"
    semicolon_lf = grants_csv(row, end="\n")
    assert not semicolon_lf.startswith(b"\xef\xbb\xbf")
    parsed = parse_grants(semicolon_lf, VOCABULARY, MSK)
    assert parsed.errors == ()
    assert parsed.items[0].title == "Грант"
    assert parsed.items[0].timezone == MSK  # empty: the importer's zone
    assert parsed.items[0].windows == (Window.yearly((9, 1), (10, 15)),)

    comma = (
        "\ufefftitle,organiser,link,who,windows,topics\r\n"
        '"Грант, с запятой",Фонд,https://example.org,"НКО, группы","fixed 2026-02-02..2026-03-16; '
        'always",culture|prevention\r\n'
    ).encode()
    parsed = parse_grants(comma, VOCABULARY, MSK)
    assert parsed.errors == ()
    [item] = parsed.items
    assert (item.title, item.who, item.id) == ("Грант, с запятой", "НКО, группы", None)
    assert item.topics == ("culture", "prevention")
    assert len(item.windows) == 2


def test_excel_files_in_other_encodings_are_read() -> None:
    text = "title;organiser;link;who;windows\r\nГрант;Фонд;https://example.org;НКО;always\r\n"
    for data in (text.encode("cp1251"), text.encode("utf-16")):
        parsed = parse_grants(data, VOCABULARY, MSK)
        assert parsed.errors == ()
        assert parsed.items[0].title == "Грант"


def test_blank_rows_are_skipped_and_lines_are_spreadsheet_rows() -> None:
    data = grants_csv(
        ";A;Фонд;https://example.org;НКО;;;;;always;",
        ";;;;;;;;;;",
        ';B;Фонд;https://example.org;"НКО\nна двух строках";;;;;always;',
        ";C;Фонд;javascript:alert(1);НКО;;;;;always;",
    )
    parsed = parse_grants(data, VOCABULARY, MSK)
    assert [(e.line, e.column) for e in parsed.errors] == [(5, "link")]


# --- bad rows: each named with line and column; any of them and nothing is applied ---


GOOD = {
    "id": "",
    "title": "Грант",
    "organiser": "Фонд",
    "link": "https://example.org",
    "who": "НКО",
    "amount": "",
    "topics": "",
    "phases": "",
    "region": "",
    "windows": "always",
    "timezone": "",
}


def grant_row(**cells: str) -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=";", lineterminator="").writerow({**GOOD, **cells}.values())
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("cells", "column", "reason"),
    [
        ({"link": "javascript:alert(1)"}, "link", "must start with https://"),
        ({"link": "https://exa mple.org"}, "link", "cannot contain spaces"),
        ({"link": "https://localhost"}, "link", "no valid site name"),
        ({"topics": "culture|ecology"}, "topics", "unknown code “ecology”"),
        ({"windows": "fixed 2026-02-30..2026-03-16"}, "windows", "not a date"),
        ({"windows": "yearly 13-01..10-15"}, "windows", "not a day of the year"),
        ({"windows": "fixed 2026-03-16..2026-02-02"}, "windows", "is before the opening date"),
        ({"windows": "always; someday"}, "windows", "“someday” is not a window"),
        ({"windows": "fixed 0001-01-01..2026-03-16"}, "windows", "“0001-01-01” is out of range"),
        ({"windows": "fixed 2026-01-01..9999-12-31"}, "windows", "from 2000-01-01 to 2099-12-31"),
        ({"windows": ""}, "windows", "give at least one window"),
        ({"title": ""}, "title", "cannot be empty"),
        ({"title": "Г" * 201}, "title", "too long: 201 characters, at most 200"),
        ({"who": "Н" * 1001}, "who", "too long: 1001 characters, at most 1000"),
        ({"region": "xx"}, "region", "unknown region code “xx”"),
        ({"timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
        ({"id": "A5"}, "id", "is not an id"),
    ],
)
def test_a_bad_row_is_named_with_line_and_column(
    cells: dict[str, str], column: str, reason: str
) -> None:
    parsed = parse_grants(grants_csv(grant_row(), grant_row(**cells)), VOCABULARY, MSK)
    assert [(e.line, e.column) for e in parsed.errors] == [(3, column)]
    assert reason in parsed.errors[0].render(ENGLISH)
    assert not parsed.ok
    assert parsed.items == [
        GrantItem("Грант", "Фонд", "https://example.org", "НКО", (Window.always(),), MSK)
    ]


def test_every_problem_of_a_row_is_reported() -> None:
    data = grants_csv(
        ";;Фонд;ftp://example.org;НКО;;ecology|culture;;;fixed 2026-03-16..2026-02-02;"
    )
    assert [(e.line, e.column) for e in parse_grants(data, VOCABULARY, MSK).errors] == [
        (2, "title"),
        (2, "link"),
        (2, "topics"),
        (2, "windows"),
    ]


def test_bad_articles() -> None:
    header = "id;title;link;summary;topics;stages"
    rows = [
        "A1;Статья;https://example.org;Кратко;;1|2",
        "A1;Ещё;https://example.org;Кратко;;3",
        ";Статья;https://example.org;" + "x" * 401 + ";;8",
        ";Статья;https://example.org;Кратко;;",
    ]
    parsed = parse_articles(("\n".join([header, *rows]) + "\n").encode(), VOCABULARY)
    assert reasons(parsed.errors) == [
        (3, "id", "the id A1 is used by another row of this file too"),
        (4, "summary", "too long: 401 characters, at most 400"),
        (4, "stages", "stages are numbers from 1 to 7 joined with |, got “8”"),
        (5, "stages", "choose at least one stage"),
    ]


@pytest.mark.parametrize(
    ("length", "english", "russian"),
    [
        (
            201,
            "too long: 201 characters, at most 200",
            "слишком длинно: 201 символ, можно не больше 200",
        ),
        (
            202,
            "too long: 202 characters, at most 200",
            "слишком длинно: 202 символа, можно не больше 200",
        ),
        (
            211,
            "too long: 211 characters, at most 200",
            "слишком длинно: 211 символов, можно не больше 200",
        ),
    ],
)
def test_a_count_in_a_reason_picks_its_plural_form(
    length: int, english: str, russian: str
) -> None:
    with pytest.raises(Invalid) as caught:
        clean_text("ж" * length, limit=200)
    assert caught.value.render(ENGLISH) == english
    assert caught.value.render(RUSSIAN) == russian
    assert str(caught.value) == english


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "the first line must be the header"),
        (b"name;value\r\nx;y\r\n", "the first line must be the header"),
        (GRANT_HEADER.encode() + b"\r\n", "has a header but no rows"),
        (b"PK\x03\x04rest-of-a-zip", "Excel workbook"),
    ],
)
def test_bad_files(data: bytes, reason: str) -> None:
    parsed = parse_grants(data, VOCABULARY, MSK)
    assert [e.line for e in parsed.errors] == [0]
    assert reason in parsed.errors[0].render(ENGLISH)


def test_header_problems() -> None:
    data = b"title;organiser;link;who;price\r\nA;B;https://example.org;C\r\n"
    assert reasons(parse_grants(data, VOCABULARY, MSK).errors) == [
        (1, "price", "unknown column “price” (known: " + ", ".join(csvio.GRANT_COLUMNS) + ")"),
        (1, "windows", "the header has no column “windows”"),
    ]
    extra = grants_csv(";Грант;Фонд;https://example.org;НКО;;;;;always;;surplus")
    assert [(e.line, e.column) for e in parse_grants(extra, VOCABULARY, MSK).errors] == [(2, "")]


# --- the field rules of the forms ---


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://example.org", "https://example.org"),
        ("  http://Example.ORG/a b  ", None),
        ("http://example.org", None),
        ("https://192.168.0.1/", None),
        ("https://президентскиегранты.рф/", "https://xn--80afcdbalict6afooklqi5o.xn--p1ai/"),
        ("https://example.org/путь?q=да", "https://example.org/%D0%BF%D1%83%D1%82%D1%8C?q=%D0%B4%D0%B0"),
        ("javascript:alert(1)", None),
        ("example.org", None),
        ("https://user:pw@example.org", None),
        ("https://example", None),
        ("https://example.org:99999", None),
        ("data:text/html,hi", None),
    ],
)  # fmt: skip
def test_links(link: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(Invalid):
            clean_link(link)
    else:
        assert clean_link(link) == expected
        assert clean_link(expected) == expected


def test_links_are_shown_readable() -> None:
    stored = clean_link("https://добрыесоседи.рф/грант?q=да")
    assert stored is not None
    assert stored.isascii()
    assert csvio.readable_link(stored) == "https://добрыесоседи.рф/грант?q=да"
    assert csvio.readable_link("https://example.org:8080/a%20b") == "https://example.org:8080/a b"


def test_texts() -> None:
    assert clean_text("  Грант  ", limit=10) == "Грант"
    assert clean_text("a\r\nb", limit=10, multiline=True) == "a\nb"
    assert clean_text("   ", limit=10, required=False) is None
    for bad in ["a\nb", "", "x" * 11, "a\x00b"]:
        with pytest.raises(Invalid):
            clean_text(bad, limit=10)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("01.12.2026 – 20.12.2026", Window.fixed(date(2026, 12, 1), date(2026, 12, 20))),
        ("1.12.2026-20.12.2026", Window.fixed(date(2026, 12, 1), date(2026, 12, 20))),
        ("с 01.09 по 15.10", Window.yearly((9, 1), (10, 15))),
        ("15.11 — 01.02", Window.yearly((11, 15), (2, 1))),  # over New Year
        ("29.02..31.03", Window.yearly((2, 29), (3, 31))),
    ],
)
def test_typed_windows(typed: str, expected: Window) -> None:
    assert parse_typed_window(typed, date(2026, 11, 29)) == expected


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("20.12.2026 – 01.12.2026", "is before the opening date"),
        ("01.12 – 20.12.2026", "both dates with the year"),
        ("31.02.2026 – 01.03.2026", "“31.02.2026” is not a date"),
        ("01.12.2026", "write two dates"),
        ("завтра", "write two dates"),
        ("01.09.26 – 15.10.26", "write two dates"),
        ("01.10.2026 – 15.11.2026", "already over"),
        ("01.01.0001 – 02.01.0001", "“01.01.0001” is out of range"),
        ("01.12.2026 – 31.12.9999", "write a date from 27.11.2024 to 29.11.2028"),
        ("01.11.2024 – 01.12.2026", "“01.11.2024” is out of range"),
    ],
)
def test_bad_typed_windows(typed: str, reason: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_typed_window(typed, date(2026, 11, 29))
    assert reason in caught.value.render(ENGLISH)


def test_windows_text_round_trip() -> None:
    text = "yearly 09-01..10-15; fixed 2026-02-02..2026-03-16; always"
    assert csvio.format_windows(parse_windows_text(text)) == text
    assert parse_windows_text("YEARLY 11-15 .. 02-01\nalways") == (
        Window.yearly((11, 15), (2, 1)),
        Window.always(),
    )


# --- property: any items survive export → parse ---

SAMPLE_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("абвгдеёжзийклмнопрстуфхцчшщъыьэюя АБВЖЯ«»—–;,\"'|=+-@.\n")),
        st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")),
    ),
    min_size=1,
    max_size=60,
)


def _text(limit: int, *, multiline: bool) -> st.SearchStrategy[str]:
    def ok(s: str) -> bool:
        try:
            return clean_text(s, limit=limit, multiline=multiline) == s
        except Invalid:
            return False

    return SAMPLE_TEXT.map(lambda s: s if multiline else s.replace("\n", " ")).filter(ok)


def _codes(known: tuple[str, ...]) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(known), unique=True, max_size=4).map(tuple)


_day = st.tuples(st.integers(1, 12), st.integers(1, 28))
_date = st.dates(date(2024, 1, 1), date(2030, 12, 31))
WINDOWS = st.one_of(
    st.just(Window.always()),
    st.tuples(_day, _day).map(lambda d: Window.yearly(*d)),
    st.tuples(_date, _date).map(lambda d: Window.fixed(min(d), max(d))),
)
LINKS = st.sampled_from(
    ["https://example.org", "https://sub.example.com/a/b?c=d&e=f#g", "https://xn--p1ai.xn--p1ai/x"]
)

GRANTS = st.builds(
    GrantItem,
    id=st.none() | st.integers(1, 10**6),
    title=_text(csvio.TITLE_LIMIT, multiline=False),
    organiser=_text(csvio.NAME_LIMIT, multiline=False),
    link=LINKS,
    who=_text(csvio.LONG_LIMIT, multiline=True),
    amount=st.none() | _text(csvio.NAME_LIMIT, multiline=False),
    topics=_codes(VOCABULARY.topics),
    phases=_codes(VOCABULARY.phases),
    region=st.none() | st.sampled_from(sorted(VOCABULARY.regions)),
    windows=st.lists(WINDOWS, min_size=1, max_size=3).map(tuple),
    timezone=st.sampled_from([MSK, "Asia/Kamchatka", "Europe/Kaliningrad"]),
)
ARTICLES = st.builds(
    ArticleItem,
    id=st.none() | st.integers(1, 10**6),
    title=_text(csvio.TITLE_LIMIT, multiline=False),
    link=LINKS,
    summary=_text(csvio.SUMMARY_LIMIT, multiline=True),
    topics=_codes(VOCABULARY.topics),
    stages=st.lists(st.integers(1, 7), unique=True, min_size=1, max_size=7).map(tuple),
)


def _unique_ids(items: list[GrantItem] | list[ArticleItem]) -> bool:
    ids = [i.id for i in items if i.id is not None]
    return len(ids) == len(set(ids))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(GRANTS, min_size=1, max_size=5).filter(_unique_ids))
def test_any_grants_survive_a_round_trip(items: list[GrantItem]) -> None:
    parsed = parse_grants(export_grants(items), VOCABULARY, MSK)
    assert parsed.errors == ()
    assert parsed.items == items


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ARTICLES, min_size=1, max_size=5).filter(_unique_ids))
def test_any_articles_survive_a_round_trip(items: list[ArticleItem]) -> None:
    parsed = parse_articles(export_articles(items), VOCABULARY)
    assert parsed.errors == ()
    assert parsed.items == items


@settings(max_examples=60, deadline=None)
@given(st.lists(GRANTS, min_size=1, max_size=3).filter(_unique_ids))
def test_a_comma_separated_lf_copy_reads_the_same(items: list[GrantItem]) -> None:
    """What another spreadsheet may write: no BOM, commas, LF — the same items."""
    rows = list(
        csv.reader(
            io.StringIO(export_grants(items).decode("utf-8-sig"), newline=""), delimiter=";"
        )
    )
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=",", lineterminator="\n").writerows(rows)
    parsed = parse_grants(buffer.getvalue().encode(), VOCABULARY, MSK)
    assert parsed.errors == ()
    assert parsed.items == items
