"""/grants, /articles and /calendar through the emulator: fitting windows with days left,
follow, a calendar file with the right instant, read marks."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from icalendar import Calendar

from bot.domain import grants as rules
from bot.emulator import Emulator
from bot.infra.clock import ManualClock
from tests.conftest import Launch
from tests.e2e.test_content_admin import all_pages
from tests.e2e.test_journey import current, say, tap
from tests.e2e.test_pushes import onboard

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)  # 15:00 in Kamchatka


async def test_grants_follow_and_calendar(emulator: Emulator, launch: Launch) -> None:
    clock = ManualClock(NOW)
    running = await launch(clock=clock, tick_seconds=3600)
    user = await onboard(running.app, emulator, 6001, "Asia/Kamchatka", "kam")

    listing = await say(user, "/grants")
    heading = "💰 Гранты и конкурсы\nПодобрано под ваш этап, темы и регион.\nстр. 1 из"
    assert heading in listing.text
    # The culture fund's usual window closes on 2 Dec 23:59 Moscow time = 3 Dec 08:59 in
    # Kamchatka: the organiser's date first, never a day later; its dates are inferred from
    # past years, so they read as expected.
    title = "Конкурс Президентского фонда культурных инициатив"
    assert (
        f"{title}\n🟢 приём открыт · обычно до ≈ 02.12.2026 МСК (у вас 03.12), "
        "по прошлым годам — проверьте на сайте"
    ) in listing.text
    assert "добрый город" not in listing.text  # a Moscow-only programme
    card = await tap(user, title)
    assert "Обычный срок подачи: ≈ 02.12.2026 МСК (у вас 03.12), по прошлым годам." in card.text
    assert "Срок подачи: 02.12" not in card.text  # never an exact deadline
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
    # An expected deadline is a tentative event that says so.
    assert str(event["STATUS"]) == "TENTATIVE"
    assert str(event["SUMMARY"]) == f"≈ {title}"
    assert str(event["DESCRIPTION"]).startswith("≈ Обычный срок, по прошлым годам")

    # /calendar: every followed deadline in one file; a grant with no known dates has none.
    await running.app.catalogs.toggle_follow(6001, "presidential_grants")
    await running.app.catalogs.toggle_follow(6001, "potanin_foundation")
    user.skip_pending()
    await user.send("/calendar")
    document = await user.next_message(timeout=5)
    assert document.file_name == "opora-deadlines.ics"
    assert document.document is not None
    events = list(Calendar.from_ical(document.document).walk("VEVENT"))
    assert sorted(str(e["SUMMARY"]) for e in events) == [
        "≈ Конкурс Президентского фонда культурных инициатив",
        "≈ Конкурс Фонда президентских грантов",
    ]  # both usual dates, by past years
    assert {str(e["STATUS"]) for e in events} == {"TENTATIVE"}
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
    read = re.search(r"Прочитано: 0 из (\d+) (статьи|статей)\.", listing.text)
    assert read is not None, listing.text
    total = int(read.group(1))  # «из 21 статьи», «из 12 статей»
    assert read.group(2) == ("статьи" if total % 10 == 1 and total % 100 != 11 else "статей")
    first = next(b for b in listing.button_texts() if b.startswith("📖 "))
    card = await tap(user, first)
    article = next(
        a for a in running.app.catalog.articles if a.title.ru == first.removeprefix("📖 ")
    )
    # Our own summary says so, and its button names the site it leads to.
    assert f"Кратко от «Опоры» по материалам {article.source}" in card.text
    assert card.buttons[0][0].text == f"🔗 {article.source}"
    assert card.buttons[0][0].url == article.link
    listing = await tap(user, "« К списку")
    assert f"Прочитано: 1 из {total} {read.group(2)}." in listing.text
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


STATUS_ICONS = ("🟢 ", "🟡 ", "⚪ ", "❔ ")


@pytest.mark.parametrize(
    "today",
    [
        datetime(2026, 12, 7, 9, 0, tzinfo=UTC),
        datetime(2027, 2, 1, 9, 0, tzinfo=UTC),
        datetime(2027, 7, 15, 9, 0, tzinfo=UTC),
    ],
    ids=["7-december", "1-february", "15-july"],
)
async def test_every_fitting_programme_is_listed_with_its_status_in_any_month(
    emulator: Emulator, launch: Launch, today: datetime
) -> None:
    """Whatever the month: every programme that fits the project is in /grants with one of
    the four statuses — those without dates too — and the filter leaves only the open ones."""
    running = await launch(clock=ManualClock(today))
    user = await onboard(running.app, emulator, 6010, "Europe/Moscow", "mow")
    catalog = running.app.catalog
    phase = next(s.phase for s in catalog.stages if s.number == 4)
    fitting = [
        g.title.get("ru")
        for g in catalog.grants
        if rules.fits(
            grant_topics=g.topics, grant_phases=g.phases, grant_region=g.region,
            phase=phase, topics=(), region="mow",
        )
    ]  # fmt: skip
    assert len(fitting) > 10
    listing = await say(user, "/grants")
    assert f"всего {len(fitting)}" in listing.text
    pages = await all_pages(user, listing)
    lines = pages.splitlines()
    statuses = {}
    for title in fitting:
        assert title in lines, title
        status = lines[lines.index(title) + 1]
        assert status.startswith(STATUS_ICONS), (title, status)
        statuses[title] = status
    # Regional contests set their own dates: listed, with the official site.
    regional = "Региональные конкурсы при поддержке Фонда президентских грантов"
    assert statuses[regional].startswith("❔ сроки пока не объявлены")
    # A date inferred from past years always reads as one.
    for status in statuses.values():
        if "≈" in status:
            assert "по прошлым годам" in status or status.startswith("⚪ ")
        assert "последний день" not in status or "≈" not in status

    user.skip_pending()
    only_open = await tap(user, "🟢 Только открытые")
    assert "💰 Гранты с открытым приёмом" in only_open.text
    opened = await all_pages(user, only_open)
    open_titles = [t for t, s in statuses.items() if s.startswith("🟢 ")]
    for title in fitting:
        assert (title in opened.splitlines()) == (title in open_titles), title
    assert "📋 Все программы" in current(user).button_texts()


async def test_a_grant_button_from_before_the_filter_still_opens_the_card(
    emulator: Emulator, launch: Launch
) -> None:
    """Reminders and digests weeks old carry grant buttons packed without the list filter:
    they still open the card, and its way back leads to the full list."""
    running = await launch(clock=ManualClock(NOW))
    user = await onboard(running.app, emulator, 6011, "Europe/Moscow", "mow")
    await say(user, "/grants")
    user.skip_pending()
    await user.press_data("gr:card:presidential_grants:0")
    card = current(user)
    assert card.text.splitlines()[0] == "💰 Конкурс Фонда президентских грантов"
    back = await tap(user, "« К списку")
    assert "💰 Гранты и конкурсы" in back.text


async def test_following_a_grant_with_grant_pushes_off_says_so_and_turns_them_on(
    emulator: Emulator, launch: Launch
) -> None:
    running = await launch(clock=ManualClock(NOW), tick_seconds=3600)
    app = running.app
    user = await onboard(app, emulator, 6020, "Europe/Moscow", "mow")
    settings = await app.profiles.push_settings(6020)
    await app.profiles.save_push_settings(6020, settings.with_(grants=False))
    await say(user, "/grants")
    await tap(user, "Конкурс Президентского фонда культурных инициатив")
    card = await tap(user, "🔔 Следить за сроками")
    assert (
        "🔕 Вы следите за этим грантом, но уведомления о грантах выключены в /settings: "
        "напоминаний не будет, пока вы их не включите."
    ) in card.text
    assert "напоминания придут за" not in card.text
    card = await tap(user, "🔔 Включить напоминания о грантах")
    assert "напоминания придут за 14, 3, 1 дн." in card.text
    assert "🔔 Включить напоминания о грантах" not in card.button_texts()
    assert (await app.profiles.push_settings(6020)).grants is True
