"""A coordinator's first day: told of the appointment with what they can now do, /start leads
with their menu, whose first-run checklist ticks off the region served, a first local measure,
a first opportunity, the invitation for activists (a deep link and a printable QR code) and the
charts."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import segno
from PIL import Image
from sqlalchemy import select

from bot.emulator import ChatMessage, EmulatedUser, Emulator
from bot.infra.clock import ManualClock
from bot.storage.tables import audit_log, local_measures, opportunities, users
from tests.conftest import Launch
from tests.e2e.test_journey import say, tap
from tests.e2e.test_volunteer import START as SHIFT
from tests.e2e.test_volunteer import TUESDAY, create_opportunity, person, tick

ADMIN = 7001
HELPER = 7002
START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


async def open_opportunities(user: EmulatedUser) -> ChatMessage:
    """/opportunities, past the digests and reminders a clock jump may bring."""
    user.skip_pending()
    await user.send("/opportunities")
    found = await user.messages_until(lambda m: "Opportunities for volunteers" in m.text)
    return found[-1]


async def press_on(user: EmulatedUser, label: str, message: ChatMessage) -> ChatMessage:
    """Press a button of `message`; the screen is that message, edited."""
    await user.press(label, message=message)
    return user.current(message)


def qr_matrix(png: bytes, modules: int) -> list[list[int]]:
    """The dark (1) and light (0) modules of a QR code drawn with a 4-module border."""
    image = Image.open(io.BytesIO(png))
    image.load()
    grey = image.convert("L")
    width, height = grey.size
    assert width == height
    scale = width / (modules + 8)
    assert scale == int(scale)  # whole pixels a module
    assert scale >= 8  # big enough to print
    step = int(scale)

    def dark(x: int, y: int) -> int:
        level = grey.getpixel(((x + 4) * step + step // 2, (y + 4) * step + step // 2))
        assert isinstance(level, int)
        return 1 if level < 128 else 0

    return [[dark(x, y) for x in range(modules)] for y in range(modules)]


async def test_a_new_coordinator_is_told_and_starts_at_their_menu(
    emulator: Emulator, launch: Launch
) -> None:
    running = await launch(admin_ids=str(ADMIN))
    admin = emulator.user(ADMIN, first_name="Админ", language_code="ru")
    helper = emulator.user(HELPER, first_name="Мария", language_code="ru")
    await say(helper, "/start")  # started, never consented: the bot stores no name

    await say(admin, "/coordinators")
    await tap(admin, "➕ Добавить координатора")
    admin.skip_pending()
    await admin.send(str(HELPER))
    done = await admin.messages_until(lambda m: "Координаторы" in m.text)
    assert any("Мария (id 7002) теперь координатор" in m.text for m in done)

    [notice] = await helper.messages_until(lambda m: "координатор «Опоры»" in m.text)
    assert "Теперь вы координатор «Опоры»" in notice.text
    assert "отправлять объявления" in notice.text
    assert "/start" in notice.text
    assert notice.button_texts() == ["🛠 Открыть меню координатора"]
    menu = await tap(helper, "🛠 Открыть меню координатора", notice)
    assert "🛠 Координатору" in menu.text
    assert "Первые шаги" in menu.text
    assert "▫️ Регион, который вы обслуживаете" in menu.text

    start = await say(helper, "/start")
    assert start.text == menu.text  # their tools lead, the checklist with them
    assert "📣 Рассылка" in start.button_texts()
    assert "☰ Меню" in start.button_texts()  # the main menu is one tap away

    admin_start = await say(admin, "/start")  # an admin has the coordinator's tools too
    assert "🛠 Координатору" in admin_start.text
    assert "📣 Рассылка" in admin_start.button_texts()

    # /stats counts them though they never consented.
    helper.skip_pending()
    await helper.send("/stats")
    summary = (await helper.messages_until(lambda m: "в цифрах" in m.text, timeout=20))[-1]
    assert "1 координатор" in summary.text
    async with running.app.engine.connect() as conn:
        stored = await conn.execute(select(users.c.first_name).where(users.c.id == HELPER))
        assert stored.scalar_one() is None  # the name was shown, not stored
    assert emulator.rejections() == []


async def test_appointing_twice_tells_once(emulator: Emulator, launch: Launch) -> None:
    running = await launch(admin_ids=str(ADMIN))
    helper = emulator.user(HELPER, first_name="Мария", language_code="ru")
    await say(helper, "/start")
    coordination = running.app.dp["coordination"]
    await coordination.appoint(ADMIN, HELPER)
    await coordination.appoint(ADMIN, HELPER)
    running.app.sender.wake()
    await helper.messages_until(lambda m: "координатор «Опоры»" in m.text)
    await helper.no_message(within=0.5)


async def test_the_first_steps_tick_off_one_by_one(emulator: Emulator, launch: Launch) -> None:
    clock = ManualClock(START)
    running = await launch(clock=clock, admin_ids=str(ADMIN))
    app = running.app
    helper = emulator.user(HELPER, first_name="Мария", language_code="ru")
    await say(helper, "/start")
    await app.dp["coordination"].appoint(ADMIN, HELPER)

    menu = await say(helper, "/coordinator")
    steps = [line for line in menu.text.splitlines() if line[:2] in {"✅ ", "▫️"}]
    assert len(steps) == 5
    assert all(line.startswith("▫️") for line in steps)

    # The region served: a federal district, then a region (region first, as on the place
    # screen); the menu comes back with it ticked.
    place = await tap(helper, "📍 Мой регион", menu)
    assert "Регион, который вы обслуживаете" in place.text
    regions = await tap(helper, "Сибирский", place)
    assert "Томская область" in regions.button_texts()
    menu = await tap(helper, "Томская область", regions)
    assert "✅ Регион, который вы обслуживаете: Томская область" in menu.text

    # The invitation: a deep link and a QR code of it, as a PNG file to print.
    helper.skip_pending()
    await helper.press("📨 Пригласить активистов", message=menu)
    file = await helper.next_message(timeout=10)
    assert file.kind == "document"
    assert file.file_name == "opora-invitation.png"
    link = f"https://t.me/opora_test_bot?start=coord_{HELPER}"
    assert link in (file.text or "")
    assert file.document is not None
    assert file.document.startswith(b"\x89PNG\r\n\x1a\n")
    code = segno.make_qr(link, error="m", boost_error=False)
    modules = int(code.symbol_size(scale=1, border=0)[0])
    assert qr_matrix(file.document, modules) == [list(row) for row in code.matrix]
    menu = await helper.next_message(timeout=5)  # the menu again, under the file
    assert "✅ Приглашение для активистов" in menu.text

    # What they published and the charts.
    async with app.engine.begin() as conn:
        await conn.execute(
            local_measures.insert().values(
                title="Консультации юриста",
                description="По вторникам",
                type="consulting",
                created_by=HELPER,
                created_at=START,
            )
        )
        await conn.execute(
            opportunities.insert().values(
                title="Субботник",
                description="Уборка парка",
                topic="ecology",
                timezone="Asia/Tomsk",
                starts_at=START + timedelta(days=3),
                ends_at=START + timedelta(days=3, hours=2),
                created_by=HELPER,
                created_at=START,
                updated_at=START,
            )
        )
    menu = await say(helper, "/coordinator")
    assert "✅ Ваша первая местная мера поддержки" in menu.text
    assert "✅ Ваше первое дело для добровольцев" in menu.text
    assert "▫️ Графики по территории" in menu.text
    helper.skip_pending()
    await helper.send("/stats")
    await helper.messages_until(lambda m: "в цифрах" in m.text, timeout=20)
    done = await say(helper, "/coordinator")
    assert "Первые шаги" not in done.text  # all done: the checklist steps aside
    assert "📨 Пригласить активистов" in done.button_texts()  # the invitation stays at hand
    again = await say(helper, "/invite")  # and a command away, on a desktop
    assert again.kind == "document"
    assert again.document == file.document
    async with app.engine.connect() as conn:
        actions = (await conn.execute(select(audit_log.c.action))).scalars().all()
    assert "coordinator.region" in actions
    assert "invite.made" in actions


async def test_a_draft_is_changed_before_it_is_published(
    emulator: Emulator, launch: Launch
) -> None:
    clock = ManualClock(TUESDAY)
    app = (await launch(clock=clock)).app
    organiser = await person(
        app, emulator, 9100, "Olga", "Europe/Moscow", "mow", role="coordinator"
    )
    await say(organiser, "/opportunities")
    await tap(organiser, "➕ New opportunity")
    await say(organiser, "Food bank shift")
    await say(organiser, "Sort and pack food parcels for families.")
    await tap(organiser, "Social services")
    await say(organiser, "ул. Ленина, 1, Москва")
    await say(organiser, "05.12.2026 13:00")
    await say(organiser, "16:00")
    await say(organiser, "2")
    await tap(organiser, "A day before")
    preview = await tap(organiser, "Skip")
    assert "Check and publish" in preview.text
    assert preview.button_texts() == ["✅ Publish", "✏️ Change something", "✖ Discard"]

    # The title: the question, « Back to the preview, and the new answer in it.
    fields = await tap(organiser, "✏️ Change something", preview)
    assert "Change the draft" in fields.text
    assert "Title" in fields.button_texts()
    assert "Contact" in fields.button_texts()
    asked = await tap(organiser, "Title", fields)
    assert "What is it called?" in asked.text
    assert "step" not in asked.text  # not the form's step count: one answer only
    assert asked.button_texts() == ["« Back"]
    preview = await say(organiser, "Food bank: the evening shift")
    assert "Check and publish" in preview.text
    assert "Food bank: the evening shift" in preview.text

    # A later start moves the end and the sign-up cutoff with it.
    await tap(organiser, "✏️ Change something", preview)
    await tap(organiser, "Start")
    preview = await say(organiser, "06.12.2026 18:00")
    assert "06.12.2026 18:00–21:00 (MSK)" in preview.text
    assert "until 05.12.2026 18:00" in preview.text

    # A button answer, then a change abandoned with « Back.
    await tap(organiser, "✏️ Change something", preview)
    await tap(organiser, "Places")
    preview = await tap(organiser, "No limit")
    assert "No limit of places" in preview.text
    await tap(organiser, "✏️ Change something", preview)
    asked = await tap(organiser, "Description")
    back = await tap(organiser, "« Back", asked)
    assert back.text == preview.text

    card = await tap(organiser, "✅ Publish", back)
    assert "Food bank: the evening shift" in card.text
    assert "✅ open" in card.text
    assert "No limit of places" in card.text
    assert emulator.rejections() == []


async def test_a_finished_opportunity_says_so_and_stays_in_the_past_list(
    emulator: Emulator, launch: Launch
) -> None:
    clock = ManualClock(TUESDAY)
    app = (await launch(clock=clock, tick_seconds=3600)).app
    organiser = await person(
        app, emulator, 9100, "Olga", "Europe/Moscow", "mow", role="coordinator"
    )
    await create_opportunity(organiser, title="Food bank shift", places="2")
    for uid, name in ((9101, "Anna"), (9102, "Boris")):
        volunteer = await person(app, emulator, uid, name, "Europe/Moscow", "mow")
        card = await say(volunteer, "/start opp_1")
        await volunteer.press("✅ Sign up", message=card)

    await tick(app, clock, SHIFT + timedelta(hours=4))  # the shift ended at 16:00
    listed = await open_opportunities(organiser)
    [item] = [b for b in listed.button_texts() if "Food bank shift" in b]
    assert item.startswith("🏁 ")
    card = await press_on(organiser, item, listed)
    assert "🏁 over" in card.text
    assert "This opportunity is over." in card.text
    assert "✅ Came: 0 · 2 volunteers signed up" in card.text
    assert "Share this link" not in card.text
    assert "✏️ Edit" not in card.button_texts()
    assert "⏸ Close the sign-up" not in card.button_texts()
    people = await press_on(organiser, "👥 Participants", card)
    first = next(b for b in people.button_texts() if b.startswith("⬜ 1."))
    await press_on(organiser, first, people)

    # A week and more later it has left the list, and the past list keeps it.
    await tick(app, clock, SHIFT + timedelta(days=10))
    listed = await open_opportunities(organiser)
    assert not any("Food bank shift" in b for b in listed.button_texts())
    past = await press_on(organiser, "🏁 Past opportunities", listed)
    assert "1 opportunity is over" in past.text
    [item] = [b for b in past.button_texts() if "Food bank shift" in b]
    assert item == "🏁 05.12.26 · Food bank shift · ✅ 1/2"
    card = await press_on(organiser, item, past)
    assert "✅ Came: 1 · 2 volunteers signed up" in card.text
    again = await press_on(organiser, "« Back", card)
    assert "Past opportunities" in again.text
    assert emulator.rejections() == []
