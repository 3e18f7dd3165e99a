"""The outbox: everything the bot sends on its own initiative, one row per message.

The row is the truth. A restart resumes pending rows, the unique `dedup_key` stops doubles
(enqueueing the same key twice keeps the first row), and several instances *claim* rows
instead of racing (see `claim`). `bot.delivery.Sender` is the only reader.

Statuses: `pending` (waiting for `not_before`), `sending` (claimed by an instance at
`claimed_at`), and the final `sent`, `failed` (a permanent error or too many attempts),
`blocked` (the user blocked the bot when this row was sent), `skipped` (not sent: the user had
blocked the bot), `cancelled` (its broadcast was cancelled).

Payload (the `payload` column, JSON)::

    {
      "text": str,                        # message text, or the caption with a file
      "parse_mode": "HTML" | None,        # how `text` is formatted (None: plain text)
      "entities": [MessageEntity] | None, # Telegram MessageEntity dicts; then parse_mode None
      "buttons": [[{"text": str, "callback_data": str} | {"text": str, "url": str}]] | None,
      "photo": str | None,                # a file_id (or URL): sendPhoto with text as caption
      "document": str | None,             # a file_id (or URL): sendDocument, text as caption
      "filename": str | None,             # the document's name, for previews and logs
      "expires_at": str | None            # ISO instant: not sent from then on (`skipped`),
    }                                     # e.g. a reminder of an event that has started

Keys may be left out (they default to None). Text-only messages go with sendMessage; the
text must already respect Telegram's limits (4096 characters, 1024 for a caption): splitting
long texts is the renderer's job, a row that Telegram refuses ends `failed`.

A push's payload is that dict, or the same already encoded (`Encoded`): the planner writes
tens of thousands of digests a tick made of a few shared sections, so it escapes each section
once (`escaped`) and joins the pieces with the rest of the payload, checked and encoded once
(`PayloadTail`) — the same JSON text, byte for byte, that encoding the dict gives.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, NamedTuple

from sqlalchemy import and_, bindparam, case, delete, exists, func, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.outbox import BLOCKED as BLOCKED
from bot.domain.outbox import CANCELLED as CANCELLED
from bot.domain.outbox import FAILED as FAILED
from bot.domain.outbox import FINAL_STATUSES as FINAL_STATUSES
from bot.domain.outbox import PENDING as PENDING
from bot.domain.outbox import SENDING as SENDING
from bot.domain.outbox import SENT as SENT
from bot.domain.outbox import SKIPPED as SKIPPED
from bot.domain.outbox import STATUSES as STATUSES
from bot.storage.dialect import claimed_ids, insert_ignore
from bot.storage.tables import outbox, users

PAYLOAD_KEYS: Final = frozenset(
    {"text", "parse_mode", "entities", "buttons", "photo", "document", "filename", "expires_at"}
)
MAX_ERROR = 500  # characters of an error description kept in the row


def check_payload(payload: Mapping[str, Any]) -> None:
    """Raise ValueError unless `payload` has the documented shape (not the lengths)."""
    unknown = set(payload) - PAYLOAD_KEYS
    if unknown:
        raise ValueError(f"unknown payload keys: {sorted(unknown)}")
    if not isinstance(payload.get("text"), str):
        raise ValueError("payload text must be a string")
    if payload.get("parse_mode") not in (None, "HTML"):
        raise ValueError("payload parse_mode must be 'HTML' or None")
    entities = payload.get("entities")
    if entities is not None:
        if not isinstance(entities, list) or not all(isinstance(e, dict) for e in entities):
            raise ValueError("payload entities must be a list of MessageEntity dicts")
        if payload.get("parse_mode") is not None:
            raise ValueError("payload with entities must have parse_mode None")
    buttons = payload.get("buttons")
    if buttons is not None:
        if not isinstance(buttons, list) or not all(isinstance(row, list) for row in buttons):
            raise ValueError("payload buttons must be a list of rows")
        for row in buttons:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise ValueError("a payload button needs a text")
                if ("callback_data" in button) == ("url" in button):
                    raise ValueError("a payload button needs callback_data or url")
    if payload.get("photo") is not None and payload.get("document") is not None:
        raise ValueError("payload may have a photo or a document, not both")
    for name in ("photo", "document", "filename", "expires_at"):
        if payload.get(name) is not None and not isinstance(payload[name], str):
            raise ValueError(f"payload {name} must be a string or None")


def _encode(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def escaped(text: str) -> str:
    """`text` as it stands inside a JSON string of an encoded payload (without the quotes).
    JSON escapes character by character, so a text's escaped pieces join into its escape."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


