"""Coordinators' charts: PNGs of the right size, readable Cyrillic titles and axis labels,
"no data yet" instead of empty axes, long labels kept inside, the same bytes every time."""

from __future__ import annotations

import asyncio
import io
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from bot.ui.charts import (
    BACKGROUND,
    ELLIPSIS,
    SQUARE,
    TALL,
    Bar,
    BarChart,
    ColumnChart,
    Layout,
    layout_chart,
    layout_sheet,
    nice_ticks,
    render_chart,
    render_sheet,
    text_table,
)
from bot.ui.pictures import Box, find_font

STAGES = BarChart(
    title="Участники по этапам проекта",
    subtitle="Прошли тест этапа: 19 из 25",
    bars=tuple(
        Bar(f"{n}. {name}", (value,))
        for n, (name, value) in enumerate(
            [
                ("Ощущение проблемы", 3),
                ("Первый круг", 5),
                ("Пляжный волейбол", 2),
                ("Формализация", 7),
                ("Экспансия", 1),
                ("Децентрализация", 0),
                ("Финиш", 1),
            ],
            start=1,
        )
    ),
    x_axis="Участники",
    y_axis="Этап (по последнему тесту)",
)
SIGNUPS = ColumnChart(
    title="Новые участники за последние 30 дней",
    labels=tuple(f"{d:02d}.11" for d in range(1, 31)),
    values=tuple(((d * 7) % 5, (d * 3) % 4) for d in range(30)),
    series=("Запустили бота", "Дали согласие"),
    x_axis="День",
    y_axis="Человек",
)
DELIVERY = BarChart(
    title="Доставка последних рассылок",
    bars=(
        Bar("№3 · 01.11 · Приглашаем на встречу", (40.0, 3.0, 2.0, 0.0)),
        Bar("№2 · 20.10 · Грант", (30.0, 0.0, 1.0, 5.0)),
    ),
    series=("Доставлено", "Заблокировали бота", "Ошибка", "В очереди"),
    stacked=True,
    x_axis="Сообщений",
    y_axis="Рассылка",
)
ASSESSMENT = BarChart(
    title="Самооценка: от чего зависит поддержка",
    bars=(
        Bar("Политическая воля", (2, 3)),
        Bar("Доверие власти и активистов", (3, 3)),
        Bar("Финансы и материальная база", (None, 4)),
    ),
    series=("Прошлый раз · 01.10.2026", "Сейчас · 05.11.2026"),
    scale=(0, 1, 2, 3, 4, 5),
    x_axis="Оценка: 1 (слабо) – 5 (сильно)",
    y_axis="Меры поддержки зависят от",
)
CHARTS = (STAGES, SIGNUPS, DELIVERY, ASSESSMENT)
LONG = (
    "Очень длинное название проблемы, которое никак не помещается в две строки подписи, "
    "потому что в нём перечислено всё: и высокие издержки, и слабый менеджмент, и риски"
)


@pytest.fixture(scope="module")
def font() -> Path:
    found = find_font()
    assert found is not None, "DejaVu Sans is needed for the chart tests"
    return found


def image(png: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(png))
    picture.load()
    return picture


def ink(picture: Image.Image, box: Box) -> int:
    """Pixels in `box` that differ clearly from the background."""
    area = picture.convert("RGB").crop(
        (int(box.left), int(box.top), int(box.right) + 1, int(box.bottom) + 1)
    )
    raw = area.tobytes()
    return sum(
        1
        for i in range(0, len(raw), 3)
        if sum(abs(raw[i + k] - BACKGROUND[k]) for k in range(3)) > 120
    )


def inside(box: Box, outer: Box, tolerance: float = 1.0) -> bool:
    return (
        box.left >= outer.left - tolerance
        and box.top >= outer.top - tolerance
        and box.right <= outer.right + tolerance
        and box.bottom <= outer.bottom + tolerance
    )


def canvas(layout: Layout) -> Box:
    return Box(0, 0, layout.width, layout.height)


# --- PNG bytes of the expected size ---


@pytest.mark.parametrize("chart", CHARTS, ids=["stages", "signups", "delivery", "assessment"])
@pytest.mark.parametrize("size", [SQUARE, (1200, 900), (480, 480)])
def test_every_chart_is_a_png_of_the_requested_size(
    font: Path, chart: BarChart | ColumnChart, size: tuple[int, int]
) -> None:
    png = render_chart(chart, font, size)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    picture = image(png)
    assert picture.format == "PNG"
    assert picture.size == size
    assert picture.mode == "RGB"


