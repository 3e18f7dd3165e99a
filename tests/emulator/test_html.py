"""The Telegram-HTML parser, normaliser and renderer."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.emulator.html import (
    EntityParseError,
    finalize,
    find_bot_commands,
    parse_html,
    render_html,
    utf16_len,
)


def parse(text: str) -> tuple[str, list[dict[str, Any]]]:
    return finalize(*parse_html(text))


def test_plain_text_passes_through() -> None:
    assert parse("просто текст") == ("просто текст", [])


def test_nested_tags_and_aliases() -> None:
    text, entities = parse("<b>bold <i>both</i></b> <strong>s</strong> <em>e</em>")
    assert text == "bold both s e"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 9},
        {"type": "italic", "offset": 5, "length": 4},
        {"type": "bold", "offset": 10, "length": 1},
        {"type": "italic", "offset": 12, "length": 1},
    ]


@pytest.mark.parametrize(
    ("html", "kind"),
    [
        ("<u>x</u>", "underline"),
        ("<ins>x</ins>", "underline"),
        ("<s>x</s>", "strikethrough"),
        ("<strike>x</strike>", "strikethrough"),
        ("<del>x</del>", "strikethrough"),
        ("<tg-spoiler>x</tg-spoiler>", "spoiler"),
        ('<span class="tg-spoiler">x</span>', "spoiler"),
        ("<code>x</code>", "code"),
        ("<pre>x</pre>", "pre"),
        ("<blockquote>x</blockquote>", "blockquote"),
        ("<blockquote expandable>x</blockquote>", "expandable_blockquote"),
        ("<B>x</B>", "bold"),
    ],
)
def test_every_supported_tag(html: str, kind: str) -> None:
    assert parse(html) == ("x", [{"type": kind, "offset": 0, "length": 1}])


def test_links_code_language_and_custom_emoji() -> None:
    text, entities = parse(
        '<a href="https://example.org/path?q=1&amp;r=2">site</a> '
        '<pre><code class="language-python">x = 1</code></pre> '
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> '
        '<a href="tg://user?id=42">Анна</a>'
    )
    assert text == "site x = 1 👍 Анна"
    assert entities == [
        {
            "type": "text_link",
            "offset": 0,
            "length": 4,
            "url": "https://example.org/path?q=1&r=2",
        },
        {"type": "pre", "offset": 5, "length": 5, "language": "python"},
        {
            "type": "custom_emoji",
            "offset": 11,
            "length": 2,
            "custom_emoji_id": "5368324170671202286",
        },
        {
            "type": "text_mention",
            "offset": 14,
            "length": 4,
            "user": {"id": 42, "is_bot": False, "first_name": ""},
        },
    ]


def test_link_normalisation_and_invalid_links() -> None:
    assert parse('<a href="https://t.me">x</a>')[1][0]["url"] == "https://t.me/"
    assert parse("<a href=example.com>x</a>")[1][0]["url"] == "http://example.com/"
    assert parse('<a href="javascript:alert(1)">x</a>') == ("x", [])


def test_code_language_without_pre_is_dropped() -> None:
    assert parse('<code class="language-go">x</code>') == (
        "x",
        [{"type": "code", "offset": 0, "length": 1}],
    )


def test_html_entities() -> None:
    text, entities = parse("&lt;b&gt; &amp; &quot;q&quot; &#1071; &#x1F600; &amp")
    assert text == '<b> & "q" Я 😀 &'
    assert entities == []


def test_unknown_and_bare_ampersands_stay_literal() -> None:
    assert parse("a & b &nbsp; &#0; &copy") == ("a & b &nbsp; &#0; &copy", [])


def test_utf16_offsets_with_emoji() -> None:
    text, entities = parse("😀 <b>жир😀</b> <i>x</i>")
    assert text == "😀 жир😀 x"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 5},
        {"type": "italic", "offset": 9, "length": 1},
    ]
    assert utf16_len(text) == 10


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("ab <br>", 'Unsupported start tag "br" at byte offset 3'),
        ("я <x>", 'Unsupported start tag "x" at byte offset 3'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("1 <2 x", 'Unsupported start tag "2" at byte offset 2'),
        ("1 <2", "Unclosed start tag at byte offset 2"),
        ("a <", "Unclosed start tag at byte offset 2"),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</i>", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<a href="x"', "Unclosed start tag at byte offset 0"),
        ("<a href=", 'Unclosed start tag "a" at byte offset 0'),
        ("<a href", 'Unclosed start tag "a" at byte offset 0'),
        ("<a href=http://x>y</a>", "Unexpected end of name token at byte offset 8"),
        ('<a ="x">y</a>', 'Empty attribute name in the tag "a" at byte offset 0'),
        ("<tg-emoji emoji-id=abc>x</tg-emoji>", "Invalid custom emoji identifier specified"),
        ("<b/>", 'Unsupported start tag "b/" at byte offset 0'),
    ],
)
def test_errors_match_telegram(html: str, error: str) -> None:
    with pytest.raises(EntityParseError) as info:
        parse_html(html)
    assert str(info.value) == error


def test_empty_tags_produce_no_entities() -> None:
    assert parse("<b></b>x") == ("x", [])


def test_closing_tag_may_omit_the_name() -> None:
    assert parse("<b>x</>") == ("x", [{"type": "bold", "offset": 0, "length": 1}])


def test_trimming_and_whitespace_entities() -> None:
    assert parse("  \n <b> hi </b>  \n") == ("hi", [{"type": "bold", "offset": 0, "length": 2}])
    assert parse("x<b>   </b>") == ("x", [])
    assert parse("<b>a\tb\r\nc</b>")[0] == "a b\nc"


def test_bot_commands_like_telegram() -> None:
    assert find_bot_commands("/start payload") == [
        {"type": "bot_command", "offset": 0, "length": 6}
    ]
    assert find_bot_commands("see /help@opora_test_bot or /x") == [
        {"type": "bot_command", "offset": 4, "length": 20},
        {"type": "bot_command", "offset": 28, "length": 2},
    ]
    assert find_bot_commands("a/b http://x/y /") == []
    assert find_bot_commands("😀 /go") == [{"type": "bot_command", "offset": 3, "length": 3}]


def test_render_html_escapes_and_nests() -> None:
    text, entities = parse("<b>a &lt; <i>b</i></b> &amp; <code>&lt;x&gt;</code>")
    assert render_html(text, entities) == "<b>a &lt; <i>b</i></b> &amp; <code>&lt;x&gt;</code>"


def test_render_html_splits_crossing_entities() -> None:
    entities = [
        {"type": "bold", "offset": 0, "length": 3},
        {"type": "italic", "offset": 2, "length": 3},
    ]
    html = render_html("abcde", entities)
    assert html == "<b>ab<i>c</i></b><i>de</i>"
    assert parse_html(html)[0] == "abcde"


_TAGS = ["b", "i", "u", "s", "tg-spoiler", "code", "blockquote"]


@st.composite
def html_documents(draw: st.DrawFn, depth: int = 0) -> str:
    alphabet = st.sampled_from([*list("ab <>&\"'яЖ😀🇷🇺\n"), "x"])
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        if depth < 3 and draw(st.booleans()):
            tag = draw(st.sampled_from(_TAGS))
            inner = draw(html_documents(depth + 1))
            parts.append(f"<{tag}>{inner}</{tag}>")
        else:
            raw = draw(st.text(alphabet, max_size=6))
            parts.append(raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    return "".join(parts)


@settings(max_examples=200, deadline=None)
@given(html_documents())
def test_render_parse_roundtrip(html: str) -> None:
    text, entities = parse(html)
    assert parse(render_html(text, entities)) == (text, entities)
    for entity in entities:
        assert entity["offset"] >= 0
        assert entity["offset"] + entity["length"] <= utf16_len(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_parser_never_crashes(text: str) -> None:
    try:
        plain, entities = parse_html(text)
    except EntityParseError:
        return
    for entity in entities:
        assert 0 <= entity["offset"] <= entity["offset"] + entity["length"] <= utf16_len(plain)
