"""The shared field types of bot.domain.fields: each rule, and where two alike rules differ."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from bot.domain.fields import (
    DayOutOfRange,
    HttpsLink,
    HttpsLinkOrEmpty,
    IsoDate,
    Link,
    MonthDayText,
    TimeZone,
    blank,
    check_day,
    day_range,
    site_of,
)


def error_of(adapter: TypeAdapter[Any], value: object) -> tuple[str, str]:
    with pytest.raises(ValidationError) as caught:
        adapter.validate_python(value)
    error = caught.value.errors()[0]
    return error["type"], error["msg"]


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("https://exa mple.org", "link_spaces"),
        ("https://example.org/\x01", "link_control"),
        ("https://example.org:99999", "link_form"),
        ("https://user:pw@example.org", "link_form"),
        ("ftp://example.org", "link_scheme"),
        ("http://example.org", "link_scheme"),
        ("http://x", "link_scheme"),
        ("https://x", "link_host"),
        ("https://localhost", "link_host"),
        ("https://app.localhost/", "link_host"),
        ("https://printer.local/", "link_host"),
        ("https://127.0.0.1/", "link_host"),
        ("https://10.0.0.8/admin", "link_host"),
        ("https://192.168.1.1", "link_host"),
        ("https://169.254.169.254/latest", "link_host"),
        ("https://0.0.0.0", "link_host"),
        ("https://example.org/" + "a" * 500, "link_too_long"),
    ],
)
def test_a_link_error_names_the_rule_that_failed(value: str, kind: str) -> None:
    assert error_of(TypeAdapter(Link), value)[0] == kind


def test_the_two_link_rules_differ_where_they_should() -> None:
    coordinator, catalog = TypeAdapter(Link), TypeAdapter(HttpsLink)
    # a coordinator's link is converted to ASCII; https to a public site, as the catalog's
    assert coordinator.validate_python(" https://добро.рф/ ") == "https://xn--90af4abj.xn--p1ai/"
    assert coordinator.validate_python("HTTPS://Example.org") == "https://example.org"
    assert coordinator.validate_python("https://93.184.215.14/a") == "https://93.184.215.14/a"
    # the catalog's link is https, written in punycode, and kept exactly as written
    assert "punycode" in error_of(catalog, "https://добро.рф/")[1]
    assert error_of(catalog, "http://example.org")[1] == (
        "Value error, must be an https:// URL, got 'http://example.org'"
    )
    assert catalog.validate_python("https://Example.org/a|b") == "https://Example.org/a|b"
    assert error_of(catalog, "")[0] == "string_too_short"
    assert TypeAdapter(HttpsLinkOrEmpty).validate_python("") == ""
    assert site_of("https://xn--90af4abj.xn--p1ai/") == "добро.рф"


def test_days_dates_and_zones() -> None:
    assert TypeAdapter(MonthDayText).validate_python("02-29") == "02-29"
    assert "no such day of the year" in error_of(TypeAdapter(MonthDayText), "02-30")[1]
    assert TypeAdapter(IsoDate).validate_python("2026-02-02") == date(2026, 2, 2)
    assert TypeAdapter(IsoDate).validate_python(date(2026, 2, 2)) == date(2026, 2, 2)
    for bad in ("2026-2-2", "2026-02-30", "02.02.2026"):
        assert "expected a date as 'YYYY-MM-DD'" in error_of(TypeAdapter(IsoDate), bad)[1]
    assert TypeAdapter(TimeZone).validate_python("Asia/Kamchatka") == "Asia/Kamchatka"
    for bad in ("Mars/Olympus", "", " Europe/Moscow", "../etc"):
        assert (
            error_of(TypeAdapter(TimeZone), bad)[1]
            == f"Value error, unknown IANA time zone {bad!r}"
        )


def test_typed_days_stay_near_today() -> None:
    today = date(2026, 5, 1)
    assert day_range(today) == (date(2026, 4, 30), date(2028, 5, 1))
    assert day_range(date(2028, 2, 29)) == (date(2028, 2, 28), date(2030, 2, 28))
    assert day_range(today, timedelta(days=10))[0] == date(2026, 4, 21)
    earliest, latest = day_range(today)
    for day in (earliest, today, latest):
        assert check_day(day, earliest, latest) == day
    for day in (date(1, 1, 1), earliest - timedelta(days=1), latest + timedelta(days=1)):
        with pytest.raises(DayOutOfRange) as out:
            check_day(day, earliest, latest)
        assert (out.value.day, out.value.earliest, out.value.latest) == (day, earliest, latest)


def test_a_text_of_invisible_characters_is_blank() -> None:
    invisible = "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    invisible += "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
    for text in (None, "", " \n\t", invisible, f" {invisible}\n{invisible} "):
        assert blank(text)
    for text in ("a", f"{invisible}a", "\u200fשלום", "·", "🫠"):
        assert not blank(text)
