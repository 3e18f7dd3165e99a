"""Peers and mentors: activists who show their project to each other, complementary peers
suggested with the reason, double opt-in introductions, blocks and reports, mentoring offers
and mentorships with a check-in after a month.

* **Nothing is shown before the activist opts in**, and only the parts they chose; stopping
  deletes the row, and they vanish from everyone's suggestions at once.
* **Introductions are double opt-in.** The requester must share too; the other side gets a
  short card (an outbox push) and accepts or declines. Only on «yes» does each get the other's
  @username (or a link by id). A decline, and a request to someone who does not share, who
  blocked the requester or was blocked by them, looks the same to the requester: «sent» is
  never said of those, and nothing reaches the other side.
* **Limits**: DAILY_REQUESTS requests a day on the bot's clock; one pending at a time per pair.
* **Reports** go to the audit log and, as a notice, to every coordinator.
* **Mentorships** are introductions of kind "mentor" from mentee to mentor; the tick sends
  «как идёт?» to both a month after the start.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Final

from aiogram.filters.callback_data import CallbackData
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.config import Settings
from bot.content import Catalog
from bot.domain import peers as rules
from bot.domain.errors import StaleButton
from bot.domain.schedule import allowed_at
from bot.domain.zones import user_zone
from bot.infra.clock import Clock
from bot.services.profile import ConsentRequired
from bot.storage import audit as audit_repo
from bot.storage import outbox as outbox_repo
from bot.storage import peers as repo
from bot.storage import settings as settings_repo
from bot.storage import users as users_repo
from bot.storage.outbox import NewPush
from bot.storage.peers import Introduction, Offer, Person
from bot.ui.keyboards import RowId, TelegramId
from bot.ui.render import Renderer, split_html

log = logging.getLogger(__name__)

CHECKIN_AFTER: Final = timedelta(days=30)
DAY: Final = timedelta(days=1)


class PeerCb(CallbackData, prefix="pr"):
    """Peers: menu / share (all on) / field (toggle `value`) / off / list / ask (`id` a person)
    / yes / no (`intro`) / block / report (`id`)."""

    action: str
    id: TelegramId = 0
    intro: RowId = 0
    value: str = ""


class MentorCb(CallbackData, prefix="mt"):
    """Mentors: menu / offer / topic / cap / way / often (`value`) / on / off / list / ask (`id`)
    / good / end / rate (`intro`, `value` 1–5)."""

    action: str
    id: TelegramId = 0
    intro: RowId = 0
    value: str = ""


def _button(text: str, data: CallbackData) -> dict[str, str]:
    return {"text": text, "callback_data": data.pack()}


@dataclass(frozen=True)
class Shown:
    """A suggestion as the card shows it: the peer's visible parts and the reason."""

    person: Person
    suggestion: rules.Suggestion


@dataclass(frozen=True)
class MentorCard:
    person: Person
    offer: Offer
    mentees: int


