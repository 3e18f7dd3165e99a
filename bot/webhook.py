"""Webhook mode (issue 9; being built)."""

from __future__ import annotations

from bot.config import Settings, SettingsError


async def run_webhook(settings: Settings) -> None:
    raise SettingsError("MODE=webhook is not available yet")
