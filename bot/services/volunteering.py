"""Volunteering: opportunities, sign-ups with a waiting list, reminders and organiser tools.

* **Sign-up and cancel** run under the opportunity's lock (`bot.storage.volunteering.lock`,
  the transaction's first statement): the capacity holds however many volunteers press at once.
  A place given back goes at once to the first in the waiting list, who is told.
* **Everything the bot says on its own** — promotions, reminders 24 h and 2 h before the start,
  the organiser's batched notices, cancellations, changes, the organiser's message — is an
  outbox row with a dedup key, enqueued in the same transaction as the change that caused it
  (or by `tick()`), so a retry or a second instance never sends it twice.
* **Categories.** Reminders and digest suggestions respect the user's "Volunteering" switch in
  /settings; news about a sign-up the user holds (a promotion, the event cancelled or moved)
  and the organiser's own message always go — they change what the volunteer should do.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Final, NamedTuple, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.config import Settings
from bot.domain import attendance, shifts
from bot.domain import opportunities as rules
from bot.domain.errors import StaleButton, UserError
from bot.domain.fields import blank
from bot.domain.opportunities import (
    CANCELLED,
    CLOSED,
    CONFIRMED,
    OPEN,
    WAITING,
    WITHDRAWN,
    Listing,
    Opportunity,
    VolunteerFit,
)
from bot.domain.paging import Page, asked
from bot.domain.schedule import allowed_at
from bot.domain.zones import user_zone
from bot.infra.clock import Clock
from bot.services.profile import ConsentRequired
from bot.storage import audit as audit_repo
from bot.storage import outbox as outbox_repo
from bot.storage import profile as profile_repo
from bot.storage import pushes as pushes_repo
from bot.storage import settings as settings_repo
from bot.storage import users as users_repo
from bot.storage import volunteering as repo
from bot.storage.outbox import NewPush
from bot.storage.volunteering import Addressee, Attended, Person, Signup, VolunteerProfile
from bot.ui import packed
from bot.ui.render import Renderer, Tr, split_html

if TYPE_CHECKING:  # the PDF's parts (fpdf2, segno) load only when a certificate is made
    from bot.ui.certificate import Certificate

log = logging.getLogger(__name__)

NOTICE_EVERY: Final = timedelta(minutes=5)  # at most one organiser notice per organiser
DIGEST_HORIZON: Final = timedelta(days=14)
PAGE: Final = 5
NOTICE_LINES: Final = 15  # changes listed per opportunity in one notice
SKILLS_LIMIT: Final = 5
SKILL_LENGTH: Final = 60
CITY_LENGTH: Final = 100
NEWS_HORIZON: Final = timedelta(days=90)  # how far ahead a new opportunity is worth a push


def _button(text: str, data: str) -> dict[str, str]:
    return {"text": text, "callback_data": data}


class OpportunityProblem(UserError):
    """An opportunity's data does not hold together (a code of `rules.time_problem`)."""

    template = "opportunities/problem.j2"


@dataclass(frozen=True)
class Card:
    """One opportunity as a volunteer sees it now."""

    listing: Listing
    mine: Signup | None  # the volunteer's active sign-up
    queue_place: int | None  # 1-based place in the waiting list
    now: datetime

    @property
    def opportunity(self) -> Opportunity:
        return self.listing.opportunity

    @property
    def refusal(self) -> str | None:
        """Why signing up is not possible now (None: it is)."""
        return rules.signup_refusal(self.opportunity, self.now)

    @property
    def cancel_refusal(self) -> str | None:
        if self.mine is None:
            return None
        return rules.cancel_refusal(self.opportunity, self.mine.status, self.now)


@dataclass(frozen=True)
class Outcome:
    """What a press did — confirmed / waiting / already (sign up), withdrawn / left / not_signed
    / moved_up (cancel) — or a refusal (cancelled, started, closed, cutoff); and the card now."""

    result: str
    card: Card
    enqueued: int = 0


@dataclass(frozen=True)
class Draft:
    """A new opportunity as the organiser entered it (times already UTC)."""

    title: str
    description: str
    topic: str
    place: str | None
    link: str | None
    region: str | None
    timezone: str
    starts_at: datetime
    ends_at: datetime
    capacity: int | None
    signup_until: datetime | None
    contact: str | None


EDITABLE: Final = frozenset(
    {
        "title",
        "description",
        "topic",
        "place",
        "link",
        "starts_at",
        "ends_at",
        "capacity",
        "signup_until",
        "contact",
        "region",
    }
)
NEWS: Final = frozenset({"place", "link", "starts_at", "ends_at"})  # volunteers are told


class _Raced(Exception):
    """Another tick already did this."""


