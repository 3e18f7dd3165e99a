"""Content management for coordinators: the step-by-step forms of grants, articles and local
support measures (their steps, what a typed answer or a button means, the preview), saving and
closing with an audit entry in the same transaction, and the CSV import/export of grants and
articles (all-or-nothing: one bad row and nothing changes). A file is parsed in a worker
thread and written `IMPORT_CHUNK` rows at a time, the event loop free between chunks: a
2 000-row import held every other user for two seconds.

The rules of every field live in :mod:`bot.domain.csvio`; a form's draft is checked by the
same code as a CSV row, so both accept exactly the same items.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, Literal, TypeAlias, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.content import Catalog
from bot.domain import csvio
from bot.domain.csvio import (
    ArticleItem,
    GrantItem,
    Invalid,
    MeasureItem,
    Parsed,
    RowError,
    Vocabulary,
)
from bot.domain.errors import StaleButton
from bot.domain.grants import Opening, opening
from bot.domain.windows import Window, parse_windows
from bot.infra.clock import Clock
from bot.services.catalogs import ArticleView, GrantView, Plain
from bot.services.measures import Card
from bot.storage import audit as audit_repo
from bot.storage import catalogs as catalogs_repo
from bot.storage import content_admin as repo
from bot.storage import measures as measures_repo
from bot.storage.tables import articles, grants, local_measures

__all__ = [
    "FORMS",
    "IMPORT_CHUNK",
    "KINDS",
    "ContentAdminService",
    "GrantPreview",
    "ImportReport",
    "Item",
    "Kind",
    "Step",
]


def _(message: str) -> str:
    """Marks a message id for extraction; it is translated where it is shown."""
    return message


IMPORT_CHUNK = 50  # rows an import writes before it lets other updates run (~20 ms)


Kind = Literal["grant", "article", "measure"]
KINDS: tuple[Kind, ...] = ("grant", "article", "measure")
Item: TypeAlias = GrantItem | ArticleItem | MeasureItem
PREFIX: dict[str, str] = {"grant": "G", "article": "A", "measure": "L"}
TABLES: dict[str, Table] = {"grant": grants, "article": articles, "measure": local_measures}
CSV_KINDS: frozenset[str] = frozenset({"grant", "article"})

NOT_OPEN = _(
    "there is no open {value} to update (closed, or never added): leave the id empty to add "
    "the row as a new one"
)

Input = Literal[
    "text", "link", "window", "topics", "phases", "stages", "region", "type", "phase", "problems"
]
MULTI: frozenset[str] = frozenset({"topics", "phases", "stages", "problems"})


@dataclass(frozen=True)
class Step:
    """One question of a form: the draft field it fills and how it is answered."""

    name: str
    input: Input
    limit: int = 0
    optional: bool = False
    multiline: bool = False

    @property
    def typed(self) -> bool:
        """Answered by typing (the others by buttons; the window by either)."""
        return self.input in ("text", "link", "window")


FORMS: dict[str, tuple[Step, ...]] = {
    "grant": (
        Step("title", "text", csvio.TITLE_LIMIT),
        Step("organiser", "text", csvio.NAME_LIMIT),
        Step("link", "link", csvio.LINK_LIMIT),
        Step("who", "text", csvio.LONG_LIMIT, multiline=True),
        Step("amount", "text", csvio.NAME_LIMIT, optional=True),
        Step("topics", "topics"),
        Step("phases", "phases"),
        Step("region", "region"),
        Step("windows", "window"),
    ),
    "article": (
        Step("title", "text", csvio.TITLE_LIMIT),
        Step("link", "link", csvio.LINK_LIMIT),
        Step("summary", "text", csvio.SUMMARY_LIMIT, multiline=True),
        Step("topics", "topics"),
        Step("stages", "stages"),
    ),
    "measure": (
        Step("title", "text", csvio.TITLE_LIMIT),
        Step("description", "text", csvio.LONG_LIMIT, multiline=True),
        Step("type", "type"),
        Step("phase", "phase"),
        Step("region", "region"),
        Step("topics", "topics"),
        Step("problems", "problems", optional=True),
        Step("contact", "text", csvio.NAME_LIMIT),
        Step("link", "link", csvio.LINK_LIMIT, optional=True),
    ),
}


def step_of(kind: str, name: str) -> Step:
    """The step ``name`` of the ``kind`` form; StaleButton for anything else (forged data)."""
    for step in FORMS.get(kind, ()):
        if step.name == name:
            return step
    raise StaleButton


def key_of(kind: str, item_id: int) -> str:
    """How users and the audit log know the item: G12, A5, L3."""
    return f"{PREFIX[kind]}{item_id}"


@dataclass(frozen=True)
class GrantPreview:
    """A grant as activists will see it in /grants, seen from ``tz``."""

    view: GrantView
    found: Opening  # its status in /grants now, with the window open now or next


@dataclass(frozen=True)
class ImportReport:
    """An import's outcome: with any error nothing was applied."""

    errors: tuple[RowError, ...] = ()
    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()  # rows equal to the saved item: not written, not audited


