"""The playground served on a free port with its data in tmp_path, and a page's WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.config import Settings
from bot.playground import Playground

ANNA, BORIS, VERA = 700001, 700002, 700003  # the activist, the volunteer, the coordinator
Event = dict[str, Any]


def playground_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "polling_timeout": 5,
        "flood_burst": 1000,  # scripted pages are faster than people
        **overrides,
    }
    return Settings(_env_file=None, **values)


class Page:
    """What a browser tab would get over the WebSocket, with condition-based waits."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.events: list[Event] = []
        self._taken: set[int] = set()
        self._refs = 0

    async def _receive(self, timeout: float) -> Event:  # noqa: ASYNC109
        frame = await self.ws.receive(timeout=timeout)
        if frame.type != aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"the socket closed: {frame.type}")
        event: Event = json.loads(frame.data)
        self.events.append(event)
        return event

    async def wait(self, predicate: Callable[[Event], bool], timeout: float = 15) -> Event:  # noqa: ASYNC109
        """The first matching event not returned before (waiting for it if need be)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for index, event in enumerate(self.events):
                if index not in self._taken and predicate(event):
                    self._taken.add(index)
                    return event
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = "\n".join(json.dumps(e, ensure_ascii=False)[:300] for e in self.events)
                raise AssertionError(f"no matching event within {timeout}s; got:\n{seen}")
            try:
                await self._receive(remaining)
            except TimeoutError:
                continue

    async def message(self, person: int, contains: str, timeout: float = 15) -> Event:  # noqa: ASYNC109
        """The next drawn message of `person` whose HTML contains `contains`."""
        event = await self.wait(
            lambda e: (
                e["type"] == "message"
                and e.get("person") == person  # a group's message names its group instead
                and contains in e["message"].get("html", "")
            ),
            timeout,
        )
        message: Event = event["message"]
        return message

    async def send(self, person: int, text: str) -> None:
        await self.ws.send_json({"type": "send", "person": person, "text": text})

    async def press(self, person: int, message: Event, label: str) -> Event:
        """Press the button with this label; returns the answer event."""
        for row in message["buttons"]:
            for button in row:
                if button["text"] == label:
                    self._refs += 1
                    ref = self._refs
                    await self.ws.send_json(
                        {
                            "type": "press",
                            "person": person,
                            "message": message["id"],
                            "data": button["data"],
                            "ref": ref,
                        }
                    )
                    return await self.wait(_answer_to(ref))
        labels = [b["text"] for row in message["buttons"] for b in row]
        raise AssertionError(f"no button {label!r} on message #{message['id']}: {labels}")


def _answer_to(ref: int) -> Callable[[Event], bool]:
    return lambda e: e["type"] == "answer" and e["ref"] == ref


@contextlib.asynccontextmanager
async def serving(tmp_path: Path, host: str = "127.0.0.1") -> AsyncIterator[Playground]:
    """The playground on `host` and a free port, with its data in tmp_path."""
    served = Playground(playground_settings(tmp_path), tmp_path / "playground")
    await served.start(host, 0)
    try:
        yield served
    finally:
        await served.stop()


@pytest.fixture
async def playground(tmp_path: Path) -> AsyncIterator[Playground]:
    async with serving(tmp_path) as served:
        yield served


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def open_page(http: aiohttp.ClientSession, served: Playground) -> Page:
    assert served.url is not None
    ws = await http.ws_connect(served.url + "/ws")
    page = Page(ws)
    await page.wait(lambda e: e["type"] == "state")
    return page
