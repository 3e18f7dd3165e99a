"""bot/infra/routing.py: an event visits only the routers that could take it, and is routed exactly
as before — to the handler whose CallbackData, state or command it is, or to a router that
takes anything; state and magic filters are checked on the event loop, not on a thread."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import CallbackQuery, Chat, Message, Update, User

from bot.emulator import DEFAULT_TOKEN
from bot.infra.routing import ChatTypes, Gate, Tree, filters_on_the_loop, route
from handlers import build_router


class Apple(CallbackData, prefix="apple"):
    n: int


class Pear(CallbackData, prefix="pear", sep="|"):
    kind: str


class Form(StatesGroup):
    name = State()
    age = State()


class Other(StatesGroup):
    note = State()


def _tree(seen: list[str], kind: type[Router]) -> Router:
    """The same handlers under routers of `kind`: Router (aiogram's own way) or Tree."""
    fruit, pears, loose = (Router(name=n) for n in ("fruit", "pears", "loose"))
    typing, commands, group = (Router(name=n) for n in ("typing", "commands", "group"))
    parent, root = kind(name="parent"), kind(name="root")

    @fruit.callback_query(Apple.filter(F.n > 1))
    async def big_apple(query: CallbackQuery) -> None:
        seen.append("big apple")

    @pears.callback_query(Pear.filter())
    async def pear(query: CallbackQuery, callback_data: Pear) -> None:
        seen.append(f"pear {callback_data.kind}")

    @loose.callback_query(F.data == "apple:1")  # no CallbackData filter: takes what it likes
    async def small_apple(query: CallbackQuery) -> None:
        seen.append("loose apple:1")

    @typing.message(Form.name, F.text)
    async def name(message: Message) -> None:
        seen.append(f"name {message.text}")

    @typing.message(StateFilter(Form.age, None), F.text.isdigit())
    async def age(message: Message) -> None:
        seen.append(f"age {message.text}")

    @commands.message(CommandStart())
    async def start(message: Message) -> None:
        seen.append("start")

    @commands.message(Command("help", prefix="/!"))
    async def help_(message: Message) -> None:
        seen.append("help")

    @group.message(StateFilter(Other))  # a whole group of states
    async def note(message: Message) -> None:
        seen.append(f"note {message.text}")

    @loose.message(F.text == "hello")  # no state or command filter: takes what it likes
    async def hello(message: Message) -> None:
        seen.append("hello")

    parent.include_routers(fruit, pears, typing, commands)
    root.include_routers(parent, group, loose)
    if kind is Tree:
        route(root)
    filters_on_the_loop(root)
    return root


def _message(text: str | None, caption: str | None = None, chat: str = "private") -> Message:
    return Message(
        message_id=1,
        date=datetime.now(UTC),
        chat=Chat(id=1 if chat == "private" else -1001, type=chat),
        from_user=User(id=1, is_bot=False, first_name="A"),
        text=text,
        caption=caption,
    )


def _press(data: str | None) -> Update:
    user = User(id=1, is_bot=False, first_name="A")
    message = Message(message_id=1, date=datetime.now(UTC), chat=Chat(id=1, type="private"))
    query = CallbackQuery(id="q", from_user=user, chat_instance="c", data=data, message=message)
    return Update(update_id=1, callback_query=query)


PRESSES = ["apple:5", "apple:1", "pear|ripe", "pear:ripe", "plum:1", None, ""]
# (state, text, caption)
MESSAGES = [
    (None, "/start", None),
    (None, "  /start now", None),
    (None, "!help", None),
    (None, None, "/help"),
    (None, "42", None),
    (None, "hello", None),
    (None, "hi", None),
    (Form.name.state, "Аня", None),
    (Form.name.state, "hello", None),
    (Form.age.state, "7", None),
    (Form.age.state, "seven", None),
    (Other.note.state, "✍️", None),
    ("Stale:state", "/start", None),
    ("Stale:state", "text", None),
]


@contextmanager
def _visits() -> Iterator[list[str]]:
    """The names of the routers an event is offered to, in order."""
    visited: list[str] = []
    original = Router.propagate_event

    async def counting(self: Router, update_type: str, event: Any, **kwargs: Any) -> Any:
        visited.append("dispatcher" if isinstance(self, Dispatcher) else self.name)
        return await original(self, update_type, event, **kwargs)

    Router.propagate_event = counting  # type: ignore[method-assign]
    try:
        yield visited
    finally:
        Router.propagate_event = original  # type: ignore[method-assign]


async def _feed(kind: type[Router]) -> tuple[list[str], list[list[str]]]:
    """Every press and message of the lists through a tree of `kind`: what handled each, and
    which routers each was offered to."""
    seen: list[str] = []
    visits: list[list[str]] = []
    dp = Dispatcher()
    dp.include_router(_tree(seen, kind))
    async with Bot(DEFAULT_TOKEN) as bot:
        for data in PRESSES:
            with _visits() as visited:
                await dp.feed_update(bot, _press(data))
            seen.append("|")
            visits.append(visited)
        for state, text, caption in MESSAGES:
            key = StorageKey(bot_id=bot.id, chat_id=1, user_id=1)
            await dp.storage.set_state(key, state)
            with _visits() as visited:
                await dp.feed_update(bot, Update(update_id=2, message=_message(text, caption)))
            seen.append("|")
            visits.append(visited)
    return seen, visits


async def test_events_reach_the_same_handlers_as_through_aiogram_routers() -> None:
    gated, gated_visits = await _feed(Tree)
    plain, plain_visits = await _feed(Router)
    assert gated == plain
    # apple:1 fails the apple rule and goes on to the loose router; "pear:ripe" has the wrong
    # separator; "plum:1" and a press without data reach nobody. Commands pass with either
    # prefix and leading spaces, in a caption too; "42" in no state is an age.
    assert "".join(f"{s}," for s in gated).split("|,") == [
        "big apple,", "loose apple:1,", "pear ripe,", "", "", "", "",
        "start,", "start,", "help,", "help,", "age 42,", "hello,", "", "name Аня,",
        "name hello,", "age 7,", "", "note ✍️,", "start,", "", "",
    ]  # fmt: skip
    # And on the way, fewer routers were offered each event (never more).
    assert all(len(g) <= len(p) for g, p in zip(gated_visits, plain_visits, strict=True))
    assert sum(map(len, gated_visits)) < sum(map(len, plain_visits)) * 0.7
    press_plum, text_in_name = gated_visits[4], gated_visits[len(PRESSES) + 7]
    assert press_plum == ["dispatcher", "root", "loose"]  # the open router is the only other
    assert text_in_name == ["dispatcher", "root", "parent", "typing"]


def test_a_router_with_sub_routers_must_be_a_tree() -> None:
    root, child = Router(name="plain"), Router(name="child")
    root.include_router(child)
    with pytest.raises(TypeError, match="plain"):
        route(root)


async def test_every_handler_of_the_bot_is_reachable_through_the_gates() -> None:
    """For every press handler, a press of its prefix; for every message handler with a state
    or command filter, a message in that state or with that command: each passes every gate
    on the way from the root to the handler's router."""
    root = build_router()
    reached = 0

    def walk(router: Router, gates: dict[str, list[Gate | None]]) -> None:
        nonlocal reached
        for handler in router.callback_query.handlers:
            for f in handler.filters or ():
                if isinstance(f.callback, CallbackQueryFilter):
                    kind = f.callback.callback_data
                    query = _press(f"{kind.__prefix__}{kind.__separator__}x").callback_query
                    for gate in gates["callback_query"]:
                        assert gate is None or gate.passes(query, {}), (router.name, kind)
                    reached += 1
        for handler in router.message.handlers:
            checks = [
                getattr(f.callback, "__wrapped__", f.callback) for f in handler.filters or ()
            ]
            # a handler for groups only (the desk's work group) is reached by group messages
            chats = next(
                (sorted(c.types) for c in checks if isinstance(c, ChatTypes)), ["private"]
            )
            for check in checks:
                events: list[tuple[Message, dict[str, Any]]]
                if isinstance(check, Command):
                    events = [
                        (_message(f"{p}{c}", chat=t), {})
                        for p in check.prefix
                        for c in "ab"
                        for t in chats
                    ]
                elif isinstance(check, State):
                    events = [(_message("x", chat=t), {"raw_state": check.state}) for t in chats]
                elif isinstance(check, ChatTypes):
                    events = [(_message("x", chat=t), {}) for t in chats]
                else:
                    continue
                for event, data in events:
                    for gate in gates["message"]:
                        assert gate is None or gate.passes(event, data), (router.name, check)
                reached += 1
        for child in router.sub_routers:
            below = {name: list(found) for name, found in gates.items()}
            for name in below:
                routes = dict(getattr(router, "routes", {}).get(name, ()))
                if child in routes:
                    below[name].append(routes[child])
                else:  # not offered at all: then it must have no handler of that kind
                    assert not any(True for _ in _handlers(child, name)), (child.name, name)
                    below[name].append(Gate())  # passes nothing
            walk(child, below)

    walk(root, {"callback_query": [], "message": []})
    assert reached > 150  # the bot's press, state and command handlers, all of them checked


def _handlers(router: Router, kind: str) -> Iterator[Any]:
    yield from router.observers[kind].handlers
    for child in router.sub_routers:
        yield from _handlers(child, kind)


async def test_the_bots_quiz_answer_and_ikigai_entry_visit_three_routers() -> None:
    root = build_router()
    dp = Dispatcher()
    dp.include_router(root)
    try:
        async with Bot(DEFAULT_TOKEN) as bot:
            # Each reaches its handler (which, given none of the services, fails to start).
            query = _press("qz:1:x").callback_query
            assert query is not None
            with _visits() as visited, pytest.raises(TypeError, match="answered"):
                await dp.propagate_event("callback_query", query, bot=bot, raw_state=None)
            assert visited == ["dispatcher", "root", "personal", "handlers.quiz"]
            with _visits() as visited, pytest.raises(TypeError, match="entry_typed"):
                await dp.propagate_event(
                    "message", _message("Кружок"), bot=bot, raw_state="Ikigai:entry"
                )
            # A message also passes the sharing router (cards sent via the bot, before consent).
            assert visited == [
                "dispatcher", "root", "handlers.sharing", "personal", "handlers.ikigai"
            ]  # fmt: skip
    finally:
        root._parent_router = None


async def test_state_and_magic_filters_are_checked_on_the_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    router = Router()

    @router.message(Form.name, F.text == "hi")
    async def typed(message: Message) -> None: ...

    filters_on_the_loop(router)

    async def no_thread(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a filter went to a thread")

    monkeypatch.setattr(asyncio, "to_thread", no_thread)
    [handler] = router.message.handlers
    message = Message(
        message_id=1, date=datetime.now(UTC), chat=Chat(id=1, type="private"), text="hi"
    )
    assert (await handler.check(message, raw_state=Form.name.state))[0]
    assert not (await handler.check(message, raw_state=None))[0]
    other = message.model_copy(update={"text": "bye"})
    assert not (await handler.check(other, raw_state=Form.name.state))[0]
    # And the bot's own tree has no filter left that aiogram would send to a thread.
    root = build_router()

    def sync_filters(r: Router) -> int:
        here = sum(
            not f.awaitable
            for o in r.observers.values()
            for h in [o._handler, *o.handlers]
            for f in h.filters or ()
        )
        return here + sum(sync_filters(c) for c in r.sub_routers)

    assert sync_filters(root) == 0


def test_every_callback_prefix_of_the_bot_is_its_own() -> None:
    """Two CallbackData factories with one prefix would send one's presses through the other's
    gate and filters (the desk's experts once took the diagnosis' "dx")."""
    build_router()  # imports every handler module
    seen: dict[str, str] = {}

    def walk(kind: type[CallbackData]) -> Iterator[type[CallbackData]]:
        for sub in kind.__subclasses__():
            yield sub
            yield from walk(sub)

    for kind in walk(CallbackData):
        if not kind.__module__.startswith(("bot.", "handlers")):
            continue  # the tests' own factories
        prefix = kind.__prefix__
        assert prefix not in seen, f"{kind.__name__} and {seen[prefix]} share {prefix!r}"
        seen[prefix] = kind.__name__
    assert {"dk", "ex", "dx"} <= set(seen)
