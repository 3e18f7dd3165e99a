"""The first digest is announced: after the diagnosis the bot says when the first one comes
and why, and it comes then, on the bot's clock."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.emulator import Emulator
from bot.infra.clock import ManualClock
from tests.conftest import Launch
from tests.e2e.test_journey import onboard_stage_4
from tests.e2e.test_pushes import delivered, tick

THURSDAY = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)  # 12:00 in Novosibirsk


async def test_the_diagnosis_says_when_the_first_digest_comes(
    emulator: Emulator, launch: Launch
) -> None:
    clock = ManualClock(THURSDAY)
    app = (await launch(clock=clock, tick_seconds=3600)).app
    user = emulator.user(8801, language_code="ru")
    screen = await onboard_stage_4(user)
    assert "Этап вашего проекта: 4/7 · Формализация" in screen.text
    assert (
        "📬 Первую подборку пришлю в понедельник в 10:00: гранты, меры поддержки и статьи, "
        "подобранные под этот этап. Она приходит каждую неделю в понедельник в 10:00 по вашему "
        "времени, никогда в тихие часы; изменить это можно в /settings."
    ) in screen.text
    # Monday 10:00 in Novosibirsk is 03:00 UTC: it comes then, not before.
    await tick(app, clock, datetime(2026, 11, 30, 2, 0, tzinfo=UTC))
    await user.no_message(within=0.3)
    await tick(app, clock, datetime(2026, 11, 30, 3, 0, tzinfo=UTC))
    await delivered(user, "еженедельный дайджест")
