"""The push planner: on every tick, enqueue what is due — weekly (or daily) digests at each
user's own local hour and deadline reminders for followed grants — into the outbox.

Nothing here sends; the outbox and its sender do. Dedup keys per (user, item, reason) make a
repeated or concurrent tick harmless. Nothing is planned into a user's quiet hours, for a
category they turned off, or for a user who blocked the bot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from bot.content import Catalog
from bot.domain import grants as grant_rules
from bot.domain.matching import Candidate, Profile, phase_for_stage, rank
from bot.domain.schedule import allowed_at, digest_period, local_daytime
from bot.domain.windows import Occurrence, current_or_next, days_left, reminders_due
from bot.keyboards import Gr, Menu, Unsub
from bot.render import Renderer, split_html
from bot.services.catalogs import ArticleView, CatalogService, Fit, GrantView
from bot.services.measures import MeasureService, local_candidate
from bot.services.volunteering import VolunteerService
from bot.storage import catalogs as catalogs_repo
from bot.storage import outbox as outbox_repo
from bot.storage import pushes as repo
from bot.storage.outbox import NewPush
from bot.storage.pushes import Recipient

log = logging.getLogger(__name__)
GRANT_SOON = 30  # days: a grant whose deadline is nearer goes into the digest
MAX_GRANTS = 3
MAX_MEASURES = 3


@dataclass
class PlanReport:
    digests: int = 0
    reminders: int = 0
    enqueued: int = 0
    kinds: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Tick:
    """What every user's plan shares, computed once per tick."""

    now: datetime
    openings: list[tuple[GrantView, Occurrence]]
    articles: list[ArticleView]
    new_measures: list[Candidate]
    measure_names: dict[str, str]
    planned: set[str]
    follows: dict[int, set[str]]
    seen_articles: dict[int, set[str]]


