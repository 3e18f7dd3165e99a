"""The one composition root. Production (`python -m bot`) and the tests build the very same app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, StorageKey
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import (
    BotCommand,
    BotCommandScopeDefault,
    LinkPreviewOptions,
    TelegramObject,
    Update,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings, SettingsError
from bot.content import Catalog, get_catalog
from bot.delivery import Sender
from bot.infra import gc as collector
from bot.infra.clock import Clock, SystemClock
from bot.infra.db import make_engine, migrate
from bot.infra.memo import remembered
from bot.infra.middlewares import (
    AnswerPresses,
    EndPrompts,
    FloodGuard,
    RetryRequests,
)
from bot.infra.routing import prompts
from bot.infra.scheduler import Ticker
from bot.infra.session import JsonSession
from bot.infra.sqlite import inline_sql
from bot.infra.turns import Turns
from bot.infra.updates import without_nul
from bot.services.brief import BriefService
from bot.services.broadcasts import BroadcastService
from bot.services.catalogs import CatalogService
from bot.services.content_admin import ContentAdminService
from bot.services.coordination import CoordinationService
from bot.services.desk import DeskService
from bot.services.faq import FaqService
from bot.services.measures import MeasureService
from bot.services.peers import PeerService
from bot.services.profile import ProfileService
from bot.services.pushes import LEASE, Planner
from bot.services.retention import RetentionService
from bot.services.sharing import SharingService
from bot.services.stats import StatsService
from bot.services.users import UserService
from bot.services.volunteering import VolunteerService
from bot.storage import plan_claims
from bot.storage.fsm import SqlStorage
from bot.ui.painter import Painter
from bot.ui.pictures import find_font
from bot.ui.render import Renderer
from bot.worker import Workers
from handlers import build_router
from handlers.context import ContextMiddleware, flood_refusal

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)


QUEUED_PER_TURN = 16  # polling fetches no more while this many updates per turn are waiting
# A stop lets the sender's requests in flight finish and write their results; past this it is
# cancelled, and the rows it held come back when their lease runs out (bot/delivery.py).
SENDER_STOP_SECONDS = 8.0
# HTML, and no link previews: set as link_preview, because aiogram's link_preview_is_disabled
# also sends the replaced disable_web_page_preview beside link_preview_options.
BOT_DEFAULTS = DefaultBotProperties(
    parse_mode=ParseMode.HTML, link_preview=LinkPreviewOptions(is_disabled=True)
)


def _(message: str) -> str:
    """Marks a string for extraction; it is translated where it is shown."""
    return message


# The command menu: (command, description — English msgid, translated through gettext).
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", _("Start over: what Opora does")),
    ("menu", _("Main menu")),
    ("profile", _("My profile: ikigai, stage, region")),
    ("quiz", _("Stage quiz: where is my project")),
    ("volunteer", _("Volunteering: opportunities to help")),
    ("grants", _("Grants and contests")),
    ("articles", _("Best practices for my stage")),
    ("calendar", _("Followed deadlines as a calendar file")),
    ("settings", _("Notifications: what and when")),
    ("help", _("What the bot can do")),
    ("language", _("Язык / Language")),
    ("privacy", _("Privacy policy")),
    ("my_data", _("Everything stored about me")),
    ("delete_me", _("Delete my data")),
)


@dataclass
class App:
    settings: Settings
    bot: Bot
    dp: Dispatcher
    engine: AsyncEngine
    renderer: Renderer
    catalog: Catalog
    clock: Clock
    users: UserService
    profiles: ProfileService
    catalogs: CatalogService
    sender: Sender
    planner: Planner
    broadcasts: BroadcastService
    volunteering: VolunteerService
    retention: RetentionService
    ticker: Ticker
    workers: Workers
    desk: DeskService
    redis: Redis | None = None  # with REDIS_URL: FSM, event isolation, the shared send rate
    sharing: SharingService | None = None  # cards outside the bot (inline, group posts)
    ready: asyncio.Event = field(default_factory=asyncio.Event)  # set once updates may come
    peers: PeerService | None = None  # peers and mentors: the mentorships' check-ins

    async def prepare(self) -> None:
        """Everything before the first update: Redis answers, migrations, the command menu."""
        await self.check_redis()
        await migrate(self.engine)
        await self.set_commands()
        # What start-up built (aiogram's and pydantic's classes, the catalog, templates) lives
        # as long as the process (`python -m bot` starts with the collector off).
        collector.settle()

    async def check_redis(self) -> None:
        """SettingsError (one clear line) when REDIS_URL is set but Redis does not answer."""
        if self.redis is None:
            return
        try:
            async with asyncio.timeout(5):
                await self.redis.ping()
        except Exception as exc:
            where = _where(self.settings.redis_url or "")
            raise SettingsError(
                f"REDIS_URL: Redis at {where} does not answer ({type(exc).__name__}); "
                "start it, fix REDIS_URL, or unset it to run one instance without Redis."
            ) from None

    async def health(self) -> dict[str, str]:
        """What /healthz reports: `database` ok|down, `redis` ok|down|off (no REDIS_URL),
        `planner` ok|down (a worker died and none has planned since; run apart: pages wait
        longer than the lease with nobody taking them)."""
        report = {"database": "ok", "redis": "off", "planner": self.workers.state}
        try:
            async with asyncio.timeout(3), self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            log.warning("health: database down", extra={"error": type(exc).__name__})
            report["database"] = "down"
        if self.settings.planner_external and report["database"] == "ok":
            try:
                async with asyncio.timeout(3), self.engine.connect() as conn:
                    stalled = await plan_claims.stalled(conn, datetime.now(UTC), LEASE)
                report["planner"] = "down" if stalled else "ok"
            except Exception as exc:
                log.warning("health: planner unknown", extra={"error": type(exc).__name__})
                report["planner"] = "down"
        if self.redis is not None:
            try:
                async with asyncio.timeout(3):
                    await self.redis.ping()
                report["redis"] = "ok"
            except Exception as exc:
                log.warning("health: redis down", extra={"error": type(exc).__name__})
                report["redis"] = "down"
        return report

    async def start_background(self) -> None:
        """The outbox sender and the scheduler's ticks (both modes run them)."""
        await self.sender.start()
        if self.sharing is not None:
            await self.sharing.start()
        self.ticker.start()

    async def set_commands(self) -> None:
        for locale in ("ru", "en"):
            commands = [
                BotCommand(command=name, description=self.renderer.gettext(locale, desc))
                for name, desc in COMMANDS
            ]
            await self.bot.set_my_commands(
                commands, scope=BotCommandScopeDefault(), language_code=locale
            )
            if locale == self.settings.default_locale:  # clients in any other language
                await self.bot.set_my_commands(commands, scope=BotCommandScopeDefault())

    async def run_polling(self, *, handle_signals: bool = True) -> None:
        """Prepare, then long-poll until stopped (Ctrl-C / SIGTERM or `stop()`)."""
        try:
            await self.prepare()
            await self.start_background()
            self.ready.set()
            await self.dp.start_polling(
                self.bot,
                handle_signals=handle_signals,
                polling_timeout=self.settings.polling_timeout,
                close_bot_session=False,
                # Turns bound the updates handled at once (bot/infra/turns.py); this bounds the
                # updates fetched and waiting for a turn, or for a picture while aside.
                tasks_concurrency_limit=self.settings.updates_in_flight * QUEUED_PER_TURN,
            )
        finally:
            self.ready.clear()
            await self.close()

    async def stop(self) -> None:
        if self.ready.is_set():
            with contextlib.suppress(RuntimeError):  # polling had not started yet
                await self.dp.stop_polling()

    async def tick(self) -> None:
        """One scheduler tick: plan what is due, then wake the sender."""
        planned = await self.plan()
        await self.broadcasts.tick()
        await self.retention.tick()
        checkins = await self.peers.tick() if self.peers is not None else 0
        desk = await self.desk.tick(self.bot)
        if planned + checkins + desk + await self.volunteering.tick():
            self.sender.wake()
        if self.sharing is not None:
            self.sharing.wake()  # promotions, and cards whose cut-off, start or end has passed

    async def plan(self) -> int:
        """The tick's planning: its pages written, then planned by worker processes (a tick
        of PLANNER_WORKERS_FROM users or more, bot/worker.py), by workers run apart
        (PLANNER_EXTERNAL), or here; returns the pushes enqueued (1 when others wrote them:
        the sender looks)."""
        s = self.settings
        async with self.planner.lock:  # a tick of this process at a time (the tests' too)
            pages = await self.planner.open_tick()
            if s.planner_external:
                return 1 if pages else 0
            if s.planner_workers and pages and pages * s.planner_page >= s.planner_workers_from:
                await self.workers.run(min(s.planner_workers, pages))
                return 1
            return (await self.planner.work_here()).enqueued

    async def close(self) -> None:
        self.ticker.stop()
        await self.workers.close()
        await self.sender.stop(timeout=SENDER_STOP_SECONDS)
        if self.sharing is not None:
            await self.sharing.stop()
        await self.broadcasts.close()  # progress followers (and their locks) end here
        await self.dp.storage.close()
        await self.dp.fsm.events_isolation.close()
        await self.bot.session.close()
        await self.engine.dispose()
        self.dp["painter"].close()


