"""`python -m bot` runs the bot: against Telegram with BOT_TOKEN (long polling, or webhooks with
MODE=webhook), or without a token as the playground — the bot on the built-in emulator with a web
chat in the browser. `python -m bot migrate` applies migrations only; `python -m bot worker`
runs the planner apart (bot/worker.py, docs/deploy.md)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import TYPE_CHECKING

# The bot's own modules are imported where they are used: a picture process (bot/ui/painter.py)
# imports this module again, as its parent's main module, and needs none of them.
if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger("bot")


def _settings() -> Settings:
    from pydantic import ValidationError

    from bot.config import Settings, SettingsError

    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise SettingsError(f"{name} is invalid: {first['msg']} (see .env.example).") from None


async def _migrate(settings: Settings) -> None:
    from bot.infra.db import make_engine, migrate

    engine = make_engine(settings.database_url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


async def _run(settings: Settings) -> None:
    if settings.bot_token is None:
        from bot.playground import run_playground

        await run_playground(settings)
        return
    settings.token()  # a malformed token fails before anything is built
    if settings.mode == "webhook":
        from bot.webhook import run_webhook

        await run_webhook(settings)
        return
    from bot.app import create_app

    app = create_app(settings)
    log.info("starting", extra={"api": settings.telegram_api_base or "telegram"})
    await app.run_polling()
    log.info("stopped")


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    if given[:1] == ["worker"]:  # the planner apart: no aiogram, its own options
        from bot import worker

        return worker.main(given[1:])
    parser = argparse.ArgumentParser(prog="python -m bot", description="Опора, the Telegram bot")
    parser.add_argument("command", nargs="?", default="run", choices=["run", "migrate", "worker"])
    args = parser.parse_args(argv)
    from bot.config import SettingsError
    from bot.content import ContentError
    from bot.infra import gc as collector
    from bot.infra.logs import setup_logging

    # Start-up builds hundreds of thousands of objects and no garbage: no collections until
    # `App.prepare` freezes what it built (bot/infra/gc.py).
    collector.pause()
    try:
        settings = _settings()
        setup_logging(settings.log_level, settings.log_format)
        if args.command == "migrate":
            asyncio.run(_migrate(settings))
        else:
            if settings.bot_token is not None:
                settings.token()  # fail fast, before anything is built
                settings.require_operator()
            asyncio.run(_run(settings))
    except (SettingsError, ContentError) as exc:
        print(f"opora: {exc}", file=sys.stderr)  # noqa: T201 - the one clear line
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
