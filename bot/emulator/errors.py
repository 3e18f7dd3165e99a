"""Bot API errors in Telegram's exact wire shape."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer of the Bot API.

    ``description`` is the full text Telegram puts into the ``description`` field,
    e.g. ``"Bad Request: chat not found"``. The HTTP status equals ``error_code``.
    """

    def __init__(
        self,
        error_code: int,
        description: str,
        *,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            payload["parameters"] = {"retry_after": self.retry_after}
        return payload


def bad_request(message: str) -> ApiError:
    """``400 Bad Request: <message>``."""
    return ApiError(400, f"Bad Request: {message}")


def forbidden(message: str) -> ApiError:
    """``403 Forbidden: <message>``."""
    return ApiError(403, f"Forbidden: {message}")


def conflict(message: str) -> ApiError:
    """``409 Conflict: <message>``."""
    return ApiError(409, f"Conflict: {message}")


def too_many_requests(retry_after: int) -> ApiError:
    """``429 Too Many Requests: retry after N`` with ``parameters.retry_after``."""
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


UNAUTHORIZED = 401
NOT_FOUND = 404


def unauthorized() -> ApiError:
    return ApiError(UNAUTHORIZED, "Unauthorized")


def not_found() -> ApiError:
    return ApiError(NOT_FOUND, "Not Found")


# Frequently used descriptions (without the "Bad Request: " prefix).
CHAT_NOT_FOUND = "chat not found"
MESSAGE_TEXT_EMPTY = "message text is empty"
MESSAGE_TOO_LONG = "message is too long"
CAPTION_TOO_LONG = "message caption is too long"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
EDIT_NOT_FOUND = "message to edit not found"
DELETE_NOT_FOUND = "message to delete not found"
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
BOT_BLOCKED = "bot was blocked by the user"
PARTICIPANT_ID_INVALID = "PARTICIPANT_ID_INVALID"
CHAT_NOT_GROUP = "chat is not a group or a supergroup"
NOT_A_FORUM = "the chat is not a forum"
NOT_ENOUGH_RIGHTS_TOPIC = "not enough rights to create a topic"
THREAD_NOT_FOUND = "message thread not found"
TOPIC_CLOSED = "TOPIC_CLOSED"
USER_NOT_FOUND = "user not found"
WEBHOOK_ACTIVE = (
    "can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
    "webhook first"
)
TERMINATED_BY_OTHER = (
    "terminated by other getUpdates request; make sure that only one bot instance is running"
)
