"""Telegram's HTML formatting: parser, text normalisation and renderer.

:func:`parse_html` is a faithful port of tdlib's ``parse_html`` (the code the Bot API
runs for ``parse_mode=HTML``): the same supported subset, the same error texts with
the same *byte* offsets, and entity offsets/lengths in UTF-16 code units.

:func:`finalize` reproduces the parts of tdlib's ``fix_formatted_text`` that change
what a chat shows: control characters become spaces, ``\\r`` disappears, entities that
cover only whitespace are dropped (or lose their leading whitespace) and the text is
trimmed of spaces and newlines.

:func:`render_html` goes the other way (text + entities -> Telegram-HTML); for
properly nested entities ``parse_html(render_html(t, e)) == (t, e)``.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

Entity = dict[str, Any]

__all__ = [
    "Entity",
    "EntityParseError",
    "check_link",
    "entity_sort_key",
    "escape",
    "finalize",
    "find_bot_commands",
    "merge_auto_entities",
    "parse_html",
    "render_html",
    "utf16_len",
]


class EntityParseError(ValueError):
    """HTML could not be parsed. ``str(err)`` is tdlib's message, e.g.
    ``Unsupported start tag "foo" at byte offset 3``; the Bot API answers
    ``Bad Request: can't parse entities: <message>``."""


# --------------------------------------------------------------------------- UTF-16


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (what Telegram counts)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) >> 1


class _U16Index:
    """Maps UTF-16 offsets to ``str`` indices and back (identity for BMP-only text)."""

    __slots__ = ("_prefix", "size")

    def __init__(self, text: str) -> None:
        self.size = utf16_len(text)
        self._prefix: list[int] | None = None
        if self.size != len(text):
            prefix = [0] * (len(text) + 1)
            acc = 0
            for i, ch in enumerate(text):
                acc += 2 if ord(ch) > 0xFFFF else 1
                prefix[i + 1] = acc
            self._prefix = prefix

    def to_index(self, offset: int) -> int:
        """``str`` index of the character starting at (or containing) UTF-16 ``offset``."""
        if self._prefix is None:
            return offset
        return bisect.bisect_left(self._prefix, offset)

    def to_utf16(self, index: int) -> int:
        if self._prefix is None:
            return index
        return self._prefix[index]


# --------------------------------------------------------------------------- entity kinds

# tdlib's MessageEntity::get_type_priority, keyed by Bot API type names.
_PRIORITY: dict[str, int] = {
    "mention": 50,
    "hashtag": 50,
    "bot_command": 50,
    "url": 50,
    "email": 50,
    "bold": 90,
    "italic": 91,
    "code": 20,
    "pre": 11,
    "text_link": 49,
    "text_mention": 49,
    "cashtag": 50,
    "phone_number": 50,
    "underline": 92,
    "strikethrough": 93,
    "blockquote": 0,
    "bank_card_number": 50,
    "spoiler": 94,
    "custom_emoji": 99,
    "expandable_blockquote": 0,
    "date_time": 50,
}
_SPLITTABLE = frozenset({"bold", "italic", "underline", "strikethrough", "spoiler"})
_HIDDEN_DATA = frozenset({"text_link", "text_mention", "custom_emoji"})
ENTITY_TYPES = frozenset(_PRIORITY)


def entity_sort_key(entity: Entity) -> tuple[int, int, int]:
    """tdlib's entity order: by offset, then longer first, then type priority."""
    priority = _PRIORITY.get(entity["type"], 50)
    if entity["type"] == "pre" and entity.get("language"):
        priority = 10  # PreCode
    return (entity["offset"], -entity["length"], priority)


# --------------------------------------------------------------------------- parser

_SPACE = frozenset(b" \t\r\n\0\x0b\x0c")  # td::is_space (NUL included)
_ALNUM = frozenset(b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ALPHA = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGIT = frozenset(b"0123456789")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_ATTR_NAME_STOP = frozenset(b" \t\r\n\0\x0b\x0c=>/\"'")
_TOKEN_CHARS = _ALNUM | frozenset(b".-")
_SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_NAMED_ENTITIES = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26, b"quot": 0x22}
_SPECIAL = re.compile(rb"[<&]")
_LT, _GT, _AMP, _SLASH, _EQ, _HASH = 0x3C, 0x3E, 0x26, 0x2F, 0x3D, 0x23
_QUOT, _APOS, _SEMI, _LOWER_X = 0x22, 0x27, 0x3B, 0x78


