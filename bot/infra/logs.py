"""Structured logging: one line per event, `key=value` text or JSON.

Log calls pass facts as `extra={...}`; the formatter prints them after the message. A filter
masks anything shaped like a bot token wherever it appears, so a token never reaches a log
even inside a library's exception text. Users' typed text is never passed to a logger.

Nor does it reach a log inside a database error. Such an error quotes the statement's values:
SQLAlchemy's `[parameters: …]` (the engine hides them too, bot/infra/db.py), PostgreSQL's
`DETAIL: Failing row contains (…)` or `invalid input syntax for type integer: "…"`, asyncpg's
`invalid input for query argument $1: '…'`. The formatters print the traceback with each
database error's text replaced by what names no value (`safe_message`): the statement, the
SQLSTATE and the constraint, table and column; SQLite's own messages, which name only
constraints and columns, are kept.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import StatementError

TOKEN_PATTERN = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{30,}")
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


def redact(text: str) -> str:
    return TOKEN_PATTERN.sub("<token>", text)


# Where a database error comes from: its text may quote the values of a statement.
_DRIVERS = frozenset({"asyncpg", "aiosqlite", "psycopg", "psycopg2"})
_ADAPTERS = ("sqlalchemy.dialects.", "sqlalchemy.connectors.")  # SQLAlchemy's driver wrappers
# A PostgreSQL error's fields that name things, never values.
_NAMES = ("sqlstate", "schema_name", "table_name", "column_name", "constraint_name")


def safe_message(exc: BaseException) -> str:
    """The exception's text, or for a database error one that quotes no value."""
    module = type(exc).__module__
    if isinstance(exc, StatementError):  # its cause, printed above it, says what went wrong
        orig = f"({_name(type(exc.orig))}) " if exc.orig is not None else ""
        return f"{orig}[SQL: {exc.statement}]"
    if isinstance(exc, sqlite3.Error):  # SQLite's messages name constraints and columns only
        return str(exc).split("\n", 1)[0]
    if module.split(".", 1)[0] in _DRIVERS or module.startswith(_ADAPTERS):
        named = [f"{k}={v}" for k in _NAMES if (v := getattr(exc, k, None))]
        return " ".join(named or ["(the text is left out: it may quote a value)"])
    return str(exc)


def format_exception(exc: BaseException) -> str:
    """A traceback as Python prints it (the chain of causes and contexts), each exception's
    text by `safe_message`."""
    chain: list[tuple[BaseException, str]] = []
    link, seen = "", set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif not current.__suppress_context__:
            current, link = current.__context__, _CONTEXT
        else:
            current = None
    lines: list[str] = []
    for each, link in reversed(chain):
        lines.extend(_one(each))
        if link:
            lines.append(link)
    return "".join(lines).rstrip("\n")


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def _one(exc: BaseException) -> list[str]:
    lines = []
    if exc.__traceback__ is not None:
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_tb(exc.__traceback__))
    message = safe_message(exc)
    lines.append(f"{_name(type(exc))}: {message}\n" if message else f"{_name(type(exc))}\n")
    return lines


def _name(kind: type[BaseException]) -> str:
    if kind.__module__ in ("builtins", "__main__"):
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


def _message(record: logging.LogRecord) -> str:
    """The record's message; an exception among its arguments (a library's "%s: %s" of the
    error) as `safe_message` tells it."""
    if isinstance(record.args, tuple) and any(isinstance(a, BaseException) for a in record.args):
        args = tuple(safe_message(a) if isinstance(a, BaseException) else a for a in record.args)
        return str(record.msg) % args
    return record.getMessage()


class _SafeTracebacks(logging.Formatter):
    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        exc = ei[1] if isinstance(ei, tuple) else None
        return format_exception(exc) if isinstance(exc, BaseException) else ""


class TextFormatter(_SafeTracebacks):
    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        parts = [ts[:-4] + "Z", record.levelname, record.name, _message(record)]
        parts += [
            f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in _extras(record).items()
        ]
        if record.exc_info:
            # Keep one line per event: the traceback is folded onto the same line.
            parts.append("exc=" + json.dumps(self.formatException(record.exc_info)))
        return redact(" ".join(parts))


class JsonFormatter(_SafeTracebacks):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "event": _message(record),
            **_extras(record),
        }
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(payload, ensure_ascii=False, default=str))


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiogram logs every handled update at INFO; keep that at DEBUG unless asked.
    logging.getLogger("aiogram.event").setLevel(max(logging.WARNING, root.level))
    # aiosqlite logs every statement at DEBUG: far too much, and it may carry user text.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, root.level))
    # Alembic announces its plugins and context at every start: not an event worth a line.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
