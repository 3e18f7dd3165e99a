"""The volunteer's path after signing up and a card in a group, in the playground over the
page's WebSocket: the coordinator posts an opportunity's card into the group (the bot knows
it: she made it an administrator) and the page shows the group's post; Борис opens it from
the card's «Записаться» and signs up, and the group's post shows one place fewer; a clock
jump brings «Придёте?», he answers, the event passes, the coordinator marks him as having
come, he rates it and downloads his certificate, a PDF the page links to."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bot.playground import Playground
from bot.playground.server import BOT_USERNAME, GROUP
from bot.services.volunteering import Draft
from bot.storage import settings as settings_repo
from bot.ui.keyboards import OrganiserCb
from tests.playground.conftest import (
    BORIS,
    VERA,
    Event,
    Page,
    open_page,
    playground_settings,
)
from tests.playground.test_server import _moscow


def labels(message: Event) -> list[str]:
    return [b["text"] for row in message["buttons"] for b in row]


def button(message: Event, label: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        b for row in message["buttons"] for b in row if b["text"] == label
    )
    return found


def reply_to(person: int) -> Callable[[Event], bool]:
    """The bot's first message to `person`, whatever it says."""
    return lambda e: e.get("person") == person and not e["message"]["out"]


async def group_post(page: Page, contains: str) -> Event:
    event = await page.wait(
        lambda e: (
            e["type"] == "message"
            and e.get("group") == GROUP.id
            and contains in e["message"].get("html", "")
        )
    )
    message: Event = event["message"]
    return message


async def jump(page: Page, step: str) -> None:
    await page.ws.send_json({"type": "clock", "step": step})
    await page.wait(lambda e: e["type"] == "clock", timeout=60)


async def press_data(page: Page, person: int, message: Event, data: str) -> None:
    await page.ws.send_json(
        {"type": "press", "person": person, "message": message["id"], "data": data, "ref": 0}
    )
    await page.wait(lambda e: e["type"] == "answer" and e["ref"] == 0)


