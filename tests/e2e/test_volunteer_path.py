"""The volunteer's own path end to end through the emulator: /start offers “I want to help”,
the volunteer's consent, region and town, topics, skills, time and reach, then the
opportunities that fit — or, with none, the offer to be told, and the push the moment a
fitting one is published; the volunteer's menu and profile; one person both volunteer and
activist; /volunteer typed by a newcomer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.app import App
from bot.emulator import EmulatedUser, Emulator
from bot.infra.clock import ManualClock
from bot.storage.tables import outbox, signups
from tests.conftest import Launch
from tests.e2e.test_journey import current, say, tap
from tests.test_opportunities import new_opportunity

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # Monday
SATURDAY = datetime(2026, 12, 12, 5, 0, tzinfo=UTC)  # 12:00 in Tomsk
OPERATOR = {"operator_name": "АНО «Ресурсный центр Томска»", "operator_contact": "rc@example.org"}


async def onboard(user: EmulatedUser, *, reach: str = "🏠 Within my town") -> str:
    """From /start to the end of the volunteer's setup in Tomsk Oblast; returns the last
    screen's text. Every step asserts what the volunteer sees."""
    start = await say(user, "/start")
    assert "those who want to help them" in start.text
    assert start.button_texts()[:2] == ["🚀 Start: my project", "🤝 I want to help"]
    consent = await tap(user, "🤝 I want to help")
    assert "To offer you opportunities to help, Opora stores:" in consent.text
    assert "ikigai" not in consent.text
    assert "stage quiz" not in consent.text
    mailing = await tap(user, "✅ I agree", consent)
    assert "Announcements from coordinators" in mailing.text
    zones = await tap(user, "🔕 No, thanks", mailing)
    assert "Where are you?" in zones.text
    regions = await tap(user, "Siberian", zones)
    topics = await tap(user, "Tomsk Oblast", regions)
    assert topics.message_id == zones.message_id  # one message, edited step by step
    assert "What do you care about?" in topics.text
    assert "step 1 of 4" in topics.text
    assert "Ikigai" not in topics.text
    assert len([b for b in topics.button_texts() if b.startswith("▫️ ")]) == 10
    topics = await tap(user, "▫️ Culture and outreach", topics)
    assert "✅ Culture and outreach" in topics.button_texts()
    skills = await tap(user, "Next ▶", topics)
    assert "What can you do?" in skills.text
    assert skills.message_id == topics.message_id
    when = await say(user, "photography, driving")
    assert "When are you free?" in when.text
    when = await tap(user, "▫️ Weekends", when)
    assert "✅ Weekends" in when.button_texts()
    far = await tap(user, "Next ▶", when)
    assert "How far will you travel?" in far.text
    assert far.button_texts() == [
        "💻 Only online",
        "🏠 Within my town",
        "🚌 Anywhere in my region",
        "🚆 Other regions too",
    ]
    screen = await tap(user, reach, far)
    if reach == "🏠 Within my town":
        assert "Which town?" in screen.text
        assert "Tomsk Oblast is large" in screen.text
        screen = await say(user, "Томск")
    return screen.text


async def test_a_volunteer_is_told_nothing_fits_and_then_pushed_the_new_one(
    emulator: Emulator, launch: Launch
) -> None:
    clock = ManualClock(NOW)
    app = (await launch(clock=clock, **OPERATOR)).app
    user = emulator.user(8101, first_name="Vera", username="vera", language_code="en")
    text = await onboard(user)
    assert "No opportunity fits you yet" in text
    assert "Shall we tell you the moment a fitting one appears?" in text
    found = current(user)
    assert found.button_texts() == ["🔔 Yes, tell me", "🙋 All opportunities", "☰ Menu"]
    told = await tap(user, "🔔 Yes, tell me", found)
    assert told.message_id == found.message_id
    assert "We will write to you the moment a fitting one is published." in told.text
    assert "🔔 Yes, tell me" not in told.button_texts()

    # Another volunteer helps only online: an event in Tomsk is not for them.
    other = emulator.user(8102, first_name="Oleg", language_code="en")
    await onboard(other, reach="💻 Only online")
    await tap(other, "🔔 Yes, tell me")

    # Elsewhere in the oblast, or on a weekday: not a fit for Vera either.
    await new_opportunity(
        app.volunteering, None, region="tom", timezone="Asia/Tomsk", place="Северск, ул. Мира, 1",
        starts_at=SATURDAY, ends_at=SATURDAY + timedelta(hours=3),
    )  # fmt: skip
    await new_opportunity(
        app.volunteering, None, region="tom", timezone="Asia/Tomsk", place="Томск, пр. Ленина, 1",
        starts_at=SATURDAY - timedelta(days=3), ends_at=SATURDAY - timedelta(days=3, hours=-3),
    )  # fmt: skip
    fitting = await new_opportunity(
        app.volunteering, None, title="Фотосъёмка праздника", region="tom",
        timezone="Asia/Tomsk", place="Томск, пр. Ленина, 1",
        starts_at=SATURDAY, ends_at=SATURDAY + timedelta(hours=3),
    )  # fmt: skip
    app.sender.wake()
    push = (await user.messages_until(lambda m: "A new opportunity" in m.text, timeout=10))[-1]
    assert "A new opportunity that fits you — you asked to be told." in push.text
    assert "Фотосъёмка праздника" in push.text
    assert "🙋 Open the opportunity" in push.button_texts()
    card = await tap(user, "🙋 Open the opportunity", push)
    assert "Фотосъёмка праздника" in card.text
    async with app.engine.connect() as conn:
        rows = await conn.execute(select(outbox.c.user_id, outbox.c.dedup_key))
        keys = {(int(u), str(k)) for u, k in rows.all()}
    assert (8101, f"opp_new:{fitting}:8101") in keys
    assert not any(u == 8102 and k.startswith("opp_new:") for u, k in keys)
    assert not any(k.startswith(f"opp_new:{fitting - 1}:") for _, k in keys)  # a weekday
    assert not any(k.startswith(f"opp_new:{fitting - 2}:") for _, k in keys)  # Северск


