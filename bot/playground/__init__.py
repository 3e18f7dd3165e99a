"""The playground: the bot on the built-in emulator with a web chat (issue 7; being built)."""

from __future__ import annotations

from bot.config import Settings, SettingsError


async def run_playground(settings: Settings) -> None:
    raise SettingsError(
        "BOT_TOKEN is not set: get a token from @BotFather and put BOT_TOKEN=... "
        "into .env (see .env.example)."
    )
