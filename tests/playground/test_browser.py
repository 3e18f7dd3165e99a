"""The playground in a real browser: Debian's chromium driven by Selenium, at a phone's size, by
clicking the buttons and typing into the message box. An activist goes /start → consent → the
first ikigai step; a volunteer goes /start → consent → place → profile → the opportunities that
fit → signs up; a coordinator goes /start → first steps → the region served → the invitation (its
QR code shown) → a new opportunity. Screenshots are saved outside the repository (their paths are
printed)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.playground import Playground
from tests.playground.conftest import ANNA, BORIS, VERA, playground_settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--lang=ru",
)
WAIT = 30  # seconds; generous for a loaded 2-core machine


@contextlib.contextmanager
def served(tmp_path: Path) -> Iterator[str]:
    """The playground on its own event loop in a thread (Selenium's calls block)."""
    started = threading.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        playground = Playground(playground_settings(tmp_path), tmp_path / "playground")
        stop = asyncio.Event()
        try:
            box["url"] = await playground.start("127.0.0.1", 0)
            box["stop"], box["loop"] = stop, asyncio.get_running_loop()
        finally:
            started.set()
        try:
            await stop.wait()
        finally:
            await playground.stop()

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:
            box["error"] = exc
            started.set()

    thread = threading.Thread(target=run, name="playground", daemon=True)
    thread.start()
    assert started.wait(120), "the playground did not start within 120 s"
    if "error" in box:
        raise box["error"]
    try:
        yield box["url"]
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(60)
        if "error" in box:
            raise box["error"]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip(
            "browser test skipped: /usr/bin/chromium and /usr/bin/chromedriver are needed "
            "(apt-get install chromium chromium-driver; .ci/run installs them)"
        )
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.add_argument("--window-size=1280,800")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def until(driver: Any, condition: Any, what: str) -> Any:
    from selenium.common.exceptions import (
        ElementClickInterceptedException,
        StaleElementReferenceException,
    )
    from selenium.webdriver.support.ui import WebDriverWait

    # A node redrawn by an edit goes stale; a click that something on top (the command menu, an
    # alert) would catch is not delivered: both are tried again.
    ignored = [StaleElementReferenceException, ElementClickInterceptedException]
    wait = WebDriverWait(driver, WAIT, ignored_exceptions=ignored)
    return wait.until(condition, message=f"{what} within {WAIT}s")


def chat_text(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.ID, "messages").text)


def see(driver: Any, text: str) -> None:
    until(driver, lambda d: text in chat_text(d), f"no {text!r} in the chat")


NEWEST_KEY = (
    "const keys = [...document.querySelectorAll('#messages .key')]"
    ".filter((k) => k.textContent === arguments[0] && !k.disabled);"
    "return keys.length ? keys[keys.length - 1] : null;"
)


def key(driver: Any, label: str) -> Any:
    """The newest inline button with this label, once it is there."""
    return until(
        driver, lambda d: d.execute_script(NEWEST_KEY, label) or False, f"no button {label!r}"
    )


def tap(driver: Any, label: str) -> None:
    """Press the newest inline button with this label, as a finger would."""

    def press(d: Any) -> bool:
        found = d.execute_script(NEWEST_KEY, label)
        if found:
            found.click()
        return bool(found)

    until(driver, press, f"no button {label!r} to press")


LAST_IN = "const all = document.querySelectorAll('#messages .msg.in'), last = all[all.length - 1];"


def last_text(driver: Any) -> str:
    """What the bot's newest message says (its bubble: text, caption, file)."""
    return str(
        driver.execute_script(
            LAST_IN + "return last ? last.querySelector('.bubble').innerText : '';"
        )
    )


def says(driver: Any, *texts: str) -> str:
    """Wait until the bot's newest message says all these; returns what it says."""
    from selenium.common.exceptions import TimeoutException

    try:
        until(driver, lambda d: all(t in last_text(d) for t in texts), f"no {texts!r} last")
    except TimeoutException as exc:
        shown = f"{last_text(driver)!r} {buttons(driver)}"
        raise AssertionError(f"{exc.msg}; the newest message: {shown}") from None
    return last_text(driver)


