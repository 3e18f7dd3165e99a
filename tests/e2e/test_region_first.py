"""The place screen asks the region first — typed (part of a name, a town, «спб») or by federal
district — and the time zone follows from it; only Yakutia, over three offsets, asks which
zone. «Rather not say» leads to the old zone groups. Forged buttons change nothing, and every
step has its way back."""

from __future__ import annotations

from sqlalchemy import select

from bot.emulator import ChatMessage, EmulatedUser, Emulator
from bot.storage.tables import users
from bot.ui.keyboards import Place
from tests.conftest import RunningBot
from tests.e2e.test_journey import say, tap

DISTRICTS_EN = [
    "Central",
    "North-Western",
    "Southern",
    "North Caucasian",
    "Volga",
    "Ural",
    "Siberian",
    "Far Eastern",
]


async def place_screen(user: EmulatedUser) -> ChatMessage:
    """From /start to the place screen, in English."""
    await say(user, "/start")
    await tap(user, "🚀 Start: my project")
    mailing = await tap(user, "✅ I agree")
    await tap(user, "🔕 No, thanks", mailing)
    place = await tap(user, "🚀 Activist: I run or start a project")
    assert "Where are you?" in place.text
    assert "federal district" in place.text
    assert place.button_texts() == [*DISTRICTS_EN, "🌐 Rather not say", "« Main menu"]
    return place


async def stored(bot: RunningBot, user_id: int) -> tuple[str | None, str | None]:
    async with bot.app.engine.connect() as conn:
        row = (await conn.execute(select(users).where(users.c.id == user_id))).mappings().one()
    return row["region"], row["timezone"]


async def test_typing_part_of_a_name_takes_the_region_and_its_zone(
    emulator: Emulator, running_bot: RunningBot
) -> None:
    user = emulator.user(7101, first_name="Tanya", language_code="en")
    await place_screen(user)
    user.skip_pending()
    await user.send("новосиб")
    found = await user.next_message(timeout=5)
    assert "Your region: Novosibirsk Oblast" in found.text
    first = await user.next_message(timeout=5)
    assert "1 / 3" in first.text  # ikigai, column 1: no time zone asked
    assert await stored(running_bot, 7101) == ("nvs", "Asia/Novosibirsk")


async def test_aliases_case_and_yo_do_not_matter(
    emulator: Emulator, running_bot: RunningBot
) -> None:
    for user_id, typed, expected in [
        (7111, "СПб", ("spe", "Europe/Moscow")),
        (7112, "питер", ("spe", "Europe/Moscow")),
        (7113, "мск", ("mow", "Europe/Moscow")),
        (7114, "Орёл", ("orl", "Europe/Moscow")),
        (7115, "TATAR", ("ta", "Europe/Moscow")),
    ]:
        user = emulator.user(user_id, first_name="Sam", language_code="en")
        await place_screen(user)
        user.skip_pending()
        await user.send(typed)
        assert "Your region:" in (await user.next_message(timeout=5)).text
        await user.next_message(timeout=5)
        assert await stored(running_bot, user_id) == expected, typed


async def test_several_matches_become_buttons(emulator: Emulator, running_bot: RunningBot) -> None:
    user = emulator.user(7102, first_name="Ivan", language_code="en")
    place = await place_screen(user)
    several = await say(user, "моск")
    assert "Several regions match “моск”" in several.text
    assert several.button_texts() == ["Moscow", "Moscow Oblast", "« Back", "☰ Menu"]
    assert await stored(running_bot, 7102) == (None, None)
    # « Back: the place screen again
    again = await tap(user, "« Back", several)
    assert again.button_texts() == place.button_texts()
    several = await say(user, "моск")
    first = await tap(user, "Moscow Oblast", several)
    assert "1 / 3" in first.text
    assert await stored(running_bot, 7102) == ("mos", "Europe/Moscow")


