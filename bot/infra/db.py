"""Engine creation and migrations. SQLite (WAL, foreign keys) by default, PostgreSQL for scale."""

from __future__ import annotations

import ast
import functools
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.config import ROOT
from bot.infra.sqlite import DBAPI, SqliteEngine

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
MIGRATIONS = ROOT / "migrations"


SQLITE_POOL = 32  # connections kept open (each is a thread); as many again opened at a peak
BUSY_TIMEOUT = 30.0  # seconds a SQLite writer waits for another's lock before "locked"


def make_engine(url: str, *, busy_timeout: float = BUSY_TIMEOUT, **kwargs: Any) -> AsyncEngine:
    """An async engine. On SQLite: WAL (readers never wait for the writer), foreign keys, and
    a writer that finds the database locked — another instance, a backup, the sqlite3 shell —
    waits up to `busy_timeout` seconds for its turn instead of failing at once.

    Transactions stay as pysqlite opens them (at the first INSERT/UPDATE/DELETE, which takes
    the write lock through that wait), so a transaction that reads before it writes never
    holds a stale snapshot and never meets the busy error SQLite gives without waiting
    (SQLITE_BUSY_SNAPSHOT). What can still escape — a lock held longer than `busy_timeout` —
    fails that transaction whole; the outbox sender and the scheduler's ticks try again.

    Both hide a statement's parameters from its errors' text: they may be what a user typed.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True, hide_parameters=True, **kwargs)
    database = parsed.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # `timeout`: how long a statement waits for another connection's lock. It waits on the
    # database thread, never on the event loop (bot/infra/sqlite.py); that covers the pragmas below
    # too (switching a new file to WAL needs the lock for a moment).
    engine = SqliteEngine(  # its connections close in place when inline (bot/infra/sqlite.py)
        create_async_engine(
            url,
            module=DBAPI,
            connect_args={"timeout": busy_timeout},
            hide_parameters=True,  # an error's text never quotes values (bot/infra/logs.py)
            **{"pool_size": SQLITE_POOL, "max_overflow": SQLITE_POOL, **kwargs},
        ).sync_engine
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def alembic_config() -> Config:
    # Alembic is imported here, when migrating: a planner worker (bot/worker.py) never does,
    # and importing it was a third of a worker's start-up.
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _upgrade(connection: Connection) -> None:
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


MIGRATION_LOCK = 74_220_901  # a PostgreSQL advisory lock key: migrations one at a time
_HEADER = re.compile(
    r"^(revision|down_revision|branch_labels|depends_on)\s*(?::[^=]*)?=(.*)$", re.MULTILINE
)


@functools.cache
def heads() -> frozenset[str] | None:
    """The migrations' heads, read from their files' `revision = …` lines without importing
    alembic (a tenth of a second of every start-up); None when a file's header is not the
    plain kind (branches, dependencies): alembic decides then. tests/test_internals.py holds
    this to alembic's own heads."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found: dict[str, Any] = {}
        for name, value in _HEADER.findall(path.read_text(encoding="utf-8")):
            try:
                found[name] = ast.literal_eval(value.strip())
            except (ValueError, SyntaxError):
                return None
        down = found.get("down_revision")
        if (
            not isinstance(found.get("revision"), str)
            or not (down is None or isinstance(down, str))
            or found.get("branch_labels") is not None
            or found.get("depends_on") is not None
        ):
            return None
        revisions.add(found["revision"])
        if down is not None:
            parents.add(down)
    return frozenset(revisions - parents) or None


def _at_head(connection: Connection) -> bool:
    """The database is at the migrations' one head: nothing to apply, alembic not needed."""
    wanted = heads()
    if wanted is None or not inspect(connection).has_table("alembic_version"):
        return False
    rows = connection.execute(text("SELECT version_num FROM alembic_version"))
    current = {row[0] for row in rows}
    return current == wanted


async def migrate(engine: AsyncEngine) -> None:
    """Apply pending migrations (idempotent). On PostgreSQL instances starting together take
    turns (an advisory lock held until the migration commits); the later ones find nothing
    left to do."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        if not await conn.run_sync(_at_head):  # a restart: usually nothing to apply
            await conn.run_sync(_upgrade)
    log.info("migrations applied", extra={"backend": engine.dialect.name})