def _button(text: str, data: Any) -> dict[str, str]:
    return {"text": text, "callback_data": data.pack()}


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

    async def _prepare(self, now: datetime) -> _Tick:
        grants = await self.catalogs.grants()
        openings = []
        for g in grants:
            occurrence = current_or_next(g.windows, g.timezone, now) if g.windows else None
            if occurrence is not None:
                openings.append((g, occurrence))
        week_ago = now - timedelta(days=7)
        local = [m for m in await self.measures.local_measures() if m.created_at >= week_ago]
        async with self.engine.connect() as conn:
            planned = await repo.recent_keys(conn, ("digest", "reminder"), now - timedelta(days=9))
            follows = await catalogs_repo.all_follows(conn)
            seen = await catalogs_repo.all_article_keys(conn)
        return _Tick(
            now=now,
            openings=openings,
            articles=await self.catalogs.articles(),
            new_measures=[local_candidate(m) for m in local],
            measure_names={m.code: m.title for m in local},
            planned=planned,
            follows=follows,
            seen_articles=seen,
        )

    async def plan(self) -> PlanReport:
        """Enqueue everything due now; returns what was planned."""
        now = self.clock.now()
        tick = await self._prepare(now)
        async with self.engine.connect() as conn:
            recipients = await repo.recipients(conn)
        pushes: list[NewPush] = []
        articles_sent: list[tuple[int, str]] = []
        report = PlanReport()
        for r in recipients:
            digest = await self._digest(r, tick, articles_sent)
            if digest is not None:
                pushes.append(digest)
                report.digests += 1
            reminders = self._reminders(r, tick)
            pushes += reminders
            report.reminders += len(reminders)
        if pushes:
            async with self.engine.begin() as conn:
                report.enqueued = await outbox_repo.enqueue(conn, pushes, now)
                await catalogs_repo.mark_sent(conn, articles_sent, now)
        if report.enqueued:
            log.info(
                "pushes planned",
                extra={"digests": report.digests, "reminders": report.reminders},
            )
        return report

    # --- one user ---

    def _when(self, r: Recipient, now: datetime) -> datetime:
        tz = r.timezone or self.default_timezone
        return allowed_at(now, tz, r.settings.quiet_start, r.settings.quiet_end)

    async def _digest(
        self, r: Recipient, tick: _Tick, articles_sent: list[tuple[int, str]]
    ) -> NewPush | None:
        s = r.settings
        tz = r.timezone or self.default_timezone
        period = digest_period(tick.now, tz, s.digest, s.digest_hour, s.digest_weekday)
        key = f"digest:{r.id}:{period}"
        if period is None or key in tick.planned:
            return None
        if tick.now - r.consent_at < timedelta(days=1) and s.digest == "weekly":
            return None  # a newcomer's first digest is next week's
        phase = phase_for_stage(r.stage) if r.stage else None
        grants = []
        if s.grants:
            for g, occurrence in tick.openings:
                if not grant_rules.fits(
                    grant_topics=g.topics, grant_phases=g.phases, grant_region=g.region,
                    phase=phase, topics=r.topics, region=r.region,
                ):  # fmt: skip
                    continue
                left = days_left(occurrence, tick.now, tz)
                is_open = occurrence.open_at <= tick.now
                if (is_open and left is not None and left <= GRANT_SOON) or (
                    not is_open and occurrence.open_at - tick.now <= timedelta(days=14)
                ):
                    grants.append((g, occurrence, left, is_open))
            grants.sort(key=lambda x: (not x[3], x[2] if x[2] is not None else 999))
            grants = grants[:MAX_GRANTS]
        measures = []
        if s.measures and r.stage and tick.new_measures:
            profile = Profile.for_stage(r.stage, topics=r.topics, region=r.region)
            measures = [
                tick.measure_names[m.candidate.code]
                for m in rank(profile, tick.new_measures)[:MAX_MEASURES]
            ]
        article = None
        if s.articles:
            seen = tick.seen_articles.get(r.id, set())
            fit = CatalogService.matching_articles(
                tick.articles,
                fit=_fit(r, self.default_timezone),
            )
            article = next((a for a in fit if a.key not in seen), None)
        opportunities = (
            await self.volunteering.opportunities_for(r.id)
            if self.volunteering is not None and s.opportunities
            else []
        )
        if not grants and not measures and article is None and not opportunities:
            return None
        locale = r.locale or "ru"
        tr = self.renderer.bind(locale)
        text = tr(
            "push/digest.j2",
            grants=grants,
            measures=measures,
            article=article,
            tz=tz,
            weekly=s.digest == "weekly",
            opportunities=opportunities,
        )
        buttons: list[list[dict[str, str]]] = []
        if grants:
            buttons.append([_button(tr._("💰 All grants"), Menu(section="grants"))])
        if article is not None:
            articles_sent.append((r.id, article.key))
            tick.seen_articles.setdefault(r.id, set()).add(article.key)
            buttons.append([{"text": tr._("📖 Read the article"), "url": article.link}])
        if opportunities:
            buttons.append([_button(tr._("🙋 Volunteering"), Menu(section="volunteer"))])
        buttons.append([_button(tr._("🔕 Unsubscribe from the digest"), Unsub(what="digest"))])
        return NewPush(
            user_id=r.id,
            chat_id=r.id,
            kind="digest",
            dedup_key=key,
            payload={"text": split_html(text)[0], "parse_mode": "HTML", "buttons": buttons},
            not_before=self._when(r, tick.now),
        )

    def _reminders(self, r: Recipient, tick: _Tick) -> list[NewPush]:
        s = r.settings
        followed = tick.follows.get(r.id)
        if not s.grants or not followed:
            return []
        tz = r.timezone or self.default_timezone
        if not local_daytime(tick.now, tz, s.digest_hour):
            return []  # reminders go in the user's day, from their digest hour
        pushes = []
        tr = self.renderer.bind(r.locale or "ru")
        for g, occurrence in tick.openings:
            if g.key not in followed or occurrence.close_at is None:
                continue
            for n in reminders_due(occurrence, tick.now, tz, self.reminder_days):
                deadline = occurrence.close_at.date().isoformat()
                key = f"reminder:{r.id}:{g.key}:{deadline}:{n}"
                if key in tick.planned:
                    continue
                text = tr("push/reminder.j2", g=g, n=n, deadline=occurrence.close_at, tz=tz)
                buttons = [
                    [_button(tr._("💰 Open the grant"), Gr(action="card", key=g.key))],
                    [_button(tr._("📅 Add to calendar"), Gr(action="ics", key=g.key))],
                    [_button(tr._("🔕 Unsubscribe from grants"), Unsub(what="grants"))],
                ]
                pushes.append(
                    NewPush(
                        user_id=r.id,
                        chat_id=r.id,
                        kind="reminder",
                        dedup_key=key,
                        payload={"text": text, "parse_mode": "HTML", "buttons": buttons},
                        not_before=self._when(r, tick.now),
                    )
                )
        return pushes


def _fit(r: Recipient, default_timezone: str) -> Fit:
    return Fit(
        phase=phase_for_stage(r.stage) if r.stage else None,
        stage=r.stage,
        topics=r.topics,
        region=r.region,
        timezone=r.timezone or default_timezone,
    )
