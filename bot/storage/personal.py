"""A person's data as a whole (152-ФЗ): what /my_data exports of each area, and the erasure
that /delete_me and the retention purge run.

**Export.** One function per area the other repositories do not already export, each
returning plain values (datetimes stay datetimes; the service makes the JSON).

**Erasure** (`erase`, in the caller's transaction) leaves no row that names the person:

* rows that are theirs go: every row with a foreign key to their `users` row, and the columns
  marked `info[ERASE] == DELETE` in bot.storage.tables (conversation state, self-assessments,
  outbox rows to their chat);
* what they did that others rely on stays, under a pseudonym: the columns marked PSEUDONYM
  (the audit log's actor, who published an opportunity, wrote a broadcast, added a grant …)
  get `-n`, and text that held their id (the audit log's target and details) gets
  `deleted-n`, `n` being a row of `erasures` handed out for this erasure. A counter rather
  than a keyed hash of the id: a hash of a Telegram id can be reversed by trying the few
  billion ids there are, by anyone holding the key (which lives next to the database), and it
  would give a person who comes back and is erased again the same pseudonym;
* their drafts are deleted, their scheduled and sending broadcasts cancelled, their published
  opportunities lose the contact (the cancellation of those not started, with the
  participants told, is the volunteering service's part: it renders the notices);
* an entry of «Частые вопросы» made from their question goes unless it is published and no
  longer names them (bot/storage/faq.py, `before_erasure`); a kept one loses the link to the
  question;
* text elsewhere that names them — a notice to an organiser "Ivan Petrov (@ivan) signed up",
  their contact in a reminder someone else got — is masked with "•" (as many as the masked
  characters, so a broadcast's entity offsets still hold). Their full name, @username (or the
  "id N" an organiser sees of a volunteer without either) and contacts are masked in every
  text column of every table but `users` (where a namesake keeps their name); each part of
  the name and the bare username only in rows about them: what they did (a PSEUDONYM column
  holds their pseudonym) and the organisers' sign-up notices. Whole words only: "Ян" is not
  masked in "Январь".
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Table,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import String

from bot.domain.opportunities import CANCELLED as OPPORTUNITY_CANCELLED
from bot.storage import audit as audit_repo
from bot.storage import broadcasts as broadcasts_repo
from bot.storage import faq as faq_repo
from bot.storage import outbox as outbox_repo
from bot.storage import users as users_repo
from bot.storage import volunteering as volunteering_repo
from bot.storage.tables import (
    DELETE,
    ERASE,
    NULL,
    PSEUDONYM,
    article_log,
    articles,
    audit_log,
    broadcasts,
    erasures,
    grant_follows,
    grants,
    local_measures,
    metadata,
    opportunities,
    opportunity_changes,
    outbox,
    self_assessments,
    users,
)

MASK = "•"
NOTICE_KIND = "opp_notice"  # the organisers' sign-up notices: they name volunteers
SHORTEST = 3  # a shorter needle (a name like "Ян") matches too much to be masked


def label(pseudonym: int) -> str:
    """How a pseudonym (a negative number) reads in text: deleted-<n>."""
    return f"deleted-{-pseudonym}"


_DIGITS = r"(?<!\d){}(?!\d)"  # the id, not a part of a longer number


def _names_id(column: ColumnElement[str], user_id: int) -> ColumnElement[bool]:
    """`column` (text) may hold the id: its digits are there (`_DIGITS` tells for sure)."""
    return column.contains(str(user_id))


# --- export ----------------------------------------------------------------------------------


def _keyed_ids(keys: Iterable[str], prefix: str) -> dict[str, int]:
    """ "G12" → 12 for the keys of rows coordinators added (catalog codes are left out)."""
    found = {}
    for key in keys:
        if key.startswith(prefix) and key[len(prefix) :].isdigit():
            found[key] = int(key[len(prefix) :])
    return found


async def _titles(conn: AsyncConnection, table: Table, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await conn.execute(select(table.c.id, table.c.title).where(table.c.id.in_(wanted)))
    return {int(i): str(t) for i, t in rows.all()}


async def followed_grants(conn: AsyncConnection, user_id: int) -> list[dict[str, Any]]:
    """The grants they follow, oldest first: key, the title of a coordinator's grant (None for
    a catalog code: the catalog names it), since when."""
    rows = (
        await conn.execute(
            select(grant_follows.c.grant_key, grant_follows.c.created_at)
            .where(grant_follows.c.user_id == user_id)
            .order_by(grant_follows.c.created_at, grant_follows.c.grant_key)
        )
    ).all()
    ids = _keyed_ids((k for k, _ in rows), "G")
    titles = await _titles(conn, grants, ids.values())
    return [{"key": k, "title": titles.get(ids.get(k, 0)), "followed_at": at} for k, at in rows]


async def seen_articles(conn: AsyncConnection, user_id: int) -> list[dict[str, Any]]:
    """The articles sent to them or opened: key, title (as `followed_grants`), when."""
    rows = (
        await conn.execute(
            select(article_log.c.article_key, article_log.c.sent_at, article_log.c.read_at)
            .where(article_log.c.user_id == user_id)
            .order_by(article_log.c.article_key)
        )
    ).all()
    ids = _keyed_ids((k for k, _, _ in rows), "A")
    titles = await _titles(conn, articles, ids.values())
    found = [
        {"key": k, "title": titles.get(ids.get(k, 0)), "sent_at": sent, "read_at": read}
        for k, sent, read in rows
    ]
    found.sort(key=lambda a: min(t for t in (a["sent_at"], a["read_at"]) if t is not None))
    return found


async def published(conn: AsyncConnection, user_id: int) -> list[dict[str, Any]]:
    """The opportunities they published, soonest first, with the contact they gave and how
    many signed up and wait."""
    counts = volunteering_repo.sign_up_counts()
    o = opportunities.c
    shown = [o.id, o.title, o.starts_at, o.ends_at, o.timezone, o.place, o.link, o.contact]
    rows = await conn.execute(
        select(
            *shown,
            o.status,
            o.capacity,
            o.created_at,
            func.coalesce(counts.c.confirmed, 0).label("confirmed"),
            func.coalesce(counts.c.waiting, 0).label("waiting"),
        )
        .outerjoin(counts, counts.c.opportunity_id == o.id)
        .where(o.created_by == user_id)
        .order_by(o.starts_at, o.id)
    )
    return [
        {**m, "confirmed": int(m["confirmed"]), "waiting": int(m["waiting"])}
        for m in rows.mappings()
    ]


async def authored(conn: AsyncConnection, user_id: int) -> list[dict[str, Any]]:
    """Their broadcasts, newest first."""
    b = broadcasts.c
    rows = await conn.execute(
        select(b.id, b.text, b.status, b.recipients, b.created_at, b.started_at, b.finished_at)
        .where(b.author_id == user_id)
        .order_by(b.created_at.desc(), b.id.desc())
    )
    return [dict(m) for m in rows.mappings()]


async def sign_up_changes(conn: AsyncConnection, user_id: int) -> list[dict[str, Any]]:
    """Their sign-up changes (the log organisers are told from), oldest first."""
    rows = await conn.execute(
        select(
            opportunities.c.title, opportunity_changes.c.change, opportunity_changes.c.created_at
        )
        .join(opportunities, opportunities.c.id == opportunity_changes.c.opportunity_id)
        .where(opportunity_changes.c.user_id == user_id)
        .order_by(opportunity_changes.c.id)
    )
    return [{"opportunity": t, "change": c, "at": at} for t, c, at in rows.all()]


async def added_content(conn: AsyncConnection, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """The local measures, grants and articles they added as a coordinator."""
    found = {}
    for name, table in (("measures", local_measures), ("grants", grants), ("articles", articles)):
        rows = await conn.execute(
            select(table.c.id, table.c.title, table.c.created_at, table.c.closed_at)
            .where(table.c.created_by == user_id)
            .order_by(table.c.created_at, table.c.id)
        )
        found[name] = [dict(m) for m in rows.mappings()]
    return found


async def self_assessments_of(conn: AsyncConnection, user_id: int) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(self_assessments.c.scores, self_assessments.c.created_at)
        .where(self_assessments.c.coordinator_id == user_id)
        .order_by(self_assessments.c.created_at, self_assessments.c.id)
    )
    return [{"scores": json.loads(s), "at": at} for s, at in rows.all()]


async def waiting_messages(conn: AsyncConnection, user_id: int) -> dict[str, int]:
    """Messages to them not sent yet: kind → how many."""
    rows = await conn.execute(
        select(outbox.c.kind, func.count())
        .where(
            outbox.c.user_id == user_id,
            outbox.c.status.in_([outbox_repo.PENDING, outbox_repo.SENDING]),
        )
        .group_by(outbox.c.kind)
        .order_by(outbox.c.kind)
    )
    return {str(kind): int(n) for kind, n in rows.all()}


async def audit_entries(conn: AsyncConnection, user_id: int) -> list[dict[str, Any]]:
    """Audit entries where they acted or were acted upon (the target names their id), newest
    first; `by_them` tells which."""
    a = audit_log.c
    rows = await conn.execute(
        select(a.action, a.target, a.actor_id, a.created_at)
        .where(or_(a.actor_id == user_id, _names_id(a.target, user_id)))
        .order_by(a.created_at.desc(), a.id.desc())
    )
    mine = re.compile(_DIGITS.format(user_id))
    return [
        {"action": action, "target": target, "by_them": actor == user_id, "at": at}
        for action, target, actor, at in rows.all()
        if actor == user_id or (target and mine.search(target))
    ]


# --- erasure ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """What names someone, as the bot stores and shows it."""

    id: int
    first_name: str | None
    last_name: str | None
    username: str | None
    contacts: tuple[str, ...]
    consented: bool = True  # False: only the id was stored (/start), nothing can name them

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    def needles(self) -> list[str]:
        """What names them wherever it stands: their full name (only when it has two parts:
        one word alone is too often someone else's), @username, the "id N" an organiser
        sees for a volunteer without a name, the contacts they gave."""
        if not self.consented:
            return []
        found = list(self.contacts)
        if not (self.full_name or self.username):
            found.append(f"id {self.id}")
        if self.first_name and self.last_name:
            found.append(self.full_name)
        if self.username:
            found.append(f"@{self.username}")
        return _usable(found)

    def own_needles(self) -> list[str]:
        """What names them in text about them: besides `needles`, each part of their name and
        the bare username."""
        if not self.consented:
            return []
        return _usable([*self.needles(), self.first_name, self.last_name, self.username])


def _usable(needles: Iterable[str | None]) -> list[str]:
    return sorted({n.strip() for n in needles if n and len(n.strip()) >= SHORTEST}, key=len)


def _forms(needles: Iterable[str]) -> dict[str, int]:
    """Each needle as it may stand in a column — as typed, HTML-escaped (a rendered message),
    inside a JSON string (with and without \\u escapes) — with the length of what it stands for
    (UTF-16 units, as Telegram counts entity offsets): the length of its mask."""
    found: dict[str, int] = {}
    for needle in needles:
        for text in {needle, html.escape(needle, quote=False), html.escape(needle)}:
            size = len(text.encode("utf-16-le")) // 2
            for form in (text, json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1]):
                found.setdefault(form, size)
    return found


class _Masker:
    def __init__(self, needles: Sequence[str]) -> None:
        self.forms = _forms(needles)
        by_length = sorted(self.forms, key=len, reverse=True)
        self._lookup = {f.casefold(): n for f, n in self.forms.items()}
        alternatives = "|".join(re.escape(f) for f in by_length)
        self.pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)

    def mask(self, text: str) -> str:
        return self.pattern.sub(lambda m: MASK * self._lookup.get(m[0].casefold(), 1), text)

    def could_hold(self, columns: Sequence[Column[Any]]) -> ColumnElement[bool]:
        return or_(*(c.icontains(f, autoescape=True) for c in columns for f in self.forms))


def _text_columns(table: Table) -> list[Column[Any]]:
    """The columns that hold free text (keys and unique columns are not rewritten)."""
    return [
        c for c in table.c if isinstance(c.type, String) and not c.primary_key and not c.unique
    ]


async def _mask_rows(
    conn: AsyncConnection, table: Table, masker: _Masker, *where: ColumnElement[bool]
) -> int:
    columns = _text_columns(table)
    key = list(table.primary_key.columns)
    if not columns or not key:
        return 0
    rows = await conn.execute(select(*key, *columns).where(masker.could_hold(columns), *where))
    changed = 0
    for row in rows.mappings().all():
        values = {}
        for c in columns:
            text = row[c.name]
            if text and (masked := masker.mask(text)) != text:
                values[c.name] = masked
        if values:
            await conn.execute(
                update(table).where(*(k == row[k.name] for k in key)).values(**values)
            )
            changed += 1
    return changed


class _Pseudonym:
    """The erasure's pseudonym, handed out (an `erasures` row) the first time it is needed."""

    def __init__(self, conn: AsyncConnection, now: datetime) -> None:
        self.conn = conn
        self.now = now
        self.value: int | None = None

    async def get(self) -> int:
        if self.value is None:
            result = await self.conn.execute(
                insert(erasures).values(erased_at=self.now).returning(erasures.c.id)
            )
            self.value = -int(result.scalar_one())
        return self.value


def _marked(mark: str) -> list[Column[Any]]:
    return [c for t in metadata.sorted_tables for c in t.c if c.info.get(ERASE) == mark]


def _owned() -> list[Column[Any]]:
    """Columns whose rows are the person's: a foreign key to users.id (deepest tables first)."""
    return [
        c
        for t in reversed(metadata.sorted_tables)
        if t is not users
        for c in t.c
        if any(fk.column is users.c.id for fk in c.foreign_keys)
    ]


def _scrub_id(value: Any, user_id: int, text: str, pattern: re.Pattern[str]) -> Any:
    """A JSON value with the id (a number equal to it, or digits in a string) replaced."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value == user_id:
        return text
    if isinstance(value, str):
        return pattern.sub(text, value)
    if isinstance(value, list):
        return [_scrub_id(v, user_id, text, pattern) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_id(v, user_id, text, pattern) for k, v in value.items()}
    return value


async def _person(conn: AsyncConnection, user_id: int) -> Person:
    row = (
        await conn.execute(
            select(
                users.c.first_name, users.c.last_name, users.c.username, users.c.consent_at
            ).where(users.c.id == user_id)
        )
    ).first()
    contacts = tuple(
        sorted(
            (
                await conn.execute(
                    select(opportunities.c.contact)
                    .where(
                        opportunities.c.created_by == user_id, opportunities.c.contact.is_not(None)
                    )
                    .distinct()
                )
            ).scalars()
        )
    )
    first, last, username, consent_at = row if row is not None else (None, None, None, None)
    consented = consent_at is not None or bool(contacts)
    return Person(user_id, first, last, username, contacts, consented)


async def _stop_broadcasts(conn: AsyncConnection, user_id: int, now: datetime) -> None:
    """Their drafts go; a scheduled or sending broadcast is cancelled and finished at once (the
    report would go to the author: nobody now); the rows in flight still go."""
    b = broadcasts.c
    await conn.execute(
        delete(broadcasts).where(b.author_id == user_id, b.status == broadcasts_repo.DRAFT)
    )
    going = (
        await conn.execute(
            select(b.id, b.status).where(
                b.author_id == user_id,
                b.status.in_([broadcasts_repo.SCHEDULED, broadcasts_repo.SENDING]),
            )
        )
    ).all()
    for broadcast_id, status in going:
        if not await broadcasts_repo.move(
            conn, broadcast_id, (status,), broadcasts_repo.CANCELLED, finished_at=now
        ):
            continue
        not_sent = await outbox_repo.cancel_batch(conn, broadcast_id)
        details = {"was": status, "not_sent": not_sent, "reason": "the author's data was erased"}
        await audit_repo.add(conn, user_id, "broadcast.cancel", str(broadcast_id), details, now)
    await conn.execute(  # cancelled earlier, rows still in flight: no report to anyone
        update(broadcasts)
        .where(
            b.author_id == user_id,
            b.status == broadcasts_repo.CANCELLED,
            b.finished_at.is_(None),
        )
        .values(finished_at=now)
    )


async def _scrub_audit(conn: AsyncConnection, user_id: int, pseudonym: _Pseudonym) -> None:
    """Their id in the audit log's targets ("123", "user:123") and details: deleted-<n>."""
    a = audit_log.c
    digits = re.compile(_DIGITS.format(user_id))
    rows = await conn.execute(
        select(a.id, a.target, a.details).where(
            or_(_names_id(a.target, user_id), _names_id(a.details, user_id))
        )
    )
    for entry_id, target, details in rows.all():
        if not digits.search(target or "") and not digits.search(details):
            continue  # the digits were a part of a longer number
        text = label(await pseudonym.get())
        scrubbed = _scrub_id(json.loads(details), user_id, text, digits)
        values = {
            "target": digits.sub(text, target) if target else target,
            "details": json.dumps(scrubbed, ensure_ascii=False, default=str),
        }
        await conn.execute(update(audit_log).where(a.id == entry_id).values(**values))


async def _mask_everywhere(conn: AsyncConnection, person: Person, pseudonym: int | None) -> int:
    """Mask what names them in the text of every table (see the module notes)."""
    masked = 0
    if needles := person.needles():
        masker = _Masker(needles)
        for table in metadata.sorted_tables:
            if table is not users:
                masked += await _mask_rows(conn, table, masker)
    own = person.own_needles()
    if not own:
        return masked
    masker = _Masker(own)
    masked += await _mask_rows(conn, outbox, masker, outbox.c.kind == NOTICE_KIND)
    if pseudonym is not None:
        for table in metadata.sorted_tables:
            theirs = [c == pseudonym for c in table.c if c.info.get(ERASE) == PSEUDONYM]
            if theirs:
                masked += await _mask_rows(conn, table, masker, or_(*theirs))
    return masked


@dataclass(frozen=True)
class Erased:
    pseudonym: int | None  # None: nothing they did stays, no pseudonym was needed
    masked: int  # rows elsewhere whose text named them


async def erase(conn: AsyncConnection, user_id: int, now: datetime) -> Erased:
    """Erase the person (see the module notes), in the caller's transaction. Their published
    opportunities not started yet are cancelled here too, but nobody is told: the
    volunteering service does both first (`VolunteerService.organiser_leaves`)."""
    o = opportunities.c
    await conn.execute(  # the first statement writes: on SQLite the transaction takes the lock
        update(opportunities)
        .where(o.created_by == user_id, o.status != OPPORTUNITY_CANCELLED, o.starts_at > now)
        .values(status=OPPORTUNITY_CANCELLED, updated_at=now)
    )
    person = await _person(conn, user_id)
    await conn.execute(update(opportunities).where(o.created_by == user_id).values(contact=None))
    await _stop_broadcasts(conn, user_id, now)
    pseudonym = _Pseudonym(conn, now)
    for column in _marked(PSEUDONYM):
        held = column == user_id
        if (await conn.execute(select(func.count()).where(held))).scalar_one():
            value = await pseudonym.get()
            await conn.execute(update(column.table).where(held).values({column.name: value}))
    await faq_repo.before_erasure(conn, user_id)  # before their questions go: it reads them
    for column in _marked(NULL):
        await conn.execute(
            update(column.table).where(column == user_id).values({column.name: None})
        )
    for column in [*_marked(DELETE), *_owned()]:
        await conn.execute(delete(column.table).where(column == user_id))
    await _scrub_audit(conn, user_id, pseudonym)
    await users_repo.delete_all(conn, user_id)
    masked = await _mask_everywhere(conn, person, pseudonym.value)
    return Erased(pseudonym.value, masked)
