"""The seed as a typed, validated catalog: ``content/*.yaml`` → :class:`Catalog`.

Every list of the seed lives once in ``content/`` and everything else refers to its items by
stable ASCII snake_case codes. :func:`load_catalog` validates the files (shape, both languages,
unique codes, cross-references) and raises :class:`ContentError` naming file, entry and reason.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, Protocol, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    model_validator,
)

from bot.domain.fields import (
    HttpsLink,
    HttpsLinkOrEmpty,
    IsoDate,
    MonthDayText,
    TimeZone,
    site_of,
)
from bot.domain.windows import Occurrence, Window, current_or_next
from bot.domain.zones import (
    DISTRICTS,
    District,
    Region,
    Zone,
    find_regions,
    load_regions,
    regions_in,
    regions_of_district,
)

# libyaml's parser when PyYAML has it (several times faster at start-up), the same safe loader.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

__all__ = [
    "CONTENT_DIR",
    "AdditionalMeasure",
    "Article",
    "Catalog",
    "ContentError",
    "CrisisReaction",
    "Definition",
    "FixedDates",
    "Grant",
    "GrantWindow",
    "Ikigai",
    "IkigaiColumn",
    "Item",
    "L10n",
    "Measure",
    "MeasureTags",
    "MeasureType",
    "Phase",
    "ProblemGroup",
    "Quiz",
    "QuizOption",
    "QuizQuestion",
    "Source",
    "Stage",
    "SupportCondition",
    "Topic",
    "UnknownCodeError",
    "Way",
    "YearlyDates",
    "get_catalog",
    "load_catalog",
]

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
STAGE_NUMBERS = frozenset(range(1, 8))
IKIGAI_COLUMNS = ("want", "can", "need")

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$", max_length=40)]
# quiz codes are short, so that "quiz:<question>:<option>" fits into 64 bytes of callback data
QuizCode = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$", max_length=24)
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class ContentError(Exception):
    """A content file is missing or invalid; the message names file, entry and reason."""


class UnknownCodeError(KeyError):
    """A lookup by a code that the catalog does not have."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class L10n(_Model):
    """A user-visible string in every supported language."""

    ru: Text
    en: Text

    def get(self, locale: str | None) -> str:
        """The text for ``locale`` ("en", "en-US", "ru", ...); anything else falls back to ru."""
        lang = (locale or "").replace("_", "-").partition("-")[0].lower()
        return self.en if lang == "en" else self.ru


def _at_most(limit: int) -> Callable[[L10n], L10n]:
    def check(value: L10n) -> L10n:
        for lang, text in (("ru", value.ru), ("en", value.en)):
            if len(text) > limit:
                raise ValueError(f"{lang} has {len(text)} characters, at most {limit} allowed")
        return value

    return check


Short28 = Annotated[L10n, AfterValidator(_at_most(28))]
Short40 = Annotated[L10n, AfterValidator(_at_most(40))]
Line160 = Annotated[L10n, AfterValidator(_at_most(160))]
Text200 = Annotated[L10n, AfterValidator(_at_most(200))]
Text300 = Annotated[L10n, AfterValidator(_at_most(300))]
Text400 = Annotated[L10n, AfterValidator(_at_most(400))]
Title100 = Annotated[L10n, AfterValidator(_at_most(100))]


class Item(_Model):
    """A plain list item: a stage factor or risk, a problem, a benefit for the authorities."""

    code: Code
    name: L10n


class Stage(_Model):
    code: Code
    number: Annotated[int, Field(ge=1, le=7)]
    phase: Code
    name: L10n
    content: L10n
    factors: Annotated[tuple[Item, ...], Field(min_length=1)]
    risks: Annotated[tuple[Risk, ...], Field(min_length=1)]
    next_step: Text300  # our own text, not the seed's


class CrisisReaction(_Model):
    code: Code
    name: L10n
    description: L10n
    advice: Text400  # our own text, not the seed's
    # our own: how to get from this reaction to the negotiating table sooner (not on the last)
    sooner: Text300 | None = None


class Risk(_Model):
    """A stage's risk: the seed's name, and our own one-line meaning of it."""

    code: Code
    name: L10n
    meaning: Text200  # our own text, not the seed's


class ProblemGroup(_Model):
    code: Code
    name: L10n
    items: Annotated[tuple[Item, ...], Field(min_length=1)]


class Topic(_Model):
    code: Code
    name: L10n
    short: Short28


