"""The playground: the real app polling the built-in Bot API emulator, and a web chat (aiohttp,
plain HTML/CSS/JS from `static/`) where a few simulated people talk to it.

The page holds one WebSocket. The server sends `state` (everything: people, their chats,
the group, command menus, the clock, the page's texts) on connect and after a change of
language, then `message` (a message was sent, edited or deleted in a person's chat, or, with
`group` instead of `person`, in the group: the page draws it in place), `clock`,
`answer` (a button press was answered) and `notice` (input refused, with the reason). The page
sends `send`, `press`, `clock` and `language`. Files go over plain HTTP: `GET /files/<id>`
and `POST /upload`.

Every request must name the playground in its Host header: localhost, a loopback address, the
host it was told to listen on, or, listening on all interfaces, one of this machine's
addresses or its name. Anything else is refused with 403: a site whose name its DNS points
at this machine (DNS rebinding) would otherwise be the page's own origin and get all chats.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import json
import logging
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, hdrs, web
from pydantic import SecretStr

from bot.config import Settings
from bot.emulator import DEFAULT_TOKEN, EmulatedUser, Emulator, EmulatorTimeout
from bot.emulator.html import utf16_len
from bot.emulator.methods import image_size
from bot.emulator.state import StoredMessage
from bot.infra.clock import ManualClock
from bot.playground.render import message_payload
from bot.playground.store import ChatStore
from bot.storage import outbox as outbox_repo
from bot.ui.keyboards import Lang
from bot.ui.render import MESSAGE_LIMIT, Renderer

log = logging.getLogger(__name__)
JSON = dict[str, Any]
STATIC = Path(__file__).resolve().parent / "static"
BOT_USERNAME = "opora_playground_bot"
MAX_PARTS = 10  # a longer paste is refused with a note instead of flooding the bot
MAX_UPLOAD = 20 * 1024 * 1024  # what a bot may download from Telegram
STEPS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}
HOUR = timedelta(hours=1)  # a clock jump stops at every full hour: the scheduler's grain
MAX_STOPS = 400  # a week of hours, and the moments pushes fall due between them
DELIVER_SECONDS = 30.0  # how long one stop waits for the sender at most
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'none'"
)
LANGUAGE_CHOICE = Lang.__prefix__ + ":"  # what /language's buttons send
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
ALL_INTERFACES = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - names, not a bind


def _(message: str) -> str:
    """Marks a page text for extraction; translated when the state is sent."""
    return message


def n_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a page text with a `{count}` (keyword ``n_:1,2``): the state carries its form
    for each plural category (Intl.PluralRules), and the page picks one by the count."""
    return (singular, plural)


# a count of each category that our languages have (ru: one/few/many, en: one/other)
PLURAL_SAMPLES = {"one": 1, "few": 2, "many": 5, "other": 5}


@dataclass(frozen=True)
class Person:
    id: int
    first_name: str
    username: str
    role: str
    admin: bool = False


PEOPLE = (
    Person(700001, "Анна", "anna_activist", "activist"),
    Person(700002, "Борис", "boris_volunteer", "volunteer"),
    Person(700003, "Вера", "vera_coordinator", "coordinator", admin=True),
)
COORDINATOR = PEOPLE[2]


@dataclass(frozen=True)
class Group:
    id: int
    title: str
    username: str


# A group where the coordinator made the bot an administrator (my_chat_member at start-up):
# she posts opportunity cards into it, the page shows it read-only with their live free places.
GROUP = Group(-1001000000001, "Добровольцы района", "dobro_rayon_playground")

