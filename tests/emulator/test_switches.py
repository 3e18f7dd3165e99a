"""Test switches: flood control, blocked users, fault injection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from bot.emulator import EmulatedUser, Emulator

from .conftest import Api


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def timed(clock: FakeClock) -> AsyncIterator[Emulator]:
    async with Emulator(clock=clock) as emulator:
        yield emulator


@pytest.fixture
async def timed_api(timed: Emulator) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(timed, session)


async def test_per_chat_flood_limit(timed: Emulator, timed_api: Api, clock: FakeClock) -> None:
    user = timed.user(7)
    await user.send("/start")
    timed.set_flood_limits(chat_rate=1)
    await timed_api.ok("sendMessage", chat_id=7, text="1")
    status, body = await timed_api.call("sendMessage", chat_id=7, text="2")
    assert status == 429
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert timed.flood_429_count == 1
    clock.now += 0.5
    assert (await timed_api.call("sendMessage", chat_id=7, text="2"))[0] == 429
    clock.now += 0.5
    await timed_api.ok("sendMessage", chat_id=7, text="2")
    assert timed.flood_429_count == 2
    assert timed.delivered(7) == 2
    # Flood replies are not "rejections" unless asked for.
    assert timed.rejections() == []
    assert len(timed.rejections(include_flood=True)) == 2


async def test_global_flood_limit_across_chats(
    timed: Emulator, timed_api: Api, clock: FakeClock
) -> None:
    for user_id in (1, 2, 3):
        await timed.user(user_id).send("/start")
    timed.set_flood_limits(global_rate=2, retry_after=5)
    await timed_api.ok("sendMessage", chat_id=1, text="x")
    await timed_api.ok("sendMessage", chat_id=2, text="x")
    status, body = await timed_api.call("sendMessage", chat_id=3, text="x")
    assert (status, body["parameters"]["retry_after"]) == (429, 5)
    assert body["description"] == "Too Many Requests: retry after 5"
    # Non-send methods are not limited.
    await timed_api.ok("getMe")
    await timed_api.ok("sendChatAction", chat_id=3, action="typing")
    clock.now += 0.5  # one token back at 2/s
    await timed_api.ok("sendMessage", chat_id=3, text="x")


async def test_computed_retry_after(timed: Emulator, timed_api: Api) -> None:
    await timed.user(1).send("/start")
    timed.set_flood_limits(chat_rate=0.25, retry_after=None)
    await timed_api.ok("sendMessage", chat_id=1, text="x")
    status, body = await timed_api.call("sendMessage", chat_id=1, text="x")
    assert (status, body["parameters"]["retry_after"]) == (429, 4)


async def test_invalid_requests_do_not_consume_flood_budget(
    timed: Emulator, timed_api: Api
) -> None:
    await timed.user(1).send("/start")
    timed.set_flood_limits(chat_rate=1)
    await timed_api.error("sendMessage", chat_id=1, text="")
    await timed_api.ok("sendMessage", chat_id=1, text="ok")


async def test_aiogram_sees_retry_after(timed: Emulator) -> None:
    await timed.user(1).send("/start")
    timed.set_flood_limits(chat_rate=1, retry_after=3)
    bot = timed.make_bot()
    try:
        await bot.send_message(1, "a")
        with pytest.raises(TelegramRetryAfter) as info:
            await bot.send_message(1, "b")
        assert info.value.retry_after == 3
    finally:
        await bot.session.close()


async def test_blocked_user(emu: Emulator, api: Api, anna: EmulatedUser) -> None:
    await api.ok("getUpdates", offset=-1)
    pending_before = len(emu.pending_updates())
    emu.block(anna.id)
    assert emu.is_blocked(anna.id)
    assert await api.error("sendMessage", chat_id=anna.id, text="hi") == (
        403,
        "Forbidden: bot was blocked by the user",
    )
    assert await api.error("sendChatAction", chat_id=anna.id, action="typing") == (
        403,
        "Forbidden: bot was blocked by the user",
    )
    update = emu.pending_updates()[pending_before]["my_chat_member"]
    assert update["old_chat_member"]["status"] == "member"
    assert update["new_chat_member"]["status"] == "kicked"
    emu.unblock(anna.id)
    await api.ok("sendMessage", chat_id=anna.id, text="hi again")
    assert emu.pending_updates()[-1]["my_chat_member"]["new_chat_member"]["status"] == "member"
    assert len(emu.rejections()) == 2


async def test_writing_to_the_bot_unblocks(emu: Emulator, api: Api, anna: EmulatedUser) -> None:
    emu.block(anna.id, notify=False)
    await anna.send("/start")
    assert not emu.is_blocked(anna.id)
    await api.ok("sendMessage", chat_id=anna.id, text="welcome back")


async def test_aiogram_forbidden(emu: Emulator, bot: Bot, anna: EmulatedUser) -> None:
    emu.block(anna.id)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(anna.id, "x")


async def test_fail_next_calls(emu: Emulator, api: Api) -> None:
    fault = emu.fail_next(2, "getMe")
    await api.ok("getMyCommands")  # other methods are not affected
    for _ in range(2):
        status, body = await api.call("getMe")
        assert status == 500
        assert body == {"ok": False, "error_code": 500, "description": "Internal Server Error"}
    await api.ok("getMe")
    assert fault.hits == 2
    assert emu.pending_faults == []
    assert emu.rejections() == []
    assert len(emu.rejections(include_server_errors=True)) == 2


async def test_fail_any_method_with_custom_status(emu: Emulator, api: Api) -> None:
    emu.fail_next(status=502, description="Bad Gateway")
    status, body = await api.call("getUpdates")
    assert (status, body["description"]) == (502, "Bad Gateway")
    await api.ok("getUpdates")


async def test_aiogram_server_error(emu: Emulator, bot: Bot) -> None:
    emu.fail_next(method="getme")
    with pytest.raises(TelegramServerError):
        await bot.get_me()


async def test_delay_next(emu: Emulator, api: Api) -> None:
    loop = asyncio.get_running_loop()
    emu.delay_next(0.2, method="getMe")
    started = loop.time()
    await api.ok("getMe")
    assert loop.time() - started >= 0.2
    started = loop.time()
    await api.ok("getMe")
    assert loop.time() - started < 0.2


async def test_drop_next(emu: Emulator, api: Api, bot: Bot) -> None:
    emu.drop_next(2, method="getMe")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.call("getMe")
    with pytest.raises(TelegramNetworkError):
        await bot.get_me()
    assert (await bot.get_me()).username == "opora_test_bot"
    dropped = [call for call in emu.calls if call.error_code == 0]
    assert len(dropped) == 2


async def test_clear_faults(emu: Emulator, api: Api) -> None:
    emu.fail_next(5)
    emu.clear_faults()
    await api.ok("getMe")
    with pytest.raises(ValueError, match="positive"):
        emu.fail_next(0)
