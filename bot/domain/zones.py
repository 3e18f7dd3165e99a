"""Russia's regions, federal districts and UTC-offset groups, for the place screen (pure): the
region first (found by typing, :func:`find_regions`, or by district), its zone follows.

The data lives in ``content/regions.yaml``; whoever calls reads it (``yaml.safe_load``) and passes
the plain data to :func:`load_regions`, which validates it against the system's IANA time zone
database at a reference instant the caller chooses (usually "now"). Nothing here does I/O apart
from zoneinfo reading its own database.

Code schemes (documented in the YAML as well):

* zone groups: ``utc<N>`` with N the whole-hour UTC offset, ``utc2`` … ``utc12``;
* regions: the lower-case ISO 3166-2:RU suffix (``mow``, ``spe``, ``nvs``, ``ta`` …); the six
  subjects ISO does not list are ``crm``, ``sev``, ``dpr``, ``lpr``, ``zap``, ``khe``;
* federal districts (:data:`DISTRICTS`, fixed here, each region names one): ``cfo``, ``szfo``,
  ``yufo``, ``skfo``, ``pfo``, ``urfo``, ``sfo``, ``dfo``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter, ValidationError

from bot.domain.fields import TimeZone, zone_info

__all__ = [
    "DISTRICTS",
    "LABEL_MAX_LEN",
    "REGION_COUNT",
    "RUSSIAN_IANA_ZONES",
    "ZONE_COUNT",
    "District",
    "Region",
    "RegionZone",
    "Zone",
    "find_regions",
    "fold",
    "is_russian_zone",
    "load_regions",
    "local_time",
    "offset_label",
    "regions_in",
    "regions_of_district",
    "ru_sort_key",
    "user_zone",
]

REGION_COUNT = 89  # federal subjects listed in Article 65 of the Constitution
ZONE_COUNT = 11  # UTC+2 … UTC+12
LABEL_MAX_LEN = 24  # a zone button's text

# Every IANA zone content/regions.yaml uses (regions' administrative centres, Yakutia's other
# zones and the groups' representative zones). tests/test_zones.py keeps this equal to the YAML.
# One more IANA zone exists inside Russia (Asia/Khandyga, UTC+9 like Yakutsk): the bot never
# stores it.
RUSSIAN_IANA_ZONES: frozenset[str] = frozenset(
    {
        "Europe/Kaliningrad",
        "Europe/Moscow",
        "Europe/Simferopol",
        "Europe/Volgograd",
        "Europe/Kirov",
        "Europe/Samara",
        "Europe/Astrakhan",
        "Europe/Saratov",
        "Europe/Ulyanovsk",
        "Asia/Yekaterinburg",
        "Asia/Omsk",
        "Asia/Novosibirsk",
        "Asia/Barnaul",
        "Asia/Tomsk",
        "Asia/Novokuznetsk",
        "Asia/Krasnoyarsk",
        "Asia/Irkutsk",
        "Asia/Chita",
        "Asia/Yakutsk",
        "Asia/Ust-Nera",
        "Asia/Srednekolymsk",
        "Asia/Vladivostok",
        "Asia/Sakhalin",
        "Asia/Magadan",
        "Asia/Kamchatka",
        "Asia/Anadyr",
    }
)

_CODE = re.compile(r"[a-z][a-z0-9]*\Z")
_TIME_ZONE: TypeAdapter[str] = TypeAdapter(TimeZone)


@dataclass(frozen=True, slots=True)
class Zone:
    """A UTC-offset group: the first tap of the screen."""

    code: str  # "utc3"
    iana: str  # the representative IANA zone, "Europe/Moscow"
    offset_hours: int  # 3
    label_ru: str  # «UTC+3 Москва»
    label_en: str  # "UTC+3 Moscow"

    def label(self, locale: str) -> str:
        """The button text in ``locale`` ("ru" or anything else → English)."""
        return self.label_ru if locale == "ru" else self.label_en


@dataclass(frozen=True, slots=True)
class District:
    """A federal district: a way to the region without typing."""

    code: str  # "sfo"
    name_ru: str  # «Сибирский»
    name_en: str  # "Siberian"

    def name(self, locale: str) -> str:
        return self.name_ru if locale == "ru" else self.name_en


# The eight federal districts (Presidential decree of 13 May 2000 and later changes), west to
# east; Crimea, Sevastopol and the four new subjects are in the Southern one.
DISTRICTS: tuple[District, ...] = (
    District("cfo", "Центральный", "Central"),
    District("szfo", "Северо-Западный", "North-Western"),
    District("yufo", "Южный", "Southern"),
    District("skfo", "Северо-Кавказский", "North Caucasian"),
    District("pfo", "Приволжский", "Volga"),
    District("urfo", "Уральский", "Ural"),
    District("sfo", "Сибирский", "Siberian"),
    District("dfo", "Дальневосточный", "Far Eastern"),
)
_DISTRICT_CODES = frozenset(d.code for d in DISTRICTS)


@dataclass(frozen=True, slots=True)
class RegionZone:
    """One of the zones of a region over several offsets, with a town to recognise it by."""

    iana: str  # "Asia/Ust-Nera"
    label_ru: str  # «Усть-Нера»
    label_en: str  # "Ust-Nera"

    def label(self, locale: str) -> str:
        return self.label_ru if locale == "ru" else self.label_en


@dataclass(frozen=True, slots=True)
class Region:
    """A federal subject."""

    code: str  # "nvs"
    name_ru: str  # «Новосибирская область»
    name_en: str  # "Novosibirsk Oblast"
    iana: str  # its administrative centre's IANA zone, "Asia/Novosibirsk"
    zone: str  # the code of its UTC-offset group, "utc7"
    district: str = ""  # the code of its federal district, "sfo"
    aliases: tuple[str, ...] = ()  # what people type for it besides the name: «мск», «спб»
    zones: tuple[RegionZone, ...] = ()  # over several offsets only (Yakutia); else empty

    def name(self, locale: str) -> str:
        """The name in ``locale`` ("ru" or anything else → English)."""
        return self.name_ru if locale == "ru" else self.name_en


# ── validation ──────────────────────────────────────────────────────────────────────────────


def _require_aware(value: datetime, what: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value.isoformat()}")


def _offset(iana: str, at: datetime) -> timedelta:
    zone = ZoneInfo(iana)
    offset = at.astimezone(zone).utcoffset()
    assert offset is not None  # a ZoneInfo always knows its offset for an aware instant
    return offset


class _Problems:
    """Collects every problem so that one ValueError lists them all, each naming its entry."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.lines.append(f"regions.yaml: {where}: {message}")

    def raise_if_any(self) -> None:
        if self.lines:
            raise ValueError("\n".join(self.lines))


