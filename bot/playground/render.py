"""What the page shows of a message: safe HTML built from text + entities, buttons and files.

Nothing the bot or a person wrote reaches the page as markup: text is escaped and only the
tags below are produced, each from an entity type; links keep only http(s) addresses.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.emulator.html import entity_sort_key, weave
from bot.emulator.state import StoredMessage

JSON = dict[str, Any]
LINK_ATTRS = 'target="_blank" rel="noopener noreferrer nofollow"'
_BARE_HOST = re.compile(r"^[\w.-]+\.[a-z]{2,}(?:[/?#]\S*)?$", re.IGNORECASE)


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def safe_url(url: str) -> str | None:
    """An address the page may link to: http(s) only (bare hosts get http://)."""
    url = url.strip()
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    lowered = url.lower()
    if lowered.startswith(("http://", "https://")):
        return url if urlsplit(url).netloc else None
    if "://" not in url and ":" not in url.split("/", 1)[0] and _BARE_HOST.match(url):
        return "http://" + url
    return None


def start_parameter(url: str, bot_username: str) -> str | None:
    """For a link to this bot (t.me/<bot>?start=x) the /start text a tap sends, else None."""
    parts = urlsplit(url if "://" in url else "https://" + url)
    if parts.scheme not in ("http", "https") or parts.hostname not in ("t.me", "telegram.me"):
        return None
    if parts.path.strip("/").lower() != bot_username.lower():
        return None
    payload = parse_qs(parts.query).get("start", [""])[0]
    return f"/start {payload}" if payload else "/start"


def _link(url: str | None, bot_username: str) -> tuple[str, str]:
    if url is None:
        return '<span class="link">', "</span>"
    start = start_parameter(url, bot_username)
    if start is not None:
        return f'<a href="{_escape(url)}" data-send="{_escape(start)}">', "</a>"
    return f'<a href="{_escape(url)}" {LINK_ATTRS}>', "</a>"


def _tags(entity: Mapping[str, Any], segment: str, bot_username: str) -> tuple[str, str] | None:
    kind = entity.get("type")
    simple = {
        "bold": "b",
        "italic": "i",
        "underline": "u",
        "strikethrough": "s",
        "code": "code",
        "blockquote": "blockquote",
    }.get(str(kind))
    if simple is not None:
        return f"<{simple}>", f"</{simple}>"
    if kind == "expandable_blockquote":
        return '<blockquote class="expandable">', "</blockquote>"
    if kind == "spoiler":
        return '<span class="spoiler" tabindex="0" role="button" aria-pressed="false">', "</span>"
    if kind == "pre":
        language = entity.get("language")
        if isinstance(language, str) and language:
            return f'<pre><code data-language="{_escape(language)}">', "</code></pre>"
        return "<pre>", "</pre>"
    if kind == "text_link":
        url = entity.get("url")
        return _link(safe_url(url) if isinstance(url, str) else None, bot_username)
    if kind == "url":
        return _link(safe_url(segment), bot_username)
    if kind == "bot_command":
        return f'<a href="#" class="command" data-send="{_escape(segment)}">', "</a>"
    if kind in {"mention", "hashtag", "cashtag", "text_mention", "email", "phone_number"}:
        return f'<span class="{str(kind).replace("_", "-")}">', "</span>"
    return None


def to_html(text: str, entities: Sequence[Mapping[str, Any]], *, bot_username: str = "") -> str:
    """``text`` with its entities (UTF-16 offsets) as escaped HTML with an allowlist of tags;
    entities that cross are closed and reopened, as Telegram's own HTML export does."""
    data = text.encode("utf-16-le")
    size = len(data) // 2

    def piece(start: int, end: int) -> str:
        return data[2 * start : 2 * end].decode("utf-16-le", errors="replace")

    items: list[tuple[int, int, tuple[str, str]]] = []
    for entity in sorted(entities, key=lambda e: entity_sort_key(dict(e))):
        start = max(0, int(entity.get("offset", 0)))
        end = min(size, start + int(entity.get("length", 0)))
        if end <= start:
            continue
        tags = _tags(entity, piece(start, end), bot_username)
        if tags is not None:
            items.append((start, end, tags))
    if not items:
        return _escape(text)
    return weave(size, items, lambda start, end: _escape(piece(start, end)))


def _button(button: Mapping[str, Any], bot_username: str) -> JSON:
    text = str(button.get("text", ""))
    data = button.get("callback_data")
    if isinstance(data, str):
        return {"text": text, "kind": "callback", "data": data}
    url = button.get("url")
    if isinstance(url, str):
        start = start_parameter(url, bot_username)
        if start is not None:
            return {"text": text, "kind": "send", "send": start}
        safe = safe_url(url)
        if safe is not None:
            return {"text": text, "kind": "url", "url": safe}
    copy = button.get("copy_text")
    if isinstance(copy, Mapping) and isinstance(copy.get("text"), str):
        return {"text": text, "kind": "copy", "copy": copy["text"]}
    return {"text": text, "kind": "unsupported"}


def message_payload(message: StoredMessage, bot_username: str) -> JSON:
    """One message as the page draws it (a deleted one only says so)."""
    if message.deleted:
        return {"id": message.message_id, "deleted": True}
    payload: JSON = {
        "id": message.message_id,
        "out": not message.from_bot,
        "kind": message.kind,
        "html": to_html(message.text, message.entities, bot_username=bot_username),
        "date": message.date,
        "edited": message.edit_date is not None,
        "version": message.version,
        "buttons": [],
    }
    markup = message.inline_markup
    if markup is not None:
        payload["buttons"] = [
            [_button(button, bot_username) for button in row] for row in markup["inline_keyboard"]
        ]
    file = message.file
    if file is not None:
        payload["file"] = {
            "url": f"/files/{file.file_id}",
            "name": file.file_name,
            "size": file.size,
            "width": file.width,
            "height": file.height,
            "emoji": file.emoji,
        }
    if message.reply_to is not None:
        payload["reply_to"] = message.reply_to.message_id
    return payload
