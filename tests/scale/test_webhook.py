"""Webhook mode: the emulator posts updates to the bot's aiohttp server, the secret header is
checked on every call, /healthz reports the database and Redis, setWebhook is done once across
instances, and a stop finishes the updates in flight. In-process and as a real process."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import create_app
from bot.config import Settings, SettingsError
from bot.emulator import Emulator
from bot.storage.tables import users
from bot.webhook import MAX_BODY, SECRET_HEADER, WebhookServer, webhook_target
from tests.conftest import OPERATOR_ENV, TOKEN, make_settings
from tests.scale.cluster import ROOT, SECRET, BotProcess, free_port, wait_until

Serve = Callable[..., Awaitable[WebhookServer]]


@pytest.fixture
async def serve(emulator: Emulator, bot_database_url: str) -> AsyncIterator[Serve]:
    """Start the bot in webhook mode in this process (on a free port; its webhook registered
    with the emulator); whatever is still running at the end is stopped."""
    running: list[tuple[WebhookServer, asyncio.Task[None]]] = []

    async def _serve(**overrides: Any) -> WebhookServer:
        port = overrides.pop("webhook_port", None) or free_port()
        values: dict[str, Any] = {
            "mode": "webhook",
            "webhook_url": f"http://127.0.0.1:{port}",
            "webhook_secret": SECRET,
            "webhook_host": "127.0.0.1",
            "webhook_port": port,
            **overrides,
        }
        server = WebhookServer(create_app(make_settings(emulator, bot_database_url, **values)))
        task = asyncio.create_task(server.run(handle_signals=False))
        running.append((server, task))
        ready = asyncio.ensure_future(server.app.ready.wait())
        await asyncio.wait({ready, task}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()  # start-up failed: show why
        assert ready.done(), "the webhook server did not start within 60 s"
        return server

    yield _serve
    for server, task in running:
        if not task.done():
            server.request_stop()
            await asyncio.wait_for(task, timeout=30)


async def post(url: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """POST `body` as JSON (a str or bytes is sent as it is)."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            url,
            data=body if isinstance(body, str | bytes) else json.dumps(body),
            headers={"Content-Type": "application/json", **(headers or {})},
        ) as response,
    ):
        return response.status, await response.text()


async def get_json(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


def an_update(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": "X", "language_code": "ru"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1, "date": 1_700_000_000, "chat": {"id": user_id, "type": "private"},
            "from": user, "text": text,
        },
    }  # fmt: skip


# --------------------------------------------------------------------------- settings


def webhook_settings(**values: Any) -> Settings:
    return Settings(_env_file=None, bot_token=TOKEN, mode="webhook", **values)


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"webhook_secret": SECRET}, "WEBHOOK_URL is not set"),
        ({"webhook_url": "bot.example.org", "webhook_secret": SECRET}, "must start with https://"),
        ({"webhook_url": "https://bot.example.org"}, "WEBHOOK_SECRET is not set"),
        (
            {"webhook_url": "https://bot.example.org", "webhook_secret": "has spaces"},
            "WEBHOOK_SECRET is malformed",
        ),
        (
            {"webhook_url": "https://bot.example.org", "webhook_secret": "a" * 257},
            "WEBHOOK_SECRET is malformed",
        ),
        (
            {"webhook_url": "https://x.org", "webhook_secret": SECRET, "webhook_path": "hook"},
            "WEBHOOK_PATH must start with /",
        ),
    ],
)
def test_webhook_settings_are_checked(values: dict[str, Any], says: str) -> None:
    with pytest.raises(SettingsError, match=says):
        webhook_target(webhook_settings(**values))


def test_webhook_target_joins_url_and_path() -> None:
    settings = webhook_settings(
        webhook_url="https://bot.example.org/", webhook_secret="A-z_09", webhook_path="/tg/hook"
    )
    assert webhook_target(settings) == ("https://bot.example.org/tg/hook", "A-z_09")


