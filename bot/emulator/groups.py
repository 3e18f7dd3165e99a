"""Inline mode and the chats other than a user's private chat with the bot (a minimal model).

* **Groups and channels** (`GroupChat`): a title, a type (``group``, ``supergroup``,
  ``channel``), an optional public ``@username``, every member's `Membership` (status and an
  administrator's rights) including the bot's (``left`` until a test adds it, which sends
  ``my_chat_member``, or ``Emulator.group(creator=...)`` makes it an administrator), with
  ``can_post_messages`` for a channel, for ``getChatMember``/``getChatAdministrators``. A
  supergroup may be a forum (``is_forum``) with topics (``createForumTopic``,
  ``message_thread_id``); ``EmulatedGroup`` (client.py) lets members post and press buttons.
  The bot sends to and edits its own messages there; a non-member gets Telegram's 403, a
  channel member without the right to post a 400.
* **Chats the bot does not see** (type ``private``: a user's chat with someone else) only
  receive inline results.
* **Inline mode** (BotFather's ``/setinline``, ``/setinlinefeedback``): a user types
  ``@bot query`` in a chat → an ``inline_query`` update; ``answerInlineQuery`` answers it (kept,
  and cached for ``cache_time`` seconds on the emulator's clock, per user when ``is_personal``,
  as Telegram serves a repeated query from its cache without asking the bot); the user picks a
  result → a message from the user ``via_bot`` in that chat, with an ``inline_message_id`` when
  it has an inline keyboard, and a ``chosen_inline_result`` update if inline feedback is on.
  The bot edits such a message by ``inline_message_id`` only; a press on its buttons carries
  ``inline_message_id`` and no ``message``.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
from dataclasses import dataclass, field
from typing import Any

from .html import Entity
from .state import BotState, Chat, StoredMessage, UserInfo

JSON = dict[str, Any]

GROUP_TYPES = frozenset({"group", "supergroup", "channel", "private"})
# ChatMemberAdministrator's booleans every chat has ("can_manage_chat" is on unless told).
ADMIN_RIGHTS = (
    "can_be_edited",
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_send_welcome_messages",  # newer than the stored spec; aiogram requires it
)
GROUP_RIGHTS = ("can_pin_messages", "can_manage_topics")  # groups and supergroups only
CHANNEL_RIGHTS = ("can_post_messages", "can_edit_messages")  # channels only
_OPTIONAL_RIGHTS = (*GROUP_RIGHTS, *CHANNEL_RIGHTS)
# ChatMemberRestricted's booleans (supergroups only): what a restricted member may still do.
RESTRICTED_RIGHTS = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_react_to_messages",
    "can_edit_tag",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
)
DEFAULT_TOPIC_COLOR = 0x6FB9F0
_inline_ids = itertools.count(1)


@dataclass(slots=True)
class ForumTopic:
    message_thread_id: int
    name: str
    icon_color: int = DEFAULT_TOPIC_COLOR
    closed: bool = False

    def to_json(self) -> JSON:
        return {
            "message_thread_id": self.message_thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }


@dataclass(slots=True)
class Membership:
    """One member of a chat: ``status`` is creator | administrator | member | restricted |
    left | kicked; ``rights``: an administrator's or a restricted member's booleans (see
    ``member_json``)."""

    status: str
    rights: dict[str, bool] = field(default_factory=dict)

    def to_json(self, user: JSON) -> JSON:
        return member_json(user, self.status, self.rights)


LEFT = Membership("left")


class GroupChat(Chat):
    """A group, supergroup (a forum with topics when ``is_forum``) or channel, or a private
    chat the bot is not part of. ``members`` holds every user's membership and the bot's own
    (under the bot's id): ``left`` until a test adds the bot."""

    __slots__ = ("chat_type", "invite_links", "is_forum", "members", "title", "topics", "username")

    def __init__(
        self,
        bot: BotState,
        chat_id: int,
        title: str,
        chat_type: str = "supergroup",
        username: str | None = None,
        *,
        is_forum: bool = False,
        creator: UserInfo | None = None,
    ) -> None:
        if chat_type not in GROUP_TYPES:
            raise ValueError(f"unknown chat type {chat_type!r}")
        if is_forum and chat_type != "supergroup":
            raise ValueError("only a supergroup can be a forum")
        super().__init__(bot, UserInfo(id=chat_id, first_name=title))
        self.id = chat_id
        self.title = title
        self.chat_type = chat_type
        self.username = username
        self.is_forum = is_forum
        self.started = True
        self.members: dict[int, Membership] = {}
        if creator is not None:
            self.members[creator.id] = Membership("creator")
        self.topics: dict[int, ForumTopic] = {}
        self.invite_links: list[JSON] = []  # createChatInviteLink's results

    @property
    def type(self) -> str:
        return self.chat_type

    def chat_json(self) -> JSON:
        if self.chat_type == "private":
            return {"id": self.id, "type": "private", "first_name": self.title}
        data: JSON = {"id": self.id, "type": self.chat_type, "title": self.title}
        if self.username:
            data["username"] = self.username
        if self.is_forum:
            data["is_forum"] = True
        return data

    # ------------------------------------------------------------------ membership

    def membership(self, user_id: int) -> Membership:
        return self.members.get(user_id) or LEFT

    def bot_membership(self) -> Membership:
        return self.membership(self.bot.id)

    def set_membership(
        self, user_id: int, status: str, rights: dict[str, bool] | None = None
    ) -> None:
        self.members[user_id] = Membership(status, dict(rights or {}))
        self.notifier.notify()

    @property
    def bot_status(self) -> str:
        return self.bot_membership().status

    @property
    def bot_rights(self) -> dict[str, bool]:
        return self.bot_membership().rights

    # ------------------------------------------------------------------ forum topics

    def new_topic(self, name: str, icon_color: int | None) -> ForumTopic:
        # Telegram's thread id is the id of the «topic created» service message.
        thread_id = self._next_id
        self._next_id += 1
        color = icon_color if icon_color is not None else DEFAULT_TOPIC_COLOR
        topic = ForumTopic(thread_id, name, color)
        self.topics[thread_id] = topic
        self.notifier.notify()
        return topic

    # ------------------------------------------------------------------ for tests

    @property
    def history(self) -> list[Any]:
        return [m.snapshot() for m in self.messages.values() if not m.deleted]

    def current(self, message: Any) -> Any:
        message_id = message if isinstance(message, int) else message.message_id
        return self.messages[message_id].snapshot()

    async def wait_bot_message(self, count: int = 1, timeout: float = 5.0) -> Any:  # noqa: ASYNC109
        """The ``count``-th message the bot sent here (1-based), once it is there."""
        if not await self.notifier.wait_for(lambda: len(self.bot_messages) >= count, timeout):
            raise AssertionError(
                f"no bot message #{count} within {timeout:g}s\n{self.transcript()}"
            )
        return self.bot_messages[count - 1].snapshot()

    async def wait_edit(
        self,
        message: Any,
        timeout: float = 5.0,  # noqa: ASYNC109
        until: Any = None,
    ) -> Any:
        """Wait until ``message`` is edited after the snapshot (and ``until(snapshot)`` holds)."""
        stored = self.messages[message.message_id]
        version = message.version

        def done() -> bool:
            if stored.version <= version:
                return False
            return until is None or bool(until(stored.snapshot()))

        if not await self.notifier.wait_for(done, timeout):
            raise AssertionError(
                f"message #{message.message_id} was not edited as expected within "
                f"{timeout:g}s\n{self.transcript()}"
            )
        return stored.snapshot()

    def transcript(self, limit: int = 30) -> str:
        lines = [f"{self.chat_type} {self.id} «{self.title}» with @{self.bot.username}:"]
        for message in list(self.messages.values())[-limit:]:
            where = f"[topic {message.thread_id}] " if message.thread_id else ""
            who = "" if message.from_bot else f"(from {(message.sender or self.user).id}) "
            lines.append(f"  {where}{who}{message.snapshot().describe()}")
        if len(lines) == 1:
            lines.append("  (no messages)")
        return "\n".join(lines)


def member_json(user: JSON, status: str, rights: dict[str, bool] | None = None) -> JSON:
    """A ``ChatMember`` object for ``status``."""
    data: JSON = {"status": status, "user": user}
    if status == "administrator":
        given = rights or {}
        data["is_anonymous"] = bool(given.get("is_anonymous", False))
        for name in ADMIN_RIGHTS:
            data[name] = bool(given.get(name, name == "can_manage_chat"))
        for name in _OPTIONAL_RIGHTS:
            if name in given:
                data[name] = bool(given[name])
    elif status == "creator":
        data["is_anonymous"] = False
    elif status == "restricted":
        given = rights or {}
        data["is_member"] = bool(given.get("is_member", True))
        for name in RESTRICTED_RIGHTS:
            data[name] = bool(given.get(name, False))
        data["until_date"] = 0
    elif status == "kicked":
        data["until_date"] = 0
    return data


def bot_can_send(chat: GroupChat) -> str | None:
    """Why the bot may not send to ``chat`` (Telegram's error text), or None."""
    if chat.chat_type == "private":
        return "chat not found"
    where = {"channel": "channel", "supergroup": "supergroup"}.get(chat.chat_type, "group")
    if chat.bot_status == "kicked":
        return f"Forbidden: bot was kicked from the {where} chat"
    if chat.bot_status == "left":
        return f"Forbidden: bot is not a member of the {where} chat"
    if chat.bot_status == "restricted" and not chat.bot_rights.get("can_send_messages"):
        return "Bad Request: not enough rights to send text messages to the chat"
    if chat.chat_type == "channel" and not (
        chat.bot_status == "administrator" and chat.bot_rights.get("can_post_messages")
    ):
        return "Bad Request: need administrator rights in the channel chat"
    return None


def find_group(bot: BotState, value: int | str) -> GroupChat | None:
    """A group by id or by its public ``@username``."""
    if isinstance(value, str):
        name = value.strip().removeprefix("@").lower()
        for chat in bot.groups.values():
            if isinstance(chat, GroupChat) and chat.username and chat.username.lower() == name:
                return chat
        return None
    found = bot.groups.get(value)
    return found if isinstance(found, GroupChat) else None


# --------------------------------------------------------------------------- inline mode


@dataclass(frozen=True, slots=True)
class InlineResult:
    """One ``InlineQueryResultArticle`` as the bot answered it (the text already parsed)."""

    id: str
    title: str
    description: str | None
    text: str
    entities: list[Entity]
    reply_markup: JSON | None
    raw: JSON = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class InlineAnswer:
    """What ``answerInlineQuery`` gave (``from_cache``: served by "Telegram" without the bot)."""

    query_id: str
    query: str
    results: list[InlineResult]
    cache_time: int
    is_personal: bool
    next_offset: str | None = None
    from_cache: bool = False

    def titles(self) -> list[str]:
        return [r.title for r in self.results]

    def result(self, result_id: str) -> InlineResult:
        for r in self.results:
            if r.id == result_id:
                return r
        raise AssertionError(
            f"no inline result {result_id!r}; ids: {[r.id for r in self.results]}"
        )


@dataclass(slots=True, eq=False)
class PendingInline:
    id: str
    user: UserInfo
    query: str
    chat: Chat
    future: asyncio.Future[InlineAnswer]
    answered: bool = False


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    answer: InlineAnswer
    expires: float


def new_inline_message_id() -> str:
    raw = f"emu-inline-{next(_inline_ids)}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def post_inline_result(
    bot: BotState, user: UserInfo, chat: Chat, result: InlineResult, date: int
) -> StoredMessage:
    """The chosen result as the user's message in ``chat``, sent via the bot."""
    message = chat.add_message(
        from_bot=False,
        kind="text",
        date=date,
        text=result.text,
        entities=[dict(e) for e in result.entities],
        reply_markup=result.reply_markup,
    )
    message.sender = user
    message.via_bot = True
    if result.reply_markup is not None:
        message.inline_message_id = new_inline_message_id()
        bot.inline_messages[message.inline_message_id] = message
    chat.notifier.notify()
    return message
