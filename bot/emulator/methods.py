"""Bot API method implementations working on :class:`~.state.EmulatorState`.

Every handler gets ``(state, bot, params)`` and returns the ``result`` value or raises
:class:`~.errors.ApiError`. The HTTP layer (``server.py``) does the rest.
"""

from __future__ import annotations

import io
import json
import mimetypes
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from itertools import islice
from typing import Any

from PIL import Image

from . import errors as err
from .errors import ApiError, bad_request, conflict, forbidden
from .groups import (
    CachedAnswer,
    ForumTopic,
    GroupChat,
    InlineAnswer,
    InlineResult,
    bot_can_send,
    find_group,
    member_json,
)
from .html import (
    Entity,
    EntityParseError,
    check_entity_bounds,
    finalize,
    find_bot_commands,
    merge_auto_entities,
    parse_html,
    utf16_len,
)
from .markup import parse_entities, parse_reply_markup
from .models import CallbackAnswer
from .params import Params, Upload
from .state import (
    ALL_UPDATE_TYPES,
    DEFAULT_UPDATE_TYPES,
    BotState,
    Chat,
    EmulatorState,
    PollTicket,
    StoredFile,
    StoredMessage,
    WebhookConfig,
)

JSON = dict[str, Any]
Handler = Callable[[EmulatorState, BotState, Params], Awaitable[Any]]

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_TEXT = 200
MAX_COMMANDS = 100


@dataclass(frozen=True, slots=True)
class MethodSpec:
    name: str
    handler: Handler


METHODS: dict[str, MethodSpec] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        METHODS[name.lower()] = MethodSpec(name, handler)
        return handler

    return register


# --------------------------------------------------------------------------- helpers