def _where(section: str, index: int, entry: object) -> str:
    code = entry.get("code") if isinstance(entry, Mapping) else None
    if isinstance(code, str) and code:
        return f"{section} entry '{code}' (#{index + 1})"
    return f"{section} entry #{index + 1}"


def _text(
    p: _Problems, where: str, entry: Mapping[str, Any], field: str, path: str = ""
) -> str | None:
    value = entry.get(field)
    if not isinstance(value, str) or not value.strip():
        p.add(where, f"{path}{field}: must be a non-empty string, got {value!r}")
        return None
    if value != value.strip():
        p.add(where, f"{path}{field}: leading or trailing spaces in {value!r}")
        return None
    return value


def _pair(
    p: _Problems, where: str, entry: Mapping[str, Any], field: str
) -> tuple[str, str] | None:
    value = entry.get(field)
    if not isinstance(value, Mapping):
        p.add(where, f"{field}: must be a mapping with 'ru' and 'en', got {value!r}")
        return None
    ru = _text(p, where, value, "ru", f"{field}.")
    en = _text(p, where, value, "en", f"{field}.")
    extra = sorted(str(k) for k in value if k not in ("ru", "en"))
    if extra:
        p.add(where, f"{field}: unknown keys {extra}")
    if ru is None or en is None:
        return None
    return ru, en


def _code(p: _Problems, where: str, entry: Mapping[str, Any], seen: dict[str, str]) -> str | None:
    code = _text(p, where, entry, "code")
    if code is None:
        return None
    if not _CODE.match(code):
        p.add(where, f"code: {code!r} must be lower-case ASCII letters and digits")
        return None
    if code in seen:
        p.add(where, f"duplicate code (also {seen[code]})")
        return None
    seen[code] = where
    return code


