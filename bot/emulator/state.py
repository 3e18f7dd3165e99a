"""In-memory state of the emulated Telegram: bots, users, chats, messages, updates."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import math
import mimetypes
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import too_many_requests
from .html import Entity
from .models import Button, CallbackAnswer, ChatMessage

JSON = dict[str, Any]
Clock = Callable[[], float]

ALL_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
# Telegram's default when allowed_updates was never set (or set to []).
DEFAULT_UPDATE_TYPES = ALL_UPDATE_TYPES - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}


class Notifier:
    """Wakes every coroutine waiting in :meth:`wait_for` when :meth:`notify` is called."""

    __slots__ = ("_listeners", "_waiters")

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener()`` on every :meth:`notify` (e.g. a chat's messages were sent,
        edited or deleted); returns the function that unsubscribes it. Keep listeners
        quick and exception-free: they run inside the Bot API call that changed the chat."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def notify(self) -> None:
        for listener in tuple(self._listeners):
            listener()
        if not self._waiters:
            return
        waiters, self._waiters = self._waiters, set()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_for(self, predicate: Callable[[], bool], seconds: float) -> bool:
        """Wait until ``predicate()`` is true (re-checked on each notify) or ``seconds``
        have passed. Returns the final value of ``predicate()``.
        """
        if predicate():
            return True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return predicate()
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.add(waiter)
            try:
                async with asyncio.timeout(remaining):
                    await waiter
            except TimeoutError:
                return predicate()
            finally:
                self._waiters.discard(waiter)
            if predicate():
                return True


# --------------------------------------------------------------------------- users & files


@dataclass(slots=True)
class UserInfo:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_premium: bool = False

    def to_json(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        if self.is_premium:
            data["is_premium"] = True
        return data

    def chat_json(self) -> JSON:
        data: JSON = {"id": self.id, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        data["type"] = "private"
        return data


@dataclass(slots=True, eq=False)
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # photo | document | sticker
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    emoji: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)

    def photo_json(self) -> list[JSON]:
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "file_size": self.size,
                "width": self.width or 0,
                "height": self.height or 0,
            }
        ]

    def document_json(self) -> JSON:
        data: JSON = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        if self.file_name:
            data["file_name"] = self.file_name
        if self.mime_type:
            data["mime_type"] = self.mime_type
        data["file_size"] = self.size
        return data

    def sticker_json(self) -> JSON:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "type": "regular",
            "width": self.width or 512,
            "height": self.height or 512,
            "is_animated": False,
            "is_video": False,
            "emoji": self.emoji or "👍",
            "file_size": self.size,
        }

    def file_json(self) -> JSON:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }


# --------------------------------------------------------------------------- messages & chats


@dataclass(slots=True, eq=False)
class StoredMessage:
    chat: Chat
    message_id: int
    from_bot: bool
    date: int
    kind: str  # text | photo | document | sticker
    text: str = ""
    entities: list[Entity] = field(default_factory=list)
    reply_markup: JSON | None = None
    file: StoredFile | None = None
    reply_to: StoredMessage | None = None
    protect_content: bool = False
    version: int = 0
    edit_date: int | None = None
    deleted: bool = False
    reactions: list[str] = field(default_factory=list)  # the bot's reaction emoji
    # A user's message outside the bot's private chat (a group, an inline result): its author.
    sender: UserInfo | None = None
    via_bot: bool = False  # sent by ``sender`` through the bot's inline mode
    inline_message_id: str | None = None  # an inline result with a keyboard: the bot edits it
    thread_id: int | None = None  # forum topic (``message_thread_id``) in a group

    @property
    def inline_markup(self) -> JSON | None:
        markup = self.reply_markup
        if markup is not None and "inline_keyboard" in markup:
            return markup
        return None

    def to_json(self, *, with_reply: bool = True) -> JSON:
        chat = self.chat
        data: JSON = {"message_id": self.message_id}
        if self.from_bot and chat.type == "channel":
            data["sender_chat"] = chat.chat_json()  # a channel post has no "from"
        elif self.from_bot:
            data["from"] = chat.bot.user_json()
        else:
            data["from"] = (self.sender or chat.user).to_json()
        data["chat"] = chat.chat_json()
        data["date"] = self.date
        if self.via_bot:
            data["via_bot"] = chat.bot.user_json()
        if self.thread_id is not None:
            data["message_thread_id"] = self.thread_id
            data["is_topic_message"] = True
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.protect_content:
            data["has_protected_content"] = True
        if with_reply and self.reply_to is not None:
            data["reply_to_message"] = self.reply_to.to_json(with_reply=False)
        if self.kind == "text":
            data["text"] = self.text
            if self.entities:
                data["entities"] = self.entities
        else:
            file = self.file
            assert file is not None
            if self.kind == "photo":
                data["photo"] = file.photo_json()
            elif self.kind == "document":
                data["document"] = file.document_json()
            elif self.kind == "sticker":
                data["sticker"] = file.sticker_json()
            if self.text:
                data["caption"] = self.text
                if self.entities:
                    data["caption_entities"] = self.entities
        inline = self.inline_markup
        if inline is not None:
            data["reply_markup"] = inline
        return data

    def snapshot(self) -> ChatMessage:
        markup = self.reply_markup
        buttons: list[list[Button]] = []
        reply_keyboard: list[list[str]] | None = None
        if markup is not None:
            if "inline_keyboard" in markup:
                buttons = [
                    [
                        Button(
                            text=b["text"],
                            callback_data=b.get("callback_data"),
                            url=b.get("url"),
                            raw=b,
                        )
                        for b in row
                    ]
                    for row in markup["inline_keyboard"]
                ]
            elif "keyboard" in markup:
                reply_keyboard = [[b["text"] for b in row] for row in markup["keyboard"]]
        file = self.file
        return ChatMessage(
            message_id=self.message_id,
            chat_id=self.chat.id,
            from_bot=self.from_bot,
            date=self.date,
            kind=self.kind,
            text=self.text,
            entities=[dict(e) for e in self.entities],
            buttons=buttons,
            reply_keyboard=reply_keyboard,
            reply_markup=markup,
            photo=file.data if file is not None and self.kind == "photo" else None,
            width=file.width if file is not None else None,
            height=file.height if file is not None else None,
            document=file.data if file is not None and self.kind == "document" else None,
            file_name=file.file_name if file is not None else None,
            mime_type=file.mime_type if file is not None else None,
            file_id=file.file_id if file is not None else None,
            sticker_emoji=file.emoji if file is not None and self.kind == "sticker" else None,
            reply_to_message_id=self.reply_to.message_id if self.reply_to is not None else None,
            edited=self.edit_date is not None,
            version=self.version,
            edit_date=self.edit_date,
            deleted=self.deleted,
            reactions=tuple(self.reactions),
            via_bot=self.chat.bot.username if self.via_bot else None,
            inline_message_id=self.inline_message_id,
            sender_id=self.sender.id if self.sender is not None else None,
            thread_id=self.thread_id,
        )


class Chat:
    """The private chat between one user and one bot."""

    __slots__ = (
        "_next_id",
        "blocked",
        "bot",
        "bot_messages",
        "chat_instance",
        "delivered",
        "id",
        "last_action",
        "messages",
        "notifier",
        "started",
        "user",
    )

    def __init__(self, bot: BotState, user: UserInfo) -> None:
        self.bot = bot
        self.user = user
        self.id = user.id
        self.started = False
        self.blocked = False
        self.messages: dict[int, StoredMessage] = {}
        self.bot_messages: list[StoredMessage] = []
        self.notifier = Notifier()
        self.delivered = 0
        self.last_action: str | None = None
        digest = hashlib.blake2b(f"{bot.id}:{user.id}".encode(), digest_size=8).digest()
        self.chat_instance = str(int.from_bytes(digest, "big", signed=True))
        self._next_id = 1

    @property
    def type(self) -> str:
        return "private"

    def chat_json(self) -> JSON:
        return self.user.chat_json()

    def add_message(
        self,
        *,
        from_bot: bool,
        kind: str,
        date: int,
        text: str = "",
        entities: list[Entity] | None = None,
        reply_markup: JSON | None = None,
        file: StoredFile | None = None,
        reply_to: StoredMessage | None = None,
        protect_content: bool = False,
        sender: UserInfo | None = None,
        thread_id: int | None = None,
    ) -> StoredMessage:
        message = StoredMessage(
            chat=self,
            message_id=self._next_id,
            from_bot=from_bot,
            date=date,
            kind=kind,
            text=text,
            entities=entities or [],
            reply_markup=reply_markup,
            file=file,
            reply_to=reply_to,
            protect_content=protect_content,
            sender=sender,
            thread_id=thread_id,
        )
        self._next_id += 1
        self.messages[message.message_id] = message
        if from_bot:
            self.bot_messages.append(message)
            self.delivered += 1
        self.notifier.notify()
        return message

    def transcript(self, limit: int = 30) -> str:
        lines = [f"chat {self.id} with @{self.bot.username} (bot id {self.bot.id}):"]
        messages = list(self.messages.values())
        if len(messages) > limit:
            lines.append(f"  ... {len(messages) - limit} earlier messages")
            messages = messages[-limit:]
        lines.extend("  " + message.snapshot().describe() for message in messages)
        if len(lines) == 1:
            lines.append("  (no messages)")
        return "\n".join(lines)


@dataclass(slots=True, eq=False)
class PendingCallback:
    id: str
    chat: Chat
    message: StoredMessage | None
    data: str | None
    future: asyncio.Future[CallbackAnswer]
    answered: bool = False


@dataclass(slots=True)
class WebhookConfig:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None
    allowed_updates: list[str] | None = None


class PollTicket:
    """One waiting ``getUpdates`` call; a newer call terminates it with 409."""

    __slots__ = ("terminated",)

    def __init__(self) -> None:
        self.terminated = False


class BotState:
    """Everything Telegram keeps for one bot token."""

    def __init__(self, token: str, username: str, first_name: str) -> None:
        self.token = token
        self.id = int(token.split(":", 1)[0])
        self.username = username
        self.first_name = first_name
        self.updates: deque[JSON] = deque()
        self.next_update_id = 1
        self.update_notifier = Notifier()
        # Notified on any observable change (polls starting/ending, webhook attempts,
        # updates queued or confirmed); lets tests wait for server-side conditions.
        self.activity = Notifier()
        self.allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self.webhook: WebhookConfig | None = None
        self.webhook_last_error_date: int | None = None
        self.webhook_last_error_message: str | None = None
        self.webhook_deliveries = 0
        self.webhook_failures = 0
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.descriptions: dict[str, str] = {}
        self.short_descriptions: dict[str, str] = {}
        self.chats: dict[int, Chat] = {}
        self.callbacks: dict[str, PendingCallback] = {}
        self.poll: PollTicket | None = None
        # Inline mode (BotFather's /setinline and /setinlinefeedback), see groups.py.
        self.inline_mode = False
        self.inline_feedback = False
        self.inline_queries: dict[str, Any] = {}  # id -> groups.PendingInline
        self.inline_cache: dict[tuple[str, int | None], Any] = {}  # -> groups.CachedAnswer
        self.inline_messages: dict[str, StoredMessage] = {}
        # Chats other than the users' private ones (groups, channels), see groups.py.
        self.groups: dict[int, Chat] = {}

    def user_json(self) -> JSON:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def me_json(self) -> JSON:
        data = self.user_json()
        data.update(
            {
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": self.inline_mode,
                "can_connect_to_business": False,
                "has_main_web_app": False,
            }
        )
        return data

    def chat(self, user: UserInfo) -> Chat:
        chat = self.chats.get(user.id)
        if chat is None:
            chat = self.chats[user.id] = Chat(self, user)
        return chat

    def push_update(self, kind: str, payload: JSON) -> JSON | None:
        """Queue an update unless ``allowed_updates`` filters it out."""
        if kind not in self.allowed_updates:
            return None
        update = {"update_id": self.next_update_id, kind: payload}
        self.next_update_id += 1
        self.updates.append(update)
        self.update_notifier.notify()
        self.activity.notify()
        return update

    def confirm(self, offset: int) -> None:
        """``getUpdates`` offset semantics: forget updates with smaller ids."""
        updates = self.updates
        if offset < 0:
            keep = -offset
            while len(updates) > keep:
                updates.popleft()
            return
        while updates and updates[0]["update_id"] < offset:
            updates.popleft()
        self.activity.notify()

    def drop_pending(self) -> None:
        self.updates.clear()


# --------------------------------------------------------------------------- flood control


class _Bucket:
    __slots__ = ("tokens", "updated")

    def __init__(self, tokens: float, now: float) -> None:
        self.tokens = tokens
        self.updated = now


DEFAULT_FLOOD_METHODS = frozenset({"sendmessage", "sendphoto", "senddocument", "sendsticker"})


class FloodControl:
    """Token buckets keyed by bot (global rate) and by (bot, chat) (per-chat rate).

    Rates are requests per second; ``burst`` is the bucket size (defaults to the rate,
    at least 1). Disabled while both rates are ``None``.
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.global_rate: float | None = None
        self.chat_rate: float | None = None
        self.global_burst: float | None = None
        self.chat_burst: float | None = None
        self.retry_after: int | None = 1
        self.methods: set[str] = set(DEFAULT_FLOOD_METHODS)
        self.rejected = 0
        self._global: dict[tuple[int, int], _Bucket] = {}
        self._chat: dict[tuple[int, int], _Bucket] = {}

    def configure(
        self,
        *,
        global_rate: float | None,
        chat_rate: float | None,
        retry_after: int | None,
        global_burst: float | None,
        chat_burst: float | None,
    ) -> None:
        self.global_rate = global_rate
        self.chat_rate = chat_rate
        self.retry_after = retry_after
        self.global_burst = global_burst
        self.chat_burst = chat_burst
        self._global.clear()
        self._chat.clear()

    @property
    def enabled(self) -> bool:
        return self.global_rate is not None or self.chat_rate is not None

    @staticmethod
    def _refill(bucket: _Bucket, rate: float, capacity: float, now: float) -> None:
        elapsed = now - bucket.updated
        if elapsed > 0:
            bucket.tokens = min(capacity, bucket.tokens + elapsed * rate)
        bucket.updated = now

    def check(self, bot_id: int, chat_id: int) -> None:
        """Consume one send for ``(bot, chat)`` or raise the 429 error."""
        if self.global_rate is None and self.chat_rate is None:
            return
        now = self.clock()
        waits: list[float] = []
        buckets: list[_Bucket] = []
        for rate, burst, table, key in (
            (self.global_rate, self.global_burst, self._global, (bot_id, 0)),
            (self.chat_rate, self.chat_burst, self._chat, (bot_id, chat_id)),
        ):
            if rate is None:
                continue
            capacity = max(1.0, burst if burst is not None else rate)
            bucket = table.get(key)
            if bucket is None:
                bucket = _Bucket(capacity, now)
                table[key] = bucket
            else:
                self._refill(bucket, rate, capacity, now)
            if bucket.tokens < 1.0:
                waits.append((1.0 - bucket.tokens) / rate if rate > 0 else math.inf)
            buckets.append(bucket)
        if waits:
            self.rejected += 1
            retry_after = self.retry_after
            if retry_after is None:
                longest = max(waits)
                retry_after = max(1, math.ceil(longest)) if math.isfinite(longest) else 3600
            raise too_many_requests(retry_after)
        for bucket in buckets:
            bucket.tokens -= 1.0


