"""The library internals that bot/infra/ relies on are still there, with the shapes it uses.

Each check names one internal, the module that leans on it and what to do, so an upgrade of
aiogram, SQLAlchemy or aiosqlite that moves one fails here with that sentence instead of
somewhere deep in an update. The list is the one in bot/infra/README.md; the behaviour
itself is guarded by each module's own tests (named there too).
"""

from __future__ import annotations

import inspect
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest


@dataclass(frozen=True)
class Internal:
    library: str
    name: str  # dotted: module:Class.attribute
    used_by: str
    params: tuple[str, ...] | None = None  # the parameters it is called or overridden with

    def resolve(self) -> Any:
        module_name, _, path = self.name.partition(":")
        value: Any = import_module(module_name)
        for part in path.split(".") if path else ():
            value = getattr(value, part)
        return value


INTERNALS = (
    # bot/infra/routing.py
    Internal(
        "aiogram",
        "aiogram:Router._propagate_event",
        "bot/infra/routing.py (Tree overrides it)",
        ("self", "observer", "update_type", "event", "kwargs"),
    ),
    Internal(
        "aiogram",
        "aiogram.dispatcher.event.telegram:TelegramEventObserver.check_root_filters",
        "bot/infra/routing.py",
        ("self", "event", "kwargs"),
    ),
    Internal(
        "aiogram",
        "aiogram.dispatcher.event.telegram:TelegramEventObserver.trigger",
        "bot/infra/routing.py",
        ("self", "event", "kwargs"),
    ),
    Internal("aiogram", "aiogram.dispatcher.event.bases:REJECTED", "bot/infra/routing.py"),
    Internal("aiogram", "aiogram.dispatcher.event.bases:UNHANDLED", "bot/infra/routing.py"),
    Internal(
        "aiogram",
        "aiogram.filters.callback_data:CallbackQueryFilter.__init__",
        "bot/infra/routing.py (reads .callback_data)",
        ("self", "callback_data", "rule"),
    ),
    Internal(
        "aiogram",
        "aiogram.fsm.state:StatesGroup.__all_states_names__",
        "bot/infra/routing.py",
    ),
    # bot/infra/session.py
    Internal(
        "aiogram",
        "aiogram.client.session.aiohttp:AiohttpSession.prepare_value",
        "bot/infra/session.py",
        ("self", "value", "bot", "files", "_dumps_json"),
    ),
    Internal(
        "aiogram",
        "aiogram.client.session.aiohttp:AiohttpSession.make_request",
        "bot/infra/session.py (JsonSession overrides it)",
        ("self", "bot", "method", "timeout"),
    ),
    Internal(
        "aiogram",
        "aiogram.client.session.aiohttp:AiohttpSession.create_session",
        "bot/infra/session.py",
        ("self",),
    ),
    Internal(
        "aiogram",
        "aiogram.client.session.base:BaseSession.check_response",
        "bot/infra/session.py",
        ("self", "bot", "method", "status_code", "content"),
    ),
    # bot/infra/sqlite.py
    Internal(
        "SQLAlchemy",
        "sqlalchemy.dialects.sqlite.aiosqlite:AsyncAdapt_aiosqlite_cursor._execute_async",
        "bot/infra/sqlite.py (_Cursor overrides it)",
        ("self", "operation", "parameters"),
    ),
    Internal(
        "SQLAlchemy",
        "sqlalchemy.dialects.sqlite.aiosqlite:AsyncAdapt_aiosqlite_cursor._executemany_async",
        "bot/infra/sqlite.py (_Cursor overrides it)",
        ("self", "operation", "seq_of_parameters"),
    ),
    Internal(
        "SQLAlchemy",
        "sqlalchemy.dialects.sqlite.aiosqlite:AsyncAdapt_aiosqlite_cursor._async_soft_close",
        "bot/infra/sqlite.py (_Cursor overrides it)",
        ("self",),
    ),
    Internal(
        "SQLAlchemy",
        "sqlalchemy.dialects.sqlite.aiosqlite:AsyncAdapt_aiosqlite_connection._cursor_cls",
        "bot/infra/sqlite.py (_Connection sets it)",
    ),
    Internal(
        "SQLAlchemy",
        "sqlalchemy.dialects.sqlite.aiosqlite:AsyncAdapt_aiosqlite_connection.__init__",
        "bot/infra/sqlite.py (_Connection calls it)",
        ("self", "dbapi", "connection"),
    ),
    Internal(
        "SQLAlchemy",
        "sqlalchemy.dialects.sqlite.aiosqlite:AsyncAdapt_aiosqlite_dbapi.__init__",
        "bot/infra/sqlite.py (DBAPI is built with it)",
        ("self", "aiosqlite", "sqlite"),
    ),
    Internal("SQLAlchemy", "sqlalchemy.util:EMPTY_DICT", "bot/infra/sqlite.py"),
    Internal(
        "SQLAlchemy",
        "sqlalchemy.ext.asyncio:AsyncEngine._connection_cls",
        "bot/infra/sqlite.py (SqliteEngine sets it)",
    ),
    Internal(
        "aiosqlite",
        "aiosqlite:Connection._execute",
        "bot/infra/sqlite.py (the thread path)",
        ("self", "fn", "args", "kwargs"),
    ),
    Internal("aiosqlite", "aiosqlite:Connection._conn", "bot/infra/sqlite.py"),
)


