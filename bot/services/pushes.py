"""The push planner: on every tick, enqueue what is due — weekly (or daily) digests at each
user's own local hour and deadline reminders for followed grants — into the outbox.

Nothing here sends; the outbox and its sender do. Dedup keys per (user, item, reason) make a
repeated or concurrent tick harmless. Nothing is planned into a user's quiet hours, for a
category they turned off, or for a user who blocked the bot.

Scale (see bench/planning.py: 100 000 users in one tick). A tick's users are split into pages
(`PAGE` ids, ascending) written to plan_claims (`open_tick`); whoever plans — this process, or
worker processes (bot/worker.py), in parallel — claims a page, reads everything it needs —
settings, stage, topics, follows, articles seen, volunteer profiles, what is planned already —
in one query each over the page's id range, and writes the page's pushes and marks it done in
one transaction: memory stays flat however many users there are, no page is planned twice, and
a crash mid-tick keeps the pages written (the rest is claimed again; dedup keys stop doubles).
What all users share is prepared once per tick: the grants due in
each zone, by region; the articles by stage; this week's local measures by phase and region;
the volunteer opportunities, indexed (`DigestOpportunities`). A part of a digest that depends on
a few facts of a user — the grants for their zone, phase, topics and region, say — is computed
once per tick for those facts; each section of the text is rendered and escaped for JSON once
(`_text`), and a digest's payload is its sections' pieces joined (`_payload`); the
opportunities section, the one with the most variants, is formatted without Jinja and checked
against the template's at the start of every tick.
While a page is planned, the next one is read and the one before it written.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import logging
import os
import time
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Generic, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from jinja2 import Template
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import SUPPORTED_LOCALES
from bot.content import Catalog
from bot.domain.matching import Candidate, Profile, phase_for_stage, rank
from bot.domain.opportunities import Listing, VolunteerFit
from bot.domain.schedule import (
    NEWCOMER_WAIT,
    allowed_at,
    digest_period,
    local_daytime,
    weekly_slot,
)
from bot.domain.windows import Occurrence, current_or_next, days_left, reminders_due
from bot.domain.zones import user_zone
from bot.infra.clock import Clock
from bot.services.catalogs import ArticleView, CatalogService, GrantView
from bot.services.measures import MeasureService, local_candidate
from bot.services.volunteering import DigestOpportunities, VolunteerRows, VolunteerService
from bot.storage import catalogs as catalogs_repo
from bot.storage import outbox as outbox_repo
from bot.storage import plan_claims as claims_repo
from bot.storage import pushes as repo
from bot.storage.outbox import Encoded, NewPush, PayloadTail
from bot.storage.pushes import Recipient
from bot.ui import packed
from bot.ui.render import MESSAGE_LIMIT, Renderer, escape_html, split_html, utf16_len

log = logging.getLogger(__name__)
GRANT_SOON = 30  # days: a grant whose deadline is nearer goes into the digest
OPENING_SOON = timedelta(days=14)  # a grant opening sooner goes into the digest
_NONE: frozenset[str] = frozenset()
MAX_GRANTS = 3
MAX_MEASURES = 3
PAGE = 1_000  # users per page: one set of queries and one transaction each
LEASE = timedelta(minutes=2)  # a page claimed longer ago is taken again (its worker is gone)
# Users planned between two turns of the event loop. A statement of the page being read or
# written goes on only at a turn — and on SQLite its transaction may hold the one write lock
# meanwhile, which the bot's updates wait for: a turn every ~2 ms, not every ~20.
YIELD_EVERY = 25
MEMO_LIMIT = 5_000  # remembered results per kind within a tick (then forgotten, recomputed)
KINDS = ("digest", "reminder")
DIGEST = "push/digest.j2"
COMPOSE_CHECKS = 3  # digests of several sections per tick also rendered whole, to compare
ZONED = frozenset({"grants", "opportunities"})  # digest sections that show local times

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
DueGrant = tuple[GrantView, Occurrence, int | None, bool]  # grant, opening, days left, open
# A grant due in a zone with what filtering needs: phases, topics, the grant.
_Due = tuple[frozenset[str], frozenset[str], DueGrant]
# A piece of a digest's text, and the same escaped for the payload's JSON.
_Piece = tuple[str, str]


class _Memo(Generic[K, V]):
    """Results remembered within one tick, at most `limit` of them, in two generations: when
    the newer (`data`) holds half the limit, the older is forgotten and the newer becomes the
    older. A result used again is moved back into the newer one, so what many users share
    stays remembered while results of one user pass through; a tick where nothing repeats
    costs no more memory than the limit."""

    def __init__(self, limit: int = MEMO_LIMIT) -> None:
        self.half = max(1, limit // 2)
        self.data: dict[K, V] = {}  # the newer generation (callers may look here first)
        self.older: dict[K, V] = {}

    def get(self, key: K, make: Callable[[], V]) -> V:
        value = self.data.get(key, _MISSING)
        if value is _MISSING:
            value = self.older.get(key, _MISSING)
            if value is _MISSING:
                value = make()
            if len(self.data) >= self.half:
                self.older = self.data
                self.data = {}
            self.data[key] = value
        return value  # type: ignore[no-any-return]


_MISSING: Any = object()
_serials = itertools.count(1)


class _Part(Generic[V]):
    """A part of digests (their grants, measures or opportunities) with a number of its own:
    a digest's text is remembered by the numbers of its parts, never reused within a process."""

    __slots__ = ("serial", "value")

    def __init__(self, value: V) -> None:
        self.value = value
        self.serial = next(_serials)


