"""Activists a coordinator allows to publish volunteer opportunities manage only their own."""

from __future__ import annotations

from sqlalchemy import select

from bot.emulator import Emulator
from bot.infra.clock import ManualClock
from bot.storage.tables import opportunities, user_roles
from tests.conftest import Launch
from tests.e2e.test_journey import say, tap
from tests.e2e.test_volunteer import COORDINATOR, TUESDAY, create_opportunity, person


async def test_an_allowed_activist_publishes_and_manages_only_their_own(
    emulator: Emulator, launch: Launch
) -> None:
    running = await launch(clock=ManualClock(TUESDAY), tick_seconds=3600)
    app = running.app
    coordinator = await person(
        app, emulator, COORDINATOR, "Olga", "Europe/Moscow", "mow", role="coordinator"
    )
    activist = await person(app, emulator, 9201, "Ivan", "Europe/Moscow", "mow", role="activist")
    other = await person(app, emulator, 9202, "Petr", "Europe/Moscow", "mow", role="activist")

    refused = await say(activist, "/opportunities")  # not allowed yet
    assert "only for coordinators" in refused.text

    await say(coordinator, "/coordinator")
    await tap(coordinator, "👥 Activists who may publish")
    await tap(coordinator, "➕ Allow an activist")
    coordinator.skip_pending()
    await coordinator.send("9201")
    done = await coordinator.messages_until(lambda m: "Remove" in " ".join(m.button_texts()))
    assert any("Ivan may now publish" in m.text for m in done)

    menu = await say(activist, "/menu")
    assert "📅 My opportunities" in menu.button_texts()
    await create_opportunity(activist, title="Субботник во дворе", places="5")
    theirs = await create_opportunity(coordinator, title="Coordinator's event", places="3")
    async with app.engine.connect() as conn:
        rows = dict((await conn.execute(select(opportunities.c.title, opportunities.c.id))).all())
    listing = await say(activist, "/opportunities")
    assert "Субботник во дворе" in " ".join(listing.button_texts())
    assert "Coordinator's event" not in " ".join(listing.button_texts())

    # The coordinator's opportunity's buttons, replayed by the activist: refused, unchanged.
    activist.skip_pending()
    target = rows["Coordinator's event"]
    await activist.press_data(f"oa:cancel_ok:{target}::0")
    refusal = await activist.next_message(timeout=5)
    assert "only for coordinators" in refusal.text
    async with app.engine.connect() as conn:
        status = (
            await conn.execute(
                select(opportunities.c.status).where(
                    opportunities.c.id == rows["Coordinator's event"]
                )
            )
        ).scalar_one()
    assert status == "open"
    assert theirs is not None

    # Another activist is not allowed at all; removing the permission ends it.
    assert "only for coordinators" in (await say(other, "/opportunities")).text
    await say(coordinator, "/coordinator")
    screen = await tap(coordinator, "👥 Activists who may publish")
    await tap(coordinator, "✖ Remove Ivan", screen)
    async with app.engine.connect() as conn:
        roles = (
            (await conn.execute(select(user_roles.c.role).where(user_roles.c.user_id == 9201)))
            .scalars()
            .all()
        )
    assert "organiser" not in roles
    assert "only for coordinators" in (await say(activist, "/opportunities")).text
    assert emulator.rejections() == []
