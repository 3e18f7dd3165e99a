"""The HTTP session the bot talks to the Bot API through: aiogram's aiohttp session, sending
a call without files as one JSON body (`application/json`, which the Bot API accepts like a
form) instead of aiogram's form, and keeping the classes it reads answers into.

Why: aiogram encodes every parameter that is an object (a keyboard, link preview options) as
a JSON string and then form-encodes that string again, character by character in
`urllib.parse.quote`, several times the work of one JSON body for a screen with a keyboard
(the figures: bench/README.md). A call with files (a picture) keeps aiogram's multipart form.
"""

from __future__ import annotations

import datetime
import functools
import json
from typing import TYPE_CHECKING, Any, cast

from aiogram.client.default import Default
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiohttp import ClientError, ClientTimeout

if TYPE_CHECKING:
    from aiogram import Bot

_JSON_HEADERS = {"Content-Type": "application/json"}
# UTF-8 as it is: a Cyrillic letter is two bytes on the wire, not a six-byte \uXXXX escape.
_dumps = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))


class JsonSession(AiohttpSession):
    """See the module's docstring. Answers and errors are read exactly as aiogram reads
    them (`check_response`)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("json_dumps", _dumps)
        super().__init__(**kwargs)
        # Pydantic caches the generic `Response[<result type>]` classes only weakly: the
        # garbage collector freed them between calls and the next call built its class
        # again, milliseconds each. Holding them here keeps pydantic's cache warm.
        self._response_types: dict[Any, type] = {}
        # The bot's defaults made plain, by name, with the defaults they were made from.
        self._defaults: dict[str, tuple[Any, Any]] = {}

    def json_body(self, bot: Bot, method: TelegramMethod[Any]) -> bytes | None:
        """The call's parameters as one JSON object, or None when it sends files. A
        parameter that is None or an empty string is left out, as in aiogram's form."""
        files: dict[str, Any] = {}
        fields: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            plain = self._plain(value, bot, files)
            if plain is None or plain == "":
                continue
            fields[key] = plain
        if files:
            return None
        return self.json_dumps(fields).encode()

    def _plain(self, value: Any, bot: Bot, files: dict[str, Any]) -> Any:
        """`value` as JSON-ready data: what `prepare_value` makes of it, without encoding
        nested objects as strings. The common kinds are handled here, quickly."""
        if value is None or isinstance(value, str | int | float):  # bool is an int
            return value
        if isinstance(value, dict):
            return {
                key: plain
                for key, item in value.items()
                if (plain := self._plain(item, bot, files)) is not None
            }
        if isinstance(value, list):
            return [
                plain for item in value if (plain := self._plain(item, bot, files)) is not None
            ]
        if isinstance(value, datetime.datetime):
            return round(value.timestamp())
        if isinstance(value, datetime.timedelta):
            return round((datetime.datetime.now() + value).timestamp())
        if isinstance(value, Default):
            return self._default(value.name, bot, files)
        prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
        if prepared is value:
            return value
        return self._plain(prepared, bot, files)  # a Default, an Enum, a TelegramObject…

    def _default(self, name: str, bot: Bot, files: dict[str, Any]) -> Any:
        """A default of the bot (`bot.default[name]`) made plain once, not on every call: a
        message carries several (the link preview options a model of its own, dumped anew
        each time), and the outbox sender makes a thousand calls a second. Defaults hold no
        files; the plain value is only encoded, never changed."""
        made = self._defaults.get(name)
        if made is None or made[0] is not bot.default:
            made = self._defaults[name] = (bot.default, self._plain(bot.default[name], bot, files))
        return made[1]

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature
    ) -> TelegramType:
        returning = method.__returning__
        if returning not in self._response_types:
            self._response_types[returning] = Response[returning]  # type: ignore[valid-type]
        body = self.json_body(bot, method)
        if body is None:  # files: aiogram's multipart form
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(
                url,
                data=body,
                headers=_JSON_HEADERS,
                timeout=ClientTimeout(total=self.timeout if timeout is None else timeout),
            ) as resp:
                raw_result = await resp.text()
        except TimeoutError as e:
            raise TelegramNetworkError(method=method, message="Request timeout error") from e
        except ClientError as e:
            raise TelegramNetworkError(method=method, message=f"{type(e).__name__}: {e}") from e
        response = self.check_response(
            bot=bot, method=method, status_code=resp.status, content=raw_result
        )
        return cast(TelegramType, response.result)