# --------------------------------------------------------------------------- whole world


class EmulatorState:
    def __init__(self, *, username: str, first_name: str, clock: Clock) -> None:
        self.default_username = username
        self.default_first_name = first_name
        self.clock = clock
        self.wall_clock: Callable[[], float] = time.time
        self.bots: dict[str, BotState] = {}
        self.bot_names: dict[str, tuple[str | None, str | None]] = {}
        self.users: dict[int, UserInfo] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.flood = FloodControl(clock)
        self.closing = False
        self.on_webhook_change: Callable[[BotState], None] | None = None
        self._file_seq = itertools.count(1)
        self._callback_seq = itertools.count(1)

    def now(self) -> int:
        return int(self.wall_clock())

    def bot(self, token: str) -> BotState:
        bot = self.bots.get(token)
        if bot is None:
            username, first_name = self.bot_names.get(token, (None, None))
            bot = BotState(
                token,
                username or self.default_username,
                first_name or self.default_first_name,
            )
            self.bots[token] = bot
        return bot

    def user_info(self, user_id: int, **fields: Any) -> UserInfo:
        info = self.users.get(user_id)
        if info is None:
            info = self.users[user_id] = UserInfo(id=user_id, **fields)
        return info

    def store_file(
        self,
        kind: str,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
        emoji: str | None = None,
        file_id: str | None = None,
    ) -> StoredFile:
        """Keep ``data`` as a file; ``file_id`` restores a file saved by an earlier run."""
        seq = next(self._file_seq)
        unique = hashlib.blake2b(data, digest_size=12).hexdigest()
        if kind == "photo":
            path = f"photos/file_{seq}.jpg"
        elif kind == "sticker":
            path = f"stickers/file_{seq}.webp"
        else:
            ext = ""
            if file_name and "." in file_name:
                ext = file_name.rsplit(".", 1)[1][:16]
            elif mime_type:
                guessed = mimetypes.guess_extension(mime_type)
                ext = guessed[1:] if guessed else ""
            path = f"documents/file_{seq}" + (f".{ext}" if ext else "")
        stored = StoredFile(
            file_id=file_id or f"EMU{kind[:3].upper()}{seq:06d}-{unique[:10]}",
            file_unique_id=f"U{unique[:15]}",
            kind=kind,
            data=data,
            file_path=path,
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
            emoji=emoji,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[path] = stored
        return stored

    def new_callback_id(self, bot: BotState) -> str:
        return str(bot.id * 1_000_003 % 10**9 * 10**9 + next(self._callback_seq))