class _Contents(NamedTuple):
    """What one digest says: its language, zone and frequency, and its parts (a named tuple:
    one per digest, and cheaper to build than a frozen dataclass)."""

    locale: str
    tz: str
    weekly: bool
    grants: _Part[tuple[DueGrant, ...]]
    measures: _Part[tuple[str, ...]]
    article: ArticleView | None
    opportunities: _Part[tuple[Listing, ...]]

    @property
    def sections(self) -> dict[str, Any]:
        return {
            "grants": self.grants.value,
            "measures": self.measures.value,
            "article": self.article,
            "opportunities": self.opportunities.value,
        }


@dataclass
class PlanReport:
    digests: int = 0
    reminders: int = 0
    enqueued: int = 0
    pages: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    # Where the planning loop's time went (seconds, perf_counter): preparing the ticks,
    # planning pages, and waiting for a page's read or for the previous page's write (the
    # database's thread, SQLite's write lock shared with other workers and the bot); `read`
    # and `write`: the reads' and the writes' own time (claim to rows; a page's transaction),
    # overlapping the planning.
    timings: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(
            ("prepare", "plan", "wait_read", "wait_write", "read", "write"), 0.0
        )
    )


@dataclass
class _Tick:
    """What every user's plan shares, prepared once per tick, and what it remembers."""

    now: datetime
    openings: list[tuple[GrantView, Occurrence]]
    articles: list[ArticleView]
    articles_by_stage: dict[int, list[ArticleView]]
    new_measures: dict[str | None, list[Candidate]]  # by region (None: every region)
    measure_names: dict[str, str]
    opportunities: DigestOpportunities | None
    opening_index: dict[str, int] = field(default_factory=dict)  # grant key → in openings
    yesterday: dict[str, bool] = field(default_factory=dict)  # grant key → said yesterday too
    new_today: dict[str | None, list[Candidate]] = field(default_factory=dict)  # added in a day
    due_grants: _Memo[tuple[str | None, bool], list[_Due]] = field(default_factory=_Memo)
    periods: _Memo[tuple[str, str, int, int], str | None] = field(default_factory=_Memo)
    slots: _Memo[tuple[str, str, int, int], datetime] = field(default_factory=_Memo)
    quiet: _Memo[tuple[str, int, int], datetime] = field(default_factory=_Memo)
    daytime: _Memo[tuple[str, int], bool] = field(default_factory=_Memo)
    grants: _Memo[Hashable, _Part[tuple[DueGrant, ...]]] = field(default_factory=_Memo)
    measure_pools: _Memo[Hashable, tuple[list[Candidate], frozenset[str]]] = field(
        default_factory=_Memo
    )
    measures: _Memo[Hashable, _Part[tuple[str, ...]]] = field(default_factory=_Memo)
    suggestions: _Memo[Hashable, _Part[tuple[Listing, ...]]] = field(default_factory=_Memo)
    tails: _Memo[Hashable, PayloadTail] = field(default_factory=_Memo)
    headers: _Memo[tuple[str, bool], _Piece] = field(default_factory=_Memo)
    sections: _Memo[Hashable, _Piece | None] = field(default_factory=_Memo)
    labels: _Memo[str, dict[str, list[dict[str, str]]]] = field(default_factory=_Memo)
    lines: _Memo[tuple[int, str], str] = field(default_factory=_Memo)  # an opportunity, by zone
    reminder_days: _Memo[tuple[str, str], list[int]] = field(default_factory=_Memo)
    parts: _Memo[Hashable, _Part[Any]] = field(default_factory=_Memo)
    zones: dict[str, ZoneInfo] = field(default_factory=dict)
    compose: bool = True  # render digests from their sections (see Planner._text)
    checks: int = COMPOSE_CHECKS
    plain_opportunities: bool = True  # that section without Jinja (see Planner._text)
    opportunity_checks: int = COMPOSE_CHECKS


@dataclass
class _Page:
    """What one page of users needs besides their own rows."""

    planned: set[str]
    follows: dict[int, set[str]]
    seen_articles: dict[int, set[str]]
    volunteer_rows: VolunteerRows | None = None  # read with the page when a tick suggests
    volunteers: dict[int, VolunteerFit] = field(default_factory=dict)
    articles_sent: list[tuple[int, str]] = field(default_factory=list)