def test_a_sheet_stacks_charts_on_one_canvas(font: Path) -> None:
    picture = image(render_sheet((SIGNUPS, DELIVERY), font, TALL, footer="Опора · 05.11.2026"))
    assert picture.size == TALL
    layout = layout_sheet((SIGNUPS, DELIVERY), font, TALL, footer="Опора · 05.11.2026")
    top, bottom = layout.panels
    assert top.bottom <= bottom.top
    charts: tuple[ColumnChart | BarChart, ...] = (SIGNUPS, DELIVERY)
    for panel, chart in enumerate(charts):
        [title] = layout.find("title", panel)
        assert title.text == chart.title
        assert inside(title.box, layout.panels[panel])
    [footer] = layout.find("footer")
    assert footer.text == "Опора · 05.11.2026"
    assert footer.box.top >= bottom.bottom - 1


def test_too_small_a_canvas_is_refused(font: Path) -> None:
    with pytest.raises(ValueError, match="at least"):
        render_chart(STAGES, font, (200, 800))
    with pytest.raises(ValueError, match="at least one chart"):
        layout_sheet((), font)


# --- readable Cyrillic title and axis labels ---


@pytest.mark.parametrize("chart", CHARTS, ids=["stages", "signups", "delivery", "assessment"])
def test_title_and_axis_labels_are_drawn_where_the_layout_puts_them(
    font: Path, chart: BarChart | ColumnChart
) -> None:
    layout = layout_chart(chart, font)
    picture = image(render_chart(chart, font))
    assert " ".join(t.text for t in layout.find("title")) == chart.title
    [x_axis] = layout.find("x_axis")
    [y_axis] = layout.find("y_axis")
    assert x_axis.text == chart.x_axis
    assert y_axis.text == chart.y_axis
    for role in ("title", "x_axis", "y_axis", "category", "tick"):
        assert layout.find(role), role
        for text in layout.find(role):
            box = text.box
            assert inside(box, canvas(layout)), text
            assert ink(picture, box) > 0.08 * box.width * box.height, f"no text drawn: {text}"
    # the title is big and dark, the axis titles are smaller; neither runs over the other
    title = layout.area("title")
    assert title is not None
    assert layout.find("title")[0].size > x_axis.size
    assert title.bottom < y_axis.box.top
    assert y_axis.box.bottom < x_axis.box.top
    # and where the layout put no text and no shape, nothing was drawn
    left_margin = Box(0, 0, 20, layout.height - 1)
    assert ink(picture, left_margin) == 0


def test_category_labels_and_values_sit_beside_the_bars(font: Path) -> None:
    layout = layout_chart(STAGES, font)
    bars = [r for r in layout.rects if r.role == "bar"]
    assert len(bars) == 6  # "Децентрализация" has 0: no bar, but its label and value
    assert [t.text for t in layout.find("category")] == [b.label for b in STAGES.bars]
    values = [t.text for t in layout.find("value")]
    assert values == ["3", "5", "2", "7", "1", "0", "1"]
    leftmost_bar = min(r.box.left for r in bars)
    assert all(t.box.right < leftmost_bar for t in layout.find("category"))
    longest = max(bars, key=lambda r: r.box.width)
    seven = next(t for t in layout.find("value") if t.text == "7")
    assert seven.box.left > longest.box.right


def test_series_get_a_legend_and_a_missing_value_a_dash(font: Path) -> None:
    layout = layout_chart(ASSESSMENT, font)
    assert [t.text for t in layout.find("legend")] == list(ASSESSMENT.series)
    assert "—" in [t.text for t in layout.find("value")]
    assert len([r for r in layout.rects if r.role == "bar"]) == 5
    assert [t.text for t in layout.find("tick")] == ["0", "1", "2", "3", "4", "5"]


def test_stacked_bars_show_the_total(font: Path) -> None:
    layout = layout_chart(DELIVERY, font)
    assert [t.text for t in layout.find("value")] == ["45", "36"]
    first_row = [r for r in layout.rects if r.role == "bar"][:3]
    assert [round(r.box.left) for r in first_row[1:]] == [
        round(r.box.right) for r in first_row[:2]
    ]


def test_day_labels_do_not_touch(font: Path) -> None:
    layout = layout_chart(SIGNUPS, font)
    labels = sorted(layout.find("category"), key=lambda t: t.box.left)
    assert 5 <= len(labels) <= 30
    assert labels[-1].text == "30.11"  # the newest day is always labelled
    for a, b in itertools.pairwise(labels):
        assert a.box.right < b.box.left
    assert all(inside(t.box, canvas(layout)) for t in labels)


# --- no data ---


