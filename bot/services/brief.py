"""The brief a coordinator hands to a municipality: «Зачем поддерживать социальные инициативы».

It puts the seed's coordinator-facing content — the two definitions of the first slide
(content/interaction.yaml) and the ten things initiatives give the authorities
(content/authority_benefits.yaml) — next to the area's own figures, the counts /stats shows
(`StatsService.territory`). With no such figures yet it says so instead of printing zeros.
Everything is in the coordinator's language, dated in their zone; the operator named in the
settings signs it when one is set. The same `Brief` is the chat's preview and the PDF
(bot/ui/brief.py).
"""

from __future__ import annotations

from bot.config import Settings
from bot.content import Catalog, UnknownCodeError
from bot.infra.clock import Clock
from bot.services.stats import StatsService, Territory
from bot.storage.users import User
from bot.ui.brief import Brief, Definition, Figure
from bot.ui.render import Tr


class BriefService:
    def __init__(
        self, stats: StatsService, catalog: Catalog, settings: Settings, clock: Clock
    ) -> None:
        self.stats = stats
        self.catalog = catalog
        self.settings = settings
        self.clock = clock

    async def brief(self, tr: Tr, user: User | None) -> Brief:
        """The brief as `user` (a coordinator) would hand it over today."""
        territory = await self.stats.territory(tr, user.timezone if user else None)
        catalog = self.catalog
        day = territory.day.strftime("%d.%m.%Y")
        region = self._region(tr, user.region if user else None)
        figures = () if territory.empty else self.figures(tr, territory)
        note = tr._(
            "From the Opora bot as of {date}; only participants who gave their consent are "
            "counted."
        ).format(date=day)
        if region:
            addressee = tr._("A brief for the municipal administration · {region}").format(
                region=region
            )
        else:
            addressee = tr._("A brief for the municipal administration")
        return Brief(
            locale=tr.locale,
            title=tr._("Why support social initiatives"),
            addressee=addressee,
            sender=self.operator(),
            date=day,
            definitions_title=tr.loc(catalog.titles["interaction"]),
            definitions=tuple(
                Definition(tr.loc(d.term), tr.loc(d.text)) for d in catalog.definitions
            ),
            credit=tr._(
                "The definitions and the list are from the talk by S. Ponomarev, “{title}”"
            ).format(title=tr.loc(catalog.source.title)),
            points_title=tr.loc(catalog.titles["authority_benefits"]),
            points=tuple(tr.loc(b.name) for b in catalog.authority_benefits),
            figures_title=tr._("The area in figures"),
            figures=figures,
            no_figures=tr._(
                "There is no data on your area in the bot yet: the figures will appear here "
                "once activists and volunteers start using it."
            ),
            figures_note=note if figures else "",
            footer=tr._("Prepared with the Opora bot"),
            created=self.clock.now(),
            filename=f"opora-brief-{territory.day.isoformat()}.pdf",
        )

    def operator(self) -> str:
        """The operator's name from the settings; "" when none is named (the playground)."""
        return self.settings.operator_name or ""

    @staticmethod
    def figures(tr: Tr, t: Territory) -> tuple[Figure, ...]:
        """The table's rows: what the bot knows, a row left out where it knows nothing."""

        def lines(pairs: tuple[tuple[str, int], ...]) -> str:
            return "\n".join(f"{label} — {n}" for label, n in pairs)

        rows = [
            Figure(tr._("Participants who gave consent"), str(t.consented)),
            Figure(tr._("Activists"), str(t.roles.get("activist", 0))),
            Figure(tr._("Volunteers"), str(t.roles.get("volunteer", 0))),
        ]
        if t.with_stage:
            rows.append(Figure(tr._("Took the stage quiz"), str(t.with_stage)))
            # one line that breaks between phases, never inside one (no-break spaces)
            phases = " · ".join(f"{label}\u00a0—\u00a0{n}" for label, n in t.phases)
            rows.append(Figure(tr._("Projects by phase of development"), phases))
        if t.needs:
            rows.append(Figure(tr._("Needs named most often"), lines(t.needs)))
        if t.problems:
            rows.append(Figure(tr._("Problems of projects marked most often"), lines(t.problems)))
        v = t.volunteering
        if v.held or v.upcoming:
            held = tr._("{held} held · {upcoming} ahead").format(held=v.held, upcoming=v.upcoming)
            rows.append(Figure(tr._("Volunteer opportunities"), held))
        if v.volunteers:
            people = [tr._("{n} with a confirmed place").format(n=v.volunteers)]
            if v.attended:
                people.append(tr._("{n} attendances marked by organisers").format(n=v.attended))
            rows.append(Figure(tr._("Volunteers at these opportunities"), "\n".join(people)))
        return tuple(rows)

    def _region(self, tr: Tr, code: str | None) -> str:
        if not code:
            return ""
        try:
            return self.catalog.region(code).name(tr.locale)
        except UnknownCodeError:
            return ""