def test_process_without_webhook_url_says_so_in_one_line(tmp_path: Path) -> None:
    env = {
        **OPERATOR_ENV,
        "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "BOT_TOKEN": TOKEN, "MODE": "webhook",
        "WEBHOOK_SECRET": SECRET, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
    }  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "WEBHOOK_URL is not set" in lines[0]
    assert not (tmp_path / "x.db").exists()  # nothing was built


@pytest.mark.parametrize("mode", ["polling", "webhook"])
def test_process_with_redis_away_says_so_in_one_line(tmp_path: Path, mode: str) -> None:
    env = {
        **OPERATOR_ENV,
        "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "BOT_TOKEN": TOKEN, "MODE": mode,
        "WEBHOOK_URL": "https://bot.example.org", "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_HOST": "127.0.0.1", "WEBHOOK_PORT": str(free_port()), "LOG_LEVEL": "ERROR",
        "TELEGRAM_API_BASE": "http://127.0.0.1:9", "REDIS_URL": "redis://127.0.0.1:9/0",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
    }  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("opora: REDIS_URL: Redis at 127.0.0.1:9 does not answer")
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------- in-process


async def test_updates_arrive_by_webhook_through_the_same_dispatcher(
    emulator: Emulator, serve: Serve
) -> None:
    server = await serve(flood_burst=2, flood_rate=0.001)
    info = await emulator.make_bot().get_webhook_info()
    assert info.url == server.url
    assert server.registered is True

    anna = emulator.user(9101, first_name="Анна", language_code="ru")
    await anna.send("/start")
    greeting = await anna.next_message(timeout=10)
    assert "Опора" in greeting.text
    # The middlewares run as in polling: the user row was made by the context middleware …
    async with server.app.engine.connect() as conn:
        row = (await conn.execute(select(users.c.id).where(users.c.id == 9101))).first()
    assert row is not None
    # … and the flood guard (burst 2) speaks up on the third message in a row.
    await anna.send("/help")
    await anna.next_message(timeout=10)
    await anna.send("/help")
    slow = await anna.next_message(timeout=10)
    assert slow.text.startswith("Слишком много сообщений сразу.")
    assert emulator.rejections() == []
    assert server.accepted == 3


async def test_a_call_without_the_secret_is_refused_and_not_processed(
    emulator: Emulator, serve: Serve
) -> None:
    server = await serve()
    hook = f"http://127.0.0.1:{server.port}{server.path}"
    update = an_update(777_001, 9102, "/start")
    assert (await post(hook, update))[0] == 401
    assert (await post(hook, update, {SECRET_HEADER: "wrong"}))[0] == 401
    assert (await post(hook, update, {SECRET_HEADER: SECRET + "x"}))[0] == 401
    assert server.refused == 3
    assert (await post(hook, {"nonsense": True}, {SECRET_HEADER: SECRET}))[0] == 400
    assert server.accepted == 0
    async with server.app.engine.connect() as conn:
        assert (await conn.execute(select(users.c.id).where(users.c.id == 9102))).first() is None
    assert emulator.calls_of("sendMessage") == []

    # The same update with the secret is processed.
    assert (await post(hook, update, {SECRET_HEADER: SECRET}))[0] == 200
    await emulator.wait_for_call("sendMessage", timeout=10)
    assert emulator.calls_of("sendMessage")[0].params["chat_id"] == 9102