class Phase(_Model):
    code: Code
    name: L10n
    stage_numbers: Annotated[tuple[int, ...], Field(min_length=1)]


class MeasureType(_Model):
    code: Code
    name: L10n


# ── ways to get a measure (measures.yaml, additional_measures.yaml: our own content) ─────────

SiteName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
FACTS = "content-facts"  # a `source`: /work/shared/content-facts.md, the project's checked facts
WAYS_SHOWN = 3  # the card shows every way, so a measure has at most this many


def _site_and_link_agree(site: str, link: str) -> None:
    """``site`` («мойбизнес.рф») and ``link`` (its https URL in punycode): both or neither,
    and the link leads to that site."""
    if not link and site:
        raise ValueError(f"link: empty, but site is {site!r} (give both or neither)")
    if link and not site:
        raise ValueError("site: empty, but there is a link (give both or neither)")
    if link and site_of(link) != site.lower():
        raise ValueError(f"link: its domain {site_of(link)!r} is not the site {site!r}")


def _check_source(value: str) -> str:
    if value != FACTS and not (
        value.startswith(("https://", "http://")) and not any(c.isspace() for c in value)
    ):
        raise ValueError(
            f"must be {FACTS!r} or the address of the page the fact was checked on, got {value!r}"
        )
    return value


CheckSource = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(_check_source),
]


class Way(_Model):
    """A concrete, real way to get a measure anywhere in Russia: an organisation or programme
    that exists in every region or online. Our own wording.

    ``checked`` is the day the facts of this way were checked, and ``source`` where: "content-
    facts" or the address of the page; ``checked: null`` (written out) where nobody checked.
    A way without a link (a kind of regional organisation, or a site we are not sure of) says
    why in ``no_link``.
    """

    name: Title100
    gives: Line160  # what it gives, one line
    who: Line160  # who may use it
    first_step: Line160  # how to start, one imperative line
    site: SiteName = ""  # human-readable: «мойбизнес.рф»
    link: HttpsLinkOrEmpty = ""  # https, Cyrillic domains in punycode
    no_link: Text200 | None = None  # why there is no link; only without one
    checked: IsoDate | None  # required: a date, or null
    source: CheckSource | None = None  # required with a date, none without

    @model_validator(mode="after")
    def _consistent(self) -> Way:
        _site_and_link_agree(self.site, self.link)
        if not self.link and self.no_link is None:
            raise ValueError("no_link: a way without a link says why (no_link: {ru, en})")
        if self.link and self.no_link is not None:
            raise ValueError("no_link: given, but the way has a link")
        if self.checked is not None and self.source is None:
            raise ValueError("source: a checked way names where it was checked")
        if self.checked is None and self.source is not None:
            raise ValueError("checked: null, but there is a source (give a date or neither)")
        return self


class _WithWays(_Model):
    """Ways to get a catalog measure: one to :data:`WAYS_SHOWN`, or ``no_nationwide_way: true``
    with ``no_way_reason`` (e.g. a municipal concession); the card then suggests asking the
    coordinator."""

    ways: Annotated[tuple[Way, ...], Field(max_length=WAYS_SHOWN)] = ()
    no_nationwide_way: Literal[True] | None = None
    no_way_reason: Text300 | None = None

    @model_validator(mode="after")
    def _ways_or_reason(self) -> _WithWays:
        if self.ways and (self.no_nationwide_way or self.no_way_reason is not None):
            raise ValueError("ways: given, so no_nationwide_way and no_way_reason must be absent")
        if not self.ways and not self.no_nationwide_way:
            raise ValueError(
                "ways: at least one way, or no_nationwide_way: true with no_way_reason"
            )
        if self.no_nationwide_way and self.no_way_reason is None:
            raise ValueError("no_way_reason: no_nationwide_way needs the reason {ru, en}")
        return self


class Measure(_WithWays):
    code: Code
    phase: Code
    type: Code
    name: L10n
    description: L10n


class AdditionalMeasure(_WithWays):
    code: Code
    name: L10n
    description: L10n
    types: tuple[Code, ...] = ()


class SupportCondition(_Model):
    code: Code
    name: L10n
    short: Short40


class IkigaiColumn(_Model):
    code: Code
    title: L10n
    prompt: L10n


class Ikigai(_Model):
    title: L10n
    max_entries: Annotated[int, Field(ge=1, le=10)]
    columns: tuple[IkigaiColumn, ...]

    def column(self, code: str) -> IkigaiColumn:
        return _get({c.code: c for c in self.columns}, "ikigai column", code)


