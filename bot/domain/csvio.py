"""What coordinators add: the field rules shared by the step-by-step forms and the CSV files,
and the CSV import/export of grants and articles (pure: no I/O, no clock — ``today`` is passed).

One validation path: a form's draft and a CSV row are both a mapping of column → text, checked
by :func:`grant_from_cells`, :func:`article_from_cells` or :func:`measure_from_cells`.

CSV format (what :func:`export_grants` / :func:`export_articles` write and the parsers read):

* UTF-8 with a BOM (Excel opens it as UTF-8), ``;`` between cells (the list separator of a
  Russian Excel), CRLF line ends, a header row of the column names, one row per item;
* reading accepts a BOM or none (and a UTF-16 or cp1251 file saved by Excel), ``;``, ``,`` or
  a tab (sniffed from the header row), CRLF or LF, columns in any order; rows with every cell
  empty are skipped;
* ``id``: ``G12`` / ``A5`` (or just ``12``) updates that item, empty adds a new one;
* lists (``topics``, ``phases``, ``stages``) are codes joined with ``|``; empty: any;
* ``region``: a region code, empty: federal; ``timezone``: an IANA zone, empty: the
  importer's own;
* ``windows``: ``yearly 09-01..10-15; fixed 2026-02-02..2026-03-16; always`` (see
  :mod:`bot.domain.windows`);
* a cell that starts with ``= + - @`` (or ``'``) is written with a leading ``'`` so that a
  spreadsheet never runs it as a formula; reading drops that one ``'`` again.

Problems are :class:`Invalid` with an English message id (translated where it is shown; one
with a count is a :class:`Plural`, whose form the count picks) and its parameters; a file's
problems are :class:`RowError` — line (the row number a spreadsheet shows, the header being
line 1), column and reason. One bad row makes the whole file bad: the caller applies nothing
unless :attr:`Parsed.errors` is empty.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Generic, Protocol, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

from pydantic import TypeAdapter, ValidationError

from bot.domain.fields import LINK_LIMIT as LINK_LIMIT  # a stored link's characters
from bot.domain.fields import (
    DayOutOfRange,
    IsoDate,
    Link,
    TimeZone,
    blank,
    check_day,
    day_range,
    format_month_day,
    parse_month_day,
)
from bot.domain.windows import Window

__all__ = [
    "ARTICLE_COLUMNS",
    "GRANT_COLUMNS",
    "ArticleItem",
    "GrantItem",
    "Invalid",
    "MeasureItem",
    "Parsed",
    "Plural",
    "RowError",
    "RowInvalid",
    "Translator",
    "Vocabulary",
    "article_cells",
    "article_from_cells",
    "clean_link",
    "clean_text",
    "export_articles",
    "export_grants",
    "format_windows",
    "grant_cells",
    "grant_from_cells",
    "measure_cells",
    "measure_from_cells",
    "parse_articles",
    "parse_grants",
    "parse_typed_window",
    "parse_windows_text",
    "readable_link",
]


def _(message: str) -> str:
    """Marks a message id for extraction; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class Plural:
    """A message id with a count: English singular and plural; the parameter ``count`` picks
    the form (Russian has three) where it is shown."""

    singular: str
    plural: str

    def english(self, count: int) -> str:
        return self.singular if count == 1 else self.plural


def n_(singular: str, plural: str) -> Plural:
    """Marks a message id with a count for extraction (keyword ``n_:1,2``)."""
    return Plural(singular, plural)


class Translator(Protocol):
    """What shows a problem: `bot.ui.render.Tr`, bound to the reader's language."""

    def _(self, message: str) -> str: ...

    def n_(self, singular: str, plural: str, n: int) -> str: ...


def _translated(reason: str | Plural, params: Mapping[str, str], tr: Translator) -> str:
    if isinstance(reason, Plural):
        return tr.n_(reason.singular, reason.plural, int(params["count"])).format(**params)
    return tr._(reason).format(**params)


# ── limits ──────────────────────────────────────────────────────────────────────────────────

TITLE_LIMIT = 200
NAME_LIMIT = 200  # organiser, amount, contact
LONG_LIMIT = 1000  # who may apply, a measure's description
SUMMARY_LIMIT = 400
FILE_LIMIT = 2_000_000  # bytes of a CSV file
ROW_LIMIT = 2000  # rows of a CSV file