def _iana(p: _Problems, where: str, entry: Mapping[str, Any]) -> str | None:
    iana = _text(p, where, entry, "iana")
    if iana is None:
        return None
    try:
        return _TIME_ZONE.validate_python(iana)
    except ValidationError:
        p.add(where, f"iana: {iana!r} is not a zone of the IANA time zone database")
        return None


def _entries(p: _Problems, data: Mapping[str, Any], section: str) -> list[Mapping[str, Any]]:
    raw = data.get(section)
    if not isinstance(raw, list):
        p.add(section, f"must be a list, got {type(raw).__name__}")
        return []
    entries: list[Mapping[str, Any]] = []
    for i, entry in enumerate(raw):
        if isinstance(entry, Mapping):
            entries.append(entry)
        else:
            p.add(f"{section} entry #{i + 1}", f"must be a mapping, got {entry!r}")
    return entries


def _unknown_keys(p: _Problems, where: str, entry: Mapping[str, Any], known: set[str]) -> None:
    extra = sorted(str(k) for k in entry if k not in known)
    if extra:
        p.add(where, f"unknown keys {extra}")


def _load_zones(p: _Problems, data: Mapping[str, Any], at: datetime) -> list[Zone]:
    zones: list[Zone] = []
    codes: dict[str, str] = {}
    offsets: dict[int, str] = {}
    for i, entry in enumerate(_entries(p, data, "zones")):
        where = _where("zones", i, entry)
        _unknown_keys(p, where, entry, {"code", "iana", "offset_hours", "label"})
        code = _code(p, where, entry, codes)
        iana = _iana(p, where, entry)
        label = _pair(p, where, entry, "label")
        hours = entry.get("offset_hours")
        if not isinstance(hours, int) or isinstance(hours, bool):
            p.add(where, f"offset_hours: must be a whole number, got {hours!r}")
            hours = None
        elif hours in offsets:
            p.add(where, f"offset_hours: UTC{hours:+d} is used by {offsets[hours]} already")
        else:
            offsets[hours] = where
        if label is not None:
            for lang, text in zip(("ru", "en"), label, strict=True):
                if len(text) > LABEL_MAX_LEN:
                    p.add(where, f"label.{lang}: {text!r} is over {LABEL_MAX_LEN} characters")
        if iana is not None and hours is not None:
            actual = _offset(iana, at)
            if actual != timedelta(hours=hours):
                p.add(
                    where,
                    f"offset_hours: {hours} but {iana} is {_format_offset(actual)} "
                    f"at {at.isoformat()}",
                )
        if code is not None and iana is not None and hours is not None and label is not None:
            zones.append(Zone(code, iana, hours, label[0], label[1]))
    return zones


def _load_region_list(
    p: _Problems, data: Mapping[str, Any], at: datetime, zones: Mapping[str, Zone]
) -> list[Region]:
    regions: list[Region] = []
    codes: dict[str, str] = {}
    names_ru: dict[str, str] = {}
    for i, entry in enumerate(_entries(p, data, "regions")):
        where = _where("regions", i, entry)
        _unknown_keys(
            p, where, entry, {"code", "name", "iana", "zone", "district", "aliases", "zones"}
        )
        code = _code(p, where, entry, codes)
        name = _pair(p, where, entry, "name")
        iana = _iana(p, where, entry)
        zone_code = _text(p, where, entry, "zone")
        if name is not None:
            if name[0] in names_ru:
                p.add(where, f"name.ru: {name[0]!r} is used by {names_ru[name[0]]} already")
            names_ru.setdefault(name[0], where)
        zone = None
        if zone_code is not None:
            zone = zones.get(zone_code)
            if zone is None:
                p.add(where, f"zone: {zone_code!r} is not a code of `zones` {sorted(zones)}")
        if zone is not None and iana is not None:
            actual = _offset(iana, at)
            if actual != timedelta(hours=zone.offset_hours):
                p.add(
                    where,
                    f"zone: {zone.code} is UTC{zone.offset_hours:+d} but {iana} is "
                    f"{_format_offset(actual)} at {at.isoformat()}",
                )
        district = _text(p, where, entry, "district")
        if district is not None and district not in _DISTRICT_CODES:
            p.add(where, f"district: {district!r} is not one of {sorted(_DISTRICT_CODES)}")
            district = None
        aliases = _aliases(p, where, entry)
        own = _region_zones(p, where, entry, iana, at)
        if (
            code is not None
            and name is not None
            and iana is not None
            and zone is not None
            and district is not None
            and aliases is not None
            and own is not None
        ):
            regions.append(Region(code, name[0], name[1], iana, zone.code, district, aliases, own))
    return regions


