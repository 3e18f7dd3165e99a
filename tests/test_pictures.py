"""The ikigai picture: font discovery, the layout's geometry and text, and the PNG itself."""

from __future__ import annotations

import io
import re
import shutil
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops

from bot.ui.pictures import (
    BACKGROUND,
    CIRCLE_ALPHA,
    DEFAULT_COLORS,
    ELLIPSIS,
    MISSING,
    Box,
    Circle,
    Column,
    IkigaiPicture,
    Layout,
    TextBlock,
    draw_layout,
    find_bold_font,
    find_font,
    layout_ikigai,
    render_ikigai,
    sanitize_text,
)

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
TITLES = ("Чего хочу", "Что могу", "Что нужно территории")
TOL = 1.0  # px

PROSE = (
    "Хочу открыть в нашем посёлке бесплатный кружок робототехники для подростков, чтобы у "
    "ребят было занятие после школы и понятная дорога в инженерные профессии, а не только "
    "улица и телефоны. Ещё нужна библиотека, где можно спокойно заниматься по вечерам. "
)


def prose(length: int, shift: int = 0) -> str:
    text = (PROSE * 4)[shift : shift + length]
    return text.strip()


@pytest.fixture(scope="module")
def font() -> Path:
    found = find_font()
    assert found is not None
    return found


def picture(
    entries: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]],
    *,
    focus: str = "Досуг для подростков после школы",
    topics: tuple[str, ...] = ("Молодёжь", "Образование", "Досуг"),
    title: str = "Икигай: кружок робототехники",
    footer: str = "Опора · 29.11.2026",
) -> IkigaiPicture:
    columns = (
        Column(TITLES[0], entries[0]),
        Column(TITLES[1], entries[1]),
        Column(TITLES[2], entries[2]),
    )
    return IkigaiPicture(title, columns, "Фокус проекта", focus, topics, footer)


NORMAL = picture(
    (
        ("Чтобы подростки не скучали после школы", "Собрать команду", "Научиться писать гранты"),
        ("Паять и программировать Arduino", "Договориться со школой о помещении"),
        ("Досуг для подростков: после 15:00 им некуда пойти", "Связь поколений"),
    )
)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def line_boxes(block: TextBlock) -> list[Box]:
    return [line.box for line in block.lines] + ([block.bullet] if block.bullet else [])


def inside_canvas(box: Box, size: int) -> bool:
    return box.left >= 0 and box.top >= 0 and box.right <= size and box.bottom <= size


def check_geometry(layout: Layout) -> None:
    """Every box is on the canvas; column text is in its own circle only; focus in all three."""
    size = layout.size
    for block in layout.blocks:
        for box in line_boxes(block) + ([block.pill] if block.pill else []):
            assert inside_canvas(box, size), (block.kind, box)
    for i, circle in enumerate(layout.circles):
        others = [c for j, c in enumerate(layout.circles) if j != i]
        for block in layout.entries(i) + layout.find("column_title", i):
            for box in line_boxes(block):
                assert circle.contains_box(box, TOL), (block.kind, i, box)
                for other in others:
                    assert other.clear_of_box(box, TOL), (block.kind, i, box)
    for block in layout.find("focus") + layout.find("focus_title"):
        x, y = block.box.center
        assert all(c.contains(x, y) for c in layout.circles)
        for box in line_boxes(block):
            assert all(c.contains_box(box, TOL) for c in layout.circles)
    for block in layout.find("topic") + layout.find("title"):
        for box in line_boxes(block) + ([block.pill] if block.pill else []):
            assert all(c.clear_of_box(box, TOL) for c in layout.circles), (block.kind, box)


def assert_shows(block: TextBlock, text: str) -> None:
    """The block shows `text` whole: its lines joined back are the text, no "…"."""
    assert block.source == text
    assert not block.truncated
    assert squash("".join(line.text for line in block.lines)) == squash(text)


def assert_cut_fairly(block: TextBlock) -> None:
    """A cut block shows a prefix of its text and its last line ends with "…"."""
    shown = "".join(line.text for line in block.lines)
    assert block.truncated
    assert block.lines, "every entry keeps at least a line"
    assert shown.endswith(ELLIPSIS)
    assert squash(block.source).startswith(squash(shown[: -len(ELLIPSIS)]).rstrip(",;:.-–—"))


