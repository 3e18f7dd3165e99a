"""The playground: without BOT_TOKEN `python -m bot` runs the bot on the built-in Bot API
emulator and serves a web chat where simulated people talk to it (see `server.py`).

Its data lives apart from a real deployment's: `data/playground/` under the working directory
(or PLAYGROUND_DIR) holds the bot's database (`opora.db`, unless DATABASE_URL is set) and the
chats (`chats.json`, `files/`), so the people, their chats, the bot's clock and what the bot
stored survive a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.config import Settings, SettingsError
from bot.playground.server import Playground

__all__ = ["Playground", "playground_paths", "run_playground"]


def playground_paths(settings: Settings) -> tuple[Settings, Path]:
    """The settings with the playground's own database, and the folder for its chats:
    PLAYGROUND_DIR when set, else beside an explicitly set SQLite database, else
    `data/playground/` in the working directory (where `python -m bot` was started, not where
    the code lies: an installed package or another checkout keeps its data apart)."""
    folder = Path.cwd() / "data" / "playground"
    if settings.playground_dir is not None:
        folder = settings.playground_dir.expanduser().resolve()
    if "database_url" not in settings.model_fields_set:
        database = f"sqlite+aiosqlite:///{folder / 'opora.db'}"
        return settings.model_copy(update={"database_url": database}), folder
    url = make_url(settings.database_url)
    sqlite_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if sqlite_file and settings.playground_dir is None:
        folder = Path(str(url.database)).resolve().parent / "playground"
    return settings, folder


async def run_playground(settings: Settings) -> None:
    """Serve the playground until Ctrl-C or SIGTERM."""
    settings, folder = playground_paths(settings)
    playground = Playground(settings, folder)
    host, port = settings.playground_host, settings.playground_port
    try:
        await playground.start(host, port)
    except OSError as exc:
        raise SettingsError(
            f"the playground cannot listen on {host}:{port} ({exc.strerror or exc}); "
            "set PLAYGROUND_PORT to a free port."
        ) from None
    print(  # noqa: T201 - the address is the point of this command
        f"Опора playground: {playground.where()} — the bot runs on a built-in Telegram "
        "emulator.\n"
        "To connect a real bot, put BOT_TOKEN=<token from @BotFather> into .env "
        "(see .env.example) and run again.",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({stopping, playground.polling}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        for sig in handled:
            loop.remove_signal_handler(sig)
        await playground.stop()
    if playground.polling.done() and not stop.is_set():
        playground.polling.result()  # the bot stopped by itself: say why