@dataclass(frozen=True, slots=True)
class Encoded:
    """A payload's JSON text, as `enqueue` would store the payload (see `PayloadTail`)."""

    json: str


class PayloadTail:
    """All of a payload but its text (parse mode, buttons…), checked and encoded once, to be
    joined with many texts given as escaped pieces."""

    __slots__ = ("_tail",)

    def __init__(self, **rest: Any) -> None:
        check_payload({"text": "", **rest})
        self._tail = '",' + _encode(rest)[1:] if rest else '"}'

    def encode(self, pieces: Iterable[str]) -> Encoded:
        """The payload whose text is the pieces (each `escaped`) put together."""
        return Encoded("".join(['{"text":"', *pieces, self._tail]))


class NewPush(NamedTuple):
    """A message to enqueue; `dedup_key` is unique over the whole outbox, e.g.
    `digest:<user>:<week>` or `broadcast:<batch>:<user>`. (A named tuple: the planner makes
    one per digest, and a named tuple is the cheapest to build; bench/README.md.)"""

    user_id: int
    chat_id: int
    kind: str
    dedup_key: str
    payload: dict[str, Any] | Encoded
    not_before: datetime
    batch_id: int | None = None


@dataclass(frozen=True)
class OutboxRow:
    id: int
    user_id: int
    chat_id: int
    kind: str
    dedup_key: str
    payload: dict[str, Any]
    batch_id: int | None
    status: str
    not_before: datetime
    attempts: int
    claimed_by: str | None
    claimed_at: datetime | None
    sent_at: datetime | None
    message_id: int | None
    error: str | None
    created_at: datetime


def _row(m: RowMapping) -> OutboxRow:
    return OutboxRow(
        id=m["id"],
        user_id=m["user_id"],
        chat_id=m["chat_id"],
        kind=m["kind"],
        dedup_key=m["dedup_key"],
        payload=json.loads(m["payload"]),
        batch_id=m["batch_id"],
        status=m["status"],
        not_before=m["not_before"],
        attempts=m["attempts"],
        claimed_by=m["claimed_by"],
        claimed_at=m["claimed_at"],
        sent_at=m["sent_at"],
        message_id=m["message_id"],
        error=m["error"],
        created_at=m["created_at"],
    )


def _clip(error: str | None) -> str | None:
    return None if error is None else error[:MAX_ERROR]


async def enqueue(conn: AsyncConnection, pushes: Sequence[NewPush], now: datetime) -> int:
    """Insert the pushes (in chunks); a push whose dedup_key is already there, or repeats one
    earlier in `pushes`, is skipped silently. Returns how many rows were added."""
    rows = []
    encoded: dict[int, str] = {}  # a payload many pushes share is checked and encoded once
    for push in pushes:
        if isinstance(push.payload, Encoded):
            payload = push.payload.json
        elif (known := encoded.get(id(push.payload))) is not None:
            payload = known
        else:
            check_payload(push.payload)
            payload = encoded[id(push.payload)] = _encode(push.payload)
        rows.append(
            {
                "user_id": push.user_id,
                "chat_id": push.chat_id,
                "kind": push.kind,
                "dedup_key": push.dedup_key,
                "payload": payload,
                "batch_id": push.batch_id,
                "status": PENDING,
                "not_before": push.not_before,
                "attempts": 0,
                "created_at": now,
            }
        )
    return await insert_ignore(conn, outbox, rows, key=["dedup_key"])


