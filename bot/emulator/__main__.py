"""Run the emulator standalone: ``python -m bot.emulator --host 127.0.0.1 --port 8081``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from .server import DEFAULT_TOKEN, Emulator


async def _serve(args: argparse.Namespace) -> None:
    emulator = Emulator(bot_username=args.username, token=args.token)
    await emulator.start(host=args.host, port=args.port)
    sys.stdout.write(f"{emulator.base_url}\n")
    sys.stdout.write(
        f"Telegram Bot API emulator listening on {emulator.base_url} "
        f"(default token {emulator.token}, bot @{args.username})\n"
    )
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await emulator.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--username", default="opora_test_bot", help="bot username")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="default bot token")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
