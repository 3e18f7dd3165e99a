"""/delete_me keeps its word: after `ProfileService.forget` no table holds the person's id, name,
username or contact — checked by filling every table for one user, erasing them and scanning
every column of every table the metadata declares (a table added later is scanned too). What
they did that others rely on stays under a pseudonym; the participants of their opportunities
are told. SQLite, and PostgreSQL where TEST_POSTGRES_URL is set."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import BigInteger, Integer, String, func, select

from bot.config import Settings
from bot.content import get_catalog
from bot.domain.csvio import ArticleItem, GrantItem, MeasureItem
from bot.domain.segments import Segment
from bot.infra.clock import ManualClock
from bot.infra.db import make_engine, migrate
from bot.services.coordination import CoordinationService
from bot.services.desk import Context, DeskService
from bot.services.faq import FaqService
from bot.services.profile import ProfileService
from bot.services.volunteering import VolunteerService
from bot.storage import audit as audit_repo
from bot.storage import broadcasts as broadcasts_repo
from bot.storage import catalogs as catalogs_repo
from bot.storage import content_admin as content_repo
from bot.storage import outbox as outbox_repo
from bot.storage import peers as peers_repo
from bot.storage import plan_claims as plan_claims_repo
from bot.storage import stats as stats_repo
from bot.storage import users as users_repo
from bot.storage import volunteering as volunteering_repo
from bot.storage.fsm import SqlStorage
from bot.storage.outbox import NewPush
from bot.storage.peers import Offer
from bot.storage.personal import Person, _Masker
from bot.storage.settings import PushSettings
from bot.storage.tables import (
    audit_log,
    broadcasts,
    erasures,
    faq_entries,
    metadata,
    opportunities,
    outbox,
    signups,
    user_roles,
)
from bot.ui.render import Renderer
from tests.test_opportunities import draft

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(days=2)  # when the opportunities are published and taken
SOON = NOW + timedelta(hours=20)  # their start: the 24-hour reminders are due at NOW
LONG_AGO = NOW - timedelta(days=9)  # an opportunity of theirs that is over

# The person erased: names nothing else in the tables could hold by chance.
ZEB = 7_310_000_042
FIRST, LAST, USERNAME = "Zebulon", "Quirkeworth", "zeb_quirkeworth"
CONTACT = "+7 913 555-01-77"
SECRET = (str(ZEB), FIRST, LAST, USERNAME, CONTACT)
# Others: two volunteers of Zeb's opportunity, an organiser Zeb signs up with, an admin.
OLGA, PETR, IRA, ADMIN = 7_310_000_101, 7_310_000_102, 7_310_000_103, 7_310_000_104


@dataclass
class World:
    profiles: ProfileService
    volunteering: VolunteerService
    coordination: CoordinationService
    clock: ManualClock


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    engine = make_engine(database_url)
    await migrate(engine)
    clock = ManualClock(EARLIER)
    values: dict[str, Any] = {"database_url": database_url}
    settings = Settings(_env_file=None, **values)
    volunteering = VolunteerService(engine, clock, Renderer(), settings)
    profiles = ProfileService(engine, clock, organisers=volunteering, catalog=get_catalog())
    yield World(profiles, volunteering, CoordinationService(engine, clock), clock)
    await engine.dispose()


async def fill(w: World) -> dict[str, int]:
    """Every table gets rows of Zeb's, and rows of others that name Zeb."""
    profiles, engine = w.profiles, w.profiles.engine
    await profiles.give_consent(ZEB, FIRST, LAST, USERNAME, locale="ru")
    for uid, first in ((OLGA, "Ольга"), (PETR, "Пётр"), (IRA, "Ира"), (ADMIN, "Админ")):
        await profiles.give_consent(uid, first, None, None, locale="ru")
    await profiles.set_role(ZEB, "activist")
    await profiles.set_place(ZEB, "Asia/Novosibirsk", "nvs")
    await profiles.set_ikigai_column(ZEB, "want", ["Помогать соседям"])
    await profiles.set_codes(ZEB, "topics", frozenset({"social_services"}))
    await profiles.set_codes(ZEB, "problems", frozenset({"lack_of_funds"}))
    await profiles.set_codes(ZEB, "crises", frozenset({"quiet_sabotage"}))
    await profiles.add_quiz_result(ZEB, 4, {"q1": "a"})
    await profiles.save_push_settings(ZEB, PushSettings(digest="daily"))
    # Roles: Zeb is a coordinator (appointed by the admin) and lets Ira publish opportunities.
    await w.coordination.grant(ADMIN, ZEB, "coordinator")
    await w.coordination.grant(ZEB, IRA, "organiser")
    await w.coordination.audit(ADMIN, "stats.export", f"user:{ZEB}", about=ZEB, note=str(ZEB))
    # A conversation state in the middle of a flow.
    state = SqlStorage(engine, w.clock)
    key = StorageKey(bot_id=1, chat_id=ZEB, user_id=ZEB)
    await state.set_state(key, "Ikigai:want")
    await state.set_data(key, {"typed": f"{FIRST} {LAST}"})

    async with engine.begin() as conn:
        grant_id = await content_repo.save_grant(
            conn,
            GrantItem("Грант «Чистый берег»", "Фонд", "https://example.org", "НКО", (), "UTC"),
            ZEB,
            NOW,
        )
        article_id = await content_repo.save_article(
            conn,
            ArticleItem("Как найти добровольцев", "https://example.org/a", "Кратко", (1,)),
            ZEB,
            NOW,
        )
        await content_repo.save_measure(
            conn,
            MeasureItem("Консультации", "Бесплатно", "information", "+7 383 000-00-00"),
            ZEB,
            NOW,
        )
        await catalogs_repo.follow(conn, ZEB, f"G{grant_id}", NOW)
        await catalogs_repo.follow(conn, ZEB, get_catalog().grants[0].code, NOW)
        await catalogs_repo.mark_read(conn, ZEB, f"A{article_id}", NOW)
        await stats_repo.add_assessment(conn, ZEB, {"trust": 4}, NOW)
        # Zeb's broadcasts: a draft, one sent (its progress shown in Zeb's chat).
        await broadcasts_repo.create(
            conn, ZEB, broadcasts_repo.Content("Черновик"), Segment(), NOW
        )
        sent = await broadcasts_repo.create(
            conn, ZEB, broadcasts_repo.Content("Субботник в субботу!"), Segment(), NOW
        )
        await broadcasts_repo.move(
            conn, sent, (broadcasts_repo.DRAFT,), broadcasts_repo.DONE,
            recipients=1, progress_chat_id=ZEB, progress_message_id=5, finished_at=NOW,
        )  # fmt: skip
        # Messages: one to Zeb, and another coordinator's announcement that names Zeb.
        await outbox_repo.enqueue(
            conn,
            [
                NewPush(ZEB, ZEB, "digest", "digest:zeb", {"text": "Дайджест"}, NOW),
                NewPush(
                    OLGA, OLGA, "broadcast", "bc:9:olga",
                    {"text": f"Спасибо, {FIRST} {LAST} (@{USERNAME})!"}, NOW,
                ),
            ],
            NOW,
        )  # fmt: skip
        # Peers and mentors: Zeb shows their project, asked Petr to be introduced, offers to
        # mentor and let Ira mentor too; Olga blocked and reported Zeb.
        await peers_repo.save_fields(conn, ZEB, ["name", "can"], NOW)
        await peers_repo.introduce(conn, peers_repo.PEER, ZEB, PETR, NOW)
        await peers_repo.block(conn, OLGA, ZEB, True, NOW)
        await peers_repo.save_offer(
            conn, Offer(ZEB, frozenset({"ecology"}), 2, ("chat",), "monthly", True, None), NOW
        )
        await peers_repo.save_offer(
            conn, Offer(IRA, frozenset(), 1, ("call",), "weekly", False, ZEB), NOW
        )
        # A planner tick whose pages Zeb's id bounds (the page rows go with them).
        await plan_claims_repo.open_tick(
            conn, NOW, [(ZEB, ZEB), (OLGA, PETR)], NOW, timedelta(minutes=2)
        )
        # An opportunity of Zeb's that is over: it stays, without the contact.
        past = await volunteering_repo.create(
            conn,
            {**asdict(draft(title="Прошлая уборка", contact=CONTACT, starts_at=LONG_AGO)),
             "created_by": ZEB},
            NOW - timedelta(days=10),
        )  # fmt: skip
    # Zeb's coming opportunity: Olga gets the place, Petr waits; the reminder names the contact.
    mine = await w.volunteering.create(ZEB, draft(contact=CONTACT, starts_at=SOON, capacity=1))
    await w.volunteering.sign_up(mine, OLGA)
    await w.volunteering.sign_up(mine, PETR)
    # Zeb volunteers at Ira's opportunity and says what they can and when.
    iras = await w.volunteering.create(
        IRA, draft(title="Посадка деревьев", contact="@ira_org", starts_at=SOON)
    )
    await w.volunteering.sign_up(iras, ZEB)
    await w.volunteering.save_volunteer_profile(
        ZEB, skills=["пайка"], availability=frozenset({"weekends"})
    )
    # The consultation desk: Zeb's question and follow-up, Ira's question Zeb answered as a
    # coordinator, the work group Zeb set.
    desk = DeskService(engine, w.clock, Renderer())
    asked = await desk.ask(ZEB, "law", "Можно ли арендовать зал?", Context(4, "nvs", ("x",)))
    await desk.answer(asked.id, OLGA, "Да, по договору.")
    await desk.follow_up(asked.id, ZEB, f"Спасибо! {FIRST}")
    iras_question = await desk.ask(IRA, "grant", "Как написать бюджет?", Context(None, None, ()))
    await desk.take(iras_question.id, ZEB)
    await desk.answer(iras_question.id, ZEB, "Начните с мероприятий.")
    await desk.set_group(-1001234, "Координаторы", ZEB)
    # «Частые вопросы» from Zeb's questions: one published that names no one (it stays), a
    # draft Olga typed Zeb's name into, a published one that still names Zeb (both go).
    faq = FaqService(engine, w.clock)
    await faq.set_permission(asked.id, ZEB, True)
    clean = await faq.start(asked.id, OLGA)
    await faq.publish(clean.id, OLGA)
    entries = [clean.id]
    for text in (f"Вопрос от {FIRST}", f"Спасибо, {LAST}!"):
        more = await desk.ask(ZEB, "other", "Где взять стулья?", Context(None, None, ()))
        await desk.answer(more.id, OLGA, "В библиотеке.")
        await faq.set_permission(more.id, ZEB, True)
        entry = await faq.start(more.id, OLGA)
        await faq.edit(entry.id, "q" if len(entries) == 1 else "a", text, OLGA)
        if len(entries) == 2:
            await faq.publish(entry.id, OLGA)
        entries.append(entry.id)
    # Zeb invited an expert, and became one by Olga's invitation.
    await desk.invite(ZEB, ("grant",))
    token, _ = await desk.invite(OLGA, ("law",))
    assert (await desk.redeem(token, ZEB, frozenset())).outcome == "joined"
    async with engine.begin() as conn:  # a certificate Zeb downloaded, in their full name
        await volunteering_repo.add_certificate(
            conn,
            {"code": "ZEBCERT234", "user_id": ZEB, "name": f"{FIRST} {LAST}", "minutes": 180,
             "events": 1, "issued_at": NOW},
        )  # fmt: skip
    w.clock.advance(NOW - EARLIER)
    await w.volunteering.tick()  # reminders (with the contact) and Ira's notice naming Zeb
    return {"mine": mine, "iras": iras, "past": past, "sent": sent, "faq": entries[0]}


