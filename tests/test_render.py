"""Rendering: escaping of user text, gettext in both locales, splitting long messages."""

from __future__ import annotations

import re

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