# A page of users, what planning them needs, and its claim.
_Read = tuple[list[Recipient], _Page, claims_repo.Claim]


def _button(text: str, data: str) -> dict[str, str]:
    return {"text": text, "callback_data": data}


_EMPTY: _Part[tuple[Any, ...]] = _Part(())


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the tick. A tick allocates millions of
    short-lived objects (rows, keys, pushes) that reference counting frees, and each few
    thousand of them would start a collection; the full ones scan the whole heap — aiogram's
    models, the catalog, the tick's memos — over and over (bench/README.md). Cycles
    made meanwhile (by this or by other tasks) wait for the next collection after it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _piece(text: str) -> _Piece:
    return text, outbox_repo.escaped(text)


def _part(tick: _Tick, identity: Hashable, value: V) -> _Part[V]:
    """The one `_Part` of this value in the tick (`identity` tells values apart cheaply)."""
    return tick.parts.get(identity, lambda: _Part(value))


def _line_state(occurrence: Occurrence, now: datetime, tz: str) -> str | None:
    """What a digest's line says of a grant at `now` — "upcoming" (opening within two weeks),
    "open" (the deadline within GRANT_SOON days), "last day" — or None: no line. Days are the
    organiser's (`tz`)."""
    if occurrence.open_at > now:
        return "upcoming" if occurrence.open_at - now <= OPENING_SOON else None
    left = days_left(occurrence, now, tz)
    if left is None or left > GRANT_SOON:
        return None
    return "last day" if left == 0 and not occurrence.expected else "open"


def _repeated(tick: _Tick, g: GrantView, occurrence: Occurrence) -> bool:
    """Whether yesterday's daily digest said of the grant what today's would (its line's
    state is the same); looked up once per grant and tick."""
    found = tick.yesterday.get(g.key)
    if found is None:
        day_ago = tick.now - timedelta(days=1)
        before = current_or_next(g.windows, g.timezone, day_ago)
        found = tick.yesterday[g.key] = before is not None and _line_state(
            before, day_ago, g.timezone
        ) == _line_state(occurrence, tick.now, g.timezone)
    return found


