"""Pictures drawn in a process of their own (bot/ui/painter.py), and what happens when it dies."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from bot.ui.painter import Painter
from bot.ui.pictures import find_font, render_ikigai
from tests.test_pictures import NORMAL


@pytest.fixture
async def painter() -> AsyncIterator[Painter]:
    painter = Painter(processes=1)
    yield painter
    painter.close()


def _die_unless_in(pid: int) -> str:
    """Kills the process it runs in, unless that is `pid`."""
    if os.getpid() != pid:
        os._exit(3)
    return "drawn by the bot's own process"


async def test_a_picture_is_drawn_in_another_process_the_same_as_here(painter: Painter) -> None:
    font = find_font()
    assert font is not None
    assert await painter.draw(os.getpid) != os.getpid()
    assert await painter.draw(render_ikigai, NORMAL, font) == render_ikigai(NORMAL, font)
    assert await painter.draw(render_ikigai, NORMAL, Path(font)) == render_ikigai(NORMAL, font)


async def test_when_the_process_dies_the_picture_is_drawn_here_and_the_next_in_a_new_one(
    painter: Painter, caplog: pytest.LogCaptureFixture
) -> None:
    first = await painter.draw(os.getpid)
    assert await painter.draw(_die_unless_in, os.getpid()) == "drawn by the bot's own process"
    assert "the picture process died" in caplog.text
    second = await painter.draw(os.getpid)
    assert second not in (first, os.getpid())


async def test_with_no_processes_pictures_are_drawn_in_threads_here() -> None:
    painter = Painter(processes=0)
    try:
        assert await painter.draw(os.getpid) == os.getpid()
    finally:
        painter.close()


async def test_where_no_process_can_start_pictures_are_drawn_in_threads(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(38, "Function not implemented")  # as where /dev/shm is missing

    painter = Painter(processes=1)
    monkeypatch.setattr(ProcessPoolExecutor, "submit", refuse)
    try:
        assert await painter.draw(os.getpid) == os.getpid()
        assert await painter.draw(os.getpid) == os.getpid()
    finally:
        painter.close()
    assert caplog.text.count("no process could be started") == 1
