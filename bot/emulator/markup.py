"""Validation and normalisation of ``reply_markup`` and ``entities`` parameters."""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import bad_request
from .html import ENTITY_TYPES, Entity

JSON = dict[str, Any]

_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_URL_RE = re.compile(r"^(https?://[^\s/?#]+\S*|tg://\S+)$", re.IGNORECASE)
_CANT_PARSE_MARKUP = "can't parse reply keyboard markup JSON object"
_INLINE_BUTTON = "can't parse inline keyboard button: "


def _load(value: Any, error: str) -> Any:
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(error) from None
    return value


def parse_reply_markup(value: Any, *, inline_only: bool = False) -> JSON | None:
    """Validate a ``reply_markup`` value (JSON string or object) like the Bot API.

    Returns the normalised markup, or ``None`` for "no markup" (including an inline
    keyboard without buttons, which Telegram drops).
    """
    if value is None or value == "":
        return None
    markup = _load(value, _CANT_PARSE_MARKUP)
    if not isinstance(markup, dict):
        raise bad_request(_CANT_PARSE_MARKUP)
    if "inline_keyboard" in markup:
        return _parse_inline(markup)
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        return _parse_reply_keyboard(markup)
    if "remove_keyboard" in markup:
        if markup["remove_keyboard"] is not True:
            raise bad_request('field "remove_keyboard" of the ReplyKeyboardRemove must be true')
        return {"remove_keyboard": True, **_flags(markup, ("selective",))}
    if "force_reply" in markup:
        if markup["force_reply"] is not True:
            raise bad_request('field "force_reply" of the ForceReply must be true')
        result: JSON = {"force_reply": True}
        result.update(_flags(markup, ("selective",)))
        if isinstance(markup.get("input_field_placeholder"), str):
            result["input_field_placeholder"] = markup["input_field_placeholder"]
        return result
    raise bad_request(_CANT_PARSE_MARKUP)


def _flags(markup: JSON, names: tuple[str, ...]) -> JSON:
    return {name: bool(markup[name]) for name in names if markup.get(name) is not None}


def _rows(markup: JSON, field: str, type_name: str) -> list[list[Any]]:
    rows = markup[field]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'field "{field}" of the {type_name} should be an Array of Arrays')
    return rows


def _parse_inline(markup: JSON) -> JSON | None:
    rows = _rows(markup, "inline_keyboard", "InlineKeyboardMarkup")
    result: list[list[JSON]] = []
    for row in rows:
        parsed = [_parse_inline_button(button) for button in row]
        if parsed:
            result.append(parsed)
    if not result:
        return None
    return {"inline_keyboard": result}


def _parse_inline_button(button: Any) -> JSON:
    if not isinstance(button, dict):
        raise bad_request(_INLINE_BUTTON + "InlineKeyboardButton must be an Object")
    text = button.get("text")
    if not isinstance(text, str):
        raise bad_request(_INLINE_BUTTON + 'Field "text" must be of type String')
    if not text.strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = [name for name in _INLINE_ACTIONS if button.get(name) is not None]
    if "callback_data" in actions and button["callback_data"] == "":
        actions.remove("callback_data")
    if not actions:
        raise bad_request(_INLINE_BUTTON + "Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise bad_request(
            _INLINE_BUTTON
            + "exactly one of the optional fields must be used, got "
            + ", ".join(actions)
        )
    action = actions[0]
    value = button[action]
    if action == "callback_data":
        if not isinstance(value, str):
            raise bad_request(_INLINE_BUTTON + 'Field "callback_data" must be of type String')
        if not 1 <= len(value.encode("utf-8")) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
    elif action == "url" and (not isinstance(value, str) or _URL_RE.match(value.strip()) is None):
        raise bad_request("BUTTON_URL_INVALID")
    result: JSON = {"text": text, action: value}
    for extra in ("style", "icon_custom_emoji_id"):
        if button.get(extra) is not None:
            result[extra] = button[extra]
    return result


def _parse_reply_keyboard(markup: JSON) -> JSON:
    rows = _rows(markup, "keyboard", "ReplyKeyboardMarkup")
    keyboard: list[list[JSON]] = []
    for row in rows:
        parsed_row: list[JSON] = []
        for button in row:
            if isinstance(button, str):
                button = {"text": button}
            if not isinstance(button, dict):
                raise bad_request("can't parse keyboard button: KeyboardButton must be an Object")
            text = button.get("text")
            if not isinstance(text, str):
                raise bad_request(
                    'can\'t parse keyboard button: Field "text" must be of type String'
                )
            if not text:
                raise bad_request("BUTTON_TEXT_INVALID")
            parsed_row.append({k: v for k, v in button.items() if v is not None})
        if parsed_row:
            keyboard.append(parsed_row)
    if not keyboard:
        raise bad_request("keyboard must be non-empty")
    result: JSON = {"keyboard": keyboard}
    result.update(
        _flags(
            markup,
            ("is_persistent", "resize_keyboard", "one_time_keyboard", "selective"),
        )
    )
    if isinstance(markup.get("input_field_placeholder"), str):
        result["input_field_placeholder"] = markup["input_field_placeholder"]
    return result


def parse_entities(value: Any) -> list[Entity]:
    """Validate an ``entities``/``caption_entities`` parameter (JSON string or list)."""
    if value is None or value == "":
        return []
    data = _load(value, "can't parse entities JSON object")
    if not isinstance(data, list):
        raise bad_request("can't parse entities JSON object")
    result: list[Entity] = []
    for item in data:
        result.append(_parse_entity(item))
    return result


def _parse_entity(item: Any) -> Entity:
    prefix = "can't parse MessageEntity: "
    if not isinstance(item, dict):
        raise bad_request(prefix + "MessageEntity must be an Object")
    kind = item.get("type")
    if not isinstance(kind, str):
        raise bad_request(prefix + 'Field "type" must be of type String')
    if kind not in ENTITY_TYPES:
        raise bad_request(prefix + f"Unsupported entity type {kind!r}")
    entity: Entity = {"type": kind}
    for field in ("offset", "length"):
        number = item.get(field)
        if isinstance(number, bool) or not isinstance(number, int):
            raise bad_request(prefix + f'Field "{field}" must be of type Integer')
        entity[field] = number
    if kind == "text_link":
        url = item.get("url")
        if not isinstance(url, str):
            raise bad_request(prefix + 'Field "url" must be of type String')
        entity["url"] = url
    elif kind == "text_mention":
        user = item.get("user")
        if not isinstance(user, dict) or not isinstance(user.get("id"), int):
            raise bad_request(prefix + 'Field "user" must be of type Object')
        entity["user"] = user
    elif kind == "pre" and isinstance(item.get("language"), str) and item["language"]:
        entity["language"] = item["language"]
    elif kind == "custom_emoji":
        emoji_id = item.get("custom_emoji_id")
        if not isinstance(emoji_id, str) or not emoji_id.isdigit():
            raise bad_request("Invalid custom emoji identifier specified")
        entity["custom_emoji_id"] = emoji_id
    return entity