def buttons(driver: Any) -> list[str]:
    """The labels of the buttons under the bot's newest message, row after row."""
    labels = driver.execute_script(
        LAST_IN
        + "return last ? [...last.querySelectorAll('.key')].map((k) => k.textContent) : [];"
    )
    return [str(label) for label in labels]


def type_and_enter(driver: Any, text: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element(By.ID, "text")
    box.click()
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def person(driver: Any, person_id: int) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, f'.person[data-person="{person_id}"]')


def viewport(driver: Any, width: int, height: int) -> None:
    """A phone's screen (headless windows are at least 500 px wide): emulate its metrics."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True},
    )
    if driver.current_url.startswith("http"):
        until(driver, lambda d: d.execute_script("return window.innerWidth") == width, "resize")


def no_horizontal_scroll(driver: Any) -> bool:
    return bool(
        driver.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth"
            " && document.body.scrollWidth <= window.innerWidth"
        )
    )


TOUCH = 44  # px: the least a finger can hit (WCAG 2.5.5, Apple's and Google's guides)
TARGETS = ".person, .step, .language, #messages .key, #menu-button, #attach, #send, #text"


def fits_a_phone(driver: Any, height: int) -> None:
    """What a phone's user sees: every control is big enough to tap, the header (all above
    the chat) takes at most an eighth of the screen, each role's name is shown whole."""
    small = driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])]"
        ".filter((e) => e.getClientRects().length)"
        ".map((e) => [e.className || e.id, e.getBoundingClientRect()])"
        ".filter(([, r]) => r.width < arguments[1] || r.height < arguments[1])"
        ".map(([name, r]) => `${name}: ${r.width}x${r.height}`)",
        TARGETS,
        TOUCH,
    )
    assert small == [], small
    header = driver.execute_script(
        "return document.getElementById('messages').getBoundingClientRect().top"
    )
    assert header <= height / 8, f"the header takes {header}px of {height}"
    cut = driver.execute_script(
        "return [...document.querySelectorAll('.person')].filter((p) => {"
        "  const box = p.getBoundingClientRect();"
        "  return [...p.querySelectorAll('.name, .role')].some((t) => {"
        "    const r = t.getBoundingClientRect();"
        "    return t.scrollWidth > t.clientWidth + 1 || t.scrollHeight > t.clientHeight + 1"
        "      || r.right > box.right + 0.5 || r.bottom > box.bottom + 0.5 || r.width === 0;"
        "  });"
        "}).map((p) => [...p.querySelectorAll('.name, .role')].map((t) => {"
        "  const r = t.getBoundingClientRect(), b = p.getBoundingClientRect();"
        "  return `${t.textContent} ${t.scrollWidth}/${t.clientWidth} ${t.scrollHeight}/`"
        "    + `${t.clientHeight} ${r.right}/${b.right} ${r.bottom}/${b.bottom}`;"
        "}).join('; '))"
    )
    assert cut == [], cut
    words_whole(driver)
    roles = [r.text for r in driver.find_elements("css selector", ".person .role")]
    assert " ".join(roles[2].split()) == "Координатор, админ"


BROKEN_WORDS = """
return [...document.querySelectorAll('.person .name, .person .role')].flatMap((node) => {
  const text = node.firstChild;
  if (!text || text.nodeType !== Node.TEXT_NODE) return [];
  const broken = [];
  for (const m of text.data.matchAll(/\\S+/g)) {
    const range = document.createRange();
    range.setStart(text, m.index);
    range.setEnd(text, m.index + m[0].length);
    if (range.getClientRects().length > 1) broken.push(m[0]);
  }
  return broken;
});
"""


def words_whole(driver: Any) -> None:
    """No name or role on the tabs is broken inside a word («Доброволе-ц»)."""
    assert driver.execute_script(BROKEN_WORDS) == []


def no_focus_jump_on_touch(driver: Any) -> None:
    """On a touch screen the command menu does not put the focus into the message box (the
    on-screen keyboard would cover half the chat) after a command is picked."""
    from selenium.webdriver.common.by import By

    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True})
    assert driver.execute_script("return matchMedia('(pointer: coarse)').matches")
    driver.execute_script("document.activeElement.blur()")
    driver.find_element(By.ID, "menu-button").click()
    assert driver.execute_script("return document.activeElement.id") != "text"
    items = driver.find_elements(By.CSS_SELECTOR, "#menu .menu-item")
    next(i for i in items if i.text.startswith("/help")).click()
    see(driver, "Справка")
    assert driver.execute_script("return document.activeElement.id") != "text"
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})


