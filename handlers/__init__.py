"""The router tree, in an explicit order: errors first, the catch-all fallback last.

The journey's routers sit under one parent that checks consent on the server for every message
and button, whatever screen it came from.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.types import TelegramObject

from bot.screen import Screen
from handlers import (
    articles,
    basics,
    catalog,
    consent,
    diagnosis,
    errors,
    fallback,
    grants,
    ikigai,
    journey,
    language,
    measures,
    onboarding,
    profile,
    quiz,
    settings,
)


class RequireConsent(BaseMiddleware):
    """Inner middleware: a handler of the journey runs only for a user who consented;
    anyone else gets the consent screen instead (and nothing is stored)."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        screen: Screen | None = data.get("screen")
        if screen is not None and (screen.user is None or not screen.user.consented):
            await journey.start_step("consent", screen, data)
            return None
        return await handler(event, data)


_tree: Router | None = None


def build_router() -> Router:
    """The tree is built once per process (aiogram routers are module singletons); an app built
    again in the same process (tests, a restart) takes it over from the stopped one."""
    global _tree
    if _tree is None:
        _tree = _build()
    _tree._parent_router = None  # detach from a previous, stopped Dispatcher
    return _tree


def _build() -> Router:
    personal = Router(name="personal")
    guard = RequireConsent()
    personal.message.middleware(guard)
    personal.callback_query.middleware(guard)
    personal.include_routers(
        onboarding.router,
        ikigai.router,
        quiz.router,
        diagnosis.router,
        measures.router,
        profile.router,
        settings.router,
    )

    root = Router(name="root")
    root.include_routers(
        errors.router,
        consent.router,
        basics.router,
        language.router,
        catalog.router,
        grants.router,
        articles.router,
        personal,
        fallback.router,  # must stay last
    )
    return root
