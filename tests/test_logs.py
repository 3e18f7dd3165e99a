"""What the log formatters print of an exception: Python's own traceback, but a database
error's text never quotes a value (tests/e2e/test_basics.py fails a real write)."""

from __future__ import annotations

import logging
import sqlite3
import sys

import asyncpg
import pytest

from bot.infra.logs import JsonFormatter, TextFormatter, format_exception


def _raised(exc: Exception) -> Exception:
    try:
        raise exc
    except Exception as caught:
        return caught


def test_an_ordinary_traceback_is_printed_as_python_prints_it() -> None:
    def fail() -> None:
        try:
            {"there": 1}["missing"]
        except KeyError as exc:
            raise ValueError("no such key") from exc

    try:
        fail()
    except ValueError:
        info = sys.exc_info()
    assert info[1] is not None
    assert format_exception(info[1]) == logging.Formatter().formatException(info)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.DataError("invalid input for query argument $1: 'SECRET' (int)"),
        asyncpg.exceptions.InvalidTextRepresentationError(
            'invalid input syntax for type integer: "SECRET"'
        ),
    ],
)
def test_a_drivers_text_is_left_out_and_its_names_kept(error: Exception) -> None:
    error = _raised(error)
    record = logging.LogRecord(
        "aiogram.event", logging.ERROR, "", 0, "update failed: %s: %s", ("Error", error),
        (type(error), error, error.__traceback__),
    )  # fmt: skip
    for formatter in (TextFormatter(), JsonFormatter()):
        line = formatter.format(record)
        assert "SECRET" not in line
        assert type(error).__name__ in line


def test_sqlites_own_message_is_kept() -> None:
    error = _raised(sqlite3.IntegrityError("NOT NULL constraint failed: broadcasts.author_id"))
    assert format_exception(error).endswith(
        "sqlite3.IntegrityError: NOT NULL constraint failed: broadcasts.author_id"
    )