def _decode_entity(buf: bytes, pos: int) -> tuple[int, int]:
    """td's ``decode_html_entity``: ``(code point, new position)`` or ``(0, pos)``."""
    end = pos + 1
    code = 0
    if buf[pos + 1] == _HASH:
        end += 1
        if buf[pos + 2] == _LOWER_X:
            end += 1
            while buf[end] in _HEX:
                code = code * 16 + int(chr(buf[end]), 16)
                end += 1
        else:
            while buf[end] in _DIGIT:
                code = code * 10 + buf[end] - 0x30
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while buf[end] in _ALPHA:
            end += 1
        named = _NAMED_ENTITIES.get(buf[pos + 1 : end])
        if named is None:
            return 0, pos
        code = named
    if buf[end] == _SEMI:
        end += 1
    return code, end


def _utf8(code: int) -> bytes:
    return chr(code).encode("utf-8", "surrogatepass")


def _chunk_utf16(chunk: bytes) -> int:
    if chunk.isascii():
        return len(chunk)
    return utf16_len(chunk.decode("utf-8", "surrogatepass"))


def _to_int64(value: str) -> int | None:
    if re.fullmatch(r"[+-]?[0-9]+", value) is None:
        return None
    number = int(value)
    if not -(2**63) <= number < 2**63:
        return None
    return number


_LINK_USER_RE = re.compile(r"^tg:(?://)?user\?id=([0-9]{1,20})$", re.IGNORECASE)
_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
_HOST_RE = re.compile(r"^[^\s/?#]+$")
_BARE_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):(?![0-9])")


def check_link(url: str) -> str | None:
    """Approximation of tdlib's ``LinkManager::get_checked_link``.

    Returns the normalised link, or ``None`` when Telegram would drop it. Links without
    a scheme get ``http://``; ``http(s)`` links without a path get a trailing ``/``.
    """
    url = url.strip()
    if not url or any(ch.isspace() for ch in url):
        return None
    match = _SCHEME_RE.match(url)
    if match is None:
        bare = _BARE_SCHEME_RE.match(url)
        if bare is not None:
            return url if bare.group(1).lower() in ("tg", "ton") else None
        url = "http://" + url
        scheme = "http"
    else:
        scheme = match.group(1).lower()
    if scheme in ("tg", "ton", "tonsite"):
        return url
    if scheme not in ("http", "https"):
        return None
    rest = url[len(scheme) + 3 :]
    cut = len(rest)
    for sep in "/?#":
        pos = rest.find(sep)
        if pos != -1:
            cut = min(cut, pos)
    host = rest[:cut]
    if not host or _HOST_RE.match(host) is None:
        return None
    tail = rest[cut:]
    if not tail.startswith("/"):
        tail = "/" + tail
    return f"{scheme}://{host}{tail}"


class _Open:
    __slots__ = ("argument", "begin_pos", "offset", "tag")

    def __init__(self, tag: str, argument: bytes, offset: int, begin_pos: int) -> None:
        self.tag = tag
        self.argument = argument
        self.offset = offset
        self.begin_pos = begin_pos