async def test_a_body_too_deep_or_too_big_is_refused_without_a_traceback(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    server = await serve()
    hook = f"http://127.0.0.1:{server.port}{server.path}"
    with_secret = {SECRET_HEADER: SECRET}
    deep = "[" * 100_000 + "]" * 100_000  # past the JSON decoder's recursion limit
    inside = json.dumps(an_update(777_002, 9105, "/start"))[:-2] + ', "x": ' + deep + "}}"
    for body in (deep, inside, "[" * 100_000, "\xff\xfe", "[]", '"text"', "null"):
        status, answer = await post(hook, body, with_secret)
        assert (status, json.loads(answer)) == (400, {"ok": False, "error": "not an update"})
    status, _ = await post(hook, b"[" + b" " * (MAX_BODY + 1) + b"]", with_secret)
    assert status == 413
    assert server.accepted == 0
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    # The server still takes updates.
    assert (await post(hook, an_update(777_003, 9105, "/start"), with_secret))[0] == 200
    assert server.accepted == 1


async def test_an_update_delivered_twice_is_handled_once(emulator: Emulator, serve: Serve) -> None:
    server = await serve()
    hook = f"http://127.0.0.1:{server.port}{server.path}"
    user = emulator.user(9106, language_code="ru")
    user.chat.started = True  # the user has opened the chat: the bot may write to it
    update = an_update(777_004, user.id, "/start")
    # Telegram delivers again when it did not get our answer: the second copy is answered 200
    # (so it stops) and not processed.
    assert (await post(hook, update, {SECRET_HEADER: SECRET}))[0] == 200
    assert (await post(hook, update, {SECRET_HEADER: SECRET}))[0] == 200
    assert (server.accepted, server.duplicates) == (1, 1)
    assert "Опора" in (await user.next_message(timeout=10)).text
    # The next update (another id) is processed; once it is answered, nothing else came.
    after = an_update(777_005, user.id, "/help")
    assert (await post(hook, after, {SECRET_HEADER: SECRET}))[0] == 200
    await user.next_message(timeout=10)
    await wait_until(lambda: server.inflight == 0, 10, "the updates to be handled")
    assert len(user.chat.bot_messages) == 2
    assert (server.accepted, server.duplicates) == (2, 1)


async def test_an_update_delivered_again_to_another_instance_is_handled_once(
    emulator: Emulator, serve: Serve, redis_url: str
) -> None:
    proxy_port = free_port()  # both behind one public URL
    first = await serve(redis_url=redis_url, webhook_url=f"http://127.0.0.1:{proxy_port}")
    second = await serve(redis_url=redis_url, webhook_url=f"http://127.0.0.1:{proxy_port}")
    user = emulator.user(9107, language_code="ru")
    user.chat.started = True
    update = an_update(777_006, user.id, "/start")
    for server in (first, second, first):
        hook = f"http://127.0.0.1:{server.port}{server.path}"
        assert (await post(hook, update, {SECRET_HEADER: SECRET}))[0] == 200
    assert (first.accepted, second.accepted) == (1, 0)
    assert (first.duplicates, second.duplicates) == (1, 1)
    assert "Опора" in (await user.next_message(timeout=10)).text
    await wait_until(lambda: first.inflight == 0, 10, "the update to be handled")
    assert len(user.chat.bot_messages) == 1


async def test_healthz_reports_database_and_redis(serve: Serve, redis_url: str) -> None:
    server = await serve(redis_url=redis_url)
    health = f"http://127.0.0.1:{server.port}/healthz"
    assert await get_json(health) == (200, {"database": "ok", "redis": "ok", "planner": "ok"})

    # Redis stops answering: 503 and which one is down.
    real_redis = server.app.redis
    server.app.redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        assert await get_json(health) == (
            503,
            {"database": "ok", "redis": "down", "planner": "ok"},
        )
    finally:
        await server.app.redis.aclose()
        server.app.redis = real_redis
    # So does the database.
    real_engine = server.app.engine
    dead = create_async_engine(
        "postgresql+asyncpg://nobody@127.0.0.1:1/none", connect_args={"timeout": 1}
    )
    server.app.engine = dead
    try:
        assert await get_json(health) == (
            503,
            {"database": "down", "redis": "ok", "planner": "ok"},
        )
    finally:
        server.app.engine = real_engine
        await dead.dispose()
    assert await get_json(health) == (200, {"database": "ok", "redis": "ok", "planner": "ok"})


async def test_healthz_without_redis_says_off(serve: Serve) -> None:
    server = await serve()
    assert await get_json(f"http://127.0.0.1:{server.port}/healthz") == (
        200,
        {"database": "ok", "redis": "off", "planner": "ok"},
    )


async def test_set_webhook_is_done_once_across_instances(
    emulator: Emulator, serve: Serve, redis_url: str
) -> None:
    proxy_port = free_port()  # both register the one public URL, as behind a load balancer
    first = await serve(redis_url=redis_url, webhook_url=f"http://127.0.0.1:{proxy_port}")
    second = await serve(redis_url=redis_url, webhook_url=f"http://127.0.0.1:{proxy_port}")
    assert (first.registered, second.registered) == (True, False)
    assert len(emulator.calls_of("setWebhook")) == 1
    # One instance stopping leaves the webhook in place for the others.
    second.request_stop()
    await wait_until(lambda: second.app.ready.is_set() is False, 30, "the second to stop")
    assert emulator.calls_of("deleteWebhook") == []
    assert (await emulator.make_bot().get_webhook_info()).url.endswith(f":{proxy_port}/telegram")
    # A new secret is registered by the next instance that starts with it.
    third = await serve(
        redis_url=redis_url, webhook_url=f"http://127.0.0.1:{proxy_port}", webhook_secret="new-1"
    )
    assert third.registered is True
    assert emulator.calls_of("setWebhook")[-1].params["secret_token"] == "new-1"


async def test_stop_finishes_the_update_in_flight(emulator: Emulator, serve: Serve) -> None:
    server = await serve()
    emulator.delay_next(1.0, 1, "sendMessage")  # the reply to /start takes a second
    user = emulator.user(9103, language_code="ru")
    await user.send("/start")
    await wait_until(lambda: server.inflight == 1, 10, "the update to be in flight")
    server.request_stop()
    greeting = await user.next_message(timeout=10)  # the update finished despite the stop
    assert "Опора" in greeting.text
    await wait_until(lambda: not server.app.sender.running, 30, "the sender to stop")
    assert server.inflight == 0
    # Stopped: the webhook is still registered (other instances may serve it), the port closed.
    assert emulator.calls_of("deleteWebhook") == []
    with pytest.raises(aiohttp.ClientConnectionError):
        await post(f"http://127.0.0.1:{server.port}/telegram", {}, {SECRET_HEADER: SECRET})


async def test_a_taken_port_is_one_clear_error(emulator: Emulator, bot_database_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = make_settings(
            emulator, bot_database_url, mode="webhook", webhook_url="http://127.0.0.1:1",
            webhook_secret=SECRET, webhook_host="127.0.0.1", webhook_port=port,
        )  # fmt: skip
        server = WebhookServer(create_app(settings))
        with pytest.raises(SettingsError, match=f"127.0.0.1:{port} cannot be listened on"):
            await server.run(handle_signals=False)
    assert not server.app.sender.running  # what had started was stopped again


# --------------------------------------------------------------------------- a real process


async def test_process_in_webhook_mode_answers_and_stops_on_sigterm(
    emulator: Emulator, bot_database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        "BOT_TOKEN": TOKEN, **OPERATOR_ENV, "TELEGRAM_API_BASE": emulator.base_url,
        "DATABASE_URL": bot_database_url, "MODE": "webhook", "WEBHOOK_URL": f"http://127.0.0.1:{port}",
        "WEBHOOK_SECRET": SECRET, "WEBHOOK_HOST": "127.0.0.1", "WEBHOOK_PORT": str(port),
        "LOG_LEVEL": "INFO",
    }  # fmt: skip
    bot = await BotProcess.start("webhook", env, tmp_path)
    try:
        await wait_until(bot.healthy, 90, "the process to answer /healthz")
        user = emulator.user(9104, language_code="ru")
        await user.send("/start")
        greeting = await user.next_message(timeout=30)
        assert "Опора" in greeting.text
        code = await bot.terminate()
    finally:
        await bot.kill()
    assert code == 0, bot.log_tail()
    events = [e.get("event") for e in bot.events()]
    assert "webhook set" in events
    assert "webhook server listening" in events
    assert events[-1] == "stopped"
    assert "Traceback" not in bot.log_path.read_text()
    assert TOKEN not in bot.log_path.read_text()
    assert emulator.calls_of("deleteWebhook") == []