def _where(url: str) -> str:
    """host:port of a Redis URL, without the password (for messages and logs)."""
    try:
        parts = urlsplit(url)
        return f"{parts.hostname or 'localhost'}:{parts.port or 6379}"
    except ValueError:
        return "the given address"


class _Dispatcher(Dispatcher):
    """Each update is handled with its SQLite statements on the event loop (bot/infra/sqlite.py):
    an update's reads and writes are a user's few rows, and a thread trip per statement cost
    more than SQLite itself. Its conversation state is read once (bot/storage/fsm.py), and it
    carries no NUL character (bot/infra/updates.py). Polling and webhooks both come through
    here."""

    async def feed_update(self, bot: Bot, update: Update, **kwargs: Any) -> Any:
        update = without_nul(update, bot)
        with inline_sql(), remembered():
            try:
                return await super().feed_update(bot, update, **kwargs)
            finally:  # what the error router changed (the rest is stored in the lock)
                if isinstance(self.fsm.storage, SqlStorage):
                    await self.fsm.storage.flush()


def _storing(storage: SqlStorage) -> Callable[..., Awaitable[Any]]:
    """Outer update middleware, just inside aiogram's per-user lock: the conversation state an
    update changed is stored as it ends, before the user's next update may read it."""

    async def middleware(
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        try:
            return await handler(event, data)
        finally:
            await storage.flush()

    return middleware


def _redis(settings: Settings) -> Redis | None:
    if not settings.redis_url:
        return None
    from redis.asyncio import BlockingConnectionPool, Redis  # only with REDIS_URL

    try:
        # A blocking pool: a burst of sends waits for a connection instead of failing.
        pool = BlockingConnectionPool.from_url(settings.redis_url, max_connections=64, timeout=10)
    except ValueError as exc:
        raise SettingsError(
            f"REDIS_URL is malformed ({exc}); it looks like redis://host:6379/0."
        ) from None
    return Redis(connection_pool=pool)


def _fsm(
    engine: AsyncEngine, clock: Clock, redis: Redis | None
) -> tuple[BaseStorage, BaseEventIsolation]:
    if redis is not None:
        from aiogram.fsm.storage.redis import RedisStorage

        storage = RedisStorage(redis)  # closing it closes the client the app shares
        return storage, storage.create_isolation()
    return SqlStorage(engine, clock), SimpleEventIsolation()


def _state_forgetter(bot: Bot, storage: BaseStorage) -> Callable[[int], Awaitable[None]]:
    """Ends a user's conversation state in their private chat (the erasure deletes the rows of
    SqlStorage itself; Redis keeps it outside the database)."""

    async def forget(user_id: int) -> None:
        key = StorageKey(bot_id=bot.id, chat_id=user_id, user_id=user_id)
        await storage.set_state(key, None)
        await storage.set_data(key, {})

    return forget


def create_app(
    settings: Settings, *, clock: Clock | None = None, catalog: Catalog | None = None
) -> App:
    """Build Bot, Dispatcher, storage and services. Raises SettingsError on a bad token."""
    token = settings.token()
    redis = _redis(settings)
    clock = clock or SystemClock()
    catalog = catalog or get_catalog()
    api = (
        TelegramAPIServer.from_base(settings.telegram_api_base)
        if settings.telegram_api_base
        else None
    )
    session = JsonSession(api=api) if api else JsonSession()
    session.middleware(RetryRequests())  # replies to users survive a 429, a 5xx, a dropped call
    bot = Bot(
        token,
        session=session,
        default=BOT_DEFAULTS,
    )
    engine = make_engine(settings.database_url)
    renderer = Renderer(globals_={"catalog": catalog, "settings": settings})
    users = UserService(engine, clock, settings.admin_ids)
    storage, isolation = _fsm(engine, clock, redis)
    volunteering = VolunteerService(engine, clock, renderer, settings)
    profiles = ProfileService(
        engine,
        clock,
        organisers=volunteering,
        catalog=catalog,
        forget_state=None if isinstance(storage, SqlStorage) else _state_forgetter(bot, storage),
    )
    measures = MeasureService(engine, catalog)
    catalogs = CatalogService(engine, catalog, clock)
    font = find_font(settings.font_path)
    if font is None:
        log.warning(
            "no font found: ikigai pictures are off, the text summary still works",
            extra={"hint": "install fonts-dejavu-core or set FONT_PATH"},
        )
    deps: dict[str, Any] = {
        "settings": settings,
        "catalog": catalog,
        "renderer": renderer,
        "clock": clock,
        "users": users,
        "profiles": profiles,
        "measures": measures,
        "catalogs": catalogs,
        "font": font,
        "painter": Painter(settings.picture_processes),
        "presses": (presses := AnswerPresses()),
    }
    # With Redis every instance books its sends on one timeline: SEND_RATE for all of them.
    limiter = None
    if redis is not None:
        from bot.ratelimit import RedisRateLimiter  # imports redis: only with REDIS_URL

        limiter = RedisRateLimiter(redis, settings.send_rate, key=f"opora:send-rate:{bot.id}")
    sender = Sender.from_settings(
        bot, engine, clock, settings, limiter=limiter, chat_pacer=limiter
    )
    coordination = CoordinationService(engine, clock, renderer, settings.default_locale)
    desk = DeskService(
        engine,
        clock,
        renderer,
        settings.default_locale,
        settings.desk_remind_hours,
        settings.default_timezone,
    )
    broadcasts = BroadcastService(engine, clock, renderer, sender, settings)
    stats = StatsService(engine, clock, catalog, settings)
    sharing = SharingService(engine, clock, renderer, catalog, settings, bot)
    volunteering.changed = sharing.wake
    deps.update(
        sharing=sharing,
        sender=sender,
        coordination=coordination,
        desk=desk,
        faq=FaqService(engine, clock),
        broadcasts=broadcasts,
        stats=stats,
        briefs=BriefService(stats, catalog, settings, clock),
        content_admin=ContentAdminService(engine, clock, catalog),
        volunteering=volunteering,
        peers=(peers := PeerService(engine, clock, renderer, settings, catalog)),
    )
    dp = _Dispatcher(storage=storage, events_isolation=isolation, **deps)
    # After aiogram's own (errors, user context, the FSM's per-user lock): the state is stored
    # inside the lock, and a user's updates that wait for their previous one hold no turn.
    if isinstance(storage, SqlStorage):
        dp.update.outer_middleware(_storing(storage))
    dp.update.outer_middleware(Turns(settings.updates_in_flight))
    dp.update.outer_middleware(
        FloodGuard(flood_refusal(renderer), settings.flood_burst, settings.flood_rate)
    )
    router = build_router()
    dp.update.outer_middleware(EndPrompts(prompts(router)))  # before the screen takes the state
    dp.update.outer_middleware(ContextMiddleware(users, renderer, settings.default_locale))
    dp.callback_query.middleware(presses)
    dp.include_router(router)
    planner = Planner(
        engine,
        clock,
        catalog,
        renderer,
        catalogs,
        measures,
        default_timezone=settings.default_timezone,
        reminder_days=settings.reminder_days,
        volunteering=volunteering,
        page=settings.planner_page,
    )
    app = App(
        settings=settings,
        bot=bot,
        dp=dp,
        engine=engine,
        renderer=renderer,
        catalog=catalog,
        clock=clock,
        users=users,
        profiles=profiles,
        catalogs=catalogs,
        sender=sender,
        planner=planner,
        broadcasts=broadcasts,
        volunteering=volunteering,
        retention=RetentionService(engine, clock, profiles, settings.retention_days),
        ticker=Ticker(settings.tick_seconds, lambda: app.tick()),
        workers=Workers(settings, engine),
        desk=desk,
        redis=redis,
        peers=peers,
        sharing=sharing,
    )
    return app
