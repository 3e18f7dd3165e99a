"""The playground's server without a browser: the page's WebSocket and HTTP, against the real
app on the built-in emulator."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from PIL import Image

from bot.config import ROOT, Settings
from bot.playground import Playground, playground_paths
from bot.playground.server import PEOPLE
from bot.ui.render import Renderer
from tests.playground.conftest import (
    ANNA,
    BORIS,
    VERA,
    Page,
    open_page,
    playground_settings,
    serving,
)

RU = Renderer()
HOUR = timedelta(hours=1)


async def start_journey(page: Page) -> dict[str, Any]:
    """/start → «Начать» → consent: returns the role screen (the same message, edited)."""
    await page.send(ANNA, "/start")
    mine = await page.message(ANNA, "/start")
    assert mine["out"] is True
    assert mine["html"] == '<a href="#" class="command" data-send="/start">/start</a>'
    hello = await page.message(ANNA, "<b>«Опора»</b>")
    assert hello["out"] is False
    first = hello["buttons"][0][0]
    assert (first["text"], first["kind"]) == ("🚀 Начать: мой проект", "callback")
    await page.press(ANNA, hello, "🚀 Начать: мой проект")
    consent = await page.message(ANNA, "Согласие на обработку персональных данных")
    assert consent["id"] == hello["id"]  # the screen changed in place
    assert consent["edited"] is True
    answer = await page.press(ANNA, consent, "✅ Даю согласие")
    assert answer["text"] == "Спасибо! Начинаем."
    mailing = await page.message(ANNA, "Объявления координаторов")
    assert mailing["id"] == consent["id"]
    await page.press(ANNA, mailing, "🔕 Нет, спасибо")
    role = await page.message(ANNA, "Кто вы в «Опоре»?")
    assert role["id"] == consent["id"]
    return role


async def test_a_page_walks_the_journey_switches_people_and_moves_the_clock(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    page = await open_page(http, playground)
    state = page.events[0]
    people = {p["id"]: p for p in state["people"]}
    assert [(p["name"], p["role"]) for p in state["people"]] == [
        ("Анна", "activist"),
        ("Борис", "volunteer"),
        ("Вера", "coordinator"),
    ]
    assert people[VERA]["admin"] is True
    assert all(p["messages"] == [] for p in state["people"])
    menu = {c["command"]: c["description"] for c in people[ANNA]["commands"]}
    assert menu["grants"] == RU.gettext("ru", "Grants and contests")  # setMyCommands
    assert menu["grants"] != "Grants and contests"
    assert state["language"] == "ru"
    # a text with a count: its form for each plural category, the page picks by the count
    assert state["texts"]["unread"] == {
        "one": "{count} новое сообщение",
        "few": "{count} новых сообщения",
        "many": "{count} новых сообщений",
        "other": "{count} новых сообщений",
    }

    role = await start_journey(page)
    await page.press(ANNA, role, "🚀 Активист: веду или начинаю проект")
    zones = await page.message(ANNA, "Где вы?")
    assert "Сибирский" in [b["text"] for row in zones["buttons"] for b in row]

    # The coordinator (made admin) has her own chat and the coordinator's tools.
    await page.send(VERA, "/coordinator")
    tools = await page.message(VERA, "Координатору")
    assert "📣 Рассылка" in [b["text"] for row in tools["buttons"] for b in row]
    await page.send(ANNA, "/coordinator")
    await page.message(ANNA, "только для координаторов")

    # A second tab sees each person's chat apart.
    other = await open_page(http, playground)
    chats = {p["id"]: p["messages"] for p in other.events[0]["people"]}
    assert [m["html"] for m in chats[VERA] if m["out"]] == [
        '<a href="#" class="command" data-send="/coordinator">/coordinator</a>'
    ]
    assert any("Где вы?" in m["html"] for m in chats[ANNA])
    assert not any("Где вы?" in m["html"] for m in chats[VERA])

    # The clock: +1 week, and the scheduler runs at once: the weekly digest arrives.
    app = playground.app
    await app.profiles.set_place(ANNA, "Europe/Moscow", "mow")
    await app.profiles.add_quiz_result(ANNA, 4, {"problem": "tackling"})
    # From Monday 09:30 in Moscow, two days after she came (no longer a newcomer): the week's
    # digest falls due at 10:00 on the way.
    playground.clock.advance(timedelta(days=2))
    _moscow(playground, 0, 9, 30)
    before, offset = playground.clock.now(), playground.clock.offset.total_seconds()
    await page.ws.send_json({"type": "clock", "step": "week"})
    clock = await page.wait(lambda e: e["type"] == "clock")
    # The offset is float seconds: adding a week may round its last bit differently.
    assert clock["offset"] == pytest.approx(offset + 7 * 24 * 3600, abs=1e-6)
    assert clock["zone"] == "Europe/Moscow"
    digest = await page.message(ANNA, "еженедельный дайджест")
    # It came when it fell due on the way: Monday 10:00 in Moscow, by the bot's clock.
    arrived = datetime.fromtimestamp(digest["date"], UTC).astimezone(ZoneInfo("Europe/Moscow"))
    assert (arrived.weekday(), arrived.hour, arrived.minute) == (0, 10, 0)
    assert before < arrived < before + timedelta(weeks=1)
    await other.ws.close()
    await page.ws.close()


async def test_the_volunteer_walks_their_own_path_from_start(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    """Борис: /start → «🤝 Хочу помогать» → his consent → region → topics, skills, time,
    reach → what fits, all in one message edited step by step (the skills are typed)."""
    page = await open_page(http, playground)
    await page.send(BORIS, "/start")
    hello = await page.message(BORIS, "<b>«Опора»</b>")
    await page.press(BORIS, hello, "🤝 Хочу помогать")
    consent = await page.message(BORIS, "Чтобы предлагать вам дела")
    assert consent["id"] == hello["id"]
    await page.press(BORIS, consent, "✅ Даю согласие")
    mailing = await page.message(BORIS, "Объявления координаторов")
    await page.press(BORIS, mailing, "🔕 Нет, спасибо")
    zones = await page.message(BORIS, "Где вы?")
    await page.press(BORIS, zones, "Центральный")
    regions = await page.message(BORIS, "выберите регион")
    await page.press(BORIS, regions, "Москва")
    topics = await page.message(BORIS, "Что вам близко?")
    await page.press(BORIS, topics, "Дальше ▶")
    await page.message(BORIS, "Что вы умеете?")
    await page.send(BORIS, "вожу машину")
    time = await page.message(BORIS, "Когда вы свободны?")
    await page.press(BORIS, time, "Дальше ▶")
    reach = await page.message(BORIS, "Как далеко вы готовы ездить?")
    await page.press(BORIS, reach, "🚌 По всему региону")
    found = await page.message(BORIS, "Профиль готов")
    assert found["id"] == time["id"]
    await page.ws.close()


async def test_what_a_person_types_is_shown_as_text_and_long_text_is_split(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    page = await open_page(http, playground)
    await page.send(ANNA, '<b>bold?</b> <script>alert(1)</script> & "quotes"')
    mine = await page.message(ANNA, "&lt;script&gt;")
    assert mine["html"] == (
        "&lt;b&gt;bold?&lt;/b&gt; &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;"
    )
    # Over 4096 characters: sent as several messages, as Telegram apps do.
    await page.send(ANNA, "слово " * 1000)  # 6000 characters
    first = await page.message(ANNA, "слово")
    second = await page.message(ANNA, "слово")
    assert second["id"] > first["id"]
    assert len(first["html"]) <= 4096
    assert len(first["html"]) + len(second["html"]) >= 5990

    # Far too long: refused with a note, nothing sent. (Anna's own messages are counted: the
    # bot's answer to the long text above may still arrive meanwhile.)
    def hers() -> int:
        return sum(not m.from_bot for m in playground.users[ANNA].chat.messages.values())

    sent = hers()
    await page.send(ANNA, "я" * 41_000)
    notice = await page.wait(lambda e: e["type"] == "notice")
    assert notice["key"] == "too_long"
    assert hers() == sent
    # Only spaces: Telegram apps send nothing either.
    await page.send(ANNA, "   \n ")
    await page.send(ANNA, "still here")
    still = await page.message(ANNA, "still here")
    assert len(playground.users[ANNA].chat.messages) >= sent + 1
    # A deleted message vanishes from the page.
    await playground.app.bot.delete_message(ANNA, still["id"])
    gone = await page.wait(lambda e: e["type"] == "message" and e["message"]["id"] == still["id"])
    assert gone["message"] == {"id": still["id"], "deleted": True}
    await page.ws.close()


async def test_documents_download_and_foreign_pages_are_refused(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    assert playground.url is not None
    async with http.get(playground.url + "/") as response:
        assert response.status == 200
        page_html = await response.text()
        assert '<textarea class="text" id="text"' in page_html
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    async with http.get(playground.url + "/static/playground.js") as response:
        assert response.status == 200
    page = await open_page(http, playground)
    await start_journey(page)
    await page.send(ANNA, "/my_data")
    document = await page.wait(
        lambda e: e["type"] == "message" and e["message"].get("kind") == "document"
    )
    file = document["message"]["file"]
    assert file["name"] == f"opora-my-data-{ANNA}.json"
    async with http.get(playground.url + file["url"]) as response:
        assert response.status == 200
        assert response.headers["Content-Disposition"].startswith("attachment;")
        exported = json.loads(await response.read())
    assert exported["user"]["first_name"] == "Анна"
    async with http.get(playground.url + "/files/nope") as response:
        assert response.status == 404

    # An upload from the page: a CSV document from the coordinator.
    form = aiohttp.FormData(quote_fields=False)  # as browsers send names: UTF-8
    form.add_field("person", str(VERA))
    form.add_field("file", b"title;link\n", filename="гранты.csv", content_type="text/csv")
    async with http.post(playground.url + "/upload", data=form) as response:
        assert response.status == 204
    upload = await page.wait(
        lambda e: e["type"] == "message" and e["person"] == VERA and e["message"]["out"]
    )
    assert upload["message"]["file"]["name"] == "гранты.csv"
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 80, 40)).save(picture, format="PNG")
    form = aiohttp.FormData()
    form.add_field("person", str(VERA))
    form.add_field("file", picture.getvalue(), filename="a.png", content_type="image/png")
    async with http.post(playground.url + "/upload", data=form) as response:
        assert response.status == 204
    photo = await page.wait(
        lambda e: e["type"] == "message" and e["message"].get("kind") == "photo"
    )
    assert (photo["message"]["file"]["width"], photo["message"]["file"]["height"]) == (64, 48)
    async with http.get(playground.url + photo["message"]["file"]["url"]) as response:
        assert response.content_type == "image/png"
        assert await response.read() == picture.getvalue()

    # Another site open in the same browser cannot drive the playground.
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(playground.url + "/ws", headers={"Origin": "http://evil.example"})
    assert refused.value.status == 403
    await page.ws.close()


async def refused_paths(http: aiohttp.ClientSession, url: str, host: str) -> list[str]:
    """The playground's addresses that refuse (403) a request naming `host` in its Host
    header, as a page served from another name (DNS rebinding) would send it."""
    refused = []
    headers = {"Host": host}
    for path in ("/", "/static/playground.js", "/files/nope"):
        async with http.get(url + path, headers=headers) as response:
            if response.status == 403:
                refused.append(path)
    form = aiohttp.FormData()
    form.add_field("person", str(VERA))
    form.add_field("file", b"title;link\n", filename="a.csv", content_type="text/csv")
    async with http.post(url + "/upload", data=form, headers=headers) as response:
        if response.status == 403:
            refused.append("/upload")
    origin = {"Origin": f"http://{host}", **headers}  # the page's own origin: same-origin passes
    try:
        ws = await http.ws_connect(url + "/ws", headers=origin)
    except aiohttp.WSServerHandshakeError as error:
        if error.status == 403:
            refused.append("/ws")
    else:
        await ws.close()
    return refused


ALL_PATHS = ["/", "/static/playground.js", "/files/nope", "/upload", "/ws"]


async def test_a_page_from_another_host_name_is_refused(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    assert playground.url is not None
    port = playground.url.rsplit(":", 1)[1]
    # A name the attacker's DNS points at 127.0.0.1: the browser sends that name as Host.
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}"):
        assert await refused_paths(http, playground.url, host) == ALL_PATHS, host
    async with http.get(playground.url + "/", headers={"Host": "evil.example"}) as response:
        assert "http://127.0.0.1:" in await response.text()  # where to open it instead
    # The names of this machine's loopback are the playground's own.
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST.:{port}", f"[::1]:{port}"):
        assert await refused_paths(http, playground.url, host) == [], host
    # Bound to the loopback, another address of the machine is not the playground's either.
    assert await refused_paths(http, playground.url, f"192.0.2.7:{port}") == ALL_PATHS


async def test_bound_to_all_interfaces_it_says_where_it_listens(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with serving(tmp_path, "0.0.0.0") as served:
        assert served.url is not None
        port = served.url.rsplit(":", 1)[1]
        where = served.where()
        assert "0.0.0.0" not in where
        assert where.startswith(f"listening on all interfaces, port {port}: open {served.url}")
        assert served.url.startswith("http://127.0.0.1:")
        # From another device the page is opened by one of the machine's addresses.
        assert await refused_paths(http, served.url, f"192.0.2.7:{port}") == []
        assert await refused_paths(http, served.url, f"evil.example:{port}") == ALL_PATHS


async def test_chats_clock_and_old_buttons_survive_a_restart(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    first = Playground(playground_settings(tmp_path), tmp_path / "playground")
    await first.start("127.0.0.1", 0)
    try:
        page = await open_page(http, first)
        role = await start_journey(page)
        await page.ws.send_json({"type": "clock", "step": "day"})
        await page.wait(lambda e: e["type"] == "clock")
        await page.ws.send_json({"type": "language", "language": "en"})
        english = await page.wait(lambda e: e["type"] == "state")
        assert english["language"] == "en"
        assert english["texts"]["unread"]["one"] == "{count} new message"
        assert english["texts"]["unread"]["other"] == "{count} new messages"
        assert {c["command"]: c["description"] for c in english["people"][0]["commands"]}[
            "grants"
        ] == "Grants and contests"
        await page.ws.close()
    finally:
        await first.stop()
    assert (tmp_path / "playground" / "chats.json").exists()

    again = Playground(playground_settings(tmp_path), tmp_path / "playground")
    await again.start("127.0.0.1", 0)
    try:
        page = await open_page(http, again)
        state = page.events[0]
        assert state["clock"]["offset"] == 24 * 3600
        assert state["language"] == "en"
        anna = next(p for p in state["people"] if p["id"] == ANNA)
        restored = next(m for m in anna["messages"] if m["id"] == role["id"])
        assert restored["html"] == role["html"]
        assert restored["buttons"] == role["buttons"]
        # The button drawn before the restart still works: the bot edits the same message, in
        # the language the switch set.
        await page.press(ANNA, restored, "🚀 Активист: веду или начинаю проект")
        zones = await page.message(ANNA, "Where are you?")
        assert zones["id"] == role["id"]
        await page.ws.close()
    finally:
        await again.stop()


def test_people_are_an_activist_a_volunteer_and_an_admin() -> None:
    assert [p.role for p in PEOPLE] == ["activist", "volunteer", "coordinator"]
    assert [p.admin for p in PEOPLE] == [False, False, True]
    assert len({p.id for p in PEOPLE}) == 3


def test_the_playground_keeps_its_data_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("PLAYGROUND_DIR", raising=False)
    # Started elsewhere than the checkout, its data is where it was started.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings, folder = playground_paths(Settings(_env_file=None))
    assert folder == elsewhere / "data" / "playground"
    assert not folder.is_relative_to(ROOT)
    assert settings.database_url == f"sqlite+aiosqlite:///{folder / 'opora.db'}"
    assert Settings(_env_file=None).database_url.endswith("opora.db")  # a deployment's own
    explicit = f"sqlite+aiosqlite:///{tmp_path / 'x' / 'bot.db'}"
    settings, folder = playground_paths(Settings(_env_file=None, database_url=explicit))
    assert (settings.database_url, folder) == (explicit, tmp_path / "x" / "playground")
    postgres = "postgresql+asyncpg://postgres@127.0.0.1:5432/opora"
    settings, folder = playground_paths(Settings(_env_file=None, database_url=postgres))
    assert (settings.database_url, folder) == (postgres, elsewhere / "data" / "playground")
    # PLAYGROUND_DIR names the folder: chats and database both go there.
    monkeypatch.setenv("PLAYGROUND_DIR", str(tmp_path / "mine"))
    settings, folder = playground_paths(Settings(_env_file=None))
    assert folder == tmp_path / "mine"
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'mine' / 'opora.db'}"
    settings, folder = playground_paths(Settings(_env_file=None, database_url=explicit))
    assert (settings.database_url, folder) == (explicit, tmp_path / "mine")


def _moscow(playground: Playground, weekday: int, hour: int, minute: int = 0) -> datetime:
    """Move the bot's clock forward to the next such local time in Moscow; returns it."""
    moscow = ZoneInfo("Europe/Moscow")
    local = playground.clock.now().astimezone(moscow)
    at = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    at += timedelta(days=(weekday - at.weekday()) % 7)
    if at <= local:
        at += timedelta(weeks=1)
    playground.clock.advance(at - local)
    return at


