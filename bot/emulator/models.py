"""Plain value objects the emulator hands to tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .html import Entity, render_html


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One Bot API request as the emulator saw it."""

    bot_id: int
    """The number before the colon of the token (0 when the token was malformed)."""
    method: str
    """Canonical method name (``sendMessage``), whatever the case used in the URL."""
    params: dict[str, Any]
    """Parameters after parsing (JSON strings decoded, numbers/booleans converted)."""
    ok: bool
    error_code: int | None
    description: str | None
    time: float
    """Value of the emulator's monotonic clock when the request arrived."""
    result: Any = None
    http_status: int = 200

    @property
    def rejected(self) -> bool:
        """Telegram would have refused it (any 4xx, flood 429 included)."""
        return self.error_code is not None and 400 <= self.error_code < 500


@dataclass(frozen=True, slots=True)
class Button:
    """An inline keyboard button."""

    text: str
    callback_data: str | None = None
    url: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    """What the bot passed to ``answerCallbackQuery``."""

    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    cache_time: int | None = None


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """A snapshot of one message of a private chat, as the user sees it.

    ``text`` holds the text *or* the caption; ``entities`` the matching entities.
    """

    message_id: int
    chat_id: int
    from_bot: bool
    date: int
    kind: str
    """``text``, ``photo``, ``document`` or ``sticker``."""
    text: str
    entities: list[Entity]
    buttons: list[list[Button]]
    reply_keyboard: list[list[str]] | None
    """Button texts of a ``ReplyKeyboardMarkup`` sent with this message."""
    reply_markup: dict[str, Any] | None
    """The markup as stored (inline keyboard, reply keyboard, remove or force reply)."""
    photo: bytes | None = None
    width: int | None = None
    height: int | None = None
    document: bytes | None = None
    file_name: str | None = None
    mime_type: str | None = None
    file_id: str | None = None
    sticker_emoji: str | None = None
    reply_to_message_id: int | None = None
    edited: bool = False
    version: int = 0
    edit_date: int | None = None
    deleted: bool = False
    reactions: tuple[str, ...] = ()
    """The emoji the bot reacted to this message with (``setMessageReaction``)."""
    via_bot: str | None = None
    """The bot's username when a user sent this message through its inline mode."""
    inline_message_id: str | None = None
    sender_id: int | None = None
    """The user who wrote it, for a user's message outside the bot's private chat."""
    thread_id: int | None = None
    """The forum topic (``message_thread_id``) of a group message."""

    @property
    def html(self) -> str:
        """Text (or caption) re-rendered as Telegram-HTML from text + entities."""
        return render_html(self.text, self.entities)

    @property
    def caption(self) -> str | None:
        return self.text if self.kind != "text" else None

    def button_texts(self) -> list[str]:
        return [button.text for row in self.buttons for button in row]

    def button(self, text: str) -> Button:
        for row in self.buttons:
            for button in row:
                if button.text == text:
                    return button
        raise AssertionError(
            f"message #{self.message_id} has no button {text!r}; buttons: {self.button_texts()}"
        )

    def describe(self) -> str:
        """One transcript line."""
        who = "bot " if self.from_bot else "user"
        body = self.text if self.kind == "text" else f"[{self.kind}] {self.text}".rstrip()
        line = f"#{self.message_id} {who}: {body}"
        if self.via_bot:
            line += f"  (via @{self.via_bot})"
        if self.buttons:
            rows = " / ".join(" | ".join(b.text for b in row) for row in self.buttons)
            line += f"  [buttons: {rows}]"
        if self.reply_keyboard:
            rows = " / ".join(" | ".join(row) for row in self.reply_keyboard)
            line += f"  [keyboard: {rows}]"
        if self.edited:
            line += f"  (edited v{self.version})"
        if self.deleted:
            line += "  (deleted)"
        return line
