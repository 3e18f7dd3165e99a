"""What the playground keeps across restarts besides the bot's database: the simulated
people's chats (messages with their buttons and files, so old buttons still work), the
clock offset and the chosen language. One JSON file plus the files' bytes beside it."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.emulator.state import Chat, EmulatorState, StoredFile, StoredMessage

log = logging.getLogger(__name__)
JSON = dict[str, Any]
VERSION = 1
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_-]")


@dataclass
class Saved:
    offset: timedelta = timedelta()
    language: str = "ru"
    chats: dict[int, list[JSON]] = field(default_factory=dict)
    chose_language: frozenset[int] = frozenset()  # people who pressed a /language button


class ChatStore:
    """``<directory>/chats.json`` and ``<directory>/files/<file_unique_id>``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "chats.json"
        self.files = directory / "files"

    def load(self) -> Saved:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return Saved()
        except (OSError, ValueError) as exc:
            log.warning("playground history unreadable, starting afresh", extra={"error": exc})
            return Saved()
        if not isinstance(raw, dict) or raw.get("version") != VERSION:
            return Saved()
        chats = raw.get("chats") or {}
        language = raw.get("language")
        return Saved(
            offset=timedelta(seconds=float(raw.get("clock_offset", 0))),
            language=language if language in ("ru", "en") else "ru",
            chats={int(k): v for k, v in chats.items() if isinstance(v, list)},
            chose_language=frozenset(
                int(i) for i in raw.get("chose_language") or () if isinstance(i, int)
            ),
        )

    def save(
        self,
        offset: timedelta,
        language: str,
        chats: dict[int, Chat],
        chose_language: frozenset[int] = frozenset(),
    ) -> None:
        self.files.mkdir(parents=True, exist_ok=True)
        data = {
            "version": VERSION,
            "clock_offset": offset.total_seconds(),
            "language": language,
            "chose_language": sorted(chose_language),
            "chats": {
                str(chat_id): [self._message(m) for m in chat.messages.values()]
                for chat_id, chat in chats.items()
            },
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.path)

    def _blob(self, file: StoredFile) -> Path:
        return self.files / _SAFE_NAME.sub("_", file.file_unique_id)

    def _message(self, message: StoredMessage) -> JSON:
        saved: JSON = {
            "id": message.message_id,
            "from_bot": message.from_bot,
            "kind": message.kind,
            "date": message.date,
            "text": message.text,
            "entities": message.entities,
            "reply_markup": message.reply_markup,
            "reply_to": message.reply_to.message_id if message.reply_to is not None else None,
            "version": message.version,
            "edit_date": message.edit_date,
            "deleted": message.deleted,
        }
        file = message.file
        if file is not None:
            blob = self._blob(file)
            if not blob.exists():
                blob.write_bytes(file.data)
            saved["file"] = {
                "file_id": file.file_id,
                "unique": file.file_unique_id,
                "kind": file.kind,
                "file_name": file.file_name,
                "mime_type": file.mime_type,
                "width": file.width,
                "height": file.height,
                "emoji": file.emoji,
            }
        return saved

    def restore(self, state: EmulatorState, chat: Chat, messages: list[JSON]) -> None:
        """Put saved messages back into a fresh emulator chat under their old ids."""
        for saved in messages:
            if saved.get("id") != len(chat.messages) + 1:
                log.warning("playground history out of order; the rest is left out")
                return
            file = self._file(state, saved.get("file"))
            kind = saved.get("kind", "text") if file is not None else "text"
            reply_to = chat.messages.get(saved.get("reply_to") or 0)
            message = chat.add_message(
                from_bot=bool(saved.get("from_bot")),
                kind=str(kind),
                date=int(saved.get("date", 0)),
                text=str(saved.get("text", "")),
                entities=list(saved.get("entities") or []),
                reply_markup=saved.get("reply_markup"),
                file=file,
                reply_to=reply_to,
            )
            message.version = int(saved.get("version", 0))
            message.edit_date = saved.get("edit_date")
            # A file whose bytes are gone cannot be shown: the message stays, hidden.
            message.deleted = bool(saved.get("deleted")) or (kind != saved.get("kind", "text"))
        if messages:
            chat.started = True

    def _file(self, state: EmulatorState, saved: Any) -> StoredFile | None:
        if not isinstance(saved, dict):
            return None
        known = state.files.get(str(saved.get("file_id")))
        if known is not None:
            return known
        blob = self.files / _SAFE_NAME.sub("_", str(saved.get("unique", "")))
        with contextlib.suppress(OSError):
            return state.store_file(
                str(saved.get("kind", "document")),
                blob.read_bytes(),
                file_name=saved.get("file_name"),
                mime_type=saved.get("mime_type"),
                width=saved.get("width"),
                height=saved.get("height"),
                emoji=saved.get("emoji"),
                file_id=str(saved.get("file_id")),
            )
        return None