# ------------------------------------------------------------------------------------- fonts


def test_find_font_on_this_machine() -> None:
    found = find_font()
    assert found is not None
    assert found.is_file()
    assert found.name == "DejaVuSans.ttf"


def test_configured_font_wins_and_missing_one_falls_back(tmp_path: Path) -> None:
    bold = DEJAVU.with_name("DejaVuSans-Bold.ttf")
    assert find_font(bold) == bold
    assert find_font(str(bold)) == bold
    assert find_font("/nonexistent.ttf") == find_font()
    assert find_font("") == find_font()
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font")
    assert find_font(broken) == find_font()


def test_no_font_when_nothing_is_searched(tmp_path: Path) -> None:
    assert find_font(search=()) is None
    assert find_font("/nonexistent.ttf", search=()) is None
    assert find_font(search=[tmp_path, tmp_path / "missing"]) is None
    assert find_font(DEJAVU, search=()) == DEJAVU


def test_search_finds_dejavu_in_a_directory_tree(tmp_path: Path) -> None:
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    shutil.copy(DEJAVU, nested / "DejaVuSans.ttf")
    assert find_font(search=[tmp_path]) == nested / "DejaVuSans.ttf"


def test_bold_variant(tmp_path: Path) -> None:
    assert find_bold_font(DEJAVU) == DEJAVU.with_name("DejaVuSans-Bold.ttf")
    lonely = tmp_path / "DejaVuSans.ttf"
    shutil.copy(DEJAVU, lonely)
    assert find_bold_font(lonely) is None


def test_without_a_bold_face_titles_are_stroked(tmp_path: Path) -> None:
    lonely = tmp_path / "DejaVuSans.ttf"
    shutil.copy(DEJAVU, lonely)
    layout = layout_ikigai(NORMAL, lonely)
    check_geometry(layout)
    png = render_ikigai(NORMAL, lonely)
    assert Image.open(io.BytesIO(png)).size == (1080, 1080)


# ------------------------------------------------------------------------------- the picture


def test_png_has_the_requested_size_and_mode(font: Path) -> None:
    for size in (1080, 720):
        png = render_ikigai(NORMAL, font, size=size)
        image = Image.open(io.BytesIO(png))
        assert image.format == "PNG"
        assert image.size == (size, size)
        assert image.mode == "P"  # a 256-colour palette: half the cost of RGB


OWN_COLORS = replace(
    NORMAL,
    columns=(
        Column(TITLES[0], ("x" * 50,), (200, 30, 30)),
        Column(TITLES[1], ("Жж",), (20, 20, 20)),
        Column(TITLES[2], (), (250, 250, 0)),
    ),
)


@pytest.mark.parametrize("pic", [NORMAL, OWN_COLORS], ids=["usual", "own colours"])
def test_the_palette_picture_looks_like_the_drawing(font: Path, pic: IkigaiPicture) -> None:
    """The palette comes from a sample picture, not this one: every edge still finds a near
    colour in it."""
    drawn = draw_layout(layout_ikigai(pic, font), font)
    sent = Image.open(io.BytesIO(render_ikigai(pic, font))).convert("RGB")
    diff = ImageChops.difference(drawn, sent).convert("L")
    histogram = diff.histogram()
    assert sum(histogram[33:]) == 0  # no pixel far off
    assert sum(histogram[9:]) <= drawn.width * drawn.height // 1000  # almost all within 8 levels


def test_output_is_deterministic(font: Path) -> None:
    assert render_ikigai(NORMAL, font) == render_ikigai(NORMAL, font)
    assert layout_ikigai(NORMAL, font) == layout_ikigai(NORMAL, font)