# ── reasons (message ids) ───────────────────────────────────────────────────────────────────

EMPTY = _("this cannot be empty")
TOO_LONG = n_(
    "too long: {count} character, at most {limit}", "too long: {count} characters, at most {limit}"
)
ONE_LINE = _("must be one line, without line breaks")
CONTROL = _("contains invisible control characters")
LINK_SCHEME = _("a link must start with https://, like https://example.org/grant")
LINK_SPACES = _("a link cannot contain spaces")
LINK_HOST = _("the link has no valid site name: write it like https://example.org/page")
LINK_FORM = _("this is not a valid link: write it like https://example.org/page")
UNKNOWN_CODE = _("unknown code “{code}” (known: {known})")
REPEATED = _("“{code}” is listed twice")
BAD_STAGE = _("stages are numbers from 1 to 7 joined with |, got “{value}”")
NO_STAGE = _("choose at least one stage")
UNKNOWN_REGION = _("unknown region code “{code}”")
BAD_TIMEZONE = _("unknown time zone “{value}”: write an IANA zone like Europe/Moscow")
BAD_ID = _("“{value}” is not an id: leave it empty for a new item or write one like {example}")
DUPLICATE_ID = _("the id {value} is used by another row of this file too")
NO_WINDOW = _(
    "give at least one window: yearly MM-DD..MM-DD, fixed YYYY-MM-DD..YYYY-MM-DD or always"
)
BAD_WINDOW = _(
    "“{value}” is not a window: write yearly MM-DD..MM-DD, fixed YYYY-MM-DD..YYYY-MM-DD or always"
)
BAD_MONTH_DAY = _("“{value}” is not a day of the year (MM-DD)")
BAD_DATE = _("“{value}” is not a date (YYYY-MM-DD)")
CLOSE_BEFORE_OPEN = _("the closing date {close} is before the opening date {open}")
TYPED_WINDOW = _(
    "write two dates: the opening and the closing one, like 01.09 – 15.10 (every year) "
    "or 02.02.2026 – 16.03.2026 (one contest)"
)
TYPED_MIXED = _("write both dates with the year (DD.MM.YYYY) or both without it (DD.MM)")
TYPED_DATE = _("“{value}” is not a date: write DD.MM or DD.MM.YYYY")
ALREADY_CLOSED = _("this window closed on {close}, it is already over")
OUT_OF_RANGE = _("“{value}” is out of range: write a date from {earliest} to {latest}")
UNKNOWN_TYPE = _("unknown measure type “{code}”")
UNKNOWN_PHASE = _("unknown phase “{code}”")
# whole-file problems
NOT_TEXT = _("this is not a text CSV file: save the table as “CSV UTF-8”")
XLSX = _("this is an Excel workbook, not CSV: use “Save as” → “CSV UTF-8 (comma delimited)”")
TOO_BIG = n_(
    "the file is too big: at most {count} byte", "the file is too big: at most {count} bytes"
)
TOO_MANY_ROWS = n_(
    "too many rows: at most {count} row in one file",
    "too many rows: at most {count} rows in one file",
)
NO_HEADER = _("the first line must be the header: {columns}")
UNKNOWN_COLUMN = _("unknown column “{column}” (known: {columns})")
MISSING_COLUMN = _("the header has no column “{column}”")
REPEATED_COLUMN = _("the column “{column}” is in the header twice")
EXTRA_CELLS = n_(
    "this row has {count} cell, the header only {limit}",
    "this row has {count} cells, the header only {limit}",
)
BROKEN_CSV = _("the file cannot be read as CSV: {detail}")
NO_ROWS = _("the file has a header but no rows")


class Invalid(ValueError):
    """A value that breaks a rule: ``reason`` is an English message id with ``{params}`` (a
    :class:`Plural` has the parameter ``count``)."""

    def __init__(self, reason: str | Plural, **params: object) -> None:
        english = (
            reason.english(int(str(params["count"]))) if isinstance(reason, Plural) else reason
        )
        super().__init__(english.format(**params))
        self.reason = reason
        self.params = {key: str(value) for key, value in params.items()}

    def render(self, tr: Translator) -> str:
        """The reason in the reader's language."""
        return _translated(self.reason, self.params, tr)


