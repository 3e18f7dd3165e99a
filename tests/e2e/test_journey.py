"""The activist journey end to end through the emulator: consent, role and place, ikigai with
edits and a restart, the stage quiz, the diagnosis, checklists, matched measures, the profile,
/my_data and /delete_me."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image
from sqlalchemy import func, select

from bot.content import get_catalog
from bot.domain.csvio import MeasureItem
from bot.emulator import ChatMessage, EmulatedUser, Emulator
from bot.services.profile import CONSENT_VERSION
from bot.storage import content_admin as content_repo
from bot.storage.tables import metadata, quiz_results, user_settings, users
from tests.conftest import Launch, RunningBot

CATALOG = get_catalog()
# The obvious answers of a stage-4 project (see tests/test_quiz.py).
FORMALIZATION = [
    "tackling", "team", "daily", "written", "planning",
    "donations", "regular_work", "one_place", "helpers", "carry_on",
]  # fmt: skip


async def tap(user: EmulatedUser, label: str, message: ChatMessage | None = None) -> ChatMessage:
    """Press a button; the handler has finished when the press is answered. Returns the screen
    the user now looks at (the edited message, or the newest one)."""
    await user.press(label, message=message)
    user.skip_pending()
    return current(user)


def current(user: EmulatedUser) -> ChatMessage:
    last = user.last_bot_message
    assert last is not None
    return last


async def read_policy(user: EmulatedUser, label: str, message: ChatMessage) -> str:
    """The policy's two pages, opened from `message` and turned with the page's ▶ button:
    each fits one Telegram message; their text together."""
    first = await tap(user, label, message)
    assert "1 of 2" in first.text or "1 из 2" in first.text
    [turn] = [b for b in first.button_texts() if b.endswith("▶")]
    second = await tap(user, turn, first)
    assert "2 of 2" in second.text or "2 из 2" in second.text
    assert [b for b in second.button_texts() if b.startswith("◀")]
    assert max(len(first.text), len(second.text)) <= 4096
    return first.text + "\n" + second.text


async def say(user: EmulatedUser, text: str) -> ChatMessage:
    user.skip_pending()
    await user.send(text)
    return await user.next_message(timeout=5)


async def enter(user: EmulatedUser, text: str) -> ChatMessage:
    """Type an ikigai entry: no new message — the step's message above it is edited in place,
    and the entry gets a ✍ reaction."""
    prompt = current(user)
    user.skip_pending()
    typed = await user.send(text)
    edited = await user.wait_edit(prompt)
    assert user.current(typed).reactions == ("✍",)
    assert current(user).message_id == prompt.message_id  # nothing sent below the entry
    return edited


def label(question_code: str, option_code: str, locale: str = "ru") -> str:
    return CATALOG.quiz.question(question_code).option(option_code).label.get(locale)


async def rows_of(bot: RunningBot, user_id: int) -> dict[str, int]:
    """How many rows mention the user, in every table that has a user id."""
    counts = {}
    async with bot.app.engine.connect() as conn:
        for table in metadata.sorted_tables:
            column = table.c.get("user_id") if "user_id" in table.c else None
            if table.name == "users":
                column = table.c.id
            if column is None:
                continue
            query = select(func.count()).select_from(table).where(column == user_id)
            counts[table.name] = (await conn.execute(query)).scalar_one()
    return counts


async def consent(user: EmulatedUser) -> ChatMessage:
    await say(user, "/start")
    screen = await tap(user, "🚀 Начать: мой проект")
    assert "Согласие на обработку персональных данных" in screen.text
    assert screen.button_texts() == [
        "✅ Даю согласие",
        "📄 Политика полностью",
        "✖ Не даю согласия",
    ]
    mailing = await tap(user, "✅ Даю согласие")
    # The announcements are a mailing: asked on their own, after consent, never bundled.
    assert "Объявления координаторов" in mailing.text
    assert mailing.button_texts() == ["🔔 Да, присылайте объявления", "🔕 Нет, спасибо"]
    return await tap(user, "🔔 Да, присылайте объявления", mailing)


async def test_the_whole_journey_in_russian(emulator: Emulator, launch: Launch, tmp_path) -> None:
    running = await launch(picture_processes=1)  # as deployed: the picture in its own process
    user = emulator.user(2001, first_name="Анна", username="anna_nsk", language_code="ru")

    # Before consent: only the id.
    await say(user, "/start")
    async with running.app.engine.connect() as conn:
        row = (await conn.execute(select(users).where(users.c.id == 2001))).mappings().one()
    assert row["first_name"] is None
    assert row["consent_at"] is None

    role = await consent(user)
    assert "Кто вы в «Опоре»?" in role.text
    async with running.app.engine.connect() as conn:
        row = (await conn.execute(select(users).where(users.c.id == 2001))).mappings().one()
    assert row["first_name"] == "Анна"
    assert row["consent_version"] == CONSENT_VERSION
    assert row["consent_at"] is not None
    async with running.app.engine.connect() as conn:
        mailing = (await conn.execute(select(user_settings.c.announcements))).scalars().all()
    assert mailing == [True]

    zones = await tap(user, "🚀 Активист: веду или начинаю проект")
    assert "Где вы?" in zones.text
    assert "федеральный округ" in zones.text  # the region first: typed, or by district
    assert zones.button_texts()[:3] == ["Центральный", "Северо-Западный", "Южный"]
    assert "🌐 Не хочу указывать" in zones.button_texts()
    regions = await tap(user, "Сибирский")
    assert "Новосибирская область" in regions.button_texts()
    first = await tap(user, "Новосибирская область")
    async with running.app.engine.connect() as conn:
        row = (await conn.execute(select(users).where(users.c.id == 2001))).mappings().one()
    assert (row["region"], row["timezone"]) == ("nvs", "Asia/Novosibirsk")

    # Ikigai, column 1: two entries, one with markup and emoji shown literally.
    assert "1 / 3" in first.text
    assert "Чего хочу" in first.text or "Чего хотят" in first.text
    assert "Пропустить ▶" in first.button_texts()
    screen = await enter(user, "Кружок робототехники для детей в селе")
    assert "1. Кружок робототехники для детей в селе" in screen.text
    assert "Дальше ▶" in screen.button_texts()
    screen = await enter(user, "<b>мастерская</b> & «ремонт» 🤖")
    assert "2. <b>мастерская</b> & «ремонт» 🤖" in screen.text  # plain text, not bold
    screen = await tap(user, "Дальше ▶")
    assert "2 / 3" in screen.text

    # Column 2: bad input gets a hint and changes nothing.
    hint = await say(user, "я" * 201)
    assert "201" in hint.text
    assert "200" in hint.text
    user.skip_pending()
    await user.send_sticker()
    hint = await user.next_message(timeout=5)
    assert "нужен текст" in hint.text
    screen = await say(user, "Паять и учить")  # after a hint, the step comes below it
    assert "1. Паять и учить" in screen.text

    # Edit an entry.
    edit = await tap(user, "✏️ Изменить записи")
    assert edit.button_texts()[:2] == ["✏️ Изменить 1", "🗑 Удалить 1"]
    prompt = await tap(user, "✏️ Изменить 1")
    assert "Паять и учить" in prompt.text
    screen = await enter(user, "Паять, программировать, учить")
    assert "1. Паять, программировать, учить" in screen.text

    # A restart in the middle of the exercise: the user keeps their place.
    await running.stop()
    running = await launch()
    screen = await enter(user, "Собирать команду")
    assert "2 / 3" in screen.text
    assert "2. Собирать команду" in screen.text

    screen = await tap(user, "Дальше ▶")
    assert "3 / 3" in screen.text
    topics = await tap(user, "Пропустить ▶")
    assert "Что нужно территории" in topics.text
    topics = await tap(user, "▫️ " + CATALOG.topic("education_access").short.ru)
    assert "✅ " + CATALOG.topic("education_access").short.ru in topics.button_texts()
    # The last step: the project's focus in the user's own words (a suggestion one tap takes).
    focus = await tap(user, "Готово ▶")
    assert "Фокус проекта" in focus.text
    assert "Подсказка из ваших ответов: Кружок робототехники для детей в селе" in focus.text
    assert "✅ Взять подсказку" in focus.button_texts()
    user.skip_pending()
    await user.send("Учим сельских детей паять и программировать")
    result = await user.messages_until(lambda m: "Вопрос 1 / 10" in m.text, timeout=10)
    picture = next(m for m in result if m.photo is not None)
    assert picture.photo is not None
    image = Image.open(io.BytesIO(picture.photo))
    assert image.size == (1080, 1080)
    assert "Ваш икигай" in picture.text  # the summary is the caption
    assert "Кружок робототехники" in picture.text
    assert "🎯 Фокус проекта: Учим сельских детей паять и программировать" in picture.text

    # The stage quiz: a stage-4 project.
    for question, option in zip(CATALOG.quiz.questions, FORMALIZATION, strict=True):
        screen = await tap(user, label(question.code, option))
    assert "Этап вашего проекта: 4/7 · Формализация" in screen.text
    assert "Почему этот этап" in screen.text
    assert "Дальше: этап 5" in screen.text
    # The seed names the risks only; our one-line meaning is marked as ours, and so is the
    # grouping of stages into phases.
    assert (
        "⚠️ Начало конца лидера: основатель упирается в собственные пределы: правила и команда "
        "перерастают его ручное управление (пояснение «Опоры»)"
    ) in screen.text
    assert "Фаза: Формализация (группировку этапов по фазам предлагает «Опора»)" in screen.text
    async with running.app.engine.connect() as conn:
        stages = (await conn.execute(select(quiz_results.c.stage))).scalars().all()
    assert stages == [4]

    # Problems of running projects steer the matching.
    problems = await tap(user, "📋 Проблемы")
    assert "Проблемы действующих проектов" in problems.text
    await tap(user, "▫️ Нехватка средств")
    measures = await tap(user, "Готово ▶")
    assert "Поддержка для вашего проекта" in measures.text
    assert "проблема: нехватка средств" in measures.text
    assert "этап: Формализация" in measures.text
    first_measure = next(b for b in measures.button_texts() if b.startswith("1. "))
    card = await tap(user, first_measure)
    assert "Почему" in card.text
    back = await tap(user, "« К списку")
    assert back.text == measures.text
    page2 = await tap(user, "▶")
    assert "стр. 2" in page2.text
    financial = await tap(
        user, next(b for b in page2.button_texts() if b.startswith("Финансовая"))
    )
    assert "Финансовая" in financial.text
    card = await tap(user, "« Диагностика")
    crises = await tap(user, "🆘 Проверка на кризис")
    # The six reactions are one chain, each with its plain meaning.
    assert "1. Лавина авралов — Количество задач начинает превышать" in crises.text
    assert "6. Тяжелое утро — Измотанные стороны садятся за стол переговоров" in crises.text
    await tap(user, "▫️ 1. Лавина авралов")
    await tap(user, "▫️ 3. Тихий саботаж")
    advice = await tap(user, "Готово ▶")
    assert "📍 Где вы сейчас: шаг 3 из 6, «Тихий саботаж»." in advice.text
    assert "⏭ Что обычно бывает дальше: «Танцы с бубном» — Все средства хороши" in advice.text
    sooner = CATALOG.crisis_reaction("quiet_sabotage").sooner
    assert sooner is not None
    assert f"🤝 Как быстрее прийти к столу переговоров: {sooner.ru[:40]}" in advice.text
    assert CATALOG.crisis_reaction("rush_avalanche").advice.ru[:40] in advice.text
    assert CATALOG.crisis_reaction("quiet_sabotage").advice.ru[:40] in advice.text
    assert crises.message_id == advice.message_id  # edited in place

    # The profile shows everything and edits come back to it.
    profile = await say(user, "/profile")
    assert "Роль: активист" in profile.text
    assert "Новосибирская область" in profile.text
    assert "4. Формализация" in profile.text
    assert "Команда, делегирование, санкции, управление ресурсами, наемники" in profile.text
    assert "Кружок робототехники" in profile.text
    assert "Нехватка средств" in profile.text
    zones = await tap(user, "🕐 Регион")
    await tap(user, "Северо-Западный")
    profile = await tap(user, "Калининградская область")
    assert "Ваш профиль" in profile.text
    assert "Калининградская область" in profile.text

    # /my_data: a readable message and a JSON file with everything.
    user.skip_pending()
    await user.send("/my_data")
    readable = await user.next_message(timeout=5)
    assert "Ваши данные в «Опоре»" in readable.text
    assert "Паять, программировать, учить" in readable.text
    # Names, not the codes they are stored as.
    assert "Язык: русский" in readable.text
    assert "Регион: Калининградская область · часовой пояс: МСК−1" in readable.text
    assert "Роли: активист" in readable.text
    assert "Икигай «Что могут»: Паять, программировать, учить" in readable.text
    assert "последний — этап 4, «Формализация»" in readable.text
    for code in ("kgd", "activist", "«can»", "«want»", "lack_of_funds"):
        assert code not in readable.text
    document = await user.next_message(timeout=5)
    assert document.file_name == "opora-my-data-2001.json"
    assert document.document is not None
    exported = json.loads(document.document)
    assert exported["ikigai"]["want"][1] == "<b>мастерская</b> & «ремонт» 🤖"
    assert exported["quiz_results"][0]["stage"] == 4
    assert exported["user"]["region"] == "kgd"

    # /delete_me: one confirmation, then nothing is left.
    ask = await say(user, "/delete_me")
    assert "Удалить все ваши данные?" in ask.text
    done = await tap(user, "🗑 Да, удалить всё")
    assert "удалено" in done.text
    assert set((await rows_of(running, 2001)).values()) == {0}
    assert emulator.rejections() == []


async def test_declined_consent_stores_nothing_and_public_content_works(
    emulator: Emulator, running_bot: RunningBot
) -> None:
    user = emulator.user(2002, language_code="ru")
    await say(user, "/start")
    consent = await tap(user, "🚀 Начать: мой проект")
    policy = await read_policy(user, "📄 Политика полностью", consent)
    assert "152-ФЗ" in policy
    assert "здоровье" in policy.lower()
    declined = await tap(user, "✖ Не даю согласия")
    assert "ничего о вас не сохранили" in declined.text
    assert set((await rows_of(running_bot, 2002)).values()) == {0}
    stages = await tap(user, "🧭 Этапы проекта")
    assert "1. Ощущение проблемы" in stages.button_texts()
    card = await tap(user, "4. Формализация")
    assert "Начало конца лидера" in card.text
    helped = await say(user, "/help")
    assert "/language" in helped.text
    # A journey button replayed without consent shows the consent screen and stores nothing.
    await user.press_data("rl:activist")
    assert "Согласие" in current(user).text
    profile = await say(user, "/profile")
    assert "Согласие" in profile.text
    nothing = await say(user, "/my_data")
    assert "ничего о вас не храним" in nothing.text
    assert set((await rows_of(running_bot, 2002)).values()) == {0}
    assert emulator.rejections() == []


async def test_journey_in_english_with_back_steps(
    emulator: Emulator, running_bot: RunningBot
) -> None:
    user = emulator.user(2003, first_name="Kate", language_code="en")
    await say(user, "/start")
    screen = await tap(user, "🚀 Start: my project")
    assert "Consent to personal data processing" in screen.text
    mailing = await tap(user, "✅ I agree")
    assert "Announcements from coordinators" in mailing.text
    role = await tap(user, "🔕 No, thanks", mailing)
    assert "Who are you in Opora?" in role.text
    zones = await tap(user, "🚀 Activist: I run or start a project")
    groups = await tap(user, "🌐 Rather not say", zones)
    assert "UTC+12 Kamchatka" in groups.button_texts()
    column = await tap(user, "UTC+12 Kamchatka")
    assert "1 / 3" in column.text
    async with running_bot.app.engine.connect() as conn:
        row = (await conn.execute(select(users).where(users.c.id == 2003))).mappings().one()
    assert (row["region"], row["timezone"]) == (None, "Asia/Kamchatka")
    screen = await enter(user, "A repair café for the village")
    screen = await tap(user, "Next ▶")
    assert "2 / 3" in screen.text
    screen = await tap(user, "« Back")
    assert "1 / 3" in screen.text
    assert "1. A repair café for the village" in screen.text
    await tap(user, "Next ▶")
    await tap(user, "Skip ▶")
    topics = await tap(user, "Skip ▶")
    assert "What the area needs" in topics.text
    focus = await tap(user, "Done ▶")
    assert "Project focus" in focus.text
    topics = await tap(user, "« Back")
    assert "What the area needs" in topics.text
    await tap(user, "Done ▶")
    user.skip_pending()
    await user.press("Skip ▶")  # no sentence: the picture's centre stays empty
    await user.messages_until(lambda m: "Question 1 / 10" in m.text, timeout=10)
    q1 = user.last_bot_message
    assert q1 is not None
    q2 = await tap(user, label("problem", "vague", "en"), q1)
    assert "Question 2 / 10" in q2.text
    assert q2.message_id == q1.message_id  # the quiz edits one message
    back = await tap(user, "« Back")
    assert "Question 1 / 10" in back.text
    # An answer to a question that is not the current one re-shows the current question.
    await user.press_data("qz:people:team", message=back)
    assert "Question 1 / 10" in current(user).text
    for question, option in zip(CATALOG.quiz.questions, FORMALIZATION, strict=True):
        screen = await tap(user, label(question.code, option, "en"))
    assert "Your project's stage: 4/7" in screen.text
    assert "Why this stage" in screen.text
    # Retake: every result is kept with its date, and the card shows the progress.
    await tap(user, "🔁 Retake the quiz")
    expansion = ["tackling", "team", "daily", "staff", "registered", "contracts", "measurable",
                 "several_places", "helpers", "carry_on"]  # fmt: skip
    for question, option in zip(CATALOG.quiz.questions, expansion, strict=True):
        screen = await tap(user, label(question.code, option, "en"))
    assert "Your project's stage: 5/7" in screen.text
    assert "Last time" in screen.text
    assert "stage 4" in screen.text
    profile = await say(user, "/profile")
    assert "4. Formalisation" in profile.text
    assert "5. Expansion" in profile.text
    assert emulator.rejections() == []


async def onboard_stage_4(user: EmulatedUser) -> ChatMessage:
    """Consent, activist in Novosibirsk Oblast, skip the ikigai, stage-4 quiz: the diagnosis."""
    await consent(user)
    await tap(user, "🚀 Активист: веду или начинаю проект")
    await tap(user, "Сибирский")
    await tap(user, "Новосибирская область")
    await tap(user, "Пропустить ▶")
    await tap(user, "Пропустить ▶")
    await tap(user, "Пропустить ▶")
    await user.press("Готово ▶")
    await user.messages_until(lambda m: "Вопрос 1 / 10" in m.text, timeout=10)
    screen = current(user)
    for question, option in zip(CATALOG.quiz.questions, FORMALIZATION, strict=True):
        screen = await tap(user, label(question.code, option))
    return screen


# A coordinator's financial measure of another region: never offered in Novosibirsk.
KAMCHATKA_SUBSIDY = MeasureItem(
    title="Субсидия Камчатского края",
    description="Только для Камчатки.",
    type="financial",
    region="kam",
    contact="",
)


async def add_local_measures(running_bot: RunningBot, *items: MeasureItem) -> None:
    """Coordinators' local measures, saved as the content forms save them."""
    now = running_bot.app.clock.now()
    async with running_bot.app.engine.begin() as conn:
        for item in items:
            await content_repo.save_measure(conn, item, 0, now)