async def test_no_match_says_so_and_offers_the_districts(
    emulator: Emulator, running_bot: RunningBot
) -> None:
    user = emulator.user(7103, first_name="Lena", language_code="en")
    await place_screen(user)
    nothing = await say(user, "Atlantis <b>")
    assert "No region matches “Atlantis <b>”" in nothing.text  # shown literally, not markup
    assert nothing.button_texts() == [*DISTRICTS_EN, "🌐 Rather not say", "« Main menu"]
    many = await say(user, "республика")
    assert "Too many regions match" in many.text
    assert await stored(running_bot, 7103) == (None, None)
    # the districts of that answer work
    await tap(user, "Ural", nothing)
    district = user.current(nothing)  # the older answer's message, edited
    assert "Ural federal district" in district.text
    await tap(user, "Sverdlovsk Oblast", district)
    assert "1 / 3" in user.current(nothing).text
    assert await stored(running_bot, 7103) == ("sve", "Asia/Yekaterinburg")


async def test_the_district_path_pages_and_goes_back(
    emulator: Emulator, running_bot: RunningBot
) -> None:
    user = emulator.user(7104, first_name="Oleg", language_code="en")
    place = await place_screen(user)
    central = await tap(user, "Central", place)
    assert "Central federal district" in central.text
    names = central.button_texts()
    assert len([n for n in names if n.endswith("Oblast") or n == "Moscow"]) == 12
    assert "▶" in names
    assert "« Back" in names
    rest = await tap(user, "▶", central)
    assert "Yaroslavl Oblast" in rest.button_texts()
    assert "◀" in rest.button_texts()
    back = await tap(user, "« Back", rest)
    assert back.button_texts() == place.button_texts()
    southern = await tap(user, "Southern", back)
    for name in (
        "Republic of Crimea",
        "Sevastopol",
        "Donetsk People's Republic",
        "Kherson Oblast",
    ):
        assert name in southern.button_texts()
    first = await tap(user, "Sevastopol", southern)
    assert "1 / 3" in first.text
    assert await stored(running_bot, 7104) == ("sev", "Europe/Simferopol")


async def test_yakutia_asks_its_zone_and_back_returns(
    emulator: Emulator, running_bot: RunningBot
) -> None:
    user = emulator.user(7105, first_name="Aisen", language_code="en")
    place = await place_screen(user)
    far_east = await tap(user, "Far Eastern", place)
    zones = await tap(user, "Sakha (Yakutia) Republic", far_east)
    assert "has several time zones" in zones.text
    assert zones.button_texts() == [
        "UTC+9 Yakutsk",
        "UTC+10 Ust-Nera",
        "UTC+11 Srednekolymsk",
        "« Back",
        "☰ Menu",
    ]
    assert await stored(running_bot, 7105) == (None, None)
    back = await tap(user, "« Back", zones)
    assert back.button_texts() == place.button_texts()
    # typed, the same question
    zones = await say(user, "якут")
    assert "Your region: Sakha (Yakutia) Republic" in zones.text
    zones = await user.next_message(timeout=5)
    assert "UTC+10 Ust-Nera" in zones.button_texts()
    first = await tap(user, "UTC+10 Ust-Nera", zones)
    assert "1 / 3" in first.text
    assert await stored(running_bot, 7105) == ("sa", "Asia/Ust-Nera")


async def test_rather_not_say_keeps_a_zone_only(
    emulator: Emulator, running_bot: RunningBot
) -> None:
    user = emulator.user(7106, first_name="Max", language_code="en")
    place = await place_screen(user)
    groups = await tap(user, "🌐 Rather not say", place)
    assert "Your time zone" in groups.text
    assert len([b for b in groups.button_texts() if b.startswith("UTC+")]) == 11
    back = await tap(user, "« Back", groups)
    assert back.button_texts() == place.button_texts()
    groups = await tap(user, "🌐 Rather not say", back)
    first = await tap(user, "UTC+12 Kamchatka", groups)
    assert "1 / 3" in first.text
    assert await stored(running_bot, 7106) == (None, "Asia/Kamchatka")