def test_a_person_goes_from_start_to_the_first_ikigai_step_in_a_browser(
    browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver = browser
    with served(tmp_path) as url:
        viewport(driver, 360, 640)
        driver.get(url)
        # three people and the group where the bot posts cards
        until(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".person")) == 4, "people")
        assert driver.execute_script("return window.innerWidth") == 360
        assert person(driver, ANNA).get_attribute("aria-pressed") == "true"
        start = driver.find_element(By.ID, "start")
        until(driver, lambda d: start.is_displayed(), "no Start button in an empty chat")
        assert "Анна" in driver.find_element(By.ID, "empty-text").text
        start.click()

        # /start → «Начать» → consent → role → place: by clicking inline buttons.
        tap(driver, "🚀 Начать: мой проект")
        see(driver, "Согласие на обработку персональных данных")
        tap(driver, "✅ Даю согласие")
        tap(driver, "🔕 Нет, спасибо")
        see(driver, "Кто вы в «Опоре»?")
        assert "Согласие на обработку" not in chat_text(driver)  # edited in place
        tap(driver, "🚀 Активист: веду или начинаю проект")
        see(driver, "федеральный округ")  # the region first: a district, then its region
        tap(driver, "Сибирский")
        see(driver, "Сибирский федеральный округ")
        tap(driver, "Новосибирская область")
        see(driver, "1 / 3")
        key(driver, "Пропустить ▶")

        # The first ikigai step, by typing: Enter sends, Shift+Enter is a new line.
        box = driver.find_element(By.ID, "text")
        box.send_keys("первая", Keys.SHIFT, Keys.ENTER, Keys.NULL, "вторая")
        assert box.get_attribute("value") == "первая\nвторая"
        box.send_keys(Keys.CONTROL, "a", Keys.NULL, Keys.DELETE)
        type_and_enter(driver, "Кружок робототехники для детей в селе")
        see(driver, "1. Кружок робототехники для детей в селе")
        assert box.get_attribute("value") == ""
        mine = driver.find_elements(By.CSS_SELECTOR, "#messages .msg.out .text")
        assert mine[-1].text.startswith("Кружок робототехники для детей в селе")
        key(driver, "Дальше ▶")

        # Keyboard access: every inline button is a <button>; Tab goes from the text box on.
        tags = {k.tag_name for k in driver.find_elements(By.CSS_SELECTOR, "#messages .key")}
        assert tags == {"button"}
        box.click()
        box.send_keys(Keys.TAB)
        assert driver.switch_to.active_element.get_attribute("id") == "send"
        assert no_horizontal_scroll(driver)

        # The coordinator: her own chat, the command menu, the coordinator's tools.
        person(driver, VERA).click()
        assert person(driver, VERA).get_attribute("aria-pressed") == "true"
        until(driver, lambda d: d.find_element(By.ID, "empty").is_displayed(), "Вера's chat")
        assert "Кружок робототехники" not in chat_text(driver)
        driver.find_element(By.ID, "menu-button").click()
        menu = driver.find_element(By.ID, "menu")
        assert menu.is_displayed()
        names = [n.text for n in menu.find_elements(By.CSS_SELECTOR, ".menu-name")]
        assert names[0] == "/start"
        assert "/grants" in names
        driver.switch_to.active_element.send_keys(Keys.ESCAPE)
        until(driver, lambda d: not menu.is_displayed(), "the menu to close")
        type_and_enter(driver, "/start")  # the coordinator's /start: her tools, first steps
        see(driver, "Первые шаги")
        key(driver, "📣 Рассылка")
        tap(driver, "📍 Мой регион")  # region first: part of its name, typed
        says(driver, "Регион, который вы обслуживаете", "или выберите федеральный округ")
        type_and_enter(driver, "новосиб")
        see(driver, "✅ Регион, который вы обслуживаете: Новосибирская область")

        # The group: read-only, its own title, no message box.
        driver.find_element(By.CSS_SELECTOR, ".person.group").click()
        title = driver.find_element(By.ID, "chat-title")
        until(
            driver,
            lambda d: title.get_attribute("textContent") == "Добровольцы района",
            "the group's title",
        )
        assert not driver.find_element(By.ID, "composer").is_displayed()
        assert "Организатор публикует" in driver.find_element(By.ID, "empty-text").text

        # Back to Анна: her chat is as she left it.
        person(driver, ANNA).click()
        see(driver, "1. Кружок робототехники для детей в селе")
        assert "Координатору" not in chat_text(driver)
        key(driver, "Дальше ▶")

        # The clock moves a day forward.
        clock = driver.find_element(By.ID, "clock-now")
        before = clock.get_attribute("datetime")
        driver.find_element(By.CSS_SELECTOR, '.step[data-step="day"]').click()
        until(
            driver,
            lambda d: clock.get_attribute("datetime")[:10] != before[:10],
            "the bot's date to change",
        )
        assert no_horizontal_scroll(driver)

        # Screenshots: a phone and a desktop.
        viewport(driver, 390, 844)
        driver.execute_script(
            "const m = document.getElementById('messages');m.scrollTop = m.scrollHeight;"
        )
        phone = tmp_path / "playground-phone.png"
        assert driver.save_screenshot(str(phone))
        fits_a_phone(driver, 844)
        no_focus_jump_on_touch(driver)
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        until(driver, lambda d: d.find_element(By.ID, "brand").is_displayed(), "the sidebar")
        assert no_horizontal_scroll(driver)
        desktop = tmp_path / "playground-desktop.png"
        assert driver.save_screenshot(str(desktop))
        print(f"\nplayground screenshots: {phone} {desktop}")

        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == [], errors


