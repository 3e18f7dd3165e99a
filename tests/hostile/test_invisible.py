"""Text nobody can see: a NUL character (PostgreSQL stores none in text) in a typed entry, a
broadcast or a Telegram first name never reaches the database, on SQLite and PostgreSQL; a
text made only of zero-width characters and direction marks is refused as empty."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from aiogram import Bot
from aiogram.types import Update

from bot.emulator import DEFAULT_TOKEN as TOKEN
from bot.infra.updates import without_nul
from bot.storage.tables import broadcasts, ikigai_entries, users, volunteer_profiles
from bot.ui.keyboards import Consent, IkigaiCb, Menu, OrganiserCb, SkillsCb
from handlers.content_admin import ContentCb
from tests.hostile.harness import Harness
from tests.test_opportunities import new_opportunity

ASK_WANT = IkigaiCb(action="col", column="want").pack()
# Zero-width characters and direction controls, one of each range (none of them visible).
INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u202a\u202e\u2060\u2064\ufeff\u2066\u2069"


async def test_a_first_name_with_nul_can_consent(harness_on_each: Harness) -> None:
    harness = harness_on_each
    user = harness.user("en", first_name="Ан\x00на")
    await harness.send(user, "/start")
    await harness.press(user, Menu(section="journey").pack())
    screen = await harness.press(user, Consent(action="yes").pack())
    assert screen is not None
    [row] = await harness.rows(users, id=user.id)
    assert row["consent_at"] is not None
    assert row["first_name"] == "Анна"


async def test_a_nul_in_typed_text_is_stored_as_a_space(harness_on_each: Harness) -> None:
    harness = harness_on_each
    user = await harness.coordinator(language_code="en")
    await harness.press(user, ASK_WANT)
    await harness.send_raw(user, "A robotics\x00club")
    [entry] = await harness.rows(ikigai_entries, user_id=user.id)
    assert entry["text"] == "A robotics club"

    await harness.send(user, "/broadcast")
    await harness.send_raw(user, "Open on\x00Saturday\x00")
    [draft] = await harness.rows(broadcasts, author_id=user.id)
    assert "\x00" not in draft["text"]
    assert draft["text"].split() == ["Open", "on", "Saturday"]


async def test_invisible_text_is_an_empty_ikigai_entry(harness: Harness) -> None:
    user = await harness.consented(language_code="en")
    await harness.press(user, ASK_WANT)
    [reply] = await harness.send(user, INVISIBLE)
    assert reply.text == harness.app.renderer.render(
        "en", "ikigai/hint_empty.j2", length=0, limit=200
    )
    assert await harness.rows(ikigai_entries, user_id=user.id) == []


@pytest.mark.parametrize("flow", ["opportunity", "grant", "broadcast", "skills", "message"])
async def test_invisible_text_is_refused_as_empty_everywhere(harness: Harness, flow: str) -> None:
    """Each prompt answers an invisible text as it answers an empty one, and stores nothing."""
    user = await harness.coordinator(language_code="en")
    await harness.grant(user.id, "volunteer")
    if flow == "opportunity":
        await harness.press(user, OrganiserCb(action="new").pack())
        expected = "Please type text of up to"
    elif flow == "grant":
        await harness.press(user, ContentCb(action="new", kind="grant").pack())
        expected = "⚠️ This cannot be empty"  # a warning starts with a capital
    elif flow == "broadcast":
        await harness.send(user, "/broadcast")
        expected = "The message is empty."
    elif flow == "skills":  # like an answer of commas only: no skills
        await harness.press(user, SkillsCb(action="edit").pack())
        expected = "My skills and time"
    else:
        starts = harness.app.clock.now() + timedelta(days=2)
        opportunity = await new_opportunity(
            harness.app.volunteering, None, starts_at=starts, ends_at=starts + timedelta(hours=2)
        )
        await harness.press(user, OrganiserCb(action="msg", id=opportunity).pack())
        expected = "Please type text of up to"
    replies = await harness.send(user, INVISIBLE + " " + INVISIBLE)
    assert any(expected in reply.text for reply in replies), replies[-1].text
    assert await harness.rows(broadcasts, author_id=user.id) == []
    for row in await harness.rows(volunteer_profiles, user_id=user.id):
        assert json.loads(row["skills"]) == []


def test_a_nul_leaves_every_string_of_an_update() -> None:
    bot = Bot(TOKEN)
    raw = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 1_800_000_000,
            "chat": {"id": 7, "type": "private", "first_name": "Ан\x00на"},
            "from": {"id": 7, "is_bot": False, "first_name": "Ан\x00на", "username": "a\x00"},
            "text": "\x00жирный\x00 текст",
            "entities": [{"type": "bold", "offset": 1, "length": 6}],
        },
    }
    update = Update.model_validate(raw, context={"bot": bot})
    clean = without_nul(update, bot)
    message = clean.message
    assert message is not None
    assert message.from_user is not None
    assert (message.from_user.first_name, message.from_user.username) == ("Анна", "a")
    assert message.text == " жирный  текст"  # a space each: the bold part stays where it was
    assert message.entities is not None
    assert message.entities[0].extract_from(message.text) == "жирный"
    assert message.date == update.message.date  # type: ignore[union-attr]
    assert without_nul(clean, bot) is clean  # nothing to clean: the very same update