class QuizOption(_Model):
    """One answer button; ``weights`` maps a stage number (1–7) to the points of evidence."""

    code: QuizCode
    label: Short40
    weights: dict[Annotated[int, Field(ge=1, le=7)], Annotated[int, Field(ge=1, le=10)]]


class QuizQuestion(_Model):
    code: QuizCode
    text: Text200
    options: Annotated[tuple[QuizOption, ...], Field(min_length=3, max_length=4)]

    def option(self, code: str) -> QuizOption:
        return _get({o.code: o for o in self.options}, f"option of question {self.code!r}", code)


class Quiz(_Model):
    """The stage quiz (quiz.yaml, our own content); scored by :mod:`bot.domain.quiz`."""

    title: L10n
    questions: Annotated[tuple[QuizQuestion, ...], Field(min_length=1)]

    def question(self, code: str) -> QuizQuestion:
        return _get({q.code: q for q in self.questions}, "quiz question", code)


class MeasureTags(_Model):
    """Our expert tagging of one measure (matching.yaml): what it helps with, what it fits."""

    code: Code  # a measure of measures.yaml or additional_measures.yaml
    problems: Annotated[tuple[Code, ...], Field(min_length=1)]  # project_problems.yaml items
    topics: tuple[Code, ...] = ()  # topics.yaml; empty: fits every topic
    crises: tuple[Code, ...] = ()  # crisis_reactions.yaml


class Definition(_Model):
    code: Code
    term: L10n
    text: L10n


class Source(_Model):
    title: L10n
    author: L10n


# ── grants and articles (grants.yaml, articles.yaml: our starter catalogs) ──────────────────


StageNumber = Annotated[int, Field(ge=1, le=7)]


class YearlyDates(_Model):
    """Every year from ``open`` to ``close`` ("MM-DD"); close before open spans New Year."""

    open: MonthDayText
    close: MonthDayText


class FixedDates(_Model):
    """One dated window, ``open`` ≤ ``close``."""

    open: date
    close: date

    @model_validator(mode="after")
    def _ordered(self) -> FixedDates:
        if self.open > self.close:
            raise ValueError(
                f"open {self.open.isoformat()} is after close {self.close.isoformat()}"
            )
        return self


class GrantWindow(_Model):
    """One application window: exactly one of ``yearly``, ``fixed``, ``always: true``.

    The dates are in the grant's time zone; see :mod:`bot.domain.windows` for their meaning.
    """

    yearly: YearlyDates | None = None
    fixed: FixedDates | None = None
    always: Literal[True] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> GrantWindow:
        given = [k for k in ("yearly", "fixed", "always") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"a window needs exactly one of yearly, fixed, always; got {given or 'none'}"
            )
        return self

    def to_window(self) -> Window:
        """The domain window (its ``to_spec()`` is this entry's YAML/JSON shape)."""
        return Window.from_spec(self.model_dump(mode="json", exclude_none=True))


class Grant(_Model):
    """A grant programme or contest with its application windows (grants.yaml)."""

    code: Code
    title: Title100
    organiser: L10n
    site: SiteName  # «президентскиегранты.рф»; empty: no verified site
    link: HttpsLinkOrEmpty  # https, punycode; empty only with an empty site
    who: Text300
    amount: Text200 | None = None
    topics: tuple[Code, ...] = ()  # topics.yaml; empty: any topic
    phases: tuple[Code, ...] = ()  # measures.yaml phases; empty: any phase
    region: Code | None = None  # regions.yaml; None: federal
    timezone: TimeZone = "Europe/Moscow"
    windows: tuple[GrantWindow, ...]  # empty: no known dates, see the note and the site
    note: Text400

    @model_validator(mode="after")
    def _site_and_link(self) -> Grant:
        _site_and_link_agree(self.site, self.link)
        return self

    def application_windows(self) -> tuple[Window, ...]:
        return tuple(w.to_window() for w in self.windows)

    def occurrence(self, now: datetime) -> Occurrence | None:
        """The window open at ``now``, else the next one to open; None if none is known."""
        return current_or_next(self.application_windows(), self.timezone, now)


class Article(_Model):
    """A best-practice article: our own summary and a link to a real source (articles.yaml)."""

    code: Code
    title: Title100
    summary: Text400
    link: HttpsLink
    source: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    topics: tuple[Code, ...] = ()  # topics.yaml; empty: any topic
    stages: Annotated[tuple[StageNumber, ...], Field(min_length=1)]


_T = TypeVar("_T")


