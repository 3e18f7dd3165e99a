"""bot/routing.py: a press visits only the routers that have a handler for its prefix, and is
routed exactly as before — to the handler whose CallbackData it is, or to a router that takes
any press; state and magic filters are checked on the event loop, not on a thread."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Chat, Message, Update, User

from bot.emulator import DEFAULT_TOKEN
from bot.routing import PressPrefixes, filters_on_the_loop, route_presses
from handlers import build_router


class Apple(CallbackData, prefix="apple"):
    n: int


class Pear(CallbackData, prefix="pear", sep="|"):
    kind: str


def _tree(seen: list[str]) -> Router:
    names = ("fruit", "pears", "loose", "parent", "root")
    fruit, pears, loose, parent, root = (Router(name=n) for n in names)

    @fruit.callback_query(Apple.filter(F.n > 1))
    async def big_apple(query: CallbackQuery) -> None:
        seen.append("big apple")

    @pears.callback_query(Pear.filter())
    async def pear(query: CallbackQuery, callback_data: Pear) -> None:
        seen.append(f"pear {callback_data.kind}")

    @loose.callback_query(F.data == "apple:1")  # no CallbackData filter: takes what it likes
    async def small_apple(query: CallbackQuery) -> None:
        seen.append("loose apple:1")

    parent.include_routers(fruit, pears)
    root.include_routers(parent, loose)
    route_presses(root)
    return root


def _press(data: str | None) -> Update:
    user = User(id=1, is_bot=False, first_name="A")
    message = Message(message_id=1, date=datetime.now(UTC), chat=Chat(id=1, type="private"))
    query = CallbackQuery(id="q", from_user=user, chat_instance="c", data=data, message=message)
    return Update(update_id=1, callback_query=query)


def _filters(router: Router) -> list[Any]:
    return [f.callback for f in router.callback_query._handler.filters or ()]


async def test_presses_reach_the_same_handlers_and_skip_routers_that_cannot_take_them() -> None:
    seen: list[str] = []
    root = _tree(seen)
    parent, loose = root.sub_routers
    fruit, pears = parent.sub_routers
    # Routers of CallbackData handlers only get a prefix filter; one above or with a loose
    # handler does not.
    assert [type(f) for f in _filters(fruit)] == [PressPrefixes]
    assert [type(f) for f in _filters(pears)] == [PressPrefixes]
    assert [type(f) for f in _filters(parent)] == [PressPrefixes]
    assert _filters(loose) == []
    assert _filters(root) == []
    dp = Dispatcher()
    dp.include_router(root)
    async with Bot(DEFAULT_TOKEN) as bot:
        for data in ("apple:5", "apple:1", "pear|ripe", "pear:ripe", "plum:1", None):
            await dp.feed_update(bot, _press(data))
    # apple:1 fails the apple rule and goes on to the loose router, as without the filters;
    # "pear:ripe" has the wrong separator; "plum:1" and a press without data reach nobody.
    assert seen == ["big apple", "loose apple:1", "pear ripe"]


async def test_every_press_handler_of_the_bot_is_reachable_through_the_filters() -> None:
    root = build_router()
    reached = 0

    async def walk(router: Router, passes: list[PressPrefixes]) -> None:
        nonlocal reached
        passes = passes + [f for f in _filters(router) if isinstance(f, PressPrefixes)]
        for handler in router.callback_query.handlers:
            for f in handler.filters or ():
                if isinstance(f.callback, CallbackQueryFilter):
                    kind = f.callback.callback_data
                    query = _press(f"{kind.__prefix__}{kind.__separator__}x").callback_query
                    assert query is not None
                    for prefixes in passes:
                        assert await prefixes(query), (router.name, kind.__prefix__)
                    reached += 1
        for child in router.sub_routers:
            await walk(child, passes)

    await walk(root, [])
    assert reached > 100  # the bot's press handlers, all of them checked
    assert len([r for r in root.sub_routers if _filters(r)]) >= 10


class Typing(StatesGroup):
    name = State()


async def test_state_and_magic_filters_are_checked_on_the_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    router = Router()

    @router.message(Typing.name, F.text == "hi")
    async def typed(message: Message) -> None: ...

    filters_on_the_loop(router)

    async def no_thread(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a filter went to a thread")

    monkeypatch.setattr(asyncio, "to_thread", no_thread)
    [handler] = router.message.handlers
    message = Message(
        message_id=1, date=datetime.now(UTC), chat=Chat(id=1, type="private"), text="hi"
    )
    assert (await handler.check(message, raw_state=Typing.name.state))[0]
    assert not (await handler.check(message, raw_state=None))[0]
    other = message.model_copy(update={"text": "bye"})
    assert not (await handler.check(other, raw_state=Typing.name.state))[0]
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
