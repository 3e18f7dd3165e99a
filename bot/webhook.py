"""Webhook mode (`MODE=webhook`): Telegram posts updates to us; any number of instances run
behind a reverse proxy / load balancer.

Each instance serves, on WEBHOOK_HOST:WEBHOOK_PORT:

* `POST WEBHOOK_PATH` — an update. The `X-Telegram-Bot-Api-Secret-Token` header must equal
  WEBHOOK_SECRET, or the call is answered 401 and nothing is processed. A well-formed update is
  answered 200 at once and processed in the background through the very Dispatcher polling
  uses (the same middlewares, handlers and FSM), so a slow handler does not hold Telegram's
  connection. While the instance shuts down, updates are answered 503: Telegram (or the proxy)
  delivers them again, to another instance. A body that is not an update (malformed, nested
  past the JSON decoder's depth, not an object) is answered 400, a body over MAX_BODY 413.
  Telegram delivers an update again when it did not get our answer, possibly to another
  instance: an update_id already taken is answered 200 and not processed again (see
  `RecentUpdates`).
* `GET /healthz` — `{"database": "ok", "redis": "ok"|"off", "planner": "ok"|"down"}` with 200,
  or 503 with `"down"` for the database or Redis not answering (for the proxy's health checks
  and the orchestrator's probes). A planner that is down is reported but keeps the 200: this
  instance still answers updates, and a proxy taking it out would not bring the planner back.

Start-up: Redis answers, migrations, the command menu, the sender and the ticker, the server
listens, and then the webhook is registered **once across instances**: under a Redis lock,
getWebhookInfo is compared with what this instance would set (the URL, the update types, and a
digest of the secret remembered in Redis) and setWebhook is only called when they differ.
Without Redis (one instance) setWebhook is simply called at every start; it is idempotent.
No instance ever calls deleteWebhook: one instance stopping must not cut off the others.

Shutdown (SIGTERM or SIGINT): stop accepting (the listening socket closes, calls on open
connections get 503), let the updates in flight finish (up to `grace` seconds), then stop the
ticker and the sender (which writes its results and gives back unstarted rows) and close.
An update accepted but still being processed when the process is *killed* is lost, as with
Telegram's own at-most-once webhook answer; the outbox makes every push survive a kill.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import signal
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError
from redis.exceptions import RedisError

from bot.config import Settings, SettingsError

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from bot.app import App

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header's name
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
HEALTH_PATH = "/healthz"
LOCK_SECONDS = 30.0
# An update is a few kilobytes (a 4096-character text with its entities and a quoted reply);
# a longer body is answered 413 before it is read.
MAX_BODY = 1 << 20
# Telegram delivers a failed update again within minutes; an id is remembered for an hour
# (in Redis a key per update: some 30 MB at a hundred updates a second).
SEEN_SECONDS = 3600
SEEN_IN_PROCESS = 10_000


def webhook_target(settings: Settings) -> tuple[str, str]:
    """The URL to register (WEBHOOK_URL + WEBHOOK_PATH) and the secret; SettingsError with one
    line that says what to do when either is missing or malformed."""
    base = (settings.webhook_url or "").strip()
    if not base:
        raise SettingsError(
            "WEBHOOK_URL is not set: MODE=webhook needs the public HTTPS address Telegram "
            "posts to, e.g. WEBHOOK_URL=https://bot.example.org (see .env.example)."
        )
    if not re.match(r"^https?://[^/\s]+", base):
        raise SettingsError(
            f"WEBHOOK_URL must start with https:// and name a host, e.g. "
            f"https://bot.example.org, not {base!r}."
        )
    path = settings.webhook_path
    if not path.startswith("/") or any(c.isspace() for c in path):
        raise SettingsError(f"WEBHOOK_PATH must start with / and have no spaces, not {path!r}.")
    if path == HEALTH_PATH:
        raise SettingsError(f"WEBHOOK_PATH must not be {HEALTH_PATH}: the health check is there.")
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    if not secret:
        raise SettingsError(
            "WEBHOOK_SECRET is not set: MODE=webhook needs 1–256 characters of A-Z, a-z, 0-9, "
            "_ and -, e.g. from: python -c 'import secrets; print(secrets.token_urlsafe(32))'."
        )
    if SECRET_RE.match(secret) is None:
        raise SettingsError(
            "WEBHOOK_SECRET is malformed: use 1–256 characters of A-Z, a-z, 0-9, _ and - only."
        )
    return base.rstrip("/") + path, secret


class RecentUpdates:
    """The update_ids taken lately, so that an update delivered again is processed once.

    With Redis (several instances behind one URL, where the copy may reach another instance)
    an id is taken by `SET NX` with an expiry, atomically across instances, as the FSM and
    the send rate already share it. Without Redis only one instance may run (`run_webhook`
    says so), and the last SEEN_IN_PROCESS ids in memory are enough. When Redis does not
    answer, the update is processed: twice is better than never."""

    def __init__(self, redis: Redis | None, key: str, size: int = SEEN_IN_PROCESS) -> None:
        self._redis = redis
        self._key = key
        self._size = size
        self._ids: OrderedDict[int, None] = OrderedDict()

    async def first_time(self, update_id: int) -> bool:
        """True the first time `update_id` is offered (on any instance), False after."""
        if self._redis is not None:
            try:
                taken = await self._redis.set(
                    f"{self._key}:{update_id}", "1", nx=True, ex=SEEN_SECONDS
                )
            except RedisError as exc:
                log.warning("update dedup: redis down", extra={"error": type(exc).__name__})
                return True
            return bool(taken)
        if update_id in self._ids:
            self._ids.move_to_end(update_id)
            return False
        self._ids[update_id] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return True


class WebhookServer:
    """The bot in webhook mode: `await run()` (or `start()` … `stop()` in tests)."""

    def __init__(self, app: App, *, grace: float = 30.0) -> None:
        self.app = app
        self.url, self._secret = webhook_target(app.settings)
        self.path = app.settings.webhook_path
        self.grace = grace
        self.web = web.Application(client_max_size=MAX_BODY)
        self.web.router.add_post(self.path, self._on_update)
        self.web.router.add_get(HEALTH_PATH, self._on_health)
        self.accepted = 0  # updates taken for processing
        self.refused = 0  # calls answered 401 (a wrong or missing secret)
        self.duplicates = 0  # updates delivered again, answered and not processed
        self._recent = RecentUpdates(app.redis, f"opora:update:{app.bot.id}")
        self.registered: bool | None = None  # did this instance call setWebhook
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._accepting = False
        self._inflight: set[asyncio.Task[None]] = set()
        self._stop = asyncio.Event()

    @property
    def port(self) -> int:
        """The port listened on (the real one when WEBHOOK_PORT is 0), once started."""
        assert self._port is not None, "not started"
        return self._port

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    # ------------------------------------------------------------------ life cycle

    async def run(self, *, handle_signals: bool = True) -> None:
        """Start, serve until SIGTERM/SIGINT (or `request_stop()`), then shut down gracefully."""
        loop = asyncio.get_running_loop()
        signals = (signal.SIGTERM, signal.SIGINT) if handle_signals else ()
        try:
            for sig in signals:
                loop.add_signal_handler(sig, self.request_stop)
            await self.start()
            await self._stop.wait()
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)
            await self.stop()

    def request_stop(self) -> None:
        if not self._stop.is_set():
            log.info("stopping: no new updates are accepted")
        self._accepting = False
        self._stop.set()

    async def start(self) -> None:
        app, settings = self.app, self.app.settings
        await app.prepare()
        await app.start_background()
        runner = web.AppRunner(
            self.web, handle_signals=False, access_log=None, shutdown_timeout=self.grace
        )
        await runner.setup()
        self._runner = runner
        try:
            await web.TCPSite(runner, settings.webhook_host, settings.webhook_port).start()
        except OSError as exc:  # the port is taken, or the host is not this machine's
            raise SettingsError(
                f"WEBHOOK_HOST:WEBHOOK_PORT {settings.webhook_host}:{settings.webhook_port} "
                f"cannot be listened on ({exc.strerror or exc}); choose a free port."
            ) from None
        self._port = int(runner.addresses[0][1])
        self._accepting = True
        try:
            self.registered = await self.register()
        except TelegramBadRequest as exc:  # e.g. not an HTTPS URL, a port Telegram refuses
            raise SettingsError(
                f"WEBHOOK_URL was refused by Telegram: {exc.message} ({self.url})."
            ) from None
        app.ready.set()
        log.info(
            "webhook server listening",
            extra={"host": settings.webhook_host, "port": self.port, "path": self.path},
        )

    async def stop(self) -> None:
        """Stop accepting, finish the updates in flight, stop the sender and ticker, close."""
        self._accepting = False
        self.app.ready.clear()
        try:
            if self._runner is not None:
                await self._runner.cleanup()  # closes the socket; open calls get their answer
                self._runner = None
            if self._inflight:
                log.info("finishing updates in flight", extra={"updates": len(self._inflight)})
                _, late = await asyncio.wait(set(self._inflight), timeout=self.grace)
                for task in late:
                    task.cancel()
                if late:
                    log.error("updates cut short at shutdown", extra={"updates": len(late)})
                    await asyncio.wait(late)
        finally:
            await self.app.close()
        log.info("stopped", extra={"updates": self.accepted})

    # ------------------------------------------------------------------ setWebhook, once

    async def register(self) -> bool:
        """Make Telegram post to `url` with our secret; True when this instance called
        setWebhook, False when it was already so (another instance did it)."""
        bot, redis = self.app.bot, self.app.redis
        allowed = sorted(self.app.dp.resolve_used_update_types())
        marker = hashlib.sha256("\n".join([self.url, self._secret, *allowed]).encode()).hexdigest()
        if redis is None:  # one instance: nothing to agree on, and setWebhook is idempotent
            await bot.set_webhook(self.url, secret_token=self._secret, allowed_updates=allowed)
            log.info("webhook set", extra={"url": self.url})
            return True
        key = f"opora:webhook:{bot.id}"
        async with redis.lock(
            f"{key}:lock", timeout=LOCK_SECONDS, blocking_timeout=LOCK_SECONDS + 5
        ):
            info = await bot.get_webhook_info()
            known = await redis.get(key)
            same = (
                info.url == self.url
                and sorted(info.allowed_updates or []) == allowed
                and known is not None
                and (known.decode() if isinstance(known, bytes) else known) == marker
            )
            if same:
                log.info("webhook already set", extra={"url": self.url})
                return False
            await bot.set_webhook(self.url, secret_token=self._secret, allowed_updates=allowed)
            await redis.set(key, marker)
        log.info("webhook set", extra={"url": self.url})
        return True

    # ------------------------------------------------------------------ requests

    async def _on_update(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not secrets.compare_digest(given.encode(), self._secret.encode()):
            self.refused += 1
            log.warning("webhook call refused: wrong secret", extra={"remote": request.remote})
            return web.json_response({"ok": False, "error": "unauthorized"}, status=401)
        if not self._accepting:
            return web.json_response(
                {"ok": False, "error": "shutting down"}, status=503, headers={"Retry-After": "1"}
            )
        bot = self.app.bot
        try:
            raw = await request.json(loads=bot.session.json_loads)
            update = Update.model_validate(raw, context={"bot": bot})
        except (ValueError, ValidationError, RecursionError):  # malformed, or nested too deep
            log.warning("webhook call refused: not an update", extra={"remote": request.remote})
            return web.json_response({"ok": False, "error": "not an update"}, status=400)
        if not await self._recent.first_time(update.update_id):
            self.duplicates += 1
            log.info("update delivered again: skipped", extra={"update_id": update.update_id})
            return web.json_response({})
        self.accepted += 1
        task = asyncio.create_task(self._process(update), name=f"update-{update.update_id}")
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        return web.json_response({})

    async def _process(self, update: Update) -> None:
        dp, bot = self.app.dp, self.app.bot
        try:
            result: Any = await dp.feed_update(bot, update)  # in turns (bot/infra/turns.py)
            if isinstance(result, TelegramMethod):
                await dp.silent_call_request(bot, result)
        except Exception:  # the error router answered the user; this is the last resort
            log.exception("update failed", extra={"update_id": update.update_id})

    async def _on_health(self, request: web.Request) -> web.Response:
        report = await self.app.health()
        serving = {k: v for k, v in report.items() if k != "planner"}  # see the module notes
        ok = all(value in ("ok", "off") for value in serving.values())
        return web.json_response(report, status=200 if ok else 503)


async def run_webhook(settings: Settings) -> None:
    """`python -m bot` with MODE=webhook."""
    webhook_target(settings)  # a missing URL or secret fails before anything is built
    from bot.app import create_app

    app = create_app(settings)
    if app.redis is None and not settings.is_sqlite:
        log.warning(
            "no REDIS_URL: run one instance only (several need Redis for the shared send rate, "
            "conversation state and locks)"
        )
    api = settings.telegram_api_base or "telegram"
    log.info("starting", extra={"api": api, "mode": "webhook"})
    await WebhookServer(app).run()
