"""The brief for a municipality end to end: a coordinator opens «📄 Записка для администрации»
from the coordinators' menu, sees the seed's two definitions, its ten points and the area's
figures, and gets the same brief as an A4 PDF with DejaVu Sans embedded — in their language,
dated in their zone, signed by the operator when the settings name one, and honest when the
bot has no figures yet."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from pypdf import PdfReader

from bot.content import get_catalog
from bot.emulator import ChatMessage, EmulatedUser, Emulator
from bot.infra.clock import ManualClock
from tests.conftest import Launch
from tests.e2e.test_journey import say, tap
from tests.e2e.test_stats import COORDINATOR, onboard_people

CATALOG = get_catalog()
# 20:30 UTC: 27 November in Krasnoyarsk (UTC+7), still 26 November in Moscow
LATE = datetime(2026, 11, 26, 20, 30, tzinfo=UTC)
OPERATOR = "АНО «Ресурсный центр „Енисей“»"


def flat(text: str) -> str:
    """Whitespace as single spaces: a PDF's lines break anywhere."""
    return " ".join(text.split())


async def pdf_of(user: EmulatedUser, screen: ChatMessage) -> tuple[ChatMessage, str]:
    """Press «📄 PDF» on the brief's screen; the document and its text (pypdf)."""
    await tap(user, "📄 PDF", screen)
    [*_, document] = await user.messages_until(lambda m: m.kind == "document", timeout=30)
    data = document.document
    assert data is not None
    assert data.startswith(b"%PDF")
    assert b"/FontFile2" in data, "the font is not embedded"
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) <= 2
    return document, flat(" ".join(page.extract_text() for page in reader.pages))


async def test_a_coordinator_sees_the_brief_and_gets_it_as_a_pdf(
    emulator: Emulator, launch: Launch
) -> None:
    running = await launch(
        clock=ManualClock(LATE),
        admin_ids=str(COORDINATOR),
        operator_name=OPERATOR,
        picture_processes=1,  # made in the painter's process, as deployed
    )
    app = running.app
    await onboard_people(app, emulator)  # three activists; two of them lack funds
    coordinator = emulator.user(COORDINATOR, "Координатор", language_code="ru")
    await say(coordinator, "/start")
    await app.profiles.give_consent(COORDINATOR, "Координатор", None, None)
    await app.profiles.set_place(COORDINATOR, "Asia/Krasnoyarsk", "kya")

    await say(coordinator, "/coordinator")
    screen = await tap(coordinator, "📄 Записка для администрации")
    text = screen.text
    assert "Зачем поддерживать социальные инициативы" in text
    assert "Красноярский край" in text
    for definition in CATALOG.definitions:
        assert definition.term.ru in text
        assert flat(definition.text.ru) in flat(text)
    for n, benefit in enumerate(CATALOG.authority_benefits, start=1):
        assert f"{n}. {flat(benefit.name.ru)}" in flat(text)
    assert "по докладу С. Пономарёва" in text
    assert "Участники, давшие согласие: 4" in text
    assert "Активисты: 3" in text
    assert "Нехватка средств — 2" in text
    assert "27.11.2026" in text  # the coordinator's own day
    assert OPERATOR in text
    assert [b.text for row in screen.buttons for b in row] == ["📄 PDF", "« Назад"]

    document, pdf = await pdf_of(coordinator, screen)
    assert document.file_name == "opora-brief-2026-11-27.pdf"
    assert "Зачем поддерживать социальные инициативы" in pdf
    assert "Записка для администрации муниципального образования · Красноярский край" in pdf
    assert flat(CATALOG.definitions[1].text.ru) in pdf
    assert flat(CATALOG.authority_benefits[6].name.ru) in pdf
    assert "Территория в цифрах" in pdf
    assert "Участники, давшие согласие 4" in pdf
    assert "Нехватка средств — 2" in pdf
    assert "Проекты по фазам развития" in pdf
    assert "27.11.2026" in pdf
    assert OPERATOR in pdf
    assert (
        "по докладу С. Пономарёва „Создание инфраструктуры для развития социальных проектов“"
        in pdf
    )
    assert "пока в боте нет данных" not in pdf.lower()
    assert "27.11.2026" in document.text

    await tap(coordinator, "« Назад", screen)
    menu = coordinator.current(screen)  # the preview became the coordinators' menu again
    assert "Координатору" in menu.text
    assert "📄 Записка для администрации" in [b.text for row in menu.buttons for b in row]


async def test_with_no_data_yet_the_brief_says_so_in_english(
    emulator: Emulator, launch: Launch
) -> None:
    await launch(clock=ManualClock(LATE), admin_ids=str(COORDINATOR))
    coordinator = emulator.user(COORDINATOR, "Coordinator", language_code="en")
    await say(coordinator, "/start")

    await say(coordinator, "/coordinator")
    screen = await tap(coordinator, "📄 Brief for the municipality")
    text = screen.text
    assert "Why support social initiatives" in text
    assert CATALOG.definitions[0].term.en in text
    assert flat(CATALOG.authority_benefits[0].name.en) in flat(text)
    assert "There is no data on your area in the bot yet" in text
    assert "Participants who gave consent" not in text
    assert "26.11.2026" in text  # no zone of their own: the deployment's (Moscow)

    document, pdf = await pdf_of(coordinator, screen)
    assert document.file_name == "opora-brief-2026-11-26.pdf"
    assert "Why support social initiatives" in pdf
    assert "A brief for the municipal administration" in pdf
    assert flat(CATALOG.authority_benefits[9].name.en) in pdf
    assert "There is no data on your area in the bot yet" in pdf
    assert "are counted" not in pdf  # no note on figures there are none of
    assert "Participants who gave consent" not in pdf
    assert "Opora" in pdf
    assert "Опора" not in pdf  # neither «Опора» nor the unnamed operator's stand-in
    assert "Ресурсный центр" not in pdf
