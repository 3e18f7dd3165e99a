"""The field rules that the catalog, the coordinators' forms and CSV files share: each rule once,
as a pydantic field type (pure: pydantic and the standard library, no I/O).

A pydantic model uses a type as a field's annotation (:mod:`bot.content`); code that checks a
plain string validates it through a ``TypeAdapter`` of the same type, built once, and turns a
``ValidationError`` into its own error and wording (:mod:`bot.domain.csvio`). Where a caller
needs the parsed value rather than the text (a ``(month, day)``, a ``date``, a ``ZoneInfo``),
it calls the function the type is built on (:func:`parse_month_day`, :func:`parse_iso_date`,
:func:`zone_info`), which raises ``ValueError``.

* :data:`Link` — a link a coordinator or an organiser types or pastes (grants, articles,
  measures, opportunities, their CSV files): https to a site on the Internet (a domain of two
  labels or more, or a public IPv4 address; not localhost, ``.local`` or a private address),
  stored in ASCII as Telegram wants it (a Cyrillic domain to punycode, the rest
  percent-encoded). Its
  errors are ``PydanticCustomError`` s whose ``type`` names the rule that failed
  (``link_spaces``, ``link_control``, ``link_form``, ``link_scheme``, ``link_host``,
  ``link_too_long``), so that a caller can word each one itself.
* :data:`HttpsLink` / :data:`HttpsLinkOrEmpty` — a link of our own YAML catalog: https only,
  already written in ASCII (punycode) and kept exactly as written. Not the same rule as
  :data:`Link`, which converts instead of refusing and checks the host harder.
* :data:`MonthDayText` — a yearly window's day, ``"MM-DD"``; any day of a leap year.
* :data:`IsoDate` — a date written ``YYYY-MM-DD`` (or already a ``date``).
* :data:`TimeZone` — a key of the IANA time zone database, exactly as written (any zone, not
  only Russia's: see ``bot.domain.zones.is_russian_zone`` for that).

:func:`blank` tells a typed text that shows nothing (whitespace, zero-width characters and
direction controls only): every text field refuses it as empty.

A day typed by a person (an opportunity's start, a broadcast's time, a contest's dates) is
checked by :func:`check_day`, usually against :func:`day_range`, before it meets a time zone:
a year like 0001 or 9999 is a typo, and converting it would overflow (``OverflowError``).
:class:`DayOutOfRange` names the range, for the caller's message.
"""

from __future__ import annotations

import calendar
import ipaddress
import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import Annotated, Final
from urllib.parse import quote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BeforeValidator, StringConstraints
from pydantic_core import PydanticCustomError

__all__ = [
    "LINK_LIMIT",
    "DayOutOfRange",
    "HttpsLink",
    "HttpsLinkOrEmpty",
    "IsoDate",
    "Link",
    "MonthDayText",
    "TimeZone",
    "blank",
    "check_day",
    "check_month_day",
    "day_range",
    "format_month_day",
    "parse_iso_date",
    "parse_month_day",
    "site_of",
    "zone_info",
]

LINK_LIMIT = 500  # characters of a stored link

# ── links a coordinator types: http(s), converted to ASCII ─────────────────────────────────

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}\Z")
# names that never lead to a site on the Internet (RFC 6761, 6762, 8375; ICANN's .internal)
_LOCAL_SUFFIXES = ("localhost", "local", "internal", "home.arpa", "test", "invalid")
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


def _bad_host() -> PydanticCustomError:
    return PydanticCustomError("link_host", "the link has no valid site name")


def _bad_form() -> PydanticCustomError:
    return PydanticCustomError("link_form", "this is not a valid link")


def _ascii_host(host: str) -> str:
    """The host in ASCII (a Cyrillic domain in punycode): a domain of two labels or more, not
    a local one, or a public IPv4 address."""
    host = host.rstrip(".").lower()
    if _IPV4.match(host):
        if all(int(part) <= 255 for part in host.split(".")) and (
            ipaddress.IPv4Address(host).is_global
        ):
            return host
        raise _bad_host()
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise _bad_host() from None
    labels = ascii_host.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise _bad_host()
    if labels[-1].isdigit():
        raise _bad_host()
    if any(ascii_host == end or ascii_host.endswith("." + end) for end in _LOCAL_SUFFIXES):
        raise _bad_host()
    return ascii_host