# ---------------------------------------------------------------- the volunteer and coordinator


@dataclass(frozen=True)
class Place:
    district: str  # every place screen (a person's, the region served) offers the districts
    region: str


MOSCOW = Place("Центральный", "Москва")
TITLE = "Разбор вещей в фонде"
ABOUT = "Сортируем одежду для семей. Перчатки дадим."
ADDRESS = "ул. Ленина, 1, Москва"
CONTACT = "+7 900 000-00-00"


def start_chat(driver: Any, person_id: int) -> None:
    """Switch to this person's empty chat and press its «Start» button (it sends /start)."""
    from selenium.webdriver.common.by import By

    # three people and the group where the bot posts cards
    until(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".person")) == 4, "people")
    person(driver, person_id).click()
    assert person(driver, person_id).get_attribute("aria-pressed") == "true"
    start = driver.find_element(By.ID, "start")
    until(driver, lambda d: start.is_displayed(), "no Start button in an empty chat")
    start.click()


def choose_place(driver: Any, place: Place) -> None:
    """The region by buttons on a place screen — a person's or the coordinator's region
    served, the same screens: the federal district, then its region."""
    until(driver, lambda d: place.district in buttons(d), f"no {place.district!r} to choose")
    tap(driver, place.district)
    says(driver, f"{place.district} федеральный округ", "выберите регион")
    assert place.region in buttons(driver)
    tap(driver, place.region)


def bot_day(driver: Any, days: int) -> datetime:
    """The bot's date (the page's clock) `days` ahead, in Moscow."""
    from selenium.webdriver.common.by import By

    now = driver.find_element(By.ID, "clock-now").get_attribute("datetime")
    moment = datetime.fromisoformat(now.replace("Z", "+00:00")) + timedelta(days=days)
    return moment.astimezone(ZoneInfo("Europe/Moscow"))