# The page's own texts; `{name}`-style fields are filled in by the page.
TEXTS: dict[str, str | tuple[str, str]] = {
    "title": _("Opora playground"),
    "bot_status": _("bot"),
    "people": _("Who you are"),
    "activist": _("Activist"),
    "volunteer": _("Volunteer"),
    "coordinator": _("Coordinator, admin"),
    "clock": _("Bot time"),
    "clock_hint": _("Move the bot's clock forward: what is scheduled arrives at once"),
    "hour": _("+1 hour"),
    "day": _("+1 day"),
    "week": _("+1 week"),
    "language": _("Telegram language of the people"),
    "message": _("Message"),
    "send": _("Send"),
    "menu": _("Menu"),
    "commands": _("Commands"),
    "attach": _("Attach a file"),
    "empty": _("{name} has not talked to the bot yet. Press “Start the bot” to begin."),
    "start": _("Start the bot"),
    "edited": _("edited"),
    "download": _("Download"),
    "photo": _("Photo"),
    "spoiler": _("Hidden text: press to show"),
    "copied": _("Copied"),
    "unsupported": _("This button does not work in the playground"),
    "unread": n_("{count} new message", "{count} new messages"),
    "ok": _("OK"),
    "connecting": _("Connecting to the playground…"),
    "too_long": _("The message is too long: at most {limit} characters at once."),
    "upload_failed": _("The file was not sent."),
    "skip": _("Go to the message box"),
    "group": _("Group"),
    "group_role": _("cards posted"),
    "group_status": _("group: you read it, the bot posts"),
    "group_empty": _(
        "Nothing here yet. An organiser posts an opportunity’s card into this group from "
        "the bot; its free places update by themselves."
    ),
    "about": _(
        "The bot runs on a built-in Telegram emulator. To connect a real bot, put "
        "BOT_TOKEN from @BotFather into .env and restart."
    ),
}


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut a long message the way Telegram apps do: parts of at most ``limit`` UTF-16 units,
    at a line break or a space when there is one in the second half."""
    parts: list[str] = []
    while utf16_len(text) > limit:
        units = 0
        fits = 0
        for index, char in enumerate(text):
            units += 2 if ord(char) > 0xFFFF else 1
            if units > limit:
                fits = index
                break
        cut = fits
        for separator in ("\n", " "):
            found = text.rfind(separator, fits // 2, fits)
            if found > 0:
                cut = found + 1
                break
        parts.append(text[:cut])
        text = text[cut:]
    parts.append(text)
    return [part for part in parts if part.strip()]


class _Client:
    """One open page: its socket and an ordered queue of events to write to it."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()

    def put(self, event: JSON) -> None:
        self.queue.put_nowait(json.dumps(event, ensure_ascii=False))

    async def write(self) -> None:
        while (data := await self.queue.get()) is not None:
            if self.ws.closed:
                return
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.send_str(data)