class PeerService:
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        renderer: Renderer,
        settings: Settings,
        catalog: Catalog,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.renderer = renderer
        self.settings = settings
        self.catalog = catalog

    # ------------------------------------------------------------------ helpers

    async def _me(self, conn: AsyncConnection, user_id: int) -> users_repo.User:
        user = await users_repo.get(conn, user_id)
        if user is None or not user.consented:
            raise ConsentRequired
        return user

    def _zone(self, region: str | None) -> str | None:
        if region is None:
            return None
        try:
            return self.catalog.region(region).zone
        except KeyError:
            return None

    def visible(self, p: Person) -> rules.Peer:
        """What matching (and a card) may use of a person: only the parts they show."""
        f = p.fields
        return rules.Peer(
            user_id=p.user_id,
            stage=p.stage if "stage" in f else None,
            region=p.region if "region" in f else None,
            zone=self._zone(p.region) if "region" in f else None,
            topics=p.topics if "topics" in f else frozenset(),
            can=p.can if "can" in f else (),
            need=p.need if "need" in f else (),
        )

    def _own(self, p: Person) -> rules.Peer:
        """The person's own side of matching: everything they told the bot."""
        return rules.Peer(
            p.user_id, p.stage, p.region, self._zone(p.region), p.topics, p.can, p.need
        )

    @staticmethod
    def title(p: Person, *, shown: bool = False) -> str | None:
        """The project's name: the user's own sentence for it (with `shown`, only if they show
        the name)."""
        if shown and "name" not in p.fields:
            return None
        return p.focus

    def contact(self, p: Person) -> str:
        """How to reach them: @username, or a link by id (HTML)."""
        name = html.escape(p.first_name or str(p.user_id))
        if p.username:
            return f"{name} @{html.escape(p.username)}"
        return f'<a href="tg://user?id={p.user_id}">{name}</a>'

    def _push(
        self,
        to: Person,
        key: str,
        text: str,
        buttons: list[list[dict[str, str]]],
        quiet: tuple[int, int] | None = None,
    ) -> NewPush:
        """A push to `to`: now, or with their `quiet` hours (start, end) after those."""
        now = self.clock.now()
        when = now
        if quiet is not None:
            tz = user_zone(to.timezone, self.settings.default_timezone)
            when = allowed_at(now, tz, *quiet)
        return NewPush(
            user_id=to.user_id,
            chat_id=to.user_id,
            kind="peers",
            dedup_key=key,
            payload={"text": split_html(text)[0], "parse_mode": "HTML", "buttons": buttons},
            not_before=when,
        )

    @staticmethod
    async def _quiet(conn: AsyncConnection, user_id: int) -> tuple[int, int]:
        s = await settings_repo.get(conn, user_id)
        return (s.quiet_start, s.quiet_end)

    def _tr(self, p: Person) -> Any:
        return self.renderer.bind(p.locale or self.settings.default_locale)

    # ------------------------------------------------------------------ sharing

    async def share(self, user_id: int) -> repo.Share | None:
        async with self.engine.connect() as conn:
            return await repo.share(conn, user_id)

    async def set_fields(self, user_id: int, fields: frozenset[str]) -> repo.Share | None:
        """Show these parts (none: stop showing at once)."""
        fields = frozenset(f for f in fields if f in rules.FIELDS)
        async with self.engine.begin() as conn:
            user = await self._me(conn, user_id)
            if "activist" not in user.roles:
                raise StaleButton
            if fields:
                await repo.save_fields(conn, user_id, fields, self.clock.now())
            else:
                await repo.stop_sharing(conn, user_id)
            return await repo.share(conn, user_id)

    async def toggle(self, user_id: int, field: str) -> repo.Share | None:
        if field not in rules.FIELDS:
            raise StaleButton
        mine = await self.share(user_id)
        fields = set(mine.fields) if mine else set()
        fields ^= {field}
        return await self.set_fields(user_id, frozenset(fields))

    # ------------------------------------------------------------------ suggestions

    async def suggestions(self, user_id: int) -> list[Shown]:
        """A few complementary peers, never the same set twice in a row (remembered)."""
        async with self.engine.begin() as conn:
            await self._me(conn, user_id)
            mine = await repo.share(conn, user_id)
            if mine is None:
                return []
            me = (await repo.people(conn, [user_id]))[0]
            blocked = await repo.blocked_between(conn, user_id)
            met = {  # introduced already: nothing more to suggest
                i.other(user_id)
                for i in await repo.of(conn, user_id)
                if i.kind == repo.PEER and i.status == repo.ACCEPTED
            }
            others = {
                p.user_id: p
                for p in await repo.people(conn)
                if p.user_id not in blocked and p.user_id not in met
            }
            others.pop(user_id, None)
            ranked = rules.rank(self._own(me), [self.visible(p) for p in others.values()])
            picked = rules.pick(ranked, mine.shown)
            await repo.set_shown(conn, user_id, [s.peer.user_id for s in picked])
        return [Shown(others[s.peer.user_id], s) for s in picked]

    async def card_of(self, viewer_id: int, person_id: int) -> Shown | None:
        """One sharing person as `viewer_id` sees them (None: not shown to them)."""
        async with self.engine.connect() as conn:
            await self._me(conn, viewer_id)
            if person_id in await repo.blocked_between(conn, viewer_id):
                return None
            found = await repo.people(conn, [viewer_id, person_id], sharing_only=False)
        by_id = {p.user_id: p for p in found}
        me, other = by_id.get(viewer_id), by_id.get(person_id)
        if me is None or other is None or not other.fields or viewer_id == person_id:
            return None
        s = rules.suggestion(self._own(me), self.visible(other))
        if s is None:
            s = rules.Suggestion(self.visible(other), (), (), False, False, frozenset(), False)
        return Shown(other, s)

    # ------------------------------------------------------------------ introductions

    async def request(self, from_id: int, to_id: int, kind: str = repo.PEER) -> str:
        """Ask to be introduced: "sent", or why not — "share" (the requester shows nothing),
        "limit" (DAILY_REQUESTS today), "pending" (one is waiting already), "gone" (the other
        does not share or offer, blocked or was blocked, or is no one: said alike), "full" (a
        mentor without a free place), "stage" (a mentee not at stage 1–3)."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            await self._me(conn, from_id)
            if kind == repo.PEER and await repo.share(conn, from_id) is None:
                return "share"
            if from_id == to_id or to_id in await repo.blocked_between(conn, from_id):
                return "gone"
            found = {
                p.user_id: p for p in await repo.people(conn, [from_id, to_id], sharing_only=False)
            }
            me, other = found.get(from_id), found.get(to_id)
            if me is None or other is None:
                return "gone"
            if kind == repo.PEER and not other.fields:
                return "gone"
            if kind == repo.MENTOR:
                if not rules.may_be_mentored(me.stage):
                    return "stage"
                offers = {o.user_id: (o, n) for o, n in await repo.active_offers(conn)}
                if to_id not in offers:
                    return "gone"
                o, n = offers[to_id]
                if n >= o.capacity:
                    return "full"
            earlier = await repo.between(conn, from_id, to_id, kind)
            if any(i.status == repo.PENDING for i in earlier):
                return "pending"
            if any(i.status == repo.ACCEPTED for i in earlier):
                return "already"
            if await repo.asked_since(conn, from_id, now - DAY) >= rules.DAILY_REQUESTS:
                return "limit"
            intro_id = await repo.introduce(conn, kind, from_id, to_id, now)
            quiet = await self._quiet(conn, to_id)
            push = self._ask_push(intro_id, kind, me, other, quiet)
            await outbox_repo.enqueue(conn, [push], now)
        return "sent"

    def _ask_push(
        self, intro_id: int, kind: str, me: Person, other: Person, quiet: tuple[int, int]
    ) -> NewPush:
        tr = self._tr(other)
        # A mentor sees the stage, region, topics and needs of whoever asks (the policy says so).
        seen = self.visible(me) if kind == repo.PEER else replace(self._own(me), can=())
        s = rules.suggestion(self._own(other), seen)
        text = tr(
            "peers/ask_push.j2",
            kind=kind,
            person=me,
            peer=seen,
            name=None if kind == repo.MENTOR else self.title(me, shown=True),
            s=s,
            stage=self.catalog.stage_by_number(seen.stage) if seen.stage else None,
            region=self.catalog.region(seen.region) if seen.region else None,
            topics=[self.catalog.topic(c) for c in sorted(seen.topics)],
        )
        cb = PeerCb if kind == repo.PEER else MentorCb
        buttons = [
            [
                _button(tr._("✅ Yes, introduce us"), cb(action="yes", intro=intro_id)),
                _button(tr._("✖️ No, thanks"), cb(action="no", intro=intro_id)),
            ],
            [_button(tr._("🚫 Block and report"), PeerCb(action="report", id=me.user_id))],
        ]
        return self._push(other, f"peer-ask:{intro_id}", text, buttons, quiet)

    async def answer(self, user_id: int, intro_id: int, yes: bool) -> Introduction | None:
        """The asked side says yes or no (None: not theirs, or answered already). On «yes»
        both get the other's contact."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            await self._me(conn, user_id)
            status = repo.ACCEPTED if yes else repo.DECLINED
            if not await repo.answer(conn, intro_id, user_id, status, now):
                return None
            intro = await repo.introduction(conn, intro_id)
            assert intro is not None
            if yes:
                found = {
                    p.user_id: p
                    for p in await repo.people(
                        conn, [intro.from_id, intro.to_id], sharing_only=False
                    )
                }
                pushes = []
                for a, b in ((intro.from_id, intro.to_id), (intro.to_id, intro.from_id)):
                    if a in found and b in found:
                        tr = self._tr(found[a])
                        text = tr(
                            "peers/introduced.j2",
                            kind=intro.kind,
                            contact=self.contact(found[b]),
                            mentee=intro.kind == repo.MENTOR and a == intro.from_id,
                        )
                        menu = (
                            PeerCb(action="menu")
                            if intro.kind == repo.PEER
                            else MentorCb(action="menu")
                        )
                        pushes.append(
                            self._push(
                                found[a],
                                f"peer-met:{intro_id}:{a}",
                                text,
                                [[_button(tr._("☰ Menu"), menu)]],
                                # the one who said yes is here now; the other after quiet hours
                                None if a == user_id else await self._quiet(conn, a),
                            )
                        )
                await outbox_repo.enqueue(conn, pushes, now)
        return intro

    async def block(self, user_id: int, other_id: int, report: bool) -> bool:
        """Block (and report) someone who asked this person or was introduced to them; False
        when there is no such introduction (a forged id)."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            await self._me(conn, user_id)
            if other_id == user_id:
                return False
            if not (await repo.between(conn, user_id, other_id, repo.PEER)) and not (
                await repo.between(conn, user_id, other_id, repo.MENTOR)
            ):
                return False
            await repo.block(conn, user_id, other_id, report, now)
            # Whatever was pending between them is declined, silently.
            for kind in (repo.PEER, repo.MENTOR):
                for i in await repo.between(conn, user_id, other_id, kind):
                    if i.status == repo.PENDING:
                        await repo.answer(conn, i.id, i.to_id, repo.DECLINED, now)
            if report:
                await audit_repo.add(
                    conn, user_id, "peers.report", f"user:{other_id}", {"about": other_id}, now
                )
                await outbox_repo.enqueue(conn, await self._reported(conn, user_id, other_id), now)
        return True

    async def _reported(self, conn: AsyncConnection, by: int, about: int) -> list[NewPush]:
        coordinators = await repo.people(
            conn, await repo.holders(conn, "coordinator"), sharing_only=False
        )
        pushes = []
        for c in coordinators:
            tr = self._tr(c)
            text = tr("peers/report_notice.j2", by=by, about=about)
            key = f"peer-report:{by}:{about}:{c.user_id}"
            pushes.append(self._push(c, key, text, [], await self._quiet(conn, c.user_id)))
        return pushes

    # ------------------------------------------------------------------ mentors

    async def offer(self, user_id: int) -> Offer | None:
        async with self.engine.connect() as conn:
            return await repo.offer(conn, user_id)

    async def may_offer(self, user_id: int) -> bool:
        async with self.engine.connect() as conn:
            me = await repo.people(conn, [user_id], sharing_only=False)
            o = await repo.offer(conn, user_id)
        if not me:
            return False
        return rules.may_mentor(me[0].stage, o is not None and o.marked_by is not None)

    async def edit_offer(self, user_id: int, what: str, value: str) -> Offer:
        """Change one part of the offer: topic / way (toggle), cap (1..MAX_MENTEES), often,
        on / off. Refused (a stale button) for someone who may not mentor."""
        if not await self.may_offer(user_id):
            raise StaleButton
        async with self.engine.begin() as conn:
            await self._me(conn, user_id)
            o = await repo.offer(conn, user_id) or Offer(
                user_id, frozenset(), 1, ("chat",), "monthly", False, None
            )
            if what == "topic":
                if value not in {t.code for t in self.catalog.topics}:
                    raise StaleButton
                o = replace(o, topics=o.topics ^ {value})
            elif what == "way":
                if value not in rules.MENTOR_WAYS:
                    raise StaleButton
                ways = set(o.ways) ^ {value}
                o = replace(o, ways=tuple(w for w in rules.MENTOR_WAYS if w in ways))
            elif what == "cap":
                if not value.isdigit() or not 1 <= int(value) <= rules.MAX_MENTEES:
                    raise StaleButton
                o = replace(o, capacity=int(value))
            elif what == "often":
                if value not in rules.MENTOR_OFTEN:
                    raise StaleButton
                o = replace(o, often=value)
            elif what in ("on", "off"):
                o = replace(o, active=what == "on")
            elif what != "show":
                raise StaleButton
            await repo.save_offer(conn, o, self.clock.now())
        return o

    async def mark_mentor(self, coordinator_id: int, user_id: int) -> bool:
        """A coordinator lets someone below stage 5 offer to mentor (False: no such person)."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            user = await users_repo.get(conn, user_id)
            if user is None or not user.consented:
                return False
            o = await repo.offer(conn, user_id) or Offer(
                user_id, frozenset(), 1, ("chat",), "monthly", False, None
            )
            await repo.save_offer(conn, replace(o, marked_by=coordinator_id), now)
            await audit_repo.add(conn, coordinator_id, "mentor.mark", f"user:{user_id}", {}, now)
            found = await repo.people(conn, [user_id], sharing_only=False)
            if found:
                tr = self._tr(found[0])
                button = _button(tr._("🧑‍🏫 Offer to mentor"), MentorCb(action="offer"))
                text = tr._("🧑‍🏫 A coordinator invites you to mentor starting projects.")
                push = self._push(
                    found[0],
                    f"mentor-marked:{user_id}:{now.isoformat()}",
                    text,
                    [[button]],
                    await self._quiet(conn, user_id),
                )
                await outbox_repo.enqueue(conn, [push], now)
        return True

    async def mentors_for(self, user_id: int) -> list[MentorCard]:
        async with self.engine.connect() as conn:
            await self._me(conn, user_id)
            blocked = await repo.blocked_between(conn, user_id)
            offers = {o.user_id: (o, n) for o, n in await repo.active_offers(conn)}
            people = {
                p.user_id: p
                for p in await repo.people(conn, [user_id, *offers], sharing_only=False)
            }
        me = people.get(user_id)
        if me is None:
            return []
        mentors = [
            rules.Mentor(
                uid,
                o.topics,
                o.capacity,
                n,
                people[uid].region,
                self._zone(people[uid].region),
                people[uid].stage,
            )
            for uid, (o, n) in offers.items()
            if uid in people and uid not in blocked
        ]
        found = rules.mentors_for(user_id, me.topics, me.region, self._zone(me.region), mentors)
        return [MentorCard(people[m.user_id], *offers[m.user_id]) for m in found]

    async def mentorships(self, user_id: int) -> list[tuple[Introduction, Person]]:
        """Mentorships going on that this person is in, with the other one."""
        async with self.engine.connect() as conn:
            mine = [
                i
                for i in await repo.of(conn, user_id)
                if i.kind == repo.MENTOR and i.status == repo.ACCEPTED
            ]
            people = {
                p.user_id: p
                for p in await repo.people(
                    conn, [i.other(user_id) for i in mine], sharing_only=False
                )
            }
        return [(i, people[i.other(user_id)]) for i in mine if i.other(user_id) in people]

    async def end(self, user_id: int, intro_id: int) -> Introduction | None:
        """End a mentorship (either side): both are thanked; the mentee is asked for a rating."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            await self._me(conn, user_id)
            if not await repo.end(conn, intro_id, user_id, None, now):
                return None
            intro = await repo.introduction(conn, intro_id)
            assert intro is not None
            other = await repo.people(conn, [intro.other(user_id)], sharing_only=False)
            if other:
                tr = self._tr(other[0])
                rows = []
                if other[0].user_id == intro.from_id:
                    rows = [self._rating_row(intro_id)]
                text = tr("peers/ended_push.j2", mentee=other[0].user_id == intro.from_id)
                quiet = await self._quiet(conn, other[0].user_id)
                push = self._push(other[0], f"mentor-end:{intro_id}", text, rows, quiet)
                await outbox_repo.enqueue(conn, [push], now)
        return intro

    @staticmethod
    def _rating_row(intro_id: int) -> list[dict[str, str]]:
        return [
            _button("⭐" * n, MentorCb(action="rate", intro=intro_id, value=str(n)))
            for n in range(1, 6)
        ]

    async def rate(self, user_id: int, intro_id: int, rating: int) -> bool:
        if not 1 <= rating <= 5:
            return False
        async with self.engine.begin() as conn:
            return await repo.rate(conn, intro_id, user_id, rating)

    # ------------------------------------------------------------------ working groups

    async def announce_working_group(
        self, coordinator_id: int, chat_id: int, topic: str, link: str
    ) -> int | None:
        """Tell the activists of the coordinator's region who show their project and work on
        `topic` about the working group behind `link` (None: the coordinator has no region).
        Returns how many were told."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            me = await users_repo.get(conn, coordinator_id)
            if me is None or me.region is None:
                return None
            region = me.region
            people = [
                p
                for p in await repo.people(conn)
                if p.region == region and topic in p.topics and p.user_id != coordinator_id
            ]
            name = self.catalog.topic(topic).name
            pushes = []
            for p in people:
                tr = self._tr(p)
                text = tr(
                    "peers/working_group_push.j2",
                    topic=name.get(tr.locale),
                    region=self.catalog.region(region).name(tr.locale),
                )
                join = {"text": tr._("👥 Join the working group"), "url": link}
                key = f"working-group:{chat_id}:{topic}:{p.user_id}"
                pushes.append(
                    self._push(p, key, text, [[join]], await self._quiet(conn, p.user_id))
                )
            told = await outbox_repo.enqueue(conn, pushes, now)
            await audit_repo.add(
                conn,
                coordinator_id,
                "working_group.start",
                f"chat:{chat_id}",
                {"topic": topic, "told": told},
                now,
            )
        return told

    # ------------------------------------------------------------------ the tick

    async def tick(self) -> int:
        """The month's check-in of every mentorship that is due: «как идёт?» to both."""
        now = self.clock.now()
        async with self.engine.connect() as conn:
            due = await repo.checkins_due(conn, now - CHECKIN_AFTER)
        added = 0
        for intro in due:
            async with self.engine.begin() as conn:
                if not await repo.mark_checked_in(conn, intro.id, now):
                    continue
                found = {
                    p.user_id: p
                    for p in await repo.people(
                        conn, [intro.from_id, intro.to_id], sharing_only=False
                    )
                }
                pushes = []
                for a, b in ((intro.from_id, intro.to_id), (intro.to_id, intro.from_id)):
                    if a not in found or b not in found:
                        continue
                    tr = self._tr(found[a])
                    text = tr(
                        "peers/checkin_push.j2",
                        other=found[b].first_name or "",
                        mentee=a == intro.from_id,
                    )
                    buttons = [
                        [
                            _button(
                                tr._("👍 Going well"), MentorCb(action="good", intro=intro.id)
                            ),
                            _button(tr._("🏁 End it"), MentorCb(action="end", intro=intro.id)),
                        ]
                    ]
                    pushes.append(
                        self._push(
                            found[a],
                            f"mentor-checkin:{intro.id}:{a}",
                            text,
                            buttons,
                            await self._quiet(conn, a),
                        )
                    )
                added += await outbox_repo.enqueue(conn, pushes, now)
        if added:
            log.info("mentorship check-ins planned", extra={"enqueued": added})
        return added

    # ------------------------------------------------------------------ names for screens

    def stage_name(self, stage: int | None, locale: str) -> str | None:
        return self.catalog.stage_by_number(stage).name.get(locale) if stage else None

    def topic_names(self, codes: Sequence[str] | frozenset[str], locale: str) -> list[str]:
        return [self.catalog.topic(c).name.get(locale) for c in sorted(codes)]
