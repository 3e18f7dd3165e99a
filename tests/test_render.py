"""Rendering: escaping of user text, gettext in both locales, splitting long messages."""

from __future__ import annotations

import re
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.ui.render import Renderer, escape_html, split_html, utf16_len, visible_length

TAG = re.compile(r"</?([a-z-]+)[^>]*>")


def balanced(part: str) -> bool:
    stack: list[str] = []
    for m in TAG.finditer(part):
        name = m.group(1)
        if m.group(0).startswith("</"):
            if not stack or stack.pop() != name:
                return False
        else:
            stack.append(name)
    return not stack


def test_user_text_is_escaped_in_templates() -> None:
    tr = Renderer().bind("ru")
    out = tr("unknown_text.j2", text='<b>x</b> & "y" 🙂')
    assert "&lt;b&gt;x&lt;/b&gt; &amp; &#34;y&#34; 🙂" in out
    assert out.startswith("Вы написали:")


def test_english_and_russian_differ_and_are_complete() -> None:
    renderer = Renderer()
    assert renderer.bind("en")("menu.j2").startswith("☰ <b>Main menu</b>")
    assert renderer.bind("ru")("menu.j2").startswith("☰ <b>Главное меню</b>")
    assert renderer.gettext("ru", "« Back") == "« Назад"
    assert renderer.gettext("en", "« Back") == "« Back"


def test_unknown_locale_falls_back_to_russian() -> None:
    assert Renderer().bind("de").locale == "ru"


def test_escape_html() -> None:
    assert escape_html("<a&b>") == "&lt;a&amp;b&gt;"


def test_short_text_is_one_part() -> None:
    assert split_html("<b>hi</b>") == ["<b>hi</b>"]


def test_split_prefers_paragraphs() -> None:
    paragraphs = [f"<b>Параграф {i}</b>\n" + "слово " * 150 for i in range(12)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    parts = split_html(text, 4096)
    assert len(parts) > 1
    for part in parts:
        assert visible_length(part) <= 4096
        assert part.startswith("<b>Параграф")  # every part starts at a paragraph
        assert balanced(part)


def test_split_long_bold_line_reopens_tags() -> None:
    text = "<b>" + "я" * 10_000 + "</b>"
    parts = split_html(text, 4096)
    assert len(parts) == 3
    assert all(p.startswith("<b>") and p.endswith("</b>") for p in parts)
    assert sum(visible_length(p) for p in parts) == 10_000


def test_split_never_cuts_entities_and_counts_utf16() -> None:
    text = ("&amp;🙂" * 3000).strip()  # 🙂 is two UTF-16 units
    parts = split_html(text, 4096)
    for part in parts:
        assert visible_length(part) <= 4096
        assert re.search(r"&(?!amp;)", part) is None
    assert "".join(parts) == text


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["", "b", "i", "code"]),
            st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=400),
        ),
        max_size=40,
    ),
    st.integers(min_value=20, max_value=600),
)
def test_split_property(chunks: list[tuple[str, str]], limit: int) -> None:
    html = "".join(
        f"<{tag}>{escape_html(body)}</{tag}>" if tag else escape_html(body) for tag, body in chunks
    )
    parts = split_html(html, limit)
    for part in parts:
        assert visible_length(part) <= limit
        assert balanced(part)
    # Nothing visible is lost except the whitespace the cuts consumed.
    squash = lambda s: re.sub(r"\s+", "", re.sub(r"<[^>]*>", "", s))  # noqa: E731
    assert squash("".join(parts)) == squash(html)


def test_utf16_len() -> None:
    assert utf16_len("a🙂") == 3


def test_a_text_with_several_numbers_takes_its_plural_form_from_the_count() -> None:
    """`{% pluralize count %}` names the count; the other numbers (a total, a limit) do not
    change the form."""
    renderer = Renderer()
    places = '{% from "volunteer/_when.j2" import places %}{{ places(listing) }}'

    def free(locale: str, free: int, capacity: int) -> str:
        opportunity = SimpleNamespace(capacity=capacity)
        listing = SimpleNamespace(opportunity=opportunity, free=free, confirmed=0, waiting=0)
        return renderer.envs[locale].from_string(places).render(listing=listing)

    assert free("ru", 1, 10) == "👥 Свободно 1 место из 10"
    assert free("ru", 2, 21) == "👥 Свободно 2 места из 21"
    assert free("ru", 21, 22) == "👥 Свободно 21 место из 22"
    assert free("en", 1, 10) == "👥 1 place free out of 10"
    assert free("en", 2, 21) == "👥 2 places free out of 21"

    def full(locale: str, capacity: int, waiting: int) -> str:
        opportunity = SimpleNamespace(capacity=capacity)
        listing = SimpleNamespace(opportunity=opportunity, free=0, confirmed=0, waiting=waiting)
        return renderer.envs[locale].from_string(places).render(listing=listing)

    assert full("ru", 5, 1) == "👥 Заняты все 5 мест · в листе ожидания 1 человек"
    assert full("ru", 1, 3) == "👥 Занято 1 место из 1 · в листе ожидания 3 человека"
    assert full("en", 1, 3) == "👥 The 1 place is taken · 3 people on the waiting list"
    assert full("en", 5, 1) == "👥 All 5 places are taken · 1 person on the waiting list"

    progress = SimpleNamespace(
        percent=0, done=1, total=21, sent=1, failed=0, blocked=5, rate=0, eta=None
    )
    broadcast = SimpleNamespace(id=3, status="sending")
    shown = renderer.render("ru", "broadcast/progress.j2", p=progress, b=broadcast)
    assert "Обработано 1 из 21 сообщения\n" in shown
    assert "✅ доставлено 1 сообщение · ⚠️ 0 ошибок · 🚫 5 человек заблокировали бота" in shown
    shown = renderer.render("en", "broadcast/progress.j2", p=progress, b=broadcast)
    assert "Done: 1 of 21 messages\n" in shown
    assert "✅ 1 message sent · ⚠️ 0 failed · 🚫 5 people blocked the bot" in shown

    too_long = renderer.render(
        "ru", "broadcast/too_long.j2", length=1021, limit=1024, caption=True
    )
    assert too_long.startswith("В подписи 1021 символ, а Telegram допускает")
    assert "не больше 1024." in too_long


def test_consent_and_policy_name_the_operator_or_say_there_is_none() -> None:
    """A real bot names its personal-data operator and contact on the consent screen and in
    the policy; the playground, with none set, says it is a demonstration."""
    from bot.config import Settings

    real = Settings(
        _env_file=None, operator_name="АНО «Вместе»", operator_contact="privacy@vmeste.example"
    )
    tr = Renderer(globals_={"settings": real}).bind("ru")
    consent = tr("consent/screen.j2")
    assert "<b>Оператор персональных данных:</b> АНО «Вместе»." in consent
    assert "<b>Как связаться:</b> privacy@vmeste.example" in consent
    policy = "".join(
        tr("consent/policy.j2", page=page, version="1", unconsented_days=3, outbox_days=30)
        for page in (1, 2)
    )
    assert "<b>Оператор.</b> АНО «Вместе» ведёт этого бота" in policy
    assert "<b>Связь.</b> privacy@vmeste.example" in policy
    assert "серверы которого оператор не контролирует" in policy

    playground = Renderer(globals_={"settings": Settings(_env_file=None)}).bind("en")
    assert "Operator:</b> none, this is the playground" in playground("consent/screen.j2")
    assert "Not named: this is the playground" in playground(
        "consent/policy.j2", page=1, version="1", unconsented_days=3, outbox_days=30
    )