async def claim(
    conn: AsyncConnection, instance: str, now: datetime, limit: int, lease: timedelta
) -> list[OutboxRow]:
    """Take up to `limit` due rows for `instance`, oldest `not_before` first, and return the
    ones to send (status `sending`, `claimed_by`/`claimed_at` set, `attempts` + 1).

    Due: `pending` with `not_before` ≤ now, or `sending` with `claimed_at` older than
    now − lease (an instance died with the row in flight: it is sent again). Rows of users
    who blocked the bot are taken too but turned `skipped` and not returned.

    One statement, `UPDATE outbox … WHERE id IN (SELECT id … LIMIT n) RETURNING …`
    (`dialect.claimed_ids`): on SQLite it runs under the database's single write lock, so
    two claimers are serialised; on PostgreSQL the inner SELECT is `FOR UPDATE SKIP LOCKED`
    inside `id = ANY(ARRAY(…))`, so a concurrent claimer passes over rows being taken, and
    the outer UPDATE re-checks that each row is still due. Either way no two claimers get the
    same row. Run it in its own short transaction.
    """
    if limit <= 0:
        return []
    stale = now - lease

    def due(t: Any) -> Any:
        return or_(
            and_(t.c.status == PENDING, t.c.not_before <= now),
            and_(t.c.status == SENDING, t.c.claimed_at < stale),
        )

    pick = outbox.alias("pick")
    picked = select(pick.c.id).where(due(pick)).order_by(pick.c.not_before, pick.c.id)

    user_blocked = exists().where(users.c.id == outbox.c.user_id, users.c.blocked.is_(True))
    stmt = (
        update(outbox)
        .where(claimed_ids(outbox.c.id, picked.limit(limit), conn), due(outbox))
        .values(
            status=case((user_blocked, SKIPPED), else_=SENDING),
            error=case((user_blocked, "user blocked the bot"), else_=outbox.c.error),
            claimed_by=instance,
            claimed_at=now,
            attempts=outbox.c.attempts + case((user_blocked, 0), else_=1),
        )
        .returning(*outbox.c)
    )
    result = await conn.execute(stmt)
    rows = [_row(m) for m in result.mappings().all()]
    taken = [row for row in rows if row.status == SENDING]
    taken.sort(key=lambda row: (row.not_before, row.id))
    return taken


def _held_by(claimed_by: str | None) -> list[Any]:
    """The fence of a sender's result: with `claimed_by`, only a row still `sending` under
    that instance's claim is written. A claim that outlived its lease may have been taken by
    another instance meanwhile; then that instance's result is the one that counts."""
    if claimed_by is None:
        return []
    return [outbox.c.claimed_by == claimed_by, outbox.c.status == SENDING]


async def mark_sent(
    conn: AsyncConnection,
    id: int,
    message_id: int,
    now: datetime,
    *,
    claimed_by: str | None = None,
) -> None:
    await mark_sent_many(conn, [(id, message_id)], now, claimed_by=claimed_by)


async def mark_sent_many(
    conn: AsyncConnection,
    sent: Sequence[tuple[int, int]],
    now: datetime,
    *,
    claimed_by: str | None = None,
) -> None:
    """Record many deliveries, (row id, Telegram message_id) each, in one executemany."""
    if not sent:
        return
    stmt = (
        update(outbox)
        .where(outbox.c.id == bindparam("row_id"), *_held_by(claimed_by))
        .values(status=SENT, message_id=bindparam("mid"), sent_at=now, error=None)
    )
    await conn.execute(stmt, [{"row_id": rid, "mid": mid} for rid, mid in sent])


async def mark_failed(
    conn: AsyncConnection,
    id: int,
    error: str,
    now: datetime,
    *,
    claimed_by: str | None = None,
) -> None:
    """A permanent failure (e.g. 400, or too many attempts): the row is not tried again.
    `now` is the moment it was given up; it goes to `claimed_at` (the last time the row was
    touched by a sender), `sent_at` stays empty."""
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == id, *_held_by(claimed_by))
        .values(status=FAILED, error=_clip(error), claimed_at=now)
    )


async def mark_skipped(
    conn: AsyncConnection, ids: Sequence[int], reason: str, *, claimed_by: str | None = None
) -> None:
    """Rows taken but not sent: their user blocked the bot meanwhile, or they expired."""
    if ids:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(list(ids)), *_held_by(claimed_by))
            .values(status=SKIPPED, error=reason)
        )


async def retry_later(
    conn: AsyncConnection,
    id: int,
    not_before: datetime,
    error: str | None = None,
    *,
    refund: bool = False,
    claimed_by: str | None = None,
) -> None:
    """Back to `pending`, due at `not_before`. With `refund` the claim's attempt is given
    back (a 429 pause or a chat that was messaged too recently is not the row's fault)."""
    values: dict[str, Any] = {
        "status": PENDING,
        "not_before": not_before,
        "error": _clip(error),
        "claimed_by": None,
        "claimed_at": None,
    }
    if refund:
        values["attempts"] = case((outbox.c.attempts > 0, outbox.c.attempts - 1), else_=0)
    await conn.execute(
        update(outbox).where(outbox.c.id == id, *_held_by(claimed_by)).values(**values)
    )


