"""A broadcast's domain (pure): who it goes to — a `Segment` — and when — schedule choices.

A segment is a set of filters, one set of values per kind:

    roles        activist / volunteer / coordinator     (user_roles)
    stages       1 … 7, the latest stage quiz result    (quiz_results)
    topics       topic codes of topics.yaml             (user_topics)
    place        zone groups `utc2 … utc12` and region codes of regions.yaml
    opportunities  ids of volunteering opportunities    (signups — see below)

Kinds combine with AND, values of one kind with OR; a kind with no values does not filter,
so the empty segment is "everyone". Zones and regions are one kind, *place*: a user is in
the place if their region is one of the chosen regions, or they live in one of the chosen
zone groups (by region or, for a user who gave only a time zone, by that zone). Choosing a
whole zone drops the regions of that zone already chosen, and choosing a region drops its
whole zone — so a choice never hides another.

Who is never reached, whatever the segment: users without consent, users who blocked the bot,
users who turned announcements off (`bot.storage.broadcasts` adds these conditions).

EXTENSION POINT — opportunities: `Segment.opportunity_ids` is stored, shown and combined like
any other kind, but it resolves to nobody until the volunteering feature adds a `signups`
table (`bot.storage.broadcasts._opportunities` checks `"signups" in metadata.tables`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.domain.fields import DayOutOfRange, check_day, day_range
from bot.domain.zones import Region, Zone

ROLES: Final = ("activist", "volunteer", "coordinator")
STAGES: Final = (1, 2, 3, 4, 5, 6, 7)
KINDS: Final = ("roles", "stages", "topics", "place", "opportunities")


# ── geography ───────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Geography:
    """Which regions and IANA zones make up each zone group (from regions.yaml)."""

    zone_regions: Mapping[str, frozenset[str]]
    zone_timezones: Mapping[str, frozenset[str]]
    region_zone: Mapping[str, str]

    @classmethod
    def of(cls, zones: Iterable[Zone], regions: Iterable[Region]) -> Geography:
        regions = tuple(regions)
        zone_regions: dict[str, frozenset[str]] = {}
        zone_timezones: dict[str, frozenset[str]] = {}
        for zone in zones:
            members = [r for r in regions if r.zone == zone.code]
            zone_regions[zone.code] = frozenset(r.code for r in members)
            zone_timezones[zone.code] = frozenset({zone.iana, *(r.iana for r in members)})
        return cls(zone_regions, zone_timezones, {r.code: r.zone for r in regions})


@dataclass(frozen=True, slots=True)
class PlaceFilter:
    """The place kind resolved: a user matches by region code or by stored IANA zone."""

    regions: frozenset[str]
    timezones: frozenset[str]


# ── the segment ─────────────────────────────────────────────────────────────────────────────


def _strings(value: Any, allowed: Iterable[str] | None = None) -> frozenset[str]:
    if not isinstance(value, list | tuple | set | frozenset):
        return frozenset()
    found = {v for v in value if isinstance(v, str) and v}
    return frozenset(found & set(allowed) if allowed is not None else found)


def _ints(value: Any, allowed: Iterable[int] | None = None) -> frozenset[int]:
    if not isinstance(value, list | tuple | set | frozenset):
        return frozenset()
    found = {v for v in value if isinstance(v, int) and not isinstance(v, bool) and v > 0}
    return frozenset(found & set(allowed) if allowed is not None else found)


def _flip(values: frozenset[Any], value: Any) -> frozenset[Any]:
    return values - {value} if value in values else values | {value}


@dataclass(frozen=True, slots=True)
class Segment:
    """Who a broadcast goes to (see the module docstring). Immutable: toggles return a copy."""

    roles: frozenset[str] = frozenset()
    stages: frozenset[int] = frozenset()
    topics: frozenset[str] = frozenset()
    zones: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    # EXTENSION POINT: participants of these opportunities (resolves to nobody without a
    # `signups` table; see bot.storage.broadcasts).
    opportunity_ids: frozenset[int] = frozenset()

    # --- reading

    @property
    def is_empty(self) -> bool:
        """No filter at all: everyone who may receive announcements."""
        return not self.active_kinds()

    def active_kinds(self) -> tuple[str, ...]:
        return tuple(kind for kind in KINDS if self.values(kind))

    def values(self, kind: str) -> tuple[str, ...]:
        """The chosen values of `kind` as sorted strings (zones before regions for place)."""
        if kind == "roles":
            return tuple(r for r in ROLES if r in self.roles)
        if kind == "stages":
            return tuple(str(s) for s in sorted(self.stages))
        if kind == "topics":
            return tuple(sorted(self.topics))
        if kind == "place":
            zones = sorted(self.zones, key=lambda z: (len(z), z))  # utc2 < utc10
            return (*zones, *sorted(self.regions))
        if kind == "opportunities":
            return tuple(str(i) for i in sorted(self.opportunity_ids))
        raise ValueError(f"unknown segment kind {kind!r}")

    def describe(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(kind, codes) for every kind that filters, in a fixed order; () means everyone.
        Screens turn the codes into names; `summary()` is the plain form for logs."""
        return tuple((kind, self.values(kind)) for kind in self.active_kinds())

    def summary(self) -> str:
        """One line for logs and the audit: `stages=4; place=utc7,nvs`, or `everyone`."""
        parts = [f"{kind}={','.join(codes)}" for kind, codes in self.describe()]
        return "; ".join(parts) or "everyone"

    def place(self, geo: Geography) -> PlaceFilter | None:
        """The place kind resolved against the geography; None when place does not filter."""
        if not self.zones and not self.regions:
            return None
        regions = set(self.regions)
        timezones: set[str] = set()
        for zone in self.zones:
            regions |= geo.zone_regions.get(zone, frozenset())
            timezones |= geo.zone_timezones.get(zone, frozenset())
        return PlaceFilter(frozenset(regions), frozenset(timezones))

    # --- changing

    def toggle_role(self, role: str) -> Segment:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        return replace(self, roles=_flip(self.roles, role))

    def toggle_stage(self, stage: int) -> Segment:
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}")
        return replace(self, stages=_flip(self.stages, stage))

    def toggle_topic(self, topic: str) -> Segment:
        if not topic:
            raise ValueError("empty topic code")
        return replace(self, topics=_flip(self.topics, topic))

    def toggle_zone(self, zone: str, geo: Geography) -> Segment:
        """The whole zone group on or off; turning it on drops its regions chosen one by one."""
        if zone not in geo.zone_regions:
            raise ValueError(f"unknown zone {zone!r}")
        if zone in self.zones:
            return replace(self, zones=self.zones - {zone})
        return replace(
            self, zones=self.zones | {zone}, regions=self.regions - geo.zone_regions[zone]
        )

    def toggle_region(self, region: str, geo: Geography) -> Segment:
        """One region on or off; turning it on drops its whole zone group if that was on."""
        zone = geo.region_zone.get(region)
        if zone is None:
            raise ValueError(f"unknown region {region!r}")
        if region in self.regions:
            return replace(self, regions=self.regions - {region})
        return replace(self, regions=self.regions | {region}, zones=self.zones - {zone})

    def toggle_opportunity(self, opportunity_id: int) -> Segment:
        if opportunity_id <= 0:
            raise ValueError("opportunity ids are positive")
        return replace(self, opportunity_ids=_flip(self.opportunity_ids, opportunity_id))

    def cleared(self, kind: str | None = None) -> Segment:
        """Without the filters of `kind` (None: without any filter: everyone)."""
        if kind is None:
            return Segment()
        if kind == "place":
            return replace(self, zones=frozenset(), regions=frozenset())
        if kind == "opportunities":
            return replace(self, opportunity_ids=frozenset())
        if kind in ("roles", "stages", "topics"):
            return replace(self, **{kind: frozenset()})
        raise ValueError(f"unknown segment kind {kind!r}")

    # --- JSON (the `broadcasts.segment` column)

    def to_json(self) -> dict[str, Any]:
        """Only the kinds that filter, values sorted: `{}` is everyone."""
        data: dict[str, Any] = {}
        if self.roles:
            data["roles"] = sorted(self.roles)
        if self.stages:
            data["stages"] = sorted(self.stages)
        if self.topics:
            data["topics"] = sorted(self.topics)
        if self.zones:
            data["zones"] = sorted(self.zones)
        if self.regions:
            data["regions"] = sorted(self.regions)
        if self.opportunity_ids:
            data["opportunity_ids"] = sorted(self.opportunity_ids)
        return data

    def dumps(self) -> str:
        return json.dumps(self.to_json(), separators=(",", ":"))

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str | None) -> Segment:
        """Tolerant: unknown keys and malformed values are dropped (a stored segment from an
        older or newer version still loads)."""
        if isinstance(data, str):
            try:
                data = json.loads(data) if data.strip() else {}
            except json.JSONDecodeError:
                data = {}
        if not isinstance(data, Mapping):
            return cls()
        return cls(
            roles=_strings(data.get("roles"), ROLES),
            stages=_ints(data.get("stages"), STAGES),
            topics=_strings(data.get("topics")),
            zones=_strings(data.get("zones")),
            regions=_strings(data.get("regions")),
            opportunity_ids=_ints(data.get("opportunity_ids")),
        )

    def known_only(
        self, topics: Iterable[str], geo: Geography, opportunities: Iterable[int] | None = None
    ) -> Segment:
        """Without codes the catalog does not know (any more)."""
        return replace(
            self,
            topics=self.topics & set(topics),
            zones=self.zones & set(geo.zone_regions),
            regions=self.regions & set(geo.region_zone),
            opportunity_ids=(
                self.opportunity_ids
                if opportunities is None
                else self.opportunity_ids & set(opportunities)
            ),
        )


