"""Grants and best-practice articles: the starter catalogs from content/ and what coordinators
add in the database, seen the same way; follows, read marks and calendar files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content import Catalog
from bot.domain import grants as rules
from bot.domain.windows import Window, current_or_next
from bot.domain.zones import user_zone
from bot.infra.clock import Clock
from bot.services.profile import Profile, ProfileService
from bot.storage import catalogs as repo
from bot.storage.users import User
from bot.ui.calendar import CalendarEvent, to_ics
from bot.ui.render import Localized


@dataclass(frozen=True)
class Plain:
    """Text a coordinator typed: the same in every locale."""

    text: str

    def get(self, locale: str | None = None) -> str:
        return self.text


@dataclass(frozen=True)
class GrantView:
    key: str  # a catalog code, or "G<id>" for a coordinator's grant
    title: Localized
    organiser: Localized
    site: str
    link: str
    who: Localized
    amount: Localized | None
    note: Localized | None
    topics: tuple[str, ...]
    phases: tuple[str, ...]
    region: str | None
    timezone: str
    windows: tuple[Window, ...]


@dataclass(frozen=True)
class ArticleView:
    key: str  # a catalog code, or "A<id>"
    title: Localized
    summary: Localized
    link: str
    source: str
    topics: tuple[str, ...]
    stages: tuple[int, ...]


@dataclass(frozen=True)
class Fit:
    """What the catalogs need to know about a user (any part may be unknown)."""

    phase: str | None = None
    stage: int | None = None
    topics: frozenset[str] = frozenset()
    region: str | None = None
    timezone: str = "Europe/Moscow"


def fit_of(profile: Profile | None, default_timezone: str) -> Fit:
    """What the catalogs may use of a profile (None: a user who has not consented)."""
    if profile is None:
        return Fit(timezone=default_timezone)
    matching = profile.for_matching()
    return Fit(
        phase=matching.phase if matching else None,
        stage=profile.stage,
        topics=profile.topics,
        region=profile.user.region,
        timezone=user_zone(profile.user.timezone, default_timezone),
    )


async def fit_for(profiles: ProfileService, user: User | None, default_timezone: str) -> Fit:
    """The catalogs' view of a user; without consent only the deployment's defaults."""
    if user is None or not user.consented:
        return fit_of(None, default_timezone)
    return fit_of(await profiles.load(user.id), default_timezone)


class CatalogService:
    def __init__(self, engine: AsyncEngine, catalog: Catalog, clock: Clock) -> None:
        self.engine = engine
        self.catalog = catalog
        self.clock = clock
        self._grants = [
            GrantView(
                key=g.code, title=g.title, organiser=g.organiser, site=g.site, link=g.link,
                who=g.who, amount=g.amount, note=g.note, topics=g.topics, phases=g.phases,
                region=g.region, timezone=g.timezone,
                windows=tuple(w.to_window() for w in g.windows),
            )
            for g in catalog.grants
        ]  # fmt: skip
        self._articles = [
            ArticleView(
                key=a.code, title=a.title, summary=a.summary, link=a.link, source=a.source,
                topics=a.topics, stages=a.stages,
            )
            for a in catalog.articles
        ]  # fmt: skip

    # --- grants ---

    async def grants(self) -> list[GrantView]:
        async with self.engine.connect() as conn:
            rows = await repo.open_grants(conn)
        added = [
            GrantView(
                key=f"G{r.id}", title=Plain(r.title), organiser=Plain(r.organiser), site="",
                link=r.link, who=Plain(r.who), amount=Plain(r.amount) if r.amount else None,
                note=None, topics=r.topics, phases=r.phases, region=r.region,
                timezone=r.timezone, windows=r.windows,
            )
            for r in rows
        ]  # fmt: skip
        return [*self._grants, *added]

    async def grant(self, key: str) -> GrantView | None:
        return next((g for g in await self.grants() if g.key == key), None)

    def fitting(
        self, grants: list[GrantView], fit: Fit, now: datetime
    ) -> list[tuple[GrantView, rules.Opening]]:
        """Every grant that fits, each with its status, in the order to show them: nothing
        fitting is left out because its dates are far or unknown."""
        by_key = {g.key: g for g in grants}
        openings = []
        for g in grants:
            if not rules.fits(
                grant_topics=g.topics, grant_phases=g.phases, grant_region=g.region,
                phase=fit.phase, topics=fit.topics, region=fit.region,
            ):  # fmt: skip
                continue
            openings.append(rules.opening(g.key, g.windows, g.timezone, now))
        return [(by_key[o.key], o) for o in rules.order(openings)]

    async def followed(self, user_id: int) -> set[str]:
        async with self.engine.connect() as conn:
            return await repo.followed(conn, user_id)

    async def toggle_follow(self, user_id: int, key: str) -> bool:
        """Follow or unfollow; True when the user follows the grant afterwards."""
        async with self.engine.begin() as conn:
            if key in await repo.followed(conn, user_id):
                await repo.unfollow(conn, user_id, key)
                return False
            await repo.follow(conn, user_id, key, self.clock.now())
            return True

    def calendar(
        self, grants: list[GrantView], locale: str, now: datetime, caveat: str
    ) -> bytes | None:
        """One .ics with the next deadline of each grant (None: no deadline among them). An
        expected deadline (inferred from past years) is a TENTATIVE event, marked "≈" and with
        ``caveat`` (check the dates on the site) at the top of its description."""
        events = []
        for g in grants:
            occurrence = current_or_next(g.windows, g.timezone, now) if g.windows else None
            if occurrence is None or occurrence.close_at is None:
                continue
            deadline = occurrence.close_at
            expected = occurrence.expected
            who = g.who.get(locale)
            events.append(
                CalendarEvent(
                    uid=f"grant-{g.key}-{deadline.date().isoformat()}",
                    title=("≈ " if expected else "") + g.title.get(locale),
                    description=f"{caveat}\n\n{who}" if expected else who,
                    tentative=expected,
                    url=g.link or None,
                    deadline=deadline,
                    timezone=g.timezone,
                )
            )
        if not events:
            return None
        return to_ics(events, name="Опора", now=now)

    # --- articles ---

    async def articles(self) -> list[ArticleView]:
        async with self.engine.connect() as conn:
            rows = await repo.open_articles(conn)
        added = [
            ArticleView(
                key=f"A{r.id}", title=Plain(r.title), summary=Plain(r.summary), link=r.link,
                source="", topics=r.topics, stages=r.stages,
            )
            for r in rows
        ]  # fmt: skip
        return [*self._articles, *added]

    @staticmethod
    def matching_articles(articles: list[ArticleView], fit: Fit) -> list[ArticleView]:
        return [
            a
            for a in articles
            if (fit.stage is None or fit.stage in a.stages)
            and (not a.topics or not fit.topics or set(a.topics) & fit.topics)
        ]

    async def article_states(self, user_id: int) -> dict[str, bool]:
        async with self.engine.connect() as conn:
            return await repo.article_states(conn, user_id)

    async def mark_read(self, user_id: int, key: str) -> None:
        async with self.engine.begin() as conn:
            await repo.mark_read(conn, user_id, key, self.clock.now())
