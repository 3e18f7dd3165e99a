"""Every user-visible text: Jinja2 templates in `content/templates/` and gettext catalogs in
`content/locales/`.

One mechanism for UI strings: gettext. Templates mark text with `{% trans %}` / `_()`, a count
with `{% trans count=n %}…{% pluralize %}…{% endtrans %}`; Python marks button labels with
`tr._()`, a text with a count with `tr.n_(singular, plural, n)`. Message ids are English;
`content/locales/ru` translates them (Russian is the default locale, three plural forms). The
`.po` files are compiled in memory at start, so nothing needs a build step.

Templates are rendered with autoescape (Telegram's HTML parse mode) and StrictUndefined; a text
longer than Telegram's limit is split on paragraph boundaries by `split_html`.
"""

from __future__ import annotations

import gettext
import html
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from bot.config import ROOT, SUPPORTED_LOCALES
from bot.domain.attendance import hours_text
from bot.domain.zones import is_russian_zone, offset_label

TEMPLATES = ROOT / "content" / "templates"
LOCALES = ROOT / "content" / "locales"
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024


class Localized(Protocol):
    def get(self, locale: str) -> str: ...


def load_translations(locale: str, directory: Path = LOCALES) -> gettext.NullTranslations:
    po = directory / locale / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def _make_env(locale: str, templates: Path, translations: gettext.NullTranslations) -> Environment:
    env = Environment(
        loader=FileSystemLoader(templates),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    env.filters["loc"] = lambda value: value.get(locale)
    env.filters["local_date"] = lambda instant, tz: instant.astimezone(ZoneInfo(tz)).strftime(
        "%d.%m.%Y"
    )
    env.filters["local_datetime"] = lambda instant, tz: instant.astimezone(ZoneInfo(tz)).strftime(
        "%d.%m.%Y %H:%M"
    )
    env.filters["deadline"] = partial(organiser_time, translations)
    env.filters["zone"] = partial(zone_name, translations)  # "Asia/Tomsk" → "МСК+4"
    env.filters["hours"] = partial(hours_text, locale=locale)  # minutes as hours: "3", "2.5"
    env.globals["locale"] = locale
    return env


MOSCOW = ZoneInfo("Europe/Moscow")


def zone_name(
    translations: gettext.NullTranslations, tz: str, at: datetime | None = None
) -> str:
    """A time zone as people in Russia say it: "МСК", "МСК+4", "МСК−1" for Russia's zones
    (Moscow's offset against the zone's at `at`, now if not given), "UTC+1" for any other —
    never the database's "Asia/Tomsk"."""
    at = at or datetime.now(UTC)
    if not is_russian_zone(tz):
        label = offset_label(tz, at)
        return "UTC" if label == "UTC+0" else label
    ahead = (at.astimezone(ZoneInfo(tz)).utcoffset() or timedelta()) - (
        at.astimezone(MOSCOW).utcoffset() or timedelta()
    )
    hours = round(ahead.total_seconds() / 3600)
    zone = translations.gettext("MSK")
    return zone + f"{hours:+d}".replace("-", "−") if hours else zone


@lru_cache(maxsize=4096)  # a tick shows the same few deadlines in the same few zones
def organiser_time(
    translations: gettext.NullTranslations,
    instant: datetime,
    organiser_tz: str,
    user_tz: str,
    with_time: bool = True,
) -> str:
    """A deadline as the organiser set it, their date first: "20.12.2026 23:59", or where the
    user's clock differs "20.12.2026 23:59 МСК (у вас 21.12 03:59)" — so a deadline never reads
    as a later day than the organiser's. Without the time, the zones are named only when the
    user's date differs ("20.12.2026 МСК (у вас 21.12)")."""
    theirs = instant.astimezone(ZoneInfo(organiser_tz))
    yours = instant.astimezone(ZoneInfo(user_tz))
    shown = theirs.strftime("%d.%m.%Y %H:%M" if with_time else "%d.%m.%Y")
    if theirs.utcoffset() == yours.utcoffset() or (
        not with_time and theirs.date() == yours.date()
    ):
        return shown
    zone = zone_name(translations, organiser_tz, instant)
    local = yours.strftime("%d.%m %H:%M" if with_time else "%d.%m")
    return translations.gettext("{time} {zone} (yours: {local})").format(
        time=shown, zone=zone, local=local
    )


@dataclass(frozen=True)
class Tr:
    """The renderer bound to one user's locale; handlers get it per update as `tr`."""

    renderer: Renderer
    locale: str

    def __call__(self, template: str, **context: Any) -> str:
        return self.renderer.render(self.locale, template, **context)

    def _(self, message: str) -> str:
        return self.renderer.gettext(self.locale, message)

    def n_(self, singular: str, plural: str, n: int) -> str:
        """The form of a message with a count `n` (ru: one/few/many; en: n == 1 or not)."""
        return self.renderer.ngettext(self.locale, singular, plural, n)

    def loc(self, value: Localized) -> str:
        return value.get(self.locale)


class Renderer:
    def __init__(
        self,
        templates: Path = TEMPLATES,
        locales: Path = LOCALES,
        *,
        globals_: dict[str, Any] | None = None,
    ) -> None:
        self.translations = {loc: load_translations(loc, locales) for loc in SUPPORTED_LOCALES}
        self.envs = {
            loc: _make_env(loc, templates, self.translations[loc]) for loc in SUPPORTED_LOCALES
        }
        for env in self.envs.values():
            env.globals.update(globals_ or {})

    def render(self, locale: str, template: str, **context: Any) -> str:
        env = self.envs.get(locale) or self.envs[SUPPORTED_LOCALES[0]]
        return env.get_template(template).render(**context).strip()

    def gettext(self, locale: str, message: str) -> str:
        tr = self.translations.get(locale) or self.translations[SUPPORTED_LOCALES[0]]
        return tr.gettext(message)

    def ngettext(self, locale: str, singular: str, plural: str, n: int) -> str:
        tr = self.translations.get(locale) or self.translations[SUPPORTED_LOCALES[0]]
        return tr.ngettext(singular, plural, n)

    def bind(self, locale: str) -> Tr:
        return Tr(self, locale if locale in self.envs else SUPPORTED_LOCALES[0])


def escape_html(text: str) -> str:
    """Escape user text for Telegram HTML (for the rare text built outside a template)."""
    return str(escape(text))


def safe(text: str) -> Markup:
    return Markup(text)  # noqa: S704 - only for our own, already rendered HTML


# --- splitting long messages -------------------------------------------------------------

_TOKEN = re.compile(r"<[^<>]*>|&#?\w+;|\n{2,}|\n| +|[^<&\n ]+|[<&]")
_TAG = re.compile(r"<\s*(/?)\s*([a-zA-Z][\w-]*)")
_SEPARATORS = ("\n\n", "\n", " ")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _visible(token: str) -> int:
    if len(token) > 1 and token[0] == "<" and token[-1] == ">":
        return 0
    if len(token) > 2 and token[0] == "&" and token[-1] == ";":
        return utf16_len(html.unescape(token))
    return utf16_len(token)


def plain_text(text: str) -> str:
    """What Telegram shows of our HTML: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^<>]*>", "", text))


def visible_length(text: str) -> int:
    """Length Telegram counts after parsing the HTML (UTF-16 code units)."""
    return sum(_visible(t) for t in _TOKEN.findall(text))


def _separator_rank(piece: str) -> int | None:
    if piece.startswith("\n\n"):
        return 0
    if piece == "\n":
        return 1
    if piece.startswith(" "):
        return 2
    return None


def _open_tags(tokens: Iterable[str]) -> list[tuple[str, str]]:
    stack: list[tuple[str, str]] = []
    for tok in tokens:
        if not (tok.startswith("<") and tok.endswith(">")):
            continue
        match = _TAG.match(tok)
        if match is None:
            continue
        closing, name = match.group(1), match.group(2).lower()
        if not closing:
            stack.append((name, tok))
            continue
        for i in range(len(stack) - 1, -1, -1):
            if stack[i][0] == name:
                del stack[i:]
                break
    return stack


def _tokens(text: str, piece: int) -> list[str]:
    out: list[str] = []
    for tok in _TOKEN.findall(text):
        if _visible(tok) > piece and not tok.startswith("<"):
            out.extend(tok[i : i + piece // 2] for i in range(0, len(tok), piece // 2))
        else:
            out.append(tok)
    return out


def _best_cut(tokens: list[str]) -> int:
    best: dict[int, int] = {}
    for i, tok in enumerate(tokens):
        rank = _separator_rank(tok)
        if rank is not None and i > 0:
            best[rank] = i
    for rank in range(len(_SEPARATORS)):
        if rank in best:
            return best[rank]
    return len(tokens)


def split_html(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split Telegram HTML into parts of at most `limit` visible characters.

    Cuts at the last paragraph break that fits, else a line break, else a space, else anywhere
    (never inside a tag or an entity); tags open at a cut are closed and reopened.
    """
    # The raw length is never below the visible one (tags and entities only shrink): the
    # usual short message needs no parsing.
    if utf16_len(text) <= limit or visible_length(text) <= limit:
        return [text]
    chunks: list[str] = []
    current: list[str] = []
    size = 0

    def flush(cut: int) -> None:
        nonlocal current, size
        head = current[:cut]
        tail = current[cut + 1 :] if cut < len(current) else []
        stack = _open_tags(head)
        chunk = "".join(head) + "".join(f"</{name}>" for name, _ in reversed(stack))
        if visible_length(chunk.strip()):
            chunks.append(chunk.strip())
        current = [raw for _, raw in stack] + tail
        size = sum(_visible(t) for t in current)

    for tok in _tokens(text, max(limit // 2, 2)):
        width = _visible(tok)
        while current and size + width > limit:
            flush(_best_cut(current))
        current.append(tok)
        size += width
    flush(len(current))
    return chunks
