"""Events go straight to the routers that can take them.

aiogram offers an event to the routers of the tree in order, depth first, and each router to
its handlers one by one. Every visit of a router copies the update's data (some thirty keys)
several times over, wraps its middlewares and checks its filters, and without gates a quiz
answer would visit a dozen routers before its own (the figures: bench/README.md).

`route(root)` looks at what every router's subtree can take and gives each `Tree` (a router
with sub-routers: the root and the groups of handlers/__init__.py) a gate per child and kind
of event, checked before the child is visited:
- a press (callback query) passes when its data's prefix is one that a CallbackData filter in
  the child's subtree asks for;
- a message passes when the conversation's state is one that a state filter there asks for,
  or its text starts with the prefix of a command filter there (`/`), or its chat is of a type
  a `ChatTypes` filter there asks for (the work group’s messages: handlers/desk.py);
- a child with no handler at all for the kind of event is not visited.
A handler with none of those filters (the fallback, `F.data == …`, a bare `F.text`) makes its
router's gate open, and every router above it then visits that child. No event is routed
differently: a handler could only have taken an event that passes its own filter, which the
gate only widens. A child with outer middlewares for the kind of event is always visited.

`filters_on_the_loop(root)`: aiogram runs a filter that is a plain function — a state
(`@router.message(Ikigai.entry)`) or a magic filter (`F.text`) — on a thread
(`asyncio.to_thread`), a trip per check for a comparison of a few attributes. They are run
on the event loop instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from inspect import isclass
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.bases import REJECTED, UNHANDLED
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.filters import Command, Filter, StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import TelegramObject

__all__ = ["ChatTypes", "Gate", "Tree", "filters_on_the_loop", "prompts", "route"]


class _Open:
    """A handler (or subtree) that may take any event of its kind."""


_OPEN = _Open()


@dataclass
class Gate:
    """What some handler of a subtree needs of an event: any one of these lets it through."""

    prefixes: dict[str, set[str]] = field(default_factory=dict)  # a press: by separator
    states: set[str | None] = field(default_factory=set)  # the conversation's state
    commands: set[str] = field(default_factory=set)  # the first character of the text
    chats: set[str] = field(default_factory=set)  # the chat's type (a message's, a press's)

    def passes(self, event: Any, data: dict[str, Any]) -> bool:
        if self.prefixes:
            press = getattr(event, "data", None)
            if isinstance(press, str) and any(
                press.partition(sep)[0] in prefixes for sep, prefixes in self.prefixes.items()
            ):
                return True
        if self.states and data.get("raw_state") in self.states:
            return True
        if self.commands:
            text = getattr(event, "text", None) or getattr(event, "caption", None)
            if isinstance(text, str) and text.lstrip()[:1] in self.commands:
                return True
        if self.chats:
            chat = _chat_of(event)
            if chat is not None and chat.type in self.chats:
                return True
        return False

    def add(self, other: Gate) -> None:
        for sep, prefixes in other.prefixes.items():
            self.prefixes.setdefault(sep, set()).update(prefixes)
        self.states |= other.states
        self.commands |= other.commands
        self.chats |= other.chats


def _chat_of(event: Any) -> Any:
    chat = getattr(event, "chat", None)
    if chat is None:  # a press: the chat of the message its button is on
        chat = getattr(getattr(event, "message", None), "chat", None)
    return chat


class ChatTypes(Filter):
    """The event's chat is of one of `types` ("private", "group", "supergroup", …); as a
    filter of a handler it is also that handler's gate (see `route`)."""

    def __init__(self, *types: str) -> None:
        self.types = frozenset(types)

    async def __call__(self, event: TelegramObject) -> bool:
        chat = _chat_of(event)
        return chat is not None and chat.type in self.types


class Tree(Router):
    """A router of routers that offers an event only to the children whose gate it passes
    (set by `route`); the rest is aiogram's `Router._propagate_event` as it is."""

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__(name=name)
        # Per kind of event: the children to offer it to, each with its gate (None: always).
        self.routes: dict[str, tuple[tuple[Router, Gate | None], ...]] = {}

    def _children(
        self, update_type: str, event: TelegramObject, data: dict[str, Any]
    ) -> Iterator[Router]:
        routes = self.routes.get(update_type)
        if routes is None:  # not routed (yet): every child, as aiogram does
            yield from self.sub_routers
            return
        for router, gate in routes:
            if gate is None or gate.passes(event, data):
                yield router

    async def _propagate_event(
        self,
        observer: TelegramEventObserver | None,
        update_type: str,
        event: TelegramObject,
        **kwargs: Any,
    ) -> Any:
        response = UNHANDLED
        if observer:
            result, data = await observer.check_root_filters(event, **kwargs)
            if not result:
                return UNHANDLED
            kwargs.update(data)
            response = await observer.trigger(event, **kwargs)
            if response is REJECTED:  # pragma: no cover - only if a handler returns it
                return UNHANDLED
            if response is not UNHANDLED:
                return response
        for router in self._children(update_type, event, kwargs):
            response = await router.propagate_event(update_type=update_type, event=event, **kwargs)
            if response is not UNHANDLED:
                break
        return response