def parse_html(text: str) -> tuple[str, list[Entity]]:
    """Parse Telegram-HTML into ``(plain text, entities)``.

    Raises :class:`EntityParseError` with tdlib's message on malformed input. The
    result is *not* yet trimmed; pass it through :func:`finalize`.
    """
    if "<" not in text and "&" not in text:
        return text, []
    data = text.encode("utf-8", "surrogatepass")
    size = len(data)
    buf = data + b"\0\0\0"  # td works on a NUL-terminated string
    out = bytearray()
    utf16 = 0
    entities: list[Entity] = []
    stack: list[_Open] = []
    need_recheck = False
    i = 0
    while i < size:
        match = _SPECIAL.search(data, i)
        nxt = size if match is None else match.start()
        if nxt > i:
            chunk = data[i:nxt]
            out += chunk
            utf16 += _chunk_utf16(chunk)
            i = nxt
            if i >= size:
                break
        c = buf[i]
        if c == _AMP:
            code, new_i = _decode_entity(buf, i)
            if code:
                utf16 += 2 if code > 0xFFFF else 1
                if 0xD800 <= code <= 0xDFFF:
                    need_recheck = True
                out += _utf8(code)
                i = new_i
                continue
            out.append(c)
            utf16 += 1
            i += 1
            continue

        # c == '<'
        begin = i
        i += 1
        if buf[i] != _SLASH:
            i = _parse_start_tag(buf, begin, i, utf16, len(out), stack)
        else:
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
            while buf[i] not in _SPACE and buf[i] != _GT:
                i += 1
            end_tag = buf[begin + 2 : i].lower().decode("utf-8", "replace")
            while buf[i] in _SPACE and buf[i] != 0:
                i += 1
            if buf[i] != _GT:
                raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
            opened = stack[-1]
            if end_tag and end_tag != opened.tag:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {begin}, expected "
                    f'"</{opened.tag}>", found "</{end_tag}>"'
                )
            if utf16 > opened.offset:
                _close_entity(opened, utf16, out, entities)
            stack.pop()
            i += 1
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    entities.sort(key=entity_sort_key)
    if need_recheck:
        try:
            result = (
                bytes(out)
                .decode("utf-8", "surrogatepass")
                .encode("utf-16-le", "surrogatepass")
                .decode("utf-16-le")
            )
        except UnicodeDecodeError:
            raise EntityParseError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            ) from None
    else:
        result = out.decode("utf-8", "surrogatepass")
    return result, entities


def _parse_start_tag(
    buf: bytes, begin: int, i: int, utf16: int, out_len: int, stack: list[_Open]
) -> int:
    """Parse ``<tag attr=...>`` starting after ``<``; returns the index after ``>``."""
    while buf[i] not in _SPACE and buf[i] != _GT:
        i += 1
    if buf[i] == 0:
        raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
    tag = buf[begin + 1 : i].lower().decode("utf-8", "replace")
    if tag not in _SUPPORTED_TAGS:
        raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')

    argument = b""
    while buf[i] != _GT:
        while buf[i] != 0 and buf[i] in _SPACE:
            i += 1
        if buf[i] == _GT:
            break
        attr_begin = i
        while buf[i] not in _ATTR_NAME_STOP:
            i += 1
        attr_name = buf[attr_begin:i]
        if not attr_name:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {begin}'
            )
        while buf[i] != 0 and buf[i] in _SPACE:
            i += 1
        if buf[i] != _EQ:
            if buf[i] == 0:
                raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
            if tag == "blockquote" and attr_name == b"expandable":
                argument = b"1"
            continue
        i += 1
        while buf[i] != 0 and buf[i] in _SPACE:
            i += 1
        if buf[i] == 0:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')

        if buf[i] != _QUOT and buf[i] != _APOS:
            token_begin = i
            while buf[i] in _TOKEN_CHARS:
                i += 1
            value = buf[token_begin:i].lower()
            if buf[i] not in _SPACE and buf[i] != _GT:
                raise EntityParseError(
                    f"Unexpected end of name token at byte offset {token_begin}"
                )
        else:
            end_char = buf[i]
            i += 1
            collected = bytearray()
            while buf[i] != end_char and buf[i] != 0:
                if buf[i] == _AMP:
                    code, new_i = _decode_entity(buf, i)
                    if code:
                        collected += _utf8(code)
                        i = new_i
                        continue
                collected.append(buf[i])
                i += 1
            if buf[i] == end_char:
                i += 1
            value = bytes(collected)
        if buf[i] == 0:
            raise EntityParseError(f"Unclosed start tag at byte offset {begin}")

        if tag == "a" and attr_name == b"href":
            argument = value
        elif tag == "code" and attr_name == b"class" and value.startswith(b"language-"):
            argument = value[9:]
        elif tag == "span" and attr_name == b"class" and value.startswith(b"tg-"):
            argument = value[3:]
        elif tag == "tg-emoji" and attr_name == b"emoji-id":
            argument = value
        elif tag == "blockquote" and attr_name == b"expandable":
            argument = b"1"

    if tag == "span" and argument != b"spoiler":
        raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
    stack.append(_Open(tag, argument, utf16, out_len))
    return i + 1


