"""Messages as the page draws them: only safe HTML, whatever the text and entities hold."""

from __future__ import annotations

import pytest

from bot.emulator import parse_html
from bot.playground.render import safe_url, start_parameter, to_html
from bot.playground.server import split_text


def html_of(telegram_html: str) -> str:
    """What the page shows for a message the bot sent with parse_mode=HTML."""
    text, entities = parse_html(telegram_html)
    return to_html(text, entities, bot_username="opora_playground_bot")


def test_the_telegram_subset_becomes_page_html() -> None:
    assert html_of("<b>жирный <i>и курсив</i></b>") == "<b>жирный <i>и курсив</i></b>"
    assert html_of("<u>u</u> <s>s</s> <code>x &lt; y</code>") == (
        "<u>u</u> <s>s</s> <code>x &lt; y</code>"
    )
    assert html_of('<pre><code class="language-python">print("hi")</code></pre>') == (
        '<pre><code data-language="python">print(&quot;hi&quot;)</code></pre>'
    )
    assert html_of("<blockquote>цитата</blockquote>") == "<blockquote>цитата</blockquote>"
    assert html_of("<blockquote expandable>long</blockquote>") == (
        '<blockquote class="expandable">long</blockquote>'
    )
    assert html_of("<tg-spoiler>тайна</tg-spoiler>") == (
        '<span class="spoiler" tabindex="0" role="button" aria-pressed="false">тайна</span>'
    )
    assert html_of('<a href="https://example.org/a?b=1&amp;c=2">ссылка</a>') == (
        '<a href="https://example.org/a?b=1&amp;c=2" target="_blank" '
        'rel="noopener noreferrer nofollow">ссылка</a>'
    )


def test_offsets_are_utf16_and_emoji_do_not_shift_tags() -> None:
    assert html_of("🚀 <b>ракета</b> 👍🏽 <i>ok</i>") == "🚀 <b>ракета</b> 👍🏽 <i>ok</i>"


def test_text_is_escaped_and_odd_entities_are_harmless() -> None:
    text = '<img src=x onerror="alert(1)"> & «кавычки»'
    assert to_html(text, []) == ("&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; «кавычки»")
    # Crossing entities are closed and reopened; entities past the end are cut.
    crossing = [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "italic", "offset": 2, "length": 4},
        {"type": "underline", "offset": 5, "length": 99},
        {"type": "no_such_type", "offset": 0, "length": 3},
    ]
    assert to_html("abcdef", crossing) == "<b>ab<i>cd</i></b><i>e<u>f</u></i>"
    # Link targets other than http(s) are not links on the page.
    for url in ("javascript:alert(1)", "data:text/html,x", "tg://user?id=1", "file:///etc"):
        link = [{"type": "text_link", "offset": 0, "length": 4, "url": url}]
        assert to_html("link", link) == '<span class="link">link</span>'
    quoted = [{"type": "text_link", "offset": 0, "length": 1, "url": 'https://a.b/"><script>'}]
    assert to_html("x", quoted).startswith('<a href="https://a.b/&quot;&gt;&lt;script&gt;"')


def test_commands_and_links_to_the_bot_send_text_in_the_chat() -> None:
    text, entities = parse_html("Нажмите /start или /my_data")
    assert to_html(text, [*entities, {"type": "bot_command", "offset": 8, "length": 6}]) == (
        'Нажмите <a href="#" class="command" data-send="/start">/start</a> или /my_data'
    )
    bot = "opora_playground_bot"
    assert start_parameter("https://t.me/opora_playground_bot?start=opp_7", bot) == "/start opp_7"
    assert start_parameter("t.me/Opora_Playground_Bot", bot) == "/start"
    assert start_parameter("https://t.me/other_bot?start=x", bot) is None
    assert start_parameter("https://example.org/?start=x", bot) is None


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://example.org", "https://example.org"),
        ("http://example.org/x y", None),
        ("example.org/path", "http://example.org/path"),
        ("javascript:alert(1)", None),
        ("https://", None),
        ("mailto:a@b.c", None),
    ],
)
def test_safe_url(url: str, safe: str | None) -> None:
    assert safe_url(url) == safe


def test_long_text_is_split_like_telegram_apps_do() -> None:
    assert split_text("short") == ["short"]
    words = "слово " * 1000
    parts = split_text(words)
    assert len(parts) == 2
    assert all(len(p) <= 4096 for p in parts)
    assert "".join(parts) == words
    assert parts[0].endswith(" ")  # cut at a space, not inside a word
    emoji = "😀" * 3000  # 2 UTF-16 units each
    parts = split_text(emoji)
    assert [len(p) for p in parts] == [2048, 952]
    assert split_text("   ") == []