class Playground:
    """The bot on the emulator plus the web chat. ``await start(host, port)``, ``stop()``."""

    def __init__(self, settings: Settings, data_dir: Path) -> None:
        self.settings = settings
        self.store = ChatStore(data_dir)
        saved = self.store.load()
        self.clock = ManualClock(offset=saved.offset)
        self.language = saved.language
        self.chose_language = set(saved.chose_language)
        self.emulator = Emulator(
            bot_username=BOT_USERNAME, bot_first_name="Опора", record_calls=False
        )
        self.emulator.state.wall_clock = lambda: self.clock.now().timestamp()
        self.emulator.set_inline_mode(feedback=True)  # cards shared inline update in place
        self.renderer = Renderer()
        self.users: dict[int, EmulatedUser] = {}
        for person in PEOPLE:
            user = self.emulator.user(
                person.id,
                person.first_name,
                username=person.username,
                language_code=self.language,
            )
            self.store.restore(self.emulator.state, user.chat, saved.chats.get(person.id, []))
            self.users[person.id] = user
        self.group = self.emulator.group(GROUP.id, GROUP.title, username=GROUP.username)
        for person in PEOPLE:
            status = "creator" if person is COORDINATOR else "member"
            self.group.add(self.users[person.id], status=status)
        self.store.restore(self.emulator.state, self.group.chat, saved.chats.get(GROUP.id, []))
        self.app: Any = None  # bot.app.App once started (imported late: it loads the catalog)
        self.url: str | None = None  # the page's address on this machine
        self._hosts: frozenset[str] = LOOPBACK  # the names a request's Host may give
        self._everywhere = False  # listening on all interfaces
        self._port = 0
        self._polling: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None
        self._clients: set[_Client] = set()
        self._writers: set[asyncio.Task[None]] = set()
        self._presses: set[asyncio.Task[None]] = set()
        self._shown: dict[int, dict[int, tuple[int, bool]]] = {
            chat_id: self._versions(chat_id) for chat_id in self._chats()
        }
        self._dirty: set[int] = set()
        self._flush_pending = False
        self._save_handle: asyncio.TimerHandle | None = None
        self._clock_lock = asyncio.Lock()
        self._unsubscribe = [
            chat.notifier.subscribe(functools.partial(self._changed, chat_id))
            for chat_id, chat in self._chats().items()
        ]

    # ------------------------------------------------------------------ lifecycle

    @property
    def polling(self) -> asyncio.Task[None]:
        """The bot's polling task (ends when the bot stops)."""
        if self._polling is None:
            raise RuntimeError("the playground is not started")
        return self._polling

    def bot_settings(self) -> Settings:
        """The settings the bot runs with: the emulator's address and token, the coordinator
        made admin, long polling, no Redis."""
        return self.settings.model_copy(
            update={
                "bot_token": SecretStr(DEFAULT_TOKEN),
                "telegram_api_base": self.emulator.base_url,
                "admin_ids": self.settings.admin_ids | {COORDINATOR.id},
                "mode": "polling",
                "redis_url": None,  # one process: nothing shared with a real deployment's Redis
            }
        )

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start the emulator, the web server (failing fast if the port is taken) and the
        bot; returns the page's address once the bot polls."""
        from bot.app import create_app

        await self.emulator.start()
        try:
            await self._serve(host, port)
            self.app = create_app(self.bot_settings(), clock=self.clock)
            self._polling = asyncio.create_task(self.app.run_polling(handle_signals=False))
            ready = asyncio.ensure_future(self.app.ready.wait())
            await asyncio.wait({ready, self._polling}, return_when=asyncio.FIRST_COMPLETED)
            if self._polling.done():
                ready.cancel()
                self._polling.result()  # start-up failed: raise why
                raise RuntimeError("the bot stopped while starting")
            # The coordinator makes the bot an administrator of the group (again, after a
            # restart: the emulator starts afresh); the bot remembers it from my_chat_member.
            self.emulator.add_bot(self.group, by=COORDINATOR.id)
        except BaseException:
            await self.stop()
            raise
        self._broadcast(self._state())  # command menus are there now
        assert self.url is not None
        return self.url

    async def _serve(self, host: str, port: int) -> None:
        web_app = web.Application(
            client_max_size=MAX_UPLOAD, middlewares=[_headers, _host_guard(self)]
        )
        web_app.router.add_get("/", self._index)
        web_app.router.add_get("/ws", self._socket)
        web_app.router.add_get("/files/{file_id}", self._file)
        web_app.router.add_post("/upload", self._upload)
        web_app.router.add_static("/static", STATIC)
        runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        bound = [str(address[0]) for address in runner.addresses]
        self._everywhere = host.strip().lower() in ALL_INTERFACES
        names = {socket.gethostname().lower()} if self._everywhere else {_bare(host), *bound}
        self._hosts = LOOPBACK | names
        bound_host, self._port = bound[0], int(runner.addresses[0][1])
        shown = "127.0.0.1" if bound_host in ALL_INTERFACES else bound_host
        self.url = f"http://{_bracketed(shown)}:{self._port}"

    def where(self) -> str:
        """Where to open the page, for the line `python -m bot` prints: its address, or,
        listening on all interfaces, the local one and this machine's others."""
        assert self.url is not None, "not started"
        if not self._everywhere:
            return f"open {self.url}"
        port = self._port
        others = [f"http://{_bracketed(a)}:{port}" for a in machine_addresses()]
        elsewhere = ", ".join(others) or f"http://<this machine's address>:{port}"
        return (
            f"listening on all interfaces, port {port}: open {self.url} here, or {elsewhere} "
            "from another device (anyone on the network can)"
        )

    def serves(self, host: str | None) -> bool:
        """Whether a request with this Host header is for the playground (see the module)."""
        name = _host_name(host)
        if name is None:
            return False
        if name in self._hosts:
            return True
        if not self._everywhere:
            return False
        # Listening on all interfaces, a request by address came to one of this machine's
        # (or to a port forwarded to it). An address is no name DNS rebinding can lend.
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True

    async def stop(self) -> None:
        """Close the pages, stop the bot, save the chats, stop the emulator."""
        for client in list(self._clients):
            client.queue.put_nowait(None)
            await client.ws.close(code=1001, message=b"the playground stopped")
        for task in list(self._presses):
            task.cancel()
        await asyncio.gather(*self._presses, *self._writers, return_exceptions=True)
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        if self.app is not None and self._polling is not None:
            await self.app.stop()
            with contextlib.suppress(Exception):
                await self._polling
        elif self.app is not None:
            await self.app.close()
        if self._save_handle is not None:
            self._save_handle.cancel()
        self.save()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        await self.emulator.stop()

    def save(self) -> None:
        self._save_handle = None
        try:
            self.store.save(
                self.clock.offset, self.language, self._chats(), frozenset(self.chose_language)
            )
        except OSError as exc:
            log.warning("playground history not saved", extra={"error": str(exc)})

    # ------------------------------------------------------------------ what the page sees

    def _chats(self) -> dict[int, Any]:
        """Every chat the page shows: the people's (by their id) and the group (by its)."""
        chats: dict[int, Any] = {pid: user.chat for pid, user in self.users.items()}
        chats[GROUP.id] = self.group.chat
        return chats

    def _versions(self, chat_id: int) -> dict[int, tuple[int, bool]]:
        chat = self._chats()[chat_id]
        return {mid: (m.version, m.deleted) for mid, m in chat.messages.items()}

    def _payload(self, message: StoredMessage) -> JSON:
        return message_payload(message, BOT_USERNAME)

    def _commands(self, person_id: int) -> list[JSON]:
        """The menu Telegram shows in this private chat: the most specific scope, the
        person's language before the default one."""
        scopes: list[JSON | None] = [
            {"type": "chat", "chat_id": person_id},
            {"type": "all_private_chats"},
            None,
        ]
        for scope in scopes:
            for language in (self.language, ""):
                found = self.emulator.commands(scope, language)
                if found:
                    return found
        return []

    def _clock_event(self) -> JSON:
        return {
            "type": "clock",
            "now": self.clock.now().isoformat(),
            "offset": self.clock.offset.total_seconds(),
            "zone": self.settings.default_timezone,
        }

    def _text(self, msgid: str | tuple[str, str]) -> str | dict[str, str]:
        if isinstance(msgid, str):
            return self.renderer.gettext(self.language, msgid)
        singular, plural = msgid
        return {
            category: self.renderer.ngettext(self.language, singular, plural, n)
            for category, n in PLURAL_SAMPLES.items()
        }

    def _state(self) -> JSON:
        texts = {key: self._text(msgid) for key, msgid in TEXTS.items()}
        people = [
            {
                "id": person.id,
                "name": person.first_name,
                "role": person.role,
                "admin": person.admin,
                "commands": self._commands(person.id),
                "messages": [
                    self._payload(m)
                    for m in self.users[person.id].chat.messages.values()
                    if not m.deleted
                ],
            }
            for person in PEOPLE
        ]
        groups = [
            {
                "id": GROUP.id,
                "title": GROUP.title,
                "username": GROUP.username,
                "messages": [
                    self._payload(m) for m in self.group.chat.messages.values() if not m.deleted
                ],
            }
        ]
        return {
            "type": "state",
            "language": self.language,
            "texts": texts,
            "bot": {"name": "Опора", "username": BOT_USERNAME},
            "people": people,
            "groups": groups,
            "limit": MESSAGE_LIMIT * MAX_PARTS,
            "clock": self._clock_event(),
        }

    def _broadcast(self, event: JSON) -> None:
        for client in self._clients:
            client.put(event)

    def _changed(self, chat_id: int) -> None:
        """A chat changed (called inside the emulator): draw it on the next loop turn."""
        self._dirty.add(chat_id)
        if not self._flush_pending:
            self._flush_pending = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_pending = False
        dirty, self._dirty = self._dirty, set()
        chats = self._chats()
        for chat_id in sorted(dirty, key=abs):
            shown = self._shown[chat_id]
            where = "group" if chat_id == GROUP.id else "person"
            for mid, message in chats[chat_id].messages.items():
                key = (message.version, message.deleted)
                if shown.get(mid) == key:
                    continue
                shown[mid] = key
                payload = self._payload(message)
                self._broadcast({"type": "message", where: chat_id, "message": payload})
        self._schedule_save()

    def _schedule_save(self) -> None:
        if self._save_handle is None:
            self._save_handle = asyncio.get_running_loop().call_later(1.0, self.save)

    # ------------------------------------------------------------------ what the page does

    async def send(self, person_id: int, text: str) -> str | None:
        """Send as the person; returns a notice key when the text is refused."""
        parts = split_text(text)
        if len(parts) > MAX_PARTS:
            return "too_long"
        user = self.users[person_id]
        for part in parts:
            with contextlib.suppress(ValueError):  # only spaces left: Telegram sends nothing
                await user.send(part)
        return None

    async def press(self, person_id: int, message_id: int, data: str) -> JSON | None:
        """Press a callback button; the answer (toast or alert), None when unanswered."""
        user = self.users[person_id]
        stored = user.chat.messages.get(message_id)
        if stored is None or stored.deleted or len(data.encode()) > 64:
            return None
        if data.startswith(LANGUAGE_CHOICE):  # chosen in the bot: the page's switch leaves it
            self.chose_language.add(person_id)
        try:
            answer = await user.press_data(data, message=user.current(message_id), timeout=30)
        except EmulatorTimeout:
            return None
        return {"text": answer.text, "alert": answer.show_alert}

    async def advance(self, step: str) -> None:
        """Move the bot's clock forward as time would pass (see `_walk`): what falls due on
        the way arrives at once, in order, dated when it fell due."""
        async with self._clock_lock:
            offset = self.clock.offset + STEPS[step]
            if self.app is not None:
                try:
                    await self._walk(self.clock.now() + STEPS[step])
                except Exception:
                    log.exception("playground clock walk failed")
            # The step exactly, as if the jump took no time (the walk's stops took some).
            self.clock.offset = max(self.clock.offset, offset)
            self._broadcast(self._clock_event())
            self._schedule_save()

    async def _walk(self, target: datetime) -> None:
        """Stop at every full hour of the bot's clock and at every moment an outbox row falls
        due (quiet hours hold pushes back to a later moment), up to `target`; at each stop
        tick the scheduler and let the sender deliver everything due. A digest, reminder or
        held push inside the span so arrives at its own time, in due order, as if the clock
        had run there; one jump to the end would skip what was due only on the way."""
        for _ in range(MAX_STOPS):
            now = self.clock.now()
            if now >= target:
                return
            stop = min(target, now.replace(minute=0, second=0, microsecond=0) + HOUR)
            due = await self._next_due()
            if due is not None and now < due < stop:
                stop = due
            self.clock.advance(stop - now)
            await self.app.tick()
            await self._deliver()
        log.warning("playground clock walk cut short", extra={"stops": MAX_STOPS})

    async def _next_due(self) -> datetime | None:
        async with self.app.engine.connect() as conn:
            return await outbox_repo.next_due(conn)

    async def _deliver(self) -> None:
        """Wake the sender and wait until nothing due now is left in the outbox (a row whose
        retry comes later is a later stop of the walk). At most `DELIVER_SECONDS`."""
        sender = self.app.sender
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DELIVER_SECONDS
        while loop.time() < deadline:
            due = await self._next_due()
            if not sender.in_memory and (due is None or due > self.clock.now()):
                return
            since = sender.version
            sender.wake()
            with contextlib.suppress(TimeoutError):
                await sender.changed(since, timeout=1.0)
        log.warning("playground: the sender did not deliver what is due in time")

    async def set_language(self, language: str) -> None:
        """The people's Telegram language: the app's, so the bot answers in it. The bot keeps
        the language a person consented in; one who never chose with /language follows
        Telegram's, as the page's switch stands for them changing their app's language."""
        self.language = language
        for person_id, user in self.users.items():
            user.info.language_code = language
            if self.app is not None and person_id not in self.chose_language:
                known = await self.app.users.get(person_id)
                if known is not None and known.locale not in (None, language):
                    await self.app.users.set_locale(person_id, language)
        self._broadcast(self._state())
        self._schedule_save()

    # ------------------------------------------------------------------ HTTP

    async def _index(self, request: web.Request) -> web.StreamResponse:
        response = web.FileResponse(STATIC / "index.html")
        response.headers["Cache-Control"] = "no-store"
        return response

    async def _file(self, request: web.Request) -> web.StreamResponse:
        stored = self.emulator.state.files.get(request.match_info["file_id"])
        if stored is None:
            raise web.HTTPNotFound()
        if stored.kind == "document":
            name = stored.file_name or stored.file_path.rsplit("/", 1)[-1]
            # A PDF (a certificate) says so: a browser then offers to open it, not only save it.
            pdf = stored.data.startswith(b"%PDF-")
            return web.Response(
                body=stored.data,
                content_type="application/pdf" if pdf else "application/octet-stream",
                headers={"Content-Disposition": _attachment(name)},
            )
        return web.Response(body=stored.data, content_type=_image_type(stored.data))

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        if not _same_origin(request):
            raise web.HTTPForbidden()
        form = await request.post()
        person_id = _int(form.get("person"))
        upload = form.get("file")
        if person_id not in self.users or not isinstance(upload, web.FileField):
            raise web.HTTPBadRequest(text="person and file are required")
        data = upload.file.read()
        if not data:
            raise web.HTTPBadRequest(text="the file is empty")
        user = self.users[person_id]
        caption = str(form.get("caption") or "")[:1024] or None
        if upload.content_type.startswith("image/") and _is_photo(data):
            await user.send_photo(data, caption)
        else:
            name = Path(upload.filename or "file").name[:255] or "file"
            await user.send_document(data, name, caption=caption)
        return web.Response(status=204)

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        if not _same_origin(request):
            raise web.HTTPForbidden()
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=1024 * 1024)
        await ws.prepare(request)
        client = _Client(ws)
        self._clients.add(client)
        client.put(self._state())
        writer = asyncio.create_task(client.write())
        self._writers.add(writer)
        writer.add_done_callback(self._writers.discard)
        try:
            async for frame in ws:
                if frame.type != WSMsgType.TEXT:
                    break
                await self._command(client, frame.data)
        finally:
            self._clients.discard(client)
            client.queue.put_nowait(None)
        return ws

    async def _command(self, client: _Client, data: str) -> None:
        try:
            command = json.loads(data)
        except ValueError:
            return
        if not isinstance(command, dict):
            return
        kind = command.get("type")
        person_id = _int(command.get("person"))
        if kind == "clock" and command.get("step") in STEPS:
            await self.advance(str(command["step"]))
        elif kind == "language" and command.get("language") in ("ru", "en"):
            await self.set_language(str(command["language"]))
        elif person_id not in self.users:
            return
        elif kind == "send" and isinstance(command.get("text"), str):
            notice = await self.send(person_id, command["text"])
            if notice is not None:
                client.put({"type": "notice", "person": person_id, "key": notice})
        elif kind == "press" and isinstance(command.get("data"), str):
            message_id = _int(command.get("message"))
            if message_id is not None:
                self._track(self._press(client, person_id, message_id, command))

    def _track(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._presses.add(task)
        task.add_done_callback(self._presses.discard)

    async def _press(self, client: _Client, person_id: int, message_id: int, cmd: JSON) -> None:
        answer = await self.press(person_id, message_id, cmd["data"])
        client.put(
            {"type": "answer", "person": person_id, "ref": cmd.get("ref"), **(answer or {})}
        )


@web.middleware
async def _headers(request: web.Request, handler: Any) -> web.StreamResponse:
    response: web.StreamResponse = await handler(request)
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


def _host_guard(playground: Playground) -> Any:
    @web.middleware
    async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
        if not playground.serves(request.headers.get(hdrs.HOST)):
            raise web.HTTPForbidden(
                text=f"This is not the playground's address: open {playground.url}"
            )
        response: web.StreamResponse = await handler(request)
        return response

    return guard


def _host_name(host: str | None) -> str | None:
    """The name of a Host header (`name`, `name:port`, `[::1]:port`), lowercased, without
    the port, the brackets or a final dot; None when malformed or absent."""
    if not host:
        return None
    host = host.strip().lower()
    port: str | None
    if host.startswith("["):
        name, bracket, rest = host[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None
        if not bracket or (rest and port is None):
            return None
    else:
        name, colon, port = host.partition(":")
        port = port if colon else None
    if port is not None and not port.isdigit():
        return None
    name = name.rstrip(".")
    return name or None


def _bare(host: str) -> str:
    """A configured host as a Host header names it: lowercased, no brackets, no final dot."""
    return host.strip().strip("[]").lower().rstrip(".")


def _bracketed(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def machine_addresses() -> list[str]:
    """This machine's addresses others may reach it by (best effort, loopback left out): the
    one its default route leaves from, and those its host name resolves to."""
    found: list[str] = []
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # nothing is sent: UDP only picks the route
        found.append(probe.getsockname()[0])
    with contextlib.suppress(OSError):
        for *_, address in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.append(str(address[0]))
    unique = dict.fromkeys(a for a in found if not ipaddress.ip_address(a).is_loopback)
    return list(unique)


def _same_origin(request: web.Request) -> bool:
    """Another site open in the browser must not drive the playground (WebSockets and form
    posts are not bound by the same-origin policy)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return origin in (f"http://{request.host}", f"https://{request.host}")


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _is_photo(data: bytes) -> bool:
    try:
        image_size(data)
    except Exception:
        return False
    return _image_type(data) != "application/octet-stream"


def _image_type(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    return "application/octet-stream"


def _attachment(name: str) -> str:
    from urllib.parse import quote

    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