@pytest.mark.parametrize("size", [240, 333, 720, 1517, 2048])
def test_every_size_keeps_text_in_place(font: Path, size: int) -> None:
    entries = (prose(200), prose(120, 60), "ж" * 80)
    for pic in (NORMAL, picture((entries, entries, entries), focus=prose(150))):
        layout = layout_ikigai(pic, font, size)
        assert layout.size == size
        check_geometry(layout)
        assert layout.find("footer")
        for i in range(3):
            assert len(layout.entries(i)) == len(pic.columns[i].entries)
    png = render_ikigai(NORMAL, font, size=size)
    assert Image.open(io.BytesIO(png)).size == (size, size)


def test_too_small_a_canvas_is_refused(font: Path) -> None:
    with pytest.raises(ValueError, match="at least"):
        layout_ikigai(NORMAL, font, 100)


def test_circles_form_a_venn_diagram(font: Path) -> None:
    layout = layout_ikigai(NORMAL, font)
    a, b, c = layout.circles
    assert a.cy < b.cy == c.cy
    assert b.cx < a.cx < c.cx
    assert [x.color for x in layout.circles] == list(DEFAULT_COLORS)
    for circle in layout.circles:
        assert circle.r < min(circle.cx, circle.cy, 1080 - circle.cx, 1080 - circle.cy)
    for one, two in ((a, b), (b, c), (a, c)):
        assert abs(one.r - two.r) < 1e-9
        distance = ((one.cx - two.cx) ** 2 + (one.cy - two.cy) ** 2) ** 0.5
        assert distance < one.r + two.r  # they overlap
    cx = (a.cx + b.cx + c.cx) / 3
    cy = (a.cy + b.cy + c.cy) / 3
    assert all(circle.contains(cx, cy) for circle in layout.circles)  # a triple overlap


def test_custom_colours_are_used(font: Path) -> None:
    pic = NORMAL
    columns = (
        Column(TITLES[0], pic.columns[0].entries, (200, 0, 0)),
        pic.columns[1],
        pic.columns[2],
    )
    layout = layout_ikigai(IkigaiPicture(pic.title, columns, "Ф", "x"), font)
    assert layout.circles[0].color == (200, 0, 0)
    assert layout.circles[1].color == DEFAULT_COLORS[1]


def test_every_entry_appears_in_the_layout(font: Path) -> None:
    layout = layout_ikigai(NORMAL, font)
    check_geometry(layout)
    for i, column in enumerate(NORMAL.columns):
        blocks = layout.entries(i)
        assert [b.index for b in blocks] == list(range(len(column.entries)))
        for block, entry in zip(blocks, column.entries, strict=True):
            assert_shows(block, entry)
            assert block.bullet is not None
        (title,) = layout.find("column_title", i)
        assert_shows(title, column.title)
        assert title.bold
        assert title.font_size > blocks[0].font_size
    focus = layout.focus
    assert focus is not None
    assert_shows(focus, NORMAL.focus)
    (focus_title,) = layout.find("focus_title")
    assert_shows(focus_title, "ФОКУС ПРОЕКТА")
    (title,) = layout.find("title")
    assert_shows(title, NORMAL.title)
    (footer,) = layout.find("footer")
    assert_shows(footer, NORMAL.footer)
    assert [b.source for b in layout.find("topic")] == list(NORMAL.topics)
    assert layout.hidden_topics == 0


def test_short_texts_use_big_even_fonts(font: Path) -> None:
    layout = layout_ikigai(picture((("Помогать",), ("Готовить",), ("Еда",))), font)
    sizes = {b.font_size for i in range(3) for b in layout.entries(i)}
    assert sizes == {30}  # the largest entry size at 1080 px


def test_columns_stay_within_twenty_percent_of_each_other(font: Path) -> None:
    pic = picture(((prose(110), prose(100, 40), prose(90, 80)), ("Готовить",), ("Еда",)))
    layout = layout_ikigai(pic, font)
    check_geometry(layout)
    sizes = [layout.entries(i)[0].font_size for i in range(3)]
    assert max(sizes) <= min(sizes) * 1.2
    for i, column in enumerate(pic.columns):
        for block, entry in zip(layout.entries(i), column.entries, strict=True):
            assert_shows(block, entry)


