"""content/regions.yaml: all 89 subjects, 11 UTC-offset groups, correct IANA zones; the helpers."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.zones import (
    DISTRICTS,
    LABEL_MAX_LEN,
    RUSSIAN_IANA_ZONES,
    Region,
    Zone,
    find_regions,
    fold,
    is_russian_zone,
    load_regions,
    local_time,
    offset_label,
    regions_in,
    regions_of_district,
    ru_sort_key,
)

REGIONS_YAML = Path(__file__).resolve().parent.parent / "content" / "regions.yaml"

# Volgograd's last change (back to UTC+3) was on 27 Dec 2020; from then on every offset is fixed.
STABLE_SINCE = datetime(2021, 1, 1, tzinfo=UTC)
WINTER = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)


def _raw() -> dict[str, Any]:
    data = yaml.safe_load(REGIONS_YAML.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


RAW = _raw()
ZONES, REGIONS = load_regions(RAW, at=datetime.now(UTC))
ZONE_BY_CODE = {zone.code: zone for zone in ZONES}
REGION_BY_CODE = {region.code: region for region in REGIONS}


# ── the data ────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("at", [WINTER, SUMMER, STABLE_SINCE], ids=["winter", "summer", "2021"])
def test_the_yaml_validates_all_year(at: datetime) -> None:
    zones, regions = load_regions(RAW, at=at)
    assert (zones, regions) == (ZONES, REGIONS)


def test_counts() -> None:
    assert len(REGIONS) == 89
    assert len(ZONES) == 11
    assert [zone.offset_hours for zone in ZONES] == list(range(2, 13))
    assert [zone.code for zone in ZONES] == [f"utc{n}" for n in range(2, 13)]


def test_every_group_has_a_region() -> None:
    for zone in ZONES:
        assert regions_in(zone.code, REGIONS), zone.code


def test_codes_and_names_are_unique() -> None:
    assert len({r.code for r in REGIONS}) == 89
    assert len({r.name_ru for r in REGIONS}) == 89
    assert len({r.name_en for r in REGIONS}) == 89
    assert all(r.code.isascii() and r.code.isalnum() and r.code.islower() for r in REGIONS)


def test_the_subjects_of_article_65() -> None:
    """24 republics, 9 krais, 48 oblasts, 3 cities, 1 autonomous oblast, 4 autonomous okrugs."""
    names = [r.name_ru for r in REGIONS]
    republics = [n for n in names if "Республика" in n]
    krais = [n for n in names if n.endswith(" край")]
    oblasts = [n for n in names if " область" in n and "автономная" not in n]
    cities = [n for n in names if n in ("Москва", "Санкт-Петербург", "Севастополь")]
    autonomous_oblasts = [n for n in names if "автономная область" in n]
    okrugs = [n for n in names if "автономный округ" in n]
    assert (
        len(republics),
        len(krais),
        len(oblasts),
        len(cities),
        len(autonomous_oblasts),
        len(okrugs),
    ) == (24, 9, 48, 3, 1, 4)
    for code in ("crm", "sev", "dpr", "lpr", "zap", "khe", "mow", "spe", "nvs"):
        assert code in REGION_BY_CODE, code


@pytest.mark.parametrize(
    "at", [datetime.now(UTC), WINTER, SUMMER], ids=["now", "winter", "summer"]
)
def test_every_iana_zone_has_its_groups_offset(at: datetime) -> None:
    for zone in ZONES:
        assert at.astimezone(ZoneInfo(zone.iana)).utcoffset() == timedelta(hours=zone.offset_hours)
    for region in REGIONS:
        expected = timedelta(hours=ZONE_BY_CODE[region.zone].offset_hours)
        assert at.astimezone(ZoneInfo(region.iana)).utcoffset() == expected, region.code


@pytest.mark.parametrize(
    ("code", "iana", "hours"),
    [
        ("kgd", "Europe/Kaliningrad", 2),
        ("mow", "Europe/Moscow", 3),
        ("spe", "Europe/Moscow", 3),
        ("crm", "Europe/Simferopol", 3),
        ("sev", "Europe/Simferopol", 3),
        ("dpr", "Europe/Moscow", 3),
        ("lpr", "Europe/Moscow", 3),
        ("zap", "Europe/Moscow", 3),
        ("khe", "Europe/Moscow", 3),
        ("vgg", "Europe/Volgograd", 3),
        ("kir", "Europe/Kirov", 3),
        ("sam", "Europe/Samara", 4),
        ("ud", "Europe/Samara", 4),
        ("sar", "Europe/Saratov", 4),
        ("ast", "Europe/Astrakhan", 4),
        ("uly", "Europe/Ulyanovsk", 4),
        ("sve", "Asia/Yekaterinburg", 5),
        ("ba", "Asia/Yekaterinburg", 5),
        ("per", "Asia/Yekaterinburg", 5),
        ("oms", "Asia/Omsk", 6),
        ("nvs", "Asia/Novosibirsk", 7),
        ("tom", "Asia/Tomsk", 7),
        ("alt", "Asia/Barnaul", 7),
        ("kem", "Asia/Novokuznetsk", 7),
        ("kya", "Asia/Krasnoyarsk", 7),
        ("ty", "Asia/Krasnoyarsk", 7),
        ("kk", "Asia/Krasnoyarsk", 7),
        ("irk", "Asia/Irkutsk", 8),
        ("bu", "Asia/Irkutsk", 8),
        ("sa", "Asia/Yakutsk", 9),
        ("amu", "Asia/Yakutsk", 9),
        ("zab", "Asia/Chita", 9),
        ("pri", "Asia/Vladivostok", 10),
        ("kha", "Asia/Vladivostok", 10),
        ("yev", "Asia/Vladivostok", 10),
        ("mag", "Asia/Magadan", 11),
        ("sak", "Asia/Sakhalin", 11),
        ("kam", "Asia/Kamchatka", 12),
        ("chu", "Asia/Anadyr", 12),
    ],
)
def test_spot_checks(code: str, iana: str, hours: int) -> None:
    region = REGION_BY_CODE[code]
    assert region.iana == iana
    assert region.zone == f"utc{hours}"
    assert ZONE_BY_CODE[region.zone].offset_hours == hours
    assert offset_label(region.iana, WINTER) == f"UTC+{hours}"


def test_zone_groups() -> None:
    assert [zone.iana for zone in ZONES] == [
        "Europe/Kaliningrad",
        "Europe/Moscow",
        "Europe/Samara",
        "Asia/Yekaterinburg",
        "Asia/Omsk",
        "Asia/Krasnoyarsk",
        "Asia/Irkutsk",
        "Asia/Yakutsk",
        "Asia/Vladivostok",
        "Asia/Magadan",
        "Asia/Kamchatka",
    ]
    assert ZONE_BY_CODE["utc3"].label("ru") == "UTC+3 Москва"
    assert ZONE_BY_CODE["utc3"].label("en") == "UTC+3 Moscow"
    assert ZONE_BY_CODE["utc7"].label_ru == "UTC+7 Новосибирск"
    for zone in ZONES:
        for label in (zone.label_ru, zone.label_en):
            assert len(label) <= LABEL_MAX_LEN
            assert label.startswith(f"UTC+{zone.offset_hours} ")


def test_russian_zones_are_exactly_those_of_the_yaml() -> None:
    used = {r.iana for r in REGIONS} | {z.iana for z in ZONES}
    used |= {z.iana for r in REGIONS for z in r.zones}
    assert used == RUSSIAN_IANA_ZONES
    assert is_russian_zone("Asia/Novosibirsk")
    assert is_russian_zone("Europe/Simferopol")
    assert not is_russian_zone("Europe/Kyiv")
    assert not is_russian_zone("UTC")
    assert not is_russian_zone("europe/moscow")


# ── regions_in ──────────────────────────────────────────────────────────────────────────────


def test_regions_in_sorts_by_russian_name() -> None:
    assert [r.code for r in regions_in("utc12", REGIONS)] == ["kam", "chu"]
    assert [r.code for r in regions_in("utc9", REGIONS)] == ["amu", "zab", "sa"]
    # «Республика Бурятия» sorts as «Бурятия», before «Иркутская область»
    assert [r.code for r in regions_in("utc8", REGIONS)] == ["bu", "irk"]
    msk = [r.name_ru for r in regions_in("utc3", REGIONS)]
    assert len(msk) == 53
    assert msk.index("Республика Татарстан") > msk.index("Ставропольский край")
    assert msk.index("Орловская область") < msk.index("Пензенская область")  # «Орловская»: о
    assert msk == sorted(msk, key=ru_sort_key)
    assert regions_in("utc99", REGIONS) == ()
    assert regions_in("utc3", ()) == ()


def test_ru_sort_key() -> None:
    names = ["Ёлкино", "Ежово", "Республика Алтай", "Бирск", "г. Абинск", "жуково"]
    assert sorted(names, key=ru_sort_key) == [
        "г. Абинск",
        "Республика Алтай",
        "Бирск",
        "Ежово",
        "Ёлкино",
        "жуково",
    ]


# ── local_time and offset_label ─────────────────────────────────────────────────────────────


def test_local_time_across_the_new_year() -> None:
    instant = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
    kamchatka = local_time(instant, "Asia/Kamchatka")
    assert kamchatka.replace(tzinfo=None) == datetime(2027, 1, 1, 8, 0)
    kaliningrad = local_time(instant, "Europe/Kaliningrad")
    assert kaliningrad.replace(tzinfo=None) == datetime(2026, 12, 31, 22, 0)
    moscow = local_time(instant, "Europe/Moscow")
    assert moscow.replace(tzinfo=None) == datetime(2026, 12, 31, 23, 0)
    anadyr = local_time(instant, "Asia/Anadyr")
    assert anadyr.date().isoformat() == "2027-01-01"
    assert kamchatka == kaliningrad == instant  # the same instant, different wall clocks


def test_local_time_accepts_any_aware_instant() -> None:
    instant = datetime(2026, 3, 1, 3, 0, tzinfo=timezone(timedelta(hours=3)))  # 00:00 UTC
    assert local_time(instant, "Asia/Vladivostok").replace(tzinfo=None) == datetime(
        2026, 3, 1, 10, 0
    )


def test_local_time_refuses_naive_or_unknown() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        local_time(datetime(2026, 1, 1), "Europe/Moscow")
    with pytest.raises(ValueError, match="Mars/Olympus"):
        local_time(WINTER, "Mars/Olympus")
    with pytest.raises(ValueError, match="unknown"):
        local_time(WINTER, "../etc/passwd")


def test_offset_label() -> None:
    assert offset_label("Europe/Kaliningrad", WINTER) == "UTC+2"
    assert offset_label("Europe/Moscow", SUMMER) == "UTC+3"
    assert offset_label("Asia/Kamchatka", WINTER) == "UTC+12"
    assert offset_label("UTC", WINTER) == "UTC+0"
    assert offset_label("America/New_York", WINTER) == "UTC-5"
    assert offset_label("America/New_York", SUMMER) == "UTC-4"
    assert offset_label("Asia/Kolkata", WINTER) == "UTC+5:30"
    assert offset_label("Asia/Kathmandu", WINTER) == "UTC+5:45"
    # history: Moscow was UTC+4 from 2011 to 2014, Volgograd UTC+4 in 2018–2020
    assert offset_label("Europe/Moscow", datetime(2013, 1, 1, tzinfo=UTC)) == "UTC+4"
    assert offset_label("Europe/Volgograd", datetime(2019, 6, 1, tzinfo=UTC)) == "UTC+4"
    with pytest.raises(ValueError, match="timezone-aware"):
        offset_label("Europe/Moscow", datetime(2026, 1, 1))


@given(
    st.datetimes(
        min_value=STABLE_SINCE.replace(tzinfo=None),
        max_value=datetime(2200, 12, 31),
        timezones=st.just(UTC),
    )
)
def test_local_time_is_the_instant_plus_the_offset(instant: datetime) -> None:
    naive_utc = instant.replace(tzinfo=None)
    for zone in ZONES:
        expected = timedelta(hours=zone.offset_hours)
        for iana in {zone.iana} | {r.iana for r in REGIONS if r.zone == zone.code}:
            local = local_time(instant, iana)
            assert local == instant
            assert local.replace(tzinfo=None) - naive_utc == expected, (iana, instant)
            assert offset_label(iana, instant) == f"UTC+{zone.offset_hours}"


# ── broken copies ───────────────────────────────────────────────────────────────────────────


def _broken(edit: Callable[[dict[str, Any]], object]) -> str:
    data = copy.deepcopy(RAW)
    edit(data)
    with pytest.raises(ValueError, match=r"^regions\.yaml: ") as caught:
        load_regions(data, at=WINTER)
    return str(caught.value)


def _region(data: dict[str, Any], code: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in data["regions"] if r["code"] == code)
    return found


def _zone(data: dict[str, Any], code: str) -> dict[str, Any]:
    found: dict[str, Any] = next(z for z in data["zones"] if z["code"] == code)
    return found


def test_an_unbroken_copy_loads() -> None:
    assert load_regions(copy.deepcopy(RAW), at=WINTER) == (ZONES, REGIONS)


def test_duplicate_region_code() -> None:
    message = _broken(lambda d: _region(d, "tom").update(code="nvs"))
    assert "regions entry 'nvs' (#" in message
    assert "duplicate code (also regions entry 'nvs' (#" in message


def test_duplicate_zone_code() -> None:
    message = _broken(lambda d: _zone(d, "utc6").update(code="utc5"))
    assert "zones entry 'utc5' (#5): duplicate code (also zones entry 'utc5' (#4))" in message


def test_unknown_iana_zone() -> None:
    message = _broken(lambda d: _region(d, "nvs").update(iana="Asia/Novosibirk"))
    assert "regions entry 'nvs' (#" in message
    assert "'Asia/Novosibirk' is not a zone" in message


def test_region_in_the_wrong_group() -> None:
    message = _broken(lambda d: _region(d, "nvs").update(zone="utc6"))
    assert "regions entry 'nvs' (#" in message
    assert "zone: utc6 is UTC+6 but Asia/Novosibirsk is UTC+7" in message


def test_region_with_an_outdated_zone() -> None:
    # Volgograd was UTC+4 in 2018–2020; a file written then fails today
    message = _broken(lambda d: _region(d, "vgg").update(zone="utc4"))
    assert "regions entry 'vgg' (#" in message
    assert "Europe/Volgograd is UTC+3" in message


def test_the_reference_instant_matters() -> None:
    # In 2019 Volgograd was UTC+4, so today's file is wrong then, and the error says so.
    with pytest.raises(ValueError, match=r"regions entry 'vgg' \(#\d+\): zone: utc3 is UTC\+3"):
        load_regions(RAW, at=datetime(2019, 6, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="timezone-aware"):
        load_regions(RAW, at=datetime(2026, 1, 1))


def test_unknown_zone_code() -> None:
    message = _broken(lambda d: _region(d, "mow").update(zone="msk"))
    assert "regions entry 'mow' (#" in message
    assert "zone: 'msk' is not a code of `zones`" in message


def test_zone_with_the_wrong_offset() -> None:
    message = _broken(lambda d: _zone(d, "utc4").update(iana="Europe/Moscow"))
    assert "zones entry 'utc4' (#3): offset_hours: 4 but Europe/Moscow is UTC+3" in message


def test_label_too_long() -> None:
    message = _broken(
        lambda d: _zone(d, "utc12")["label"].update(ru="UTC+12 Петропавловск-Камчатский")
    )
    assert "zones entry 'utc12' (#11): label.ru:" in message
    assert "is over 24 characters" in message


def test_missing_name() -> None:
    message = _broken(lambda d: _region(d, "ta")["name"].pop("en"))
    assert "regions entry 'ta' (#19): name.en: must be a non-empty string, got None" in message


def test_bad_code() -> None:
    message = _broken(lambda d: _region(d, "mow").update(code="RU-MOW"))
    assert "regions entry 'RU-MOW' (#" in message
    assert "must be lower-case ASCII letters and digits" in message


def test_missing_code_names_the_position() -> None:
    message = _broken(lambda d: d["regions"][0].pop("code"))
    assert "regions entry #1: code: must be a non-empty string" in message


def test_a_missing_region() -> None:
    message = _broken(lambda d: d["regions"].remove(_region(d, "khe")))
    assert "regions: expected 89 regions, got 88" in message


def test_a_missing_zone_group() -> None:
    def drop_omsk(d: dict[str, Any]) -> None:
        d["zones"].remove(_zone(d, "utc6"))
        d["regions"].remove(_region(d, "oms"))
        d["regions"].append(
            {
                "code": "xxx",
                "name": {"ru": "Х", "en": "X"},
                "iana": "Europe/Moscow",
                "zone": "utc3",
                "district": "cfo",
            }
        )

    message = _broken(drop_omsk)
    assert "zones: expected 11 zone groups, got 10" in message


def test_an_empty_group() -> None:
    message = _broken(lambda d: _region(d, "oms").update(zone="utc7", iana="Asia/Novosibirsk"))
    assert "zones entry 'utc6' (#5): no region is in this group" in message


def test_duplicate_russian_name() -> None:
    message = _broken(lambda d: _region(d, "tom")["name"].update(ru="Новосибирская область"))
    assert "regions entry 'tom' (#" in message
    assert "is used by regions entry 'nvs'" in message


def test_several_problems_are_all_listed() -> None:
    def two(d: dict[str, Any]) -> None:
        _region(d, "kgd").update(zone="utc3")
        _region(d, "chu").update(iana="Asia/Anadir")

    lines = _broken(two).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("regions.yaml: regions entry 'kgd'")
    assert lines[1].startswith("regions.yaml: regions entry 'chu'")


@pytest.mark.parametrize("data", [None, [], {"zones": {}, "regions": []}, {"zones": [1]}])
def test_not_the_right_shape(data: Any) -> None:
    with pytest.raises(ValueError, match=r"regions\.yaml"):
        load_regions(data, at=WINTER)


def test_dataclasses_are_frozen() -> None:
    zone = ZONES[0]
    region = REGIONS[0]
    assert isinstance(zone, Zone)
    assert isinstance(region, Region)
    with pytest.raises(AttributeError):
        zone.code = "x"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        region.zone = "utc2"  # type: ignore[misc]


# ── federal districts, several zones, typed search ─────────────────────────────────────────


def test_every_region_is_in_a_federal_district() -> None:
    counts = {d.code: len(regions_of_district(d.code, REGIONS)) for d in DISTRICTS}
    assert counts == {
        "cfo": 18, "szfo": 11, "yufo": 12, "skfo": 7, "pfo": 14, "urfo": 6, "sfo": 10, "dfo": 11,
    }  # fmt: skip
    south = {r.code for r in regions_of_district("yufo", REGIONS)}
    assert {"crm", "sev", "dpr", "lpr", "zap", "khe"} <= south
    assert [r.code for r in regions_of_district("urfo", REGIONS)] == [
        "kgn", "sve", "tyu", "khm", "che", "yan",
    ]  # fmt: skip
    assert regions_of_district("moon", REGIONS) == ()


def test_only_yakutia_spans_several_offsets() -> None:
    assert [r.code for r in REGIONS if r.zones] == ["sa"]
    sakha = REGION_BY_CODE["sa"]
    assert [(z.iana, z.label("ru"), z.label("en")) for z in sakha.zones] == [
        ("Asia/Yakutsk", "Якутск", "Yakutsk"),
        ("Asia/Ust-Nera", "Усть-Нера", "Ust-Nera"),
        ("Asia/Srednekolymsk", "Среднеколымск", "Srednekolymsk"),
    ]
    assert [offset_label(z.iana, WINTER) for z in sakha.zones] == ["UTC+9", "UTC+10", "UTC+11"]


def _found(query: str) -> list[str]:
    return [r.code for r in find_regions(query, REGIONS)]


@pytest.mark.parametrize(
    ("query", "codes"),
    [
        ("татар", ["ta"]),
        ("ТАТАР", ["ta"]),
        ("новосиб", ["nvs"]),
        ("спб", ["spe"]),
        ("Питер", ["spe"]),
        ("мск", ["mow"]),  # an alias typed in full, not “Томская”/“Омская”
        ("москва", ["mow"]),
        ("моск", ["mow", "mos"]),
        ("Орёл", ["orl"]),
        ("орел", ["orl"]),
        ("ёкатеринбург", ["sve"]),
        ("нижний нов", ["niz"]),
        ("казань", ["ta"]),
        ("саха", ["sa", "sak"]),
        ("tatar", ["ta"]),
        ("Saint Petersburg", ["spe"]),
        ("  днр ", ["dpr"]),
        ("атлантида", []),
        ("", []),
        ("!!", []),
    ],
)
def test_find_regions(query: str, codes: list[str]) -> None:
    assert _found(query) == codes


def test_find_regions_sorts_by_russian_name() -> None:
    assert _found("нов")[:3] == ["kem", "niz", "ngr"]  # Новокузнецк, Нижний/Великий Новгород
    assert len(_found("республика")) == 24


def test_fold() -> None:
    assert fold("  Ёлки  Палки ") == "елки палки"


def test_an_unknown_district() -> None:
    message = _broken(lambda d: _region(d, "tom").update(district="moon"))
    assert "regions entry 'tom' (#" in message
    assert "district: 'moon' is not one of" in message


def test_an_empty_district() -> None:
    def move(d: dict[str, Any]) -> None:
        for r in d["regions"]:
            if r["district"] == "urfo":
                r["district"] = "pfo"

    assert "no region is in the district 'urfo'" in _broken(move)


def test_bad_aliases() -> None:
    message = _broken(lambda d: _region(d, "mow").update(aliases=["МСК"]))
    assert "aliases: 'МСК' must be a non-empty lower-case string" in message
    assert "aliases: must be a list" in _broken(lambda d: _region(d, "mow").update(aliases="мск"))


def test_bad_region_zones() -> None:
    def one(d: dict[str, Any]) -> None:
        _region(d, "sa")["zones"] = _region(d, "sa")["zones"][:1]

    assert "zones: must be a list of at least two zones" in _broken(one)

    def without_centre(d: dict[str, Any]) -> None:
        _region(d, "sa")["zones"] = _region(d, "sa")["zones"][1:]

    assert "zones: must include the region's own iana 'Asia/Yakutsk'" in _broken(without_centre)

    def same_offset(d: dict[str, Any]) -> None:
        _region(d, "sa")["zones"][1]["iana"] = "Asia/Khandyga"

    assert "has the offset of another of the zones" in _broken(same_offset)

    def unknown(d: dict[str, Any]) -> None:
        _region(d, "sa")["zones"][2]["iana"] = "Asia/Nowhere"

    assert "is not a zone of the IANA time zone database" in _broken(unknown)