class _Coded(Protocol):
    @property
    def code(self) -> str: ...


_C = TypeVar("_C", bound=_Coded)


def _index(items: Iterable[_C]) -> dict[str, _C]:
    return {item.code: item for item in items}


def _get(index: Mapping[str, _T], kind: str, code: str) -> _T:
    try:
        return index[code]
    except KeyError:
        raise UnknownCodeError(f"unknown {kind} code {code!r}") from None


class Catalog(_Model):
    """Everything in ``content/``, validated; look items up by their codes."""

    titles: dict[str, L10n]
    source: Source
    definitions: tuple[Definition, ...]
    stages: tuple[Stage, ...]
    phases: tuple[Phase, ...]
    measure_types: tuple[MeasureType, ...]
    measures: tuple[Measure, ...]
    additional_measures: tuple[AdditionalMeasure, ...]
    crisis_reactions: tuple[CrisisReaction, ...]
    problem_groups: tuple[ProblemGroup, ...]
    topics: tuple[Topic, ...]
    authority_benefits: tuple[Item, ...]
    support_conditions: tuple[SupportCondition, ...]
    ikigai: Ikigai
    quiz: Quiz
    matching: tuple[MeasureTags, ...]
    zones: tuple[Zone, ...] = ()
    regions: tuple[Region, ...] = ()
    grants: tuple[Grant, ...] = ()
    articles: tuple[Article, ...] = ()

    _stages: dict[str, Stage] = PrivateAttr()
    _stage_numbers: dict[int, Stage] = PrivateAttr()
    _factors: dict[str, Item] = PrivateAttr()
    _risks: dict[str, Risk] = PrivateAttr()
    _phases: dict[str, Phase] = PrivateAttr()
    _measure_types: dict[str, MeasureType] = PrivateAttr()
    _measures: dict[str, Measure] = PrivateAttr()
    _additional: dict[str, AdditionalMeasure] = PrivateAttr()
    _reactions: dict[str, CrisisReaction] = PrivateAttr()
    _groups: dict[str, ProblemGroup] = PrivateAttr()
    _problems: dict[str, Item] = PrivateAttr()
    _topics: dict[str, Topic] = PrivateAttr()
    _benefits: dict[str, Item] = PrivateAttr()
    _conditions: dict[str, SupportCondition] = PrivateAttr()
    _definitions: dict[str, Definition] = PrivateAttr()
    _tags: dict[str, MeasureTags] = PrivateAttr()
    _zones: dict[str, Zone] = PrivateAttr()
    _regions: dict[str, Region] = PrivateAttr()
    _grants: dict[str, Grant] = PrivateAttr()
    _articles: dict[str, Article] = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        self._stages = _index(self.stages)
        self._stage_numbers = {s.number: s for s in self.stages}
        self._factors = _index(f for s in self.stages for f in s.factors)
        self._risks = _index(r for s in self.stages for r in s.risks)
        self._phases = _index(self.phases)
        self._measure_types = _index(self.measure_types)
        self._measures = _index(self.measures)
        self._additional = _index(self.additional_measures)
        self._reactions = _index(self.crisis_reactions)
        self._groups = _index(self.problem_groups)
        self._problems = _index(p for g in self.problem_groups for p in g.items)
        self._topics = _index(self.topics)
        self._benefits = _index(self.authority_benefits)
        self._conditions = _index(self.support_conditions)
        self._definitions = _index(self.definitions)
        self._tags = _index(self.matching)
        self._zones = {z.code: z for z in self.zones}
        self._regions = {r.code: r for r in self.regions}
        self._grants = _index(self.grants)
        self._articles = _index(self.articles)

    def stage(self, code: str) -> Stage:
        return _get(self._stages, "stage", code)

    def zone(self, code: str) -> Zone:
        return _get(self._zones, "zone", code)

    def region(self, code: str) -> Region:
        return _get(self._regions, "region", code)

    def regions_in(self, zone_code: str) -> tuple[Region, ...]:
        return regions_in(zone_code, self.regions)

    @property
    def districts(self) -> tuple[District, ...]:
        return DISTRICTS

    def district(self, code: str) -> District:
        return _get({d.code: d for d in DISTRICTS}, "district", code)

    def regions_of_district(self, district_code: str) -> tuple[Region, ...]:
        return regions_of_district(district_code, self.regions)

    def find_regions(self, query: str) -> tuple[Region, ...]:
        return find_regions(query, self.regions)

    def stage_by_number(self, number: int) -> Stage:
        try:
            return self._stage_numbers[number]
        except KeyError:
            raise UnknownCodeError(f"no stage number {number!r}") from None

    def factor(self, code: str) -> Item:
        return _get(self._factors, "factor", code)

    def risk(self, code: str) -> Risk:
        return _get(self._risks, "risk", code)

    def phase(self, code: str) -> Phase:
        return _get(self._phases, "phase", code)

    def phase_of_stage(self, number: int) -> Phase:
        return self.phase(self.stage_by_number(number).phase)

    def measure_type(self, code: str) -> MeasureType:
        return _get(self._measure_types, "measure type", code)

    def measure(self, code: str) -> Measure:
        return _get(self._measures, "measure", code)

    def measures_for(self, phase: str, measure_type: str | None = None) -> tuple[Measure, ...]:
        """Measures of a phase (and of one type), in the seed's order; unknown codes raise."""
        self.phase(phase)
        if measure_type is not None:
            self.measure_type(measure_type)
        return tuple(
            m
            for m in self.measures
            if m.phase == phase and (measure_type is None or m.type == measure_type)
        )

    def additional_measure(self, code: str) -> AdditionalMeasure:
        return _get(self._additional, "additional measure", code)

    def crisis_reaction(self, code: str) -> CrisisReaction:
        return _get(self._reactions, "crisis reaction", code)

    def problem_group(self, code: str) -> ProblemGroup:
        return _get(self._groups, "problem group", code)

    def problem(self, code: str) -> Item:
        return _get(self._problems, "problem", code)

    def topic(self, code: str) -> Topic:
        return _get(self._topics, "topic", code)

    def authority_benefit(self, code: str) -> Item:
        return _get(self._benefits, "authority benefit", code)

    def support_condition(self, code: str) -> SupportCondition:
        return _get(self._conditions, "support condition", code)

    def definition(self, code: str) -> Definition:
        return _get(self._definitions, "definition", code)

    def measure_tags(self, code: str) -> MeasureTags:
        """The matching tags of a matrix or additional measure."""
        return _get(self._tags, "measure", code)

    def grant(self, code: str) -> Grant:
        return _get(self._grants, "grant", code)

    def article(self, code: str) -> Article:
        return _get(self._articles, "article", code)