def test_three_entries_of_a_hundred_characters_fit_whole(font: Path) -> None:
    """The documented capacity: ~340 characters of prose per circle at the minimum size."""
    entries = (prose(100), prose(100, 50), prose(100, 100))
    pic = picture((entries, entries, entries), focus=prose(120, 30))
    layout = layout_ikigai(pic, font)
    check_geometry(layout)
    for i in range(3):
        for block, entry in zip(layout.entries(i), entries, strict=True):
            assert_shows(block, entry)
            assert block.font_size >= 18
    assert layout.focus is not None
    assert_shows(layout.focus, prose(120, 30))


def test_nine_entries_of_200_characters_are_cut_visibly(font: Path) -> None:
    """Over the capacity: the smallest readable size, every entry shown, cut ones end in "…"."""
    entries = (prose(200), prose(200, 60), prose(200, 120))
    assert all(len(e) >= 195 for e in entries)
    pic = picture((entries, entries, entries), focus=prose(200, 10))
    layout = layout_ikigai(pic, font)
    check_geometry(layout)
    for i in range(3):
        blocks = layout.entries(i)
        assert len(blocks) == 3
        assert any(b.truncated for b in blocks)
        for block, entry in zip(blocks, entries, strict=True):
            assert block.font_size == 18
            assert block.source == entry
            if block.truncated:
                assert_cut_fairly(block)
            else:
                assert_shows(block, entry)
    focus = layout.focus
    assert focus is not None
    assert focus.font_size == 18
    assert_cut_fairly(focus)
    png = render_ikigai(pic, font)
    assert Image.open(io.BytesIO(png)).size == (1080, 1080)


def test_a_long_word_is_broken_and_stays_in_the_circle(font: Path) -> None:
    word = "ж" * 120
    pic = picture(((word,), ("Готовить", "я" * 60 + " и " + "ю" * 70), ("Еда",)), focus="ф" * 90)
    layout = layout_ikigai(pic, font)
    check_geometry(layout)
    (block,) = layout.entries(0)
    assert len(block.lines) >= 2
    assert_shows(block, word)
    assert all(set(line.text) == {"ж"} for line in block.lines)
    assert_shows(layout.entries(1)[1], "я" * 60 + " и " + "ю" * 70)
    assert layout.focus is not None
    assert_shows(layout.focus, "ф" * 90)


def test_cut_long_words_get_no_stray_spaces(font: Path) -> None:
    words = ("ж" * 200, "ё" * 200, "ю…" * 100)
    layout = layout_ikigai(picture((words, words, words), focus="ф" * 200), font)
    check_geometry(layout)
    for i in range(3):
        for block in layout.entries(i):
            assert block.truncated
            shown = "".join(line.text for line in block.lines)
            assert " " not in shown
            assert shown.endswith(ELLIPSIS)
            assert not shown.endswith(ELLIPSIS * 2)
            assert block.source.startswith(shown[:-1].rstrip(ELLIPSIS))


def test_a_hyphen_is_the_preferred_break(font: Path) -> None:
    word = "социально-ориентированных-некоммерческих-организаций-посёлка-Заречный"
    layout = layout_ikigai(picture(((word,), ("a",), ("b",))), font)
    (block,) = layout.entries(0)
    assert len(block.lines) >= 2
    assert_shows(block, word)
    assert all(line.text.endswith("-") for line in block.lines[:-1])


MESSY = (
    "Эмодзи 🙂👍🏽 и флаг 🇷🇺, семья 👨‍👩‍👧",
    "مرحبا بالعالم — арабский справа налево",
    "עברית: שלום עולם",
    "Комбинированные: й й ё a\u0301\u0302\u0303 z\u0336\u0336",
    "Zero\u200bwidth\u200d joiner\u200c и \u2066изоляты\u2069 \u202eRLO\u202c",
    "🙂🙂🙂",
    "Табы\tи\nпереводы\r\nстрок\x00\x07",
)