def _aliases(p: _Problems, where: str, entry: Mapping[str, Any]) -> tuple[str, ...] | None:
    raw = entry.get("aliases", [])
    if not isinstance(raw, list):
        p.add(where, f"aliases: must be a list, got {raw!r}")
        return None
    ok = True
    for alias in raw:
        if not isinstance(alias, str) or not alias.strip() or alias != fold(alias):
            p.add(where, f"aliases: {alias!r} must be a non-empty lower-case string, ё as е")
            ok = False
    return tuple(raw) if ok else None


def _region_zones(
    p: _Problems, where: str, entry: Mapping[str, Any], iana: str | None, at: datetime
) -> tuple[RegionZone, ...] | None:
    """``zones``: absent, or at least two zones of distinct offsets, the centre's among them."""
    raw = entry.get("zones")
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) < 2:
        p.add(where, f"zones: must be a list of at least two zones, got {raw!r}")
        return None
    found: list[RegionZone] = []
    offsets: set[timedelta] = set()
    for i, item in enumerate(raw):
        at_i = f"zones #{i + 1}"
        if not isinstance(item, Mapping):
            p.add(where, f"{at_i}: must be a mapping, got {item!r}")
            return None
        _unknown_keys(p, f"{where} {at_i}", item, {"iana", "label"})
        zone_iana = _iana(p, f"{where} {at_i}", item)
        label = _pair(p, f"{where} {at_i}", item, "label")
        if zone_iana is None or label is None:
            return None
        for lang, text in zip(("ru", "en"), label, strict=True):
            if len(text) > LABEL_MAX_LEN:
                p.add(where, f"{at_i} label.{lang}: {text!r} is over {LABEL_MAX_LEN} characters")
        offset = _offset(zone_iana, at)
        if offset in offsets:
            p.add(where, f"{at_i}: {zone_iana} has the offset of another of the zones")
        offsets.add(offset)
        found.append(RegionZone(zone_iana, label[0], label[1]))
    if iana is not None and iana not in {z.iana for z in found}:
        p.add(where, f"zones: must include the region's own iana {iana!r}")
        return None
    return tuple(found)


def load_regions(
    data: Mapping[str, Any], *, at: datetime
) -> tuple[tuple[Zone, ...], tuple[Region, ...]]:
    """Zones and regions from ``content/regions.yaml``'s data (as ``yaml.safe_load`` returns it).

    Checks: codes are unique lower-case ASCII; every IANA zone exists in the system's database;
    each zone group's offset and each region's group equal the IANA zone's UTC offset at ``at``
    (an aware instant, usually "now"); exactly 89 regions and 11 groups with distinct offsets,
    each group used by at least one region; labels at most 24 characters; every region in one
    of the eight federal districts, each district used; a region's own ``zones`` (Yakutia) of
    distinct offsets, its centre's among them; aliases lower case with ё as е. Raises
    ``ValueError`` listing every problem, one a line, each naming its entry
    (``regions entry 'nvs' (#50)``).
    Order is kept as in the data.
    """
    _require_aware(at, "at")
    if not isinstance(data, Mapping):
        raise ValueError(f"regions.yaml: must be a mapping, got {type(data).__name__}")
    p = _Problems()
    _unknown_keys(p, "top level", data, {"zones", "regions"})
    zones = _load_zones(p, data, at)
    by_code = {zone.code: zone for zone in zones}
    regions = _load_region_list(p, data, at, by_code)
    p.raise_if_any()  # the counts below are only meaningful once every entry is sound

    if len(zones) != ZONE_COUNT:
        p.add("zones", f"expected {ZONE_COUNT} zone groups, got {len(zones)}")
    if len(regions) != REGION_COUNT:
        p.add("regions", f"expected {REGION_COUNT} regions, got {len(regions)}")
    used = {region.zone for region in regions}
    for i, zone in enumerate(zones):
        if zone.code not in used:
            p.add(f"zones entry '{zone.code}' (#{i + 1})", "no region is in this group")
    districts = {region.district for region in regions}
    for district in DISTRICTS:
        if district.code not in districts:
            p.add("regions", f"no region is in the district {district.code!r}")
    p.raise_if_any()
    return tuple(zones), tuple(regions)