def create_opportunity(driver: Any, day: datetime) -> None:
    """From «🙋 Дела для добровольцев»: ➕, the nine steps typed or pressed, the contact's consent,
    the preview, published."""
    tap(driver, "➕ Новое дело")
    says(driver, "Новое дело", "шаг 1 из 9", "Как оно называется?")
    assert buttons(driver) == ["✖ Отмена"]
    type_and_enter(driver, TITLE)
    says(driver, "шаг 2 из 9", "Что будут делать добровольцы?")
    type_and_enter(driver, ABOUT)
    says(driver, "шаг 3 из 9", "Какую проблему территории")
    tap(driver, "Соцуслуги")
    says(driver, "шаг 4 из 9", "Где?")
    type_and_enter(driver, ADDRESS)
    says(driver, "шаг 5 из 9", "Когда начало?")
    type_and_enter(driver, f"{day:%d.%m.%Y} 13:00")
    says(driver, "шаг 6 из 9", "Когда окончание?")
    type_and_enter(driver, "16:00")
    says(driver, "шаг 7 из 9", "Сколько нужно добровольцев?")
    assert buttons(driver) == ["Без ограничения", "✖ Отмена"]
    type_and_enter(driver, "5")
    says(driver, "шаг 8 из 9", "До какого момента можно записаться")
    tap(driver, "За 3 часа")
    says(driver, "шаг 9 из 9", "Как добровольцам связаться с организатором?")
    type_and_enter(driver, CONTACT)
    says(driver, CONTACT, "Вы согласны, чтобы этот контакт видели все?")
    tap(driver, "✅ Даю согласие: показывать всем")
    preview = says(driver, "Проверьте и опубликуйте", TITLE, ABOUT, ADDRESS, "👥 5 мест")
    assert f"🗓 {day:%d.%m.%Y} 13:00–16:00 (МСК)" in preview
    assert f"до {day:%d.%m.%Y} 10:00" in preview
    assert buttons(driver) == ["✅ Опубликовать", "✏️ Изменить", "✖ Удалить черновик"]
    tap(driver, "✅ Опубликовать")
    says(driver, TITLE, "✅ запись открыта", "Свободно 5 мест из 5", "?start=opp_")


def serve_moscow(driver: Any) -> None:
    """The coordinator's first steps after /start: «📍 Мой регион» → Moscow, ticked off."""
    says(
        driver, "Координатору", "Первые шаги", "▫️ Регион, который вы обслуживаете (📍 Мой регион)"
    )
    tap(driver, "📍 Мой регион")
    says(driver, "Регион, который вы обслуживаете", "или выберите федеральный округ")
    choose_place(driver, MOSCOW)
    says(driver, "Первые шаги", "✅ Регион, который вы обслуживаете: Москва")


def test_a_volunteer_goes_from_start_to_a_sign_up_in_a_browser(
    browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    with served(tmp_path) as url:
        viewport(driver, 360, 640)
        driver.get(url)
        until(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".person")) == 4, "people")
        words_whole(driver)  # four tabs on the narrowest phone, each role's words whole

        # Something to find: the coordinator serves Moscow and publishes an opportunity there.
        start_chat(driver, VERA)
        serve_moscow(driver)
        tap(driver, "🙋 Дела для добровольцев")
        says(driver, "Дел пока нет")
        day = bot_day(driver, 3)
        create_opportunity(driver, day)

        # The volunteer: /start → «🤝 Хочу помогать» → consent → announcements → place.
        start_chat(driver, BORIS)
        says(driver, "«Опора»", "Своего проекта нет, но хотите помогать?", "С чего начнём?")
        assert buttons(driver)[:2] == ["🚀 Начать: мой проект", "🤝 Хочу помогать"]
        tap(driver, "🤝 Хочу помогать")
        says(driver, "Согласие на обработку персональных данных", "ваша роль (доброволец)")
        assert buttons(driver) == ["✅ Даю согласие", "📄 Политика полностью", "✖ Не даю согласия"]
        tap(driver, "✅ Даю согласие")
        says(driver, "Объявления координаторов")
        assert buttons(driver) == ["🔔 Да, присылайте объявления", "🔕 Нет, спасибо"]
        tap(driver, "🔕 Нет, спасибо")
        says(driver, "Где вы?", "федеральный округ")
        choose_place(driver, MOSCOW)

        # The profile: topics, skills (typed), time, distance.
        says(driver, "Что вам близко?", "шаг 1 из 4")
        tap(driver, "▫️ Соцуслуги")
        key(driver, "✅ Соцуслуги")
        tap(driver, "Дальше ▶")
        says(driver, "Что вы умеете?", "шаг 2 из 4")
        type_and_enter(driver, "вожу машину")
        says(driver, "Когда вы свободны?", "шаг 3 из 4")
        tap(driver, "▫️ Будни")
        key(driver, "✅ Будни")
        tap(driver, "Дальше ▶")
        says(driver, "Как далеко вы готовы ездить?", "шаг 4 из 4")
        tap(driver, "🚌 По всему региону")

        # The opportunities that fit: the coordinator's; its card; signed up.
        says(driver, "Профиль готов", "Вам сейчас подходит 1 дело")
        listed = f"{day:%d.%m} 13:00 · {TITLE}"
        assert buttons(driver) == [listed, "🙋 Все дела", "☰ Меню"]
        tap(driver, listed)
        says(driver, TITLE, ABOUT, ADDRESS, CONTACT, "Свободно 5 мест из 5")
        assert buttons(driver)[0] == "✅ Записаться"
        tap(driver, "✅ Записаться")
        toast = driver.find_element("id", "toast")
        until(
            driver,
            lambda d: "✅ Вы записаны!" in toast.get_attribute("textContent"),
            "no «✅ Вы записаны!» shown",
        )
        says(driver, "✅ Вы записаны.\n👁 Организатор видит ваше имя", "Свободно 4 места из 5")
        assert buttons(driver)[0] == "✖ Отменить запись"

        # The sign-up in the volunteer's menu: «✅ Мои записи».
        tap(driver, "☰ Меню")
        says(driver, "Главное меню", "Что хотите посмотреть?")
        assert buttons(driver)[:2] == ["🙋 Дела", "✅ Мои записи"]
        tap(driver, "✅ Мои записи")
        mine = says(driver, "Мои записи", f"1. {TITLE}")
        assert f"🗓 {day:%d.%m.%Y} 13:00–16:00" in mine
        assert buttons(driver)[0] == f"{listed} · свободно 4 места"
        assert no_horizontal_scroll(driver)

        shot = tmp_path / "playground-volunteer.png"
        assert driver.save_screenshot(str(shot))
        print(f"\nplayground screenshot: {shot}")
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == [], errors


