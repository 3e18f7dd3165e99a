"""The one place where SQL differs between SQLite and PostgreSQL."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, any_, func
from sqlalchemy.dialects import sqlite  # postgresql's where it is used: SQLite never imports it
from sqlalchemy.ext.asyncio import AsyncConnection


async def upsert(
    conn: AsyncConnection,
    table: Table,
    values: Mapping[str, Any],
    *,
    key: Sequence[str],
    update: Sequence[str] | None = None,
) -> None:
    """INSERT, or on a conflict on `key` UPDATE the `update` columns (all others by default);
    with `update=()` the conflicting row is left as it is."""
    columns = tuple(c for c in values if c not in key) if update is None else tuple(update)
    stmt = _upsert(conn.dialect.name, table, tuple(key), columns)
    await conn.execute(stmt, dict(values))


@functools.cache
def _upsert(dialect: str, table: Table, key: tuple[str, ...], columns: tuple[str, ...]) -> Any:
    """The statement of `upsert`, built once (its values come as parameters)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        stmt: Any = postgresql.insert(table)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table)
    else:  # pragma: no cover - only the two supported backends
        raise NotImplementedError(dialect)
    if columns:
        return stmt.on_conflict_do_update(
            index_elements=list(key), set_={c: stmt.excluded[c] for c in columns}
        )
    return stmt.on_conflict_do_nothing(index_elements=list(key))


def _insert(conn: AsyncConnection, table: Table) -> Any:
    name = conn.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(name)  # pragma: no cover - only the two supported backends


# Rows per executemany call of `insert_ignore`. SQLAlchemy sends each call as multi-row
# INSERTs ("insertmanyvalues", compiled once, pages within both backends' parameter caps).
INSERT_CHUNK = 1_000


async def insert_ignore(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    key: Sequence[str],
    chunk: int = INSERT_CHUNK,
) -> int:
    """INSERT many rows, silently skipping those that conflict on the unique `key` columns
    (`ON CONFLICT (key) DO NOTHING`, the same on SQLite ≥ 3.35 and PostgreSQL).

    Every row must have the same columns. Returns how many rows were inserted (a row that
    repeats the key of an earlier row in `rows` is not inserted either). On PostgreSQL rows go
    in chunks of `chunk` (`RETURNING` lists only inserted rows); on SQLite all of them through
    one prepared statement (`_sqlite_insert_ignore`).
    """
    if not rows:
        return 0
    if conn.dialect.name == "sqlite" and _given_or_served(table, rows[0]):
        return await _sqlite_insert_ignore(conn, table, rows, key)
    stmt = (
        _insert(conn, table)
        .on_conflict_do_nothing(index_elements=list(key))
        .returning(table.c[key[0]])
    )
    inserted = 0
    for start, end in _pieces(len(rows), chunk):
        part = [dict(row) for row in rows[start:end]]
        inserted += len((await conn.execute(stmt, part)).all())
    return inserted


def _given_or_served(table: Table, row: Mapping[str, Any]) -> bool:
    """Every column is in the row or has nothing for SQLAlchemy to fill in (no Python-side
    default): then a statement without SQLAlchemy's help inserts the same row."""
    return all(c.name in row or c.default is None for c in table.columns)


async def _sqlite_insert_ignore(
    conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]], key: Sequence[str]
) -> int:
    """`insert_ignore` on SQLite, without SQLAlchemy's row-by-row work: each column's values go
    through the processors SQLAlchemy uses, once per distinct value (a page of pushes shares a
    few times); then the rows go in multi-row `INSERT … VALUES (…), (…) … ON CONFLICT DO
    NOTHING` statements of up to `SQLITE_VARIABLES` values each (`_values_insert`). The row
    count adds up the rows inserted.

    SQLAlchemy's own way processes every value of every row in Python (a datetime becomes text
    twice over) and reads back a RETURNING row per insert, a large share of the planner's CPU
    (bench/README.md). Why many rows a statement rather than the driver's
    executemany: the driver works in the database thread and takes the GIL back for every
    statement it binds and runs; while the event loop's thread runs Python (the planner
    plans the next page meanwhile) each take waits, so a page's write went hardly faster
    than the planning let it, and the planner then waited for it. A statement of a hundred
    rows binds them at once and inserts them in SQLite without the GIL."""
    dialect = conn.dialect
    names = list(rows[0])
    columns = []
    for name in names:
        values = [row[name] for row in rows]
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processed = {v: process(v) for v in set(values) if v is not None}
            values = [processed.get(v) for v in values]  # None stays None
        columns.append(values)
    flat = [value for row in zip(*columns, strict=True) for value in row]
    width = len(names)
    inserted = 0
    for start, end in _pieces(len(rows), max(1, SQLITE_VARIABLES // width)):
        statement = _values_insert(table, tuple(names), tuple(key), end - start)
        result = await conn.exec_driver_sql(statement, tuple(flat[start * width : end * width]))
        inserted += result.rowcount
    return inserted


# Values per statement of `_sqlite_insert_ignore`: within SQLite's oldest cap on a statement's
# parameters (999; 32 766 since 3.32).
SQLITE_VARIABLES = 999


@functools.cache
def _values_insert(table: Table, names: tuple[str, ...], key: tuple[str, ...], rows: int) -> str:
    """`INSERT INTO table (names) VALUES (?, …), … ON CONFLICT (key) DO NOTHING` for `rows`
    rows, the values in the order of `names` (`_pieces` keeps `rows` to a few sizes)."""
    quote = sqlite.dialect().identifier_preparer.quote
    row = "(" + ", ".join("?" * len(names)) + ")"
    return (  # the table's own names, quoted: nothing here comes from a user
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "  # noqa: S608
        f"VALUES {', '.join([row] * rows)} "
        f"ON CONFLICT ({', '.join(quote(k) for k in key)}) DO NOTHING"
    )


def _pieces(total: int, chunk: int) -> list[tuple[int, int]]:
    """[start, end) slices: `chunk` rows each, the rest in falling powers of two. So only a few
    sizes of multi-row INSERT ever reach the driver, whose statement cache would otherwise keep
    a large prepared statement for every remainder size it met (about 1 MB each on SQLite)."""
    pieces = []
    start = 0
    while total - start >= chunk:
        pieces.append((start, start + chunk))
        start += chunk
    size = 1 << max(0, (total - start).bit_length() - 1)
    while start < total:
        if total - start >= size:
            pieces.append((start, start + size))
            start += size
        size //= 2
    return pieces


def claimed_ids(column: ColumnElement[Any], picked: Select[Any], conn: AsyncConnection) -> Any:
    """`column` is one of the ids `picked` selects, for an `UPDATE … WHERE <this>` that
    claims rows (a work queue). `picked` must be evaluated exactly once:

    * PostgreSQL: `picked … FOR UPDATE SKIP LOCKED` inside `= ANY(ARRAY(picked))`. With a
      plain `IN (picked)` the planner may rescan the subquery once per outer row; a rescan
      skips the rows this very statement already updated and returns the next ones, so more
      than LIMIT rows get claimed. ARRAY(…) is an init plan, run once. SKIP LOCKED makes a
      concurrent claimer pass over rows being taken instead of waiting for them.
    * SQLite: `IN (picked)` (an uncorrelated subquery is run once into a temporary index).
      SQLite has no row locks: one writer at a time holds the whole database, so the UPDATE
      is atomic as it is.
    """
    if conn.dialect.name == "postgresql":
        locked = picked.with_for_update(skip_locked=True)
        return column == any_(func.array(locked.scalar_subquery()))
    return column.in_(picked.scalar_subquery())
