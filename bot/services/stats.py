"""The territory's picture for coordinators, and their self-assessment.

`report` gathers the counts (consented users only), builds three pictures — participants by
stage; top needs and top problems; sign-ups over 30 days and the delivery of recent broadcasts —
and the CSV of anonymised profiles (row number, no names, no Telegram ids, no usernames).
`territory` gives the same counts, labelled and cut to the top few, for the municipal brief.
`draw` renders a picture off the event loop. The self-assessment rates the seed's six "support
measures depend on" conditions 1–5; `assessment_picture` compares the latest two.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.content import Catalog, Stage, UnknownCodeError
from bot.domain.csvio import spreadsheet
from bot.domain.zones import user_zone
from bot.infra.clock import Clock
from bot.infra.sqlite import off_loop
from bot.storage import stats as repo
from bot.storage.outbox import BLOCKED, FAILED, PENDING, SENDING, SENT, SKIPPED
from bot.storage.stats import EVERYONE, Delivery, ProfileRow, Scope, VolunteeringCounts
from bot.storage.stats import Assessment as Assessment  # handed on to the handlers
from bot.ui.charts import (
    SQUARE,
    TALL,
    Bar,
    BarChart,
    Chart,
    ColumnChart,
    render_sheet,
    text_table,
)
from bot.ui.render import Tr

DAYS = 30
TOP = 8
BRIEF_TOP = 3  # needs and problems named in the municipal brief
RECENT_BROADCASTS = 6
REPEAT_WINDOW = timedelta(seconds=60)  # the same scores again within it: a double tap
SCORES = range(1, 6)
FOOTER = "Опора"
EXCERPT = 40  # characters of a broadcast's text in its label

BLUE = (58, 110, 200)
TEAL = (38, 160, 130)
CORAL = (230, 96, 74)
AMBER = (244, 168, 48)
GREY = (160, 164, 176)
PALE = (184, 188, 202)


@dataclass(frozen=True)
class Overview:
    day: date  # today, in the coordinator's zone
    started: int
    consented: int
    blocked: int
    roles: dict[str, int]
    with_stage: int
    new_started: int  # in the last DAYS days
    new_consented: int
    broadcasts: int  # recent ones with outbox rows
    delivered: int
    addressed: int


@dataclass(frozen=True)
class Territory:
    """The area's figures for the municipal brief: the counts /stats shows, labelled."""

    day: date  # today, in the coordinator's zone
    consented: int
    roles: dict[str, int]
    with_stage: int  # took the stage quiz
    phases: tuple[tuple[str, int], ...]  # (phase name, participants) in the catalog's order
    needs: tuple[tuple[str, int], ...]  # the most chosen topics, most chosen first
    problems: tuple[tuple[str, int], ...]  # the most marked problems
    volunteering: VolunteeringCounts

    @property
    def empty(self) -> bool:
        """Nothing an administration could read as a fact about the area: no activists or
        volunteers, no quiz, needs or problems, no volunteer opportunities."""
        people = self.roles.get("activist", 0) + self.roles.get("volunteer", 0)
        v = self.volunteering
        return not (
            people or self.with_stage or self.needs or self.problems or v.held or v.upcoming
        )


@dataclass(frozen=True)
class Picture:
    caption: str
    charts: tuple[Chart, ...]
    size: tuple[int, int]
    footer: str = ""


@dataclass(frozen=True)
class Export:
    data: bytes  # UTF-8 with BOM, comma-separated, csv-module quoting
    filename: str
    rows: int


@dataclass(frozen=True)
class Area:
    """Whom /stats counts: `code` "" (everyone), "r.<region>" or "z.<zone group>"; `name` in
    the coordinator's language ("" for everyone)."""

    code: str
    name: str
    scope: Scope = EVERYONE
    zone: str = ""  # the zone group a region lies in, or the zone itself


@dataclass(frozen=True)
class Report:
    area: Area
    overview: Overview
    pictures: tuple[Picture, ...]
    export: Export


@dataclass(frozen=True)
class Change:
    """One condition of the latest assessment against the previous one."""

    label: str
    score: int
    before: int | None


@dataclass(frozen=True)
class _Data:
    users: repo.UserCounts
    roles: dict[str, int]
    stages: dict[int, int]
    topics: dict[str, int]
    problems: dict[str, int]
    started: list[datetime]
    consented: list[datetime]
    deliveries: list[Delivery]
    profiles: list[ProfileRow]