# ── when: schedule choices in the coordinator's own time zone ───────────────────────────────

PRESETS: Final = ("1h", "tomorrow", "monday")
MAX_AHEAD = timedelta(days=366)
PRESET_HOUR = 10


class WhenError(ValueError):
    """A typed time that cannot be used; `reason` is "format", "past", "far" or "range" (a
    day outside `earliest` … `latest`, typed as DD.MM.YYYY)."""

    def __init__(self, reason: str, earliest: str = "", latest: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.earliest = earliest
        self.latest = latest


def _local(now: datetime, tz: str) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(ZoneInfo(tz))


def preset_time(preset: str, now: datetime, tz: str) -> datetime:
    """The instant (UTC) of a schedule button: "1h" (in an hour, to the minute), "tomorrow"
    (10:00 tomorrow, local), "monday" (the next Monday 10:00 local, strictly after now)."""
    local = _local(now, tz)
    if preset == "1h":
        return (now + timedelta(hours=1)).replace(second=0, microsecond=0).astimezone(UTC)
    if preset == "tomorrow":
        day = local.date() + timedelta(days=1)
    elif preset == "monday":
        day = local.date() + timedelta(days=(7 - local.weekday()) % 7)
        if datetime(day.year, day.month, day.day, PRESET_HOUR, tzinfo=local.tzinfo) <= local:
            day += timedelta(days=7)
    else:
        raise ValueError(f"unknown preset {preset!r}")
    return datetime(day.year, day.month, day.day, PRESET_HOUR, tzinfo=local.tzinfo).astimezone(UTC)


_DATE_TIME = re.compile(
    r"^\s*(?P<d>\d{1,2})\.(?P<m>\d{1,2})(?:\.(?P<y>\d{2}|\d{4}))?\s*[ ,T]\s*"
    r"(?P<hh>\d{1,2})[:.](?P<mm>\d{2})\s*$"
)
_TIME = re.compile(r"^\s*(?P<hh>\d{1,2})[:.](?P<mm>\d{2})\s*$")


def _in_range(day: date, today: date) -> None:
    try:
        check_day(day, *day_range(today))
    except DayOutOfRange as out:
        earliest, latest = (d.strftime("%d.%m.%Y") for d in (out.earliest, out.latest))
        raise WhenError("range", earliest, latest) from None


def parse_when(text: str, now: datetime, tz: str) -> datetime:
    """A typed time in the coordinator's zone → an instant (UTC).

    Accepts `DD.MM HH:MM`, `DD.MM.YYYY HH:MM` (or `.YY`) and `HH:MM` (today, or tomorrow
    when that time has passed). Without a year: this year, or the next one when the date is
    more than a month gone (typing 05.01 in December). Raises WhenError: "format" (not a
    time), "range" (a day too far from today: bot.domain.fields.day_range), "past" (not
    after now), "far" (more than a year ahead).
    """
    local = _local(now, tz)
    zone = local.tzinfo
    match = _DATE_TIME.match(text)
    try:
        if match is not None:
            day, month = int(match["d"]), int(match["m"])
            hour, minute = int(match["hh"]), int(match["mm"])
            if match["y"]:
                year = int(match["y"]) + (2000 if len(match["y"]) == 2 else 0)
                _in_range(date(year, month, day), local.date())
                when = datetime(year, month, day, hour, minute, tzinfo=zone)
            else:
                when = datetime(local.year, month, day, hour, minute, tzinfo=zone)
                if when < local - timedelta(days=31):
                    when = datetime(local.year + 1, month, day, hour, minute, tzinfo=zone)
        elif (match := _TIME.match(text)) is not None:
            hour, minute = int(match["hh"]), int(match["mm"])
            when = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
            if when <= local:
                when += timedelta(days=1)
        else:
            raise WhenError("format")
    except ValueError as exc:  # 31.02, 25:00
        if isinstance(exc, WhenError):
            raise
        raise WhenError("format") from exc
    instant = when.astimezone(UTC)
    if instant <= now:
        raise WhenError("past")
    if instant - now > MAX_AHEAD:
        raise WhenError("far")
    return instant