def _cells(draft: Mapping[str, Any]) -> dict[str, str]:
    """A form's draft as the cells of a CSV row (so both are checked by the same rules)."""
    cells: dict[str, str] = {}
    for name, value in draft.items():
        if value is None:
            cells[name] = ""
        elif name == "windows":
            cells[name] = csvio.format_windows(parse_windows(value))
        elif isinstance(value, list | tuple):
            cells[name] = "|".join(str(v) for v in value)
        else:
            cells[name] = str(value)
    return cells


def draft_of(item: Item) -> dict[str, Any]:
    """A saved item as a form's draft (JSON-friendly, kept in the FSM storage)."""
    draft: dict[str, Any] = {}
    for f in fields(item):
        value = getattr(item, f.name)
        if f.name in ("id", "created_at"):
            continue
        if f.name == "windows":
            value = [w.to_spec() for w in value]
        elif isinstance(value, tuple):
            value = list(value)
        draft[f.name] = value
    return draft


class ContentAdminService:
    def __init__(self, engine: AsyncEngine, clock: Clock, catalog: Catalog) -> None:
        self.engine = engine
        self.clock = clock
        self.catalog = catalog
        self.vocabulary = Vocabulary(
            topics=tuple(t.code for t in catalog.topics),
            phases=tuple(p.code for p in catalog.phases),
            regions=frozenset(r.code for r in catalog.regions),
            stages=tuple(s.number for s in catalog.stages),
            types=tuple(t.code for t in catalog.measure_types),
            problems=tuple(p.code for g in catalog.problem_groups for p in g.items),
        )

    # --- reading ---

    async def items(self, kind: str) -> list[Item]:
        """The open items coordinators added, oldest first."""
        async with self.engine.connect() as conn:
            return await self._open_items(conn, kind)

    @staticmethod
    async def _open_items(conn: AsyncConnection, kind: str) -> list[Item]:
        if kind == "grant":
            return list(await catalogs_repo.open_grants(conn))
        if kind == "article":
            return list(await catalogs_repo.open_articles(conn))
        if kind == "measure":
            return list(await measures_repo.open_measures(conn))
        raise StaleButton

    async def item(self, kind: str, item_id: int) -> Item | None:
        """An open item; None: closed meanwhile, or never was."""
        async with self.engine.connect() as conn:
            return await self._item(conn, kind, item_id)

    @staticmethod
    async def _item(conn: AsyncConnection, kind: str, item_id: int) -> Item | None:
        if kind == "grant":
            return await catalogs_repo.grant(conn, item_id)
        if kind == "article":
            return await catalogs_repo.article(conn, item_id)
        if kind == "measure":
            return await measures_repo.measure(conn, item_id)
        raise StaleButton

    # --- the forms ---

    @staticmethod
    def new_draft(kind: str, timezone: str) -> dict[str, Any]:
        """An empty draft; a grant's dates are in its author's zone."""
        step_of(kind, "title")
        return {"timezone": timezone} if kind == "grant" else {}

    def today(self, timezone: str) -> date:
        return self.clock.now().astimezone(ZoneInfo(timezone)).date()

    def accept(
        self, kind: str, name: str, text: str, timezone: str, draft: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A typed answer to step ``name``: the draft's changes, or Invalid with a hint.

        Typed usual dates (every year, shown as expected) replace the grant's windows; a typed
        dated contest (confirmed) replaces only the confirmed ones, so the usual dates stay for
        the years after — unless they were in another time zone."""
        step = step_of(kind, name)
        if step.input == "link":
            return {name: csvio.clean_link(text, required=not step.optional)}
        if step.input == "window":
            window = csvio.parse_typed_window(text, self.today(timezone))
            windows = [window.to_spec()]
            if window.kind == "fixed" and draft.get("timezone") == timezone:
                windows = [w for w in draft.get(name) or [] if "yearly" in w] + windows
            return {name: windows, "timezone": timezone}
        if step.input == "text":
            value = csvio.clean_text(
                text, limit=step.limit, multiline=step.multiline, required=not step.optional
            )
            return {name: value}
        raise StaleButton  # a button step: typed text is answered with a hint by the caller

    def choose(
        self, kind: str, name: str, draft: Mapping[str, Any], value: str, timezone: str
    ) -> dict[str, Any]:
        """A button of step ``name``: a toggle of a multi-select, or a single choice
        ("-" — none: federal, every region, any phase; "always" — a window all year)."""
        step = step_of(kind, name)
        known: Sequence[str] = ()
        if step.input in MULTI:
            if step.input == "stages":
                known = [str(n) for n in self.vocabulary.stages]
            else:
                known = getattr(self.vocabulary, step.input)
            if value not in known:
                raise StaleButton
            current = [str(v) for v in draft.get(name) or []]
            chosen = [v for v in current if v != value] if value in current else [*current, value]
            ordered = [v for v in known if v in chosen]  # the catalog's order
            return {name: [int(v) for v in ordered] if step.input == "stages" else ordered}
        if step.input == "window" and value == "always":
            return {name: [Window.always().to_spec()], "timezone": timezone}
        if step.input == "region":
            if value == "-":
                return {name: None}
            if value not in self.vocabulary.regions:
                raise StaleButton
            return {name: value}
        if step.input == "type" and value in self.vocabulary.types:
            return {name: value}
        if step.input == "phase" and (value == "-" or value in self.vocabulary.phases):
            return {name: None if value == "-" else value}
        raise StaleButton

    def build(self, kind: str, draft: Mapping[str, Any], item_id: int | None) -> Item:
        """The item of a finished draft; RowInvalid names the steps still wrong."""
        cells = _cells(draft)
        cells["id"] = "" if item_id is None else str(item_id)
        if kind == "grant":
            timezone = str(draft.get("timezone") or "Europe/Moscow")
            return csvio.grant_from_cells(cells, self.vocabulary, timezone)
        if kind == "article":
            return csvio.article_from_cells(cells, self.vocabulary)
        if kind == "measure":
            return csvio.measure_from_cells(cells, self.vocabulary)
        raise StaleButton

    # --- previews: the item as activists will see it ---

    def grant_preview(self, item: GrantItem, viewer_tz: str) -> GrantPreview:
        now = self.clock.now()
        view = GrantView(
            key=key_of("grant", item.id) if item.id else "G",
            title=Plain(item.title), organiser=Plain(item.organiser), site="", link=item.link,
            who=Plain(item.who), amount=Plain(item.amount) if item.amount else None, note=None,
            topics=item.topics, phases=item.phases, region=item.region, timezone=item.timezone,
            windows=item.windows,
        )  # fmt: skip
        return GrantPreview(view, opening(view.key, item.windows, item.timezone, now))

    @staticmethod
    def article_view(item: ArticleItem) -> ArticleView:
        return ArticleView(
            key=key_of("article", item.id) if item.id else "A",
            title=Plain(item.title),
            summary=Plain(item.summary),
            link=item.link,
            source="",
            topics=item.topics,
            stages=item.stages,
        )

    @staticmethod
    def measure_card(item: MeasureItem) -> Card:
        return Card(match=None, local=item)

    # --- saving and closing ---

    @staticmethod
    async def _save(conn: AsyncConnection, item: Item, actor: int, now: datetime) -> int:
        if isinstance(item, GrantItem):
            return await repo.save_grant(conn, item, actor, now)
        if isinstance(item, ArticleItem):
            return await repo.save_article(conn, item, actor, now)
        return await repo.save_measure(conn, item, actor, now)

    async def save(self, actor: int, kind: str, item: Item) -> str:
        """Add or update the item and audit it (one transaction); its key (G12, A5, L3).
        StaleButton when the item was closed while being edited."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            saved = await self._save(conn, item, actor, now)
            if not saved:
                raise StaleButton
            key = key_of(kind, saved)
            action = f"{kind}.{'add' if item.id is None else 'edit'}"
            await audit_repo.add(conn, actor, action, key, {"title": item.title}, now)
        return key

    async def close(self, actor: int, kind: str, item_id: int) -> bool:
        """Close an item (users no longer see it); False if it was closed already."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            closed = await repo.close(conn, TABLES[kind], item_id, now)
            if closed:
                await audit_repo.add(conn, actor, f"{kind}.close", key_of(kind, item_id), {}, now)
        return closed

    # --- CSV ---

    async def export(self, kind: str) -> bytes:
        """The open items of ``kind`` (grants or articles) as a CSV file (see csvio)."""
        items = await self.items(kind)
        if kind == "grant":
            return csvio.export_grants(cast(list[GrantItem], items))
        if kind == "article":
            return csvio.export_articles(cast(list[ArticleItem], items))
        raise StaleButton

    def parse(self, kind: str, data: bytes, default_timezone: str) -> Parsed[Any]:
        if kind == "grant":
            return csvio.parse_grants(data, self.vocabulary, default_timezone)
        if kind == "article":
            return csvio.parse_articles(data, self.vocabulary)
        raise StaleButton

    async def import_csv(
        self, actor: int, kind: str, data: bytes, default_timezone: str
    ) -> ImportReport:
        """Check every row, then apply them all in one transaction — or, with any problem,
        nothing. Rows with an id update that open item; rows without one add new items.
        Parsed in a worker thread, written in chunks with the loop free between them."""
        parsed = await asyncio.to_thread(self.parse, kind, data, default_timezone)
        if not parsed.ok:
            return ImportReport(errors=parsed.errors)
        now = self.clock.now()
        added: list[str] = []
        updated: list[str] = []
        unchanged: list[str] = []
        async with self.engine.begin() as conn:
            current = {item.id: item for item in await self._open_items(conn, kind)}
            errors = tuple(
                RowError.of(line, "id", Invalid(NOT_OPEN, value=key_of(kind, item.id)))
                for line, item in parsed.rows
                if item.id is not None and item.id not in current
            )
            if errors:
                return ImportReport(errors=errors)
            for at, (_line, item) in enumerate(parsed.rows):
                if at and not at % IMPORT_CHUNK:
                    await asyncio.sleep(0)  # on SQLite the statements run on the loop: yield
                if item.id is not None and current[item.id] == item:
                    unchanged.append(key_of(kind, item.id))
                    continue
                saved = await self._save(conn, item, actor, now)
                if not saved:  # closed meanwhile: roll everything back
                    raise StaleButton
                key = key_of(kind, saved)
                (added if item.id is None else updated).append(key)
                action = f"{kind}.{'add' if item.id is None else 'edit'}"
                details = {"title": item.title, "via": "csv"}
                await audit_repo.add(conn, actor, action, key, details, now)
        return ImportReport(added=tuple(added), updated=tuple(updated), unchanged=tuple(unchanged))