class Planner:
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        catalog: Catalog,
        renderer: Renderer,
        catalogs: CatalogService,
        measures: MeasureService,
        *,
        default_timezone: str,
        reminder_days: tuple[int, ...],
        volunteering: VolunteerService | None = None,
        page: int = PAGE,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.catalog = catalog
        self.renderer = renderer
        self.catalogs = catalogs
        self.measures = measures
        self.default_timezone = default_timezone
        self.reminder_days = reminder_days
        self.volunteering = volunteering
        self.page = page
        self._templates: dict[str, Template] = {}
        self.lock = asyncio.Lock()  # one tick of this process at a time (`plan`, `App.plan`)
        # Whether a page is written while the next one is planned. Not on SQLite: the write
        # holds the database's one write lock, which the bot's updates (and the other
        # workers) wait for, and planning meanwhile — the GIL and the loop taken from the
        # write's statements — would stretch it from milliseconds to a page's planning.
        self.write_ahead = engine is not None and engine.dialect.name != "sqlite"

    async def _prepare(self, now: datetime) -> _Tick:
        grants = await self.catalogs.grants()
        openings = []
        for g in grants:
            occurrence = current_or_next(g.windows, g.timezone, now) if g.windows else None
            if occurrence is not None:
                openings.append((g, occurrence))
        week_ago = now - timedelta(days=7)
        fresh = await self.measures.local_measures()
        local = [m for m in fresh if m.created_at is not None and m.created_at >= week_ago]
        by_region: dict[str | None, list[Candidate]] = defaultdict(list)
        today: dict[str | None, list[Candidate]] = defaultdict(list)
        for m in local:
            by_region[m.region].append(local_candidate(m))
            if m.created_at is not None and m.created_at >= now - timedelta(days=1):
                today[m.region].append(local_candidate(m))
        articles = await self.catalogs.articles()
        by_stage = {s: [a for a in articles if s in a.stages] for s in range(1, 8)}
        return _Tick(
            now=now,
            openings=openings,
            opening_index={g.key: i for i, (g, _) in enumerate(openings)},
            articles=articles,
            articles_by_stage=by_stage,
            new_measures=dict(by_region),
            new_today=dict(today),
            measure_names={m.code: m.title for m in local},
            opportunities=(
                await self.volunteering.digest_matcher(now)
                if self.volunteering is not None
                else None
            ),
        )

    async def plan(self, worker: str | None = None) -> PlanReport:
        """One tick in this process: its pages written (`open_tick`), then planned here
        (`work`) — what the worker processes do apart (bot/worker.py). Ticks of one process
        take turns (`lock`): when one returns, what was due is planned."""
        async with self.lock:
            await self.open_tick()
            return await self.work_here(worker)

    async def work_here(self, worker: str | None = None) -> PlanReport:
        """`work` in this process; should it fail, the pages it held are given back at once
        (a worker process that dies is released by the bot, bot/worker.py)."""
        name = worker or f"inline-{os.getpid()}"
        try:
            return await self.work(name)
        except BaseException:
            with contextlib.suppress(Exception):
                async with self.engine.begin() as conn:
                    await claims_repo.release(conn, name)
            raise

    async def open_tick(self) -> int:
        """Write the tick's pages of users (plan_claims) for workers to claim, unless a tick
        is still under way (a worker plans it: this one would plan the same users); returns
        the pages waiting. A page is a range of ids, from its first user to the id before the
        next page's: ids between, of users who consent meanwhile, belong to a page too."""
        now = self.clock.now()
        wall = datetime.now(UTC)
        pages: list[tuple[int, int]] = []
        async with self.engine.connect() as conn:
            if await claims_repo.under_way(conn, wall, LEASE):
                return await claims_repo.pending(conn)
            after: int | None = None
            firsts: list[int] = []
            while ids := await repo.recipient_ids(conn, after=after, limit=self.page):
                firsts.append(ids[0])
                after = ids[-1]
        pages = [(first, nxt - 1) for first, nxt in itertools.pairwise(firsts)]
        if firsts and after is not None:
            pages.append((firsts[-1], after))
        async with self.engine.begin() as conn:
            return await claims_repo.open_tick(conn, now, pages, wall, LEASE)

    async def work(
        self, worker: str, *, written: Callable[[int], None] | None = None
    ) -> PlanReport:
        """Claim the ticks' pages one by one and plan them until none is left; returns what
        was planned. `written` is called with the count after each page is written (a test
        kills the worker there, bot/worker.py)."""
        with _collector_paused():
            return await self._work(worker, written)

    async def _work(self, worker: str, written: Callable[[int], None] | None) -> PlanReport:
        """The next page is claimed and read while one is planned, and (`write_ahead`) a page
        written while the next is planned (the database works in its own thread meanwhile);
        one write at a time, in page order. Each page's pushes are written, and the page
        marked done, in one transaction."""
        report = PlanReport()
        ticks: dict[datetime, _Tick] = {}  # a worker plans one tick, or the rest of an older
        read_page = partial(self._read, worker, timings=report.timings)
        reading: asyncio.Task[_Read | None] | None = asyncio.create_task(read_page())
        writing: asyncio.Task[int] | None = None
        timings, clock = report.timings, time.perf_counter

        async def written_now(task: asyncio.Task[int]) -> None:
            at = clock()
            report.enqueued += await task
            timings["wait_write"] += clock() - at
            report.pages += 1
            if written is not None:
                written(report.pages)

        try:
            while reading is not None:
                at = clock()
                read = await reading
                timings["wait_read"] += clock() - at
                reading = None
                if read is None:
                    break
                recipients, page, claim = read
                tick = ticks.get(claim.tick_at)
                if tick is None:
                    at = clock()
                    tick = ticks[claim.tick_at] = await self._prepare(claim.tick_at)
                    self._templates.clear()  # a tick sees the templates as they are at its start
                    timings["prepare"] += clock() - at
                # The next page is read while this one is planned (pages never share a user).
                reading = asyncio.create_task(read_page(volunteers=tick.opportunities is not None))
                at = clock()
                pushes = await self._plan_page(recipients, tick, page, report)
                timings["plan"] += clock() - at
                if writing is not None:
                    await written_now(writing)
                    writing = None
                writing = asyncio.create_task(
                    self._write(pushes, page.articles_sent, claim, worker, timings)
                )
                if not self.write_ahead:  # SQLite: no planning while the write lock is held
                    await written_now(writing)
                    writing = None
            if writing is not None:
                await written_now(writing)
                writing = None
        finally:
            if reading is not None:
                reading.cancel()
                await asyncio.wait({reading})
            if writing is not None:  # cancelled or failed meanwhile: the page's transaction
                await asyncio.wait({writing})  # ends (commits or rolls back) before we leave
        if report.enqueued:
            log.info(
                "pushes planned",
                extra={"digests": report.digests, "reminders": report.reminders},
            )
        return report

    async def _read(
        self, worker: str, *, volunteers: bool = True, timings: dict[str, float] | None = None
    ) -> _Read | None:
        """The next page claimed for `worker`, with what planning its users needs (with
        `volunteers`, their volunteer profiles too); None when no page is left."""
        started = time.perf_counter()
        try:
            return await self._read_page(worker, volunteers)
        finally:
            if timings is not None:
                timings["read"] += time.perf_counter() - started

    async def _read_page(self, worker: str, volunteers: bool) -> _Read | None:
        async with self.engine.begin() as conn:
            claim = await claims_repo.claim(conn, worker, datetime.now(UTC), LEASE)
        if claim is None:
            return None
        now, first, last = claim.tick_at, claim.first_id, claim.last_id
        since = now - timedelta(days=9)  # a digest or reminder planned since is there already
        async with self.engine.connect() as conn:
            recipients = await repo.recipients(  # a newcomer's first digest is next week's
                conn, newcomers_since=now - timedelta(days=8), first=first, last=last
            )
            page = _Page(
                planned=await repo.recent_keys(conn, KINDS, since, first=first, last=last),
                follows=await catalogs_repo.all_follows(conn, first=first, last=last),
                seen_articles=await catalogs_repo.all_article_keys(conn, first=first, last=last),
            )
            if volunteers and self.volunteering is not None:
                page.volunteer_rows = await self.volunteering.volunteer_rows(conn, first, last)
        return recipients, page, claim

    async def _write(
        self,
        pushes: list[NewPush],
        articles_sent: list[tuple[int, str]],
        claim: claims_repo.Claim,
        worker: str,
        timings: dict[str, float] | None = None,
    ) -> int:
        """One page's pushes and the articles they carry, and the page marked done, in one
        transaction: a page is planned and written, or neither."""
        started = time.perf_counter()
        async with self.engine.begin() as conn:
            enqueued = await outbox_repo.enqueue(conn, pushes, claim.tick_at)
            await catalogs_repo.mark_sent(conn, articles_sent, claim.tick_at)
            if not await claims_repo.done(conn, claim.id, worker, datetime.now(UTC)):
                log.warning("a page was planned past its lease", extra={"worker": worker})
        if timings is not None:
            timings["write"] += time.perf_counter() - started
        return enqueued

    async def _plan_page(
        self, recipients: Sequence[Recipient], tick: _Tick, page: _Page, report: PlanReport
    ) -> list[NewPush]:
        due = [(r, key) for r in recipients if (key := self._due(r, tick, page)) is not None]
        if self.volunteering is not None and page.volunteer_rows is not None:
            wanting = [r for r, _ in due if r.settings.opportunities]
            page.volunteers = self.volunteering.fits_of(wanting, page.volunteer_rows)
        pushes: list[NewPush] = []
        for n, (r, key) in enumerate(due, start=1):
            digest = self._digest(r, key, tick, page)
            if digest is not None:
                pushes.append(digest)
                report.digests += 1
            if n % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # let the previous page's write and updates go on
        for r in recipients:
            if r.settings.grants and r.id in page.follows:
                reminders = self._reminders(r, tick, page)
                pushes += reminders
                report.reminders += len(reminders)
        return pushes

    # --- one user ---

    def _when(self, r: Recipient, tz: str, tick: _Tick) -> datetime:
        s = r.settings
        key = (tz, s.quiet_start, s.quiet_end)
        found = tick.quiet.data.get(key)
        if found is None:
            found = tick.quiet.get(key, lambda: allowed_at(tick.now, *key))
        return found

    def _due(self, r: Recipient, tick: _Tick, page: _Page) -> str | None:
        """The dedup key of the user's digest if one is due now and not planned yet."""
        s = r.settings
        tz = user_zone(r.timezone, self.default_timezone)
        slot = (tz, s.digest, s.digest_hour, s.digest_weekday)
        period = tick.periods.data.get(slot, _MISSING)
        if period is _MISSING:
            # Held for the tick: `ZoneInfo` keeps only a few zones alive by itself, and the
            # templates' date filters would load the others again and again.
            tick.zones.setdefault(tz, ZoneInfo(tz))
            period = tick.periods.get(slot, lambda: digest_period(tick.now, *slot))
        if period is None:
            return None
        key = f"digest:{r.id}:{period}"
        if key in page.planned:
            return None
        if s.digest == "weekly" and r.joined is not None:
            at = tick.slots.get(
                slot, partial(weekly_slot, tick.now, tz, s.digest_hour, s.digest_weekday)
            )
            if r.joined > at - NEWCOMER_WAIT:
                return None  # the first digest is at a slot a day after consent or later
        return key

    def _digest(self, r: Recipient, key: str, tick: _Tick, page: _Page) -> NewPush | None:
        s = r.settings
        tz = user_zone(r.timezone, self.default_timezone)
        phase = phase_for_stage(r.stage) if r.stage else None
        # A volunteer without a project of their own gets opportunities, not grants and
        # articles on running a project.
        project = not r.volunteer_only
        daily = s.digest == "daily"
        grants = (
            self._grants(r, tz, phase, tick, daily, self._reminded(r, tz, tick, page))
            if s.grants and project
            else _EMPTY
        )
        measures = self._measures(r, phase, tick, daily) if s.measures and r.stage else _EMPTY
        article = self._article(r, tick, page) if s.articles and project else None
        opportunities: _Part[tuple[Listing, ...]] = _EMPTY
        fit = page.volunteers.get(r.id)
        if tick.opportunities is not None and s.opportunities and fit is not None:
            matcher = tick.opportunities
            found = matcher.key(fit)
            opportunities = tick.suggestions.data.get(found) or tick.suggestions.get(
                found, lambda: self._suggest(tick, matcher, fit)
            )
        if not (grants.value or measures.value or article or opportunities.value):
            return None
        contents = _Contents(
            r.locale or "ru", tz, s.digest == "weekly", grants, measures, article, opportunities
        )
        payload = self._payload(tick, contents)
        if article is not None:
            page.articles_sent.append((r.id, article.key))
            page.seen_articles.setdefault(r.id, set()).add(article.key)
        return NewPush(
            user_id=r.id,
            chat_id=r.id,
            kind="digest",
            dedup_key=key,
            payload=payload,
            not_before=self._when(r, tz, tick),
        )

    @staticmethod
    def _suggest(
        tick: _Tick, matcher: DigestOpportunities, fit: VolunteerFit
    ) -> _Part[tuple[Listing, ...]]:
        found = tuple(matcher.pick(fit))
        return _part(tick, ("o", *(o.opportunity.id for o in found)), found)

    def _reminded(self, r: Recipient, tz: str, tick: _Tick, page: _Page) -> frozenset[str]:
        """The followed grants a reminder goes about today: the digest leaves them out."""
        followed = page.follows.get(r.id)
        if not followed or not r.settings.grants:
            return _NONE
        index = tick.opening_index
        found = []
        for key in followed:
            i = index.get(key)
            if i is None:
                continue
            g, occurrence = tick.openings[i]
            if occurrence.close_at is not None and self._reminder_days(tick, g, occurrence):
                found.append(key)
        return frozenset(found) if found else _NONE

    def _reminder_days(self, tick: _Tick, g: GrantView, occurrence: Occurrence) -> list[int]:
        """Which reminders of the grant are due today (the organiser's days)."""
        return tick.reminder_days.get(
            (g.key, g.timezone),
            partial(reminders_due, occurrence, tick.now, g.timezone, self.reminder_days),
        )

    def _grants(
        self,
        r: Recipient,
        tz: str,
        phase: str | None,
        tick: _Tick,
        daily: bool = False,
        reminded: frozenset[str] = _NONE,
    ) -> _Part[tuple[DueGrant, ...]]:
        """Up to MAX_GRANTS that fit the user (`bot.domain.grants.fits`): open with the deadline
        within GRANT_SOON days or opening within two weeks; open ones first, then by days left,
        then in the catalogs' order. Never a grant a reminder goes about today (`reminded`);
        in a daily digest, only a grant whose line is new or changed since yesterday's."""
        region = r.region
        memo_key = (phase, r.topics, region, daily, reminded)  # the zone only shows them
        found = tick.grants.data.get(memo_key)
        if found is not None:
            return found

        def due_near() -> list[_Due]:
            found = []
            for g, occurrence in tick.openings:
                if g.region is not None and g.region != region:
                    continue
                if _line_state(occurrence, tick.now, g.timezone) is None:
                    continue
                left = days_left(occurrence, tick.now, g.timezone)  # the organiser's days
                is_open = occurrence.open_at <= tick.now
                found.append(
                    (frozenset(g.phases), frozenset(g.topics), (g, occurrence, left, is_open))
                )
            found.sort(key=lambda x: (not x[2][3], x[2][2] if x[2][2] is not None else 999))
            return found  # the sort is stable: among equals, the catalogs' order

        def changed() -> list[_Due]:  # a daily digest's: what yesterday's did not say
            weekly = tick.due_grants.get((region, False), due_near)
            return [d for d in weekly if not _repeated(tick, d[2][0], d[2][1])]

        def pick() -> _Part[tuple[DueGrant, ...]]:
            chosen = []
            topics = r.topics
            due_list = tick.due_grants.get((region, daily), changed if daily else due_near)
            for phases, grant_topics, due in due_list:
                if phases and phase is not None and phase not in phases:
                    continue
                if grant_topics and topics and grant_topics.isdisjoint(topics):
                    continue
                if reminded and due[0].key in reminded:
                    continue
                chosen.append(due)
                if len(chosen) == MAX_GRANTS:
                    break
            identity = ("g", *((id(g), id(o), left, is_open) for g, o, left, is_open in chosen))
            return _part(tick, identity, tuple(chosen))

        return tick.grants.get(memo_key, pick)

    def _measures(
        self, r: Recipient, phase: str | None, tick: _Tick, daily: bool = False
    ) -> _Part[tuple[str, ...]]:
        """The best MAX_MEASURES of the local measures added this week (`rank`); in a daily
        digest, of those added since yesterday's."""
        new = tick.new_today if daily else tick.new_measures
        if not new or r.stage is None or phase is None:
            return _EMPTY
        stage = r.stage
        # A region without new measures ranks like none; only topics some candidate has count.
        region = r.region if r.region in new else None

        def pool() -> tuple[list[Candidate], frozenset[str]]:
            # What `rank` may list for a profile with no problems and crises ticked (the
            # digest's): measures of its region or none, of its phase or none.
            near = [*new.get(None, ())]
            if region is not None:
                near += new.get(region, ())
            found = [c for c in near if c.phase is None or c.phase == phase]
            return found, frozenset().union(*(c.topics for c in found))

        candidates, pool_topics = tick.measure_pools.get((phase, region, daily), pool)
        if not candidates:
            return _EMPTY
        topics = r.topics & pool_topics if r.topics else r.topics
        found = tick.measures.data.get((phase, topics, region, daily))
        if found is not None:
            return found

        def pick() -> _Part[tuple[str, ...]]:
            profile = Profile.for_stage(stage, topics=topics, region=region)
            ranked = rank(profile, candidates)[:MAX_MEASURES]
            names = tuple(tick.measure_names[m.candidate.code] for m in ranked)
            return _part(tick, ("m", names), names)

        return tick.measures.get((phase, topics, region, daily), pick)

    @staticmethod
    def _article(r: Recipient, tick: _Tick, page: _Page) -> ArticleView | None:
        """The first article for the user's stage and topics (the catalogs' order,
        `CatalogService.matching_articles`) that they were never sent nor opened."""
        seen = page.seen_articles.get(r.id, ())
        topics = r.topics
        pool = tick.articles if r.stage is None else tick.articles_by_stage.get(r.stage, [])
        for a in pool:
            if (not a.topics or not topics or not topics.isdisjoint(a.topics)) and (
                a.key not in seen
            ):
                return a
        return None

    def _payload(self, tick: _Tick, c: _Contents) -> Encoded:
        """The digest's text (its pieces joined) with its buttons, encoded."""
        pieces = self._text(tick, c)
        if 2 * sum(len(text) for text, _ in pieces) > MESSAGE_LIMIT:
            text = "".join(text for text, _ in pieces)
            if utf16_len(text) > MESSAGE_LIMIT:
                pieces = [_piece(split_html(text)[0])]
        link = c.article.link if c.article is not None else None
        shape = (c.locale, bool(c.grants.value), link, bool(c.opportunities.value))
        tail = tick.tails.get(shape, lambda: self._tail(tick, *shape))
        return tail.encode(escaped for _, escaped in pieces)

    def _tail(
        self, tick: _Tick, locale: str, grants: bool, link: str | None, opportunities: bool
    ) -> PayloadTail:
        """The digest's payload but its text: the parse mode and the buttons."""
        labels = tick.labels.get(locale, lambda: self._labels(locale))
        buttons: list[list[dict[str, str]]] = []
        if grants:
            buttons.append(labels["grants"])
        if link is not None:
            buttons.append([{"text": labels["article"][0]["text"], "url": link}])
        if opportunities:
            buttons.append(labels["volunteer"])
        buttons.append(labels["unsubscribe"])
        return PayloadTail(parse_mode="HTML", buttons=buttons)

    def _labels(self, locale: str) -> dict[str, list[dict[str, str]]]:
        """The digest's buttons in one language (the article's gets its link per digest)."""
        tr = self.renderer.bind(locale)
        return {
            "grants": [_button(tr._("💰 All grants"), packed.menu("grants"))],
            "article": [{"text": tr._("📖 Read the article")}],
            "volunteer": [_button(tr._("🙋 Volunteering"), packed.menu("volunteer"))],
            "unsubscribe": [
                _button(tr._("🔕 Unsubscribe from the digest"), packed.unsub("digest"))
            ],
        }

    def _render(self, locale: str, tz: str, weekly: bool, **sections: Any) -> str:
        """The template with the given sections (grants, measures, article, opportunities),
        as `Renderer.render` gives it (the template looked up once per tick)."""
        template = self._templates.get(locale)
        if template is None:
            env = self.renderer.envs.get(locale) or self.renderer.envs[SUPPORTED_LOCALES[0]]
            template = self._templates[locale] = env.get_template(DIGEST)
        return template.render(
            grants=list(sections.get("grants", ())),
            measures=list(sections.get("measures", ())),
            article=sections.get("article"),
            tz=tz,
            weekly=weekly,
            opportunities=list(sections.get("opportunities", ())),
        ).strip()

    def _text(self, tick: _Tick, c: _Contents) -> list[_Piece]:
        """The digest's text, in pieces. Its sections (grants, measures, the article,
        opportunities) are independent blocks of the template, so the text is its header
        followed by each section as the template renders it alone — and a section is shared
        by many users (the same grants in the same zone…), so each is rendered (and escaped)
        once per tick. The first few digests of a tick with several sections are also
        rendered whole and compared; should the template ever stop adding up this way, the
        tick renders whole digests."""
        locale, tz, weekly = c.locale, c.tz, c.weekly
        if not tick.compose:
            return [_piece(self._render(locale, tz, weekly, **c.sections))]
        head = tick.headers.data.get((locale, weekly)) or tick.headers.get(
            (locale, weekly), lambda: _piece(self._render(locale, tz, weekly))
        )
        parts: list[_Piece | None] = [head]
        remembered = tick.sections.data
        for name, value, identity in (
            ("grants", c.grants.value, c.grants.serial),
            ("measures", c.measures.value, c.measures.serial),
            ("article", c.article, (c.article.key, weekly) if c.article is not None else None),
            ("opportunities", c.opportunities.value, c.opportunities.serial),
        ):
            if value:
                zone = tz if name in ZONED else None  # times are shown in the user's zone
                key = (name, locale, zone, identity)
                piece = remembered.get(key, _MISSING)
                if piece is _MISSING:
                    piece = tick.sections.get(key, partial(self._section, tick, c, name, head))
                parts.append(piece)
        pieces = [p for p in parts if p is not None]
        if len(pieces) == len(parts) and (len(parts) < 3 or tick.checks <= 0):
            return pieces
        text = self._render(locale, tz, weekly, **c.sections)
        tick.checks -= 1
        if len(pieces) < len(parts) or "".join(t for t, _ in pieces) != text:
            log.warning("digest sections do not add up to the template's digest: whole digests")
            tick.compose = False
        return [_piece(text)]

    def _section(self, tick: _Tick, c: _Contents, name: str, head: _Piece) -> _Piece | None:
        """One section of the digest as `_text` joins it: the template's digest with only this
        section, without the header (None should the header not come first)."""

        def alone() -> str | None:
            text = self._render(c.locale, c.tz, c.weekly, **{name: c.sections[name]})
            return text[len(head[0]) :] if text.startswith(head[0]) else None

        if name != "opportunities" or not tick.plain_opportunities:
            text = alone()
            return None if text is None else _piece(text)
        # Without Jinja (a tick has thousands of these): checked against the template's for
        # the tick's first few, and should they ever differ, the template's for the rest.
        text = self._opportunities_section(tick, c.locale, c.tz, c.opportunities.value)
        if tick.opportunity_checks > 0:
            tick.opportunity_checks -= 1
            expected = alone()
            if expected != text:
                log.warning("the digest's opportunities differ from the template's: Jinja")
                tick.plain_opportunities = False
                return None if expected is None else _piece(expected)
        return _piece(text)

    def _opportunities_section(
        self, tick: _Tick, locale: str, tz: str, listings: Sequence[Listing]
    ) -> str:
        """The opportunities section of push/digest.j2 as `_section` gets it from the template."""
        heading = self.renderer.gettext(locale, "Opportunities to help")
        zone = tick.zones.get(tz) or tick.zones.setdefault(tz, ZoneInfo(tz))

        def line(o: Listing) -> str:
            return (
                f"\n• {escape_html(o.opportunity.title)} — "
                f"{o.opportunity.starts_at.astimezone(zone).strftime('%d.%m.%Y %H:%M')}"
            )

        lines = []
        for o in listings:  # a tick lists the same few opportunities again and again
            key = (o.opportunity.id, tz)
            lines.append(tick.lines.data.get(key) or tick.lines.get(key, partial(line, o)))
        return f"\n\n🙋 <b>{heading}</b>{''.join(lines)}"

    def _reminders(self, r: Recipient, tick: _Tick, page: _Page) -> list[NewPush]:
        s = r.settings
        followed = page.follows.get(r.id)
        if not s.grants or not followed:
            return []
        tz = user_zone(r.timezone, self.default_timezone)
        daytime = tick.daytime.get(
            (tz, s.digest_hour), lambda: local_daytime(tick.now, tz, s.digest_hour)
        )
        if not daytime:
            return []  # reminders go in the user's day, from their digest hour
        index = tick.opening_index
        pushes = []
        for i in sorted(index[k] for k in followed if k in index):  # the catalogs' order
            g, occurrence = tick.openings[i]
            if occurrence.close_at is None:
                continue
            due = self._reminder_days(tick, g, occurrence)
            for n in due:
                deadline = occurrence.close_at.date().isoformat()
                key = f"reminder:{r.id}:{g.key}:{deadline}:{n}"
                if key in page.planned:
                    continue
                tr = self.renderer.bind(r.locale or "ru")
                text = tr(
                    "push/reminder.j2",
                    g=g, n=n, deadline=occurrence.close_at, tz=tz, expected=occurrence.expected,
                )  # fmt: skip
                buttons = [
                    [_button(tr._("💰 Open the grant"), packed.grant("card", g.key))],
                    [_button(tr._("📅 Add to calendar"), packed.grant("ics", g.key))],
                    [_button(tr._("🔕 Unsubscribe from grants"), packed.unsub("grants"))],
                ]
                pushes.append(
                    NewPush(
                        user_id=r.id,
                        chat_id=r.id,
                        kind="reminder",
                        dedup_key=key,
                        payload={"text": text, "parse_mode": "HTML", "buttons": buttons},
                        not_before=self._when(r, tz, tick),
                    )
                )
        return pushes
