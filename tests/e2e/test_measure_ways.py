"""A measure's card through the emulator, as the user sees it: where to get the measure — the
coordinator's local offer of the region first, then the nationwide ways with their first steps
and a button to each way's site."""

from __future__ import annotations

from bot.domain.csvio import MeasureItem
from bot.emulator import ChatMessage, EmulatedUser, Emulator
from bot.ui.keyboards import MeasuresCb
from tests.conftest import RunningBot
from tests.e2e.test_journey import (
    CATALOG,
    KAMCHATKA_SUBSIDY,
    add_local_measures,
    onboard_stage_4,
    tap,
)


async def open_measure(user: EmulatedUser, list_screen: ChatMessage, name: str) -> ChatMessage:
    """Open the card of the measure called ``name`` from a list, paging on until it shows."""
    screen = list_screen
    while True:
        label = next((b for b in screen.button_texts() if b.endswith(f". {name}")), None)
        if label is not None:
            return await tap(user, label)
        assert "▶" in screen.button_texts(), f"{name!r} is not in the list"
        screen = await tap(user, "▶")


async def test_card_shows_the_regions_offer_then_the_ways_to_get_it(
    emulator: Emulator, running_bot: RunningBot
) -> None:
    await add_local_measures(
        running_bot,
        MeasureItem(
            title="Субсидия мэрии Новосибирска для НКО",
            description="До 500 000 ₽ на уставную деятельность.",
            type="financial",
            phase="formalization",
            region="nvs",
            contact="+7 383 000-00-01",
            link="https://example.org/subsidy",
        ),
        KAMCHATKA_SUBSIDY,  # another region's offer is not listed
    )
    user = emulator.user(2101, language_code="ru")
    await onboard_stage_4(user)  # Новосибирская область, stage 4: Формализация
    measures = await tap(user, "🤝 Подходящие меры поддержки")
    financial = await tap(user, next(b for b in measures.button_texts() if "Финансовая" in b))
    card = await open_measure(user, financial, "Субсидии")

    text = card.text
    assert text.startswith("🤝 Субсидии\nФинансовая · Формализация\n\n")
    assert "Почему подходит вашему проекту: этап: Формализация" in text
    local_at = text.index(
        "📍 У вас в регионе\n• Субсидия мэрии Новосибирска для НКО: +7 383 000-00-01"
    )
    assert local_at < text.index("🌐 По всей стране")
    assert "Камчатского" not in text
    assert (
        "1. Региональные конкурсы с Фондом президентских грантов · гранты.рф\n"
        "Гранты и субсидии НКО от региона при софинансировании Фонда президентских грантов\n"
        "Кому: НКО своего региона; условия задаёт регион\n"
        "👉 Найдите на гранты.рф конкурс своего региона и проверьте сроки\n"
        "проверено 07.12.2026"
    ) in text
    # a way nobody checked says nothing about checking
    assert text.endswith(
        "2. Портал мер финансовой государственной поддержки · promote.budget.gov.ru\n"
        "Объявления об отборах на субсидии и гранты органов власти\n"
        "Кому: организации и ИП; условия у каждого отбора свои\n"
        "👉 Найдите отборы по своей теме и региону и подайте заявку в личном кабинете"
    )
    rows = [[(b.text, b.url) for b in row] for row in card.buttons]
    assert rows == [
        [("📍 Субсидия мэрии Новосибирска для НКО", None)],
        [("🔗 гранты.рф", "https://xn--80af5akm8c.xn--p1ai/")],
        [("🔗 promote.budget.gov.ru", "https://promote.budget.gov.ru/")],
        [("« К списку", None)],
    ]
    assert [w.link for w in CATALOG.measure("subsidies").ways] == [url for [(_, url)] in rows[1:3]]

    # The region's offer opens its own card, with the coordinator's contact and link.
    offer = await tap(user, "📍 Субсидия мэрии Новосибирска для НКО")
    assert "+7 383 000-00-01" in offer.text
    assert offer.buttons[0][0].url == "https://example.org/subsidy"
    back = await tap(user, "« К списку")
    assert "Финансовая" in back.text

    # A measure with no nationwide way says why, and whom to ask; it has no site to lead to.
    information = await tap(user, next(b for b in back.button_texts() if "Информационная" in b))
    bulletin = await open_measure(user, information, "Социальный бюллетень")
    reason = CATALOG.additional_measure("social_bulletin").no_way_reason
    assert reason is not None
    assert (
        f"🌐 По всей стране\n{reason.ru}\n"
        "👉 Спросите координатора «Опоры» в вашем регионе, что есть на месте."
    ) in bulletin.text
    assert [b.text for row in bulletin.buttons for b in row] == ["« К списку"]
    assert emulator.rejections() == []


async def test_two_measures_of_one_name_each_say_their_type(
    emulator: Emulator, running_bot: RunningBot
) -> None:
    # The seed names «Конкурсы» twice in the first phase: information and personnel support.
    app = running_bot.app
    user = emulator.user(2102, language_code="ru")
    await user.send("/start")
    await user.next_message(timeout=5)
    await app.profiles.give_consent(user.id, "Аня", None, None)
    await app.profiles.set_role(user.id, "activist")
    await app.profiles.set_place(user.id, "Asia/Novosibirsk", "nvs")
    await app.profiles.add_quiz_result(user.id, 1, {"problem": "tackling"})
    user.skip_pending()
    listed = []
    start = user.last_bot_message
    assert start is not None
    await user.press_data(MeasuresCb(kind="all").pack(), message=start)
    screen = await user.wait_edit(start, timeout=5)
    while True:
        listed += [b.split(". ", 1)[1] for b in screen.button_texts() if ". " in b[:4]]
        if "▶" not in screen.button_texts():
            break
        screen = await tap(user, "▶", screen)
    contests = sorted(n for n in listed if n.startswith("Конкурсы"))
    assert contests == ["Конкурсы · информационная", "Конкурсы · кадровая"]