def _original(check: Any) -> Any:
    return getattr(check, "__wrapped__", check)  # see filters_on_the_loop


def _states(check: Any) -> set[str | None] | None:
    """The states a state filter lets through (None: any, or not a state filter)."""
    if isinstance(check, State):
        return None if check.state == "*" else {check.state}
    if isinstance(check, StatesGroup):
        return set(type(check).__all_states_names__)
    if isclass(check) and issubclass(check, StatesGroup):
        return set(check.__all_states_names__)
    if isinstance(check, StateFilter):
        found: set[str | None] = set()
        for allowed in check.states:
            one = {allowed} if allowed is None or isinstance(allowed, str) else _states(allowed)
            if one is None or "*" in one:
                return None
            found |= one
        return found
    return None


def _needs(handler: HandlerObject) -> Gate | _Open:
    """One thing an event must have for this handler to take it, or _OPEN."""
    checks = [_original(f.callback) for f in handler.filters or ()]
    for check in checks:
        if isinstance(check, CallbackQueryFilter):
            kind = check.callback_data
            return Gate(prefixes={kind.__separator__: {kind.__prefix__}})
    for check in checks:
        if isinstance(check, ChatTypes):
            return Gate(chats=set(check.types))
    for check in checks:
        states = _states(check)
        if states is not None:
            return Gate(states=states)
    for check in checks:
        if isinstance(check, Command):
            return Gate(commands=set(check.prefix))
    return _OPEN


def _gate(router: Router, update_type: str) -> Gate | _Open | None:
    """What the router's subtree needs of an event of this kind: a Gate, None when nothing
    there takes it (and no outer middleware sees it), or _OPEN."""
    observer = router.observers.get(update_type)
    if observer is not None and observer.outer_middleware:
        return _OPEN
    gate: Gate | None = None
    for handler in observer.handlers if observer is not None else ():
        need = _needs(handler)
        if isinstance(need, _Open):
            return _OPEN
        gate = gate or Gate()
        gate.add(need)
    for child in router.sub_routers:
        below = _gate(child, update_type)
        if isinstance(below, _Open):
            return _OPEN
        if below is not None:
            gate = gate or Gate()
            gate.add(below)
    return gate


def prompts(root: Router) -> frozenset[str]:
    """The states in which some message handler below `root` waits: the screens that ask for
    typed text (bot/infra/middlewares.py's `EndPrompts` ends them when the user leaves)."""
    found: set[str] = set()
    for router in _routers(root):
        observer = router.observers.get("message")
        for handler in observer.handlers if observer is not None else ():
            for f in handler.filters or ():
                found |= {s for s in _states(_original(f.callback)) or () if s is not None}
    return frozenset(found)


def _routers(router: Router) -> Iterable[Router]:
    yield router
    for child in router.sub_routers:
        yield from _routers(child)


def route(root: Router) -> None:
    """Gate every Tree's children (see the module's docstring). A router with sub-routers
    must be a Tree: a plain one would offer every event to all of them."""
    for router in _routers(root):
        if not router.sub_routers:
            continue
        if not isinstance(router, Tree):
            raise TypeError(f"router {router.name!r} has sub-routers: make it a Tree")
        for update_type in router.observers:
            routes: list[tuple[Router, Gate | None]] = []
            for child in router.sub_routers:
                gate = _gate(child, update_type)
                if gate is None:
                    continue  # nothing there for this kind of event
                routes.append((child, gate if isinstance(gate, Gate) else None))
            router.routes[update_type] = tuple(routes)


def filters_on_the_loop(router: Router) -> None:
    """Every synchronous filter below `router` is called directly, not on a thread."""
    for observer in router.observers.values():
        for handler in [observer._handler, *observer.handlers]:
            for f in handler.filters or ():
                if not f.awaitable:
                    f.callback = _on_the_loop(f.callback)
                    f.awaitable = True  # its params (what it is given) stay as they were
    for child in router.sub_routers:
        filters_on_the_loop(child)


def _on_the_loop(check: Any) -> Any:
    async def checked(*args: Any, **kwargs: Any) -> Any:
        return check(*args, **kwargs)

    checked.__wrapped__ = check  # type: ignore[attr-defined]
    return checked
