"""The hostile-input harness: one running bot per test function, a fresh user per example, and
after every update the checks that hold whatever the input was:

* the update was handled to its end without an unhandled exception (nothing logged at ERROR,
  the error router's apology never shown);
* a message got at least one reply, a button press exactly one answerCallbackQuery;
* every call the bot made was one Telegram accepts (`emulator.rejections() == []`).

Strategies for the input live here too: random Unicode (right-to-left, zero-width, combining
marks, emoji sequences), 10 000-character texts, HTML and Markdown specials, SQL-looking
strings, and random or forged callback data.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Literal

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App
from bot.emulator import ChatMessage, EmulatedUser, Emulator
from bot.emulator.html import finalize
from bot.storage.tables import metadata, outbox, user_roles

# --------------------------------------------------------------------------- profiles

# Registered here, not loaded globally: the other property tests keep hypothesis' defaults.
# `hostile` for development (random), `hostile-ci` in CI (derandomized: the same examples on
# every run), `hostile-long` for a deep run by hand: HOSTILE_PROFILE=hostile-long pytest ...
# No shrinking: examples share one running bot and its database (other examples' users are
# still there), so a replayed example can see a different screen; the failing example is
# reported as it was found, with its seed.
_COMMON: dict[str, Any] = {
    "deadline": None,
    "phases": (Phase.explicit, Phase.reuse, Phase.generate),
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
    "print_blob": True,
}
settings.register_profile("hostile", max_examples=15, **_COMMON)
settings.register_profile("hostile-ci", max_examples=15, derandomize=True, **_COMMON)
settings.register_profile("hostile-long", max_examples=300, **_COMMON)
PROFILE = os.environ.get("HOSTILE_PROFILE") or (
    "hostile-ci" if os.environ.get("CI") else "hostile"
)
hostile = settings(settings.get_profile(PROFILE))
few = settings(hostile, max_examples=max(5, hostile.max_examples * 2 // 5))  # for slow flows

ADMIN = 900_001
COORDINATOR = 900_002
APOLOGY = {
    "ru": "Простите, у нас что-то сломалось",
    "en": "Sorry, something went wrong on our side",
}

# --------------------------------------------------------------------------- strategies

RTL = ["שלום עולם", "مرحبا بالعالم", "\u202eevil\u202c", "\u200fא\u200e", "‮‭"]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e"]
COMBINING = ["e\u0301\u0302\u0303\u0304\u0305", "Z̴̡̢̛̗̘̙̜̝̞̟̠̤̥̦̩̪̫̬̭̮̯̰̱̲̳̹̺̻̼͇͈͉͍͎̀́̂̃̄̅̆̇̈̉̊̋̌̍̎̏̐̑̒̓̔̽̾̿̀́͂̓̈́͆͊͋͌̕̚ͅ͏͓͔͕͖͙͚͐͑͒͗͛"]
EMOJI = ["👩‍👩‍👧‍👦", "🏳️‍🌈", "🇷🇺", "👍🏽", "🧑🏿‍🚀", "❤️‍🔥", "1️⃣", "🫠"]
MARKUP = [
    "<b>",
    "</b>",
    "<b>жирный</b>",
    "&",
    "&amp;",
    "&lt;",
    "&#128512;",
    "<script>alert(1)</script>",
    '<a href="tg://user?id=1">x</a>',
    "<tg-spoiler>",
    "<",
    ">",
    "*_[]()~`>#+-=|{}.!",
    "**bold** __it__ ~~s~~ `code` ```pre```",
    "[link](http://example.org)",
    "\\",
    '"',
    "'",
]
SQL = [
    "'; DROP TABLE users; --",
    "1 OR 1=1",
    '" OR ""="',
    "Robert'); DELETE FROM outbox;--",
    "%",
    "_",
    "NULL",
]
COMMANDS = [
    "/start",
    "/start opp_1",
    "/start opp_999999999",
    "/start opp_-1",
    "/start 💥",
    "/menu",
    "/quiz",
    "/profile",
    "/settings",
    "/grants",
    "/articles",
    "/calendar",
    "/volunteer",
    "/privacy",
    "/my_data",
    "/help",
    "/language",
    "/broadcast",
    "/coordinator",
    "/stats",
    "/assess",
    "/opportunities",
    "/coordinators",
    "/audit",
    "/nonsense",
    "/start@opora_test_bot",
    "/menu@other_bot",
]
FRAGMENTS = [*RTL, *ZERO_WIDTH, *COMBINING, *EMOJI, *MARKUP, *SQL, "\n", "\n\n", " ", "\t"]
LONG = 10_000
NO_SURROGATES: list[Literal["Cs"]] = ["Cs"]  # lone surrogates: not text a client can send


def _long(seed: str) -> str:
    return (seed * (LONG // max(1, len(seed)) + 1))[:LONG]


def telegram_text(text: str) -> str:
    """What a Telegram client would deliver of `text` (control characters replaced, trimmed)."""
    return finalize(text, [])[0]


def texts(*, commands: bool = False) -> st.SearchStrategy[str]:
    """Hostile texts a user can send (never empty after Telegram's own cleaning); a text that
    starts with "/" is a command, which always runs (it ends any prompt), so only `commands`
    gives those."""
    unicode = st.text(st.characters(exclude_categories=NO_SURROGATES), min_size=1, max_size=120)
    parts = st.lists(st.sampled_from(FRAGMENTS) | unicode, min_size=1, max_size=12).map("".join)
    long = (st.sampled_from(FRAGMENTS) | unicode | st.just("я")).map(_long)
    options = [st.sampled_from(FRAGMENTS), unicode, parts, long]
    if commands:
        options.append(st.sampled_from(COMMANDS))
    return st.one_of(options).filter(
        lambda t: bool(telegram_text(t)) and (commands or not telegram_text(t).startswith("/"))
    )


def _fits(data: str) -> bool:
    return 1 <= len(data.encode()) <= 64


# The words the bot's own buttons use (actions, sections, codes), so forgeries reach handlers.
_WORDS = """
1d 3h a about activist add additional admin all announcements articles assess at att av back
broadcast cancel cancel_ok cancelled capacity card chg close closed clr col confirm contact
coordinator crises csv ctl cutoff d data day del delete digest discard done drop ecap ecut
edit en ends_at etopic export field fields follow go grant grants help home hour ics ikigai
import item journey keep kind lang last leave link list m me measures menu mine msg new next
no off open opp opportunities opps organiser organisers people phase phases pick place
policy prev preview problems profile publish q quiet reg region role roles ru run save seg
settings show sign signup_until skip stage stages start starts_at stats stop tog topic
topics type unsch volunteer w waiting wcap wconsent wcontact wcut weekly econsent when window
wtopic wz yes sa cfo dfo r z g none
zone zones want can need utc2 utc7 utc12 nvs mow 1 2 3 4 5 6 7 8 11111 55555 G1 A1 L1
"""
WORDS = _WORDS.split()
# Ids: real small ones, and ones no 64-bit column can hold.
EXTREME_INTS = [str(n) for n in (0, -1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 2**64)]
EXTREME_INTS += ["1" + "0" * 40, "٣", "²", "1_000", " 7", "+7", "0x10"]


FIELDS = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(WORDS),
    st.integers(min_value=0, max_value=40).map(str),
    st.sampled_from(EXTREME_INTS),
    st.integers().map(str),
    st.text(st.characters(exclude_categories=NO_SURROGATES), max_size=8),
)


NUMBERS = st.one_of(
    st.sampled_from(EXTREME_INTS),
    st.sampled_from(EXTREME_INTS),
    st.integers(min_value=0, max_value=40).map(str),
    st.integers().map(str),
)
# Numbers no id column holds (SQLite and PostgreSQL BIGINT: 64 bits; INTEGER keys: 32 bits).
OUT_OF_RANGE = ("9223372036854775808",)


def mutated(data: str) -> st.SearchStrategy[str]:
    """A real button's data with one field replaced (another id, an extreme number, a word of
    another flow, random text) — what a tampering client sends."""
    parts = data.split(":")
    if len(parts) < 2:
        return st.just(data)
    return st.builds(
        lambda i, value: ":".join([*parts[:i], value, *parts[i + 1 :]]),
        st.integers(min_value=1, max_value=len(parts) - 1),
        FIELDS,
    ).filter(_fits)


def callback_data(prefixes: Sequence[str] = ()) -> st.SearchStrategy[str]:
    """Random callback data (≤ 64 bytes) and forgeries: known prefixes with fields made of the
    bot's own words, small and extreme numbers, and random text."""
    field_ = FIELDS
    forged = st.builds(
        lambda prefix, fields: ":".join([prefix, *fields]),
        st.sampled_from(list(prefixes) or ["m"]),
        st.lists(field_, max_size=5),
    )
    anything = st.text(st.characters(exclude_categories=NO_SURROGATES), min_size=1, max_size=64)
    return st.one_of(forged, forged, forged, anything).filter(_fits)


