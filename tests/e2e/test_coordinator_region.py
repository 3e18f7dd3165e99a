"""The region a coordinator serves («📍 Мой регион», the first-run checklist's first step) is
chosen on the place screens of handlers/place.py: typed (part of a name, «спб») or federal
district → region; the time zone follows from the region and is asked only in Yakutia. It is
stored as the coordinator's region (their /stats open on it) with its zone; every screen has
its way back, and forged or old buttons are answered “out of date” with nothing stored."""

from __future__ import annotations

from sqlalchemy import select

from bot.emulator import ChatMessage, EmulatedUser, Emulator
from bot.emulator.invite_links import add_group
from bot.storage.tables import audit_log, users
from bot.ui.keyboards import ServePlace
from tests.conftest import Launch, RunningBot
from tests.e2e.test_journey import say, tap

ADMIN = 7301
DISTRICTS = [
    "Центральный",
    "Северо-Западный",
    "Южный",
    "Северо-Кавказский",
    "Приволжский",
    "Уральский",
    "Сибирский",
    "Дальневосточный",
]
TICKED = "✅ Регион, который вы обслуживаете"
UNTICKED = "▫️ Регион, который вы обслуживаете"


async def coordinator(emulator: Emulator, running: RunningBot, user_id: int) -> EmulatedUser:
    user = emulator.user(user_id, first_name="Мария", language_code="ru")
    await say(user, "/start")  # never consented: a coordinator needs no consent for this
    await running.app.dp["coordination"].appoint(ADMIN, user_id)
    return user


async def region_screen(user: EmulatedUser) -> tuple[ChatMessage, ChatMessage]:
    """/coordinator → «📍 Мой регион»: the menu and the region screen (the menu, edited)."""
    menu = await say(user, "/coordinator")
    assert UNTICKED in menu.text
    place = await tap(user, "📍 Мой регион", menu)
    assert "Регион, который вы обслуживаете" in place.text
    assert "федеральный округ" in place.text
    assert "часовой пояс" not in place.text.lower()  # no zone first any more
    assert place.button_texts() == [*DISTRICTS, "« Меню координатора"]
    return menu, place


async def stored(running: RunningBot, user_id: int) -> tuple[str | None, str | None]:
    async with running.app.engine.connect() as conn:
        row = (await conn.execute(select(users).where(users.c.id == user_id))).mappings().one()
    return row["region"], row["timezone"]


async def test_typing_spb_serves_saint_petersburg(emulator: Emulator, launch: Launch) -> None:
    running = await launch(admin_ids=str(ADMIN))
    user = await coordinator(emulator, running, 7302)
    await region_screen(user)
    menu = await say(user, "спб")
    assert f"{TICKED}: Санкт-Петербург" in menu.text  # the menu at once, ticked
    assert "/profile" not in menu.text  # not the person's «Ваш регион … в /profile»
    await user.no_message(within=0.3)
    assert await stored(running, 7302) == ("spe", "Europe/Moscow")
    async with running.app.engine.connect() as conn:
        rows = await conn.execute(
            select(audit_log.c.action, audit_log.c.target).where(audit_log.c.actor_id == 7302)
        )
        assert ("coordinator.region", "spe") in [tuple(r) for r in rows]

    # /stats opens on the region served
    user.skip_pending()
    await user.send("/stats")
    summary = (await user.messages_until(lambda m: "в цифрах" in m.text, timeout=20))[-1]
    assert "в цифрах · Санкт-Петербург" in summary.text
    assert "🌍 Все регионы" in summary.button_texts()

    # typed again: none and too many matches answer with the districts; nothing changes
    menu = await say(user, "/coordinator")
    await tap(user, "📍 Мой регион", menu)
    nothing = await say(user, "Атлантида <b>")
    assert "Атлантида <b>" in nothing.text  # shown literally, not markup
    assert nothing.button_texts() == [*DISTRICTS, "« Меню координатора"]
    several = await say(user, "новг")
    assert "Великий Новгород" not in several.button_texts()  # regions, not towns
    assert {"Новгородская область", "Нижегородская область"} <= set(several.button_texts())
    assert several.button_texts()[-2:] == ["« Назад", "☰ Меню"]
    assert await stored(running, 7302) == ("spe", "Europe/Moscow")
    menu = await tap(user, "Нижегородская область", several)
    assert f"{TICKED}: Нижегородская область" in menu.text
    assert await stored(running, 7302) == ("niz", "Europe/Moscow")


