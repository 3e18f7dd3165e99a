"""/my_data as the person sees it: what they follow, published, wrote and did, in words and in
their time zone, short enough for a phone (long lists end in “… and N more”), and the JSON
file with everything; /delete_me then cancels their opportunity and tells who signed up."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from bot.content import get_catalog
from bot.domain.csvio import GrantItem
from bot.domain.segments import Segment
from bot.emulator import Emulator
from bot.infra.clock import ManualClock
from bot.storage import audit as audit_repo
from bot.storage import broadcasts as broadcasts_repo
from bot.storage import catalogs as catalogs_repo
from bot.storage import content_admin as content_repo
from bot.storage import users as users_repo
from bot.storage.tables import opportunities, outbox
from tests.conftest import Launch
from tests.e2e.test_journey import consent, say, tap
from tests.e2e.test_volunteer import START, TUESDAY, person
from tests.test_opportunities import draft

ZEB, OLGA = 9400, 9401
CONTACT = "+7 913 555-01-77"


async def test_my_data_shows_follows_opportunities_broadcasts_and_the_file_has_all(
    emulator: Emulator, launch: Launch
) -> None:
    clock = ManualClock(TUESDAY)
    app = (await launch(clock=clock)).app
    user = await person(app, emulator, ZEB, "Zebulon", "Asia/Novosibirsk", "nvs")
    olga = await person(app, emulator, OLGA, "Olga", "Europe/Moscow", "mow")
    catalog_grant = get_catalog().grants[0]
    catalog_article = get_catalog().articles[0]
    async with app.engine.begin() as conn:
        await users_repo.grant_role(conn, ZEB, "coordinator", TUESDAY)
        for n in range(1, 13):  # more than a message lists
            item = GrantItem(
                f"Local grant No. {n}", "Fund", "https://example.org", "NGOs", (), "UTC"
            )
            grant_id = await content_repo.save_grant(conn, item, ZEB, TUESDAY)
            await catalogs_repo.follow(conn, ZEB, f"G{grant_id}", TUESDAY + timedelta(minutes=n))
        await catalogs_repo.follow(conn, ZEB, catalog_grant.code, TUESDAY)
        sent = await broadcasts_repo.create(
            conn, ZEB, broadcasts_repo.Content("Clean-up day on Saturday!\nBring gloves."),
            Segment(), TUESDAY,
        )  # fmt: skip
        await broadcasts_repo.move(
            conn, sent, (broadcasts_repo.DRAFT,), broadcasts_repo.DONE, recipients=7
        )
        await audit_repo.add(conn, 1, "coordinator.appoint", str(ZEB), {}, TUESDAY)
        await catalogs_repo.mark_read(conn, ZEB, catalog_article.code, TUESDAY)
    river = draft(title="River bank clean-up", starts_at=START, contact=CONTACT)
    opportunity_id = await app.volunteering.create(ZEB, river)
    await app.volunteering.sign_up(opportunity_id, OLGA)
    # Zeb signs up for Olga's opportunity and cancels: two changes Olga is told of.
    olgas = await app.volunteering.create(OLGA, draft(title="Food bank shift", starts_at=START))
    await app.volunteering.sign_up(olgas, ZEB)
    clock.advance(timedelta(hours=1))
    await app.volunteering.cancel(olgas, ZEB)

    user.skip_pending()
    await user.send("/my_data")
    shown = await user.messages_until(lambda m: m.document is not None)
    *texts, document = shown
    assert all(len(m.text) <= 4096 for m in texts)
    text = "\n".join(m.text for m in texts)
    assert "Your data in Opora" in text
    assert "Region: Novosibirsk Oblast · time zone: MSK+4\n" in text  # not "Asia/Novosibirsk"
    assert "You follow 13 grants" in text
    assert f"• {catalog_grant.title.en} · since 01.12.2026 15:00" in text  # Novosibirsk time
    assert "• Local grant No. 9 · since 01.12.2026 15:09" in text
    assert "Local grant No. 10 · since" not in text  # the first ten, then the count
    assert "… and 3 more entries — see the file" in text
    assert (
        "• River bank clean-up · 05.12.2026 17:00 · open for sign-up · 1 person signed up, "
        f"0 waiting · ☎️ {CONTACT}"
    ) in text
    assert "You wrote 1 announcement" in text
    assert "sent · 7 recipients · “Clean-up day on Saturday! Bring gloves.”" in text
    assert "about you: appointment as a coordinator" in text
    assert "1 article sent or opened" in text
    assert f"• {catalog_article.title.en} · opened 01.12.2026 15:00" in text
    assert (
        "2 sign-up changes organisers are told about; the latest: Food bank shift — "
        "cancelled the sign-up, 01.12.2026 16:00"
    ) in text
    assert "by you: published an opportunity" in text
    for code in ("opportunity.create", "coordinator.appoint", "G1", "done", "culture"):
        assert code not in text

    assert document.file_name == f"opora-my-data-{ZEB}.json"
    assert document.document is not None
    exported = json.loads(document.document)
    assert len(exported["followed_grants"]) == 13
    assert {g["title"] for g in exported["followed_grants"]} >= {
        catalog_grant.title.en,
        "Local grant No. 12",
    }
    [published] = exported["published_opportunities"]
    assert (published["title"], published["contact"]) == ("River bank clean-up", CONTACT)
    assert published["starts_at"] == START.isoformat()
    assert exported["broadcasts"][0]["text"] == "Clean-up day on Saturday!\nBring gloves."
    assert [a["action"] for a in exported["audit"]][-1] == "coordinator.appoint"
    [article] = exported["articles"]
    assert (article["key"], article["title"]) == (catalog_article.code, catalog_article.title.en)
    assert article["read_at"] == TUESDAY.isoformat()
    changes = exported["volunteering"]["changes"]
    assert [(c["opportunity"], c["change"]) for c in changes] == [
        ("Food bank shift", "confirmed"),
        ("Food bank shift", "cancelled"),
    ]

    # /delete_me says what happens to the opportunity, then does it: Olga is told.
    ask = await say(user, "/delete_me")
    assert "Opportunities you published that have not started yet are cancelled" in ask.text
    await tap(user, "🗑 Yes, delete everything")
    async with app.engine.connect() as conn:
        status, contact = (
            await conn.execute(
                select(opportunities.c.status, opportunities.c.contact).where(
                    opportunities.c.id == opportunity_id
                )
            )
        ).one()
        told = (
            await conn.execute(select(outbox.c.user_id).where(outbox.c.kind == "opp_cancelled"))
        ).scalars()
        assert (status, contact, list(told)) == ("cancelled", None, [OLGA])
    app.sender.wake()
    notice = await olga.messages_until(lambda m: "cancelled" in m.text)
    assert "River bank clean-up" in notice[-1].text
    assert CONTACT not in notice[-1].text
    assert emulator.rejections() == []


async def test_forget_outside_an_update_ends_a_flow_kept_in_redis(
    emulator: Emulator, launch: Launch, redis_url: str
) -> None:
    """The retention purge calls `forget` from a scheduler tick: a conversation state that lives
    in Redis, not in the database, goes too."""
    from redis.asyncio import Redis

    app = (await launch(redis_url=redis_url)).app
    user = emulator.user(ZEB, language_code="ru")
    await consent(user)
    await tap(user, "🚀 Активист: веду или начинаю проект")
    await tap(user, "Центральный")
    await tap(user, "Москва")  # the ikigai asks: its state is in Redis now
    client = Redis.from_url(redis_url)
    try:
        assert await client.keys(f"*:{ZEB}:*")
        await app.profiles.forget(ZEB)
        assert await client.keys(f"*:{ZEB}:*") == []
    finally:
        await client.aclose()