class VolunteerService:
    def __init__(
        self, engine: AsyncEngine, clock: Clock, renderer: Renderer, settings: Settings
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.renderer = renderer
        self.settings = settings
        # Called after a change that cards shown outside the bot may show (sign-ups, edits,
        # cancellation): the sharing service redraws them.
        self.changed: Callable[[], None] = lambda: None

    # ------------------------------------------------------------------ browsing

    async def browse(
        self, *, period: str, topic: str | None, region: str | None, tz: str, page: int
    ) -> tuple[list[Listing], Page]:
        """A page of the opportunities in the period (`tz` the volunteer's zone), soonest
        first; past the last page (the list shrank under a stale button), the last one."""
        now = self.clock.now()
        start, end = rules.period_bounds(period, now, tz)
        async with self.engine.connect() as conn:
            read = partial(repo.browse, conn, start=start, end=end, topic=topic, region=region)
            wanted = asked(page, PAGE)
            items, total = await read(offset=wanted.offset, limit=wanted.limit)
            at = wanted.counted(total).clamped()
            if at.number != wanted.number:  # the list shrank under a stale button: its last page
                items, _ = await read(offset=at.offset, limit=at.limit)
        return items, at

    async def _card(self, conn: AsyncConnection, opportunity_id: int, user_id: int) -> Card | None:
        listing = await repo.listing(conn, opportunity_id)
        if listing is None:
            return None
        mine = await repo.signup_of(conn, opportunity_id, user_id)
        if mine is not None and not mine.active:
            mine = None
        place = None
        if mine is not None and mine.status == WAITING:
            queue = [s for s in await repo.signups_of(conn, opportunity_id) if s.status == WAITING]
            place = 1 + sum(1 for s in queue if s.position < mine.position)
        return Card(listing, mine, place, self.clock.now())

    async def card(self, opportunity_id: int, user_id: int) -> Card | None:
        async with self.engine.connect() as conn:
            return await self._card(conn, opportunity_id, user_id)

    async def my_signups(self, user_id: int) -> list[tuple[Listing, Signup]]:
        """Active sign-ups for opportunities not over yet."""
        async with self.engine.connect() as conn:
            return await repo.of_user(conn, user_id, self.clock.now())

    # ------------------------------------------------------------------ signing up

    async def sign_up(self, opportunity_id: int, user_id: int) -> Outcome | None:
        """Take a free place or join the waiting list (those waiting already come first: a
        place freed meanwhile goes to them). None: no such opportunity."""
        enqueued = 0
        async with self.engine.begin() as conn:
            opp = await repo.lock(conn, opportunity_id)  # first: see bot.storage.volunteering
            if opp is None:
                return None
            user = await users_repo.get(conn, user_id)
            if user is None or not user.consented:
                raise ConsentRequired
            now = self.clock.now()
            mine = await repo.signup_of(conn, opportunity_id, user_id)
            refusal = rules.signup_refusal(opp, now)
            if opp.status == CANCELLED:
                result = "cancelled"
            elif mine is not None and mine.active:
                result = "already"
            elif refusal is not None:
                result = refusal
            else:
                enqueued = await self._fill(conn, opp, now)
                confirmed = await repo.count(conn, opportunity_id, CONFIRMED)
                result = rules.seat(opp.capacity, confirmed)
                await repo.save_signup(
                    conn, opportunity_id, user_id, result, now, position=opp.seq
                )
                await repo.log_change(conn, opportunity_id, user_id, result, now)
            card = await self._card(conn, opportunity_id, user_id)
        assert card is not None
        self.changed()
        return Outcome(result, card, enqueued)

    async def cancel(
        self, opportunity_id: int, user_id: int, *, only: str | None = None
    ) -> Outcome | None:
        """Give the place back (or leave the waiting list); the first in the queue moves up and
        is told. With `only` (the status the volunteer's screen showed) a sign-up whose status
        changed meanwhile is left alone: a stale "leave the waiting list" never gives away a
        place just won ("moved_up"). None: no such opportunity."""
        enqueued = 0
        async with self.engine.begin() as conn:
            opp = await repo.lock(conn, opportunity_id)
            if opp is None:
                return None
            now = self.clock.now()
            mine = await repo.signup_of(conn, opportunity_id, user_id)
            if mine is None or not mine.active:
                result = "cancelled" if opp.status == CANCELLED else "not_signed"
            elif only is not None and mine.status != only:
                result = "moved_up"
            elif (refusal := rules.cancel_refusal(opp, mine.status, now)) is not None:
                result = refusal
            else:
                result = "left" if mine.status == WAITING else "withdrawn"
                await repo.save_signup(conn, opportunity_id, user_id, WITHDRAWN, now)
                change = "left" if mine.status == WAITING else "cancelled"
                await repo.log_change(conn, opportunity_id, user_id, change, now)
                await repo.cancel_pending(
                    conn, "opp_reminder", f"opp-remind:{opportunity_id}:{user_id}:", user_id
                )
                enqueued = await self._fill(conn, opp, now)
            card = await self._card(conn, opportunity_id, user_id)
        assert card is not None
        self.changed()
        return Outcome(result, card, enqueued)

    async def _fill(self, conn: AsyncConnection, opp: Opportunity, now: datetime) -> int:
        """Under the lock: move the first waiting volunteers up into free places and tell them.
        Returns how many messages were enqueued."""
        if opp.status == CANCELLED or now >= opp.starts_at:
            return 0
        confirmed = await repo.count(conn, opp.id, CONFIRMED)
        waiting = [s for s in await repo.signups_of(conn, opp.id) if s.status == WAITING]
        chosen = rules.promotions(opp.capacity, confirmed, waiting)
        for s in chosen:
            await repo.save_signup(conn, opp.id, s.user_id, CONFIRMED, now)
            await repo.log_change(conn, opp.id, s.user_id, "promoted", now)
        if not chosen:
            return 0
        who = await repo.addressees(conn, [s.user_id for s in chosen])
        # Promoted within a day of the start, past their reminder: asked to confirm at once,
        # so they may decline in turn and the place goes on.
        ask = opp.starts_at - now <= attendance.ASK_WITHIN and attendance.may_ask(
            opp.starts_at, now
        )
        if ask:
            await repo.set_confirm(conn, opp.id, who, attendance.ASKED, now)
        pushes = [
            self._push(
                a,
                "opp_promoted",
                f"opp-promoted:{opp.id}:{a.id}:{opp.seq}",
                "volunteer/push_promoted.j2",
                opp,
                now,
                urgent=True,
                confirm_by=attendance.confirm_by(opp.starts_at) if ask else None,
                ask=ask,
            )
            for a in who.values()
        ]
        return await outbox_repo.enqueue(conn, pushes, now)

    # ------------------------------------------------------------------ pushes

    def _push(
        self,
        to: Addressee,
        kind: str,
        key: str,
        template: str,
        opp: Opportunity,
        now: datetime,
        *,
        urgent: bool = False,
        unsubscribe: bool = False,
        at: datetime | None = None,
        ask: bool = False,
        **context: Any,
    ) -> NewPush:
        """A push about `opp` to `to`, in their language and zone, after their quiet hours
        (an urgent one not later than an hour before the start; with `at`, then, and never
        once the event has started)."""
        tz = user_zone(to.timezone, self.settings.default_timezone)
        tr = self.renderer.bind(to.locale or self.settings.default_locale)
        text = tr(template, opp=opp, tz=tz, ask=ask, **context)
        buttons = []
        if ask:  # «Придёте?»: answered in one tap, under the text that asks
            buttons.append(
                [
                    _button(tr._("✅ Yes"), packed.confirm("yes", opp.id, to.id)),
                    _button(tr._("✖ I can’t make it"), packed.confirm("no", opp.id, to.id)),
                ]
            )
        buttons.append(
            [_button(tr._("🙋 Open the opportunity"), packed.volunteer("card", opp.id))]
        )
        if unsubscribe:
            buttons.append(
                [_button(tr._("🔕 Unsubscribe from volunteering"), packed.unsub("opportunities"))]
            )
        payload: dict[str, Any] = {
            "text": split_html(text)[0],
            "parse_mode": "HTML",
            "buttons": buttons,
        }
        if at is not None:
            when = at
            payload["expires_at"] = opp.starts_at.isoformat()  # the sender drops it after
        elif urgent:
            when = rules.reminder_at(now, opp.starts_at, tz, to.quiet_start, to.quiet_end)
        else:
            when = allowed_at(now, tz, to.quiet_start, to.quiet_end)
        return NewPush(
            user_id=to.id,
            chat_id=to.id,
            kind=kind,
            dedup_key=key,
            payload=payload,
            not_before=when,
        )

    # ------------------------------------------------------------------ the tick

    async def tick(self) -> int:
        """Called on every scheduler tick: move the waiting list up into places freed meanwhile,
        enqueue due reminders and organiser notices; returns how many outbox rows were added."""
        now = self.clock.now()
        added = await self._fill_all(now)
        added += await self._remind(now)
        await self._unanswered(now)
        added += await self._thank_all(now)
        added += await self._notify_organisers(now)
        if added:
            log.info("volunteering pushes planned", extra={"enqueued": added})
        return added

    async def _fill_all(self, now: datetime) -> int:
        """Places freed without a cancel press (a volunteer deleted their data, the capacity
        grew) go to the waiting list too."""
        async with self.engine.connect() as conn:
            ids = await repo.fillable(conn, now)
        added = 0
        for opportunity_id in ids:
            async with self.engine.begin() as conn:
                opp = await repo.lock(conn, opportunity_id)
                if opp is not None:
                    added += await self._fill(conn, opp, now)
        return added

    async def _remind(self, now: datetime) -> int:
        """The reminders whose moment has come (`rules.reminder_due`: before quiet hours, not
        in them), enqueued to go at once: each is rendered when it goes, from the real time
        left, and the sender drops one the event's start overtook (`expires_at`)."""
        # A moment in quiet hours comes before they begin: up to a day earlier.
        lead_max = max(rules.REMINDER_LEADS) + timedelta(days=1)
        async with self.engine.connect() as conn:
            due = await repo.starting_soon(conn, now, now + lead_max)
            planned = await pushes_repo.recent_keys(conn, ("opp_reminder",), now - 2 * lead_max)
        pushes = []
        asking: dict[int, list[int]] = defaultdict(list)
        for d in due:
            if not d.user.wants_opportunities:
                continue
            tz = user_zone(d.user.timezone, self.settings.default_timezone)
            quiet = (tz, d.user.quiet_start, d.user.quiet_end)
            lead = rules.reminder_due(d.opportunity.starts_at, d.status_at, now, quiet=quiet)
            if lead is None:
                continue
            opp = d.opportunity
            # The first reminder that still leaves time to answer asks «Придёте?»; then the
            # night may hold it back only while it would still come before the deadline.
            ask = d.confirm is None and attendance.may_ask(opp.starts_at, now)
            latest = attendance.confirm_by(opp.starts_at) if ask else None
            if rules.reminder_at(now, opp.starts_at, *quiet, latest=latest) > now:
                continue  # late (the bot was down) and quiet now: a tick after the night
            hours = int(lead.total_seconds() // 3600)
            start = f"{opp.starts_at:%Y%m%dT%H%M}"
            key = f"opp-remind:{opp.id}:{d.user.id}:{hours}:{start}:{d.position}"
            if key in planned:
                continue
            if ask:
                asking[opp.id].append(d.user.id)
            pushes.append(
                self._push(
                    d.user,
                    "opp_reminder",
                    key,
                    "volunteer/push_reminder.j2",
                    opp,
                    now,
                    unsubscribe=True,
                    at=now,
                    ask=ask,
                    confirm_by=latest,
                    **_time_left(d.opportunity.starts_at, now, tz),
                )
            )
        if not pushes:
            return 0
        async with self.engine.begin() as conn:
            for opportunity_id, user_ids in asking.items():
                await repo.set_confirm(
                    conn, opportunity_id, user_ids, attendance.ASKED, now, only=None
                )
            return await outbox_repo.enqueue(conn, pushes, now)

    async def _unanswered(self, now: datetime) -> int:
        """Asked to confirm, no answer by the deadline: «не подтвердил» — the organiser's notice
        says so (and their participants screen shows it)."""
        async with self.engine.connect() as conn:
            late = await repo.unanswered(
                conn, now + attendance.CONFIRM_LEAD, now - timedelta(days=1)
            )
        if not late:
            return 0
        async with self.engine.begin() as conn:
            n = 0
            for opportunity_id, user_id in late:
                if await repo.set_confirm(
                    conn, opportunity_id, [user_id], attendance.SILENT, now, only=attendance.ASKED
                ):
                    await repo.log_change(conn, opportunity_id, user_id, "silent", now)
                    n += 1
        return n

    async def _thank_all(self, now: datetime) -> int:
        """Each attendee of an event that has ended (marked by the organiser) is thanked once,
        with the one-tap rating."""
        async with self.engine.connect() as conn:
            due = await repo.to_thank(conn, now, now - attendance.THANKS_WITHIN)
        added = 0
        for opportunity_id, user_id in due:
            async with self.engine.begin() as conn:
                added += await self._thank(conn, opportunity_id, user_id, now)
        return added

    async def _thank(
        self,
        conn: AsyncConnection,
        opportunity_id: int,
        user_id: int,
        now: datetime,
        *,
        settle: bool = False,
    ) -> int:
        """Thank one attendee, with the rating buttons. `settle`: just marked, so the thanks
        wait a moment (the organiser's toggle passes ✅ on its way to ❌; the next tap cancels
        them)."""
        if not await repo.set_thanked(conn, opportunity_id, user_id, now):
            return 0  # another tick did
        opp = await repo.get(conn, opportunity_id)
        to = (await repo.addressees(conn, [user_id])).get(user_id)
        if opp is None or to is None:
            return 0
        tr = self.renderer.bind(to.locale or self.settings.default_locale)
        tz = user_zone(to.timezone, self.settings.default_timezone)
        text = tr(
            "attendance/push_thanks.j2",
            opp=opp,
            tz=tz,
            hours=attendance.hours_text(
                attendance.event_minutes(opp.starts_at, opp.ends_at), tr.locale
            ),
        )
        stars = [
            _button(
                f"{n}⭐",
                packed.rate("rate", opp.id, user_id, n),
            )
            for n in attendance.RATINGS
        ]
        push = NewPush(
            user_id=to.id,
            chat_id=to.id,
            kind="opp_thanks",
            dedup_key=f"opp-thanks:{opp.id}:{to.id}:{now:%Y%m%dT%H%M%S}",
            payload={
                "text": split_html(text)[0],
                "parse_mode": "HTML",
                "buttons": [stars],
            },
            not_before=allowed_at(
                now + attendance.THANKS_SETTLE if settle else now,
                tz,
                to.quiet_start,
                to.quiet_end,
            ),
        )
        return await outbox_repo.enqueue(conn, [push], now)

    async def rate(
        self,
        opportunity_id: int,
        user_id: int,
        presser: int,
        *,
        value: int | None = None,
        comment: str | None = None,
    ) -> str:
        """The attendee's rating (1–5) or comment: ok / not_yours / bad_value / not_attended."""
        if user_id != presser:
            return "not_yours"
        if value is not None and value not in attendance.RATINGS:
            return "bad_value"
        async with self.engine.begin() as conn:
            mine = await repo.signup_of(conn, opportunity_id, user_id)
            opp = await repo.get(conn, opportunity_id)
            if opp is None or mine is None or mine.attended is not True:
                return "not_attended"
            if self.clock.now() < opp.ends_at:
                return "not_ended"
            if comment is not None and mine.rating is None:
                return "no_rating"
            values: dict[str, Any] = {}
            if value is not None:
                values["rating"] = value
            if comment is not None:
                values["comment"] = comment.strip()[: attendance.COMMENT_LIMIT] or None
            await repo.set_rating(conn, opportunity_id, user_id, **values)
        return "ok"

    async def answer(self, opportunity_id: int, user_id: int, presser: int, yes: bool) -> str:
        """The volunteer's answer to «Придёте?»: yes — kept; no — the place is given back at
        once and the first in the waiting list moves up (and is asked in turn). Returns what
        happened: yes / no / already_yes / not_yours / not_signed / started / cancelled."""
        if user_id != presser:
            return "not_yours"
        async with self.engine.begin() as conn:
            opp = await repo.lock(conn, opportunity_id)
            if opp is None:
                raise StaleButton
            now = self.clock.now()
            mine = await repo.signup_of(conn, opportunity_id, user_id)
            refusal = attendance.answer_refusal(
                mine.status if mine is not None else "",
                mine.confirm if mine is not None else None,
                opp.starts_at,
                now,
                opp.status == CANCELLED,
            )
            if refusal is not None:
                return refusal
            assert mine is not None
            if yes:
                if mine.confirm == attendance.YES:
                    return "already_yes"
                await repo.set_confirm(conn, opportunity_id, [user_id], attendance.YES, now)
                return "yes"
            await repo.save_signup(conn, opportunity_id, user_id, WITHDRAWN, now)
            await repo.set_confirm(conn, opportunity_id, [user_id], attendance.NO, now)
            await repo.log_change(conn, opportunity_id, user_id, "declined", now)
            await repo.cancel_pending(
                conn, "opp_reminder", f"opp-remind:{opportunity_id}:{user_id}:", user_id
            )
            await self._fill(conn, opp, now)
        self.changed()  # a place is free (or taken by the next): posted cards show it
        return "no"

    async def _notify_organisers(self, now: datetime) -> int:
        """One notice per organiser with every sign-up change since the last one, at most one
        per NOTICE_EVERY: a rush of taps becomes one message."""
        async with self.engine.connect() as conn:
            changes = await repo.unnoticed(conn, now - timedelta(days=2))
            if not changes:
                return 0
            by_organiser: dict[int, list[repo.Change]] = defaultdict(list)
            for c in changes:
                by_organiser[c.organiser_id].append(c)
            last = await repo.last_notices(conn, "opp_notice", by_organiser)
            who = await repo.addressees(conn, by_organiser)
        added = 0
        for organiser, items in by_organiser.items():
            if organiser in last and now - last[organiser] < NOTICE_EVERY:
                continue
            try:
                added += await self._notify(organiser, items, who.get(organiser), now)
            except _Raced:
                continue
        return added

    async def _notify(
        self, organiser: int, items: Sequence[repo.Change], to: Addressee | None, now: datetime
    ) -> int:
        per_opportunity: dict[int, list[repo.Change]] = defaultdict(list)
        for c in items:
            per_opportunity[c.opportunity_id].append(c)
        async with self.engine.begin() as conn:
            for opportunity_id, its in per_opportunity.items():
                if not await repo.mark_noticed(conn, opportunity_id, its[0].cursor, its[-1].id):
                    raise _Raced
            if to is None:  # the organiser left or blocked the bot: nobody to tell
                return 0
            groups = []
            for opportunity_id, its in per_opportunity.items():
                listing = await repo.listing(conn, opportunity_id)
                if listing is not None:
                    groups.append((listing, its[-NOTICE_LINES:], max(0, len(its) - NOTICE_LINES)))
            if not groups:
                return 0
            tz = user_zone(to.timezone, self.settings.default_timezone)
            tr = self.renderer.bind(to.locale or self.settings.default_locale)
            text = tr("opportunities/push_notice.j2", groups=groups, tz=tz)
            buttons = [
                [
                    _button(
                        tr._("👥 Participants: {title}").format(
                            title=listing.opportunity.title[:40]
                        ),
                        packed.organiser("people", listing.opportunity.id),
                    )
                ]
                for listing, _, _ in groups[:5]
            ]
            push = NewPush(
                user_id=to.id,
                chat_id=to.id,
                kind="opp_notice",
                dedup_key=f"opp-notice:{organiser}:{items[-1].id}",
                payload={"text": split_html(text)[0], "parse_mode": "HTML", "buttons": buttons},
                not_before=allowed_at(now, tz, to.quiet_start, to.quiet_end),
            )
            return await outbox_repo.enqueue(conn, [push], now)

    # ------------------------------------------------------------------ organisers

    async def create(self, organiser_id: int, draft: Draft) -> int:
        now = self.clock.now()
        problem = rules.time_problem(now, draft.starts_at, draft.ends_at, draft.signup_until)
        if problem is not None:
            raise OpportunityProblem(problem=problem)
        values = {
            "title": draft.title,
            "description": draft.description,
            "topic": draft.topic,
            "place": draft.place,
            "link": draft.link,
            "region": draft.region,
            "timezone": draft.timezone,
            "starts_at": draft.starts_at,
            "ends_at": draft.ends_at,
            "capacity": draft.capacity,
            "signup_until": draft.signup_until,
            "contact": draft.contact,
            "created_by": organiser_id,
        }
        async with self.engine.begin() as conn:
            opportunity_id = await repo.create(conn, values, now)
            # A contact on the card is shown to everyone: the form asked for that consent.
            consent = {"contact_shown_to_all": True} if draft.contact else {}
            await audit_repo.add(
                conn, organiser_id, "opportunity.create", str(opportunity_id), consent, now
            )
            await self._tell_waiting(conn, opportunity_id, now)
        return opportunity_id

    async def _tell_waiting(
        self, conn: AsyncConnection, opportunity_id: int, now: datetime
    ) -> int:
        """The volunteers who asked to be told when something fitting appears, told of the
        opportunity just published if it fits them (as the onboarding matched: topics, skills,
        time, reach). Returns how many messages were enqueued."""
        listing = await repo.listing(conn, opportunity_id)
        waiting = await repo.waiting_for_news(conn)
        if listing is None or not waiting:
            return 0
        pushes = []
        for user_id, addressee in (await repo.addressees(conn, waiting)).items():
            user = await users_repo.get(conn, user_id)
            if user is None or not addressee.wants_opportunities:
                continue
            fit = _fit_of(
                user_zone(user.timezone, self.settings.default_timezone),
                user.region,
                await profile_repo.codes(conn, user_id, "topics"),
                waiting[user_id],
            )
            if not rules.opportunities_for(fit, [listing], now, limit=1, horizon=NEWS_HORIZON):
                continue
            pushes.append(
                self._push(
                    addressee,
                    "opp_new",
                    f"opp_new:{opportunity_id}:{user_id}",
                    "volunteer/push_new.j2",
                    listing.opportunity,
                    now,
                    unsubscribe=True,
                )
            )
        return await outbox_repo.enqueue(conn, pushes, now) if pushes else 0

    async def listing(self, opportunity_id: int) -> Listing | None:
        async with self.engine.connect() as conn:
            return await repo.listing(conn, opportunity_id)

    async def managed(
        self, page: int, owner: int | None = None, *, past: bool = False
    ) -> tuple[list[Listing], Page]:
        """Opportunities for the organisers: not over for more than a week, soonest first —
        or, `past`, every one that is over, the latest first; an activist allowed to publish
        (`owner`) sees only their own (a page past the end, from a stale button, is empty)."""
        now = self.clock.now()
        since = now if past else now - timedelta(days=7)
        at = asked(page, PAGE)
        async with self.engine.connect() as conn:
            items, total = await repo.managed(conn, since, at.offset, at.limit, owner, past=past)
        return items, at.counted(total)

    async def created_by(self, opportunity_id: int) -> int | None:
        async with self.engine.connect() as conn:
            opp = await repo.get(conn, opportunity_id)
        return opp.created_by if opp is not None else None

    async def edit(self, opportunity_id: int, actor_id: int, **changes: Any) -> int:
        """Change fields (EDITABLE); volunteers are told about a new time or place, a larger
        capacity moves the waiting list up. Returns how many messages were enqueued."""
        if not changes or not set(changes) <= EDITABLE:
            raise ValueError(sorted(changes))
        async with self.engine.begin() as conn:
            opp = await repo.lock(conn, opportunity_id)
            if opp is None:
                raise StaleButton
            now = self.clock.now()
            new = replace(opp, **changes)
            if {"starts_at", "ends_at", "signup_until"} & set(changes):
                problem = rules.time_problem(now, new.starts_at, new.ends_at, new.signup_until)
                if problem is not None:
                    raise OpportunityProblem(problem=problem)
            await repo.set_fields(conn, opportunity_id, now, **changes)
            await audit_repo.add(
                conn,
                actor_id,
                "opportunity.edit",
                str(opportunity_id),
                {"fields": sorted(changes)},
                now,
            )
            enqueued = 0
            told = {k for k, v in changes.items() if k in NEWS and getattr(opp, k) != v}
            if told and new.status != CANCELLED:
                if "starts_at" in told:
                    await repo.cancel_pending(
                        conn, "opp_reminder", f"opp-remind:{opportunity_id}:"
                    )
                active = [s for s in await repo.signups_of(conn, opportunity_id) if s.active]
                who = await repo.addressees(conn, [s.user_id for s in active])
                pushes = [
                    self._push(
                        a,
                        "opp_changed",
                        f"opp-changed:{opportunity_id}:{a.id}:{new.seq}",
                        "volunteer/push_changed.j2",
                        new,
                        now,
                        urgent=True,
                        changed=sorted(told),
                        before=opp,
                    )
                    for a in who.values()
                ]
                enqueued += await outbox_repo.enqueue(conn, pushes, now)
            if "capacity" in changes:
                enqueued += await self._fill(conn, new, now)
        self.changed()
        return enqueued

    async def cancel_opportunity(self, opportunity_id: int, actor_id: int) -> int | None:
        """Cancel the event: everyone signed up or waiting is told. Returns how many were
        told (None: it was cancelled already)."""
        async with self.engine.begin() as conn:
            opp = await repo.lock(conn, opportunity_id)
            if opp is None:
                raise StaleButton
            if opp.status == CANCELLED:
                return None
            now = self.clock.now()
            told = await self._cancel(conn, opp, now)
            await audit_repo.add(
                conn, actor_id, "opportunity.cancel", str(opportunity_id), {"told": told}, now
            )
        self.changed()
        return told

    async def organiser_leaves(self, conn: AsyncConnection, organiser_id: int) -> int:
        """The organiser's data is being erased (`ProfileService.forget`, in its transaction,
        whose first statement this is: it takes the opportunities' locks). Their opportunities
        not started yet are cancelled and everyone signed up or waiting is told, without the
        organiser's contact (the erasure removes it). Returns how many were told."""
        now = self.clock.now()
        told = 0
        for opp in await repo.lock_upcoming_of(conn, organiser_id, now):
            n = await self._cancel(conn, replace(opp, contact=None), now)
            details = {"told": n, "reason": "the organiser's data was erased"}
            await audit_repo.add(
                conn, organiser_id, "opportunity.cancel", str(opp.id), details, now
            )
            told += n
        return told

    async def _cancel(self, conn: AsyncConnection, opp: Opportunity, now: datetime) -> int:
        """Under the lock: cancel the opportunity, tell everyone signed up or waiting, drop the
        reminders not sent yet. Returns how many were told."""
        await repo.set_fields(conn, opp.id, now, status=CANCELLED)
        cancelled = replace(opp, status=CANCELLED)
        active = [s for s in await repo.signups_of(conn, opp.id) if s.active]
        who = await repo.addressees(conn, [s.user_id for s in active])
        pushes = [
            self._push(
                a,
                "opp_cancelled",
                f"opp-cancelled:{opp.id}:{a.id}",
                "volunteer/push_cancelled.j2",
                cancelled,
                now,
                urgent=True,
            )
            for a in who.values()
        ]
        told = await outbox_repo.enqueue(conn, pushes, now)
        await repo.cancel_pending(conn, "opp_reminder", f"opp-remind:{opp.id}:")
        return told

    async def set_open(self, opportunity_id: int, actor_id: int, open_: bool) -> Opportunity:
        """Close sign-ups (the event still takes place) or open them again."""
        async with self.engine.begin() as conn:
            opp = await repo.lock(conn, opportunity_id)
            if opp is None or opp.status == CANCELLED:
                raise StaleButton
            now = self.clock.now()
            status = OPEN if open_ else CLOSED
            await repo.set_fields(conn, opportunity_id, now, status=status)
            await audit_repo.add(
                conn,
                actor_id,
                f"opportunity.{'open' if open_ else 'close'}",
                str(opportunity_id),
                {},
                now,
            )
        self.changed()
        return replace(opp, status=status)

    async def roster(self, opportunity_id: int) -> list[Person]:
        async with self.engine.connect() as conn:
            return await repo.roster(conn, opportunity_id)

    async def csv(self, opportunity_id: int, locale: str) -> bytes:
        """The confirmed participants as CSV (UTF-8 with BOM), times in the organiser's zone."""
        async with self.engine.connect() as conn:
            opp = await repo.get(conn, opportunity_id)
            if opp is None:
                raise StaleButton
            people = [p for p in await repo.roster(conn, opportunity_id) if p.status == CONFIRMED]
        tr = self.renderer.bind(locale)
        marks = {True: tr._("yes"), False: tr._("no-show"), None: ""}
        header = [
            tr._("Name"),
            tr._("Username"),
            tr._("Telegram ID"),
            tr._("Signed up ({zone})").format(zone=opp.timezone),
            tr._("Attended"),
            tr._("No-shows"),
        ]
        zone = ZoneInfo(opp.timezone)
        rows = [
            [
                " ".join(x for x in (p.first_name, p.last_name) if x),
                f"@{p.username}" if p.username else "",
                p.user_id,
                p.status_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                marks[p.attended],
                p.no_shows,
            ]
            for p in people
        ]
        return rules.csv_bytes(header, rows)

    async def mark(self, opportunity_id: int, user_id: int) -> bool | None:
        """Attendance after the start: unmarked → came → no-show → unmarked. Marked as come
        once the event has ended, the volunteer is thanked and asked to rate it (once)."""
        async with self.engine.begin() as conn:
            opp = await repo.get(conn, opportunity_id)
            signup = await repo.signup_of(conn, opportunity_id, user_id)
            if opp is None or signup is None or signup.status != CONFIRMED:
                raise StaleButton
            now = self.clock.now()
            if now < opp.starts_at:
                raise UserError("opportunities/too_early.j2")
            following = {None: True, True: False, False: None}[signup.attended]
            await repo.set_attended(conn, opportunity_id, user_id, following)
            if following is True and now >= opp.ends_at:
                await self._thank(conn, opportunity_id, user_id, now, settle=True)
            elif signup.attended is True:  # a tap past ✅: the thanks not sent yet stay unsent
                await repo.cancel_pending(
                    conn, "opp_thanks", f"opp-thanks:{opportunity_id}:{user_id}:", user_id
                )
                await repo.set_rating(conn, opportunity_id, user_id, thanked_at=None)
        return following

    async def message(self, opportunity_id: int, actor_id: int, text: str, key: str) -> int:
        """The organiser's message to every confirmed participant. `key` (the message's id)
        makes a repeated update harmless. Returns how many were enqueued."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            opp = await repo.get(conn, opportunity_id)
            if opp is None:
                raise StaleButton
            who = await repo.addressees(conn, await repo.participants(conn, [opportunity_id]))
            pushes = [
                self._push(
                    a,
                    "opp_message",
                    f"opp-msg:{opportunity_id}:{key}:{a.id}",
                    "opportunities/push_message.j2",
                    opp,
                    now,
                    urgent=True,
                    message=text,
                )
                for a in who.values()
            ]
            added = await outbox_repo.enqueue(conn, pushes, now)
            await audit_repo.add(
                conn, actor_id, "opportunity.message", str(opportunity_id), {"to": added}, now
            )
        return added

    async def participants(self, opportunity_ids: Iterable[int]) -> list[int]:
        """Confirmed participants' user ids (see `bot.storage.volunteering.participants`)."""
        async with self.engine.connect() as conn:
            return await repo.participants(conn, opportunity_ids)

    # ------------------------------------------------------------------ the volunteer

    async def volunteer_profile(self, user_id: int) -> VolunteerProfile:
        """Skills and availability; until saved, the skills are the ikigai's "what I can"."""
        async with self.engine.connect() as conn:
            return await self._volunteer_profile(conn, user_id)

    async def _volunteer_profile(self, conn: AsyncConnection, user_id: int) -> VolunteerProfile:
        profile = await repo.volunteer_profile(conn, user_id)
        if profile.saved:
            return profile
        can = (await profile_repo.ikigai(conn, user_id)).get("can", [])
        return replace(profile, skills=tuple(s[:SKILL_LENGTH] for s in can[:SKILLS_LIMIT]))

    async def save_volunteer_profile(
        self,
        user_id: int,
        *,
        skills: Sequence[str] | None = None,
        availability: frozenset[str] | None = None,
        reach: str | None = None,
        city: str | None = None,
        notify_new: bool | None = None,
    ) -> VolunteerProfile:
        async with self.engine.begin() as conn:
            user = await users_repo.get(conn, user_id)
            if user is None or not user.consented:
                raise ConsentRequired
            current = await self._volunteer_profile(conn, user_id)
            if skills is not None:
                clean = [s.strip()[:SKILL_LENGTH] for s in skills if not blank(s)]
                current = replace(current, skills=tuple(dict.fromkeys(clean))[:SKILLS_LIMIT])
            if availability is not None:
                current = replace(
                    current, availability=availability & frozenset(rules.AVAILABILITY)
                )
            if reach is not None:
                if reach not in rules.REACH:
                    raise StaleButton
                current = replace(current, reach=reach)
            if city is not None:
                current = replace(current, city=city.strip()[:CITY_LENGTH] or None)
            if notify_new is not None:
                current = replace(current, notify_new=notify_new)
            await repo.save_volunteer_profile(conn, user_id, current, self.clock.now())
        return replace(current, saved=True)

    async def toggle_availability(self, user_id: int, code: str) -> VolunteerProfile:
        """One time slot (weekdays, evenings, weekends) on or off."""
        if code not in rules.AVAILABILITY:
            raise StaleButton
        current = (await self.volunteer_profile(user_id)).availability
        return await self.save_volunteer_profile(user_id, availability=current ^ {code})

    async def seed_skills_from_ikigai(self, user_id: int) -> VolunteerProfile:
        async with self.engine.connect() as conn:
            can = (await profile_repo.ikigai(conn, user_id)).get("can", [])
        return await self.save_volunteer_profile(user_id, skills=can)

    async def no_shows(self, user_id: int) -> int:
        async with self.engine.connect() as conn:
            return await repo.no_shows(conn, user_id)

    async def opportunities_for(self, user_id: int, *, limit: int = 3) -> list[Listing]:
        """Opportunities to suggest to the user (the weekly digest): open, with a free place, in
        the next two weeks, in reach, matching their topics, skills and free time, not taken
        yet. Empty for a user who turned "Volunteering" off in /settings, or who has not
        consented or has blocked the bot."""
        now = self.clock.now()
        async with self.engine.connect() as conn:
            user = await users_repo.get(conn, user_id)
            if user is None or not user.consented or user.blocked:
                return []
            if not (await settings_repo.get(conn, user_id)).opportunities:
                return []
            fit = await self._fit(conn, user)
            listings = await repo.upcoming(conn, now, now + DIGEST_HORIZON)
        return rules.opportunities_for(fit, listings, now, limit=limit, horizon=DIGEST_HORIZON)

    async def _fit(self, conn: AsyncConnection, user: users_repo.User) -> VolunteerFit:
        profile = await self._volunteer_profile(conn, user.id)
        fit = _fit_of(
            user_zone(user.timezone, self.settings.default_timezone),
            user.region,
            await profile_repo.codes(conn, user.id, "topics"),
            profile,
        )
        return fit._replace(taken=await repo.taken_by(conn, user.id))

    async def fitting(self, user_id: int, *, limit: int = 5) -> list[Listing]:
        """What the volunteer's onboarding ends with: the upcoming opportunities that fit what
        they just told (whatever their /settings say — they asked)."""
        now = self.clock.now()
        async with self.engine.connect() as conn:
            user = await users_repo.get(conn, user_id)
            if user is None or not user.consented:
                raise ConsentRequired
            fit = await self._fit(conn, user)
            listings = await repo.upcoming(conn, now, now + NEWS_HORIZON)
        return rules.opportunities_for(fit, listings, now, limit=limit, horizon=NEWS_HORIZON)

    async def history(self, user_id: int) -> list[Attended]:
        """The opportunities the volunteer came to (marked by the organiser), oldest first,
        with their organisers and the hours each counts."""
        async with self.engine.connect() as conn:
            return await repo.record(conn, user_id)

    # The digest planner asks for thousands of users at once: the listings once per tick
    # (`digest_matcher`), the volunteers' profiles once per page of users (`volunteer_rows`,
    # then `fits_of`).

    async def digest_matcher(self, now: datetime) -> DigestOpportunities:
        """What `opportunities_for` would suggest at `now`, for many users: the listings are
        read and indexed once."""
        async with self.engine.connect() as conn:
            listings = await repo.upcoming(conn, now, now + DIGEST_HORIZON)
        return DigestOpportunities(listings, now)

    @staticmethod
    async def volunteer_rows(conn: AsyncConnection, first: int, last: int) -> VolunteerRows:
        """What `fits_of` needs of the users with ids in [first, last], in three queries (the
        planner reads them with the rest of a page, on its connection)."""
        return VolunteerRows(
            saved=await repo.volunteer_profiles_between(conn, first, last),
            can=await repo.ikigai_can_between(conn, first, last),
            taken=await repo.taken_between(conn, first, last),
        )

    def fits_of(self, people: Sequence[Volunteer], rows: VolunteerRows) -> dict[int, VolunteerFit]:
        """The matching view of each of `people` (consented, not blocked — the caller checks),
        as `opportunities_for` builds it, from the `volunteer_rows` of a range holding them."""
        saved, can, taken = rows
        fits = {}
        for p in people:
            profile = saved.get(p.id)
            if profile is None:
                skills = tuple(s[:SKILL_LENGTH] for s in can.get(p.id, [])[:SKILLS_LIMIT])
                availability: frozenset[str] = frozenset()
            else:
                skills, availability = profile.skills, profile.availability
            fits[p.id] = VolunteerFit(
                timezone=user_zone(p.timezone, self.settings.default_timezone),
                region=p.region,
                topics=frozenset(p.topics),
                skills=skills,
                availability=availability,
                taken=taken.get(p.id, frozenset()),
                reach=profile.reach if profile is not None else None,
                city=profile.city if profile is not None else None,
            )
        return fits

    # ------------------------------------------------------------------ shifts and roles

    async def series(self, opportunity_id: int) -> list[Listing]:
        """The opportunity's shifts and roles with it (the first one included)."""
        async with self.engine.connect() as conn:
            opp = await repo.get(conn, opportunity_id)
            if opp is None:
                return []
            return await repo.series(conn, opp.parent_id or opp.id)

    async def add_shifts(
        self, opportunity_id: int, actor_id: int, *, text: str, what: str
    ) -> list[int]:
        """Add to the opportunity's series, from what the organiser typed: a shift
        ("06.12.2026 10:00-13:00 5", `what` shift), a role within this shift ("водитель 2",
        role) or every shift and role again each week for N weeks (weekly). Each new one
        copies the first's texts, place and contact. `shifts.ShiftProblem` says what is wrong;
        nothing is added then. Returns the new ids."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            opp = await repo.lock(conn, opportunity_id)
            if opp is None or opp.status == CANCELLED:
                raise StaleButton
            root = opp if opp.parent_id is None else await repo.get(conn, opp.parent_id)
            if root is None:
                raise StaleButton
            existing = [
                (x.opportunity.starts_at, x.opportunity.ends_at, x.opportunity.role)
                for x in await repo.series(conn, root.id)
            ]
            wanted: list[tuple[datetime, datetime, str | None, int | None]] = []
            if what == "shift":
                starts_at, ends_at, capacity = shifts.parse_shift(text, root.timezone, now)
                wanted.append((starts_at, ends_at, None, capacity))
            elif what == "role":
                name, capacity = shifts.parse_role(text)
                wanted.append((opp.starts_at, opp.ends_at, name, capacity))
            elif what == "weekly":
                weeks = shifts.parse_weeks(text)
                capacities = {
                    (x.opportunity.starts_at, x.opportunity.ends_at, x.opportunity.role): (
                        x.opportunity.capacity
                    )
                    for x in await repo.series(conn, root.id)
                }
                for s, e, role, k in shifts.weekly(existing, weeks):
                    if shifts.overlaps(s, e, role, existing):
                        continue  # that week has it already
                    origin = (s - timedelta(weeks=k), e - timedelta(weeks=k), role)
                    wanted.append((s, e, role, capacities.get(origin)))
            else:
                raise StaleButton
            if not wanted:
                raise shifts.ShiftProblem("nothing_new")
            if len(existing) + len(wanted) > shifts.MAX_SERIES:
                raise shifts.ShiftProblem("too_many")
            added: list[int] = []
            for s, e, role, places in wanted:
                problem = rules.time_problem(now, s, e, None)
                if problem is not None:
                    raise shifts.ShiftProblem(problem)
                if what != "weekly" and shifts.overlaps(s, e, role, existing):
                    raise shifts.ShiftProblem("overlap" if role is None else "role_overlap")
                values = {
                    "title": root.title,
                    "description": root.description,
                    "topic": root.topic,
                    "place": root.place,
                    "link": root.link,
                    "region": root.region,
                    "timezone": root.timezone,
                    "starts_at": s,
                    "ends_at": e,
                    "capacity": places,
                    "signup_until": None,
                    "contact": root.contact,
                    "created_by": root.created_by,
                    "parent_id": root.id,
                    "role": role,
                }
                added.append(await repo.create(conn, values, now))
                existing.append((s, e, role))
            await audit_repo.add(
                conn,
                actor_id,
                f"opportunity.{what}",
                str(root.id),
                {"added": added},
                now,
            )
        return added

    # ------------------------------------------------------------------ hours, certificates

    async def set_hours(self, opportunity_id: int, user_id: int, actor_id: int, text: str) -> int:
        """The organiser corrects the hours of one attendee (typed as hours). Returns the
        minutes saved; `attendance.HoursProblem` says what is wrong with the text."""
        async with self.engine.begin() as conn:
            opp = await repo.get(conn, opportunity_id)
            mine = await repo.signup_of(conn, opportunity_id, user_id)
            if opp is None or mine is None or mine.attended is not True:
                raise StaleButton
            minutes = attendance.parse_hours(text, opp.starts_at, opp.ends_at)
            await repo.set_minutes(conn, opportunity_id, user_id, minutes)
            await audit_repo.add(
                conn,
                actor_id,
                "opportunity.hours",
                str(opportunity_id),
                {"user": user_id, "minutes": minutes},
                self.clock.now(),
            )
        return minutes

    async def certificate(
        self, user_id: int, *, full_name: bool, tr: Tr, bot_username: str, tz: str
    ) -> Certificate:
        """A certificate of everything the volunteer came to, with a new code that checks it
        (`check_certificate`), recorded as issued. The name is the first name, or the full one
        if the volunteer chose so."""
        from bot.ui.certificate import Certificate, Row

        now = self.clock.now()
        async with self.engine.begin() as conn:
            user = await users_repo.get(conn, user_id)
            if user is None or not user.consented:
                raise ConsentRequired
            record = await repo.record(conn, user_id)
            if not record:
                raise UserError("attendance/no_record.j2")
            parts = (user.first_name, user.last_name) if full_name else (user.first_name,)
            name = " ".join(p for p in parts if p) or (user.username or f"id {user_id}")
            minutes = sum(a.counted for a in record)
            code = attendance.new_code()
            await repo.add_certificate(
                conn,
                {
                    "code": code,
                    "user_id": user_id,
                    "name": name[:200],
                    "minutes": minutes,
                    "events": len(record),
                    "issued_at": now,
                },
            )
        link = f"https://t.me/{bot_username}?start=cert_{code}"
        hours = attendance.hours_text(minutes, tr.locale)
        events = tr.n_("{n} event", "{n} events", len(record)).format(n=len(record))
        zone = ZoneInfo(tz)
        return Certificate(
            locale=tr.locale,
            title=tr._("Certificate of volunteering"),
            intro=tr._("This certifies that"),
            name=name,
            summary=tr._("took part in volunteering with Opora: {events}, {hours} h").format(
                events=events, hours=hours
            ),
            headers=(tr._("Date"), tr._("Event"), tr._("Organiser"), tr._("Hours")),
            rows=tuple(
                Row(
                    date=a.starts_at.astimezone(zone).strftime("%d.%m.%Y"),
                    title=a.title,
                    organiser=a.organiser,
                    hours=attendance.hours_text(a.counted, tr.locale),
                )
                for a in record
            ),
            total=tr._("Total: {hours} h").format(hours=hours),
            check=tr._("Anyone can check this certificate: scan the code or open"),
            link=link,
            code_line=tr._("Code: {code}").format(code=code),
            issued=tr._("Issued on {date}").format(date=now.astimezone(zone).strftime("%d.%m.%Y")),
            footer=tr._("Opora — support for social initiatives"),
            created=now,
            filename=f"certificate-{code}.pdf",
        )

    async def check_certificate(self, code: str) -> dict[str, Any] | None:
        """What a certificate certified (name, minutes, events, issued_at), or None: no such
        code, or its volunteer deleted their data (the certificate went with it)."""
        clean = attendance.clean_code(code)
        if clean is None:
            return None
        async with self.engine.connect() as conn:
            row = await repo.certificate(conn, clean)
            if row is None:
                return None
            user = await users_repo.get(conn, row["user_id"])
            if user is None or not user.consented:
                return None
            return dict(row)

    async def export(self, user_id: int) -> dict[str, Any]:
        """What volunteering stores about the user, for /my_data."""
        async with self.engine.connect() as conn:
            return await repo.export(conn, user_id)

    def ics(self, opp: Opportunity, url: str | None = None) -> bytes:
        return rules.to_ics(opp, self.clock.now(), url=url)


def _fit_of(
    tz: str, region: str | None, topics: frozenset[str], profile: VolunteerProfile
) -> VolunteerFit:
    """What matching knows of a volunteer: where they are, their topics and profile."""
    return VolunteerFit(
        timezone=tz,
        region=region,
        topics=topics,
        skills=profile.skills,
        availability=profile.availability,
        reach=profile.reach,
        city=profile.city,
    )


def _time_left(starts_at: datetime, now: datetime, tz: str) -> dict[str, Any]:
    """What a reminder says of the start: the minutes left (rounded) and the local days
    between today and its day (0: today, 1: tomorrow)."""
    zone = ZoneInfo(tz)
    minutes = max(1, round((starts_at - now).total_seconds() / 60))
    days = (starts_at.astimezone(zone).date() - now.astimezone(zone).date()).days
    return {"minutes": minutes, "hours": round(minutes / 60), "days": days}


class VolunteerRows(NamedTuple):
    """What `VolunteerService.fits_of` needs of a range of users, by user id."""

    saved: dict[int, VolunteerProfile]  # saved volunteer profiles
    can: dict[int, list[str]]  # the ikigai's "what I can" entries (skills without a profile)
    taken: dict[int, frozenset[int]]  # active sign-ups


class Volunteer(Protocol):
    """What `VolunteerService.fits_of` needs to know of a user."""

    @property
    def id(self) -> int: ...
    @property
    def timezone(self) -> str | None: ...
    @property
    def region(self) -> str | None: ...
    @property
    def topics(self) -> frozenset[str]: ...


class DigestOpportunities:
    """`rules.opportunities_for` for many volunteers at one instant, with the same answers.

    What does not depend on the volunteer is done once: the listings open for sign-up with a
    free place within the horizon, in (start, id) order; their title-and-description stems
    as bits of an int; indexes by topic, by stem and by region; each one's time slot per zone.
    A volunteer who named topics or skills then costs only the listings sharing a topic or a
    stem with them (the others score 0 and are left out); one who named neither takes the
    first suitable listings of their region, then of anywhere, in start order. `key` says
    which volunteers get the same answer, so a caller can remember it.
    """

    def __init__(
        self, listings: Iterable[Listing], now: datetime, *, horizon: timedelta = DIGEST_HORIZON
    ) -> None:
        base = [
            item
            for item in listings
            if rules.signup_refusal(item.opportunity, now) is None
            and item.opportunity.starts_at - now <= horizon
            and item.free != 0
        ]
        base.sort(key=lambda item: (item.opportunity.starts_at, item.opportunity.id))
        self.now = now
        self._base = base
        # The stems `rules.skill_hits` compares, of each listing once, as bits.
        stems = [rules._stems([i.opportunity.title, i.opportunity.description]) for i in base]
        self._bits = {stem: 1 << n for n, stem in enumerate(sorted(set().union(*stems)))}
        self._info: list[tuple[int, str, str | None, bool, int]] = []
        self._by_topic: dict[str, list[int]] = defaultdict(list)
        self._by_stem: dict[int, list[int]] = defaultdict(list)
        self._by_region: dict[str | None, list[int]] = defaultdict(list)
        for i, item in enumerate(base):
            opp = item.opportunity
            mask = sum(self._bits[stem] for stem in stems[i])
            anywhere = opp.online or opp.region is None  # in reach of every volunteer
            self._info.append((opp.id, opp.topic, opp.region, anywhere, mask))
            self._by_topic[opp.topic].append(i)
            self._by_region[opp.region].append(i)
            for bit in self._bits_of(mask):
                self._by_stem[bit].append(i)
        self._topics = frozenset(self._by_topic)
        self._regions = frozenset(self._by_region)
        self._ids = frozenset(item.opportunity.id for item in base)
        self._slots: dict[str, list[str]] = {}
        self._masks: dict[tuple[str, ...], int] = {}

    @staticmethod
    def _bits_of(mask: int) -> list[int]:
        return [1 << n for n in range(mask.bit_length()) if mask >> n & 1]

    def _mask(self, skills: tuple[str, ...]) -> int:
        """The volunteer's skill stems that some listing has, as bits."""
        mask = self._masks.get(skills)
        if mask is None:
            bits = self._bits
            mask = sum(bits.get(stem, 0) for stem in rules._stems(skills))
            self._masks[skills] = mask
        return mask

    def _slots_in(self, tz: str) -> list[str]:
        slots = self._slots.get(tz)
        if slots is None:
            slots = [rules.slot_of(item.opportunity.starts_at, tz) for item in self._base]
            self._slots[tz] = slots
        return slots

    def key(self, fit: VolunteerFit) -> Hashable:
        """Volunteers with equal keys get the same `pick`: what matters of their topics and
        skills is what the listings share, of their region whether listings are there, of
        their zone only the time slots (when they named times), of their sign-ups those
        among the listings."""
        region = fit.region if fit.region is None or fit.region in self._regions else "~"
        return (
            bool(fit.topics or fit.skills),
            fit.topics & self._topics,
            self._mask(fit.skills) if fit.skills else 0,
            region,
            fit.availability,
            fit.timezone if fit.availability else None,
            fit.taken & self._ids if fit.taken else fit.taken,
            None if fit.reach == "region" else fit.reach,
            fit.city if fit.reach == "town" else None,
        )

    def pick(self, fit: VolunteerFit, limit: int = 3) -> list[Listing]:
        """The same as `rules.opportunities_for(fit, listings, now, limit=limit)`."""
        base, info = self._base, self._info
        taken, region, topics = fit.taken, fit.region, fit.topics
        slots = self._slots_in(fit.timezone) if fit.availability else None
        availability = fit.availability

        def suits(i: int) -> bool:
            oid, _, where, anywhere, _ = info[i]
            if fit.reach is not None and fit.reach != "region":  # online only, town, far
                return (
                    oid not in taken
                    and rules.in_reach(fit, base[i].opportunity)
                    and (slots is None or slots[i] in availability)
                )
            return (
                oid not in taken
                and (anywhere or region is None or where == region)
                and (slots is None or slots[i] in availability)
            )

        if not (topics or fit.skills):  # every score is 0, or 1 near home: home first
            home = self._by_region.get(region, []) if region is not None else []
            chosen = [i for i in home if suits(i)][:limit]
            if len(chosen) < limit:
                for i in range(len(base)):
                    if region is not None and info[i][2] == region:
                        continue  # seen above
                    if suits(i):
                        chosen.append(i)
                        if len(chosen) == limit:
                            break
            return [base[i] for i in chosen]
        mask = self._mask(fit.skills) if fit.skills else 0
        candidates: set[int] = set()
        for topic in topics:
            candidates.update(self._by_topic.get(topic, ()))
        for bit in self._bits_of(mask):
            candidates.update(self._by_stem[bit])
        found: list[tuple[int, int]] = []
        for i in candidates:
            if not suits(i):
                continue
            _, topic, where, _, stems = info[i]
            points = (2 if topic in topics else 0) + (stems & mask).bit_count()
            if region is not None and where == region:
                points += 1  # near home first
            found.append((-points, i))
        found.sort()
        return [base[i] for _, i in found[:limit]]