async def _digest_reader(playground: Playground, person: int, **settings: Any) -> None:
    app = playground.app
    await app.profiles.set_place(person, "Europe/Moscow", "mow")
    await app.profiles.add_quiz_result(person, 4, {"problem": "tackling"})
    current = await app.profiles.push_settings(person)
    await app.profiles.save_push_settings(person, current.with_(**settings))


async def test_a_clock_jump_delivers_what_fell_due_on_the_way_at_its_own_time(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    page = await open_page(http, playground)
    await start_journey(page)
    playground.clock.advance(timedelta(days=2))  # no longer a newcomer
    await _digest_reader(playground, ANNA)  # the weekly digest: Monday 10:00
    # A jump from Monday 09:30 past 10:00: the digest arrives, dated 10:00, not 10:30.
    monday = _moscow(playground, 0, 9, 30)
    await page.ws.send_json({"type": "clock", "step": "hour"})
    digest = await page.message(ANNA, "еженедельный дайджест")
    assert datetime.fromtimestamp(digest["date"], UTC) == monday.replace(minute=0) + HOUR
    await page.wait(lambda e: e["type"] == "clock")

    # A daily digest at 23:00 falls into the quiet hours (22–9): it waits for 09:00. A jump of
    # a day from 21:30 brings it, dated 09:00 — one look at 21:30 the next day would find
    # nothing due and the digest would be lost.
    await _digest_reader(playground, ANNA, digest="daily", digest_hour=23)
    evening = _moscow(playground, 1, 21, 30)
    await page.ws.send_json({"type": "clock", "step": "day"})
    await page.wait(lambda e: e["type"] == "clock", timeout=60)
    held = await page.message(ANNA, "дайджест", timeout=1)
    morning = evening.replace(hour=9, minute=0) + timedelta(days=1)
    assert datetime.fromtimestamp(held["date"], UTC) == morning

    # A week: each day's digest at 09:00 of the next morning, in order.
    before = len(page.events)
    await page.ws.send_json({"type": "clock", "step": "week"})
    await page.wait(lambda e: e["type"] == "clock", timeout=120)
    dates = [
        e["message"]["date"]
        for e in page.events[before:]
        if e["type"] == "message" and e["person"] == ANNA and "дайджест" in e["message"]["html"]
    ]
    assert dates == sorted(dates)
    assert len(dates) >= 2
    for stamp in dates:
        local = datetime.fromtimestamp(stamp, UTC).astimezone(ZoneInfo("Europe/Moscow"))
        assert (local.hour, local.minute) == (9, 0)
    await page.ws.close()


async def test_the_language_switch_is_the_peoples_telegram_language(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    page = await open_page(http, playground)
    await start_journey(page)  # consented in Russian: the bot keeps that language
    await page.ws.send_json({"type": "language", "language": "en"})
    await page.wait(lambda e: e["type"] == "state" and e["language"] == "en")
    await page.send(ANNA, "/help")
    await page.message(ANNA, "❓ <b>Help</b>")
    await page.send(VERA, "/help")  # one who never talked to the bot: English from the start
    await page.message(VERA, "❓ <b>Help</b>")

    # Chosen in the bot with /language, the language stays whatever the switch says.
    await page.send(ANNA, "/language")
    choice = await page.message(ANNA, "Язык / Language")
    await page.press(ANNA, choice, "🇷🇺 Русский")
    await page.ws.send_json({"type": "language", "language": "ru"})
    await page.wait(lambda e: e["type"] == "state" and e["language"] == "ru")
    await page.ws.send_json({"type": "language", "language": "en"})
    await page.wait(lambda e: e["type"] == "state" and e["language"] == "en")
    await page.send(ANNA, "/help")
    await page.message(ANNA, "❓ <b>Справка</b>")
    await page.ws.close()