@dataclass(frozen=True)
class RowError:
    """One problem of a file: ``line`` as a spreadsheet numbers rows (the header is 1; 0 —
    the file as a whole), ``column`` its header name ("" — the whole row)."""

    line: int
    column: str
    reason: str | Plural
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, line: int, column: str, problem: Invalid) -> RowError:
        return cls(line, column, problem.reason, tuple(problem.params.items()))

    def render(self, tr: Translator) -> str:
        return _translated(self.reason, dict(self.params), tr)


class RowInvalid(ValueError):
    """A row (or a form's draft) with one or more bad cells: ``errors`` are (column, problem)."""

    def __init__(self, errors: Sequence[tuple[str, Invalid]]) -> None:
        super().__init__("; ".join(f"{column}: {problem}" for column, problem in errors))
        self.errors = list(errors)


# ── what the rules refer to ─────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Vocabulary:
    """The codes of the catalog that items may use (built from ``content/`` by the caller)."""

    topics: tuple[str, ...]
    phases: tuple[str, ...]
    regions: frozenset[str]
    stages: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7)
    types: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class GrantItem:
    """A coordinator's grant (the ``grants`` table); ``id`` None: not saved yet."""

    title: str
    organiser: str
    link: str
    who: str
    windows: tuple[Window, ...]
    timezone: str
    amount: str | None = None
    topics: tuple[str, ...] = ()
    phases: tuple[str, ...] = ()
    region: str | None = None  # None: federal
    id: int | None = None


@dataclass(frozen=True)
class ArticleItem:
    """A coordinator's best-practice article (the ``articles`` table)."""

    title: str
    link: str
    summary: str
    stages: tuple[int, ...]
    topics: tuple[str, ...] = ()
    id: int | None = None


@dataclass(frozen=True)
class MeasureItem:
    """A coordinator's local support measure (the ``local_measures`` table)."""

    title: str
    description: str
    type: str
    contact: str
    phase: str | None = None  # None: any phase
    region: str | None = None  # None: every region
    topics: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    link: str | None = None
    id: int | None = None
    # When it was saved (None: not yet); not part of what a coordinator edits or imports.
    created_at: datetime | None = field(default=None, compare=False)

    @property
    def code(self) -> str:
        """The measure's code among the matched ones: L and its id."""
        return f"L{self.id}"


# ── field rules ─────────────────────────────────────────────────────────────────────────────

_LINE_BREAKS = str.maketrans({"\r": "\n", "\u2028": "\n", "\u2029": "\n", "\t": " "})


def clean_text(
    value: str, *, limit: int, multiline: bool = False, required: bool = True
) -> str | None:
    """Trimmed text of at most ``limit`` characters; line breaks only where ``multiline``.

    Empty (nothing visible: :func:`~bot.domain.fields.blank`): :data:`EMPTY` when
    ``required``, else None."""
    text = value.replace("\r\n", "\n").translate(_LINE_BREAKS).strip()
    if blank(text):
        if required:
            raise Invalid(EMPTY)
        return None
    for ch in text:
        if ch == "\n":
            if not multiline:
                raise Invalid(ONE_LINE)
        elif unicodedata.category(ch) in ("Cc", "Cs"):
            raise Invalid(CONTROL)
    if len(text) > limit:
        raise Invalid(TOO_LONG, count=len(text), limit=limit)
    return text


def _required_text(value: str, limit: int, *, multiline: bool = False) -> str:
    text = clean_text(value, limit=limit, multiline=multiline)
    assert text is not None
    return text


# the rules of bot.domain.fields; their errors are worded here (message ids, translated)
_LINK: TypeAdapter[str] = TypeAdapter(Link)
_TIME_ZONE: TypeAdapter[str] = TypeAdapter(TimeZone)
_LINK_REASONS: dict[str, str | Plural] = {
    "link_spaces": LINK_SPACES,
    "link_control": CONTROL,
    "link_form": LINK_FORM,
    "link_scheme": LINK_SCHEME,
    "link_host": LINK_HOST,
    "link_too_long": TOO_LONG,
}