def _chosen_by(tr: Tr, named: int) -> str:
    if not named:
        return ""
    return tr.n_("Chosen by {n} participant", "Chosen by {n} participants", named).format(n=named)


class StatsService:
    def __init__(
        self, engine: AsyncEngine, clock: Clock, catalog: Catalog, settings: Settings
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.catalog = catalog
        self.settings = settings

    def zone(self, timezone: str | None) -> ZoneInfo:
        """The coordinator's own zone, else the deployment's (either missing from the
        system's database: the next one, then UTC)."""
        default = self.settings.default_timezone
        for name in (user_zone(timezone, default), default):
            try:
                return ZoneInfo(name)
            except (KeyError, ValueError, OSError):
                continue
        return ZoneInfo("UTC")

    # --- the report ---

    def _days(self, zone: ZoneInfo) -> list[date]:
        today = self.clock.now().astimezone(zone).date()
        return [today - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]

    def area(self, code: str, locale: str) -> Area:
        """The area of `code` (see `Area`); an unknown code (a catalog changed under an old
        button) is everyone."""
        kind, _, value = code.partition(".")
        try:
            if kind == "r":
                region = self.catalog.region(value)
                scope = Scope(regions=frozenset({region.code}))
                return Area(code, region.name(locale), scope, region.zone)
            if kind == "z":
                group = self.catalog.zone(value)
                regions = self.catalog.regions_in(group.code)
                zones = frozenset({group.iana, *(r.iana for r in regions)})
                scope = Scope(frozenset(r.code for r in regions), zones)
                return Area(code, group.label(locale), scope, group.code)
        except UnknownCodeError:
            pass
        return Area("", "")

    async def _collect(self, since: datetime, scope: Scope) -> _Data:
        with off_loop():  # counts over every user
            async with self.engine.connect() as conn:
                return _Data(
                    users=await repo.user_counts(conn, scope),
                    roles=await repo.role_counts(conn, scope),
                    stages=await repo.stage_counts(conn, scope),
                    topics=await repo.code_counts(conn, "topics", scope),
                    problems=await repo.code_counts(conn, "problems", scope),
                    started=await repo.moments(conn, "created_at", since, scope),
                    consented=await repo.moments(conn, "consent_at", since, scope),
                    deliveries=await repo.deliveries(conn, RECENT_BROADCASTS, scope),
                    profiles=await repo.profiles(conn, scope),
                )

    async def report(
        self, tr: Tr, timezone: str | None = None, area: Area | None = None
    ) -> Report:
        """The pictures, the CSV and the summary, of everyone or of `area`."""
        area = area or Area("", "")
        zone = self.zone(timezone)
        days = self._days(zone)
        since = datetime.combine(days[0], time(0), tzinfo=zone).astimezone(UTC)
        data = await self._collect(since, area.scope)
        today = days[-1]
        where = f" · {area.name}" if area.name else ""
        footer = f"{FOOTER}{where} · {today.strftime('%d.%m.%Y')}"
        delivered = sum(d.statuses.get(SENT, 0) for d in data.deliveries)
        addressed = sum(sum(d.statuses.values()) for d in data.deliveries)
        overview = Overview(
            day=today,
            started=data.users.started,
            consented=data.users.consented,
            blocked=data.users.blocked,
            roles=data.roles,
            with_stage=sum(data.stages.values()),
            new_started=len(data.started),
            new_consented=len(data.consented),
            broadcasts=len(data.deliveries),
            delivered=delivered,
            addressed=addressed,
        )
        pictures = (
            Picture(
                tr._("📊 Participants by stage") + where,
                (self._stages(tr, data),),
                SQUARE,
                footer,
            ),
            Picture(
                tr._("🧩 Needs and problems") + where,
                (self._needs(tr, data), self._problems(tr, data)),
                TALL,
                footer,
            ),
            Picture(
                tr._("📈 Sign-ups and broadcasts") + where,
                (self._signups(tr, data, days, zone), self._deliveries(tr, data, zone)),
                TALL,
                footer,
            ),
        )
        return Report(area, overview, pictures, self._export(tr, data.profiles, zone, today))

    async def territory(
        self, tr: Tr, timezone: str | None = None, top: int = BRIEF_TOP
    ) -> Territory:
        """The counts of /stats that a brief for the administration cites: participants,
        roles, stage phases, the top needs and problems, and volunteering."""
        now = self.clock.now()
        with off_loop():  # counts over every user
            async with self.engine.connect() as conn:
                users = await repo.user_counts(conn)
                roles = await repo.role_counts(conn)
                stages = await repo.stage_counts(conn)
                topics = await repo.code_counts(conn, "topics")
                problems = await repo.code_counts(conn, "problems")
                volunteering = await repo.volunteering_counts(conn, now)
        by_phase: dict[str, int] = {}
        for stage in self.catalog.stages:
            by_phase[stage.phase] = by_phase.get(stage.phase, 0) + stages.get(stage.number, 0)
        topic_order = [t.code for t in self.catalog.topics]
        problem_order = [p.code for g in self.catalog.problem_groups for p in g.items]
        return Territory(
            day=now.astimezone(self.zone(timezone)).date(),
            consented=users.consented,
            roles=roles,
            with_stage=sum(stages.values()),
            phases=tuple((tr.loc(p.name), by_phase.get(p.code, 0)) for p in self.catalog.phases),
            needs=tuple(
                (self._topic_label(tr, code), n)
                for code, n in self._top(topics, topic_order)[:top]
            ),
            problems=tuple(
                (self._problem_label(tr, code), n)
                for code, n in self._top(problems, problem_order)[:top]
            ),
            volunteering=volunteering,
        )

    def _stages(self, tr: Tr, data: _Data) -> BarChart:
        by_phase: dict[str, int] = {}
        for stage in self.catalog.stages:
            by_phase[stage.phase] = by_phase.get(stage.phase, 0) + data.stages.get(stage.number, 0)
        phases = " · ".join(
            f"{tr.loc(p.name)} {by_phase.get(p.code, 0)}" for p in self.catalog.phases
        )
        total = data.users.consented
        took = tr.n_(
            "{n} of {total} participant took the stage quiz",
            "{n} of {total} participants took the stage quiz",
            total,
        ).format(n=sum(data.stages.values()), total=total)
        return BarChart(
            title=tr._("Participants by stage"),
            subtitle=f"{took} · {phases}",
            bars=tuple(
                Bar(f"{s.number}. {tr.loc(s.name)}", (data.stages.get(s.number, 0),))
                for s in self.catalog.stages
            ),
            x_axis=tr._("Participants"),
            y_axis=tr._("Stage (latest quiz result)"),
            empty=tr._("No data yet: nobody has taken the stage quiz"),
            colors=(BLUE,),
        )

    def _top(self, counts: dict[str, int], order: Sequence[str]) -> list[tuple[str, int]]:
        """The TOP most chosen codes, ties in the catalog's order."""
        rank = {code: i for i, code in enumerate(order)}
        chosen = [(code, n) for code, n in counts.items() if n > 0]
        chosen.sort(key=lambda item: (-item[1], rank.get(item[0], len(rank)), item[0]))
        return chosen[:TOP]

    def _topic_label(self, tr: Tr, code: str) -> str:
        try:
            return tr.loc(self.catalog.topic(code).short)
        except UnknownCodeError:
            return code

    def _problem_label(self, tr: Tr, code: str) -> str:
        try:
            return tr.loc(self.catalog.problem(code).name)
        except UnknownCodeError:
            return code

    def _needs(self, tr: Tr, data: _Data) -> BarChart:
        order = [t.code for t in self.catalog.topics]
        named = sum(1 for p in data.profiles if p.topics)
        return BarChart(
            title=tr._("Top needs of the area"),
            subtitle=_chosen_by(tr, named),
            bars=tuple(
                Bar(self._topic_label(tr, code), (n,)) for code, n in self._top(data.topics, order)
            ),
            x_axis=tr._("Participants"),
            y_axis=tr._("Need (topic)"),
            empty=tr._("No data yet: nobody has chosen topics"),
            colors=(BLUE,),
        )

    def _problems(self, tr: Tr, data: _Data) -> BarChart:
        order = [p.code for g in self.catalog.problem_groups for p in g.items]
        named = sum(1 for p in data.profiles if p.problems)
        return BarChart(
            title=tr._("Top problems of projects"),
            subtitle=_chosen_by(tr, named),
            bars=tuple(
                Bar(self._problem_label(tr, code), (n,))
                for code, n in self._top(data.problems, order)
            ),
            x_axis=tr._("Participants"),
            y_axis=tr._("Problem"),
            empty=tr._("No data yet: nobody has marked problems"),
            colors=(CORAL,),
        )

    def _signups(self, tr: Tr, data: _Data, days: list[date], zone: ZoneInfo) -> ColumnChart:
        def per_day(moments: Iterable[datetime]) -> dict[date, int]:
            counts: dict[date, int] = {}
            for at in moments:
                day = at.astimezone(zone).date()
                counts[day] = counts.get(day, 0) + 1
            return counts

        started, consented = per_day(data.started), per_day(data.consented)
        new, agreed = len(data.started), len(data.consented)
        return ColumnChart(
            title=tr.n_(
                "New participants, last {n} day", "New participants, last {n} days", DAYS
            ).format(n=DAYS),
            subtitle=(
                tr.n_("{n} person started the bot", "{n} people started the bot", new).format(
                    n=new
                )
                + ", "
                + tr.n_("{n} gave consent", "{n} gave consent", agreed).format(n=agreed)
            ),
            labels=tuple(d.strftime("%d.%m") for d in days),
            values=tuple((started.get(d, 0), consented.get(d, 0)) for d in days),
            series=(tr._("Started the bot"), tr._("Gave consent")),
            x_axis=tr._("Day"),
            y_axis=tr._("People"),
            empty=tr.n_(
                "No data yet: nobody new in {n} day", "No data yet: nobody new in {n} days", DAYS
            ).format(n=DAYS),
            colors=(PALE, TEAL),
        )

    def _deliveries(self, tr: Tr, data: _Data, zone: ZoneInfo) -> BarChart:
        bars = []
        for d in data.deliveries:
            s = d.statuses
            when = d.created_at.astimezone(zone).strftime("%d.%m") if d.created_at else ""
            excerpt = " ".join(d.text.split())[:EXCERPT]
            label = " · ".join(part for part in (f"№{d.batch_id}", when, excerpt) if part)
            values = (
                s.get(SENT, 0),
                s.get(BLOCKED, 0) + s.get(SKIPPED, 0),
                s.get(FAILED, 0),
                s.get(PENDING, 0) + s.get(SENDING, 0),
            )
            bars.append(Bar(label, tuple(float(v) for v in values)))
        return BarChart(
            title=tr._("Delivery of recent broadcasts"),
            bars=tuple(bars),
            series=(tr._("Delivered"), tr._("Blocked the bot"), tr._("Failed"), tr._("Waiting")),
            stacked=True,
            x_axis=tr._("Messages"),
            y_axis=tr._("Broadcast"),
            empty=tr._("No broadcasts yet"),
            colors=(TEAL, GREY, CORAL, AMBER),
        )

    # --- the CSV ---

    def _export(self, tr: Tr, profiles: list[ProfileRow], zone: ZoneInfo, today: date) -> Export:
        roles = {
            "activist": tr._("activist"),
            "volunteer": tr._("volunteer"),
            "coordinator": tr._("coordinator"),
        }
        header = [
            tr._("row"),
            tr._("role"),
            tr._("stage"),
            tr._("stage name"),
            tr._("phase"),
            tr._("region"),
            tr._("time zone"),
            tr._("needs (topics)"),
            tr._("problems"),
            tr._("ikigai: what I want"),
            tr._("ikigai: what I can"),
            tr._("ikigai: what is needed"),
            tr._("consent month"),
        ]
        body = []
        for p in profiles:
            stage = self._stage(p.stage)
            body.append(
                [
                    ", ".join(roles.get(r, r) for r in p.roles),
                    str(p.stage) if p.stage is not None else "",
                    tr.loc(stage.name) if stage else "",
                    tr.loc(self.catalog.phase(stage.phase).name) if stage else "",
                    self._region(tr, p.region),
                    p.timezone or "",
                    "; ".join(self._topic_label(tr, c) for c in p.topics),
                    "; ".join(self._problem_label(tr, c) for c in p.problems),
                    str(p.ikigai.get("want", 0)),
                    str(p.ikigai.get("can", 0)),
                    str(p.ikigai.get("need", 0)),
                    p.consent_at.astimezone(zone).strftime("%Y-%m") if p.consent_at else "",
                ]
            )
        body.sort()  # by content: the order says nothing about who signed up when
        return Export(
            data=spreadsheet(header, ([n, *row] for n, row in enumerate(body, start=1))),
            filename=f"opora-profiles-{today.isoformat()}.csv",
            rows=len(body),
        )

    def _stage(self, number: int | None) -> Stage | None:
        if number is None:
            return None
        try:
            return self.catalog.stage_by_number(number)
        except UnknownCodeError:
            return None

    def _region(self, tr: Tr, code: str | None) -> str:
        if not code:
            return ""
        try:
            return self.catalog.region(code).name(tr.locale)
        except UnknownCodeError:
            return code

    # --- drawing ---

    async def draw(self, picture: Picture, font: str | Path) -> bytes:
        """The picture as PNG, rendered in a worker thread."""
        return await asyncio.to_thread(
            render_sheet, picture.charts, font, picture.size, footer=picture.footer
        )

    @staticmethod
    def tables(picture: Picture) -> list[tuple[str, tuple[str, ...]]]:
        """Without a font: each chart as a title and lines of text."""
        return [text_table(chart) for chart in picture.charts]

    # --- the self-assessment ---

    @property
    def conditions(self) -> int:
        return len(self.catalog.support_conditions)

    def conditions_title(self, tr: Tr) -> str:
        """The seed's «Меры поддержки зависят от», without its colon."""
        title = self.catalog.titles.get("support_conditions")
        return tr.loc(title).rstrip(": ") if title else ""

    async def assessments(self, coordinator_id: int, limit: int = 2) -> list[Assessment]:
        """The coordinator's latest assessments, newest first."""
        async with self.engine.connect() as conn:
            return await repo.assessments(conn, coordinator_id, limit)

    async def assess(self, coordinator_id: int, scores: Sequence[int]) -> list[Assessment]:
        """Save one score (1–5) per condition, in the catalog's order; returns the latest two
        assessments, newest first. The same scores again within a minute are a double tap and
        are not saved twice."""
        codes = [c.code for c in self.catalog.support_conditions]
        if len(scores) != len(codes) or any(s not in SCORES for s in scores):
            raise ValueError(f"need {len(codes)} scores 1–5, got {list(scores)}")
        given = dict(zip(codes, scores, strict=True))
        now = self.clock.now()
        async with self.engine.begin() as conn:
            latest = await repo.assessments(conn, coordinator_id, 1)
            repeat = (
                latest
                and latest[0].scores == given
                and now - latest[0].created_at < (REPEAT_WINDOW)
            )
            if not repeat:
                await repo.add_assessment(conn, coordinator_id, given, now)
            return await repo.assessments(conn, coordinator_id, 2)

    def changes(self, tr: Tr, found: Sequence[Assessment]) -> list[Change]:
        """Each condition's latest score and the one before (None: not rated then)."""
        latest = found[0]
        previous = found[1] if len(found) > 1 else None
        return [
            Change(
                tr.loc(c.short),
                latest.scores.get(c.code, 0),
                previous.scores.get(c.code) if previous else None,
            )
            for c in self.catalog.support_conditions
        ]

    def assessment_picture(
        self, tr: Tr, found: Sequence[Assessment], timezone: str | None = None
    ) -> Picture:
        """The latest assessment next to the previous one: paired bars on a 0–5 scale."""
        zone = self.zone(timezone)

        def when(a: Assessment) -> str:
            return a.created_at.astimezone(zone).strftime("%d.%m.%Y")

        def average(a: Assessment) -> str:
            values = [
                a.scores[c.code] for c in self.catalog.support_conditions if c.code in a.scores
            ]
            return f"{sum(values) / len(values):.1f}" if values else "—"

        latest = found[0]
        previous = found[1] if len(found) > 1 else None
        conditions = self.catalog.support_conditions
        now_name = tr._("This time · {date}").format(date=when(latest))
        if previous is None:
            series: tuple[str, ...] = (now_name,)
            colors: tuple[tuple[int, int, int], ...] = (BLUE,)
            bars = tuple(Bar(tr.loc(c.short), (latest.scores.get(c.code),)) for c in conditions)
            subtitle = tr._("Average {score} of 5").format(score=average(latest))
        else:
            series = (tr._("Previous · {date}").format(date=when(previous)), now_name)
            colors = (PALE, BLUE)
            bars = tuple(
                Bar(tr.loc(c.short), (previous.scores.get(c.code), latest.scores.get(c.code)))
                for c in conditions
            )
            subtitle = tr._("Average {score} of 5 (was {before})").format(
                score=average(latest), before=average(previous)
            )
        chart = BarChart(
            title=tr._("Self-assessment: what support depends on"),
            subtitle=subtitle,
            bars=bars,
            series=series,
            scale=(0, 1, 2, 3, 4, 5),
            x_axis=tr._("Score, 1 (weak) – 5 (strong)"),
            y_axis=self.conditions_title(tr),
            empty=tr._("No data yet"),
            colors=colors,
        )
        return Picture(tr._("🧭 Self-assessment"), (chart,), SQUARE, f"{FOOTER} · {when(latest)}")