async def test_forged_buttons_change_nothing(emulator: Emulator, running_bot: RunningBot) -> None:
    user = emulator.user(7107, first_name="Eve", language_code="en")
    place = await place_screen(user)
    for forged in (
        Place(action="r", value="atlantis"),
        Place(action="z", value="sa", n=7),
        Place(action="z", value="nvs", n=0),
        Place(action="d", value="moon"),
        Place(action="g", value="utc99"),
        "pl:utc3:ta",  # buttons of the old zone-then-region screen
        "pl:utc3:",
    ):
        user.skip_pending()
        data = forged if isinstance(forged, str) else forged.pack()
        answer = await user.press_data(data, message=place)
        assert answer is not None
        reply = await user.next_message(timeout=5)
        assert "out of date" in reply.text, data
        assert await stored(running_bot, 7107) == (None, None), data


async def test_the_volunteer_and_the_profile_use_the_same_screen(
    emulator: Emulator, running_bot: RunningBot
) -> None:
    user = emulator.user(7108, first_name="Vera", language_code="ru")
    await say(user, "/start")
    consent = await tap(user, "🤝 Хочу помогать")
    mailing = await tap(user, "✅ Даю согласие", consent)
    place = await tap(user, "🔕 Нет, спасибо", mailing)
    assert "Где вы?" in place.text
    assert "федеральный округ" in place.text
    assert place.button_texts()[:2] == ["Центральный", "Северо-Западный"]
    assert "🌐 Не хочу указывать" in place.button_texts()
    nothing = await say(user, "Атлантида")
    assert "Не нашли регион по запросу «Атлантида»" in nothing.text
    several = await say(user, "саха")
    assert "нашлось несколько регионов" in several.text
    assert several.button_texts()[:2] == ["Республика Саха (Якутия)", "Сахалинская область"]
    topics = await tap(user, "Сахалинская область", several)
    assert "Сахалинская область" not in topics.text  # the volunteer's setup: single zone
    assert await stored(running_bot, 7108) == ("sak", "Asia/Sakhalin")

    # /profile → 🕐 Регион: the same screen, and back to the profile when done; a command
    # typed there is the command, not a region's name
    profile = await say(user, "/profile")
    place = await tap(user, "🕐 Регион", profile)
    profile = await say(user, "/profile")
    assert "Сахалинская область" in profile.text
    place = await tap(user, "🕐 Регион", profile)
    assert "Где вы?" in place.text
    district = await tap(user, "Сибирский", place)
    assert "Сибирский федеральный округ" in district.text
    profile = await tap(user, "Томская область", district)
    assert "Томская область" in profile.text
    assert await stored(running_bot, 7108) == ("tom", "Asia/Tomsk")
    # typed from the profile, Yakutia in Russian asks its zone
    place = await tap(user, "🕐 Регион", profile)
    found = await say(user, "якутск")
    assert "Ваш регион: Республика Саха (Якутия)" in found.text
    zones = await user.next_message(timeout=5)
    assert "несколько часовых поясов" in zones.text
    assert zones.button_texts()[:3] == ["UTC+9 Якутск", "UTC+10 Усть-Нера", "UTC+11 Среднеколымск"]
    profile = await tap(user, "UTC+11 Среднеколымск", zones)
    assert "Республика Саха (Якутия)" in profile.text
    assert await stored(running_bot, 7108) == ("sa", "Asia/Srednekolymsk")


async def test_leaving_the_place_screen_ends_the_search(
    emulator: Emulator, running_bot: RunningBot
) -> None:
    """After «« Main menu» a typed word is not taken as a region search."""
    user = emulator.user(7191, first_name="Lev", language_code="en")
    place = await place_screen(user)
    await tap(user, "« Main menu", place)
    answer = await say(user, "новосиб")
    assert "Your region" not in answer.text
    assert "No region" not in answer.text
    assert await stored(running_bot, 7191) == (None, None)
