"""Pieces for running several bot instances in tests and benchmarks: a free port, a bot
process (`python -m bot`) with its log in a file, and a round-robin proxy that stands where a
load balancer would, between Telegram (the emulator) and the instances."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
SECRET = "scale-test_secret-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_until(
    condition: Callable[[], Awaitable[bool] | bool],
    timeout: float,  # noqa: ASYNC109
    what: str,
    every: float = 0.05,
) -> None:
    """Wait for `condition` to hold (checked every `every` s); AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(every)


@dataclass
class BotProcess:
    """`python -m bot` in a subprocess; its stderr (JSON log lines) goes to `log_path`."""

    name: str
    port: int
    log_path: Path
    process: asyncio.subprocess.Process

    @classmethod
    async def start(cls, name: str, env: dict[str, str], directory: Path) -> BotProcess:
        port = int(env.get("WEBHOOK_PORT", "0"))
        log_path = directory / f"{name}.log"
        full = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PYTEST"))},
            "PYTHONPATH": str(ROOT),
            "LOG_FORMAT": "json",
            **env,
        }
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=directory, env=full, stderr=log,
                stdout=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
        return cls(name, port, log_path, process)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def healthy(self) -> bool:
        try:
            async with aiohttp.ClientSession() as session, session.get(
                f"{self.url}/healthz", timeout=aiohttp.ClientTimeout(total=2)
            ) as response:
                return response.status == 200
        except (aiohttp.ClientError, OSError, TimeoutError):
            if self.process.returncode is not None:
                raise AssertionError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
                ) from None
            return False

    def events(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"event": line})
        return out

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    async def terminate(self, timeout: float = 30) -> int:  # noqa: ASYNC109
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), timeout)

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()


@dataclass
class RoundRobinProxy:
    """An HTTP proxy for the webhook: each call goes to the next backend; one that does not
    answer or answers 503 (shutting down) is skipped for the next, as a load balancer's
    health checks would. `served` counts the calls each backend answered."""

    backends: list[str]
    path: str = "/telegram"
    served: Counter[str] = field(default_factory=Counter)
    _turn: int = 0
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_post(self.path, self._forward)
        self._session = aiohttp.ClientSession()
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        headers = {
            k: v for k, v in request.headers.items() if k.lower() in {"content-type"}
            or k.lower().startswith("x-telegram")
        }  # fmt: skip
        for _ in range(len(self.backends)):
            backend = self.backends[self._turn % len(self.backends)]
            self._turn += 1
            try:
                async with self._session.post(
                    backend + self.path, data=body, headers=headers,
                    timeout=aiohttp.ClientTimeout(total=10),
                ) as response:  # fmt: skip
                    if response.status == 503:
                        continue
                    payload = await response.read()
                    self.served[backend] += 1
                    return web.Response(
                        status=response.status, body=payload, content_type=response.content_type
                    )
            except (aiohttp.ClientError, OSError, TimeoutError):
                continue
        return web.Response(status=502, text="no backend answered")
