"""The emulator: an aiohttp server speaking the Telegram Bot API, plus test switches."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import aiohttp
from aiohttp import web

from .client import EmulatedGroup, EmulatedUser, EmulatorTimeout
from .errors import ApiError, not_found, unauthorized
from .groups import GroupChat, member_json
from .methods import METHODS, MethodSpec
from .models import ApiCall
from .params import MAX_BODY, Params, Upload, check_replaced, normalize, read_request
from .state import BotState, Chat, EmulatorState, Notifier, WebhookConfig

if TYPE_CHECKING:
    from aiogram import Bot

JSON = dict[str, Any]
log = logging.getLogger(__name__)

TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{30,}$")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
DEFAULT_TOKEN = "123456789:AAEmulatorTestToken_opora_0123456789"  # noqa: S105 - fake token


def _dumps(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _response(payload: JSON, status: int = 200) -> web.Response:
    return web.Response(body=_dumps(payload), status=status, content_type="application/json")


def _error_response(error: ApiError) -> web.Response:
    return _response(error.to_payload(), error.error_code)


FaultKind = Literal["error", "delay", "drop"]


@dataclass(slots=True)
class Fault:
    """A pending fault: applies to the next ``remaining`` matching calls."""

    kind: FaultKind
    remaining: int
    method: str | None = None  # lower-cased method name, None = any method
    delay: float = 0.0
    status: int = 500
    description: str = "Internal Server Error"
    hits: int = 0
    hit: asyncio.Event = field(default_factory=asyncio.Event)  # set by the first matching call


def _group_chat(group: GroupChat | EmulatedGroup) -> GroupChat:
    return group.chat if isinstance(group, EmulatedGroup) else group


class Emulator:
    """A Telegram Bot API emulator over real HTTP.

    Point aiogram at it with
    ``AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url))`` (or use
    :meth:`make_bot`), and drive users with :meth:`user`.
    """

    DEFAULT_TOKEN = DEFAULT_TOKEN

    def __init__(
        self,
        bot_username: str = "opora_test_bot",
        *,
        bot_first_name: str = "Опора",
        token: str = DEFAULT_TOKEN,
        clock: Callable[[], float] = time.monotonic,
        record_calls: bool = True,
    ) -> None:
        if TOKEN_RE.fullmatch(token) is None:
            raise ValueError(f"not a valid bot token: {token!r}")
        self.state = EmulatorState(username=bot_username, first_name=bot_first_name, clock=clock)
        self.state.on_webhook_change = self._webhook_changed
        self.token = token
        self.record_calls = record_calls
        self.calls: list[ApiCall] = []
        self.calls_notifier = Notifier()
        self.webhook_retry_delay = 0.05
        self.webhook_max_retry_delay = 1.0
        self.webhook_timeout = 10.0
        self._faults: list[Fault] = []
        self._users: dict[tuple[int, str], EmulatedUser] = {}
        self._groups: dict[tuple[int, str], EmulatedGroup] = {}
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._session: aiohttp.ClientSession | None = None
        self._webhook_tasks: dict[str, asyncio.Task[None]] = {}
        self.state.bot(token)

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running server."""
        if self._base_url is None:
            raise RuntimeError("the emulator is not started; call await emulator.start()")
        return self._base_url

    @property
    def running(self) -> bool:
        return self._runner is not None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Start listening (``port=0`` picks a free port); see :attr:`base_url`."""
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        self.state.closing = False
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        address = runner.addresses[0]
        shown = f"[{address[0]}]" if ":" in address[0] else address[0]
        self._base_url = f"http://{shown}:{address[1]}"
        for bot in self.state.bots.values():
            if bot.webhook is not None:
                self._webhook_changed(bot)

    async def stop(self) -> None:
        """Stop the server; waiting long polls return at once."""
        self.state.closing = True
        for bot in self.state.bots.values():
            bot.update_notifier.notify()
        tasks = list(self._webhook_tasks.values())
        self._webhook_tasks.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        self._base_url = None

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ bots & users

    def api_url(self, method: str, token: str | None = None) -> str:
        return f"{self.base_url}/bot{token or self.token}/{method}"

    def file_url(self, file_path: str, token: str | None = None) -> str:
        return f"{self.base_url}/file/bot{token or self.token}/{file_path}"

    def register_bot(
        self, token: str, *, username: str | None = None, first_name: str | None = None
    ) -> BotState:
        """Declare a bot token (any valid token also works without this)."""
        if TOKEN_RE.fullmatch(token) is None:
            raise ValueError(f"not a valid bot token: {token!r}")
        self.state.bot_names[token] = (username, first_name)
        bot = self.state.bot(token)
        if username is not None:
            bot.username = username
        if first_name is not None:
            bot.first_name = first_name
        return bot

    def set_bot_username(self, username: str, token: str | None = None) -> None:
        self.register_bot(token or self.token, username=username)

    def bot_state(self, token: str | None = None) -> BotState:
        return self.state.bot(token or self.token)

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        is_premium: bool = False,
        token: str | None = None,
    ) -> EmulatedUser:
        """The emulated user ``user_id`` talking to the bot ``token`` (default bot).

        The same object is returned for the same id (later arguments are ignored).
        """
        token = token or self.token
        key = (user_id, token)
        existing = self._users.get(key)
        if existing is not None:
            return existing
        info = self.state.user_info(
            user_id,
            first_name=first_name or f"User{user_id}",
            last_name=last_name,
            username=username,
            language_code=language_code,
            is_premium=is_premium,
        )
        user = EmulatedUser(self, info, self.state.bot(token))
        self._users[key] = user
        return user

    def make_bot(self, token: str | None = None, **kwargs: Any) -> Bot:
        """An ``aiogram.Bot`` whose session talks to this emulator (close it yourself)."""
        from aiogram import Bot
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        session = AiohttpSession(api=TelegramAPIServer.from_base(self.base_url))
        return Bot(token or self.token, session=session, **kwargs)

    def _chat_for(self, user_id: int, token: str | None) -> Chat:
        bot = self.state.bot(token or self.token)
        info = self.state.user_info(user_id, first_name=f"User{user_id}")
        return bot.chat(info)

    # ------------------------------------------------------------------ switches

    def block(self, user_id: int, *, token: str | None = None, notify: bool = True) -> None:
        """The user blocks the bot: sends to them answer ``403 Forbidden``.

        With ``notify`` the bot gets a ``my_chat_member`` update (member -> kicked),
        as Telegram does.
        """
        chat = self._chat_for(user_id, token)
        if chat.blocked:
            return
        chat.blocked = True
        if notify and chat.started:
            self._push_member_update(chat, "member", "kicked")

    def unblock(self, user_id: int, *, token: str | None = None, notify: bool = True) -> None:
        chat = self._chat_for(user_id, token)
        if not chat.blocked:
            return
        chat.blocked = False
        if notify and chat.started:
            self._push_member_update(chat, "kicked", "member")

    def is_blocked(self, user_id: int, *, token: str | None = None) -> bool:
        return self._chat_for(user_id, token).blocked

    def _push_member_update(self, chat: Chat, old: str, new: str) -> None:
        bot = chat.bot
        old_member: JSON = {"user": bot.user_json(), "status": old}
        new_member: JSON = {"user": bot.user_json(), "status": new}
        for member in (old_member, new_member):
            if member["status"] == "kicked":
                member["until_date"] = 0
        bot.push_update(
            "my_chat_member",
            {
                "chat": chat.user.chat_json(),
                "from": chat.user.to_json(),
                "date": self.state.now(),
                "old_chat_member": old_member,
                "new_chat_member": new_member,
            },
        )

    # ------------------------------------------------------------------ groups & inline mode

    def set_inline_mode(
        self, enabled: bool = True, *, feedback: bool = False, token: str | None = None
    ) -> None:
        """BotFather's ``/setinline`` and ``/setinlinefeedback`` for the bot."""
        bot = self.state.bot(token or self.token)
        bot.inline_mode = enabled
        bot.inline_feedback = feedback
        if not enabled:
            bot.inline_cache.clear()

    def group(
        self,
        chat_id: int,
        title: str = "Group",
        *,
        chat_type: str = "supergroup",
        username: str | None = None,
        creator: EmulatedUser | None = None,
        forum: bool | None = None,
        token: str | None = None,
    ) -> EmulatedGroup:
        """A group, supergroup or channel (or, ``chat_type="private"``, a chat of a user with
        someone else the bot cannot see). The same object for the same id.

        With a ``creator`` it is a supergroup they created with the bot in it as an
        administrator with all rights (change with :meth:`EmulatedGroup.set_bot`), a forum
        unless ``forum=False``; without one the bot is not in it until :meth:`add_bot`."""
        token = token or self.token
        key = (chat_id, token)
        existing = self._groups.get(key)
        if existing is not None:
            return existing
        bot = self.state.bot(token)
        chat = bot.groups.get(chat_id)
        if not isinstance(chat, GroupChat):
            if chat_type != "private" and chat_id >= 0:
                raise ValueError("group chat ids are negative")
            is_forum = forum if forum is not None else creator is not None
            chat = GroupChat(
                bot,
                chat_id,
                title,
                chat_type,
                username,
                is_forum=is_forum,
                creator=creator.info if creator is not None else None,
            )
            bot.groups[chat_id] = chat
        group = EmulatedGroup(self, chat)
        if creator is not None:
            group.set_bot()
        self._groups[key] = group
        return group

    def set_member(self, chat: GroupChat | EmulatedGroup, user_id: int, status: str) -> None:
        """A user's status in a group (creator, administrator, member, left, kicked)."""
        _group_chat(chat).set_membership(user_id, status)

    def add_bot(
        self,
        group: GroupChat | EmulatedGroup,
        *,
        by: int,
        status: str = "administrator",
        can_post_messages: bool = True,
        can_edit_messages: bool = True,
    ) -> None:
        """``by`` adds (or promotes, demotes, restricts, removes: ``status="left"`` or
        ``"kicked"``) the bot; the bot gets ``my_chat_member``, as Telegram sends it: only
        when its status or rights changed. A channel takes a bot only as an administrator,
        and only a supergroup restricts members."""
        chat = _group_chat(group)
        bot = chat.bot
        if chat.chat_type == "channel" and status in ("member", "restricted"):
            raise ValueError("a bot can be added to a channel only as an administrator")
        if status == "restricted" and chat.chat_type != "supergroup":
            raise ValueError("only a supergroup restricts members")
        old = member_json(bot.user_json(), chat.bot_status, chat.bot_rights)
        rights: dict[str, bool] = {}
        if status == "administrator":
            rights = {"can_manage_chat": True, "can_delete_messages": True}
            if chat.chat_type == "channel":
                rights["can_post_messages"] = can_post_messages
                rights["can_edit_messages"] = can_edit_messages
        new = member_json(bot.user_json(), status, rights)
        if new == old:
            return
        chat.set_membership(bot.id, status, rights)
        info = self.state.user_info(by, first_name=f"User{by}")
        bot.push_update(
            "my_chat_member",
            {
                "chat": chat.chat_json(),
                "from": info.to_json(),
                "date": self.state.now(),
                "old_chat_member": old,
                "new_chat_member": new,
            },
        )

    def set_flood_limits(
        self,
        global_rate: float | None = None,
        chat_rate: float | None = None,
        *,
        retry_after: int | None = 1,
        global_burst: float | None = None,
        chat_burst: float | None = None,
        methods: set[str] | None = None,
    ) -> None:
        """Enable flood control: ``global_rate`` sends/s per bot across all chats and
        ``chat_rate`` sends/s to one chat (token buckets; bursts default to the rate).

        Exceeding either answers ``429 Too Many Requests: retry after N``
        (``retry_after=None`` computes N from the bucket). ``None`` disables a limit.
        ``methods`` (case-insensitive) replaces the set of rate-limited methods.
        """
        self.state.flood.configure(
            global_rate=global_rate,
            chat_rate=chat_rate,
            retry_after=retry_after,
            global_burst=global_burst,
            chat_burst=chat_burst,
        )
        if methods is not None:
            self.state.flood.methods = {m.lower() for m in methods}

    def disable_flood_limits(self) -> None:
        self.set_flood_limits(None, None)

    @property
    def flood_429_count(self) -> int:
        """How many requests flood control refused so far."""
        return self.state.flood.rejected

    def fail_next(
        self,
        count: int = 1,
        method: str | None = None,
        *,
        status: int = 500,
        description: str = "Internal Server Error",
    ) -> Fault:
        """The next ``count`` calls (of ``method``, if given) answer an HTTP error."""
        return self._add_fault(
            Fault("error", count, _lower(method), status=status, description=description)
        )

    def delay_next(self, seconds: float, count: int = 1, method: str | None = None) -> Fault:
        """The next ``count`` calls (of ``method``) are answered ``seconds`` later."""
        return self._add_fault(Fault("delay", count, _lower(method), delay=seconds))

    def drop_next(self, count: int = 1, method: str | None = None) -> Fault:
        """The next ``count`` calls (of ``method``) get their connection closed unanswered."""
        return self._add_fault(Fault("drop", count, _lower(method)))

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def pending_faults(self) -> list[Fault]:
        return list(self._faults)

    def _add_fault(self, fault: Fault) -> Fault:
        if fault.remaining < 1:
            raise ValueError("count must be positive")
        self._faults.append(fault)
        return fault

    def _take_fault(self, key: str) -> Fault | None:
        for index, fault in enumerate(self._faults):
            if fault.method is None or fault.method == key:
                fault.remaining -= 1
                fault.hits += 1
                fault.hit.set()
                if fault.remaining <= 0:
                    del self._faults[index]
                return fault
        return None

    # ------------------------------------------------------------------ inspection

    def rejections(
        self, *, include_flood: bool = False, include_server_errors: bool = False
    ) -> list[ApiCall]:
        """Calls Telegram would have rejected: 4xx answers except flood-control 429s
        (unless ``include_flood``); injected 5xx/dropped calls with
        ``include_server_errors``."""
        result: list[ApiCall] = []
        for call in self.calls:
            code = call.error_code
            if code is None:
                continue
            if code == 429 and not include_flood:
                continue
            if 400 <= code < 500 or (include_server_errors and (code >= 500 or code == 0)):
                result.append(call)
        return result

    def calls_of(self, method: str) -> list[ApiCall]:
        """Recorded calls of one method (case-insensitive)."""
        key = method.lower()
        return [call for call in self.calls if call.method.lower() == key]

    async def wait_for_call(
        self,
        method: str,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
        predicate: Callable[[ApiCall], bool] | None = None,
    ) -> ApiCall:
        """Wait until ``count`` calls of ``method`` (matching ``predicate``) were recorded,
        counting calls made before this wait too; returns the ``count``-th one."""
        key = method.lower()
        found: list[ApiCall] = []
        scanned = 0

        def enough() -> bool:
            nonlocal scanned
            calls = self.calls
            while scanned < len(calls):
                call = calls[scanned]
                scanned += 1
                if call.method.lower() == key and (predicate is None or predicate(call)):
                    found.append(call)
            return len(found) >= count

        if not await self.calls_notifier.wait_for(enough, timeout):
            recent = "\n".join(
                f"  {c.method} ok={c.ok} {c.description or ''}" for c in self.calls[-15:]
            )
            raise EmulatorTimeout(
                f"expected {count} call(s) of {method} within {timeout:g}s, got {len(found)}; "
                f"recent calls:\n{recent or '  (none)'}"
            )
        return found[count - 1]

    def delivered(self, chat_id: int, *, token: str | None = None) -> int:
        """How many bot messages were delivered to ``chat_id``."""
        chat = self.state.bot(token or self.token).chats.get(chat_id)
        return chat.delivered if chat is not None else 0

    def delivered_counts(self, *, token: str | None = None) -> dict[int, int]:
        bot = self.state.bot(token or self.token)
        return {chat_id: chat.delivered for chat_id, chat in bot.chats.items() if chat.delivered}

    def commands(
        self, scope: JSON | None = None, language_code: str = "", *, token: str | None = None
    ) -> list[JSON]:
        """Commands set with ``setMyCommands`` for that scope and language (no fallback)."""
        from .methods import scope_key

        bot = self.state.bot(token or self.token)
        return [dict(c) for c in bot.commands.get((scope_key(scope), language_code), [])]

    def pending_updates(self, *, token: str | None = None) -> list[JSON]:
        """Updates queued for the bot and not yet confirmed/delivered."""
        return list(self.state.bot(token or self.token).updates)

    def push_update(self, kind: str, payload: JSON, *, token: str | None = None) -> JSON | None:
        """Queue a raw update of any type (escape hatch for update kinds not modelled)."""
        return self.state.bot(token or self.token).push_update(kind, payload)

    # ------------------------------------------------------------------ HTTP handlers

    def _record(
        self,
        bot_id: int,
        method: str,
        params: JSON,
        started: float,
        *,
        result: Any = None,
        error: ApiError | None = None,
        status: int | None = None,
    ) -> None:
        if not self.record_calls:
            return
        self.calls.append(
            ApiCall(
                bot_id=bot_id,
                method=method,
                params=params,
                ok=error is None and status is None,
                error_code=error.error_code if error is not None else status,
                description=error.description if error is not None else None,
                time=started,
                result=result,
                http_status=(error.error_code if error is not None else (status or 200)),
            )
        )
        self.calls_notifier.notify()

    async def _execute(
        self, bot: BotState, spec: MethodSpec, params: Params, started: float
    ) -> tuple[Any, ApiError | None]:
        try:
            check_replaced(params.values)
            result = await spec.handler(self.state, bot, params)
        except ApiError as exc:
            self._record(bot.id, spec.name, params.values, started, error=exc)
            return None, exc
        except Exception as exc:  # an emulator bug: answer like Telegram's 500, keep going
            log.exception("emulator failed in %s", spec.name)
            error = ApiError(500, f"Internal Server Error: emulator bug: {exc!r}")
            self._record(bot.id, spec.name, params.values, started, error=error)
            return None, error
        self._record(bot.id, spec.name, params.values, started, result=result)
        return result, None

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        started = self.state.clock()
        token = request.match_info["token"]
        raw_method = request.match_info["method"]
        if TOKEN_RE.fullmatch(token) is None:
            error = unauthorized()
            self._record(0, raw_method, {}, started, error=error)
            return _error_response(error)
        bot = self.state.bot(token)
        key = raw_method.lower()
        spec = METHODS.get(key)
        name = spec.name if spec is not None else raw_method
        try:
            values, files = await read_request(request)
        except ApiError as exc:
            self._record(bot.id, name, {}, started, error=exc)
            return _error_response(exc)
        params = Params(normalize(values), files)
        if spec is None:
            error = not_found()
            self._record(bot.id, name, params.values, started, error=error)
            return _error_response(error)
        if self._faults:
            fault = self._take_fault(key)
            if fault is not None:
                if fault.kind == "delay":
                    await asyncio.sleep(fault.delay)
                elif fault.kind == "drop":
                    self._record(bot.id, name, params.values, started, status=0)
                    transport = request.transport
                    if transport is not None:
                        transport.abort()
                    return web.Response(status=500)
                else:
                    error = ApiError(fault.status, fault.description)
                    self._record(bot.id, name, params.values, started, error=error)
                    return _error_response(error)
        result, failure = await self._execute(bot, spec, params, started)
        if failure is not None:
            return _error_response(failure)
        return _response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        if TOKEN_RE.fullmatch(token) is None:
            return _error_response(unauthorized())
        stored = self.state.files_by_path.get(request.match_info["path"])
        if stored is None:
            return _error_response(not_found())
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    async def _handle_unknown(self, request: web.Request) -> web.StreamResponse:
        return _error_response(not_found())

    # ------------------------------------------------------------------ webhooks

    def _webhook_changed(self, bot: BotState) -> None:
        if self._runner is None or bot.webhook is None:
            return
        task = self._webhook_tasks.get(bot.token)
        if task is None or task.done():
            self._webhook_tasks[bot.token] = asyncio.get_running_loop().create_task(
                self._deliver_webhook(bot), name=f"emulator-webhook-{bot.id}"
            )

    def _client_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _deliver_webhook(self, bot: BotState) -> None:
        """POST queued updates to the webhook in order; retry with backoff, never drop."""
        delay = self.webhook_retry_delay
        state = self.state
        while not state.closing:
            config = bot.webhook
            if config is None:
                return
            if not bot.updates:
                await bot.update_notifier.wait_for(_webhook_wakeup(bot, config, state), 3600.0)
                continue
            update = bot.updates[0]
            error, reply = await self._post_update(config, update)
            if error is None:
                if bot.updates and bot.updates[0] is update:
                    bot.updates.popleft()
                bot.webhook_deliveries += 1
                bot.activity.notify()
                delay = self.webhook_retry_delay
                if reply is not None:
                    await self._run_webhook_reply(bot, reply)
                continue
            bot.webhook_failures += 1
            bot.webhook_last_error_date = state.now()
            bot.webhook_last_error_message = error
            bot.activity.notify()
            await bot.update_notifier.wait_for(
                _webhook_wakeup(bot, config, state, on_update=False), delay
            )
            delay = min(delay * 2, self.webhook_max_retry_delay)

    async def _post_update(
        self, config: WebhookConfig, update: JSON
    ) -> tuple[str | None, tuple[JSON, dict[str, Upload]] | None]:
        headers = {"Content-Type": "application/json"}
        if config.secret_token:
            headers[SECRET_HEADER] = config.secret_token
        session = self._client_session()
        try:
            async with session.post(
                config.url,
                data=_dumps(update),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as response:
                if not 200 <= response.status < 300:
                    error = f"Wrong response from the webhook: {response.status} {response.reason}"
                    return error, None
                return None, await _read_webhook_reply(response)
        except TimeoutError:
            return "Read timeout expired", None
        except (aiohttp.ClientError, OSError) as exc:
            return f"Connection failed: {type(exc).__name__}: {exc}", None

    async def _run_webhook_reply(
        self, bot: BotState, reply: tuple[JSON, dict[str, Upload]]
    ) -> None:
        values, files = reply
        method = values.pop("method", None)
        if not isinstance(method, str):
            return
        spec = METHODS.get(method.lower())
        if spec is None:
            return
        await self._execute(bot, spec, Params(normalize(values), files), self.state.clock())


async def _read_webhook_reply(
    response: aiohttp.ClientResponse,
) -> tuple[JSON, dict[str, Upload]] | None:
    """A Bot API call returned in the webhook's response body, if any."""
    ctype = response.content_type
    if ctype == "application/json":
        try:
            data = await response.json()
        except (ValueError, aiohttp.ContentTypeError):
            return None
        if isinstance(data, dict) and "method" in data:
            return data, {}
        return None
    if ctype.startswith("multipart/"):
        values: JSON = {}
        files: dict[str, Upload] = {}
        reader = aiohttp.MultipartReader(response.headers, response.content)
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                continue
            if part.filename is not None:
                upload = Upload(part.name, part.filename, bytes(await part.read()))
                files[part.name] = upload
                values[part.name] = upload
            else:
                values[part.name] = await part.text()
        return (values, files) if "method" in values else None
    return None


def _webhook_wakeup(
    bot: BotState, config: WebhookConfig, state: EmulatorState, *, on_update: bool = True
) -> Callable[[], bool]:
    def ready() -> bool:
        return (on_update and bool(bot.updates)) or bot.webhook is not config or state.closing

    return ready


def _lower(method: str | None) -> str | None:
    return method.lower() if method is not None else None