def clean_link(value: str, *, required: bool = True) -> str | None:
    """A link by the rule of :data:`bot.domain.fields.Link`: an https URL to a site on the
    Internet, ASCII as Telegram wants it; empty: :data:`EMPTY` when ``required``, else None."""
    text = value.strip()
    if not text:
        if required:
            raise Invalid(EMPTY)
        return None
    try:
        return _LINK.validate_python(text)
    except ValidationError as exc:
        error = exc.errors()[0]
        reason = _LINK_REASONS.get(error["type"], LINK_FORM)
        params = dict(error.get("ctx", {}))
        if reason is TOO_LONG:
            params["count"] = params.pop("length")  # the count that picks the plural form
        raise Invalid(reason, **params) from None


def readable_link(link: str) -> str:
    """A link as people read it: the domain out of punycode, the path percent-decoded
    (for showing only; the stored link stays ASCII)."""
    try:
        parts = urlsplit(link)
        host = parts.hostname or ""
        shown = host.encode("ascii").decode("idna") if "xn--" in host else host
        netloc = shown if parts.port is None else f"{shown}:{parts.port}"
        return urlunsplit(
            (
                parts.scheme,
                netloc,
                unquote(parts.path),
                unquote(parts.query),
                unquote(parts.fragment),
            )
        )
    except (ValueError, UnicodeError):
        return link


def _codes(value: str, known: Sequence[str]) -> tuple[str, ...]:
    """Codes joined with ``|`` (spaces around them ignored); each known, none twice."""
    found: list[str] = []
    for part in value.split("|"):
        code = part.strip()
        if not code:
            continue
        if code not in known:
            raise Invalid(UNKNOWN_CODE, code=code, known=", ".join(known))
        if code in found:
            raise Invalid(REPEATED, code=code)
        found.append(code)
    return tuple(found)


def _stages(value: str, known: Sequence[int]) -> tuple[int, ...]:
    found: list[int] = []
    for part in value.split("|"):
        text = part.strip()
        if not text:
            continue
        if not text.isdigit() or int(text) not in known:
            raise Invalid(BAD_STAGE, value=text)
        if int(text) in found:
            raise Invalid(REPEATED, code=text)
        found.append(int(text))
    if not found:
        raise Invalid(NO_STAGE)
    return tuple(found)


def _region(value: str, known: frozenset[str]) -> str | None:
    code = value.strip()
    if not code:
        return None
    if code not in known:
        raise Invalid(UNKNOWN_REGION, code=code)
    return code


def _one_of(value: str, known: Sequence[str], reason: str, *, required: bool) -> str | None:
    code = value.strip()
    if not code:
        if required:
            raise Invalid(EMPTY)
        return None
    if code not in known:
        raise Invalid(reason, code=code)
    return code


def _timezone(value: str, default: str) -> str:
    name = value.strip() or default
    try:
        return _TIME_ZONE.validate_python(name)
    except ValidationError:
        raise Invalid(BAD_TIMEZONE, value=name) from None