# Every callback prefix of the bot (bot/ui/keyboards.py, handlers/*, bot/services/volunteering).
PUBLIC_PREFIXES = ["m", "lang", "st", "ph", "cs", "dt", "gr", "ar", "un", "fq"]
PERSONAL_PREFIXES = [
    "rl",
    "pl",
    "ik",
    "tp",
    "qz",
    "qn",
    "ck",
    "dx",
    "ms",
    "mc",
    "pf",
    "se",
    "vo",
    "vs",
    "vc",
    "vr",
    "vt",
    "dk",
]
COORDINATOR_PREFIXES = ["cm", "cr", "bc", "ca", "cf", "sa", "og", "oa", "fa", "ex"]
ADMIN_PREFIXES = ["co"]
ALL_PREFIXES = PUBLIC_PREFIXES + PERSONAL_PREFIXES + COORDINATOR_PREFIXES + ADMIN_PREFIXES


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 40, 40)).save(buffer, format="JPEG")
    return buffer.getvalue()


MEDIA = ("photo", "sticker", "document")

# --------------------------------------------------------------------------- the harness


class ErrorLog(logging.Handler):
    """Collects what is logged at ERROR or above anywhere."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def describe(self) -> str:
        return "\n".join(
            f"{r.name}: {r.getMessage()} {r.exc_info[1]!r}" if r.exc_info else r.getMessage()
            for r in self.records
        )


def _granted(row: dict[str, Any]) -> bool:
    """A role row of a role the user cannot choose themselves."""
    return "role" in row and row["role"] not in ("activist", "volunteer")


def _user_of(update: Any) -> int | None:
    event = getattr(update, "event", None)
    user = getattr(event, "from_user", None)
    return user.id if user is not None else None


class Harness:
    """A running bot and the checks after every update."""

    def __init__(self, app: App, emulator: Emulator, errors: ErrorLog) -> None:
        self.app = app
        self.emulator = emulator
        self.errors = errors
        self.finished: Counter[int] = Counter()  # updates handled, per user
        self.expected: Counter[int] = Counter()  # updates sent, per user
        self.next_id = 1_000_000
        self._changed = asyncio.Condition()

    def __repr__(self) -> str:  # hypothesis prints the fixtures of a failing example
        return "Harness()"

    def install(self) -> None:
        """Count the updates the dispatcher has finished, per user (error handling included)."""
        dp = self.app.dp
        feed = dp.feed_update

        async def tracked(bot: Any, update: Any, **kwargs: Any) -> Any:
            try:
                return await feed(bot, update, **kwargs)
            finally:
                uid = _user_of(update)
                if uid is not None:
                    async with self._changed:
                        self.finished[uid] += 1
                        self._changed.notify_all()

        dp.feed_update = tracked  # type: ignore[method-assign]

    @property
    def engine(self) -> AsyncEngine:
        return self.app.engine

    # ------------------------------------------------------------------ users

    def user(
        self, language_code: str | None = "ru", first_name: str | None = None
    ) -> EmulatedUser:
        """A user the bot has never seen."""
        self.next_id += 1
        return self.emulator.user(self.next_id, first_name, language_code=language_code)

    async def started(self, language_code: str | None = "ru", **kw: Any) -> EmulatedUser:
        user = self.user(language_code, **kw)
        await self.send(user, "/start")
        return user

    async def consented(
        self,
        language_code: str | None = "ru",
        *,
        role: str | None = "activist",
        place: tuple[str, str | None] | None = ("Asia/Novosibirsk", "nvs"),
        stage: int | None = None,
        ikigai_done: bool = False,
        first_name: str | None = None,
        announcements: bool | None = False,
    ) -> EmulatedUser:
        """A user who started the bot and consented (through the services: fast), answered
        the question about announcements (None: not yet), with a role, a place and a quiz
        result as asked."""
        user = await self.started(language_code, first_name=first_name)
        profiles = self.app.profiles
        locale = "en" if language_code == "en" else "ru"
        await profiles.give_consent(user.id, user.first_name, None, user.username, locale=locale)
        if announcements is not None:
            pushes = await profiles.push_settings(user.id)
            await profiles.save_push_settings(user.id, pushes.with_(announcements=announcements))
        if role is not None:
            await profiles.set_role(user.id, role)
        if place is not None:
            await profiles.set_place(user.id, *place)
        if stage is not None:
            await profiles.add_quiz_result(user.id, stage, {"problem": "tackling"})
        if ikigai_done:
            await profiles.finish_ikigai(user.id)
        return user

    async def coordinator(self, language_code: str | None = "ru") -> EmulatedUser:
        user = await self.consented(language_code)
        await self.grant(user.id, "coordinator")
        return user

    async def grant(self, user_id: int, role: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(user_roles).values(
                    user_id=user_id, role=role, granted_at=self.app.clock.now()
                )
            )

    # ------------------------------------------------------------------ acting

    async def settle(self, user: EmulatedUser, timeout: float = 20.0) -> None:  # noqa: ASYNC109
        """Wait until the dispatcher has finished every update this user sent."""
        want = self.expected[user.id]
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: self.finished[user.id] >= want)
        except TimeoutError:
            raise AssertionError(
                f"{want - self.finished[user.id]} update(s) of user {user.id} not handled "
                f"within {timeout:g}s\n{user.transcript()}"
            ) from None

    async def send(self, user: EmulatedUser, text: str) -> list[ChatMessage]:
        """Send a text; returns the bot's messages sent in reply (at least one)."""
        return await self._message(user, lambda: user.send(text), repr(text[:80]))

    async def send_raw(self, user: EmulatedUser, text: str) -> list[ChatMessage]:
        """Send a text as it is, without a Telegram client's cleaning (which turns control
        characters such as NUL into spaces): what a forged update can carry."""

        async def post() -> None:
            user._post("text", text=text)

        return await self._message(user, post, repr(text[:80]))

    async def send_media(
        self, user: EmulatedUser, kind: str, caption: str | None = None
    ) -> list[ChatMessage]:
        if kind == "photo":
            post: Callable[[], Awaitable[Any]] = lambda: user.send_photo(jpeg(), caption)  # noqa: E731
        elif kind == "document":
            post = lambda: user.send_document(b"\x00\x01binary", "x.bin", caption=caption)  # noqa: E731
        else:
            post = lambda: user.send_sticker("💥")  # noqa: E731
        return await self._message(user, post, kind)

    async def _message(
        self, user: EmulatedUser, post: Callable[[], Awaitable[Any]], what: str
    ) -> list[ChatMessage]:
        before = len(user.chat.bot_messages)
        versions = {m.message_id: m.version for m in user.chat.bot_messages}
        calls = len(self.emulator.calls)
        self.expected[user.id] += 1
        await post()
        await self.settle(user)
        replies = [m.snapshot() for m in user.chat.bot_messages[before:]]
        if not replies:  # an answer may edit the prompt above instead (the ikigai's entries)
            replies = [
                m.snapshot()
                for m in user.chat.bot_messages[:before]
                if m.version != versions[m.message_id]
            ]
        assert replies, f"no reply to {what}\n{user.transcript()}"
        user.skip_pending()
        self.check(user, calls, replies)
        return replies

    async def press(
        self, user: EmulatedUser, data: str, message: ChatMessage | None = None
    ) -> ChatMessage | None:
        """Press a button with this callback data (forged or real) on `message` (default: the
        newest bot message); returns the screen the user looks at afterwards."""
        calls = len(self.emulator.calls)
        known = set(user.bot.callbacks)
        before = len(user.chat.bot_messages)
        self.expected[user.id] += 1
        await user.press_data(data, message=message, timeout=20)
        await self.settle(user)
        mine = [q for q, p in user.bot.callbacks.items() if q not in known and p.chat is user.chat]
        assert len(mine) == 1
        answers = [
            c
            for c in self.emulator.calls[calls:]
            if c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == mine[0]
        ]
        assert len(answers) == 1, f"{len(answers)} answers to the press {data!r}"
        user.skip_pending()
        self.check(user, calls, [m.snapshot() for m in user.chat.bot_messages[before:]])
        return user.last_bot_message

    async def tap(
        self, user: EmulatedUser, label: str, message: ChatMessage | None = None
    ) -> ChatMessage:
        """Press the button labelled `label` (the newest message that has it)."""
        stored, button = user._find_button(label, message)
        data = button.get("callback_data")
        assert isinstance(data, str), button
        screen = await self.press(user, data, stored.snapshot())
        assert screen is not None
        return screen

    def check(self, user: EmulatedUser, since: int, replies: Sequence[ChatMessage]) -> None:
        """Nothing failed: no ERROR logged, no apology among the `replies`, none of the calls
        since the `since`-th refused by Telegram."""
        assert not self.errors.records, f"logged at ERROR:\n{self.errors.describe()}"
        for message in replies:
            for apology in APOLOGY.values():
                assert apology not in message.text, user.transcript()
        refused = [c for c in self.emulator.calls[since:] if c.rejected]
        assert not refused, "refused by Telegram: " + "; ".join(
            f"{c.method} {c.error_code} {c.description}" for c in refused
        )

    # ------------------------------------------------------------------ pushes

    async def delivered(self, within: float = 60.0) -> list[dict[str, Any]]:
        """Wake the sender and wait until nothing due is left in the outbox; every row that
        went must have been accepted (no "failed": Telegram refused nothing). Returns the
        outbox rows."""
        sender = self.app.sender
        sender.wake()
        async with asyncio.timeout(within):
            while True:
                seen = sender.version
                rows = await self.rows(outbox)
                now = self.app.clock.now()
                waiting = [
                    r
                    for r in rows
                    if r["status"] == "sending"
                    or (r["status"] == "pending" and r["not_before"] <= now)
                ]
                if not waiting:
                    break
                with contextlib.suppress(TimeoutError):
                    await sender.changed(seen, timeout=1.0)
        failed = [(r["kind"], r["error"]) for r in rows if r["status"] == "failed"]
        assert not failed, f"pushes Telegram refused: {failed}"
        return rows

    # ------------------------------------------------------------------ the database

    async def rows(self, table: Any, **where: Any) -> list[dict[str, Any]]:
        query = select(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        async with self.engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(query)).mappings()]

    async def snapshot(
        self,
        *,
        ignore_user: int | None = None,
        skip: Iterable[str] = (),
        columns: dict[str, set[str]] | None = None,
    ) -> dict[str, list[Any]]:
        """Every table's rows (sorted), but for the audit log, FSM states and whatever `skip`
        names, without the `columns` named per table; rows of `ignore_user` are left out,
        except roles only others can grant (coordinator, admin, organiser)."""
        # plan_claims: the planner's own bookkeeping of a tick's pages (a background tick may
        # claim or finish one at any moment), not anything a user's press changes
        skipped = {"audit_log", "fsm_states", "alembic_version", "plan_claims", *skip}
        result: dict[str, list[Any]] = {}
        async with self.engine.connect() as conn:
            for table in metadata.sorted_tables:
                if table.name in skipped:
                    continue
                rows = [dict(r) for r in (await conn.execute(select(table))).mappings()]
                dropped = (columns or {}).get(table.name, set())
                rows = [{k: v for k, v in r.items() if k not in dropped} for r in rows]
                if ignore_user is not None:
                    key = "id" if table.name == "users" else "user_id"
                    rows = [r for r in rows if r.get(key) != ignore_user or _granted(r)]
                result[table.name] = sorted(rows, key=repr)
        return result

    # ------------------------------------------------------------------ wandering

    async def tamper(
        self, user: EmulatedUser, message: ChatMessage, values: Sequence[str] = OUT_OF_RANGE
    ) -> int:
        """Press every button of `message` with each number in its data replaced by each of
        `values` (ids no table can hold, by default); returns how many presses that was."""
        pressed = 0
        for row in message.buttons:
            for button in row:
                parts = (button.callback_data or "").split(":")
                for at, part in enumerate(parts):
                    if at == 0 or not part.lstrip("-").isdigit():
                        continue
                    for value in values:
                        forged = ":".join([*parts[:at], value, *parts[at + 1 :]])
                        if _fits(forged):
                            await self.press(user, forged, message)
                            pressed += 1
        return pressed

    async def wander(
        self,
        user: EmulatedUser,
        data: st.DataObject,
        steps: int,
        prefixes: Sequence[str] = ALL_PREFIXES,
        *,
        typed: st.SearchStrategy[str] | None = None,
    ) -> None:
        """A monkey: `steps` times press a button the bot showed (mostly on the newest
        message, sometimes an older one), a forged button, type a hostile text or send a file."""
        moves = ["button", "button", "button", "mutate", "mutate", "forge", "text", "media"]
        for _ in range(steps):
            # What is drawn never depends on what the bot showed (indices are taken modulo),
            # so hypothesis sees the same draws when it runs an example again.
            move = data.draw(st.sampled_from(moves), label="move")
            if move in ("button", "mutate"):
                newest = data.draw(st.booleans(), label="newest")
                which = data.draw(st.integers(0, 10**6), label="message")
                index = data.draw(st.integers(0, 10**6), label="button")
                change = data.draw(
                    st.tuples(st.integers(1, 10**6), NUMBERS, FIELDS), label="mutation"
                )
                stored = [m for m in user.chat.bot_messages if not m.deleted and m.inline_markup]
                if not stored:
                    continue
                message = stored[-1] if newest else stored[which % len(stored)]
                markup = message.inline_markup or {}
                buttons = [
                    b["callback_data"]
                    for row in markup["inline_keyboard"]
                    for b in row
                    if isinstance(b.get("callback_data"), str)
                ]
                if not buttons:
                    continue
                pressed = buttons[index % len(buttons)]
                parts = pressed.split(":")
                if move == "mutate" and len(parts) > 1:
                    at = 1 + change[0] % (len(parts) - 1)
                    parts[at] = change[1] if parts[at].lstrip("-").isdigit() else change[2]
                    if _fits(candidate := ":".join(parts)):
                        pressed = candidate
                await self.press(user, pressed, message.snapshot())
            elif move == "forge":
                forged = data.draw(callback_data(prefixes), label="forged")
                if user.last_bot_message is not None:
                    await self.press(user, forged)
            elif move == "text":
                typing = typed if typed is not None else texts(commands=True)
                await self.send(user, data.draw(typing, label="text"))
            else:
                await self.send_media(user, data.draw(st.sampled_from(MEDIA), label="media"))