def _params(value: Callable[..., Any]) -> tuple[str, ...]:
    return tuple(inspect.signature(value).parameters)


def _advice(internal: Internal, what: str) -> str:
    return (
        f"{internal.library} {what}: {internal.name} — {internal.used_by} relies on it. "
        f"Adapt that module (see bot/infra/README.md) or keep {internal.library} at the "
        "version pinned in pyproject.toml."
    )


@pytest.mark.parametrize("internal", INTERNALS, ids=lambda i: i.name)
def test_the_internal_is_there_with_the_shape_the_project_uses(internal: Internal) -> None:
    try:
        value = internal.resolve()
    except (ImportError, AttributeError):
        pytest.fail(_advice(internal, "no longer has"))
    if internal.params is not None:
        found = _params(value)
        assert found == internal.params, _advice(
            internal, f"changed the parameters {internal.params} to {found} of"
        )


async def test_the_connections_attributes_sqlite_py_reads_at_run_time(tmp_path: Path) -> None:
    """The instance attributes bot/infra/sqlite.py reads: the adapted connection's
    `_connection` (aiosqlite's) and `_execute_mutex`, and aiosqlite's `_connection` (the
    sqlite3 connection)."""
    from bot.infra.db import make_engine

    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'internals.db'}")
    try:
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            adapted = raw.dbapi_connection
            for name in ("_connection", "_execute_mutex"):
                assert hasattr(adapted, name), (
                    f"SQLAlchemy's aiosqlite connection no longer has {name}: "
                    "bot/infra/sqlite.py relies on it (see bot/infra/README.md)"
                )
            inner = adapted._connection  # type: ignore[union-attr]
            assert isinstance(getattr(inner, "_connection", None), sqlite3.Connection), (
                "aiosqlite.Connection._connection is no longer the sqlite3 connection: "
                "bot/infra/sqlite.py relies on it (see bot/infra/README.md)"
            )
    finally:
        await engine.dispose()


def test_aiogram_runs_plain_filters_as_filter_objects_with_these_fields() -> None:
    """bot/infra/routing.py rewrites a FilterObject's `callback` and `awaitable`."""
    from aiogram.dispatcher.event.handler import FilterObject

    fields = set(getattr(FilterObject, "__dataclass_fields__", {}))
    assert {"callback", "awaitable"} <= fields, (
        f"aiogram's FilterObject has the fields {sorted(fields)}: bot/infra/routing.py "
        "(filters_on_the_loop) relies on `callback` and `awaitable`"
    )


def test_the_router_and_filter_attributes_routing_py_reads() -> None:
    """bot/infra/routing.py reads an observer's `_handler`, `handlers` and `outer_middleware`,
    a handler's `filters`, a Command's `prefix` and a StateFilter's `states`."""
    from aiogram import Router
    from aiogram.filters import Command, StateFilter

    router = Router()
    router.message(Command("x"))(_noop)
    observer = router.observers["message"]
    for name in ("_handler", "handlers", "outer_middleware"):
        assert hasattr(observer, name), (
            f"aiogram's TelegramEventObserver no longer has {name}: bot/infra/routing.py "
            "relies on it (see bot/infra/README.md)"
        )
    assert observer.handlers[0].filters, "aiogram's HandlerObject no longer keeps `filters`"
    assert Command("x").prefix == "/", "aiogram's Command no longer keeps `prefix`"
    assert StateFilter(None).states == (None,), "aiogram's StateFilter no longer keeps `states`"


async def _noop(*_: Any) -> None:
    return None