def test_messy_unicode_does_not_crash(font: Path) -> None:
    pic = IkigaiPicture(
        title="Икигай 🚀 مرحبا",
        columns=(
            Column("Чего хочу 💡", MESSY[:3]),
            Column("Что могу ✨", MESSY[3:5]),
            Column("Что нужно 🏘", MESSY[5:]),
        ),
        focus_title="Фокус 🎯",
        focus="שלום 🙂 e\u0301",
        topics=("🌳 Экология", "🙂", "עברית"),
        footer="Опора · 🗓 29.11.2026",
    )
    layout = layout_ikigai(pic, font)
    check_geometry(layout)
    for i, column in enumerate(pic.columns):
        for block, entry in zip(layout.entries(i), column.entries, strict=True):
            assert_shows(block, sanitize_text(entry, font))
    text = "".join(line.text for block in layout.blocks for line in block.lines)
    assert not any(ch in text for ch in "🙂👍🏽🇷🇺🚀💡🎯\u200b\u200d\u202e\x00\t\n")
    assert "مرحبا" in text
    assert "שלום" in text
    png = render_ikigai(pic, font)
    assert Image.open(io.BytesIO(png)).size == (1080, 1080)


def test_sanitize_text(font: Path) -> None:
    assert sanitize_text("  Привет,\n\tмир  ", font) == "Привет, мир"
    assert sanitize_text("Помощь 🙂 людям", font) == "Помощь людям"
    assert sanitize_text("флаг 🇷🇺, семья 👨‍👩‍👧!", font) == "флаг, семья!"
    assert sanitize_text("x\x00y", font) == "xy"
    assert sanitize_text("🙂🙂", font) == MISSING
    assert sanitize_text("", font) == ""
    assert sanitize_text("\u200d\u200b", font) == ""
    assert sanitize_text("е\u0308ж", font) == "ёж"  # NFC
    assert sanitize_text("a\u0336b", font) == "a\u0336b"  # a mark the font has stays
    assert sanitize_text("☺ ★", font) == "☺ ★"  # symbols DejaVu has stay


def test_empty_parts_are_left_out(font: Path) -> None:
    pic = IkigaiPicture(
        "", (Column("", ()), Column("Что могу", ("", "  ")), Column("Нужно", ("x",))), "", ""
    )
    layout = layout_ikigai(pic, font)
    check_geometry(layout)
    kinds = [b.kind for b in layout.blocks]
    assert kinds == ["column_title", "column_title", "entry"]
    assert layout.focus is None
    render_ikigai(pic, font)


def test_long_titles_and_footer_are_cut_not_overflowing(font: Path) -> None:
    long = "Очень длинный заголовок " * 20
    pic = IkigaiPicture(
        title=long,
        columns=(Column(long, ("a",)), Column("Что могу", ("b",)), Column("Нужно", ("c",))),
        focus_title=long,
        focus="d",
        topics=(),
        footer=long,
    )
    layout = layout_ikigai(pic, font)
    check_geometry(layout)
    for kind in ("title", "column_title", "focus_title", "footer"):
        block = layout.find(kind)[0]
        assert block.truncated, kind
        assert block.lines[-1].text.endswith(ELLIPSIS), kind
    assert len(layout.find("column_title", 0)[0].lines) <= 2


def test_many_topics_are_summed_up(font: Path) -> None:
    topics = tuple(f"Тема номер {n} о важном" for n in range(10))
    layout = layout_ikigai(picture((("a",), ("b",), ("c",)), topics=topics), font)
    check_geometry(layout)
    pills = layout.find("topic")
    shown = [b for b in pills if b.index is not None]
    assert layout.hidden_topics > 0
    assert len(shown) + layout.hidden_topics == len(topics)
    assert pills[-1].index is None
    assert pills[-1].source == f"+{layout.hidden_topics}"
    assert [b.source for b in shown] == list(topics[: len(shown)])
    for block in pills:
        assert block.pill is not None
        assert block.font_size >= 16
        assert block.lines[0].box.left >= block.pill.left
        assert block.lines[0].box.right <= block.pill.right