async def test_what_fits_is_shown_at_once_and_the_menu_and_profile_are_a_volunteers(
    emulator: Emulator, launch: Launch
) -> None:
    clock = ManualClock(NOW)
    app = (await launch(clock=clock)).app
    came = await new_opportunity(
        app.volunteering, None, title="Субботник", region="tom", timezone="Asia/Tomsk",
        place="Томск", starts_at=NOW + timedelta(hours=1), ends_at=NOW + timedelta(hours=3),
    )  # fmt: skip
    photo = await new_opportunity(
        app.volunteering, None, title="Фотосъёмка праздника", region="tom",
        timezone="Asia/Tomsk", place="Томск, пр. Ленина, 1",
        starts_at=SATURDAY, ends_at=SATURDAY + timedelta(hours=3),
    )  # fmt: skip
    user = emulator.user(8103, first_name="Ira", username="ira", language_code="en")
    text = await onboard(user)
    assert "1 opportunity fits you now" in text
    found = current(user)
    assert any("Фотосъёмка праздника" in b for b in found.button_texts())
    assert "🔔 Yes, tell me" not in found.button_texts()

    # The menu leads with opportunities and sign-ups; no "My project" on top.
    menu = await say(user, "/menu")
    assert menu.button_texts()[:5] == [
        "🙋 Opportunities",
        "✅ My sign-ups",
        "👤 Profile",
        "💬 Ask a question",
        "🚀 I have a project of my own too",
    ]
    screen = await tap(user, "🙋 Opportunities", menu)
    assert "Volunteering" in screen.text

    # Two hours at the clean-up, marked by the organiser.
    await app.volunteering.sign_up(came, 8103)
    async with app.engine.begin() as conn:
        await conn.execute(update(signups).where(signups.c.user_id == 8103).values(attended=True))
    clock.offset += timedelta(days=1)
    profile = await say(user, "/profile")
    assert "volunteer" in profile.text
    assert "Tomsk Oblast, Томск" in profile.text
    assert "Culture and outreach" in profile.text
    assert "Skills: photography, driving" in profile.text
    assert "When I can help: weekends" in profile.text
    assert "How far I travel: within my town" in profile.text
    assert "1 event attended · ⏱ 2 h" in profile.text
    assert "Субботник" in profile.text
    assert "Stage quiz" not in " ".join(profile.button_texts())
    assert "stage quiz" not in profile.text
    skills = await tap(user, "🛠 Skills and time", profile)
    assert "photography" in skills.text
    assert "🌱 Take them from my ikigai" not in skills.button_texts()  # no ikigai to take
    await app.volunteering.sign_up(photo, 8103)
    mine = await say(user, "/menu")
    signed = await tap(user, "✅ My sign-ups", mine)
    assert any("Фотосъёмка праздника" in b for b in signed.button_texts())


async def test_a_volunteer_with_a_project_of_their_own_is_both(
    emulator: Emulator, launch: Launch
) -> None:
    app = (await launch(clock=ManualClock(NOW))).app
    user = emulator.user(8104, first_name="Lev", language_code="en")
    await onboard(user, reach="🚌 Anywhere in my region")
    menu = await say(user, "/menu")
    ikigai = await tap(user, "🚀 I have a project of my own too", menu)
    assert "Ikigai" in ikigai.text or "ikigai" in ikigai.text
    roles = (await app.users.get(8104)).roles  # type: ignore[union-attr]
    assert {"activist", "volunteer"} <= roles
    menu = await say(user, "/menu")
    assert "🚀 My project" in menu.button_texts()
    assert "🙋 Volunteering" in menu.button_texts()
    # What the volunteer told stays.
    profile = await app.volunteering.volunteer_profile(8104)
    assert profile.skills == ("photography", "driving")
    assert profile.reach == "region"
    screen = await tap(user, "🙋 Volunteering", menu)
    assert "Volunteering" in screen.text
    await say(user, "/start")  # leaves the ikigai's typing prompt
    screen = await say(user, "/profile")
    skills = await tap(user, "🛠 Skills and time", screen)
    assert "photography" in skills.text