async def leftovers(w: World) -> list[str]:
    """Every column of every table, for anything that names Zeb."""
    found = []
    async with w.profiles.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in (await conn.execute(select(table))).mappings():
                for column in table.c:
                    value = row[column.name]
                    if isinstance(column.type, Integer | BigInteger) and value == ZEB:
                        found.append(f"{table.name}.{column.name} = the id")
                    if isinstance(column.type, String) and isinstance(value, str):
                        found.extend(
                            f"{table.name}.{column.name} holds {s!r}: {value[:120]!r}"
                            for s in SECRET
                            if s.casefold() in value.casefold()
                        )
    return found


async def test_after_forget_no_table_names_the_person(world: World) -> None:
    ids = await fill(world)
    before = await leftovers(world)
    # The fill reached every place the test looks: each table that can hold Zeb's data does.
    named = {line.split(".")[0] for line in before}
    # posted_cards holds no one's data (which message shows which opportunity; who posted is
    # in audit_log), and its rows go with the opportunity; bot_chats names groups, not people.
    nobodys = {"erasures", "alembic_version", "posted_cards", "bot_chats"}
    every = {t.name for t in metadata.sorted_tables} - nobodys
    assert named == every, f"fill() must put Zeb into {sorted(every - named)}"

    await world.profiles.forget(ZEB)

    assert await leftovers(world) == []
    engine = world.profiles.engine
    async with engine.connect() as conn:
        pseudonym = -(await conn.execute(select(func.max(erasures.c.id)))).scalar_one()
        opps = {r.id: r for r in (await conn.execute(select(opportunities))).all()}
        # Zeb's coming opportunity is cancelled, their contact gone; the past one keeps its
        # status; both now name the pseudonym. Ira's is untouched.
        assert (opps[ids["mine"]].status, opps[ids["mine"]].contact) == ("cancelled", None)
        assert (opps[ids["past"]].status, opps[ids["past"]].contact) == ("open", None)
        assert opps[ids["mine"]].created_by == opps[ids["past"]].created_by == pseudonym
        assert (opps[ids["iras"]].status, opps[ids["iras"]].contact) == ("open", "@ira_org")
        # Olga and Petr are told, without the contact; their sign-ups stay.
        told = (
            (await conn.execute(select(outbox).where(outbox.c.kind == "opp_cancelled")))
            .mappings()
            .all()
        )
        assert sorted(r["user_id"] for r in told) == [OLGA, PETR]
        assert "Уборка берега" in json.loads(told[0]["payload"])["text"]
        kept = (
            await conn.execute(
                select(signups.c.user_id).where(signups.c.opportunity_id == ids["mine"])
            )
        ).scalars()
        assert sorted(kept) == [OLGA, PETR]
        # Of the «Частые вопросы», the published entry that names no one stays, unlinked.
        kept_entries = (
            await conn.execute(
                select(faq_entries.c.id, faq_entries.c.question_id, faq_entries.c.question)
            )
        ).all()
        assert [tuple(r) for r in kept_entries] == [(ids["faq"], None, "Можно ли арендовать зал?")]
        # Zeb's sent broadcast keeps its text; the draft is gone.
        rows = (await conn.execute(select(broadcasts))).mappings().all()
        assert [(r["text"], r["author_id"], r["progress_chat_id"]) for r in rows] == [
            ("Субботник в субботу!", pseudonym, None)
        ]
        # The audit log keeps every action, under the pseudonym.
        entries = (await conn.execute(select(audit_log).order_by(audit_log.c.id))).mappings().all()
        assert ("coordinator.appoint", ADMIN, f"deleted-{-pseudonym}") in [
            (e["action"], e["actor_id"], e["target"]) for e in entries
        ]
        assert ("organiser.appoint", pseudonym, str(IRA)) in [
            (e["action"], e["actor_id"], e["target"]) for e in entries
        ]
        export = next(e for e in entries if e["action"] == "stats.export")
        assert export["target"] == f"user:deleted-{-pseudonym}"
        label = f"deleted-{-pseudonym}"
        assert json.loads(export["details"]) == {"about": label, "note": label}
        cancels = [e for e in entries if e["action"] == "opportunity.cancel"]
        assert [(e["actor_id"], e["target"]) for e in cancels] == [(pseudonym, str(ids["mine"]))]
        logged, _ = await audit_repo.page(conn, 0, 50)
        shown = Renderer().bind("en")(
            "admin/audit.j2", entries=logged, page=1, pages=1, tz="Europe/Moscow"
        )
        assert f"<code>{label}</code> · publishing opportunities allowed · {IRA}" in shown
        # Ira keeps the permission Zeb gave, and learns who signed up — minus Zeb.
        assert (
            await conn.execute(select(user_roles.c.granted_by).where(user_roles.c.user_id == IRA))
        ).scalar_one() == pseudonym
        notice = (
            await conn.execute(select(outbox.c.payload).where(outbox.c.kind == "opp_notice"))
        ).scalar_one()
        line = "➕ " + "•" * 19 + " (" + "•" * 16 + ") — новая запись"
        assert line in json.loads(notice)["text"]
        greeting = (
            await conn.execute(select(outbox.c.payload).where(outbox.c.dedup_key == "bc:9:olga"))
        ).scalar_one()
        assert json.loads(greeting)["text"] == "Спасибо, " + "•" * 19 + " (" + "•" * 16 + ")!"