def _close_entity(opened: _Open, utf16: int, out: bytearray, entities: list[Entity]) -> None:
    tag = opened.tag
    offset = opened.offset
    length = utf16 - offset
    argument = opened.argument.decode("utf-8", "replace")
    if tag in ("i", "em"):
        entities.append({"type": "italic", "offset": offset, "length": length})
    elif tag in ("b", "strong"):
        entities.append({"type": "bold", "offset": offset, "length": length})
    elif tag in ("s", "strike", "del"):
        entities.append({"type": "strikethrough", "offset": offset, "length": length})
    elif tag in ("u", "ins"):
        entities.append({"type": "underline", "offset": offset, "length": length})
    elif tag == "tg-spoiler" or (tag == "span" and argument == "spoiler"):
        entities.append({"type": "spoiler", "offset": offset, "length": length})
    elif tag == "tg-emoji":
        emoji_id = _to_int64(argument)
        if not emoji_id:
            raise EntityParseError("Invalid custom emoji identifier specified")
        entities.append(
            {
                "type": "custom_emoji",
                "offset": offset,
                "length": length,
                "custom_emoji_id": str(emoji_id),
            }
        )
    elif tag == "a":
        url = argument or out[opened.begin_pos :].decode("utf-8", "replace")
        user_match = _LINK_USER_RE.match(url.strip())
        if user_match is not None and int(user_match.group(1)) > 0:
            user_id = int(user_match.group(1))
            entities.append(
                {
                    "type": "text_mention",
                    "offset": offset,
                    "length": length,
                    "user": {"id": user_id, "is_bot": False, "first_name": ""},
                }
            )
        else:
            checked = check_link(url)
            if checked is not None:
                entities.append(
                    {"type": "text_link", "offset": offset, "length": length, "url": checked}
                )
    elif tag == "pre":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "code"
            and last["offset"] == offset
            and last["length"] == length
            and last.get("language")
        ):
            last["type"] = "pre"
        else:
            entities.append({"type": "pre", "offset": offset, "length": length})
    elif tag == "code":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "pre"
            and last["offset"] == offset
            and last["length"] == length
            and argument
        ):
            last["language"] = argument
        else:
            entity: Entity = {"type": "code", "offset": offset, "length": length}
            if argument:
                entity["language"] = argument
            entities.append(entity)
    elif tag == "blockquote":
        kind = "expandable_blockquote" if argument else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})
    else:  # pragma: no cover - guarded by _SUPPORTED_TAGS
        raise AssertionError(tag)


# --------------------------------------------------------------------------- normalisation

_CLEAN_RE = re.compile("[\x00-\x09\x0b-\x1f\u2028-\u202e\u0333\u033f\u030a]")
_REMOVED = frozenset("\r\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u0333\u033f\u030a")
_WS = " \n"


def _clean(text: str, entities: list[Entity]) -> str:
    """Replace control characters by spaces and drop the characters tdlib removes."""
    removed_at: list[int] = []  # UTF-16 offsets (in the original text) of removed chars
    parts: list[str] = []
    pos = 0
    utf16 = 0
    for match in _CLEAN_RE.finditer(text):
        start = match.start()
        chunk = text[pos:start]
        parts.append(chunk)
        utf16 += utf16_len(chunk)
        if match.group() in _REMOVED:
            removed_at.append(utf16)
        else:
            parts.append(" ")
        utf16 += 1
        pos = match.end()
    parts.append(text[pos:])
    if removed_at and entities:
        for entity in entities:
            start = entity["offset"]
            end = start + entity["length"]
            new_start = start - bisect.bisect_left(removed_at, start)
            new_end = end - bisect.bisect_left(removed_at, end)
            entity["offset"] = new_start
            entity["length"] = new_end - new_start
    return "".join(parts)