_INT_RE = re.compile(r"-?[0-9]{1,20}")
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_LANG_RE = re.compile(r"[a-z]{2}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_CALLBACK_URL_RE = re.compile(r"^(https?|tg)://\S+$", re.IGNORECASE)


def _lower_first(message: str) -> str:
    return message[:1].lower() + message[1:]


def resolve_chat(bot: BotState, params: Params) -> Chat:
    """The private chat ``chat_id`` names, or ``400 chat not found``."""
    value = params.values.get("chat_id")
    if value is None or value == "":
        raise bad_request("chat_id is empty")
    if isinstance(value, bool):
        raise bad_request(err.CHAT_NOT_FOUND)
    if isinstance(value, str):
        if _INT_RE.fullmatch(value.strip()) is None:
            return _group_chat(bot, value)  # @username: only groups and channels have one
        value = int(value)
    if not isinstance(value, int):
        raise bad_request(err.CHAT_NOT_FOUND)
    chat = bot.chats.get(value)
    if chat is None and value in bot.groups:
        return _group_chat(bot, value)
    if chat is None or not chat.started:
        raise bad_request(err.CHAT_NOT_FOUND)
    return chat


def _check_blocked(chat: Chat) -> None:
    if isinstance(chat, GroupChat):
        _check_group_send(chat)
        return
    if chat.blocked:
        raise forbidden(err.BOT_BLOCKED)


def _thread(chat: Chat, params: Params, reply_to: StoredMessage | None) -> int | None:
    """The forum topic a message goes to: ``message_thread_id``, else the replied message's."""
    thread_id = params.get_int("message_thread_id")
    if not isinstance(chat, GroupChat):
        return None  # private chats without topics ignore it
    if thread_id is None and reply_to is not None:
        thread_id = reply_to.thread_id
    if thread_id is None:
        return None
    if not chat.is_forum:
        return None  # Telegram ignores it outside forums
    topic = chat.topics.get(thread_id)
    if topic is None:
        raise bad_request(err.THREAD_NOT_FOUND)
    if topic.closed and not chat.bot_membership().rights.get("can_manage_topics"):
        raise bad_request(err.TOPIC_CLOSED)
    return thread_id


def _check_flood(state: EmulatorState, bot: BotState, chat: Chat, key: str) -> None:
    flood = state.flood
    if key in flood.methods and flood.enabled:
        flood.check(bot.id, chat.id)


def format_text(text: str, parse_mode: str | None, entities: Any) -> tuple[str, list[Entity]]:
    """Text + parse_mode/entities -> final plain text and entities, Telegram-style."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise bad_request("strings must be encoded in UTF-8") from None
    mode = (parse_mode or "").strip().lower()
    ents: list[Entity]
    if mode and mode != "none" and text:
        if mode == "html":
            try:
                plain, ents = parse_html(text)
            except EntityParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        elif mode in ("markdown", "markdownv2"):
            raise bad_request(
                f"can't parse entities: parse_mode {parse_mode!r} is not supported by the "
                "emulator, only HTML is"
            )
        else:
            raise bad_request("unsupported parse_mode")
    else:
        plain = text
        ents = parse_entities(entities)
        problem = check_entity_bounds(plain, ents)
        if problem is not None:
            raise bad_request(_lower_first(problem))
    plain, ents = finalize(plain, ents)
    return plain, merge_auto_entities(ents, find_bot_commands(plain))


def _message_text(state: EmulatorState, params: Params) -> tuple[str, list[Entity]]:
    text, ents = format_text(
        params.get_str("text") or "", params.get_str("parse_mode"), params.values.get("entities")
    )
    if not text:
        raise bad_request(err.MESSAGE_TEXT_EMPTY)
    if utf16_len(text) > MAX_TEXT:
        raise bad_request(err.MESSAGE_TOO_LONG)
    return text, _known_mentions(state, ents)


def _caption(state: EmulatorState, params: Params) -> tuple[str, list[Entity]]:
    caption, ents = format_text(
        params.get_str("caption") or "",
        params.get_str("parse_mode"),
        params.values.get("caption_entities"),
    )
    if utf16_len(caption) > MAX_CAPTION:
        raise bad_request(err.CAPTION_TOO_LONG)
    return caption, _known_mentions(state, ents)


def _known_mentions(state: EmulatorState, entities: list[Entity]) -> list[Entity]:
    """Fill ``text_mention`` users the emulator knows with their full ``User`` object."""
    for entity in entities:
        if entity["type"] == "text_mention":
            info = state.users.get(entity["user"].get("id"))
            if info is not None:
                entity["user"] = info.to_json()
    return entities


def _reply_to(chat: Chat, params: Params) -> StoredMessage | None:
    reply = params.get_json("reply_parameters")
    message_id: int | None
    allow_without = params.get_bool("allow_sending_without_reply")
    if isinstance(reply, dict):
        raw_id = reply.get("message_id")
        if not isinstance(raw_id, int) or isinstance(raw_id, bool):
            raise bad_request("can't parse reply parameters JSON object")
        message_id = raw_id
        allow_without = bool(reply.get("allow_sending_without_reply", allow_without))
    elif reply is not None and reply != "":
        raise bad_request("can't parse reply parameters JSON object")
    else:
        message_id = params.get_int("reply_to_message_id")
    if message_id is None:
        return None
    target = chat.messages.get(message_id)
    if target is None or target.deleted:
        if allow_without:
            return None
        raise bad_request("message to be replied not found")
    return target


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of an image, or ``400 IMAGE_PROCESS_FAILED``."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            image.verify()
    except Exception:  # Pillow raises many kinds of errors
        raise bad_request("IMAGE_PROCESS_FAILED") from None
    return width, height


def _check_photo_dimensions(width: int, height: int) -> None:
    if width <= 0 or height <= 0 or width + height > 10000:
        raise bad_request("PHOTO_INVALID_DIMENSIONS")
    if max(width, height) / min(width, height) > 20:
        raise bad_request("PHOTO_INVALID_DIMENSIONS")


def _existing_file(state: EmulatorState, file_id: str, kind: str) -> StoredFile:
    if file_id.lower().startswith(("http://", "https://")):
        raise bad_request("failed to get HTTP URL content")
    stored = state.files.get(file_id)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if stored.kind != kind:
        raise bad_request(
            f"can't use file of type {stored.kind.capitalize()} as {kind.capitalize()}"
        )
    return stored


def _require_upload(params: Params, name: str) -> Upload | str:
    source = params.file(name)
    if source is None:
        raise bad_request(f"there is no {name} in the request")
    if isinstance(source, Upload) and not source.data:
        raise bad_request("file must be non-empty")
    return source


def _document_mime(upload: Upload) -> str:
    guessed, _ = mimetypes.guess_type(upload.filename)
    if guessed:
        return guessed
    ctype = (upload.content_type or "").split(";", 1)[0].strip()
    if ctype and ctype != "application/octet-stream":
        return ctype
    return "application/octet-stream"


def _store_bot_message(
    state: EmulatorState,
    bot: BotState,
    chat: Chat,
    key: str,
    params: Params,
    *,
    kind: str,
    text: str = "",
    entities: list[Entity] | None = None,
    make_file: Callable[[], StoredFile] | None = None,
) -> JSON:
    """Validate markup and reply target, pass flood control, then store the message."""
    reply_to = _reply_to(chat, params)
    thread_id = _thread(chat, params, reply_to)
    markup = parse_reply_markup(params.values.get("reply_markup"))
    _check_flood(state, bot, chat, key)
    message = chat.add_message(
        from_bot=True,
        kind=kind,
        date=state.now(),
        text=text,
        entities=entities,
        file=make_file() if make_file is not None else None,
        reply_markup=markup,
        reply_to=reply_to,
        protect_content=params.get_bool("protect_content"),
        thread_id=thread_id,
    )
    return message.to_json()


# --------------------------------------------------------------------------- bot & updates


@method("getMe")
async def get_me(state: EmulatorState, bot: BotState, params: Params) -> Any:
    return bot.me_json()


@method("logOut")
async def log_out(state: EmulatorState, bot: BotState, params: Params) -> Any:
    return True


@method("close")
async def close(state: EmulatorState, bot: BotState, params: Params) -> Any:
    return True


def _set_allowed_updates(bot: BotState, value: Any) -> None:
    if value is None or value == "":
        return
    if not isinstance(value, list):
        raise bad_request("can't parse allowed updates JSON object")
    wanted = frozenset(item for item in value if isinstance(item, str)) & ALL_UPDATE_TYPES
    bot.allowed_updates = wanted or DEFAULT_UPDATE_TYPES


@method("getUpdates")
async def get_updates(state: EmulatorState, bot: BotState, params: Params) -> Any:
    if bot.webhook is not None:
        raise conflict(err.WEBHOOK_ACTIVE)
    offset = params.get_int("offset", 0) or 0
    limit = min(100, max(1, params.get_int("limit", 100) or 100))
    timeout = min(600, max(0, params.get_int("timeout", 0) or 0))
    _set_allowed_updates(bot, params.get_json("allowed_updates"))
    previous = bot.poll
    if previous is not None:
        previous.terminated = True
        bot.poll = None
        bot.update_notifier.notify()
    if offset:
        bot.confirm(offset)
    if not bot.updates and timeout > 0 and not state.closing:
        ticket = PollTicket()
        bot.poll = ticket
        bot.activity.notify()
        try:
            await bot.update_notifier.wait_for(
                lambda: bool(bot.updates) or ticket.terminated or state.closing, timeout
            )
        finally:
            if bot.poll is ticket:
                bot.poll = None
            bot.activity.notify()
        if ticket.terminated:
            raise conflict(err.TERMINATED_BY_OTHER)
    return list(islice(bot.updates, limit))


@method("setWebhook")
async def set_webhook(state: EmulatorState, bot: BotState, params: Params) -> Any:
    url = (params.get_str("url") or "").strip()
    secret = params.get_str("secret_token")
    if secret is not None and secret != "" and _SECRET_RE.fullmatch(secret) is None:
        raise bad_request("secret token contains unallowed characters")
    max_connections = params.get_int("max_connections", 40) or 40
    if not 1 <= max_connections <= 100:
        raise bad_request("max_connections must be between 1 and 100")
    if url and not url.lower().startswith(("http://", "https://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    _set_allowed_updates(bot, params.get_json("allowed_updates"))
    if params.get_bool("drop_pending_updates"):
        bot.drop_pending()
    if url:
        allowed = params.get_json("allowed_updates")
        bot.webhook = WebhookConfig(
            url=url,
            secret_token=secret or None,
            max_connections=max_connections,
            ip_address=params.get_str("ip_address"),
            allowed_updates=allowed if isinstance(allowed, list) else None,
        )
        bot.webhook_last_error_date = None
        bot.webhook_last_error_message = None
    else:
        bot.webhook = None
    if bot.poll is not None:
        bot.poll.terminated = True
    bot.update_notifier.notify()
    if state.on_webhook_change is not None:
        state.on_webhook_change(bot)
    return True


@method("deleteWebhook")
async def delete_webhook(state: EmulatorState, bot: BotState, params: Params) -> Any:
    if params.get_bool("drop_pending_updates"):
        bot.drop_pending()
    bot.webhook = None
    bot.update_notifier.notify()
    if state.on_webhook_change is not None:
        state.on_webhook_change(bot)
    return True


@method("getWebhookInfo")
async def get_webhook_info(state: EmulatorState, bot: BotState, params: Params) -> Any:
    info: JSON = {
        "url": bot.webhook.url if bot.webhook is not None else "",
        "has_custom_certificate": False,
        "pending_update_count": len(bot.updates),
    }
    if bot.webhook is not None:
        info["max_connections"] = bot.webhook.max_connections
        if bot.webhook.ip_address:
            info["ip_address"] = bot.webhook.ip_address
        if bot.webhook.allowed_updates is not None:
            info["allowed_updates"] = bot.webhook.allowed_updates
    if bot.webhook_last_error_date is not None:
        info["last_error_date"] = bot.webhook_last_error_date
        info["last_error_message"] = bot.webhook_last_error_message or ""
    return info


# --------------------------------------------------------------------------- sending


@method("sendMessage")
async def send_message(state: EmulatorState, bot: BotState, params: Params) -> Any:
    chat = resolve_chat(bot, params)
    _check_blocked(chat)
    text, entities = _message_text(state, params)
    return _store_bot_message(
        state, bot, chat, "sendmessage", params, kind="text", text=text, entities=entities
    )


@method("sendPhoto")
async def send_photo(state: EmulatorState, bot: BotState, params: Params) -> Any:
    chat = resolve_chat(bot, params)
    _check_blocked(chat)
    source = _require_upload(params, "photo")
    caption, entities = _caption(state, params)
    if isinstance(source, Upload):
        data = source.data
        width, height = image_size(data)
        _check_photo_dimensions(width, height)

        def make_file() -> StoredFile:
            return state.store_file(
                "photo", data, width=width, height=height, mime_type="image/jpeg"
            )

    else:
        existing = _existing_file(state, source, "photo")

        def make_file() -> StoredFile:
            return existing

    return _store_bot_message(
        state,
        bot,
        chat,
        "sendphoto",
        params,
        kind="photo",
        text=caption,
        entities=entities,
        make_file=make_file,
    )


@method("sendDocument")
async def send_document(state: EmulatorState, bot: BotState, params: Params) -> Any:
    chat = resolve_chat(bot, params)
    _check_blocked(chat)
    source = _require_upload(params, "document")
    caption, entities = _caption(state, params)
    if isinstance(source, Upload):
        upload = source

        def make_file() -> StoredFile:
            return state.store_file(
                "document",
                upload.data,
                file_name=upload.filename,
                mime_type=_document_mime(upload),
            )

    else:
        existing = _existing_file(state, source, "document")

        def make_file() -> StoredFile:
            return existing

    return _store_bot_message(
        state,
        bot,
        chat,
        "senddocument",
        params,
        kind="document",
        text=caption,
        entities=entities,
        make_file=make_file,
    )


@method("sendSticker")
async def send_sticker(state: EmulatorState, bot: BotState, params: Params) -> Any:
    chat = resolve_chat(bot, params)
    _check_blocked(chat)
    source = _require_upload(params, "sticker")
    if isinstance(source, Upload):
        data = source.data
        width, height = image_size(data)
        emoji = params.get_str("emoji") or "👍"

        def make_file() -> StoredFile:
            return state.store_file(
                "sticker", data, width=width, height=height, emoji=emoji, mime_type="image/webp"
            )

    else:
        existing = _existing_file(state, source, "sticker")

        def make_file() -> StoredFile:
            return existing

    return _store_bot_message(
        state, bot, chat, "sendsticker", params, kind="sticker", make_file=make_file
    )


@method("sendChatAction")
async def send_chat_action(state: EmulatorState, bot: BotState, params: Params) -> Any:
    chat = resolve_chat(bot, params)
    _check_blocked(chat)
    action = params.get_str("action") or ""
    if action not in _CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    chat.last_action = action
    return True


# --------------------------------------------------------------------------- editing


def _edit_target(
    bot: BotState, params: Params, *, not_found: str, inline: bool = False
) -> StoredMessage:
    if params.has("inline_message_id"):
        if not inline or params.has("chat_id") or params.has("message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        return _inline_message(bot, params)
    chat = resolve_chat(bot, params)
    message_id = params.get_int("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    message = chat.messages.get(message_id)
    if message is None or message.deleted:
        raise bad_request(not_found)
    return message


def _editable(bot: BotState, params: Params) -> StoredMessage:
    message = _edit_target(bot, params, not_found=err.EDIT_NOT_FOUND, inline=True)
    if message.inline_message_id is not None and params.has("inline_message_id"):
        return message  # the user's message via the bot: the bot edits it by this id only
    _check_blocked(message.chat)
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return message


def _apply_edit(
    state: EmulatorState,
    message: StoredMessage,
    *,
    text: str,
    entities: list[Entity],
    markup: JSON | None,
    file: StoredFile | None = None,
) -> JSON | bool:
    """Apply an edit (`file`: a new file for the message, as editMessageMedia sends)."""
    same = text == message.text and entities == message.entities
    if same and markup == message.inline_markup and file is None:
        raise bad_request(err.NOT_MODIFIED)
    if file is not None:
        message.file = file
    message.text = text
    message.entities = entities
    if markup is not None or message.inline_markup is not None:
        message.reply_markup = markup
    message.version += 1
    message.edit_date = state.now()
    message.chat.notifier.notify()
    if message.inline_message_id is not None and not message.from_bot:
        return True  # "if the edited message is not an inline message, the edited Message"
    return message.to_json()


@method("editMessageText")
async def edit_message_text(state: EmulatorState, bot: BotState, params: Params) -> Any:
    message = _editable(bot, params)
    if message.kind != "text":
        raise bad_request("there is no text in the message to edit")
    text, entities = _message_text(state, params)
    markup = parse_reply_markup(params.values.get("reply_markup"), inline_only=True)
    return _apply_edit(state, message, text=text, entities=entities, markup=markup)


@method("editMessageCaption")
async def edit_message_caption(state: EmulatorState, bot: BotState, params: Params) -> Any:
    message = _editable(bot, params)
    if message.kind == "text":
        raise bad_request("there is no caption in the message to edit")
    caption, entities = _caption(state, params)
    markup = parse_reply_markup(params.values.get("reply_markup"), inline_only=True)
    return _apply_edit(state, message, text=caption, entities=entities, markup=markup)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(state: EmulatorState, bot: BotState, params: Params) -> Any:
    message = _editable(bot, params)
    markup = parse_reply_markup(params.values.get("reply_markup"), inline_only=True)
    return _apply_edit(state, message, text=message.text, entities=message.entities, markup=markup)


@method("editMessageMedia")
async def edit_message_media(state: EmulatorState, bot: BotState, params: Params) -> Any:
    """A photo's or document's file and caption replaced (the kind stays, as the emulator
    stores one kind per message)."""
    message = _editable(bot, params)
    media = params.get_json("media")
    if not isinstance(media, dict) or media.get("type") not in ("photo", "document"):
        raise bad_request("can't parse InputMedia JSON object")
    if message.kind != media["type"]:
        raise bad_request("message can't be edited: the emulator keeps a message's kind")
    inner = Params(media, params.files)
    upload = _require_upload(inner, "media")
    caption, entities = _caption(state, inner)
    if isinstance(upload, Upload):
        if media["type"] == "photo":
            width, height = image_size(upload.data)
            _check_photo_dimensions(width, height)
            file = state.store_file(
                "photo", upload.data, width=width, height=height, mime_type="image/jpeg"
            )
        else:
            mime = _document_mime(upload)
            file = state.store_file(
                "document", upload.data, file_name=upload.filename, mime_type=mime
            )
    else:
        file = _existing_file(state, upload, media["type"])
    markup = parse_reply_markup(params.values.get("reply_markup"), inline_only=True)
    return _apply_edit(state, message, text=caption, entities=entities, markup=markup, file=file)


# Telegram's reactions a bot may set (the emoji of ReactionTypeEmoji).
_REACTION_LIST = (
    "👍 👎 ❤ 🔥 🥰 👏 😁 🤔 🤯 😱 🤬 😢 🎉 🤩 🤮 💩 🙏 👌 🕊 🤡 🥱 🥴 😍 🐳 ❤‍🔥 🌚 🌭 💯 🤣 ⚡ "
    "🍌 🏆 💔 🤨 😐 🍓 🍾 💋 🖕 😈 😴 😭 🤓 👻 👨‍💻 👀 🎃 🙈 😇 😨 🤝 ✍ 🤗 🫡 🎅 🎄 ☃ 💅 🤪 🗿 "
    "🆒 💘 🙉 🦄 😘 💊 🙊 😎 👾 🤷‍♂ 🤷 🤷‍♀ 😡"
)
REACTIONS = frozenset(_REACTION_LIST.split())


@method("setMessageReaction")
async def set_message_reaction(state: EmulatorState, bot: BotState, params: Params) -> Any:
    message = _edit_target(bot, params, not_found="message to react not found")
    _check_blocked(message.chat)
    reaction = params.get_json("reaction") or []
    if not isinstance(reaction, list):
        raise bad_request("can't parse reaction types JSON object")
    emoji: list[str] = []
    for item in reaction:
        if not isinstance(item, dict) or item.get("type") != "emoji":
            raise bad_request("REACTION_INVALID")
        if item.get("emoji") not in REACTIONS:
            raise bad_request("REACTION_INVALID")
        emoji.append(item["emoji"])
    if len(emoji) > 1:
        raise bad_request("REACTIONS_TOO_MANY")
    message.reactions = emoji
    message.chat.notifier.notify()
    return True


@method("deleteMessage")
async def delete_message(state: EmulatorState, bot: BotState, params: Params) -> Any:
    message = _edit_target(bot, params, not_found=err.DELETE_NOT_FOUND)
    message.deleted = True
    message.chat.notifier.notify()
    return True


@method("deleteMessages")
async def delete_messages(state: EmulatorState, bot: BotState, params: Params) -> Any:
    chat = resolve_chat(bot, params)
    ids = params.get_json("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message_ids must be a non-empty Array of at most 100 Integers")
    for message_id in ids:
        message = chat.messages.get(message_id) if isinstance(message_id, int) else None
        if message is not None and not message.deleted:
            message.deleted = True
    chat.notifier.notify()
    return True


# --------------------------------------------------------------------------- callbacks & files


@method("answerCallbackQuery")
async def answer_callback_query(state: EmulatorState, bot: BotState, params: Params) -> Any:
    query_id = params.get_str("callback_query_id") or ""
    pending = bot.callbacks.get(query_id)
    if pending is None or pending.answered:
        raise bad_request(err.QUERY_TOO_OLD)
    text = params.get_str("text")
    if text is not None and len(text) > MAX_CALLBACK_TEXT:
        raise bad_request("MESSAGE_TOO_LONG")
    url = params.get_str("url")
    if url and _CALLBACK_URL_RE.match(url) is None:
        raise bad_request("URL_INVALID")
    pending.answered = True
    answer = CallbackAnswer(
        text=text or None,
        show_alert=params.get_bool("show_alert"),
        url=url or None,
        cache_time=params.get_int("cache_time"),
    )
    if not pending.future.done():
        pending.future.set_result(answer)
    return True


@method("getFile")
async def get_file(state: EmulatorState, bot: BotState, params: Params) -> Any:
    file_id = params.get_str("file_id") or ""
    stored = state.files.get(file_id)
    if stored is None:
        raise bad_request("invalid file_id")
    return stored.file_json()


@method("getChat")
async def get_chat(state: EmulatorState, bot: BotState, params: Params) -> Any:
    chat = resolve_chat(bot, params)
    info = chat.chat_json()
    info.update(
        {
            "accent_color_id": chat.user.id % 7,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }
    )
    return info


# ------------------------------------------------------------------ commands & descriptions

_SCOPES_WITH_CHAT = frozenset({"chat", "chat_administrators", "chat_member"})
_SCOPES = frozenset(
    {"default", "all_private_chats", "all_group_chats", "all_chat_administrators"}
    | _SCOPES_WITH_CHAT
)


def scope_key(scope: Any) -> str:
    """Canonical key of a ``BotCommandScope`` (``"default"`` when absent)."""
    if scope is None or scope == "":
        return "default"
    if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
        raise bad_request("can't parse BotCommandScope JSON object")
    kind = scope["type"]
    if kind not in _SCOPES:
        raise bad_request("unsupported bot command scope type")
    if kind == "default":
        return "default"
    key: JSON = {"type": kind}
    if kind in _SCOPES_WITH_CHAT:
        if scope.get("chat_id") in (None, ""):
            raise bad_request("chat_id is empty")
        key["chat_id"] = scope["chat_id"]
    if kind == "chat_member":
        if not isinstance(scope.get("user_id"), int):
            raise bad_request("user not found")
        key["user_id"] = scope["user_id"]
    return json.dumps(key, sort_keys=True)


def _language(params: Params) -> str:
    language = params.get_str("language_code") or ""
    if language and _LANG_RE.fullmatch(language) is None:
        raise bad_request("LANG_CODE_INVALID")
    return language


@method("setMyCommands")
async def set_my_commands(state: EmulatorState, bot: BotState, params: Params) -> Any:
    commands = params.get_json("commands")
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > MAX_COMMANDS:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    parsed: list[JSON] = []
    for command in commands:
        if not isinstance(command, dict):
            raise bad_request("can't parse BotCommand: BotCommand must be an Object")
        name = command.get("command")
        description = command.get("description")
        if not isinstance(name, str) or _COMMAND_RE.fullmatch(name) is None:
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        parsed.append({"command": name, "description": description})
    key = (scope_key(params.get_json("scope")), _language(params))
    if parsed:
        bot.commands[key] = parsed
    else:
        bot.commands.pop(key, None)
    return True


@method("getMyCommands")
async def get_my_commands(state: EmulatorState, bot: BotState, params: Params) -> Any:
    key = (scope_key(params.get_json("scope")), _language(params))
    return [dict(command) for command in bot.commands.get(key, [])]


@method("deleteMyCommands")
async def delete_my_commands(state: EmulatorState, bot: BotState, params: Params) -> Any:
    key = (scope_key(params.get_json("scope")), _language(params))
    bot.commands.pop(key, None)
    return True


def _set_text(store: dict[str, str], params: Params, field: str, limit: int) -> bool:
    value = params.get_str(field) or ""
    if len(value) > limit:
        raise bad_request(f"{field} is too long")
    language = _language(params)
    if value:
        store[language] = value
    else:
        store.pop(language, None)
    return True


@method("setMyDescription")
async def set_my_description(state: EmulatorState, bot: BotState, params: Params) -> Any:
    return _set_text(bot.descriptions, params, "description", 512)


@method("setMyShortDescription")
async def set_my_short_description(state: EmulatorState, bot: BotState, params: Params) -> Any:
    return _set_text(bot.short_descriptions, params, "short_description", 120)


@method("getMyDescription")
async def get_my_description(state: EmulatorState, bot: BotState, params: Params) -> Any:
    return {"description": bot.descriptions.get(_language(params), "")}


@method("getMyShortDescription")
async def get_my_short_description(state: EmulatorState, bot: BotState, params: Params) -> Any:
    return {"short_description": bot.short_descriptions.get(_language(params), "")}


# --------------------------------------------------------------------------- groups & inline
# (the chats are modelled in groups.py)


def _group_chat(bot: BotState, value: int | str) -> GroupChat:
    """A group or channel by id or @username; the bot must be or have been in it."""
    chat = find_group(bot, value)
    if chat is None or chat.chat_type == "private":
        raise bad_request(err.CHAT_NOT_FOUND)
    if chat.bot_status == "left" and chat.chat_type == "channel":
        raise bad_request(err.CHAT_NOT_FOUND)  # a bot sees no channel it is not in
    return chat


def _check_group_send(chat: GroupChat) -> None:
    problem = bot_can_send(chat)
    if problem is None:
        return
    if problem.startswith("Forbidden: "):
        raise forbidden(problem.removeprefix("Forbidden: "))
    raise bad_request(problem.removeprefix("Bad Request: "))


def _inline_message(bot: BotState, params: Params) -> StoredMessage:
    message = bot.inline_messages.get(params.get_str("inline_message_id") or "")
    if message is None or message.deleted:
        raise bad_request("MESSAGE_ID_INVALID")
    return message


def _check_member(chat: GroupChat) -> None:
    """The bot must be in the group (whatever its rights) to ask about it."""
    if chat.bot_status in ("left", "kicked"):
        problem = bot_can_send(chat) or err.CHAT_NOT_FOUND
        raise forbidden(problem.removeprefix("Forbidden: "))


def _group(bot: BotState, params: Params) -> GroupChat:
    chat = resolve_chat(bot, params)
    if not isinstance(chat, GroupChat) or chat.chat_type in ("private", "channel"):
        raise bad_request(err.CHAT_NOT_GROUP)
    _check_member(chat)
    return chat


def _member_json(state: EmulatorState, bot: BotState, chat: GroupChat, user_id: int) -> JSON:
    if user_id == bot.id:
        user = bot.user_json()
    else:
        info = state.users.get(user_id)
        if info is None:
            raise bad_request(err.PARTICIPANT_ID_INVALID)
        user = info.to_json()
    return chat.membership(user_id).to_json(user)


@method("getChatMember")
async def get_chat_member(state: EmulatorState, bot: BotState, params: Params) -> Any:
    chat = resolve_chat(bot, params)
    user_id = params.get_int("user_id")
    if user_id is None:
        raise bad_request("user_id is empty")
    if isinstance(chat, GroupChat):
        return _member_json(state, bot, chat, user_id)
    if user_id == bot.id:
        return member_json(bot.user_json(), "member")
    info = state.users.get(user_id)
    if info is None:
        raise bad_request(err.PARTICIPANT_ID_INVALID)
    if user_id != chat.id:
        raise bad_request(err.USER_NOT_FOUND)
    return member_json(info.to_json(), "kicked" if chat.blocked else "member")


@method("getChatAdministrators")
async def get_chat_administrators(state: EmulatorState, bot: BotState, params: Params) -> Any:
    chat = _group(bot, params)
    return [
        _member_json(state, bot, chat, user_id)
        for user_id, member in chat.members.items()
        if member.status in ("creator", "administrator")
    ]


def _forum(bot: BotState, params: Params) -> GroupChat:
    chat = _group(bot, params)
    if not chat.is_forum:
        raise bad_request(err.NOT_A_FORUM)
    member = chat.bot_membership()
    if member.status != "administrator" or not member.rights.get("can_manage_topics"):
        raise bad_request(err.NOT_ENOUGH_RIGHTS_TOPIC)
    return chat


def _topic_name(params: Params, *, required: bool) -> str | None:
    name = params.get_str("name")
    if name is None or name == "":
        if required:
            raise bad_request("TOPIC_TITLE_EMPTY")
        return None
    if utf16_len(name) > 128:
        raise bad_request("TOPIC_TITLE_TOO_LONG")  # the spec: 1-128 characters
    return name


def _topic(chat: GroupChat, params: Params) -> ForumTopic:
    thread_id = params.get_int("message_thread_id")
    topic = chat.topics.get(thread_id) if thread_id is not None else None
    if topic is None:
        raise bad_request(err.THREAD_NOT_FOUND)
    return topic


_TOPIC_COLORS = frozenset({0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F})


@method("createForumTopic")
async def create_forum_topic(state: EmulatorState, bot: BotState, params: Params) -> Any:
    chat = _forum(bot, params)
    name = _topic_name(params, required=True)
    assert name is not None
    color = params.get_int("icon_color")
    if color is not None and color not in _TOPIC_COLORS:
        raise bad_request("TOPIC_ICON_COLOR_INVALID")  # the spec lists six colours
    return chat.new_topic(name, color).to_json()


@method("editForumTopic")
async def edit_forum_topic(state: EmulatorState, bot: BotState, params: Params) -> Any:
    chat = _forum(bot, params)
    topic = _topic(chat, params)
    name = _topic_name(params, required=False)
    if name is not None:
        if name == topic.name:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.name = name
        chat.notifier.notify()
    return True


def _set_closed(bot: BotState, params: Params, closed: bool) -> bool:
    chat = _forum(bot, params)
    topic = _topic(chat, params)
    if topic.closed == closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.closed = closed
    chat.notifier.notify()
    return True


@method("closeForumTopic")
async def close_forum_topic(state: EmulatorState, bot: BotState, params: Params) -> Any:
    return _set_closed(bot, params, True)


@method("reopenForumTopic")
async def reopen_forum_topic(state: EmulatorState, bot: BotState, params: Params) -> Any:
    return _set_closed(bot, params, False)


_RESULT_ID_MAX = 64  # bytes
MAX_INLINE_RESULTS = 50


def _inline_result(state: EmulatorState, raw: Any) -> InlineResult:
    if not isinstance(raw, dict):
        raise bad_request("can't parse inline query result JSON object")
    if raw.get("type") != "article":
        raise bad_request("RESULT_TYPE_INVALID: the emulator models article results only")
    result_id = raw.get("id")
    if not isinstance(result_id, str) or not 1 <= len(result_id.encode()) <= _RESULT_ID_MAX:
        raise bad_request("RESULT_ID_INVALID")
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        raise bad_request("RESULT_TITLE_EMPTY")
    content = raw.get("input_message_content")
    if not isinstance(content, dict) or not isinstance(content.get("message_text"), str):
        raise bad_request("can't parse input message content JSON object")
    inner = Params(
        {
            "text": content["message_text"],
            "parse_mode": content.get("parse_mode"),
            "entities": content.get("entities"),
        },
        {},
    )
    try:
        text, entities = _message_text(state, inner)
    except ApiError as exc:
        if exc.description.endswith(err.MESSAGE_TEXT_EMPTY):
            raise bad_request("MESSAGE_EMPTY") from None
        raise
    description = raw.get("description")
    return InlineResult(
        id=result_id,
        title=title,
        description=description if isinstance(description, str) else None,
        text=text,
        entities=entities,
        reply_markup=parse_reply_markup(raw.get("reply_markup"), inline_only=True),
        raw=raw,
    )


@method("answerInlineQuery")
async def answer_inline_query(state: EmulatorState, bot: BotState, params: Params) -> Any:
    query_id = params.get_str("inline_query_id") or ""
    pending = bot.inline_queries.get(query_id)
    if pending is None or pending.answered:
        raise bad_request(err.QUERY_TOO_OLD)
    results = params.get_json("results")
    if not isinstance(results, list):
        raise bad_request("can't parse inline query results JSON object")
    if len(results) > MAX_INLINE_RESULTS:
        raise bad_request("RESULTS_TOO_MUCH")
    parsed = [_inline_result(state, raw) for raw in results]
    if len({r.id for r in parsed}) != len(parsed):
        raise bad_request("RESULT_ID_DUPLICATE")
    cache_time = params.get_int("cache_time", 300)
    cache_time = 300 if cache_time is None else max(0, cache_time)
    personal = params.get_bool("is_personal")
    answer = InlineAnswer(
        query_id=query_id,
        query=pending.query,
        results=parsed,
        cache_time=cache_time,
        is_personal=personal,
        next_offset=params.get_str("next_offset") or None,
    )
    pending.answered = True
    if cache_time > 0:
        key = (pending.query, pending.user.id if personal else None)
        bot.inline_cache[key] = CachedAnswer(answer, state.clock() + cache_time)
    if not pending.future.done():
        pending.future.set_result(answer)
    return True