async def mark_blocked_user(
    conn: AsyncConnection,
    user_id: int,
    now: datetime,
    *,
    row_id: int | None = None,
    error: str | None = None,
    claimed_by: str | None = None,
) -> int:
    """The user blocked the bot (403): users.blocked = true, blocked_at = now, every other
    pending row of theirs becomes `skipped`, and the row that met the 403 (`row_id`, if
    given) becomes `blocked`. Returns how many rows were skipped."""
    await conn.execute(
        update(users)
        .where(users.c.id == user_id, users.c.blocked.is_(False))
        .values(blocked=True, blocked_at=now, updated_at=now)
    )
    if row_id is not None:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id == row_id, *_held_by(claimed_by))
            .values(status=BLOCKED, error=_clip(error or "user blocked the bot"))
        )
    result = await conn.execute(
        update(outbox)
        .where(outbox.c.user_id == user_id, outbox.c.status == PENDING)
        .values(status=SKIPPED, error="user blocked the bot")
    )
    return int(result.rowcount or 0)


async def cancel_batch(conn: AsyncConnection, batch_id: int) -> int:
    """Cancel a broadcast: its pending rows become `cancelled` (rows in flight still go).
    Returns how many were cancelled."""
    result = await conn.execute(
        update(outbox)
        .where(outbox.c.batch_id == batch_id, outbox.c.status == PENDING)
        .values(status=CANCELLED)
    )
    return int(result.rowcount or 0)


async def batch_counts(conn: AsyncConnection, batch_id: int) -> dict[str, int]:
    """status → number of rows of one broadcast (statuses with no rows are left out)."""
    rows = await conn.execute(
        select(outbox.c.status, func.count())
        .where(outbox.c.batch_id == batch_id)
        .group_by(outbox.c.status)
    )
    return {status: int(n) for status, n in rows.all()}


EMPTY_PAYLOAD: Final = "{}"  # a scrubbed row's payload


async def prune(conn: AsyncConnection, before: datetime) -> tuple[int, int]:
    """Finished rows made before `before` are no longer needed to stop doubles (a digest's
    key names its period, a reminder's its deadline): they go, their texts with them. A
    broadcast's rows stay for its delivery figures, with the text scrubbed (the broadcast
    keeps it). Returns (deleted, scrubbed)."""
    done = and_(outbox.c.status.in_(sorted(FINAL_STATUSES)), outbox.c.created_at < before)
    deleted = await conn.execute(delete(outbox).where(done, outbox.c.batch_id.is_(None)))
    scrubbed = await conn.execute(
        update(outbox)
        .where(done, outbox.c.batch_id.is_not(None), outbox.c.payload != EMPTY_PAYLOAD)
        .values(payload=EMPTY_PAYLOAD, error=None)
    )
    return int(deleted.rowcount or 0), int(scrubbed.rowcount or 0)


async def counts(conn: AsyncConnection) -> dict[str, int]:
    """status → number of rows in the whole outbox."""
    rows = await conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status))
    return {status: int(n) for status, n in rows.all()}


async def get(conn: AsyncConnection, id: int) -> OutboxRow | None:
    row = (await conn.execute(select(outbox).where(outbox.c.id == id))).mappings().first()
    return None if row is None else _row(row)


async def by_batch(conn: AsyncConnection, batch_id: int) -> list[OutboxRow]:
    rows = await conn.execute(
        select(outbox).where(outbox.c.batch_id == batch_id).order_by(outbox.c.id)
    )
    return [_row(m) for m in rows.mappings().all()]


async def next_due(conn: AsyncConnection, lease: timedelta | None = None) -> datetime | None:
    """When `claim` will next find something: the earliest `not_before` of a pending row, or
    (given the `lease`) the earliest moment a `sending` row's lease runs out. None: nothing
    is waiting."""
    pending = select(func.min(outbox.c.not_before)).where(outbox.c.status == PENDING)
    found: list[datetime] = []
    value: datetime | None = (await conn.execute(pending)).scalar()
    if value is not None:
        found.append(value)
    if lease is not None:
        sending = select(func.min(outbox.c.claimed_at)).where(outbox.c.status == SENDING)
        claimed: datetime | None = (await conn.execute(sending)).scalar()
        if claimed is not None:
            found.append(claimed + lease)
    return min(found, default=None)
