"""The playground in a real browser: Debian's chromium driven by Selenium goes /start → consent →
the first ikigai step by clicking and typing at a phone's size, switches to the coordinator and
back, and saves screenshots outside the repository (their paths are printed)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.playground import Playground
from tests.playground.conftest import ANNA, VERA, playground_settings

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
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, WAIT, ignored_exceptions=[StaleElementReferenceException])
    return wait.until(condition, message=f"{what} within {WAIT}s")


def chat_text(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.ID, "messages").text)


def see(driver: Any, text: str) -> None:
    until(driver, lambda d: text in chat_text(d), f"no {text!r} in the chat")


def key(driver: Any, label: str) -> Any:
    """The newest inline button with this label, once it is there."""
    from selenium.webdriver.common.by import By

    def find(d: Any) -> Any:
        keys = [k for k in d.find_elements(By.CSS_SELECTOR, "#messages .key") if k.text == label]
        return keys[-1] if keys and keys[-1].is_enabled() else False

    return until(driver, find, f"no button {label!r}")


def tap(driver: Any, label: str) -> None:
    key(driver, label).click()


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
    roles = [r.text for r in driver.find_elements("css selector", ".person .role")]
    assert " ".join(roles[2].split()) == "Координатор, админ"


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
        until(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".person")) == 3, "people")
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
        tap(driver, "📍 Мой регион")
        tap(driver, "UTC+7 Новосибирск")
        tap(driver, "Новосибирская область")
        see(driver, "✅ Регион, который вы обслуживаете: Новосибирская область")

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