async def test_forgetting_someone_who_did_nothing_hands_out_no_pseudonym(world: World) -> None:
    await world.profiles.give_consent(OLGA, "Ольга", None, None)
    async with world.profiles.engine.begin() as conn:
        await users_repo.ensure(conn, PETR, NOW)  # /start without consent: the id alone
    await world.profiles.forget(OLGA)
    await world.profiles.forget(PETR)
    await world.profiles.forget(PETR)  # twice: nothing left to do
    async with world.profiles.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(erasures))).scalar_one() == 0
    assert await world.profiles.export(OLGA) is None


def test_masks_keep_the_length_and_whole_words_only() -> None:
    person = Person(5, "Ян", "Ким", "yan_kim", ("8 800 100-20-30",))
    masker = _Masker(person.own_needles())
    # "Ян" is shorter than a needle; "Кимберли" is another word; the rest are masked as long.
    assert masker.mask("Ян Ким (@yan_kim), Ким, Кимберли, Ян, 8 800 100-20-30") == (
        "•••••• (••••••••), •••, Кимберли, Ян, •••••••••••••••"
    )
    # A volunteer without a name is "id N" to an organiser; someone who never consented has
    # nothing stored that could name them.
    assert Person(7, None, None, None, ()).needles() == ["id 7"]
    assert Person(8, None, None, None, (), consented=False).own_needles() == []
    # In a rendered message and inside JSON, escaped forms are found too.
    odd = _Masker(Person(6, "O'Neil", "Smith", None, ()).needles())
    assert odd.mask("Hi O&#x27;Neil Smith") == "Hi " + "•" * 17
    assert json.loads(odd.mask(json.dumps({"t": "Ms O'Neil Smith"}))) == {"t": "Ms " + "•" * 12}
    assert json.loads(odd.mask(json.dumps({"t": 'O"Neil Smith'}))) == {"t": 'O"Neil Smith'}