def test_a_coordinator_goes_from_start_to_a_published_opportunity_in_a_browser(
    browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    with served(tmp_path) as url:
        viewport(driver, 360, 640)
        driver.get(url)
        start_chat(driver, VERA)
        says(driver, "▫️ Ваше первое дело для добровольцев (🙋)")
        assert buttons(driver)[-3:] == ["📍 Мой регион", "📨 Пригласить активистов", "☰ Меню"]
        serve_moscow(driver)

        # The invitation: the deep link, and its QR code as a picture on the page.
        tap(driver, "📨 Пригласить активистов")
        invitation = until(
            driver,
            lambda d: (
                d.find_elements(By.CSS_SELECTOR, "#messages .msg.in .doc-image") or [False]
            )[-1],
            "no invitation with a picture",
        )
        bubble = invitation.find_element(By.XPATH, "./ancestor::div[contains(@class, 'bubble')]")
        assert "Приглашение для активистов" in bubble.text
        assert f"https://t.me/opora_playground_bot?start=coord_{VERA}" in bubble.text
        image = invitation.find_element(By.TAG_NAME, "img")
        until(
            driver,
            lambda d: d.execute_script("return arguments[0].complete", image),
            "the QR code to load",
        )
        assert driver.execute_script("return arguments[0].naturalWidth", image) > 0
        assert image.is_displayed()
        assert image.size["width"] > 100  # big enough to scan from the screen
        download = invitation.find_element(By.CSS_SELECTOR, "a.doc")
        assert download.get_attribute("download") == "opora-invitation.png"
        says(driver, "Первые шаги", "✅ Приглашение для активистов: ссылка и QR-код для печати")
        driver.execute_script("arguments[0].scrollIntoView()", invitation)
        shot = tmp_path / "playground-invitation.png"
        assert driver.save_screenshot(str(shot))

        # A new opportunity, published, and listed.
        tap(driver, "🙋 Дела для добровольцев")
        says(driver, "Дела для добровольцев", "Дел пока нет")
        assert buttons(driver)[0] == "➕ Новое дело"
        day = bot_day(driver, 3)
        create_opportunity(driver, day)
        tap(driver, "« Назад")
        says(driver, "Дела для добровольцев", "1 ближайшее или недавнее дело")
        assert buttons(driver)[:2] == ["➕ Новое дело", f"{day:%d.%m} 13:00 · {TITLE} · 👥 0/5"]
        tap(driver, "« Меню координатора")
        says(driver, "Первые шаги", "✅ Ваше первое дело для добровольцев (🙋)")
        assert no_horizontal_scroll(driver)

        print(f"\nplayground screenshot: {shot}")
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == [], errors
