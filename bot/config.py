"""Settings from the environment and `.env` (pydantic-settings).

Every setting is documented in `.env.example`; keep the two in step.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{30,}$")
SUPPORTED_LOCALES = ("ru", "en")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says what to do."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    bot_token: SecretStr | None = None
    database_url: str = f"sqlite+aiosqlite:///{ROOT / 'data' / 'opora.db'}"
    telegram_api_base: str | None = None
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    default_timezone: str = "Europe/Moscow"
    default_locale: Literal["ru", "en"] = "ru"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    redis_url: str | None = None
    # A TTF/OTF font with Cyrillic for pictures; empty: DejaVu Sans found on the system.
    font_path: str | None = None
    # Who runs this deployment: the personal data operator named on the consent screen and in
    # the privacy policy, and how to reach them. Required with BOT_TOKEN (`require_operator`);
    # the playground, without a token, says it has none.
    operator_name: str | None = None
    operator_contact: str | None = None
    # The retention term: a user's data is deleted this many days after their last action (the
    # consent screen and the policy say the same term, in years when it is whole years).
    retention_days: int = Field(default=730, ge=30, le=3650)
    # Flood guard: a user may send `flood_burst` updates at once, refilled at `flood_rate`/s.
    flood_burst: int = Field(default=10, ge=1)
    flood_rate: float = Field(default=2.0, gt=0)
    polling_timeout: int = Field(default=10, ge=0, le=50)
    # Updates handled at once; more wait their turn (at Telegram when polling). Unbounded, a
    # flood of users held every database connection and timed out (bench/updates.py).
    updates_in_flight: int = Field(default=16, ge=1, le=1000)
    # Processes that draw pictures (bot/ui/painter.py): 1 uses the second core and keeps other
    # users' updates going while pictures are drawn; 0 draws them in threads of this process.
    picture_processes: int = Field(default=1, ge=0, le=8)
    # The outbox sender: messages per second in all (Telegram allows about 30; paid broadcasts
    # up to 1000), seconds between two messages to one chat, sends in flight at once, attempts
    # before a message is given up, seconds after which a claimed but unfinished row is retried.
    send_rate: float = Field(default=25.0, gt=0)
    send_chat_interval: float = Field(default=1.0, ge=0)
    send_concurrency: int = Field(default=32, ge=1)
    send_max_attempts: int = Field(default=5, ge=1)
    outbox_lease: float = Field(default=60.0, gt=0)
    # Opportunity cards posted into groups/channels or shared inline: seconds a change waits
    # so that a flood of sign-ups makes one edit, at least this many seconds between two
    # edits of one card, and card edits per second in all.
    card_edit_delay: float = Field(default=2.0, ge=0)
    card_edit_interval: float = Field(default=5.0, ge=0)
    card_edit_rate: float = Field(default=2.0, gt=0)
    # The scheduler's tick (seconds) and the days before a deadline that get a reminder.
    tick_seconds: float = Field(default=60.0, gt=0)
    # The planner (bot/worker.py): up to `planner_workers` processes started for a tick of at
    # least `planner_workers_from` users (a smaller one is planned in the bot's own process,
    # sooner than a process starts); 0: always in the bot's process. With `planner_external`
    # the bot only writes each tick's pages and `python -m bot worker` processes plan them.
    # `planner_page`: users per page (a claim, a transaction). `planner_worker_idle`: seconds a
    # started worker stays alive waiting for the next tick (so a tick pays no process start,
    # imports nor catalog load), then exits; 0: the workers exit when their tick is planned.
    planner_workers: int = Field(default=2, ge=0, le=16)
    planner_workers_from: int = Field(default=5_000, ge=0)
    planner_external: bool = False
    planner_page: int = Field(default=1_000, ge=1, le=100_000)
    planner_worker_idle: float = Field(default=150.0, ge=0)
    reminder_days: Annotated[tuple[int, ...], NoDecode] = (14, 3, 1)
    # The consultation desk: a question not taken within this many hours (plain hours, nights
    # and weekends included) is reminded to the coordinators' work group once.
    desk_remind_hours: float = Field(default=24.0, gt=0)
    # How updates arrive: long polling (one instance) or webhooks (any number of instances
    # behind a proxy). Webhook mode serves WEBHOOK_PATH and /healthz on WEBHOOK_HOST:PORT and
    # registers WEBHOOK_URL + WEBHOOK_PATH with Telegram; WEBHOOK_SECRET is checked on every call.
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_path: str = "/telegram"
    webhook_secret: SecretStr | None = None
    webhook_host: str = "0.0.0.0"  # noqa: S104 - a server behind a proxy listens on all
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    # Without BOT_TOKEN `python -m bot` opens the playground: the bot on the built-in emulator
    # with a web chat at http://PLAYGROUND_HOST:PLAYGROUND_PORT.
    playground_host: str = "127.0.0.1"
    playground_port: int = Field(default=8080, ge=0, le=65535)
    playground_dir: Path | None = None  # the playground's data; default: ./data/playground

    @field_validator("operator_name", "operator_contact", mode="after")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        text = " ".join((value or "").split())
        return text or None

    def require_operator(self) -> None:
        """A real bot names its personal-data operator (152-ФЗ): SettingsError otherwise."""
        missing = [
            n
            for n, v in (
                ("OPERATOR_NAME", self.operator_name),
                ("OPERATOR_CONTACT", self.operator_contact),
            )
            if not v
        ]
        if missing:
            raise SettingsError(
                f"{' and '.join(missing)} must be set with BOT_TOKEN: the consent screen and the "
                "privacy policy name the personal-data operator and how to reach them "
                "(see .env.example)."
            )

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _parse_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p for p in re.split(r"[,\s]+", value.strip()) if p]
            try:
                return frozenset(int(p) for p in parts)
            except ValueError as exc:
                raise ValueError("ADMIN_IDS must be Telegram ids separated by commas") from exc
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("reminder_days", mode="before")
    @classmethod
    def _parse_days(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                days = tuple(sorted({int(p) for p in re.split(r"[,\s]+", value.strip()) if p}))
            except ValueError as exc:
                raise ValueError("REMINDER_DAYS must be numbers of days, e.g. 14,3,1") from exc
            return tuple(reversed(days))
        return value

    @field_validator("default_timezone")
    @classmethod
    def _check_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("bot_token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    def token(self) -> str:
        """The bot token, or SettingsError with a line that says what to do."""
        if self.bot_token is None:
            raise SettingsError(
                "BOT_TOKEN is not set: get a token from @BotFather and put BOT_TOKEN=... "
                "into .env (see .env.example)."
            )
        value = self.bot_token.get_secret_value().strip()
        if not TOKEN_RE.match(value):
            raise SettingsError(
                "BOT_TOKEN is malformed: it looks like 123456789:AA... (digits, a colon, "
                "then at least 30 letters, digits, _ or -); copy it again from @BotFather."
            )
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
