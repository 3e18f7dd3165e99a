"""Presses go straight to the routers that can take them.

aiogram offers a button press to the routers in order, and each router to its handlers one by
one: with some thirty routers and two hundred handlers, a quiz answer was checked against about
fifty CallbackData filters (each an attempt to unpack the data) before its own handler — a
sixth of the bot's CPU per update (bench/updates.py, py-spy).

`route_presses(root)` gives every router whose press handlers all have a CallbackData filter a
root filter: the press's prefix must be one that some handler in that router's subtree asks
for. A press is then refused by a whole subtree in one check; no press is routed differently,
since a handler whose prefix differs could not have taken it (its filter compares exactly that
prefix). A router with a handler that takes presses without a CallbackData filter (the
fallback, `F.data == …`) gets no such filter, and neither does anything above it.

`filters_on_the_loop(root)`: aiogram runs a filter that is a plain function — a state
(`@router.message(Ikigai.entry)`) or a magic filter (`F.text`) — on a thread
(`asyncio.to_thread`), a trip per check for a comparison of a few attributes. They are run
on the event loop instead.
"""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.types import CallbackQuery

__all__ = ["PressPrefixes", "filters_on_the_loop", "route_presses"]


class PressPrefixes(Filter):
    """Passes a press whose data's prefix (the part before its separator) is one of these."""

    def __init__(self, prefixes: dict[str, frozenset[str]]) -> None:
        self.prefixes = tuple(prefixes.items())  # (separator, prefixes)

    async def __call__(self, query: CallbackQuery) -> bool:
        data = query.data
        if not data:  # CallbackData filters refuse a press without data
            return False
        return any(data.partition(sep)[0] in prefixes for sep, prefixes in self.prefixes)


def route_presses(router: Router) -> dict[str, frozenset[str]] | None:
    """Give `router` and the routers below it their press filters; returns the prefixes
    `router`'s subtree takes, by separator (None: some handler there takes any press)."""
    found: dict[str, set[str]] = {}
    open_ended = False
    for handler in router.callback_query.handlers:
        kinds = [
            f.callback.callback_data
            for f in handler.filters or ()
            if isinstance(f.callback, CallbackQueryFilter)
        ]
        if not kinds:
            open_ended = True
        for kind in kinds:
            found.setdefault(kind.__separator__, set()).add(kind.__prefix__)
    for child in router.sub_routers:
        below = route_presses(child)
        if below is None:
            open_ended = True
            continue
        for sep, prefixes in below.items():
            found.setdefault(sep, set()).update(prefixes)
    if open_ended:
        return None
    frozen = {sep: frozenset(prefixes) for sep, prefixes in found.items()}
    router.callback_query.filter(PressPrefixes(frozen))
    return frozen


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

    return checked