# ── queries ─────────────────────────────────────────────────────────────────────────────────

# Leading words dropped for sorting, so that «Республика Татарстан» sorts under Т.
_SORT_PREFIXES = ("республика ", "г. ")


def ru_sort_key(name_ru: str) -> tuple[str, str]:
    """Sort key for Russian names: case-insensitive, ё as е, a leading «Республика »/«г. » ignored.

    Plain code-point order is alphabetical for а…я once ё is folded into е; a tie (there is
    none among the 89 regions) falls back to the full folded name.
    """
    folded = name_ru.casefold().replace("ё", "е")
    key = folded
    for prefix in _SORT_PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix) :]
            break
    return key, folded


def regions_in(zone_code: str, regions: Iterable[Region]) -> tuple[Region, ...]:
    """The regions of group ``zone_code``, sorted by :func:`ru_sort_key` of their Russian name.

    An unknown code gives an empty tuple.
    """
    return tuple(
        sorted(
            (region for region in regions if region.zone == zone_code),
            key=lambda region: ru_sort_key(region.name_ru),
        )
    )


def regions_of_district(district_code: str, regions: Iterable[Region]) -> tuple[Region, ...]:
    """The regions of a federal district, sorted by :func:`ru_sort_key` of their Russian name."""
    return tuple(
        sorted(
            (region for region in regions if region.district == district_code),
            key=lambda region: ru_sort_key(region.name_ru),
        )
    )


def fold(text: str) -> str:
    """Text for matching: case-folded, ё as е, spaces squeezed."""
    return " ".join(text.casefold().replace("ё", "е").split())


_WORD = re.compile(r"[^\W_]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def find_regions(query: str, regions: Iterable[Region]) -> tuple[Region, ...]:
    """The regions a typed ``query`` names, sorted by their Russian name.

    Case and ё/е do not matter. An alias typed in full («мск», «спб», «казань») or a region's
    whole name wins alone; otherwise a region matches when every word of the query starts a
    word of its Russian or English name or of an alias («татар», «новосиб», «нижний нов»).
    Nothing typed (or only punctuation) finds nothing.
    """
    wanted = _words(query)
    if not wanted:
        return ()
    folded = " ".join(wanted)
    pool = tuple(regions)
    exact = [
        r
        for r in pool
        if folded in {" ".join(_words(a)) for a in (*r.aliases, r.name_ru, r.name_en)}
    ]
    if exact:
        return tuple(sorted(exact, key=lambda r: ru_sort_key(r.name_ru)))

    def matches(region: Region) -> bool:
        words = [
            w for text in (region.name_ru, region.name_en, *region.aliases) for w in _words(text)
        ]
        return all(any(w.startswith(q) for w in words) for q in wanted)

    return tuple(sorted((r for r in pool if matches(r)), key=lambda r: ru_sort_key(r.name_ru)))


def local_time(instant_utc: datetime, iana: str) -> datetime:
    """``instant_utc`` (any aware datetime) as wall-clock time in ``iana``, an aware datetime.

    Raises ``ValueError`` for a naive datetime or an unknown zone.
    """
    _require_aware(instant_utc, "instant_utc")
    return instant_utc.astimezone(zone_info(iana))


def _format_offset(offset: timedelta) -> str:
    total = int(offset.total_seconds())
    sign = "-" if total < 0 else "+"
    hours, rest = divmod(abs(total), 3600)
    minutes = rest // 60
    return f"UTC{sign}{hours}" + (f":{minutes:02d}" if minutes else "")


def offset_label(iana: str, at: datetime) -> str:
    """The UTC offset of ``iana`` at the aware instant ``at``: "UTC+3", "UTC-5", "UTC+5:30".

    Raises ``ValueError`` for a naive ``at`` or an unknown zone.
    """
    local = local_time(at, iana)
    offset = local.utcoffset()
    assert offset is not None  # local_time returns an aware datetime
    return _format_offset(offset)


def is_russian_zone(iana: str) -> bool:
    """Whether ``iana`` is one of the zones the regions and groups of regions.yaml use."""
    return iana in RUSSIAN_IANA_ZONES


def user_zone(stored: str | None, default: str) -> str:
    """A user's IANA zone: the one they chose (``stored``), else the deployment's ``default``.

    Not an opportunity's or a grant's own zone: those are always stored.
    """
    return stored or default
