"""Turns (UPDATES_IN_FLIGHT): at most that many updates at once, and a handler waiting for a
picture steps aside so other users are answered meanwhile."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import handlers.ikigai
from bot.emulator import EmulatedUser, Emulator
from bot.infra.turns import Turns, stepped_aside
from bot.ui.pictures import render_ikigai
from tests.conftest import Launch


async def test_no_more_than_the_limit_at_once() -> None:
    turns, inside, most = Turns(2), 0, 0

    async def update() -> None:
        nonlocal inside, most
        async with turns.turn():
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            inside -= 1

    await asyncio.gather(*(update() for _ in range(10)))
    assert most == 2


async def test_a_waiting_update_steps_aside_and_takes_a_turn_again() -> None:
    turns = Turns(1)
    drawn, order = asyncio.Event(), []

    async def slow() -> None:
        async with turns.turn():
            order.append("slow: in")
            async with stepped_aside():
                await drawn.wait()
            order.append("slow: back")

    async def quick() -> None:
        async with turns.turn():
            order.append("quick")
            drawn.set()
            await asyncio.sleep(0)  # still holding the only turn: slow cannot be back yet
            order.append("quick: done")

    first = asyncio.create_task(slow())
    await asyncio.sleep(0)
    await quick()
    await first
    assert order == ["slow: in", "quick", "quick: done", "slow: back"]


async def test_cancelled_while_coming_back_gives_back_no_turn_it_does_not_hold() -> None:
    turns = Turns(1)
    aside, stay = asyncio.Event(), asyncio.Event()

    async def waiting() -> None:
        async with turns.turn(), stepped_aside():
            aside.set()
            await asyncio.sleep(3600)

    async def holder() -> None:
        async with turns.turn():
            await stay.wait()

    task = asyncio.create_task(waiting())
    await aside.wait()
    hold = asyncio.create_task(holder())
    await asyncio.sleep(0)
    task.cancel()  # its wait ends and it queues for the turn that `holder` has
    for _ in range(3):
        await asyncio.sleep(0)
    assert not task.done()
    task.cancel()  # and now it is cancelled while queuing to come back
    with pytest.raises(asyncio.CancelledError):
        await task
    stay.set()
    await hold
    entered = []

    async def one(n: int) -> None:
        async with turns.turn():
            entered.append(n)
            await asyncio.sleep(0)
            entered.append(-n)

    await asyncio.gather(one(1), one(2))
    assert entered in ([1, -1, 2, -2], [2, -2, 1, -1])  # still one at a time


async def test_stepping_aside_outside_an_update_does_nothing() -> None:
    async with stepped_aside():
        pass


async def _to_topics(user: EmulatedUser) -> None:
    async def tap(label: str) -> None:
        await user.press(label)
        user.skip_pending()

    await user.send("/start")
    await user.next_message(timeout=5)
    for label in (
        "🚀 Начать: мой проект",
        "✅ Даю согласие",
        "🔕 Нет, спасибо",
        "🚀 Активист: веду или начинаю проект",
        "Центральный",
        "Москва",
    ):
        await tap(label)
    prompt = user.last_bot_message
    assert prompt is not None
    await user.send("Кружок робототехники")
    await user.wait_edit(prompt)  # the entry is taken into the step's message
    for label in ("Дальше ▶", "Пропустить ▶", "Пропустить ▶"):
        await tap(label)


async def test_a_user_is_answered_while_another_ones_picture_is_drawn(
    emulator: Emulator, launch: Launch, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, release = threading.Event(), threading.Event()
    real = render_ikigai

    def held(*args: Any, **kwargs: Any) -> bytes:
        started.set()
        assert release.wait(timeout=30), "the test never released the drawing"
        return real(*args, **kwargs)

    monkeypatch.setattr(handlers.ikigai, "render_ikigai", held)
    await launch(updates_in_flight=1)  # one turn: a waiting picture must give it up
    anna, boris = emulator.user(5101, first_name="Анна"), emulator.user(5102, first_name="Борис")
    await _to_topics(anna)

    await anna.press("Готово ▶")  # the focus step
    await anna.press("✅ Взять подсказку")  # answered at once: before the picture
    assert await asyncio.to_thread(started.wait, 10)
    assert anna.last_chat_action == "upload_photo"  # "sending a photo…" in the header
    assert all(m.photo is None for m in anna.bot_messages)

    await boris.send("/help")  # the only turn is free while Anna's picture is drawn
    answer = await boris.next_message(timeout=10)
    assert "/start" in answer.text
    assert not release.is_set()

    release.set()
    result = await anna.messages_until(lambda m: "Вопрос 1 / 10" in m.text, timeout=10)
    photos = [m for m in result if m.photo is not None]
    assert len(photos) == 1
    assert "Ваш икигай" in photos[0].text
    assert result.index(photos[0]) < len(result) - 1  # the picture first, then the quiz
    assert emulator.rejections() == []