def _clean_link(value: str) -> str:
    """An https URL with a real host, ASCII as Telegram wants it (a Cyrillic domain goes to
    punycode, other non-ASCII characters are percent-encoded); no spaces, no ``http:`` (the
    page would travel unencrypted), no ``javascript:``, no ``user:password@``; at most
    :data:`LINK_LIMIT` characters."""
    text = value.strip()
    if any(ch.isspace() for ch in text):
        raise PydanticCustomError("link_spaces", "a link cannot contain spaces")
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise PydanticCustomError("link_control", "the link contains control characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise _bad_form() from None
    scheme = parts.scheme.lower()
    if scheme != "https":
        raise PydanticCustomError("link_scheme", "a link must start with https://")
    if not parts.hostname:
        raise _bad_host()
    if parts.username is not None or parts.password is not None:
        raise _bad_form()
    host = _ascii_host(parts.hostname)
    netloc = host if port is None else f"{host}:{port}"
    link = urlunsplit(
        (
            scheme,
            netloc,
            quote(parts.path, safe=_PATH_SAFE),
            quote(parts.query, safe=_QUERY_SAFE),
            quote(parts.fragment, safe=_QUERY_SAFE),
        )
    )
    if len(link) > LINK_LIMIT:
        raise PydanticCustomError(
            "link_too_long",
            "the link has {length} characters, at most {limit}",
            {"length": len(link), "limit": LINK_LIMIT},
        )
    return link


Link = Annotated[str, AfterValidator(_clean_link)]

# ── links of the catalog: https, written in ASCII, kept as written ──────────────────────────


def _unicode_host(host: str) -> str:
    """An ASCII host as people write it (punycode decoded); UnicodeError if it is not IDNA."""
    return host.encode("ascii").decode("idna")


def _check_https_link(value: str) -> str:
    """An https URL that Telegram accepts (ASCII: a Cyrillic domain in punycode), or empty."""
    if not value:
        return value
    if not value.isascii() or any(c.isspace() for c in value):
        raise ValueError(
            f"{value!r} must be ASCII without spaces: write a Cyrillic domain in punycode "
            "(https://xn--...)"
        )
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"must be an https:// URL, got {value!r}")
    try:
        _unicode_host(parts.hostname)
    except UnicodeError:
        raise ValueError(f"{parts.hostname!r} is not a valid domain name") from None
    return value


HttpsLinkOrEmpty = Annotated[str, AfterValidator(_check_https_link)]  # "": no link
HttpsLink = Annotated[str, StringConstraints(min_length=1), AfterValidator(_check_https_link)]


def site_of(link: str) -> str:
    """A checked link's domain as people write it (punycode decoded): «президентскиегранты.рф»."""
    return _unicode_host(urlsplit(link).hostname or "").lower()


# ── typed text ──────────────────────────────────────────────────────────────────────────────

# Zero-width characters and direction controls: they take no room on screen.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def blank(text: str | None) -> bool:
    """``text`` shows nothing: None, empty, or only whitespace, zero-width characters and
    direction controls (U+200B–U+200F, U+202A–U+202E, U+2060–U+2064, U+2066–U+2069, U+FEFF).
    A text with something visible keeps them (a right-to-left mark in a name is legitimate)."""
    return not text or not _INVISIBLE.sub("", text).strip()


# ── days of the year and dates ──────────────────────────────────────────────────────────────

_MONTH_DAY = re.compile(r"(\d{2})-(\d{2})\Z")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


def check_month_day(value: object) -> None:
    """``value`` is a ``(month, day)`` of a leap year (``(2, 29)`` too); ValueError if not."""
    ok = (
        isinstance(value, tuple)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        and 1 <= value[0] <= 12
        and 1 <= value[1] <= calendar.monthrange(2000, value[0])[1]  # 2000 is a leap year
    )
    if not ok:
        raise ValueError(f"no such day of the year: {value!r}")


def parse_month_day(text: str) -> tuple[int, int]:
    """``"MM-DD"`` → ``(month, day)``; any day of a leap year is valid (``"02-29"`` too)."""
    match = _MONTH_DAY.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"expected a month and day as 'MM-DD', got {text!r}")
    month_day = int(match[1]), int(match[2])
    check_month_day(month_day)
    return month_day


def format_month_day(value: tuple[int, int]) -> str:
    """``(month, day)`` → ``"MM-DD"``."""
    return f"{value[0]:02d}-{value[1]:02d}"


def _month_day_text(value: str) -> str:
    parse_month_day(value)
    return value


def parse_iso_date(value: object) -> date:
    """A ``date`` (not a datetime) as it is, or the text ``YYYY-MM-DD``; ValueError if not."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"expected a date as 'YYYY-MM-DD', got {value!r}")


DAYS_BACK: Final = timedelta(days=1)  # a typed day may be yesterday (in another zone: today)
YEARS_AHEAD: Final = 2  # ... and at most this many years ahead


class DayOutOfRange(ValueError):
    """A typed day outside the range the bot takes (`earliest` … `latest`, both included)."""

    def __init__(self, day: date, earliest: date, latest: date) -> None:
        super().__init__(f"{day.isoformat()} is not between {earliest} and {latest}")
        self.day = day
        self.earliest = earliest
        self.latest = latest


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def day_range(today: date, back: timedelta = DAYS_BACK) -> tuple[date, date]:
    """The days a person may type: from ``today`` − ``back`` (one day, unless the caller
    allows more) to ``today`` + two years."""
    return today - back, _years_later(today, YEARS_AHEAD)


def check_day(day: date, earliest: date, latest: date) -> date:
    """``day`` if it is within ``earliest`` … ``latest`` (usually :func:`day_range` of today by
    the bot's clock, in the zone the day was typed in); :class:`DayOutOfRange` if not."""
    if not earliest <= day <= latest:
        raise DayOutOfRange(day, earliest, latest)
    return day


MonthDayText = Annotated[str, AfterValidator(_month_day_text)]  # "MM-DD", kept as text
IsoDate = Annotated[date, BeforeValidator(parse_iso_date)]

# ── time zones ──────────────────────────────────────────────────────────────────────────────


def zone_info(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (exactly as written: no spaces around it); ValueError if the
    system's time zone database has no such zone."""
    if name and name == name.strip():
        try:
            return ZoneInfo(name)
        except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
            pass
    raise ValueError(f"unknown IANA time zone {name!r}")


def _time_zone(name: str) -> str:
    zone_info(name)
    return name


TimeZone = Annotated[str, AfterValidator(_time_zone)]
