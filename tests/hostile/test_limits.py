"""Telegram's length limits hold by construction: a press's answer (200 characters), a message
(4096) and a caption (1024), whatever the texts that go into them."""

from __future__ import annotations

from datetime import timedelta

from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode

from bot.domain import opportunities as rules
from bot.emulator import Emulator
from bot.infra.clock import ManualClock
from bot.infra.middlewares import ANSWER_LIMIT, fit_answer
from bot.ui.keyboards import VolunteerCb
from bot.ui.render import CAPTION_LIMIT, Renderer, utf16_len
from bot.ui.screen import Screen
from tests.hostile.harness import Harness
from tests.test_opportunities import new_opportunity

CONTACT = ("+7 900 000-00-00, " * 20)[: rules.CONTACT_LIMIT]


async def test_too_late_to_cancel_with_a_long_contact(harness: Harness) -> None:
    """The «too late to cancel» answer names a short contact; a 200-character one is on the
    card instead, and the answer fits (Telegram refuses a longer one: the harness checks)."""
    assert len(CONTACT) == rules.CONTACT_LIMIT
    clock = harness.app.clock
    assert isinstance(clock, ManualClock)
    starts = clock.now() + timedelta(days=2)
    opportunity = await new_opportunity(
        harness.app.volunteering,
        None,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        signup_until=starts - timedelta(days=1),
        contact=CONTACT,
    )
    user = await harness.consented(role="volunteer", language_code="en")
    await harness.press(user, VolunteerCb(action="sign", id=opportunity).pack())
    clock.advance(timedelta(days=1, hours=1))  # past the sign-up's end
    card = await harness.press(user, VolunteerCb(action="cancel", id=opportunity).pack())
    answer = harness.emulator.calls_of("answerCallbackQuery")[-1].params["text"]
    assert "too late to cancel" in answer
    assert utf16_len(answer) <= ANSWER_LIMIT
    assert card is not None
    assert CONTACT in card.text


def test_every_press_answer_fits() -> None:
    assert fit_answer(None) is None
    assert fit_answer("Done.") == "Done."
    exact = "я" * ANSWER_LIMIT
    assert fit_answer(exact) == exact
    for long in ("я" * 500, "👩‍👩‍👧‍👦" * 60, "a " * 150, "x" * 199 + "🫠"):
        fitted = fit_answer(long)
        assert fitted is not None
        assert utf16_len(fitted) <= ANSWER_LIMIT
        assert fitted.endswith("…")
        assert long.startswith(fitted[:-1].rstrip())
        fitted.encode("utf-8")  # no surrogate half left


async def test_a_long_caption_comes_as_a_message(emulator: Emulator) -> None:
    """A caption over 1024 characters: the file goes without it, the text as a message."""
    bot = emulator.make_bot(default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    user = emulator.user(77, "Anna")
    await user.send("/start")
    tr = Renderer().bind("ru")
    screen = Screen(bot=bot, chat_id=user.chat_id, user_id=user.id, tr=tr, state=None, user=None)
    caption = "<b>Отчёт</b> " + "строка &amp; ещё " * 100
    try:
        await screen.document(b"a;b\n", "report.csv", caption)
    finally:
        await bot.session.close()
    assert emulator.rejections() == []
    kinds = [(m.kind, utf16_len(m.text)) for m in user.bot_messages]
    assert kinds[0] == ("document", 0)
    assert kinds[1][0] == "text"
    assert kinds[1][1] > CAPTION_LIMIT