async def test_local_measures_of_the_region_are_matched(
    emulator: Emulator, running_bot: RunningBot
) -> None:
    await add_local_measures(
        running_bot,
        MeasureItem(
            title="Грант мэрии Новосибирска на социальные проекты",
            description="До 300 000 ₽ на проекты НКО города.",
            type="financial",
            phase="formalization",
            region="nvs",
            problems=("lack_of_funds",),
            contact="+7 383 000-00-00",
            link="https://example.org/grant",
        ),
        KAMCHATKA_SUBSIDY,
    )
    user = emulator.user(2004, language_code="ru")
    await onboard_stage_4(user)
    measures = await tap(user, "🤝 Подходящие меры поддержки")
    first = next(b for b in measures.button_texts() if b.startswith("1. "))
    assert first.startswith("1. Грант мэрии Новосибирска")
    assert "ваш регион" in measures.text
    all_pages = measures.text
    while "▶" in current(user).button_texts():
        all_pages += (await tap(user, "▶")).text
    assert "Камчатского" not in all_pages  # another region's measure is not offered
    await tap(user, "◀") if "◀" in current(user).button_texts() else None
    await tap(user, "• Все") if "• Все" in current(user).button_texts() else None
    listing = await say(user, "/profile")
    assert "Новосибирская область" in listing.text
    diagnosis = await tap(user, "🩺 Диагностика")
    measures = await tap(user, "🤝 Подходящие меры поддержки", diagnosis)
    card = await tap(user, first)
    assert "+7 383 000-00-00" in card.text
    assert "Новосибирская область" in card.text
    link = card.buttons[0][0]
    assert (link.text, link.url) == ("🔗 Открыть ссылку", "https://example.org/grant")
    assert emulator.rejections() == []