# ── file shapes ──────────────────────────────────────────────────────────────────────────────

_I = TypeVar("_I", bound=BaseModel)


class _ListFile(_Model, Generic[_I]):
    title: L10n
    items: tuple[_I, ...]


class _MeasuresFile(_ListFile[Measure]):
    phases: tuple[Phase, ...]
    types: tuple[MeasureType, ...]


class _InteractionFile(_ListFile[Definition]):
    source: Source


_M = TypeVar("_M", bound=BaseModel)


# ── loading ──────────────────────────────────────────────────────────────────────────────────


def _label(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _entry(key: object, index: int, node: object) -> str:
    code = node.get("code") if isinstance(node, dict) else None
    what = f"'{code}' (#{index + 1})" if isinstance(code, str) else f"#{index + 1}"
    return f"entry {what}" if key is None else f"{key} entry {what}"


def _describe(data: object, loc: Sequence[int | str]) -> str:
    """Turn a pydantic error location into "entry 'code' (#n): field.path"."""
    entries: list[str] = []
    path: list[str] = []
    node: object = data
    key: object = None
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            node = node[part]
            if isinstance(node, dict):
                top = not entries and key == "items"  # the file's main list: just "entry"
                entries.append(_entry(None if top else key, part, node))
                path = []
            else:
                path.append(f"[{part}]")
            continue
        path.append(str(part))
        key, node = part, node.get(part) if isinstance(node, dict) else None
    where = [", ".join(entries)] if entries else []
    if path:
        where.append(".".join(path).replace(".[", "["))
    return ": ".join(where) if where else "top level"


def _parse(directory: Path, name: str, model: type[_M]) -> _M:
    path = directory / name
    label = _label(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506
    except FileNotFoundError:
        raise ContentError(f"{label}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError(f"{label}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or exc
        raise ContentError(f"{label}: malformed YAML{where}: {reason}") from exc
    if data is None:
        raise ContentError(f"{label}: the file is empty")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{label}: {_describe(data, err['loc'])}: {msg}")
        raise ContentError("\n".join(lines)) from None


class _Problems:
    """Collects the semantic problems of all files and raises them together."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.lines: list[str] = []

    def add(self, name: str, where: str, reason: str) -> None:
        self.lines.append(f"{_label(self.directory / name)}: {where}: {reason}")

    def unique(
        self,
        name: str,
        items: Sequence[_Coded],
        key: str | None = None,
        within: str = "",
        seen: dict[str, str] | None = None,
    ) -> None:
        """Codes of ``items`` are unique (and not in ``seen``, shared across lists)."""
        seen = {} if seen is None else seen
        for i, item in enumerate(items):
            where = within + _entry(key, i, {"code": item.code})
            if item.code in seen:
                self.add(name, where, f"duplicate code (already used by {seen[item.code]})")
            else:
                seen[item.code] = where

    def known(self, name: str, where: str, field: str, value: str, codes: Sequence[str]) -> None:
        """``value`` of ``field`` refers to one of ``codes``."""
        if value not in codes:
            self.add(name, where, f"{field}: unknown code '{value}' (known: {', '.join(codes)})")

    def raise_if_any(self) -> None:
        if self.lines:
            raise ContentError("\n".join(self.lines))


def _at(items: Sequence[_Coded], index: int) -> str:
    return _entry(None, index, {"code": items[index].code})


def _check(
    p: _Problems,
    stages: _ListFile[Stage],
    measures: _MeasuresFile,
    additional: _ListFile[AdditionalMeasure],
    problems: _ListFile[ProblemGroup],
    ikigai: Ikigai,
) -> None:
    """Cross-references and the uniqueness of codes that span several lists."""
    traits: dict[str, str] = {}  # factor and risk codes are unique across all stages
    for i, stage in enumerate(stages.items):
        p.unique("stages.yaml", stage.factors, "factors", _at(stages.items, i) + ", ", traits)
        p.unique("stages.yaml", stage.risks, "risks", _at(stages.items, i) + ", ", traits)
    seen: dict[str, str] = {}  # problem codes are unique across both groups
    for i, group in enumerate(problems.items):
        p.unique(
            "project_problems.yaml", group.items, "items", _at(problems.items, i) + ", ", seen
        )
    matrix = {m.code: _at(measures.items, i) for i, m in enumerate(measures.items)}
    for i, extra in enumerate(additional.items):  # one namespace with the matrix measures
        if extra.code in matrix:
            where, other = _at(additional.items, i), matrix[extra.code]
            p.add("additional_measures.yaml", where, f"code is used by measures.yaml {other}")
    p.unique("measures.yaml", measures.phases, "phases")
    p.unique("measures.yaml", measures.types, "types")
    p.unique("ikigai.yaml", ikigai.columns, "columns")
    if (got := [c.code for c in ikigai.columns]) != list(IKIGAI_COLUMNS):
        p.add("ikigai.yaml", "columns", f"codes must be {list(IKIGAI_COLUMNS)}, got {got}")

    # the phases cover stages 1–7 exactly once, and every stage agrees with its phase
    covered: dict[int, str] = {}
    for i, phase in enumerate(measures.phases):
        for n in phase.stage_numbers:
            where = _entry("phases", i, {"code": phase.code})
            if n not in STAGE_NUMBERS:
                p.add("measures.yaml", where, f"stage_numbers: there is no stage {n} (only 1–7)")
            elif n in covered:
                p.add("measures.yaml", where, f"stage_numbers: {n} is in '{covered[n]}' already")
            covered.setdefault(n, phase.code)
    if missing := sorted(STAGE_NUMBERS - covered.keys()):
        p.add("measures.yaml", "phases", f"stages {missing} are in no phase")
    phases = [ph.code for ph in measures.phases]
    numbers: dict[int, str] = {}
    for i, stage in enumerate(stages.items):
        where = _at(stages.items, i)
        if stage.number in numbers:
            p.add(
                "stages.yaml",
                where,
                f"number: {stage.number} is used by '{numbers[stage.number]}'",
            )
        numbers.setdefault(stage.number, stage.code)
        p.known("stages.yaml", where, "phase", stage.phase, phases)
        if stage.phase in phases and covered.get(stage.number, stage.phase) != stage.phase:
            p.add(
                "stages.yaml",
                where,
                f"phase: measures.yaml puts stage {stage.number} in "
                f"'{covered[stage.number]}', not '{stage.phase}'",
            )
    if missing := sorted(STAGE_NUMBERS - numbers.keys()):
        p.add("stages.yaml", "items", f"no stage has number {missing}")

    # measures refer to known phases and types, and every cell of the matrix is filled
    types = [t.code for t in measures.types]
    for i, m in enumerate(measures.items):
        p.known("measures.yaml", _at(measures.items, i), "phase", m.phase, phases)
        p.known("measures.yaml", _at(measures.items, i), "type", m.type, types)
    cells = {(m.phase, m.type) for m in measures.items}
    for empty in [(ph, t) for ph in phases for t in types if (ph, t) not in cells]:
        p.add("measures.yaml", "items", f"no measure for phase '{empty[0]}', type '{empty[1]}'")
    for i, extra in enumerate(additional.items):
        for t in extra.types:
            p.known("additional_measures.yaml", _at(additional.items, i), "types", t, types)
    for name, items in (
        ("measures.yaml", measures.items),
        ("additional_measures.yaml", additional.items),
    ):
        _check_ways(p, name, items)


def _check_ways(
    p: _Problems, name: str, items: Sequence[Measure] | Sequence[AdditionalMeasure]
) -> None:
    """A measure's ways have distinct names and links; nothing is checked on a day to come."""
    today = datetime.now(UTC).date()
    for i, item in enumerate(items):
        for field, values in (
            ("name", [w.name.ru for w in item.ways]),
            ("link", [w.link for w in item.ways if w.link]),
        ):
            if dupes := sorted({v for v in values if values.count(v) > 1}):
                p.add(name, _at(items, i), f"ways: repeated {field} {dupes}")
        for j, way in enumerate(item.ways):
            if way.checked is not None and way.checked > today:
                p.add(
                    name,
                    f"{_at(items, i)}, ways entry #{j + 1}",
                    f"checked: {way.checked.isoformat()} is a day to come",
                )


def _check_quiz_and_matching(
    p: _Problems,
    quiz: _ListFile[QuizQuestion],
    matching: _ListFile[MeasureTags],
    measures: _MeasuresFile,
    additional: _ListFile[AdditionalMeasure],
    problems: _ListFile[ProblemGroup],
    topics: _ListFile[Topic],
    reactions: _ListFile[CrisisReaction],
) -> None:
    """The quiz gives evidence for every stage; the tagging covers every measure exactly once."""
    evidence: set[int] = set()
    for i, question in enumerate(quiz.items):
        p.unique("quiz.yaml", question.options, "options", _at(quiz.items, i) + ", ")
        evidence.update(n for o in question.options for n in o.weights)
    if missing := sorted(STAGE_NUMBERS - evidence):
        p.add("quiz.yaml", "items", f"no option gives evidence for stages {missing}")

    measure_codes = [m.code for m in measures.items] + [m.code for m in additional.items]
    problem_codes = [i.code for g in problems.items for i in g.items]
    topic_codes = [t.code for t in topics.items]
    reaction_codes = [r.code for r in reactions.items]
    addressed: set[str] = set()
    for i, tags in enumerate(matching.items):
        where = _at(matching.items, i)
        p.known("matching.yaml", where, "code", tags.code, measure_codes)
        for field, values, known in (
            ("problems", tags.problems, problem_codes),
            ("topics", tags.topics, topic_codes),
            ("crises", tags.crises, reaction_codes),
        ):
            for value in values:
                p.known("matching.yaml", where, field, value, known)
            if dupes := sorted({v for v in values if values.count(v) > 1}):
                p.add("matching.yaml", where, f"{field}: repeated codes {dupes}")
        addressed.update(tags.problems)
    tagged = {t.code for t in matching.items}
    if untagged := [c for c in measure_codes if c not in tagged]:
        p.add("matching.yaml", "items", f"measures without tags: {', '.join(untagged)}")
    if orphans := [c for c in problem_codes if c not in addressed]:
        p.add("matching.yaml", "items", f"no measure addresses problems: {', '.join(orphans)}")


def _check_grants_and_articles(
    p: _Problems,
    grants: _ListFile[Grant],
    articles: _ListFile[Article],
    topics: _ListFile[Topic],
    measures: _MeasuresFile,
    stages: _ListFile[Stage],
    regions: Sequence[Region],
) -> None:
    """Grants and articles refer to known topics, phases, regions and stages, once each."""
    topic_codes = [t.code for t in topics.items]
    phase_codes = [ph.code for ph in measures.phases]
    region_codes = [r.code for r in regions]
    stage_numbers = sorted(s.number for s in stages.items)
    for i, grant in enumerate(grants.items):
        where = _at(grants.items, i)
        for field, values, known in (
            ("topics", grant.topics, topic_codes),
            ("phases", grant.phases, phase_codes),
        ):
            for value in values:
                p.known("grants.yaml", where, field, value, known)
            if dupes := sorted({v for v in values if values.count(v) > 1}):
                p.add("grants.yaml", where, f"{field}: repeated codes {dupes}")
        if grant.region is not None and grant.region not in region_codes:
            p.add("grants.yaml", where, f"region: unknown region code '{grant.region}'")
        specs = [w.to_window() for w in grant.windows]
        if dupes := sorted({str(w.to_spec()) for w in specs if specs.count(w) > 1}):
            p.add("grants.yaml", where, f"windows: repeated windows {dupes}")
    for i, article in enumerate(articles.items):
        where = _at(articles.items, i)
        for value in article.topics:
            p.known("articles.yaml", where, "topics", value, topic_codes)
        if dupes := sorted({v for v in article.topics if article.topics.count(v) > 1}):
            p.add("articles.yaml", where, f"topics: repeated codes {dupes}")
        for n in article.stages:
            if n not in stage_numbers:
                p.add("articles.yaml", where, f"stages: there is no stage {n}")
        if repeated := sorted({n for n in article.stages if article.stages.count(n) > 1}):
            p.add("articles.yaml", where, f"stages: repeated numbers {repeated}")


def load_catalog(directory: Path) -> Catalog:
    """Load and validate every content file in ``directory``; raise :class:`ContentError`."""
    stages = _parse(directory, "stages.yaml", _ListFile[Stage])
    measures = _parse(directory, "measures.yaml", _MeasuresFile)
    additional = _parse(directory, "additional_measures.yaml", _ListFile[AdditionalMeasure])
    reactions = _parse(directory, "crisis_reactions.yaml", _ListFile[CrisisReaction])
    problems = _parse(directory, "project_problems.yaml", _ListFile[ProblemGroup])
    topics = _parse(directory, "topics.yaml", _ListFile[Topic])
    benefits = _parse(directory, "authority_benefits.yaml", _ListFile[Item])
    conditions = _parse(directory, "support_conditions.yaml", _ListFile[SupportCondition])
    ikigai = _parse(directory, "ikigai.yaml", Ikigai)
    interaction = _parse(directory, "interaction.yaml", _InteractionFile)
    quiz = _parse(directory, "quiz.yaml", _ListFile[QuizQuestion])
    matching = _parse(directory, "matching.yaml", _ListFile[MeasureTags])
    zones, regions = _load_regions(directory)
    grants = _parse(directory, "grants.yaml", _ListFile[Grant])
    articles = _parse(directory, "articles.yaml", _ListFile[Article])

    files: dict[str, _ListFile[Any]] = {
        "stages": stages,
        "measures": measures,
        "additional_measures": additional,
        "crisis_reactions": reactions,
        "project_problems": problems,
        "topics": topics,
        "authority_benefits": benefits,
        "support_conditions": conditions,
        "interaction": interaction,
        "quiz": quiz,
        "matching": matching,
        "grants": grants,
        "articles": articles,
    }
    p = _Problems(directory)
    for stem, file in files.items():
        p.unique(f"{stem}.yaml", file.items)
    _check(p, stages, measures, additional, problems, ikigai)
    _check_quiz_and_matching(p, quiz, matching, measures, additional, problems, topics, reactions)
    _check_grants_and_articles(p, grants, articles, topics, measures, stages, regions)
    p.raise_if_any()

    return Catalog(
        titles={stem: file.title for stem, file in files.items()} | {"ikigai": ikigai.title},
        source=interaction.source,
        definitions=interaction.items,
        stages=tuple(sorted(stages.items, key=lambda s: s.number)),
        phases=measures.phases,
        measure_types=measures.types,
        measures=measures.items,
        additional_measures=additional.items,
        crisis_reactions=reactions.items,
        problem_groups=problems.items,
        topics=topics.items,
        authority_benefits=benefits.items,
        support_conditions=conditions.items,
        ikigai=ikigai,
        quiz=Quiz(title=quiz.title, questions=quiz.items),
        matching=matching.items,
        zones=zones,
        regions=regions,
        grants=grants.items,
        articles=articles.items,
    )


def _load_regions(directory: Path) -> tuple[tuple[Zone, ...], tuple[Region, ...]]:
    path = directory / "regions.yaml"
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506
        return load_regions(data, at=datetime.now(UTC))
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise ContentError(f"{_label(path)}: {exc}") from None


@functools.cache
def get_catalog() -> Catalog:
    """The catalog of the repository's ``content/`` directory, loaded once."""
    return load_catalog(CONTENT_DIR)
