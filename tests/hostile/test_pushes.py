"""Hostile content in what the bot sends on its own: digests listing opportunities and grants
with hostile titles, volunteer reminders, organisers' notices naming hostile sign-ups, an
organiser's message to participants — every push is one Telegram accepts."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain import opportunities as rules
from bot.infra.clock import ManualClock
from bot.services.volunteering import Draft
from bot.storage import settings as settings_repo
from bot.ui.keyboards import OrganiserCb
from tests.hostile.harness import Harness, few, telegram_text, texts


def fitting(limit: int) -> st.SearchStrategy[str]:
    return texts().map(lambda t: " ".join(telegram_text(t).split())[:limit]).filter(bool)


@few
@given(
    titles=st.lists(fitting(rules.TITLE_LIMIT), min_size=1, max_size=3),
    names=st.lists(st.text(min_size=1, max_size=64).filter(str.strip), min_size=1, max_size=3),
    message=texts(),
)
async def test_pushes_with_hostile_content_are_all_deliverable(
    harness: Harness, titles: list[str], names: list[str], message: str
) -> None:
    app = harness.app
    organiser = await harness.coordinator()
    now = app.clock.now()
    ids = []
    for n, title in enumerate(titles):
        starts = now + timedelta(hours=3, minutes=n)  # reminded two hours before
        draft = Draft(
            title=title,
            description=title * 3,
            topic="culture",
            place=title[: rules.PLACE_LIMIT],
            link=None,
            region="nvs",
            timezone="Asia/Novosibirsk",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            capacity=1,
            signup_until=None,
            contact=title[: rules.CONTACT_LIMIT],
        )
        ids.append(await app.volunteering.create(organiser.id, draft))
    for name in names:  # sign-ups with hostile names: the organiser's notice lists them
        volunteer = await harness.consented(role="volunteer", first_name=name)
        async with app.engine.begin() as conn:  # a daily digest, due now, no quiet hours
            daily = settings_repo.PushSettings(
                digest="daily", digest_hour=0, quiet_start=0, quiet_end=0
            )
            await settings_repo.save(conn, volunteer.id, daily, now)
        for opportunity in ids:
            await app.volunteering.sign_up(opportunity, volunteer.id)
    # Someone who runs a project gets the daily digest (a volunteer's carries opportunities,
    # and these ones signed up for every opportunity there is).
    reader = await harness.consented(role="activist", first_name=names[0])
    async with app.engine.begin() as conn:
        daily = settings_repo.PushSettings(
            digest="daily", digest_hour=0, quiet_start=0, quiet_end=0
        )
        await settings_repo.save(conn, reader.id, daily, now)
    # The organiser writes to everyone who signed up (typed through the bot).
    await harness.send(organiser, "/opportunities")
    await harness.press(organiser, OrganiserCb(action="msg", id=ids[0]).pack())
    await harness.send(organiser, message)
    await app.tick()
    await harness.delivered()
    clock = app.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(hours=1, minutes=5))  # two hours before the first start
    await app.tick()
    rows = await harness.delivered()
    assert {r["kind"] for r in rows} >= {"digest", "opp_notice", "opp_reminder"}