def test_few_short_topics_are_all_shown_as_pills_near_the_need_circle(font: Path) -> None:
    layout = layout_ikigai(NORMAL, font)
    need = layout.circles[2]
    for block in layout.find("topic"):
        assert block.pill is not None
        assert block.pill.left >= 540
        assert block.pill.bottom < need.cy


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    entries=st.lists(st.text(max_size=200), min_size=9, max_size=9),
    focus=st.text(max_size=200),
    topics=st.lists(st.text(max_size=28), max_size=10),
)
def test_any_text_stays_on_the_canvas(
    font: Path, entries: list[str], focus: str, topics: list[str]
) -> None:
    pic = picture(
        (tuple(entries[:3]), tuple(entries[3:6]), tuple(entries[6:])),
        focus=focus,
        topics=tuple(topics),
    )
    layout = layout_ikigai(pic, font)
    check_geometry(layout)
    for i in range(3):
        for block in layout.entries(i):
            if block.truncated:
                assert block.lines == () or block.lines[-1].text.endswith(ELLIPSIS)
            else:
                assert squash(block.text) == squash(block.source)


# ------------------------------------------------------------------------------------ pixels


def test_text_and_circles_are_really_drawn(font: Path) -> None:
    layout = layout_ikigai(NORMAL, font)
    image = Image.open(io.BytesIO(render_ikigai(NORMAL, font))).convert("RGB")
    corner = image.getpixel((2, 2))
    assert isinstance(corner, tuple)  # the palette moves flat colours by a level or two at most
    assert max(abs(x - y) for x, y in zip(corner, BACKGROUND, strict=True)) <= 2
    for block in layout.blocks:
        for line in block.lines:
            b = line.box
            crop = image.crop((int(b.left), int(b.top), int(b.right) + 1, int(b.bottom) + 1))
            dark = sum(crop.convert("L").histogram()[:140])
            assert dark > 10, (block.kind, line.text)
    pixels = image.getcolors(maxcolors=1 << 20)
    assert pixels is not None
    counts: dict[tuple[int, ...], int] = {}
    for n, rgb in pixels:
        assert isinstance(rgb, tuple)
        counts[rgb] = n
    for color in DEFAULT_COLORS:
        tint = [
            round(c * CIRCLE_ALPHA + g * (1 - CIRCLE_ALPHA))
            for c, g in zip(color, BACKGROUND, strict=True)
        ]
        near = sum(
            n
            for rgb, n in counts.items()
            if max(abs(x - y) for x, y in zip(rgb, tint, strict=True)) <= 2
        )
        assert near > 20_000, (color, tint, near)


def test_focus_sits_in_the_triple_overlap(font: Path) -> None:
    layout = layout_ikigai(NORMAL, font)
    focus = layout.focus
    assert focus is not None
    x, y = focus.box.center
    assert all(circle.contains(x, y) for circle in layout.circles)
    assert all(circle.contains_box(focus.box, TOL) for circle in layout.circles)


def test_circle_helpers() -> None:
    circle = Circle(0, 0, 10, (0, 0, 0))
    assert circle.contains(6, 8)
    assert not circle.contains(8, 8)
    assert circle.contains_box(Box(-5, -5, 5, 5))
    assert not circle.contains_box(Box(-8, -8, 8, 8))
    assert circle.clear_of_box(Box(10, -1, 20, 1))
    assert not circle.clear_of_box(Box(9, -1, 20, 1))
    assert circle.clear_of_box(Box(8, 8, 20, 20))


# ----------------------------------------------------------------------- speed and threading


def test_render_is_fast(font: Path) -> None:
    entries = (prose(200), prose(200, 60), prose(200, 120))
    pic = picture((entries, entries, entries), focus=prose(200), topics=("Тема",) * 10)
    render_ikigai(pic, font)  # fonts loaded
    started = time.perf_counter()
    render_ikigai(pic, font)
    assert time.perf_counter() - started < 1.5  # ~0.15 s here; generous for slow CI


def test_renders_in_threads_agree(font: Path) -> None:
    pictures = [NORMAL, picture(((prose(150),), (prose(90, 20),), ("Еда", "Вода")))]
    expected = [render_ikigai(p, font) for p in pictures]
    results: dict[int, bytes] = {}

    def work(n: int) -> None:
        results[n] = render_ikigai(pictures[n % 2], font)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[n] == expected[n % 2] for n in range(6))
