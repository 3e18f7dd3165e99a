"""Structured logging: one line per event, `key=value` text or JSON.

Log calls pass facts as `extra={...}`; the formatter prints them after the message. A filter
masks anything shaped like a bot token wherever it appears, so a token never reaches a log
even inside a library's exception text. Users' typed text is never passed to a logger.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

TOKEN_PATTERN = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{30,}")
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


def redact(text: str) -> str:
    return TOKEN_PATTERN.sub("<token>", text)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        parts = [ts[:-4] + "Z", record.levelname, record.name, record.getMessage()]
        parts += [
            f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in _extras(record).items()
        ]
        if record.exc_info:
            # Keep one line per event: the traceback is folded onto the same line.
            parts.append("exc=" + json.dumps(self.formatException(record.exc_info)))
        return redact(" ".join(parts))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
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
