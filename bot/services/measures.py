"""Support measures matched to an activist: the seed's matrix, the additional (infrastructure)
measures and the local ones coordinators add, ranked by the pure domain with reasons."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content import AdditionalMeasure, Catalog, Measure
from bot.domain.csvio import MeasureItem
from bot.domain.matching import Candidate, Match, Profile, local_offers, rank
from bot.storage import measures as repo

LOCAL_OFFERS_SHOWN = 3  # local offers on a catalog measure's card, like its ways (one screen)


@dataclass(frozen=True)
class Card:
    """What a measure's card shows: exactly one of the three sources is set; a catalog
    measure's card also lists the coordinators' local offers of its type in the user's region
    (``locals``), which the card shows above the nationwide ways."""

    match: Match | None
    matrix: Measure | None = None
    additional: AdditionalMeasure | None = None
    local: MeasureItem | None = None
    locals: tuple[MeasureItem, ...] = ()


@dataclass(frozen=True)
class Matched:
    matches: list[Match]
    locals: dict[str, MeasureItem]
    catalog: Catalog

    def of_type(self, type_code: str | None) -> list[Match]:
        if type_code is None:
            return self.matches
        return [m for m in self.matches if type_code in m.candidate.types]

    def name(self, code: str, locale: str) -> str:
        if code in self.locals:
            return self.locals[code].title
        try:
            return self.catalog.measure(code).name.get(locale)
        except KeyError:
            return self.catalog.additional_measure(code).name.get(locale)


def local_candidate(m: MeasureItem) -> Candidate:
    return Candidate(
        code=m.code,
        kind="local",
        phase=m.phase,
        types=(m.type,),
        problems=frozenset(m.problems),
        topics=frozenset(m.topics),
        region=m.region,
        order=m.id or 0,
    )


class MeasureService:
    def __init__(self, engine: AsyncEngine, catalog: Catalog) -> None:
        self.engine = engine
        self.catalog = catalog
        self._catalog_candidates = candidates_from_catalog(catalog)

    async def local_measures(self) -> list[MeasureItem]:
        async with self.engine.connect() as conn:
            return await repo.open_measures(conn)

    async def matched(self, profile: Profile) -> Matched:
        locals_ = {m.code: m for m in await self.local_measures()}
        candidates = [*self._catalog_candidates, *map(local_candidate, locals_.values())]
        return Matched(rank(profile, candidates), locals_, self.catalog)

    async def card(self, profile: Profile, code: str) -> Card | None:
        """The card of one measure (None: no such measure, e.g. a closed local one)."""
        matched = await self.matched(profile)
        match = next((m for m in matched.matches if m.candidate.code == code), None)
        if code.startswith("L") and code[1:].isdigit():
            async with self.engine.connect() as conn:
                local = await repo.measure(conn, int(code[1:]))
            if local is None:
                return None
            return Card(match, local=local)
        try:
            matrix = self.catalog.measure(code)
        except KeyError:
            pass
        else:
            offers = self._offers(matched, profile, (matrix.type,), matrix.phase)
            return Card(match, matrix=matrix, locals=offers)
        try:
            additional = self.catalog.additional_measure(code)
        except KeyError:
            return None
        offers = self._offers(matched, profile, additional.types, None)
        return Card(match, additional=additional, locals=offers)

    @staticmethod
    def _offers(
        matched: Matched, profile: Profile, types: tuple[str, ...], phase: str | None
    ) -> tuple[MeasureItem, ...]:
        """Local measures of ``types`` that the user's region has (see ``local_offers``)."""
        found = local_offers(
            map(local_candidate, matched.locals.values()),
            region=profile.region,
            types=types,
            phase=phase,
        )
        return tuple(matched.locals[c.code] for c in found[:LOCAL_OFFERS_SHOWN])


def candidates_from_catalog(catalog: Catalog) -> list[Candidate]:
    """The catalog's matrix and additional measures as candidates, with their matching tags."""
    result: list[Candidate] = []
    for i, m in enumerate(catalog.measures):
        tags = catalog.measure_tags(m.code)
        result.append(
            Candidate(
                code=m.code,
                kind="matrix",
                phase=m.phase,
                types=(m.type,),
                problems=frozenset(tags.problems),
                topics=frozenset(tags.topics),
                order=i,
                crises=frozenset(tags.crises),
            )
        )
    for i, a in enumerate(catalog.additional_measures):
        tags = catalog.measure_tags(a.code)
        result.append(
            Candidate(
                code=a.code,
                kind="additional",
                phase=None,
                types=a.types,
                problems=frozenset(tags.problems),
                topics=frozenset(tags.topics),
                order=i,
                crises=frozenset(tags.crises),
            )
        )
    return result