def finalize(text: str, entities: Iterable[Entity]) -> tuple[str, list[Entity]]:
    """tdlib's ``fix_formatted_text`` (the parts visible to a chat).

    Returns the trimmed text (possibly empty) and the surviving entities, sorted.
    Entities must lie inside the text (check with :func:`check_entity_bounds`).
    """
    ents = [dict(e) for e in entities if e["length"] > 0]
    if _CLEAN_RE.search(text):
        text = _clean(text, ents)
        ents = [e for e in ents if e["length"] > 0]
    ents.sort(key=entity_sort_key)

    index = _U16Index(text)
    if ents:
        kept: list[Entity] = []
        for entity in ents:
            if entity["type"] in _HIDDEN_DATA:
                kept.append(entity)
                continue
            start = index.to_index(entity["offset"])
            end = index.to_index(entity["offset"] + entity["length"])
            segment = text[start:end]
            stripped = segment.lstrip(_WS)
            if not stripped.rstrip(_WS):
                continue
            lead = len(segment) - len(stripped)
            if lead:
                entity["offset"] += lead
                entity["length"] -= lead
            kept.append(entity)
        ents = kept

    # rtrim
    stripped_len = len(text.rstrip(_WS))
    if stripped_len == 0:
        return "", []
    if stripped_len != len(text):
        limit = index.to_utf16(stripped_len)
        text = text[:stripped_len]
        clipped: list[Entity] = []
        for entity in ents:
            if entity["offset"] >= limit:
                continue
            if entity["offset"] + entity["length"] > limit:
                entity["length"] = limit - entity["offset"]
            clipped.append(entity)
        ents = clipped
        index = _U16Index(text)

    # ltrim, but never past the first entity
    first_entity = min((e["offset"] for e in ents), default=index.size)
    lead = 0
    limit_chars = index.to_index(first_entity)
    while lead < limit_chars and text[lead] in _WS:
        lead += 1
    if lead:
        text = text[lead:]
        for entity in ents:
            entity["offset"] -= lead
    ents.sort(key=entity_sort_key)
    return text, ents


def check_entity_bounds(text: str, entities: Sequence[Entity]) -> str | None:
    """tdlib's complaint about an entity that does not fit the text, or ``None``."""
    size = utf16_len(text)
    for entity in entities:
        offset = entity["offset"]
        length = entity["length"]
        if offset < 0 or offset > 1000000:
            return f"Receive an entity with incorrect offset {offset}"
        if length < 0 or length > 1000000:
            return f"Receive an entity with incorrect length {length}"
    for entity in sorted(entities, key=entity_sort_key):
        if entity["length"] == 0:
            continue
        if entity["offset"] >= size:
            return f"Entity begins after the end of the text at UTF-16 offset {entity['offset']}"
        end = entity["offset"] + entity["length"]
        if end > size:
            return (
                f"Entity beginning at UTF-16 offset {entity['offset']} ends after the end of "
                f"the text at UTF-16 offset {end}"
            )
    return None


# --------------------------------------------------------------------------- auto entities


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _is_cmd_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


def find_bot_commands(text: str) -> list[Entity]:
    """tdlib's ``match_bot_commands``: ``/cmd`` and ``/cmd@bot_name`` entities."""
    if "/" not in text:
        return []
    result: list[Entity] = []
    index: _U16Index | None = None
    size = len(text)
    pos = text.find("/")
    while pos != -1:
        if pos > 0:
            prev = text[pos - 1]
            if _is_word_char(prev) or prev in "/<>":
                pos = text.find("/", pos + 1)
                continue
        end = pos + 1
        while end < size and _is_cmd_char(text[end]):
            end += 1
        ok = 1 <= end - pos - 1 <= 64
        if ok and end < size and text[end] == "@":
            mention_end = end + 1
            while mention_end < size and _is_cmd_char(text[mention_end]):
                mention_end += 1
            if 3 <= mention_end - end - 1 <= 32:
                end = mention_end
            else:
                ok = False
                end = mention_end
        if ok and end < size:
            nxt = text[end]
            if _is_word_char(nxt) or nxt in "/<>":
                ok = False
        if ok:
            if index is None:
                index = _U16Index(text)
            offset = index.to_utf16(pos)
            result.append({"type": "bot_command", "offset": offset, "length": end - pos})
        pos = text.find("/", max(end, pos + 1))
    return result


