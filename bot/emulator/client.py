"""The test-facing side: an emulated Telegram user chatting with the bot.

All waiting is condition-based: coroutines sleep on the chat's notifier and wake up
the moment the bot sends, edits or deletes something. The only window-based wait is
:meth:`EmulatedUser.no_message`, which by its nature has to watch a time window.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from .groups import (
    ADMIN_RIGHTS,
    GROUP_RIGHTS,
    ForumTopic,
    GroupChat,
    InlineAnswer,
    PendingInline,
    post_inline_result,
)
from .html import Entity, finalize, find_bot_commands, merge_auto_entities
from .markup import parse_entities
from .methods import image_size
from .models import CallbackAnswer, ChatMessage
from .state import BotState, Chat, PendingCallback, StoredFile, StoredMessage, UserInfo

if TYPE_CHECKING:
    from .server import Emulator

__all__ = ["EmulatedGroup", "EmulatedUser", "EmulatorTimeout"]


def _chat(chat: Chat | EmulatedGroup) -> Chat:
    return chat.chat if isinstance(chat, EmulatedGroup) else chat


class EmulatorTimeout(AssertionError, TimeoutError):
    """A wait of the test client timed out (an ``AssertionError`` *and* a
    ``TimeoutError``, so both ``pytest`` reports and ``except asyncio.TimeoutError``
    work). The message contains the chat transcript."""


def _tiny_webp() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGBA", (512, 512), (255, 200, 0, 255)).save(buffer, format="WEBP")
    return buffer.getvalue()


class EmulatedUser:
    """A user in a private chat with one bot. Obtain it with ``Emulator.user()``."""

    def __init__(self, emulator: Emulator, info: UserInfo, bot: BotState) -> None:
        self._emulator = emulator
        self.info = info
        self.bot = bot
        self.chat: Chat = bot.chat(info)
        self._cursor = 0

    # ------------------------------------------------------------------ identity

    @property
    def id(self) -> int:
        return self.info.id

    @property
    def chat_id(self) -> int:
        return self.chat.id

    @property
    def first_name(self) -> str:
        return self.info.first_name

    @property
    def username(self) -> str | None:
        return self.info.username

    @property
    def language_code(self) -> str | None:
        return self.info.language_code

    def __repr__(self) -> str:
        return f"EmulatedUser(id={self.id}, bot=@{self.bot.username})"

    # ------------------------------------------------------------------ sending

    def _post(
        self,
        kind: str,
        *,
        text: str = "",
        entities: list[Entity] | None = None,
        file: StoredFile | None = None,
        reply_to: ChatMessage | int | None = None,
    ) -> ChatMessage:
        chat = self.chat
        if chat.blocked:  # writing to a blocked bot = "Restart": Telegram unblocks it
            self._emulator.unblock(self.id, token=self.bot.token)
        chat.started = True
        target: StoredMessage | None = None
        if reply_to is not None:
            target_id = reply_to if isinstance(reply_to, int) else reply_to.message_id
            target = chat.messages.get(target_id)
            if target is None:
                raise ValueError(f"no message #{target_id} in chat {chat.id}")
        message = chat.add_message(
            from_bot=False,
            kind=kind,
            date=self._emulator.state.now(),
            text=text,
            entities=entities,
            file=file,
            reply_to=target,
        )
        self.bot.push_update("message", message.to_json())
        return message.snapshot()

    @staticmethod
    def _format(text: str, entities: list[Entity] | None) -> tuple[str, list[Entity]]:
        plain, ents = finalize(text, parse_entities(entities) if entities else [])
        return plain, merge_auto_entities(ents, find_bot_commands(plain))

    async def send(
        self,
        text: str,
        *,
        entities: list[Entity] | None = None,
        reply_to: ChatMessage | int | None = None,
    ) -> ChatMessage:
        """Send a text message (``/commands`` get a ``bot_command`` entity)."""
        plain, ents = self._format(text, entities)
        if not plain:
            raise ValueError("Telegram clients do not send empty messages")
        return self._post("text", text=plain, entities=ents, reply_to=reply_to)

    async def send_photo(
        self, data: bytes, caption: str | None = None, *, reply_to: ChatMessage | int | None = None
    ) -> ChatMessage:
        """Send a photo; ``data`` must be an image Pillow can read."""
        width, height = image_size(data)
        stored = self._emulator.state.store_file(
            "photo", data, width=width, height=height, mime_type="image/jpeg"
        )
        text, ents = self._format(caption or "", None)
        return self._post("photo", text=text, entities=ents, file=stored, reply_to=reply_to)

    async def send_document(
        self,
        data: bytes,
        filename: str = "document.bin",
        *,
        mime_type: str | None = None,
        caption: str | None = None,
        reply_to: ChatMessage | int | None = None,
    ) -> ChatMessage:
        import mimetypes

        mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        stored = self._emulator.state.store_file(
            "document", data, file_name=filename, mime_type=mime
        )
        text, ents = self._format(caption or "", None)
        return self._post("document", text=text, entities=ents, file=stored, reply_to=reply_to)

    async def send_sticker(self, emoji: str = "👍", data: bytes | None = None) -> ChatMessage:
        stored = self._emulator.state.store_file(
            "sticker",
            data if data is not None else _tiny_webp(),
            width=512,
            height=512,
            emoji=emoji,
            mime_type="image/webp",
        )
        return self._post("sticker", file=stored)

    async def press_reply(self, text: str) -> ChatMessage:
        """Tap a button of the current reply keyboard (sends its text)."""
        keyboard = self.reply_keyboard
        if keyboard is None or text not in [b for row in keyboard for b in row]:
            raise AssertionError(
                f"no reply keyboard button {text!r}; keyboard: {keyboard}\n{self.transcript()}"
            )
        return await self.send(text)

    # ------------------------------------------------------------------ reading

    @property
    def history(self) -> list[ChatMessage]:
        """Visible messages of the chat (edits applied, deleted ones left out)."""
        return [m.snapshot() for m in self.chat.messages.values() if not m.deleted]

    @property
    def all_messages(self) -> list[ChatMessage]:
        """Every message including deleted ones (``deleted=True``)."""
        return [m.snapshot() for m in self.chat.messages.values()]

    @property
    def bot_messages(self) -> list[ChatMessage]:
        return [m.snapshot() for m in self.chat.bot_messages if not m.deleted]

    @property
    def last_bot_message(self) -> ChatMessage | None:
        for message in reversed(self.chat.bot_messages):
            if not message.deleted:
                return message.snapshot()
        return None

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        """Texts of the reply keyboard currently shown (``None`` if none/removed)."""
        for message in reversed(self.chat.bot_messages):
            markup = message.reply_markup
            if markup is None:
                continue
            if "keyboard" in markup:
                return [[button["text"] for button in row] for row in markup["keyboard"]]
            if "remove_keyboard" in markup:
                return None
        return None

    @property
    def last_chat_action(self) -> str | None:
        return self.chat.last_action

    def transcript(self) -> str:
        return self.chat.transcript()

    def current(self, message: ChatMessage | int) -> ChatMessage:
        """The current version of a message."""
        return self._stored(message).snapshot()

    def _stored(self, message: ChatMessage | int) -> StoredMessage:
        message_id = message if isinstance(message, int) else message.message_id
        if isinstance(message, ChatMessage) and message.chat_id != self.chat.id:
            group = self.bot.groups.get(message.chat_id)  # a message the user sees elsewhere
            if group is not None and message_id in group.messages:
                return group.messages[message_id]
        stored = self.chat.messages.get(message_id)
        if stored is None:
            raise AssertionError(f"no message #{message_id} in chat {self.chat.id}")
        return stored

    def skip_pending(self) -> int:
        """Mark every bot message received so far as seen; returns how many."""
        skipped = len(self.chat.bot_messages) - self._cursor
        self._cursor = len(self.chat.bot_messages)
        return skipped

    # ------------------------------------------------------------------ waiting

    def _timeout(self, what: str, timeout: float) -> EmulatorTimeout:
        return EmulatorTimeout(f"{what} within {timeout:g}s\n{self.transcript()}")

    async def next_message(self, timeout: float = 5.0) -> ChatMessage:  # noqa: ASYNC109
        """The next bot message of this chat not yet returned by ``next_message``."""
        chat = self.chat
        cursor = self._cursor
        if not await chat.notifier.wait_for(lambda: len(chat.bot_messages) > cursor, timeout):
            raise self._timeout("no new bot message", timeout)
        message = chat.bot_messages[self._cursor]
        self._cursor += 1
        return message.snapshot()

    async def messages_until(
        self,
        predicate: Callable[[ChatMessage], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[ChatMessage]:
        """Collect next messages up to and including the first matching ``predicate``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        collected: list[ChatMessage] = []
        while True:
            remaining = deadline - loop.time()
            try:
                message = await self.next_message(max(remaining, 0.0))
            except EmulatorTimeout:
                seen = "\n".join(m.describe() for m in collected) or "(none)"
                raise EmulatorTimeout(
                    f"no bot message matched within {timeout:g}s; collected:\n{seen}\n"
                    f"{self.transcript()}"
                ) from None
            collected.append(message)
            if predicate(message):
                return collected

    async def no_message(self, within: float = 0.3) -> None:
        """Assert that no new bot message arrives within ``within`` seconds.

        This is the one window-based wait: absence can only be observed over time.
        It returns early with an ``AssertionError`` as soon as a message arrives.
        """
        chat = self.chat
        cursor = self._cursor
        if await chat.notifier.wait_for(lambda: len(chat.bot_messages) > cursor, within):
            unexpected = chat.bot_messages[cursor].snapshot()
            raise AssertionError(
                f"expected no bot message within {within:g}s, got: {unexpected.describe()}\n"
                f"{self.transcript()}"
            )

    async def wait_edit(
        self,
        message: ChatMessage,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> ChatMessage:
        """Wait until ``message`` is edited (or deleted) after the given snapshot."""
        stored = self._stored(message)
        version, deleted = message.version, message.deleted
        changed = await self.chat.notifier.wait_for(
            lambda: stored.version > version or stored.deleted != deleted, timeout
        )
        if not changed:
            raise self._timeout(f"message #{message.message_id} was not edited", timeout)
        return stored.snapshot()

    async def wait_deleted(
        self,
        message: ChatMessage,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> None:
        stored = self._stored(message)
        if not await self.chat.notifier.wait_for(lambda: stored.deleted, timeout):
            raise self._timeout(f"message #{message.message_id} was not deleted", timeout)

    # ------------------------------------------------------------------ buttons

    def _find_button(
        self, label: str, message: ChatMessage | None
    ) -> tuple[StoredMessage, dict[str, Any]]:
        candidates: list[StoredMessage]
        if message is not None:
            stored = self._stored(message)
            if stored.deleted:
                raise AssertionError(f"message #{message.message_id} is deleted")
            candidates = [stored]
        else:
            candidates = list(reversed(self.chat.bot_messages))
        available: list[str] = []
        for candidate in candidates:
            if candidate.deleted:
                continue
            markup = candidate.inline_markup
            if markup is None:
                continue
            for row in markup["inline_keyboard"]:
                for button in row:
                    if button["text"] == label:
                        return candidate, button
            if not available:
                available = [b["text"] for row in markup["inline_keyboard"] for b in row]
        where = f"message #{message.message_id}" if message is not None else "any bot message"
        raise AssertionError(
            f"no inline button {label!r} on {where}; buttons of the newest keyboard: "
            f"{available}\n{self.transcript()}"
        )

    async def press(
        self,
        label: str,
        *,
        message: ChatMessage | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> CallbackAnswer:
        """Press the inline button with exactly this text on the newest bot message that
        has it (or on ``message``) and wait for ``answerCallbackQuery``."""
        stored, button = self._find_button(label, message)
        data = button.get("callback_data")
        if not isinstance(data, str):
            raise AssertionError(
                f"button {label!r} of message #{stored.message_id} is not a callback button: "
                f"{button}"
            )
        return await self._callback(stored, data, timeout)

    async def press_data(
        self,
        data: str,
        *,
        message: ChatMessage | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> CallbackAnswer:
        """Send a callback query with arbitrary (possibly forged) ``data`` from ``message``
        (default: the newest bot message)."""
        if message is not None:
            stored = self._stored(message)
        else:
            newest = next((m for m in reversed(self.chat.bot_messages) if not m.deleted), None)
            if newest is None:
                raise AssertionError(f"no bot message to press on\n{self.transcript()}")
            stored = newest
        return await self._callback(stored, data, timeout)

    async def _callback(
        self,
        stored: StoredMessage,
        data: str,
        timeout: float,  # noqa: ASYNC109
    ) -> CallbackAnswer:
        state = self._emulator.state
        bot = self.bot
        query_id = state.new_callback_id(bot)
        future: asyncio.Future[CallbackAnswer] = asyncio.get_running_loop().create_future()
        bot.callbacks[query_id] = PendingCallback(query_id, stored.chat, stored, data, future)
        payload: dict[str, Any] = {"id": query_id, "from": self.info.to_json()}
        if stored.inline_message_id is not None:  # a message sent via the bot: no "message"
            payload["inline_message_id"] = stored.inline_message_id
        else:
            payload["message"] = stored.to_json()
        payload["chat_instance"] = stored.chat.chat_instance
        payload["data"] = data
        update = bot.push_update("callback_query", payload)
        if update is None:
            raise AssertionError("the bot's allowed_updates exclude callback_query")
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(future)
        except TimeoutError:
            raise self._timeout(
                f"callback query {data!r} (button on message #{stored.message_id}) was not "
                "answered with answerCallbackQuery",
                timeout,
            ) from None

    # ------------------------------------------------------------------ inline mode & links

    async def inline(
        self,
        query: str,
        *,
        chat: Chat | EmulatedGroup | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> InlineAnswer:
        """Type ``@bot query`` in ``chat`` (default: the private chat with the bot) and wait
        for the results: from Telegram's cache while a previous answer's ``cache_time`` lasts
        (``from_cache=True``, the bot is not asked), else from ``answerInlineQuery``."""
        bot = self.bot
        if not bot.inline_mode:
            raise AssertionError(f"@{bot.username} has no inline mode (BotFather's /setinline)")
        state = self._emulator.state
        target = _chat(chat) if chat is not None else self.chat
        for key in ((query, self.id), (query, None)):
            cached = bot.inline_cache.get(key)
            if cached is not None and cached.expires > state.clock():
                served: InlineAnswer = replace(cached.answer, from_cache=True)
                return served
        query_id = state.new_callback_id(bot)
        future: asyncio.Future[InlineAnswer] = asyncio.get_running_loop().create_future()
        pending = PendingInline(query_id, self.info, query, target, future)
        bot.inline_queries[query_id] = pending
        chat_type = "sender" if target is self.chat else target.type
        update = bot.push_update(
            "inline_query",
            {
                "id": query_id,
                "from": self.info.to_json(),
                "query": query,
                "offset": "",
                "chat_type": chat_type,
            },
        )
        if update is None:
            raise AssertionError("the bot's allowed_updates exclude inline_query")
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(future)
        except TimeoutError:
            raise self._timeout(
                f"inline query {query!r} was not answered with answerInlineQuery", timeout
            ) from None

    async def choose(
        self, answer: InlineAnswer, result_id: str, *, chat: Chat | EmulatedGroup | None = None
    ) -> ChatMessage:
        """Pick a result: it is sent to the chat as the user's message via the bot, and the
        bot gets ``chosen_inline_result`` if its inline feedback is on."""
        bot = self.bot
        pending = bot.inline_queries.get(answer.query_id)
        target = _chat(chat) if chat is not None else (pending.chat if pending else self.chat)
        result = answer.result(result_id)
        state = self._emulator.state
        message = post_inline_result(bot, self.info, target, result, state.now())
        if target is self.chat:  # the bot's own chat: it sees the message
            bot.push_update("message", message.to_json())
        if bot.inline_feedback:
            chosen: dict[str, Any] = {
                "result_id": result_id,
                "from": self.info.to_json(),
                "query": answer.query,
            }
            if message.inline_message_id is not None:
                chosen["inline_message_id"] = message.inline_message_id
            bot.push_update("chosen_inline_result", chosen)
        return message.snapshot()

    async def open_link(self, url: str) -> ChatMessage:
        """Open a ``t.me/<bot>?start=<payload>`` link: the client sends ``/start <payload>``."""
        parsed = urlsplit(url)
        host = parsed.netloc.lower()
        name = parsed.path.strip("/")
        if host not in ("t.me", "telegram.me") or name.lower() != self.bot.username.lower():
            raise AssertionError(f"{url!r} is not a link to @{self.bot.username}")
        payload = parse_qs(parsed.query).get("start", [""])[0]
        return await self.send(f"/start {payload}" if payload else "/start")

    async def press_url(self, label: str, *, message: ChatMessage) -> ChatMessage:
        """Tap a URL button that opens a link to the bot."""
        _, button = self._find_button(label, message)
        url = button.get("url")
        if not isinstance(url, str):
            raise AssertionError(f"button {label!r} is not a URL button: {button}")
        return await self.open_link(url)


def _all_rights(status: str, rights: dict[str, bool]) -> dict[str, bool]:
    if status != "administrator":
        return dict(rights)
    return {name: rights.get(name, True) for name in (*ADMIN_RIGHTS, *GROUP_RIGHTS)}


class EmulatedGroup:
    """A group chat as the test drives it (a ``GroupChat`` underneath: its attributes are
    reachable through this object too). Obtain it with ``Emulator.group()``;
    members post with :meth:`send`, the test reads the bot's messages with
    :meth:`next_message` (a cursor, like a user's chat).

    The bot gets every member's message while it is an administrator (Telegram's rule
    with privacy mode on); otherwise only commands and replies to its own messages.
    """

    def __init__(self, emulator: Emulator, chat: GroupChat) -> None:
        self._emulator = emulator
        self.chat = chat
        self.bot = chat.bot
        self._cursor = 0

    @property
    def id(self) -> int:
        return self.chat.id

    def __repr__(self) -> str:
        return f"EmulatedGroup(id={self.id}, title={self.chat.title!r})"

    # ------------------------------------------------------------------ members & rights

    def add(self, user: EmulatedUser, *, status: str = "member", **rights: bool) -> None:
        """Make ``user`` a member (``status``: member | administrator | creator | left)."""
        self.chat.set_membership(user.id, status, _all_rights(status, rights))

    def set_bot(self, status: str = "administrator", **rights: bool) -> None:
        """The bot's membership: an administrator with every right unless one is set to
        ``False`` (e.g. ``can_manage_topics=False``), or ``member`` / ``left``. Unlike
        ``Emulator.add_bot`` it sends no ``my_chat_member``."""
        self.chat.set_membership(self.bot.id, status, _all_rights(status, rights))

    def __getattr__(self, name: str) -> Any:
        if name == "chat":
            raise AttributeError(name)
        # The rest of the chat's test API (history, current, wait_bot_message, wait_edit…).
        return getattr(self.chat, name)

    # ------------------------------------------------------------------ topics

    @property
    def topics(self) -> list[ForumTopic]:
        return list(self.chat.topics.values())

    def topic(self, name: str) -> ForumTopic:
        for topic in self.chat.topics.values():
            if topic.name == name:
                return topic
        raise AssertionError(f"no topic {name!r}; topics: {[t.name for t in self.topics]}")

    async def wait_topics(self, count: int, timeout: float = 5.0) -> list[ForumTopic]:  # noqa: ASYNC109
        """Wait until the group has at least ``count`` forum topics."""
        chat = self.chat
        if not await chat.notifier.wait_for(lambda: len(chat.topics) >= count, timeout):
            raise EmulatorTimeout(
                f"fewer than {count} topics within {timeout:g}s\n{chat.transcript()}"
            )
        return self.topics

    # ------------------------------------------------------------------ posting

    async def send(
        self,
        user: EmulatedUser,
        text: str,
        *,
        thread_id: int | None = None,
        reply_to: ChatMessage | int | None = None,
    ) -> ChatMessage:
        """``user`` posts ``text`` into the group (into the forum topic ``thread_id``, or
        the topic of the message replied to)."""
        chat = self.chat
        if chat.membership(user.id).status in ("left", "kicked"):
            raise ValueError(f"{user!r} is not a member of {self!r}")
        plain, ents = EmulatedUser._format(text, None)
        if not plain:
            raise ValueError("Telegram clients do not send empty messages")
        target: StoredMessage | None = None
        if reply_to is not None:
            target_id = reply_to if isinstance(reply_to, int) else reply_to.message_id
            target = chat.messages.get(target_id)
            if target is None:
                raise ValueError(f"no message #{target_id} in {self!r}")
            thread_id = thread_id if thread_id is not None else target.thread_id
        if thread_id is not None and thread_id not in chat.topics:
            raise ValueError(f"no topic {thread_id} in {self!r}")
        message = chat.add_message(
            from_bot=False,
            kind="text",
            date=self._emulator.state.now(),
            text=plain,
            entities=ents,
            reply_to=target,
            sender=user.info,
            thread_id=thread_id,
        )
        bot_member = chat.bot_membership()
        sees_all = bot_member.status in ("administrator", "creator")
        to_bot = plain.startswith("/") or (target is not None and target.from_bot)
        if sees_all or to_bot:
            self.bot.push_update("message", message.to_json())
        return message.snapshot()

    async def press(
        self,
        user: EmulatedUser,
        label: str,
        *,
        message: ChatMessage | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> CallbackAnswer:
        """``user`` presses the inline button ``label`` on the newest bot message of the group
        that has it (or on ``message``) and waits for ``answerCallbackQuery``."""
        candidates = (
            [self.chat.messages[message.message_id]]
            if message is not None
            else [m for m in reversed(self.chat.bot_messages) if not m.deleted]
        )
        for stored in candidates:
            markup = stored.inline_markup
            for row in markup["inline_keyboard"] if markup else ():
                for button in row:
                    if button["text"] == label and isinstance(button.get("callback_data"), str):
                        return await self.press_data(
                            user,
                            button["callback_data"],
                            message=stored.snapshot(),
                            timeout=timeout,
                        )
        raise AssertionError(f"no inline button {label!r} in the group\n{self.transcript()}")

    async def press_data(
        self,
        user: EmulatedUser,
        data: str,
        *,
        message: ChatMessage,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> CallbackAnswer:
        """``user`` sends a callback query with (possibly forged) ``data`` from ``message``."""
        state = self._emulator.state
        bot = self.bot
        stored = self.chat.messages[message.message_id]
        query_id = state.new_callback_id(bot)
        future: asyncio.Future[CallbackAnswer] = asyncio.get_running_loop().create_future()
        bot.callbacks[query_id] = PendingCallback(query_id, self.chat, stored, data, future)
        bot.push_update(
            "callback_query",
            {
                "id": query_id,
                "from": user.info.to_json(),
                "message": stored.to_json(),
                "chat_instance": self.chat.chat_instance,
                "data": data,
            },
        )
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(future)
        except TimeoutError:
            raise EmulatorTimeout(
                f"callback query {data!r} in the group was not answered within {timeout:g}s\n"
                f"{self.transcript()}"
            ) from None

    # ------------------------------------------------------------------ reading

    def bot_messages(self, thread_id: int | None = None) -> list[ChatMessage]:
        """The bot's messages (in one topic when ``thread_id`` is given)."""
        return [
            m.snapshot()
            for m in self.chat.bot_messages
            if thread_id is None or m.thread_id == thread_id
        ]

    async def next_message(self, timeout: float = 5.0) -> ChatMessage:  # noqa: ASYNC109
        """The next bot message in the group not yet returned by ``next_message``."""
        chat = self.chat
        cursor = self._cursor
        if not await chat.notifier.wait_for(lambda: len(chat.bot_messages) > cursor, timeout):
            raise EmulatorTimeout(f"no new bot message within {timeout:g}s\n{chat.transcript()}")
        message = chat.bot_messages[self._cursor]
        self._cursor += 1
        return message.snapshot()

    async def no_message(self, within: float = 0.3) -> None:
        """Assert that the bot posts nothing into the group within ``within`` seconds."""
        chat = self.chat
        cursor = self._cursor
        if await chat.notifier.wait_for(lambda: len(chat.bot_messages) > cursor, within):
            unexpected = chat.bot_messages[cursor].snapshot()
            raise AssertionError(
                f"expected no bot message in the group, got: {unexpected.describe()}\n"
                f"{chat.transcript()}"
            )

    def transcript(self) -> str:
        return self.chat.transcript()
