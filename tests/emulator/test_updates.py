"""getUpdates (long polling) and webhooks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from bot.emulator import EmulatedUser, Emulator

from .conftest import Api

WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)


async def test_get_updates_offset_and_limit(api: Api, emu: Emulator) -> None:
    user = emu.user(1)
    for text in ("a", "b", "c"):
        await user.send(text)
    updates = await api.ok("getUpdates")
    assert [u["message"]["text"] for u in updates] == ["a", "b", "c"]
    ids = [u["update_id"] for u in updates]
    assert ids == sorted(ids)
    # Without a confirming offset the same updates come again.
    assert await api.ok("getUpdates", limit=2) == updates[:2]
    assert await api.ok("getUpdates", offset=ids[1]) == updates[1:]
    assert await api.ok("getUpdates", offset=ids[2] + 1) == []
    assert emu.pending_updates() == []


async def test_negative_offset_keeps_the_last_updates(api: Api, emu: Emulator) -> None:
    user = emu.user(1)
    for text in ("a", "b", "c"):
        await user.send(text)
    assert [u["message"]["text"] for u in await api.ok("getUpdates", offset=-1)] == ["c"]


async def test_message_update_shape(api: Api, emu: Emulator) -> None:
    user = emu.user(42, first_name="Пётр", last_name="И.", username="petr", language_code="en")
    await user.send("/start ref_123")
    (update,) = await api.ok("getUpdates")
    message = update["message"]
    assert message["message_id"] == 1
    assert message["from"] == {
        "id": 42,
        "is_bot": False,
        "first_name": "Пётр",
        "last_name": "И.",
        "username": "petr",
        "language_code": "en",
    }
    assert message["chat"] == {
        "id": 42,
        "first_name": "Пётр",
        "last_name": "И.",
        "username": "petr",
        "type": "private",
    }
    assert message["text"] == "/start ref_123"
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]


async def test_long_poll_returns_as_soon_as_a_user_writes(api: Api, emu: Emulator) -> None:
    loop = asyncio.get_running_loop()
    poll = asyncio.create_task(api.ok("getUpdates", timeout=30))
    bot = emu.bot_state()
    assert await bot.activity.wait_for(lambda: bot.poll is not None, 5)  # server is waiting
    started = loop.time()
    await emu.user(1).send("ping")
    updates = await asyncio.wait_for(poll, 5)
    assert loop.time() - started < 1.0
    assert updates[0]["message"]["text"] == "ping"


async def test_long_poll_times_out_empty(api: Api) -> None:
    assert await api.ok("getUpdates", timeout=1) == []


async def test_newer_get_updates_terminates_the_waiting_one(api: Api, emu: Emulator) -> None:
    first = asyncio.create_task(api.call("getUpdates", timeout=30))
    # Wait (condition-based) until the first poll is really waiting in the server.
    bot = emu.bot_state()
    await bot.activity.wait_for(lambda: bot.poll is not None, 5)
    second = asyncio.create_task(api.ok("getUpdates", timeout=30))
    status, body = await asyncio.wait_for(first, 5)
    assert status == 409
    assert body["description"] == (
        "Conflict: terminated by other getUpdates request; make sure that only one bot "
        "instance is running"
    )
    await emu.user(1).send("x")
    assert len(await asyncio.wait_for(second, 5)) == 1


async def test_stop_releases_waiting_polls(emu: Emulator, api: Api) -> None:
    poll = asyncio.create_task(api.call("getUpdates", timeout=30))
    bot = emu.bot_state()
    await bot.activity.wait_for(lambda: bot.poll is not None, 5)
    await asyncio.wait_for(emu.stop(), 5)
    status, body = await asyncio.wait_for(poll, 5)
    assert (status, body["result"]) == (200, [])


async def test_allowed_updates_filter(api: Api, emu: Emulator) -> None:
    await api.ok("getUpdates", allowed_updates=["callback_query"])
    await emu.user(1).send("ignored")
    assert emu.pending_updates() == []
    await api.ok("getUpdates", allowed_updates=[])
    await emu.user(1).send("seen")
    assert len(emu.pending_updates()) == 1


# --------------------------------------------------------------------------- webhooks


class Receiver:
    """A tiny webhook endpoint on 127.0.0.1."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[tuple[dict[str, str], dict[str, Any]]] = asyncio.Queue()
        self.fail_first = 0
        self.reply: Callable[[dict[str, Any]], dict[str, Any] | None] = lambda update: None
        self.attempts = 0
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        update = await request.json()
        if self.fail_first > 0:
            self.fail_first -= 1
            return web.Response(status=500, text="boom")
        await self.received.put((dict(request.headers), update))
        answer = self.reply(update)
        if answer is None:
            return web.json_response({})
        return web.json_response(answer)

    async def next(self) -> tuple[dict[str, str], dict[str, Any]]:
        return await asyncio.wait_for(self.received.get(), 5)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    instance = Receiver()
    app = web.Application()
    app.router.add_post("/hook", instance.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    instance.url = f"http://127.0.0.1:{port}/hook"
    yield instance
    await runner.cleanup()


async def test_webhook_delivery_with_secret(api: Api, emu: Emulator, receiver: Receiver) -> None:
    assert await api.ok("setWebhook", url=receiver.url, secret_token="s3cr3t_-X") is True
    info = await api.ok("getWebhookInfo")
    assert info["url"] == receiver.url
    assert info["pending_update_count"] == 0
    assert await api.error("getUpdates") == (409, WEBHOOK_CONFLICT)

    user = emu.user(5)
    await user.send("через вебхук")
    headers, update = await receiver.next()
    assert headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cr3t_-X"
    assert headers["Content-Type"].startswith("application/json")
    assert update["message"]["text"] == "через вебхук"


async def test_webhook_without_secret_has_no_header(
    api: Api, emu: Emulator, receiver: Receiver
) -> None:
    await api.ok("setWebhook", url=receiver.url)
    await emu.user(5).send("x")
    headers, _ = await receiver.next()
    assert "X-Telegram-Bot-Api-Secret-Token" not in headers


async def test_webhook_retries_in_order_without_loss(
    api: Api, emu: Emulator, receiver: Receiver
) -> None:
    emu.webhook_retry_delay = 0.01
    receiver.fail_first = 3
    user = emu.user(5)
    for text in ("1", "2", "3"):
        await user.send(text)
    await api.ok("setWebhook", url=receiver.url)
    texts = [(await receiver.next())[1]["message"]["text"] for _ in range(3)]
    assert texts == ["1", "2", "3"]
    assert receiver.attempts == 6
    info = await api.ok("getWebhookInfo")
    assert (
        info["last_error_message"] == "Wrong response from the webhook: 500 Internal Server Error"
    )
    assert isinstance(info["last_error_date"], int)
    bot = emu.bot_state()
    await bot.activity.wait_for(lambda: not bot.updates, 5)
    assert (await api.ok("getWebhookInfo"))["pending_update_count"] == 0


async def test_webhook_keeps_pending_updates_while_unreachable(api: Api, emu: Emulator) -> None:
    emu.webhook_retry_delay = 0.01
    await api.ok("setWebhook", url="http://127.0.0.1:9/unreachable")
    await emu.user(5).send("kept")
    bot = emu.bot_state()
    await bot.activity.wait_for(lambda: bot.webhook_failures >= 2, 5)
    info = await api.ok("getWebhookInfo")
    assert info["pending_update_count"] == 1
    assert info["last_error_message"].startswith("Connection failed")
    # Switching back to polling hands the kept update over.
    assert await api.ok("deleteWebhook") is True
    assert [u["message"]["text"] for u in await api.ok("getUpdates")] == ["kept"]


async def test_drop_pending_updates(api: Api, emu: Emulator) -> None:
    await emu.user(5).send("old")
    await api.ok("deleteWebhook", drop_pending_updates=True)
    assert await api.ok("getUpdates") == []
    await emu.user(5).send("old again")
    await api.ok("setWebhook", url="http://127.0.0.1:9/x", drop_pending_updates=True)
    assert (await api.ok("getWebhookInfo"))["pending_update_count"] == 0


async def test_webhook_reply_executes_a_method(
    api: Api, emu: Emulator, receiver: Receiver, anna: EmulatedUser
) -> None:
    receiver.reply = lambda update: {
        "method": "sendMessage",
        "chat_id": update["message"]["chat"]["id"],
        "text": "ответ из вебхука",
    }
    await api.ok("setWebhook", url=receiver.url, drop_pending_updates=True)
    await anna.send("hi")
    await receiver.next()
    reply = await anna.next_message()
    assert reply.text == "ответ из вебхука"


async def test_set_webhook_validation(api: Api) -> None:
    assert await api.error("setWebhook", url="ftp://x", secret_token="ok") == (
        400,
        "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
    )
    assert await api.error("setWebhook", url="https://x.org", secret_token="bad token!") == (
        400,
        "Bad Request: secret token contains unallowed characters",
    )
    # An empty url removes the webhook.
    assert await api.ok("setWebhook", url="") is True
    assert (await api.ok("getWebhookInfo"))["url"] == ""
