"""A Telegram Bot API emulator over real HTTP, for end-to-end tests and benchmarks.

Typical use::

    async with Emulator() as emu:
        bot = emu.make_bot()  # or Bot(emu.token, session=AiohttpSession(
                              #     api=TelegramAPIServer.from_base(emu.base_url)))
        user = emu.user(7, first_name="Анна")
        await user.send("/start")
        reply = await user.next_message()
"""

from . import invite_links  # noqa: F401  (registers createChatInviteLink)
from .client import EmulatedGroup, EmulatedUser, EmulatorTimeout
from .errors import ApiError
from .groups import GroupChat, InlineAnswer, InlineResult
from .html import EntityParseError, parse_html, render_html
from .models import ApiCall, Button, CallbackAnswer, ChatMessage
from .server import DEFAULT_TOKEN, Emulator, Fault

__all__ = [
    "DEFAULT_TOKEN",
    "ApiCall",
    "ApiError",
    "Button",
    "CallbackAnswer",
    "ChatMessage",
    "EmulatedGroup",
    "EmulatedUser",
    "Emulator",
    "EmulatorTimeout",
    "EntityParseError",
    "Fault",
    "GroupChat",
    "InlineAnswer",
    "InlineResult",
    "parse_html",
    "render_html",
]