def _id(value: str, prefix: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    match = re.fullmatch(rf"(?i:{prefix})?\s*(\d{{1,9}})", text)
    if match is None or int(match[1]) == 0:
        raise Invalid(BAD_ID, value=text, example=f"{prefix}12")
    return int(match[1])


# ── windows as text ─────────────────────────────────────────────────────────────────────────


def format_window(window: Window) -> str:
    """``yearly 09-01..10-15``, ``fixed 2026-02-02..2026-03-16`` or ``always``."""
    if window.kind == "always":
        return "always"
    if window.kind == "yearly":
        assert isinstance(window.open, tuple)
        assert isinstance(window.close, tuple)
        return f"yearly {format_month_day(window.open)}..{format_month_day(window.close)}"
    opens, closes = window.dates()
    return f"fixed {opens.isoformat()}..{closes.isoformat()}"


def format_windows(windows: Iterable[Window]) -> str:
    return "; ".join(format_window(w) for w in windows)


_WINDOW = re.compile(r"(yearly|fixed)\s+(\S+?)\s*\.\.\s*(\S+)", re.IGNORECASE)
_ISO_DATE: TypeAdapter[date] = TypeAdapter(IsoDate)


# The dates of a file's windows: its history too (an export re-imported years later), but
# nothing a time zone cannot convert. Typed dates are held closer to today (`_typed_day`).
FILE_DAYS: tuple[date, date] = (date(2000, 1, 1), date(2099, 12, 31))
TYPED_DAYS_BACK = timedelta(days=2 * 366)  # a contest typed in may have opened long ago


def _in_range(day: date, value: str, earliest: date, latest: date, shown: str) -> date:
    try:
        return check_day(day, earliest, latest)
    except DayOutOfRange:
        raise Invalid(
            OUT_OF_RANGE,
            value=value,
            earliest=earliest.strftime(shown),
            latest=latest.strftime(shown),
        ) from None


def _iso_date(text: str) -> date:
    try:
        day = _ISO_DATE.validate_python(text)
    except ValidationError:
        raise Invalid(BAD_DATE, value=text) from None
    return _in_range(day, text, *FILE_DAYS, "%Y-%m-%d")


def parse_windows_text(text: str) -> tuple[Window, ...]:
    """The compact text of :func:`format_windows` back to windows (``;`` or a line break
    between them); at least one."""
    windows: list[Window] = []
    for part in re.split(r"[;\n]", text):
        spec = part.strip()
        if not spec:
            continue
        if spec.lower() == "always":
            windows.append(Window.always())
            continue
        match = _WINDOW.fullmatch(spec)
        if match is None:
            raise Invalid(BAD_WINDOW, value=spec)
        kind, opens, closes = match[1].lower(), match[2], match[3]
        if kind == "yearly":
            days = []
            for value in (opens, closes):
                try:
                    days.append(parse_month_day(value))
                except ValueError:
                    raise Invalid(BAD_MONTH_DAY, value=value) from None
            windows.append(Window.yearly(days[0], days[1]))
            continue
        first, last = _iso_date(opens), _iso_date(closes)
        if last < first:
            raise Invalid(CLOSE_BEFORE_OPEN, open=first.isoformat(), close=last.isoformat())
        windows.append(Window.fixed(first, last))
    if not windows:
        raise Invalid(NO_WINDOW)
    return tuple(windows)


_TYPED_DAY = re.compile(r"(\d{1,2})[./](\d{1,2})(?:[./](\d{4}))?(?!\d)")
_FILLER = re.compile(r"(?i)\s|[-–—]|\.\.|\b(?:from|to|till|until|с|по|до)\b")


def _ru_date(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def parse_typed_window(text: str, today: date | None = None) -> Window:
    """A window the coordinator typed: ``01.09 – 15.10`` every year (over New Year when the
    closing day comes earlier in the year), or ``02.02.2026 – 16.03.2026`` once. The dates are
    in the coordinator's zone (the caller stores that zone with the grant). With ``today``
    a one-time window must not have closed already, and its dates lie within two years of
    it (without: within :data:`FILE_DAYS`)."""
    found = list(_TYPED_DAY.finditer(text))
    rest = _FILLER.sub("", _TYPED_DAY.sub("", text))
    if len(found) != 2 or rest:
        raise Invalid(TYPED_WINDOW)
    years = [m[3] for m in found]
    if (years[0] is None) != (years[1] is None):
        raise Invalid(TYPED_MIXED)
    if years[0] is None:
        days = []
        for m in found:
            try:
                days.append(parse_month_day(f"{int(m[2]):02d}-{int(m[1]):02d}"))
            except ValueError:
                raise Invalid(TYPED_DATE, value=m[0]) from None
        return Window.yearly(days[0], days[1])
    dates = []
    for m in found:
        try:
            day = date(int(m[3]), int(m[2]), int(m[1]))
        except ValueError:
            raise Invalid(TYPED_DATE, value=m[0]) from None
        bounds = day_range(today, TYPED_DAYS_BACK) if today is not None else FILE_DAYS
        dates.append(_in_range(day, m[0], *bounds, "%d.%m.%Y"))
    first, last = dates
    if last < first:
        raise Invalid(CLOSE_BEFORE_OPEN, open=_ru_date(first), close=_ru_date(last))
    if today is not None and last < today:
        raise Invalid(ALREADY_CLOSED, close=_ru_date(last))
    return Window.fixed(first, last)


# ── items ⇄ cells ───────────────────────────────────────────────────────────────────────────

GRANT_COLUMNS = (
    "id", "title", "organiser", "link", "who", "amount", "topics", "phases", "region",
    "windows", "timezone",
)  # fmt: skip
GRANT_REQUIRED = frozenset({"title", "organiser", "link", "who", "windows"})
ARTICLE_COLUMNS = ("id", "title", "link", "summary", "topics", "stages")
ARTICLE_REQUIRED = frozenset({"title", "link", "summary", "stages"})
MEASURE_COLUMNS = (
    "id", "title", "description", "type", "phase", "region", "topics", "problems", "contact",
    "link",
)  # fmt: skip


_V = TypeVar("_V")


class _Cells:
    """Reads the cells of one row (or draft), collecting a problem per bad column."""

    def __init__(self, cells: Mapping[str, str]) -> None:
        self.cells = cells
        self.errors: list[tuple[str, Invalid]] = []

    def take(self, column: str, rule: Callable[[str], _V], fallback: _V) -> _V:
        try:
            return rule(self.cells.get(column) or "")
        except Invalid as problem:
            self.errors.append((column, problem))
            return fallback

    def check(self) -> None:
        if self.errors:
            raise RowInvalid(self.errors)


def grant_cells(item: GrantItem) -> dict[str, str]:
    return {
        "id": f"G{item.id}" if item.id is not None else "",
        "title": item.title,
        "organiser": item.organiser,
        "link": item.link,
        "who": item.who,
        "amount": item.amount or "",
        "topics": "|".join(item.topics),
        "phases": "|".join(item.phases),
        "region": item.region or "",
        "windows": format_windows(item.windows),
        "timezone": item.timezone,
    }


def grant_from_cells(
    cells: Mapping[str, str], vocabulary: Vocabulary, default_timezone: str
) -> GrantItem:
    """A grant from its cells; RowInvalid names every bad column."""
    row = _Cells(cells)
    item = GrantItem(
        id=row.take("id", lambda v: _id(v, "G"), None),
        title=row.take("title", lambda v: _required_text(v, TITLE_LIMIT), ""),
        organiser=row.take("organiser", lambda v: _required_text(v, NAME_LIMIT), ""),
        link=row.take("link", lambda v: clean_link(v) or "", ""),
        who=row.take("who", lambda v: _required_text(v, LONG_LIMIT, multiline=True), ""),
        amount=row.take("amount", lambda v: clean_text(v, limit=NAME_LIMIT, required=False), None),
        topics=row.take("topics", lambda v: _codes(v, vocabulary.topics), ()),
        phases=row.take("phases", lambda v: _codes(v, vocabulary.phases), ()),
        region=row.take("region", lambda v: _region(v, vocabulary.regions), None),
        windows=row.take("windows", parse_windows_text, ()),
        timezone=row.take("timezone", lambda v: _timezone(v, default_timezone), default_timezone),
    )
    row.check()
    return item


def article_cells(item: ArticleItem) -> dict[str, str]:
    return {
        "id": f"A{item.id}" if item.id is not None else "",
        "title": item.title,
        "link": item.link,
        "summary": item.summary,
        "topics": "|".join(item.topics),
        "stages": "|".join(str(n) for n in item.stages),
    }


def article_from_cells(cells: Mapping[str, str], vocabulary: Vocabulary) -> ArticleItem:
    row = _Cells(cells)
    item = ArticleItem(
        id=row.take("id", lambda v: _id(v, "A"), None),
        title=row.take("title", lambda v: _required_text(v, TITLE_LIMIT), ""),
        link=row.take("link", lambda v: clean_link(v) or "", ""),
        summary=row.take(
            "summary", lambda v: _required_text(v, SUMMARY_LIMIT, multiline=True), ""
        ),
        topics=row.take("topics", lambda v: _codes(v, vocabulary.topics), ()),
        stages=row.take("stages", lambda v: _stages(v, vocabulary.stages), ()),
    )
    row.check()
    return item


def measure_cells(item: MeasureItem) -> dict[str, str]:
    return {
        "id": f"L{item.id}" if item.id is not None else "",
        "title": item.title,
        "description": item.description,
        "type": item.type,
        "phase": item.phase or "",
        "region": item.region or "",
        "topics": "|".join(item.topics),
        "problems": "|".join(item.problems),
        "contact": item.contact,
        "link": item.link or "",
    }


def measure_from_cells(cells: Mapping[str, str], vocabulary: Vocabulary) -> MeasureItem:
    row = _Cells(cells)
    item = MeasureItem(
        id=row.take("id", lambda v: _id(v, "L"), None),
        title=row.take("title", lambda v: _required_text(v, TITLE_LIMIT), ""),
        description=row.take(
            "description", lambda v: _required_text(v, LONG_LIMIT, multiline=True), ""
        ),
        type=row.take(
            "type", lambda v: _one_of(v, vocabulary.types, UNKNOWN_TYPE, required=True) or "", ""
        ),
        phase=row.take(
            "phase", lambda v: _one_of(v, vocabulary.phases, UNKNOWN_PHASE, required=False), None
        ),
        region=row.take("region", lambda v: _region(v, vocabulary.regions), None),
        topics=row.take("topics", lambda v: _codes(v, vocabulary.topics), ()),
        problems=row.take("problems", lambda v: _codes(v, vocabulary.problems), ()),
        contact=row.take("contact", lambda v: _required_text(v, NAME_LIMIT), ""),
        link=row.take("link", lambda v: clean_link(v, required=False), None),
    )
    row.check()
    return item


# ── CSV files ───────────────────────────────────────────────────────────────────────────────

BOM = "\ufeff"
DELIMITER = ";"
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _guard(value: str) -> str:
    """A leading ``'`` before what a spreadsheet would run as a formula (or a leading ``'``)."""
    return "'" + value if value.startswith((*_FORMULA, "'")) else value


def _unguard(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith((*_FORMULA, "'")) else value


def spreadsheet(
    header: Sequence[str], rows: Iterable[Sequence[object]], *, delimiter: str = ","
) -> bytes:
    """Any export for spreadsheets: UTF-8 with BOM (Excel reads Cyrillic right), CRLF, cells
    a spreadsheet would run as a formula guarded with a leading ``'``."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([_guard(str(h)) for h in header])
    for row in rows:
        writer.writerow([_guard("" if v is None else str(v)) for v in row])
    return (BOM + buffer.getvalue()).encode("utf-8")


def _write(columns: Sequence[str], rows: Iterable[Mapping[str, str]]) -> bytes:
    return spreadsheet(
        columns, ([row.get(c, "") for c in columns] for row in rows), delimiter=DELIMITER
    )


def export_grants(items: Iterable[GrantItem]) -> bytes:
    """UTF-8 with a BOM, ``;``-separated, a header row, one row per grant."""
    return _write(GRANT_COLUMNS, (grant_cells(i) for i in items))


def export_articles(items: Iterable[ArticleItem]) -> bytes:
    return _write(ARTICLE_COLUMNS, (article_cells(i) for i in items))


_T = TypeVar("_T")


@dataclass(frozen=True)
class Parsed(Generic[_T]):
    """A parsed file: the good rows (line, item) and every problem; apply only if no errors."""

    rows: tuple[tuple[int, _T], ...] = ()
    errors: tuple[RowError, ...] = ()

    @property
    def items(self) -> list[_T]:
        return [item for _, item in self.rows]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Table:
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _decode(data: bytes) -> str:
    if data.startswith(b"PK\x03\x04"):
        raise Invalid(XLSX)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise Invalid(NOT_TEXT) from None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1251", errors="replace")  # Excel's «CSV» on a Russian Windows
    text = text.removeprefix(BOM)
    if "\x00" in text:
        raise Invalid(NOT_TEXT)
    return text


def _header_cells(line: str, delimiter: str) -> list[str]:
    try:
        return [
            c.strip().strip(BOM).lower() for c in next(csv.reader([line], delimiter=delimiter))
        ]
    except (csv.Error, StopIteration):
        return []


def _sniff(text: str, columns: Sequence[str]) -> str:
    """The delimiter that splits the header row into the most known column names."""
    first = text.lstrip("\r\n").split("\n", 1)[0].rstrip("\r")
    scores = {d: sum(c in columns for c in _header_cells(first, d)) for d in (";", ",", "\t")}
    best = max(scores, key=lambda d: scores[d])  # ties: the first, `;`
    if scores[best] == 0:
        raise Invalid(NO_HEADER, columns=DELIMITER.join(columns))
    return best


def _read(data: bytes, columns: Sequence[str], required: frozenset[str]) -> _Table:
    """Header and rows of a CSV file as dicts; file-level problems end the reading."""
    table = _Table()
    try:
        if len(data) > FILE_LIMIT:
            raise Invalid(TOO_BIG, count=FILE_LIMIT)
        text = _decode(data)
        delimiter = _sniff(text, columns)
    except Invalid as problem:
        table.errors.append(RowError.of(0, "", problem))
        return table
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 0
    header: list[str] = []
    try:
        for record in reader:
            line += 1
            if not header:
                if not any(c.strip() for c in record):
                    continue
                header = [c.strip().strip(BOM).lower() for c in record]
                table.errors += _check_header(header, columns, required)
                if table.errors:
                    return table
                continue
            if not any(c.strip() for c in record):
                continue
            if len(table.rows) >= ROW_LIMIT:
                table.errors.append(RowError.of(line, "", Invalid(TOO_MANY_ROWS, count=ROW_LIMIT)))
                return table
            extra = [c for c in record[len(header) :] if c.strip()]
            if extra:
                extra_cells = Invalid(EXTRA_CELLS, count=len(record), limit=len(header))
                table.errors.append(RowError.of(line, "", extra_cells))
                continue
            cells = {
                name: _unguard(record[i]) if i < len(record) else ""
                for i, name in enumerate(header)
            }
            table.rows.append((line, cells))
    except csv.Error as exc:
        table.errors.append(RowError.of(line + 1, "", Invalid(BROKEN_CSV, detail=exc)))
        return table
    if not header:
        table.errors.append(RowError.of(0, "", Invalid(NO_HEADER, columns=";".join(columns))))
    elif not table.rows and not table.errors:
        table.errors.append(RowError.of(0, "", Invalid(NO_ROWS)))
    return table


def _check_header(
    header: list[str], columns: Sequence[str], required: frozenset[str]
) -> list[RowError]:
    errors = []
    known = ", ".join(columns)
    seen: set[str] = set()
    for name in header:
        if name not in columns:
            errors.append(
                RowError.of(1, name, Invalid(UNKNOWN_COLUMN, column=name, columns=known))
            )
        elif name in seen:
            errors.append(RowError.of(1, name, Invalid(REPEATED_COLUMN, column=name)))
        seen.add(name)
    for name in columns:
        if name in required and name not in seen:
            errors.append(RowError.of(1, name, Invalid(MISSING_COLUMN, column=name)))
    return errors


def _parse(
    data: bytes,
    columns: Sequence[str],
    required: frozenset[str],
    build: Callable[[Mapping[str, str]], _T],
    item_id: Callable[[_T], int | None],
    prefix: str,
) -> Parsed[_T]:
    table = _read(data, columns, required)
    rows: list[tuple[int, _T]] = []
    errors = list(table.errors)
    seen: dict[int, int] = {}
    for line, cells in table.rows:
        try:
            item = build(cells)
        except RowInvalid as bad:
            errors += [RowError.of(line, column, problem) for column, problem in bad.errors]
            continue
        key = item_id(item)
        if key is not None:
            if key in seen:
                errors.append(
                    RowError.of(line, "id", Invalid(DUPLICATE_ID, value=f"{prefix}{key}"))
                )
                continue
            seen[key] = line
        rows.append((line, item))
    errors.sort(key=lambda e: (e.line, columns.index(e.column) if e.column in columns else -1))
    return Parsed(tuple(rows), tuple(errors))


def parse_grants(data: bytes, vocabulary: Vocabulary, default_timezone: str) -> Parsed[GrantItem]:
    """Every row checked; ``errors`` name line, column and reason of each problem."""
    return _parse(
        data,
        GRANT_COLUMNS,
        GRANT_REQUIRED,
        lambda cells: grant_from_cells(cells, vocabulary, default_timezone),
        lambda item: item.id,
        "G",
    )


def parse_articles(data: bytes, vocabulary: Vocabulary) -> Parsed[ArticleItem]:
    return _parse(
        data,
        ARTICLE_COLUMNS,
        ARTICLE_REQUIRED,
        lambda cells: article_from_cells(cells, vocabulary),
        lambda item: item.id,
        "A",
    )
