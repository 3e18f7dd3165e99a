"""The router tree, in an explicit order: errors first, the catch-all fallback last."""

from __future__ import annotations

from aiogram import Router

from handlers import basics, catalog, errors, fallback, language


def build_router() -> Router:
    root = Router(name="root")
    root.include_routers(
        errors.router,
        basics.router,
        language.router,
        catalog.router,
        fallback.router,  # must stay last
    )
    return root
