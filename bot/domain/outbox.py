"""The statuses of an outbox row (the table and its queries: `bot.storage.outbox`).

`pending` (waiting for `not_before`), `sending` (claimed by an instance), and the final `sent`,
`failed` (a permanent error or too many attempts), `blocked` (the user blocked the bot when
this row was sent), `skipped` (not sent: the user had blocked the bot), `cancelled` (its
broadcast was cancelled).
"""

from __future__ import annotations

from typing import Final

PENDING: Final = "pending"
SENDING: Final = "sending"
SENT: Final = "sent"
FAILED: Final = "failed"
BLOCKED: Final = "blocked"
SKIPPED: Final = "skipped"
CANCELLED: Final = "cancelled"
STATUSES: Final = (PENDING, SENDING, SENT, FAILED, BLOCKED, SKIPPED, CANCELLED)
FINAL_STATUSES: Final = frozenset({SENT, FAILED, BLOCKED, SKIPPED, CANCELLED})