async def test_without_a_font_the_ikigai_result_is_text(
    emulator: Emulator, launch: Launch, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.app.find_font", lambda _configured: None)
    await launch()
    user = emulator.user(2005, language_code="ru")
    await consent(user)
    await tap(user, "🚀 Активист: веду или начинаю проект")
    await tap(user, "Центральный")
    await tap(user, "Москва")
    await enter(user, "Помогать пожилым")
    await tap(user, "Дальше ▶")
    await tap(user, "Пропустить ▶")
    await tap(user, "Пропустить ▶")
    await tap(user, "Готово ▶")
    user.skip_pending()
    await user.press("✅ Взять подсказку")
    result = await user.messages_until(lambda m: "Ваш икигай" in m.text, timeout=10)
    assert all(m.photo is None for m in result)
    assert "Помогать пожилым" in result[-1].text


async def test_flow_state_in_redis_survives_a_restart(
    emulator: Emulator, launch: Launch, redis_url: str
) -> None:
    from aiogram.fsm.storage.redis import RedisStorage
    from redis.asyncio import Redis

    running = await launch(redis_url=redis_url)
    assert isinstance(running.app.dp.storage, RedisStorage)
    user = emulator.user(2006, language_code="ru")
    await consent(user)
    await tap(user, "🚀 Активист: веду или начинаю проект")
    await tap(user, "Центральный")
    await tap(user, "Москва")
    await enter(user, "Первая запись")
    await running.stop()
    client = Redis.from_url(redis_url)
    keys = [k.decode() if isinstance(k, bytes) else k for k in await client.keys("*2006*")]
    await client.aclose()
    assert any(k.endswith(":state") for k in keys), keys
    await launch(redis_url=redis_url)
    screen = await enter(user, "Вторая запись")
    assert "2. Вторая запись" in screen.text


async def test_a_result_of_a_quiz_that_has_changed_leads_to_the_new_quiz(
    emulator: Emulator, running_bot: RunningBot
) -> None:
    """Answers stored before the quiz's questions changed no longer score: the card offers the
    quiz anew instead of failing."""
    user = emulator.user(9101, language_code="ru")
    card = await onboard_stage_4(user)
    assert "Формализация" in card.text
    async with running_bot.app.engine.begin() as conn:
        await conn.execute(
            quiz_results.update()
            .where(quiz_results.c.user_id == user.id)
            .values(answers=json.dumps({"problem": "tackling"}))
        )
    await tap(user, "📋 Проблемы")
    back = next(t for t in current(user).button_texts() if t.startswith("«"))
    screen = await tap(user, back)
    assert "Вопрос 1 / 10" in screen.text
    assert not any("Простите" in m.text for m in user.chat.bot_messages)
