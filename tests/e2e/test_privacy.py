"""What the bot says about personal data is what it does: the consent screen and the policy
name every kind of data a table holds, who sees what, and the retention term the daily purge
enforces; announcements are a separate yes; an organiser sees only their own no-shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from bot.emulator import Emulator
from bot.infra.clock import ManualClock
from bot.storage import audit as audit_repo
from bot.storage import outbox as outbox_repo
from bot.storage import users as users_repo
from bot.storage.tables import audit_log, metadata, opportunities, outbox, user_roles, users
from bot.ui.keyboards import OrganiserCb
from tests.conftest import Launch
from tests.e2e.test_journey import read_policy, say, tap
from tests.e2e.test_volunteer import create_opportunity, person
from tests.test_opportunities import new_opportunity

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
OPERATOR = {"operator_name": "АНО «Ресурсный центр Томска»", "operator_contact": "rc@example.org"}

# Every table, and the words the consent screen (first) and the policy (second) use for the
# personal data it holds. A new table fails `test_every_table_is_accounted_for` until it is
# described here and in both texts.
TABLE_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "users": (
        ("Telegram id", "name", "@username", "language", "region", "time zone"),
        ("Telegram id", "name", "username", "language", "region", "time zone"),
    ),
    "user_roles": (("role",), ("role",)),
    "ikigai_entries": (("ikigai",), ("ikigai",)),
    "user_topics": (("topics",), ("topics",)),
    "user_problems": (("problems",), ("problems",)),
    "user_crises": (("crisis reactions",), ("crisis reactions",)),
    "quiz_results": (("stage quiz",), ("stage quiz answers and results",)),
    "user_settings": (("notification settings",), ("notification settings",)),
    "grant_follows": (("grants you follow",), ("grants you follow",)),
    "article_log": (("articles you were sent or read",), ("articles you were sent or read",)),
    "signups": (
        ("sign-ups", "attendance marks", "ratings", "hours"),
        ("sign-ups", "attendance marks", "Will you come?", "ratings and comments", "hours"),
    ),
    "certificates": (("certificates",), ("certificates you downloaded",)),
    "volunteer_profiles": (
        ("skills", "free time"),
        ("skills", "free time", "how far you travel", "your town", "new opportunities"),
    ),
    "peer_profiles": (
        ("what you chose to show other activists",),
        ("what you chose to show other activists", "the peers suggested to you last"),
    ),
    "peer_blocks": (("people you blocked",), ("people you blocked or reported",)),
    "mentor_offers": (("your mentoring offer",), ("your mentoring offer",)),
    "introductions": (
        ("introductions", "mentorships"),
        ("introductions you asked for or answered", "mentorships with their check-in"),
    ),
    # Coordinators' own records: the policy names them (the consent screen is the activist's
    # and the volunteer's; a coordinator is appointed, and told).
    "local_measures": ((), ("measures",)),
    "grants": ((), ("grants",)),
    "articles": ((), ("articles",)),
    "opportunities": ((), ("opportunities with their contact",)),
    "broadcasts": ((), ("announcements",)),
    "audit_log": ((), ("log of their actions",)),
    "self_assessments": ((), ("log of their actions",)),
    "opportunity_changes": (("sign-ups",), ("sign-ups",)),
    # Not kinds of data but how the bot works: a conversation's step, messages on their way.
    "fsm_states": ((), ()),
    "plan_claims": ((), ()),  # the planner's pages of a tick: ranges of ids, erased with them
    "outbox": ((), ("messages queued for you",)),
    "erasures": ((), ()),  # a counter for the pseudonyms of deleted people, no one's data
    # Which message shows which opportunity (to update its free places): no one's data; who
    # posted into a group is the organiser's action, in audit_log.
    "posted_cards": ((), ("cards posted into groups and channels",)),
    # The groups and channels where the bot may post (offered to organisers): their titles,
    # not who added the bot; no one's data (the policy would overflow one message besides).
    "bot_chats": ((), ()),
    # The consultation desk: the asker's questions and their conversation; the work group is
    # the coordinators' setting, no one's data.
    "desk_questions": (("consultation questions",), ("consultation questions", "your rating")),
    "desk_messages": (("their answers",), ("their answers",)),
    "desk_group": ((), ()),
    # «Частые вопросы»: what the asker allowed, edited so that it names no one; who edited it is
    # the coordinator's action.
    "faq_entries": (("Frequent questions",), ("Frequent questions",)),
    # Outside experts are invited by a coordinator and consent on a screen of their own
    # (consent/expert.j2); the policy names their record and the invitations.
    "desk_experts": ((), ("outside experts", "kinds of questions they answer")),
    "desk_invites": ((), ("who invited them",)),
}


def test_every_table_is_accounted_for() -> None:
    assert {t.name for t in metadata.sorted_tables} == set(TABLE_WORDS)


def unnamed(text: str, which: int) -> list[tuple[str, str]]:
    """(table, word) pairs the consent screen (0) or the policy (1) does not say."""
    return [(t, w) for t, words in TABLE_WORDS.items() for w in words[which] if w not in text]


async def test_consent_and_policy_name_every_kind_of_data_and_the_term(
    emulator: Emulator, launch: Launch
) -> None:
    await launch(**OPERATOR)
    user = emulator.user(7101, first_name="Kate", language_code="en")
    await say(user, "/start")
    consent = await tap(user, "🚀 Start: my project")
    text = consent.text
    assert "Consent to personal data processing" in text
    assert unnamed(text, 0) == []
    assert "АНО «Ресурсный центр Томска»" in text
    assert "rc@example.org" in text
    assert "its organiser sees your name, @username and whether you came" in text
    assert "coordinators see anonymised statistics" in text
    assert "at most 2 years after your last action" in text
    assert "announcements" not in text  # asked on its own, after consent
    assert len(text) <= 4096

    text = await read_policy(user, "📄 Full privacy policy", consent)
    assert unnamed(text, 1) == []
    assert "at most 2 years after your last action" in text
    assert "is deleted after 3 days" in text
    assert "kept 30 days as a delivery record" in text
    assert "Roskomnadzor" in text
    assert "within 10 working days" in text
    assert "whose servers the operator does not control" in text
    assert "its organiser sees your name, @username" in text
    assert "only if you said yes" in text
    assert "only anonymised totals" not in text


# What a volunteer shares: the tables their path writes, as the volunteer's consent says them.
VOLUNTEER_WORDS: dict[str, tuple[str, ...]] = {
    "users": ("Telegram id", "name", "@username", "language", "region", "town", "time zone"),
    "user_roles": ("role",),
    "user_topics": ("topics",),
    "user_settings": ("notification settings",),
    "signups": ("sign-ups", "Will you come?", "attendance marks", "ratings", "hours"),
    "certificates": ("certificates",),
    "volunteer_profiles": ("skills", "free time", "how far you travel"),
}


async def test_the_volunteers_consent_names_what_they_share_who_sees_it_and_the_term(
    emulator: Emulator, launch: Launch
) -> None:
    running = await launch(**OPERATOR)
    user = emulator.user(7104, first_name="Vera", language_code="en")
    await say(user, "/start")
    consent = await tap(user, "🤝 I want to help")
    text = consent.text
    assert "Consent to personal data processing" in text
    assert [(t, w) for t, words in VOLUNTEER_WORDS.items() for w in words if w not in text] == []
    assert "АНО «Ресурсный центр Томска»" in text
    assert "rc@example.org" in text
    assert "its organiser sees your name, @username and whether you came" in text
    assert "coordinators see anonymised statistics" in text
    assert "at most 2 years after your last action" in text
    for activist_only in ("ikigai", "stage quiz", "crisis", "problems", "grants"):
        assert activist_only not in text
    assert consent.button_texts() == ["✅ I agree", "📄 Full privacy policy", "✖ I don't agree"]
    assert unnamed(await read_policy(user, "📄 Full privacy policy", consent), 1) == []
    # "I agree" on the policy's page is the volunteer's: the volunteer's way goes on.
    mailing = await tap(user, "✅ I agree")
    assert "Announcements from coordinators" in mailing.text
    place = await tap(user, "🔕 No, thanks", mailing)
    assert "Where are you?" in place.text
    async with running.app.engine.connect() as conn:
        roles = await conn.execute(select(user_roles.c.role).where(user_roles.c.user_id == 7104))
        assert set(roles.scalars()) == {"volunteer"}


async def test_the_russian_texts_say_the_same(emulator: Emulator, launch: Launch) -> None:
    await launch(retention_days=365, **OPERATOR)
    user = emulator.user(7102, first_name="Аня", language_code="ru")
    await say(user, "/start")
    consent = await tap(user, "🚀 Начать: мой проект")
    assert "через 1 год после вашего последнего действия" in consent.text
    assert "организатор видит ваше имя, @username и отметки о посещении" in consent.text
    policy = await read_policy(user, "📄 Политика полностью", consent)
    assert "Роскомнадзор" in policy
    await say(user, "/start")
    helping = await tap(user, "🤝 Хочу помогать")
    assert "через 1 год после вашего последнего действия" in helping.text
    assert "организатор видит ваше имя, @username и отметки о посещении" in helping.text
    assert "АНО «Ресурсный центр Томска»" in helping.text
    assert "через 3 дня" in policy
    assert "хранятся 30 дней" in policy


async def test_announcements_are_asked_after_consent_and_off_until_yes(
    emulator: Emulator, launch: Launch
) -> None:
    running = await launch(**OPERATOR)
    user = emulator.user(7103, first_name="Kate", language_code="en")
    await say(user, "/start")
    consent = await tap(user, "🚀 Start: my project")
    mailing = await tap(user, "✅ I agree", consent)
    assert "Announcements from coordinators" in mailing.text
    assert "separate consent" in mailing.text
    # Not answered yet: off, and the question comes back with the journey.
    pushes = await running.app.profiles.push_settings(7103)
    assert pushes.announcements is None
    assert not pushes.wants("announcements")
    await say(user, "/menu")
    again = await tap(user, "🚀 My project")
    assert "Announcements from coordinators" in again.text
    role = await tap(user, "🔕 No, thanks", again)
    assert "Who are you in Opora?" in role.text
    assert (await running.app.profiles.push_settings(7103)).announcements is False
    # /settings turns them on later.
    screen = await say(user, "/settings")
    assert "▫️ Announcements" in screen.text
    screen = await tap(user, "🔔 Turn on: Announcements", screen)
    assert "✅ Announcements" in screen.text
    assert (await running.app.profiles.push_settings(7103)).announcements is True


async def test_the_daily_purge_deletes_what_the_term_no_longer_covers(
    emulator: Emulator, launch: Launch
) -> None:
    clock = ManualClock(NOW - timedelta(days=30))
    running = await launch(clock=clock, tick_seconds=3600, retention_days=730, **OPERATOR)
    app = running.app
    app.ticker.stop()  # the test ticks itself, on the clock it moves
    await app.ticker.idle()
    old = NOW - timedelta(days=731)
    rows = [
        # (id, consented, last seen)
        (1, True, old),  # inactive for longer than the term: deleted
        (2, True, NOW - timedelta(days=700)),  # within the term: kept
        (3, False, NOW - timedelta(days=4)),  # /start without consent, days ago: deleted
        (4, False, NOW - timedelta(days=1)),  # /start without consent, yesterday: kept
        (5, False, NOW - timedelta(days=10)),  # appointed coordinator, not started: kept
    ]
    async with app.engine.begin() as conn:
        for uid, consented, seen in rows:
            await conn.execute(
                insert(users).values(
                    id=uid,
                    first_name=f"User {uid}",
                    consent_version="2026-12" if consented else None,
                    consent_at=old if consented else None,
                    blocked=False,
                    created_at=old,
                    updated_at=old,
                    last_seen_at=seen,
                )
            )
        await users_repo.grant_role(conn, 5, "coordinator", old, by=1)
        # The audit log names the two who go: a forged press of 3's, an action of 1's and
        # an export about 1 by someone who stays.
        await audit_repo.add_refusal(conn, 3, "denied", "admin", old, timedelta(hours=1))
        await audit_repo.add(conn, 1, "organiser.appoint", "2", {}, old)
        await audit_repo.add(conn, 2, "stats.export", "user:1", {"about": 1}, old)
        for uid, when, batch in ((2, old, None), (2, old, 9), (2, NOW, None)):
            await conn.execute(
                insert(outbox).values(
                    user_id=uid,
                    chat_id=uid,
                    kind="broadcast" if batch else "digest",
                    dedup_key=f"k:{uid}:{when.isoformat()}:{batch}",
                    payload='{"text": "Hello, User 2"}',
                    batch_id=batch,
                    status="sent",
                    not_before=when,
                    created_at=when,
                )
            )
    # The first tick of the day purges (the bot's clock says which day).
    clock.advance(timedelta(days=31))
    await app.tick()
    async with app.engine.connect() as conn:
        left = set((await conn.execute(select(users.c.id))).scalars())
        boxed = (
            await conn.execute(
                select(outbox.c.batch_id, outbox.c.payload).where(outbox.c.dedup_key.like("k:%"))
            )
        ).all()
        appointed = (await conn.execute(select(user_roles.c.user_id))).scalars().all()
        logged = (
            await conn.execute(
                select(audit_log.c.actor_id, audit_log.c.target, audit_log.c.details).order_by(
                    audit_log.c.id
                )
            )
        ).all()
    assert left == {2, 4, 5}
    assert appointed == [5]
    # The audit log keeps every action, and no id of theirs: each has a pseudonym.
    forged, appoint, export = [tuple(r) for r in logged]
    assert forged[0] < 0
    assert appoint == (appoint[0], "2", "{}")
    assert appoint[0] < 0
    assert appoint[0] != forged[0]
    assert export == (2, f"user:deleted-{-appoint[0]}", f'{{"about": "deleted-{-appoint[0]}"}}')
    assert sorted(boxed, key=str) == sorted(
        [(9, outbox_repo.EMPTY_PAYLOAD), (None, '{"text": "Hello, User 2"}')], key=str
    )

    # Later ticks of the same day leave the rest to tomorrow; tomorrow's purge takes user 4.
    clock.advance(timedelta(hours=1))
    assert await app.retention.tick() is None
    clock.advance(timedelta(days=2))
    purged = await app.retention.tick()
    assert purged is not None
    assert purged.users == 1
    async with app.engine.connect() as conn:
        left = set((await conn.execute(select(users.c.id))).scalars())
    assert left == {2, 5}


async def test_an_update_counts_as_the_last_action(emulator: Emulator, launch: Launch) -> None:
    clock = ManualClock(NOW)
    running = await launch(clock=clock, **OPERATOR)
    user = emulator.user(7104, first_name="Kate", language_code="en")
    await say(user, "/start")
    seen = await running.app.users.get(7104)
    assert seen is not None
    assert seen.last_seen_at == NOW
    clock.advance(timedelta(hours=5))  # within the day: not written again
    await say(user, "/help")
    assert (await running.app.users.get(7104)).last_seen_at == NOW  # type: ignore[union-attr]
    clock.advance(timedelta(days=1))
    await say(user, "/help")
    later = await running.app.users.get(7104)
    assert later is not None
    assert later.last_seen_at == NOW + timedelta(days=1, hours=5)


async def test_an_organiser_sees_no_shows_at_their_own_opportunities_only(
    emulator: Emulator, launch: Launch
) -> None:
    clock = ManualClock(NOW)
    app = (await launch(clock=clock, **OPERATOR)).app
    olga, ivan, volunteer = 7201, 7202, 7203
    async with app.engine.begin() as conn:
        for uid in (olga, ivan, volunteer):
            await users_repo.ensure(conn, uid, NOW)
    for uid in (olga, ivan, volunteer):
        await app.profiles.give_consent(uid, f"User {uid}", None, None)

    def on(day: int) -> dict[str, datetime]:
        return {
            "starts_at": NOW + timedelta(days=day),
            "ends_at": NOW + timedelta(days=day, hours=2),
        }

    ivans_first = await new_opportunity(app.volunteering, None, by=ivan, **on(1))
    ivans_second = await new_opportunity(app.volunteering, None, by=ivan, **on(3))
    olgas = await new_opportunity(app.volunteering, None, by=olga, **on(4))
    for opp in (ivans_first, ivans_second, olgas):
        assert await app.volunteering.sign_up(opp, volunteer) is not None
    clock.advance(timedelta(days=1, hours=1))
    assert await app.volunteering.mark(ivans_first, volunteer) is True  # came …
    assert await app.volunteering.mark(ivans_first, volunteer) is False  # … no: a no-show

    [at_ivans] = await app.volunteering.roster(ivans_second)
    [at_olgas] = await app.volunteering.roster(olgas)
    assert at_ivans.no_shows == 1  # Ivan marked it himself
    assert at_olgas.no_shows == 0  # what Ivan marked is not Olga's to see


async def test_a_contact_shown_to_everyone_needs_its_own_consent(
    emulator: Emulator, launch: Launch
) -> None:
    clock = ManualClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    app = (await launch(clock=clock, **OPERATOR)).app
    olga = await person(app, emulator, 7301, "Olga", "Europe/Moscow", "mow", role="coordinator")
    card = await create_opportunity(olga, title="Food bank shift", places="5")
    assert "+7 900 000-00-00" in card.text  # consented to in the form (create_opportunity)

    screen = await tap(olga, "✏️ Edit", card)
    screen = await tap(olga, "Contact", screen)
    assert "an organisation's contact is better" in screen.text
    screen = await say(olga, "@olga_private")
    assert "Everyone who opens this opportunity will see this contact" in screen.text
    assert "152-ФЗ, art. 10.1" in screen.text
    assert screen.button_texts() == [
        "✅ I agree: show it to everyone",
        "✏️ Another contact",
        "« Back",
    ]
    async with app.engine.connect() as conn:
        stored = (await conn.execute(select(opportunities.c.contact))).scalar_one()
    assert stored == "+7 900 000-00-00"  # nothing changes before the yes

    screen = await tap(olga, "✏️ Another contact", screen)
    assert "How do volunteers reach the organiser?" in screen.text
    screen = await say(olga, "rc@example.org")
    card = await tap(olga, "✅ I agree: show it to everyone", screen)
    assert "rc@example.org" in card.text
    async with app.engine.connect() as conn:
        stored = (await conn.execute(select(opportunities.c.contact))).scalar_one()
    assert stored == "rc@example.org"
    # A stale yes (the draft is gone) changes nothing.
    await olga.press_data(OrganiserCb(action="econsent", id=1).pack())
    async with app.engine.connect() as conn:
        stored = (await conn.execute(select(opportunities.c.contact))).scalar_one()
    assert stored == "rc@example.org"