async def test_volunteer_typed_by_a_newcomer_leads_to_the_volunteers_path(
    emulator: Emulator, launch: Launch
) -> None:
    await launch()
    user = emulator.user(8105, first_name="Таня", language_code="ru")
    consent = await say(user, "/volunteer")
    assert "Чтобы предлагать вам дела, «Опора» хранит:" in consent.text
    assert "икигай" not in consent.text
    mailing = await tap(user, "✅ Даю согласие", consent)
    assert "Объявления координаторов" in mailing.text
    zones = await tap(user, "🔕 Нет, спасибо", mailing)
    regions = await tap(user, "Центральный", zones)
    topics = await tap(user, "Москва", regions)
    assert "Что вам близко?" in topics.text
    assert "Икигай" not in topics.text


async def test_an_activist_who_wants_to_help_keeps_the_project(
    emulator: Emulator, launch: Launch
) -> None:
    running = await launch()
    app: App = running.app
    user = emulator.user(8106, first_name="Max", language_code="en")
    await say(user, "/start")
    await app.profiles.give_consent(8106, "Max", None, None)
    await app.users.set_locale(8106, "en")
    await app.profiles.set_role(8106, "activist")
    await app.profiles.set_place(8106, "Europe/Moscow", "mow")
    menu = await say(user, "/menu")
    assert "🤝 I want to help" in menu.button_texts()
    topics = await tap(user, "🤝 I want to help", menu)
    assert "What do you care about?" in topics.text
    roles = (await app.users.get(8106)).roles  # type: ignore[union-attr]
    assert {"activist", "volunteer"} <= roles


async def test_a_volunteers_digest_carries_opportunities_not_grants_unless_they_run_a_project(
    emulator: Emulator, launch: Launch
) -> None:
    thursday = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    clock = ManualClock(thursday)
    app = (await launch(clock=clock, tick_seconds=3600)).app
    people = {}
    for uid, roles in ((8201, ("volunteer",)), (8202, ("volunteer", "activist"))):
        people[uid] = emulator.user(uid, language_code="en")
        await people[uid].send("/start")
        await people[uid].next_message(timeout=5)
        await app.profiles.give_consent(uid, f"User {uid}", None, None)
        await app.users.set_locale(uid, "en")
        for role in roles:
            await app.profiles.add_role(uid, role)
        await app.profiles.set_place(uid, "Europe/Moscow", "mow")
    monday = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # 10:00 in Moscow
    await new_opportunity(
        app.volunteering, None, title="Уборка парка", starts_at=monday + timedelta(days=5),
        ends_at=monday + timedelta(days=5, hours=2),
    )  # fmt: skip
    clock.offset += monday - clock.now()
    await app.tick()
    app.sender.wake()
    only = (await people[8201].messages_until(lambda m: "digest" in m.text, timeout=10))[-1]
    assert "Opportunities to help" in only.text
    assert "Уборка парка" in only.text
    assert "Grants" not in only.text
    assert "To read this week" not in only.text
    both = (await people[8202].messages_until(lambda m: "digest" in m.text, timeout=10))[-1]
    assert "Opportunities to help" in both.text
    assert "Grants" in both.text  # they run a project too


async def test_choosing_volunteer_on_the_role_screen_skips_the_projects_ikigai(
    emulator: Emulator, launch: Launch
) -> None:
    await launch()
    user = emulator.user(8108, first_name="Nina", language_code="en")
    await say(user, "/start")
    consent = await tap(user, "🚀 Start: my project")
    mailing = await tap(user, "✅ I agree", consent)
    role = await tap(user, "🔕 No, thanks", mailing)
    zones = await tap(user, "🤝 Volunteer: I want to help", role)
    regions = await tap(user, "Central", zones)
    topics = await tap(user, "Moscow", regions)
    assert "What do you care about?" in topics.text
    assert "Ikigai" not in topics.text
    skills = await tap(user, "Next ▶", topics)
    time = await tap(user, "Skip ▶", skills)
    assert "When are you free?" in time.text
    reach = await tap(user, "Next ▶", time)
    found = await tap(user, "🏠 Within my town", reach)  # Moscow is one city: no town asked
    assert "Your profile is ready" in found.text


async def test_my_data_names_what_the_volunteers_setup_stored(
    emulator: Emulator, launch: Launch
) -> None:
    await launch(clock=ManualClock(NOW), **OPERATOR)
    user = emulator.user(8120, first_name="Ira", username="ira", language_code="en")
    await onboard(user)
    shown = await say(user, "/my_data")
    assert "What I can do: photography; driving" in shown.text
    assert "When I can help: weekends" in shown.text
    assert "How far I travel: within my town · town: Томск" in shown.text
    assert "Tell me when a fitting opportunity appears: " in shown.text
