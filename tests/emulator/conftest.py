"""Fixtures for the emulator's own tests."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from PIL import Image

from bot.emulator import EmulatedUser, Emulator


def png(width: int = 8, height: int = 6, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


class Api:
    """Raw Bot API calls against the emulator (no aiogram in between)."""

    def __init__(self, emu: Emulator, session: aiohttp.ClientSession) -> None:
        self.emu = emu
        self.session = session

    async def call(
        self, method: str, *, token: str | None = None, encoding: str = "json", **params: Any
    ) -> tuple[int, dict[str, Any]]:
        url = self.emu.api_url(method, token)
        if encoding == "json":
            request = self.session.post(url, json=params)
        elif encoding == "form":
            form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
            request = self.session.post(url, data=form)
        elif encoding == "query":
            query = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
            request = self.session.get(url, params=query)
        else:  # pragma: no cover
            raise ValueError(encoding)
        async with request as response:
            body = await response.json()
            return response.status, body

    async def ok(self, method: str, **params: Any) -> Any:
        status, body = await self.call(method, **params)
        assert status == 200, body
        assert body["ok"] is True, body
        return body["result"]

    async def error(self, method: str, **params: Any) -> tuple[int, str]:
        status, body = await self.call(method, **params)
        assert body["ok"] is False, body
        assert status == body["error_code"], (status, body)
        return status, body["description"]


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator() as emulator:
        yield emulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def api(emu: Emulator, http: aiohttp.ClientSession) -> Api:
    return Api(emu, http)


@pytest.fixture
async def bot(emu: Emulator) -> AsyncIterator[Bot]:
    instance = emu.make_bot()
    yield instance
    await instance.session.close()


@pytest.fixture
async def anna(emu: Emulator) -> EmulatedUser:
    """A user who has already started the bot (so the bot may write to her)."""
    user = emu.user(7, first_name="Анна", username="anna")
    await user.send("/start")
    return user