@pytest.mark.parametrize(
    "chart",
    [
        BarChart("Участники по этапам", (), "Участники", "Этап", empty="Пока нет данных"),
        BarChart("Проблемы", (Bar("Нехватка средств", (0,)),), "x", "y", empty="Пока нет данных"),
        ColumnChart(
            "Новые",
            ("01.11", "02.11"),
            ((0, 0), (0, 0)),
            "День",
            "Человек",
            empty="Пока нет данных",
        ),
    ],
    ids=["no-bars", "all-zero", "no-columns"],
)
def test_no_data_says_so(font: Path, chart: BarChart | ColumnChart) -> None:
    layout = layout_chart(chart, font)
    [empty] = layout.find("empty")
    assert empty.text == "Пока нет данных"
    assert not [r for r in layout.rects if r.role == "bar"]
    assert not layout.find("category")
    assert not layout.find("tick")
    picture = image(render_chart(chart, font))
    assert ink(picture, empty.box) > 0
    assert text_table(chart) == (chart.title, ("Пока нет данных",))


# --- long text stays inside ---


def test_long_labels_are_wrapped_and_cut_inside_the_canvas(font: Path) -> None:
    chart = BarChart(
        title="Главные проблемы проектов территории, " * 6,
        subtitle="Подзаголовок " * 30,
        bars=(
            Bar(LONG, (9,)),
            Bar("Нехватка средств", (4,)),
            Bar("Сверхдлинноесловобезединогопробелакотороененапишетниктоизлюдей" * 2, (2,)),
        ),
        x_axis="Участники " * 20,
        y_axis="Проблема " * 20,
    )
    layout = layout_chart(chart, font)
    for text in layout.texts:
        assert inside(text.box, canvas(layout)), text
    assert len(layout.find("title")) == 2
    assert layout.find("title")[-1].text.endswith(ELLIPSIS)
    assert layout.find("x_axis")[0].text.endswith(ELLIPSIS)
    labels = layout.find("category")
    first_bar = min(r.box.left for r in layout.rects if r.role == "bar")
    assert all(t.box.right < first_bar for t in labels)
    long_lines = [t for t in labels if t.text.startswith(("Очень", "потому", "строки"))]
    assert 1 <= len(long_lines) <= 2
    assert any(t.text.endswith(ELLIPSIS) for t in labels)
    assert "Нехватка средств" in [t.text for t in labels]  # a short label is left whole
    image(render_chart(chart, font))  # and it draws


def test_characters_without_a_glyph_are_dropped(font: Path) -> None:
    chart = BarChart("Рассылки 🎉", (Bar("№1 · Праздник 🎈🎈", (3,)),), "Сообщений", "Рассылка")
    layout = layout_chart(chart, font)
    assert layout.find("title")[0].text == "Рассылки"
    assert layout.find("category")[0].text == "№1 · Праздник"


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    labels=st.lists(st.text(min_size=1, max_size=120), min_size=1, max_size=12),
    values=st.lists(st.integers(min_value=0, max_value=10**6), min_size=12, max_size=12),
    width=st.integers(min_value=240, max_value=1400),
)
def test_nothing_is_drawn_outside_the_canvas(
    font: Path, labels: list[str], values: list[int], width: int
) -> None:
    bars = tuple(Bar(label, (v,)) for label, v in zip(labels, values, strict=False))
    chart = BarChart("Заголовок", bars, "Ось X", "Ось Y")
    layout = layout_chart(chart, font, (width, width))
    for text in layout.texts:
        assert inside(text.box, canvas(layout), tolerance=2), text
    for rect in layout.rects:
        assert inside(rect.box, canvas(layout), tolerance=2), rect


# --- deterministic ---


def test_the_same_input_gives_the_same_bytes(font: Path) -> None:
    first = [render_chart(chart, font) for chart in CHARTS]
    second = [render_chart(chart, font) for chart in CHARTS]
    assert first == second

    async def in_threads() -> list[bytes]:
        return list(
            await asyncio.gather(*(asyncio.to_thread(render_chart, c, font) for c in CHARTS))
        )

    assert asyncio.run(in_threads()) == first
    assert render_chart(STAGES, font) != render_chart(ASSESSMENT, font)


# --- helpers ---


@given(st.floats(min_value=0, max_value=1e7, allow_nan=False))
def test_ticks_are_round_and_cover_the_top(top: float) -> None:
    ticks = nice_ticks(top)
    assert ticks[0] == 0
    assert ticks[-1] >= top
    assert 2 <= len(ticks) <= 7
    steps = {round(b - a, 6) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1
    assert all(float(t).is_integer() for t in ticks)


def test_text_tables_for_a_server_without_fonts() -> None:
    title, lines = text_table(ASSESSMENT)
    assert title == ASSESSMENT.title
    assert lines[0] == "Прошлый раз · 01.10.2026 / Сейчас · 05.11.2026"
    assert "Финансы и материальная база — — / 4" in lines
    _, days = text_table(SIGNUPS)
    assert days[0] == "Запустили бота / Дали согласие"
    assert all(" — " in line for line in days[1:])
    assert len(days) - 1 < len(SIGNUPS.labels)  # days without anyone are left out