async def test_district_then_region_with_a_way_back_from_each_screen(
    emulator: Emulator, launch: Launch
) -> None:
    running = await launch(admin_ids=str(ADMIN))
    user = await coordinator(emulator, running, 7303)
    menu, place = await region_screen(user)
    back = await tap(user, "« Меню координатора", place)
    assert UNTICKED in back.text  # the menu again, nothing chosen
    place = await tap(user, "📍 Мой регион", back)
    central = await tap(user, "Центральный", place)
    assert "Центральный федеральный округ" in central.text
    assert "▶" in central.button_texts()
    rest = await tap(user, "▶", central)
    assert "Ярославская область" in rest.button_texts()
    home = await tap(user, "« Назад", rest)
    assert home.button_texts() == place.button_texts()
    siberian = await tap(user, "Сибирский", home)
    menu = await tap(user, "Новосибирская область", siberian)
    assert f"{TICKED}: Новосибирская область" in menu.text
    assert await stored(running, 7303) == ("nvs", "Asia/Novosibirsk")
    # a typing state does not outlive the menu: text there is not a region search
    reply = await say(user, "спб")
    assert "Санкт-Петербург" not in reply.text
    assert await stored(running, 7303) == ("nvs", "Asia/Novosibirsk")


async def test_yakutia_asks_its_zone(emulator: Emulator, launch: Launch) -> None:
    running = await launch(admin_ids=str(ADMIN))
    user = await coordinator(emulator, running, 7304)
    _, place = await region_screen(user)
    far_east = await tap(user, "Дальневосточный", place)
    zones = await tap(user, "Республика Саха (Якутия)", far_east)
    assert "несколько часовых поясов" in zones.text
    assert zones.button_texts() == [
        "UTC+9 Якутск",
        "UTC+10 Усть-Нера",
        "UTC+11 Среднеколымск",
        "« Назад",
        "☰ Меню",
    ]
    assert await stored(running, 7304) == (None, None)
    home = await tap(user, "« Назад", zones)
    assert home.button_texts() == place.button_texts()
    zones = await say(user, "якут")  # typed: the same question, no other message first
    assert "несколько часовых поясов" in zones.text
    menu = await tap(user, "UTC+10 Усть-Нера", zones)
    assert f"{TICKED}: Республика Саха (Якутия)" in menu.text
    assert await stored(running, 7304) == ("sa", "Asia/Ust-Nera")


async def test_forged_and_old_buttons_change_nothing(emulator: Emulator, launch: Launch) -> None:
    running = await launch(admin_ids=str(ADMIN))
    user = await coordinator(emulator, running, 7305)
    _, place = await region_screen(user)
    for forged in (
        ServePlace(action="r", value="atlantis"),
        ServePlace(action="z", value="sa", n=7),
        ServePlace(action="z", value="nvs", n=0),
        ServePlace(action="d", value="moon"),
        ServePlace(action="none"),  # the person's «Rather not say»: not for a region served
        ServePlace(action="g", value="utc3"),
        "cz:utc7:tom",  # buttons of the old zone-then-region screens
        "cz:utc7:",
        "cz::",
    ):
        user.skip_pending()
        data = forged if isinstance(forged, str) else forged.pack()
        answer = await user.press_data(data, message=place)
        assert answer is not None
        reply = await user.next_message(timeout=5)
        assert "устарело" in reply.text, data
        assert await stored(running, 7305) == (None, None), data

    # someone who is not a coordinator: a real region's button stores nothing
    person = emulator.user(7306, first_name="Ева", language_code="ru")
    await say(person, "/start")
    person.skip_pending()
    await person.press_data(
        ServePlace(action="r", value="spe").pack(), message=person.last_bot_message
    )
    await person.next_message(timeout=5)
    assert await stored(running, 7306) == (None, None)


async def test_a_working_group_without_a_region_served_leads_to_it(
    emulator: Emulator, launch: Launch
) -> None:
    running = await launch(admin_ids=str(ADMIN))
    user = await coordinator(emulator, running, 7307)
    add_group(emulator.bot_state(), -100777, "Культура", can_invite_users=True)
    topics = await say(user, "/working_group -100777")
    asked = await tap(user, "Культура и просвещение", topics)
    assert "Сначала выберите регион, который вы обслуживаете" in asked.text
    assert asked.button_texts() == ["📍 Мой регион", "☰ Меню"]
    place = await tap(user, "📍 Мой регион", asked)
    assert place.button_texts() == [*DISTRICTS, "« Меню координатора"]
    menu = await say(user, "томск")
    assert f"{TICKED}: Томская область" in menu.text
    assert await stored(running, 7307) == ("tom", "Asia/Tomsk")