def merge_auto_entities(entities: list[Entity], found: list[Entity]) -> list[Entity]:
    """Add auto-detected entities that do not cross a non-splittable entity."""
    if not found:
        return entities
    blocking = [
        (e["offset"], e["offset"] + e["length"])
        for e in entities
        if e["type"] not in _SPLITTABLE and "blockquote" not in e["type"]
    ]
    merged = list(entities)
    for entity in found:
        start = entity["offset"]
        end = start + entity["length"]
        if all(end <= b_start or start >= b_end for b_start, b_end in blocking):
            merged.append(entity)
    merged.sort(key=entity_sort_key)
    return merged


# --------------------------------------------------------------------------- renderer


def escape(text: str, *, quote: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if quote:
        text = text.replace('"', "&quot;")
    return text


def _tags(entity: Entity) -> tuple[str, str] | None:
    kind = entity["type"]
    simple = {
        "bold": "b",
        "italic": "i",
        "underline": "u",
        "strikethrough": "s",
        "spoiler": "tg-spoiler",
        "code": "code",
        "blockquote": "blockquote",
    }.get(kind)
    if simple is not None:
        return f"<{simple}>", f"</{simple}>"
    if kind == "expandable_blockquote":
        return "<blockquote expandable>", "</blockquote>"
    if kind == "pre":
        language = entity.get("language")
        if language:
            return (
                f'<pre><code class="language-{escape(str(language), quote=True)}">',
                "</code></pre>",
            )
        return "<pre>", "</pre>"
    if kind == "text_link":
        return f'<a href="{escape(str(entity.get("url", "")), quote=True)}">', "</a>"
    if kind == "text_mention":
        user = entity.get("user") or {}
        return f'<a href="tg://user?id={user.get("id", 0)}">', "</a>"
    if kind == "custom_emoji":
        emoji_id = escape(str(entity.get("custom_emoji_id", "")), quote=True)
        return f'<tg-emoji emoji-id="{emoji_id}">', "</tg-emoji>"
    return None


def render_html(text: str, entities: Iterable[Entity]) -> str:
    """Render ``text`` with ``entities`` as Telegram-HTML (crossing entities are split)."""
    items: list[tuple[int, int, tuple[str, str], Entity]] = []
    for entity in entities:
        tags = _tags(entity)
        if tags is not None and entity["length"] > 0:
            items.append((entity["offset"], entity["offset"] + entity["length"], tags, entity))
    if not items:
        return escape(text)
    items.sort(key=lambda item: entity_sort_key(item[3]))
    index = _U16Index(text)
    return weave(
        index.size,
        [(start, end, tags) for start, end, tags, _entity in items],
        lambda start, end: escape(text[index.to_index(start) : index.to_index(end)]),
    )


def weave(
    size: int, items: Sequence[tuple[int, int, tuple[str, str]]], piece: Callable[[int, int], str]
) -> str:
    """Interleave (start, end, (open, close)) tag spans — sorted as ``entity_sort_key`` sorts
    their entities — with the text pieces between their boundaries (``piece(a, b)``, already
    escaped); spans that cross are closed and reopened, as Telegram's own HTML export does."""
    points = sorted({0, size, *(i[0] for i in items), *(i[1] for i in items)})
    out: list[str] = []
    stack: list[tuple[int, tuple[str, str]]] = []
    next_item = 0
    previous = 0
    for point in points:
        if point > previous:
            out.append(piece(previous, point))
            previous = point
        if any(end <= point for end, _ in stack):
            reopen: list[tuple[int, tuple[str, str]]] = []
            while any(end <= point for end, _ in stack):
                end, tags = stack.pop()
                out.append(tags[1])
                if end > point:
                    reopen.append((end, tags))
            for end, tags in reversed(reopen):
                out.append(tags[0])
                stack.append((end, tags))
        while next_item < len(items) and items[next_item][0] == point:
            _, end, tags = items[next_item]
            out.append(tags[0])
            stack.append((end, tags))
            next_item += 1
    while stack:
        out.append(stack.pop()[1][1])
    return "".join(out)
