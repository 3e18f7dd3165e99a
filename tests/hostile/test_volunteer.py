"""Hostile input around volunteering: browsing and signing up among opportunities whose texts
are hostile, typed skills, tampered buttons; organisers creating and managing opportunities
with hostile answers, and seeing participants with hostile names."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import opportunities as rules
from bot.services.volunteering import SKILL_LENGTH, SKILLS_LIMIT, Draft
from bot.storage.tables import opportunities, signups, volunteer_profiles
from bot.ui.keyboards import OrganiserCb, VolunteerCb
from tests.hostile.harness import (
    FRAGMENTS,
    PUBLIC_PREFIXES,
    Harness,
    few,
    texts,
)

HOSTILE_TITLE = "<b>Субботник</b> & '; DROP TABLE signups; -- 👩‍👩‍👧‍👦 שלום \u202eevil"


@pytest.fixture
async def organised(harness: Harness) -> list[int]:
    """Three opportunities with hostile texts (one place only, one without a limit, one
    online), created by a coordinator through the service."""
    organiser = await harness.coordinator()
    now = harness.app.clock.now()
    made = []
    for n, (capacity, place, link) in enumerate(
        [
            (1, "".join(FRAGMENTS)[:300], None),
            (None, "<i>парк</i>", None),
            (3, None, "https://x.org/<b>"),
        ]
    ):
        starts = now + timedelta(days=n + 1, hours=2)
        draft = Draft(
            title=(HOSTILE_TITLE * 10)[: rules.TITLE_LIMIT - n],
            description=("".join(FRAGMENTS) * 40)[: rules.DESCRIPTION_LIMIT],
            topic="culture",
            place=place,
            link=link,
            region="nvs",
            timezone="Asia/Novosibirsk",
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            capacity=capacity,
            signup_until=None,
            contact="@evil <script>alert(1)</script> &amp;",
        )
        made.append(await harness.app.volunteering.create(organiser.id, draft))
    return made


async def check_opportunities(harness: Harness) -> None:
    """Every stored opportunity keeps to the rules; no more confirmed than places."""
    for opp in await harness.rows(opportunities):
        assert 0 < len(opp["title"]) <= rules.TITLE_LIMIT
        assert len(opp["description"]) <= rules.DESCRIPTION_LIMIT
        assert opp["place"] is None or len(opp["place"]) <= rules.PLACE_LIMIT
        assert opp["contact"] is None or len(opp["contact"]) <= rules.CONTACT_LIMIT
        assert opp["link"] is None or rules.typed_link(opp["link"]) is not None
        assert opp["ends_at"] > opp["starts_at"]
        assert opp["capacity"] is None or 1 <= opp["capacity"] <= rules.MAX_CAPACITY
        confirmed = [
            s
            for s in await harness.rows(signups, opportunity_id=opp["id"])
            if s["status"] == "confirmed"
        ]
        assert opp["capacity"] is None or len(confirmed) <= opp["capacity"]


@few
@given(data=st.data())
async def test_volunteers_browse_sign_up_and_type_skills(
    harness: Harness, organised: list[int], data: st.DataObject
) -> None:
    user = await harness.consented(
        role="volunteer", language_code=data.draw(st.sampled_from(["ru", "en"]))
    )
    # Sign-ups bump an opportunity's counters and may promote someone from the waiting list.
    skip = {"signups", "outbox", "opportunity_changes"}
    counters = {"opportunities": {"seq", "noticed_change", "updated_at"}}
    before = await harness.snapshot(ignore_user=user.id, skip=skip, columns=counters)
    await harness.send(
        user, data.draw(st.sampled_from(["/volunteer", f"/start opp_{organised[0]}"]))
    )
    await harness.wander(user, data, 10, ["vo", "vs", "oa", "m", *PUBLIC_PREFIXES])
    await check_opportunities(harness)
    for row in await harness.rows(volunteer_profiles, user_id=user.id):
        skills = json.loads(row["skills"])
        assert len(skills) <= SKILLS_LIMIT
        assert all(0 < len(s) <= SKILL_LENGTH for s in skills)
    after = await harness.snapshot(ignore_user=user.id, skip=skip, columns=counters)
    assert after == before


def answers(zone: str) -> st.SearchStrategy[str]:
    """What an organiser types: hostile texts, and answers the form understands."""
    now = datetime.now(ZoneInfo(zone))
    soon = now + timedelta(days=3)
    valid = [
        soon.strftime("%d.%m.%Y %H:%M"),
        soon.strftime("%d.%m %H:%M"),
        (soon + timedelta(hours=2)).strftime("%H:%M"),
        (now - timedelta(days=2)).strftime("%d.%m.%Y %H:%M"),
        "31.02.2030 10:00",
        "29.02 25:61",
        "5",
        "0",
        "-",
        "10001",
        "²",
        "٣",
        "9" * 40,
        "https://example.org/<b>?q='--",
        "http://",
        "Парк Победы",
    ]
    return st.sampled_from(valid) | texts()


@few
@given(data=st.data())
async def test_organisers_create_and_manage_with_hostile_answers(
    harness: Harness, organised: list[int], data: st.DataObject
) -> None:
    organiser = await harness.coordinator(language_code=data.draw(st.sampled_from(["ru", "en"])))
    for name in ("Анна <b>", "\u202eevil", "👩‍👩‍👧‍👦" * 10):  # participants with hostile names
        person = await harness.consented(role="volunteer", first_name=name)
        await harness.app.volunteering.sign_up(organised[0], person.id)
    await harness.send(organiser, "/opportunities")
    await harness.wander(organiser, data, 16, ["oa", "cm", "m"], typed=answers("Asia/Novosibirsk"))
    await check_opportunities(harness)


async def test_tampered_ids_on_every_volunteering_screen(
    harness: Harness, organised: list[int]
) -> None:
    """Each id in each button of the menu, a list, a card and the organiser's card, replaced
    by a number no table holds: "out of date", never a crash."""
    volunteer = await harness.consented(role="volunteer")
    await harness.send(volunteer, "/volunteer")
    menu = volunteer.last_bot_message
    await harness.press(volunteer, VolunteerCb(action="list", period="a").pack())
    listing = volunteer.last_bot_message
    await harness.send(volunteer, f"/start opp_{organised[0]}")
    card = volunteer.last_bot_message
    assert card is not None
    await harness.press(volunteer, VolunteerCb(action="sign", id=organised[0]).pack(), card)
    signed = volunteer.last_bot_message
    organiser = await harness.coordinator()
    await harness.send(organiser, "/opportunities")
    own = organiser.last_bot_message
    await harness.press(organiser, OrganiserCb(action="card", id=organised[0]).pack())
    managed = organiser.last_bot_message
    pressed = 0
    for user, message in [
        (volunteer, menu),
        (volunteer, listing),
        (volunteer, card),
        (volunteer, signed),
        (organiser, own),
        (organiser, managed),
    ]:
        assert message is not None
        pressed += await harness.tamper(user, message)
    assert pressed > 10
    await check_opportunities(harness)
