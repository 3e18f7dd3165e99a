"""Hours and a certificate: each attended event counts its hours (the organiser may correct
one person's), the volunteer's /profile lists events, organisers and hours, and exports a PDF
certificate (first or full name, as they choose) whose code anyone checks with
t.me/<bot>?start=cert_<code>; once the volunteer deletes their data the code is not found."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

from pypdf import PdfReader
from sqlalchemy import select

from bot.app import App
from bot.emulator import ChatMessage, EmulatedUser, Emulator
from bot.storage.tables import certificates, signups
from bot.ui.keyboards import OrganiserCb
from tests.conftest import Launch
from tests.e2e.test_brief import flat
from tests.e2e.test_confirmations import ANNA, ORGANISER, people_screen, publish, setup
from tests.e2e.test_journey import say, tap
from tests.e2e.test_volunteer import tick

SATURDAY = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)  # 13:00–16:00 in Moscow
SUNDAY = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)  # 10:00–13:00 in Moscow


async def minutes(app: App, opportunity_id: int) -> int | None:
    async with app.engine.connect() as conn:
        value: int | None = (
            await conn.execute(
                select(signups.c.minutes).where(
                    signups.c.opportunity_id == opportunity_id, signups.c.user_id == ANNA
                )
            )
        ).scalar_one()
    return value


async def pdf_of(user: EmulatedUser, label: str, screen: ChatMessage) -> tuple[ChatMessage, str]:
    user.skip_pending()
    await user.press(label, message=screen)
    [*_, document] = await user.messages_until(lambda m: m.kind == "document", timeout=30)
    data = document.document
    assert data is not None
    assert data.startswith(b"%PDF")
    assert b"/FontFile2" in data, "the font is not embedded"
    reader = PdfReader(io.BytesIO(data))
    return document, flat(" ".join(page.extract_text() for page in reader.pages))


async def test_hours_the_record_and_a_certificate_anyone_can_check(
    emulator: Emulator, launch: Launch
) -> None:
    app, clock, organiser, (anna,) = await setup(launch, emulator, ANNA)
    await app.profiles.give_consent(ORGANISER, "Olga", "Petrova", "olga_9400")
    await app.profiles.give_consent(ANNA, "Anna", "Smirnova", "anna_9401")
    food = await publish(app, "Food bank", SATURDAY, capacity=None)
    park = await publish(app, "Park clean-up", SUNDAY, capacity=None)
    for oid in (food, park):
        assert await app.volunteering.sign_up(oid, ANNA) is not None
    await tick(app, clock, SUNDAY + timedelta(hours=4))  # both are over
    for oid in (food, park):
        screen = await people_screen(organiser, oid)
        await organiser.press("⬜ 1. Anna Smirnova", message=screen)
    await tick(app, clock, clock.now() + timedelta(minutes=3))
    await anna.messages_until(lambda m: "Park clean-up" in m.text and "Thank you" in m.text)

    # The organiser corrects Anna's hours at the park: bad input first, each said and refused.
    screen = await people_screen(organiser, park)
    screen = await tap(organiser, "⏱ Hours", screen)
    assert "counts 3 h (the end minus the start)" in screen.text
    await tap(organiser, "⏱ 3 · Anna Smirnova", screen)
    for typed, said in (
        ("a lot", "Please type the hours as a number, e.g. 2.5 or 2:30."),
        ("0", "Zero hours is not a correction"),
        ("-2", "Hours cannot be negative."),
        ("25", "At most 24 hours for each day of the event: 24 here."),
        ("1:75", "Please type the hours as a number"),
    ):
        reply = await say(organiser, typed)
        assert said in reply.text, typed
        assert "Nothing changed" in reply.text
        assert await minutes(app, park) is None
    screen = await say(organiser, "2:30")
    assert "⏱ 2.5 · Anna Smirnova" in screen.button_texts()
    assert await minutes(app, park) == 150
    # Forged: hours for someone not signed up are refused.
    organiser.skip_pending()
    await organiser.press_data(
        OrganiserCb(action="hrs", id=park, value="9999").pack(), message=screen
    )
    await organiser.messages_until(lambda m: "out of date" in m.text)
    assert await minutes(app, park) == 150

    # Anna's record: events, organisers, hours.
    profile = await say(anna, "/profile")
    assert "2 events attended · ⏱ 5.5 h" in profile.text
    assert "05.12.2026 — Food bank · Olga Petrova · 3 h" in profile.text
    assert "06.12.2026 — Park clean-up · Olga Petrova · 2.5 h" in profile.text
    choice = await tap(anna, "📜 Certificate (PDF)", profile)
    assert "Which name goes on it?" in choice.text
    assert choice.button_texts()[:2] == [
        "👤 Full name: Anna Smirnova",
        "👤 First name only: Anna",
    ]

    # First name only.
    document, text = await pdf_of(anna, "👤 First name only: Anna", choice)
    assert "CERTIFICATE OF VOLUNTEERING" in text
    assert "Anna" in text
    assert "Smirnova" not in text
    assert "2 events, 5.5 h" in text
    assert "Food bank" in text
    assert "Park clean-up" in text
    assert "Olga Petrova" in text
    assert "Total: 5.5 h" in text
    [code] = re.findall(r"Code: ([A-Z0-9]{10})", text)
    assert f"https://t.me/opora_test_bot?start=cert_{code}" in text
    assert document.file_name == f"certificate-{code}.pdf"
    assert f"start=cert_{code}" in document.text
    # The full name, when chosen.
    _, full = await pdf_of(anna, "👤 Full name: Anna Smirnova", choice)
    assert "Anna Smirnova" in full

    # In Russian: Cyrillic in the embedded font, a decimal comma.
    await app.users.set_locale(ANNA, "ru")
    _, russian = await pdf_of(anna, "👤 Full name: Anna Smirnova", choice)
    assert "СЕРТИФИКАТ ДОБРОВОЛЬЦА" in russian
    assert "Настоящим подтверждается, что Anna Smirnova" in russian
    assert "2 дела, 5,5 ч" in russian
    assert "Итого: 5,5 ч" in russian
    await app.users.set_locale(ANNA, "en")

    # Anyone checks the code, without consenting to anything.
    stranger = emulator.user(9499, first_name="Ivan", language_code="en")
    checked = await say(stranger, f"/start cert_{code}")
    assert checked.text.startswith("✅ The certificate is genuine")
    assert "Name: Anna\n" in checked.text
    assert "Hours: 5.5" in checked.text
    assert "Events: 2" in checked.text
    assert "Issued on: 06.12.2026" in checked.text
    for bogus in ("ZZZZZZZZZZ", "nope", "A" * 32):
        checked = await say(stranger, f"/start cert_{bogus}")
        assert checked.text.startswith("❌ No such certificate"), bogus

    # /my_data has the certificates and the corrected hours.
    exported = await app.volunteering.export(ANNA)
    names = [c["name"] for c in exported["certificates"]]
    assert names == ["Anna", "Anna Smirnova", "Anna Smirnova"]
    assert [s["hours_corrected_to"] for s in exported["signups"]] == [None, 2.5]

    # Anna deletes her data: her certificates go, the code is not found.
    await app.profiles.forget(ANNA)
    async with app.engine.connect() as conn:
        assert (await conn.execute(select(certificates))).all() == []
    checked = await say(stranger, f"/start cert_{code}")
    assert checked.text.startswith("❌ No such certificate")
    assert "no longer valid" in checked.text
