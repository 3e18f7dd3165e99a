"""The per-update context every handler gets: the user (read once), their roles and locale, the
renderer bound to it and the `Screen` to answer on (an outer middleware)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from aiogram.types import User as TgUser

from bot.domain.locale import resolve_locale
from bot.infra.middlewares import ANSWERING
from bot.services.users import UserService
from bot.ui.render import Renderer
from bot.ui.screen import Screen

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def flood_refusal(renderer: Renderer) -> Callable[[str | None], str]:
    """The flood guard's "slow down", in the language of a Telegram language code."""

    def text(language_code: str | None) -> str:
        tr = renderer.bind(resolve_locale(None, language_code))
        return tr._("Too many messages at once. Please wait a few seconds and try again.")

    return text


class ContextMiddleware(BaseMiddleware):
    """Loads the user once per update and binds the renderer to their locale."""

    def __init__(self, users: UserService, renderer: Renderer, default_locale: str) -> None:
        self.users = users
        self.renderer = renderer
        self.default_locale = default_locale

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        token = ANSWERING.set(True)  # what the handler sends answers this user
        try:
            return await self._bind(handler, event, data)
        finally:
            ANSWERING.reset(token)

    async def _bind(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        tg_user: TgUser | None = data.get("event_from_user")
        user = await self.users.get(tg_user.id) if tg_user else None
        if user is not None:
            await self.users.saw(user)
        locale = resolve_locale(
            user.locale if user else None,
            tg_user.language_code if tg_user else None,
            self.default_locale,
        )
        data["user"] = user
        data["roles"] = self.users.roles(tg_user.id, user) if tg_user else frozenset()
        data["locale"] = locale
        data["tr"] = tr = self.renderer.bind(locale)
        chat = data.get("event_chat")
        if tg_user is not None:
            query = event.callback_query if isinstance(event, Update) else None
            data["screen"] = Screen(
                bot=data["bot"],
                chat_id=chat.id if chat else tg_user.id,
                user_id=tg_user.id,
                tr=tr,
                state=data.get("state"),
                user=user,
                query=query,
                roles=data["roles"],
            )
        return await handler(event, data)
