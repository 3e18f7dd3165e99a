"""/grants, /articles and /calendar through the emulator: fitting windows with days left,
follow, a calendar file with the right instant, read marks."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar

from bot.emulator import Emulator
from bot.infra.clock import ManualClock
from tests.conftest import Launch
from tests.e2e.test_journey import say, tap
from tests.e2e.test_pushes import onboard

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)  # 15:00 in Kamchatka


async def test_grants_follow_and_calendar(emulator: Emulator, launch: Launch) -> None:
    clock = ManualClock(NOW)
    running = await launch(clock=clock, tick_seconds=3600)
    user = await onboard(running.app, emulator, 6001, "Asia/Kamchatka", "kam")

    listing = await say(user, "/grants")
    assert "Гранты: приём идёт или скоро" in listing.text
    assert "Подобрано под ваш этап, темы и регион" in listing.text
    # The culture fund's window closes on 2 Dec 23:59 Moscow time = 3 Dec 08:59 in Kamchatka.
    title = "Конкурс Президентского фонда культурных инициатив"
    assert f"{title}\nдо 03.12.2026 · осталось дней: 4" in listing.text
    assert "Москва – добрый город" not in listing.text  # a Moscow-only programme
    card = await tap(user, title)
    assert "Срок подачи: 03.12.2026 08:59 по вашему времени" in card.text
    assert "Кто может подать" in card.text
    card = await tap(user, "🔔 Следить за сроками")
    assert "🔕 Не следить" in card.button_texts()
    assert "напоминания придут за 14, 3, 1 дн." in card.text

    user.skip_pending()
    await user.press("📅 В календарь")
    document = await user.next_message(timeout=5)
    assert document.file_name == "culture_initiatives_fund.ics"
    assert document.document is not None
    calendar = Calendar.from_ical(document.document)
    [event] = list(calendar.walk("VEVENT"))
    start = event.decoded("DTSTART")
    assert start.astimezone(UTC) == datetime(2026, 12, 2, 20, 59, 59, tzinfo=UTC)
    assert list(event.walk("VALARM"))

    # /calendar: every followed deadline in one file.
    await running.app.catalogs.toggle_follow(6001, "potanin_foundation")
    user.skip_pending()
    await user.send("/calendar")
    document = await user.next_message(timeout=5)
    assert document.file_name == "opora-deadlines.ics"
    assert document.document is not None
    events = list(Calendar.from_ical(document.document).walk("VEVENT"))
    assert len(events) == 2
    assert emulator.rejections() == []


async def test_calendar_with_nothing_followed(emulator: Emulator, launch: Launch) -> None:
    running = await launch()
    user = await onboard(running.app, emulator, 6002, "Europe/Moscow", "mow")
    reply = await say(user, "/calendar")
    assert "Вы пока не следите ни за одним грантом" in reply.text


async def test_articles_are_matched_and_marked_read(emulator: Emulator, launch: Launch) -> None:
    running = await launch()
    user = await onboard(running.app, emulator, 6003, "Europe/Moscow", "mow")
    listing = await say(user, "/articles")
    assert "Прочитано: 0 из" in listing.text
    first = next(b for b in listing.button_texts() if b.startswith("📖 "))
    card = await tap(user, first)
    assert card.buttons[0][0].url is not None
    assert card.buttons[0][0].url.startswith("https://")
    listing = await tap(user, "« К списку")
    assert "Прочитано: 1 из" in listing.text
    assert first not in listing.button_texts()  # read ones go after the unread
    while "▶" in listing.button_texts():
        listing = await tap(user, "▶")
    assert "✓ " + first.removeprefix("📖 ") in listing.button_texts()
    assert emulator.rejections() == []


async def test_grants_are_public_but_following_needs_consent(
    emulator: Emulator, launch: Launch
) -> None:
    await launch()
    user = emulator.user(6004, language_code="ru")
    listing = await say(user, "/grants")
    assert "Все программы" in listing.text
    first = listing.button_texts()[0]
    await tap(user, first)
    user.skip_pending()
    await user.press("🔔 Следить за сроками")
    refusal = await user.next_message(timeout=5)
    assert "нужно согласие" in refusal.text