async def test_a_card_in_the_group_a_sign_up_confirmation_rating_and_certificate(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    page = await open_page(http, playground)
    [group] = page.events[0]["groups"]
    assert (group["id"], group["title"], group["messages"]) == (GROUP.id, GROUP.title, [])
    app = playground.app
    # Вера and Борис have come and consented (their first steps are tested elsewhere).
    for pid, name in ((VERA, "Вера"), (BORIS, "Борис")):
        await page.send(pid, "/start")
        await page.wait(reply_to(pid))
        await app.profiles.give_consent(pid, name, None, None)
        await app.profiles.set_place(pid, "Europe/Moscow", "mow")
    await app.profiles.set_role(BORIS, "volunteer")
    async with app.engine.begin() as conn:
        off = settings_repo.PushSettings(digest="off")
        await settings_repo.save(conn, BORIS, off, app.clock.now())
    monday = _moscow(playground, 0, 12, 0)  # Monday 12:00 in Moscow
    starts = (monday + timedelta(days=1, hours=1)).astimezone(UTC)  # Tuesday 13:00–16:00
    draft = Draft(
        title="Продуктовый банк", description="Собрать наборы.", topic="social_services",
        place="ул. Ленина, 1", link=None, region="mow", timezone="Europe/Moscow",
        starts_at=starts, ends_at=starts + timedelta(hours=3), capacity=5,
        signup_until=None, contact=None,
    )  # fmt: skip
    oid = await app.volunteering.create(VERA, draft)

    # Вера posts the card into the group: it is a button on her screen.
    await page.send(VERA, "/opportunities")
    listing = await page.message(VERA, "Дела для добровольцев")
    await press_data(page, VERA, listing, OrganiserCb(action="card", id=oid).pack())
    card = await page.message(VERA, "Продуктовый банк")
    await page.press(VERA, card, "📢 Опубликовать в группе/канале")
    ask = await page.message(VERA, "Выберите чат ниже")
    assert labels(ask)[0] == "👥 Добровольцы района"
    await page.press(VERA, ask, "👥 Добровольцы района")
    await page.message(VERA, "Карточка опубликована в «Добровольцы района»")
    post = await group_post(page, "Свободно 5 мест из 5")
    assert "Продуктовый банк" in post["html"]
    sign_up = button(post, "✅ Записаться")
    assert sign_up == {"text": "✅ Записаться", "kind": "send", "send": f"/start opp_{oid}"}

    # Борис taps it (the page sends the /start for him) and signs up: the post is edited.
    await page.send(BORIS, sign_up["send"])
    his = await page.message(BORIS, "Продуктовый банк")
    await page.press(BORIS, his, "✅ Записаться")
    edited = await group_post(page, "Свободно 4 места из 5")
    assert edited["id"] == post["id"]
    assert edited["edited"] is True

    # An hour on, a day before the start: «Придёте?»; he will.
    await jump(page, "hour")
    question = await page.message(BORIS, "Придёте?")
    answer = await page.press(BORIS, question, "✅ Да")
    assert answer["text"] == "✅ Спасибо! До встречи."

    # Two days on the event is over (the group's post says so); Вера marks him as having
    # come, and he is thanked.
    await jump(page, "day")
    await group_post(page, "Дело уже началось.")
    await jump(page, "day")
    await group_post(page, "🏁 Дело завершено")
    await page.send(VERA, "/opportunities")
    listing = await page.message(VERA, "Дела для добровольцев")
    await press_data(page, VERA, listing, OrganiserCb(action="people", id=oid).pack())
    people = await page.wait(
        lambda e: (
            e["type"] == "message"
            and e.get("person") == VERA
            and "⬜ 1. Борис" in labels(e["message"])
        )
    )
    await page.press(VERA, people["message"], "⬜ 1. Борис")
    await jump(page, "hour")  # the mark settles, then the thanks go
    thanks = await page.message(BORIS, "Спасибо, что пришли!")
    assert labels(thanks) == ["1⭐", "2⭐", "3⭐", "4⭐", "5⭐"]
    rated = await page.press(BORIS, thanks, "5⭐")
    assert "5" in rated["text"]

    # His certificate: a PDF the page links to, which opens.
    await page.send(BORIS, "/profile")
    profile = await page.message(BORIS, "1 дело")
    await page.press(BORIS, profile, "📜 Сертификат (PDF)")
    choice = await page.message(BORIS, "Какое имя указать?")
    await page.press(BORIS, choice, "👤 Только имя: Борис")
    event = await page.wait(
        lambda e: (
            e["type"] == "message"
            and e.get("person") == BORIS
            and e["message"].get("kind") == "document"
        ),
        timeout=30,
    )
    file = event["message"]["file"]
    assert file["name"].startswith("certificate-")
    assert file["name"].endswith(".pdf")
    assert playground.url is not None
    async with http.get(playground.url + file["url"]) as response:
        assert response.status == 200
        assert response.content_type == "application/pdf"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert (await response.read()).startswith(b"%PDF")
    await page.ws.close()


async def test_the_groups_posts_survive_a_restart_and_still_update(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    first = Playground(playground_settings(tmp_path), tmp_path / "playground")
    await first.start("127.0.0.1", 0)
    try:
        page = await open_page(http, first)
        app = first.app
        for pid, name in ((VERA, "Вера"), (BORIS, "Борис")):
            await page.send(pid, "/start")
            await page.wait(reply_to(pid))
            await app.profiles.give_consent(pid, name, None, None)
        starts = (first.clock.now() + timedelta(days=3)).replace(microsecond=0)
        draft = Draft(
            title="Субботник", description="Листья.", topic="social_services",
            place="Парк", link=None, region="mow", timezone="Europe/Moscow",
            starts_at=starts, ends_at=starts + timedelta(hours=2), capacity=3,
            signup_until=None, contact=None,
        )  # fmt: skip
        oid = await app.volunteering.create(VERA, draft)
        listing = await app.volunteering.listing(oid)
        assert listing is not None
        assert app.sharing is not None
        shown = app.sharing.card(listing, "ru", BOT_USERNAME)
        sent = await app.bot.send_message(
            GROUP.id, shown.text, parse_mode="HTML", reply_markup=shown.markup
        )
        await app.sharing.remember_post(oid, VERA, GROUP.id, sent.message_id, "ru")
        post = await group_post(page, "Свободно 3 места из 3")
        await page.ws.close()
    finally:
        await first.stop()

    again = Playground(playground_settings(tmp_path), tmp_path / "playground")
    await again.start("127.0.0.1", 0)
    try:
        page = await open_page(http, again)
        [group] = page.events[0]["groups"]
        assert [m["html"] for m in group["messages"]] == [post["html"]]
        assert await again.app.volunteering.sign_up(oid, BORIS) is not None
        edited = await group_post(page, "Свободно 2 места из 3")
        assert edited["id"] == post["id"]
        await page.ws.close()
    finally:
        await again.stop()
