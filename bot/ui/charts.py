"""Charts for coordinators, drawn with Pillow: horizontal bars and daily columns.

`layout_sheet` (and `layout_chart` for one chart) is pure geometry: it decides where every
rectangle and every line of text goes and returns a `Layout` that tests can inspect (each text
has a role — title, subtitle, legend, y_axis, x_axis, category, tick, value, empty, footer — and
the box its ink covers). `draw` paints exactly that layout; `render_chart` / `render_sheet` return
PNG bytes. Everything is CPU-bound and meant for `asyncio.to_thread`; the output is
deterministic for the same input and font.

The look, made for a phone (1080 px wide; every measure scales with the width):

* a bold title (up to two lines) and a muted subtitle top left; a legend under them when a chart
  has more than one series;
* the vertical axis title above the plot, left; the horizontal axis title under the tick labels,
  centred — both horizontal, so nobody turns the phone to read them;
* `BarChart`: one row per category, the label (wrapped to two lines, the font shrinking first,
  then "…") left of its bars, the value at the end of every bar; series side by side or stacked;
* `ColumnChart`: one column group per label (days), as many tick labels as fit without touching;
* a chart without data says so ("No data yet") in its plot area instead of drawing empty axes.

Characters the font has no glyph for (emoji, for DejaVu Sans) are dropped, see
`bot.ui.pictures.sanitize_text`. Text never leaves its panel.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bot.ui.pictures import Box, find_bold_font, sanitize_text

RGB = tuple[int, int, int]

DESIGN_WIDTH = 1080
SQUARE = (1080, 1080)
TALL = (1080, 1440)
MIN_SIDE = 240

BACKGROUND: RGB = (252, 251, 248)
INK: RGB = (33, 35, 43)
MUTED: RGB = (112, 116, 128)
GRID: RGB = (226, 226, 230)
AXIS: RGB = (150, 152, 162)
DIVIDER: RGB = (210, 210, 216)
PALETTE: tuple[RGB, ...] = (
    (58, 110, 200),  # blue
    (38, 160, 130),  # teal
    (230, 96, 74),  # coral
    (244, 168, 48),  # amber
    (150, 120, 200),  # violet
)
ELLIPSIS = "…"
DASH = "—"

# Sizes in pixels of the 1080-wide design, scaled with the canvas width.
_PAD = 40
_TITLE, _SUBTITLE, _LEGEND, _AXIS, _TICK = 42, 26, 25, 25, 24
_LABEL_MAX, _LABEL_MIN = 30, 22
_VALUE_MAX, _VALUE_MIN = 26, 18
_EMPTY = 32
_FOOTER, _FOOTER_BAND = 21, 46
_LINE = 1.22  # line height / font size


# --------------------------------------------------------------------------------------------
# Input


@dataclass(frozen=True)
class Bar:
    """One category of a `BarChart`: its label and one value per series (None: no value)."""

    label: str
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars: categories with long labels (stages, needs, problems, scores).

    `x_axis` titles the value axis (under the plot), `y_axis` the categories (above them).
    `scale`, when given, fixes the value ticks (e.g. 0…5 for a 1–5 rating).
    """

    title: str
    bars: tuple[Bar, ...]
    x_axis: str
    y_axis: str
    series: tuple[str, ...] = ()
    subtitle: str = ""
    stacked: bool = False
    scale: tuple[float, ...] | None = None
    empty: str = "No data yet"
    colors: tuple[RGB, ...] = PALETTE


@dataclass(frozen=True)
class ColumnChart:
    """Vertical columns, one group per label (e.g. a day), one column per series."""

    title: str
    labels: tuple[str, ...]
    values: tuple[tuple[float, ...], ...]  # per label, one value per series
    x_axis: str
    y_axis: str
    series: tuple[str, ...] = ()
    subtitle: str = ""
    empty: str = "No data yet"
    colors: tuple[RGB, ...] = PALETTE


Chart = BarChart | ColumnChart


def has_data(chart: Chart) -> bool:
    """Whether there is anything to draw (some value above zero)."""
    if isinstance(chart, BarChart):
        values = [v for bar in chart.bars for v in bar.values]
    else:
        values = [v for group in chart.values for v in group]
    return any(v is not None and v > 0 for v in values)


# --------------------------------------------------------------------------------------------
# Layout types


@dataclass(frozen=True)
class Text:
    role: str
    text: str
    x: float  # the start of the text
    baseline: float
    size: int
    bold: bool
    color: RGB
    box: Box  # the ink, in canvas pixels
    panel: int


@dataclass(frozen=True)
class Rect:
    role: str  # bar, grid, axis, swatch, divider
    box: Box
    color: RGB
    panel: int


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    background: RGB
    panels: tuple[Box, ...]
    texts: tuple[Text, ...]
    rects: tuple[Rect, ...]

    def find(self, role: str, panel: int | None = None) -> tuple[Text, ...]:
        return tuple(
            t for t in self.texts if t.role == role and (panel is None or t.panel == panel)
        )

    def area(self, role: str, panel: int | None = None) -> Box | None:
        """The union of the ink boxes of every text with `role` (None: there is none)."""
        boxes = [t.box for t in self.find(role, panel)]
        if not boxes:
            return None
        return functools.reduce(Box.union, boxes)


# --------------------------------------------------------------------------------------------
# Fonts and text fitting


@functools.lru_cache(maxsize=128)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


@dataclass
class _Fonts:
    regular: str
    bold: str

    def get(self, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
        return _font(self.bold if bold else self.regular, size)

    def length(self, text: str, size: int, bold: bool = False) -> float:
        return float(self.get(size, bold).getlength(text)) if text else 0.0


def _fonts(font: str | Path) -> _Fonts:
    bold = find_bold_font(font)
    return _Fonts(str(font), str(bold if bold is not None else font))


def _ellipsize(text: str, fits: _Measure, width: float) -> str:
    """`text` if it fits `width`, else its longest head that fits with "…" after it."""
    if fits(text) <= width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(text[:mid].rstrip(" ,;:.-–—") + ELLIPSIS) <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip(" ,;:.-–—") + ELLIPSIS


class _Measure:
    def __init__(self, fonts: _Fonts, size: int, bold: bool = False) -> None:
        self.fonts, self.size, self.bold = fonts, size, bold
        self._cache: dict[str, float] = {}

    def __call__(self, text: str) -> float:
        found = self._cache.get(text)
        if found is None:
            found = self._cache[text] = self.fonts.length(text, self.size, self.bold)
        return found


def _wrap(text: str, fits: _Measure, width: float, max_lines: int) -> tuple[list[str], bool]:
    """Greedy word wrap into at most `max_lines` lines; a word wider than a line is broken.
    Returns the lines and whether anything was cut (the last line then ends with "…")."""
    words = text.split()
    if not words:
        return [], False
    lines: list[str] = []
    current = ""
    broken = False  # the last line ends inside a word
    rest = list(words)
    while rest:
        word = rest[0]
        candidate = f"{current} {word}" if current else word
        if fits(candidate) <= width:
            current = candidate
            rest.pop(0)
            continue
        if current:
            lines.append(current)
            current, broken = "", False
        else:  # one word wider than the line: break it
            cut = len(word) - 1
            while cut > 1 and fits(word[:cut]) > width:
                cut -= 1
            lines.append(word[:cut])
            rest[0], broken = word[cut:], True
        if len(lines) == max_lines:
            break
    if current:
        lines.append(current)
    if not rest:
        return lines, False
    joint = "" if broken else " "
    lines[-1] = _ellipsize(lines[-1] + joint + " ".join(rest) + ELLIPSIS, fits, width)
    return lines, True


def _fmt(value: float) -> str:
    if abs(value - round(value)) < 1e-9:
        return str(round(value))
    return f"{value:.1f}"


def nice_ticks(top: float, *, integer: bool = True, most: int = 5) -> tuple[float, ...]:
    """0 and round steps (1, 2, 5 × 10ⁿ) up to at least `top`; at most `most` + 1 ticks."""
    top = max(top, 1.0 if integer else 1e-9)
    raw = top / most
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw - 1e-12)
    if integer:
        step = max(1.0, float(round(step)))
    count = math.ceil(top / step - 1e-9)
    return tuple(round(i * step, 9) for i in range(count + 1))


# --------------------------------------------------------------------------------------------
# Building a layout


@dataclass
class _Builder:
    fonts: _Fonts
    scale: float
    panel: int = 0
    texts: list[Text] = field(default_factory=list)
    rects: list[Rect] = field(default_factory=list)

    def px(self, design: float) -> float:
        return design * self.scale

    def size(self, design: int) -> int:
        return max(8, round(design * self.scale))

    def measure(self, size: int, bold: bool = False) -> _Measure:
        return _Measure(self.fonts, size, bold)

    def line_height(self, size: int) -> float:
        return size * _LINE

    def text(
        self,
        role: str,
        text: str,
        x: float,
        baseline: float,
        size: int,
        *,
        bold: bool = False,
        color: RGB = INK,
        align: str = "left",
    ) -> Text | None:
        if not text:
            return None
        width = self.fonts.length(text, size, bold)
        if align == "center":
            x -= width / 2
        elif align == "right":
            x -= width
        x, baseline = round(x), round(baseline)
        left, top, right, bottom = self.fonts.get(size, bold).getbbox(text, anchor="ls")
        item = Text(
            role,
            text,
            x,
            baseline,
            size,
            bold,
            color,
            Box(x + left, baseline + top, x + right, baseline + bottom),
            self.panel,
        )
        self.texts.append(item)
        return item

    def rect(self, role: str, box: Box, color: RGB) -> None:
        if box.width > 0 and box.height > 0:
            self.rects.append(Rect(role, box, color, self.panel))

    def paragraph(
        self,
        role: str,
        text: str,
        left: float,
        top: float,
        width: float,
        size: int,
        max_lines: int,
        *,
        bold: bool = False,
        color: RGB = INK,
    ) -> float:
        """Wrapped text from `top` down; returns the y under its last line."""
        lines, _ = _wrap(text, self.measure(size, bold), width, max_lines)
        ascent = self.fonts.get(size, bold).getmetrics()[0]
        y = top
        for line in lines:
            self.text(role, line, left, y + ascent, size, bold=bold, color=color)
            y += self.line_height(size)
        return y


def _clean(text: str, font: str | Path) -> str:
    cleaned = sanitize_text(text, font) if text.strip() else ""
    return cleaned


def _header(b: _Builder, chart: Chart, panel: Box, font: str | Path) -> float:
    """Title, subtitle and legend; returns the y where the body starts."""
    pad = b.px(_PAD)
    left, width = panel.left + pad, panel.width - 2 * pad
    y = panel.top + pad
    y = b.paragraph(
        "title", _clean(chart.title, font), left, y, width, b.size(_TITLE), 2, bold=True
    )
    if chart.subtitle.strip():
        y += b.px(4)
        y = b.paragraph(
            "subtitle",
            _clean(chart.subtitle, font),
            left,
            y,
            width,
            b.size(_SUBTITLE),
            2,
            color=MUTED,
        )
    if chart.series and has_data(chart):
        y += b.px(14)
        y = _legend(b, chart, left, y, width, font)
    return y + b.px(22)


def _legend(
    b: _Builder, chart: Chart, left: float, top: float, width: float, font: str | Path
) -> float:
    size = b.size(_LEGEND)
    fits = b.measure(size)
    swatch, gap, spacing = b.px(22), b.px(10), b.px(30)
    ascent = b.fonts.get(size).getmetrics()[0]
    line = b.line_height(size)
    x, y = left, top
    for i, name in enumerate(chart.series):
        label = _ellipsize(_clean(name, font), fits, width - swatch - gap)
        need = swatch + gap + fits(label)
        if x > left and x + need > left + width:
            x, y = left, y + line + b.px(4)
        color = chart.colors[i % len(chart.colors)]
        mid = y + line / 2
        b.rect("swatch", Box(x, mid - swatch / 2, x + swatch, mid + swatch / 2), color)
        b.text("legend", label, x + swatch + gap, y + ascent, size, color=INK)
        x += need + spacing
    return y + line


def _axis_titles(
    b: _Builder, chart: Chart, panel: Box, top: float, font: str | Path
) -> tuple[float, float]:
    """The y-axis title at `top` (left) and the x-axis title at the bottom (centred later);
    returns the plot's top and the y of the x-axis title's line top."""
    pad = b.px(_PAD)
    size = b.size(_AXIS)
    fits = b.measure(size, True)
    ascent = b.fonts.get(size, True).getmetrics()[0]
    title = _ellipsize(_clean(chart.y_axis, font), fits, panel.width - 2 * pad)
    b.text("y_axis", title, panel.left + pad, top + ascent, size, bold=True, color=MUTED)
    plot_top = top + b.line_height(size) + b.px(14)
    x_title_top = panel.bottom - pad - b.line_height(size)
    return plot_top, x_title_top


def _x_axis_title(
    b: _Builder, chart: Chart, panel: Box, top: float, center: float, font: str | Path
) -> None:
    pad = b.px(_PAD)
    size = b.size(_AXIS)
    fits = b.measure(size, True)
    ascent = b.fonts.get(size, True).getmetrics()[0]
    title = _ellipsize(_clean(chart.x_axis, font), fits, panel.width - 2 * pad)
    width = fits(title)
    x = min(max(center - width / 2, panel.left + pad), panel.right - pad - width)
    b.text("x_axis", title, x, top + ascent, size, bold=True, color=MUTED)


def _empty(b: _Builder, chart: Chart, panel: Box, top: float, font: str | Path) -> None:
    pad = b.px(_PAD)
    size = b.size(_EMPTY)
    fits = b.measure(size)
    text = _ellipsize(_clean(chart.empty, font) or DASH, fits, panel.width - 2 * pad)
    middle = (top + panel.bottom - pad) / 2
    ascent, descent = b.fonts.get(size).getmetrics()
    frame = Box(panel.left + pad, top, panel.right - pad, panel.bottom - pad)
    b.rect("frame", frame, (244, 243, 240))
    b.text(
        "empty",
        text,
        panel.left + panel.width / 2,
        middle + (ascent - descent) / 2,
        size,
        color=MUTED,
        align="center",
    )


def _label_font(
    b: _Builder, labels: Sequence[str], width: float, row: float
) -> tuple[int, list[list[str]]]:
    """The largest label size (two lines at most) at which every label that can fit whole at
    the smallest size fits whole; the others are cut with "…" wherever they stop fitting."""
    smallest = b.size(_LABEL_MIN)

    def wrap_all(size: int) -> tuple[list[list[str]], list[bool]]:
        lines_fit = max(1, min(2, math.floor(row * 0.94 / b.line_height(size))))
        fits = b.measure(size)
        done = [_wrap(label, fits, width, lines_fit) for label in labels]
        return [lines for lines, _ in done], [cut for _, cut in done]

    wrapped, hopeless = wrap_all(smallest)
    for size in range(b.size(_LABEL_MAX), smallest, -1):
        lines, cut = wrap_all(size)
        if not any(c and not h for c, h in zip(cut, hopeless, strict=True)):
            return size, lines
    return smallest, wrapped


def _layout_bars(b: _Builder, chart: BarChart, panel: Box, top: float, font: str | Path) -> None:
    pad = b.px(_PAD)
    plot_top, x_title_top = _axis_titles(b, chart, panel, top, font)
    tick_size = b.size(_TICK)
    tick_line = b.line_height(tick_size)
    plot_bottom = x_title_top - b.px(8) - tick_line - b.px(6)
    inner = panel.width - 2 * pad
    label_left = panel.left + pad
    label_width = round(inner * 0.40)
    bars_left = label_left + label_width + b.px(18)

    n = len(chart.bars)
    row = (plot_bottom - plot_top) / n
    labels = [_clean(bar.label, font) for bar in chart.bars]
    label_size, wrapped = _label_font(b, labels, label_width, row)

    series = max(len(bar.values) for bar in chart.bars)
    totals = [sum(v or 0 for v in bar.values) for bar in chart.bars]
    peaks = [max((v or 0 for v in bar.values), default=0) for bar in chart.bars]
    top_value = max(totals) if chart.stacked else max(peaks)
    ticks = chart.scale or nice_ticks(top_value)
    low, high = ticks[0], ticks[-1]

    group = min(row * 0.70, b.px(64) if series == 1 or chart.stacked else b.px(36) * series)
    thickness = group if chart.stacked else group / series
    value_size = max(b.size(_VALUE_MIN), min(b.size(_VALUE_MAX), round(thickness * 0.78)))
    value_fits = b.measure(value_size, True)
    widest = max([value_fits(_fmt(t)) for t in (*totals, *peaks, high)] + [value_fits(DASH)])
    bars_right = panel.right - pad - widest - b.px(12)
    span = max(1.0, high - low)

    def at(value: float) -> float:
        value = min(max(value, low), high)
        return bars_left + (value - low) / span * (bars_right - bars_left)

    for t in ticks:
        x = at(t)
        role, color = ("axis", AXIS) if t == low else ("grid", GRID)
        width = b.px(2) if t == low else b.px(1.5)
        b.rect(role, Box(x - width / 2, plot_top, x + width / 2, plot_bottom), color)
        b.text(
            "tick",
            _fmt(t),
            x,
            plot_bottom + b.px(8) + tick_size,
            tick_size,
            color=MUTED,
            align="center",
        )

    ascent, descent = b.fonts.get(label_size).getmetrics()
    line = b.line_height(label_size)
    vascent, vdescent = b.fonts.get(value_size, True).getmetrics()
    for i, bar in enumerate(chart.bars):
        middle = plot_top + (i + 0.5) * row
        lines = wrapped[i]
        first = middle - (len(lines) * line) / 2 + (line - ascent - descent) / 2 + ascent
        for k, text in enumerate(lines):
            b.text("category", text, label_left, first + k * line, label_size)
        start = middle - group / 2
        if chart.stacked:
            x = at(low)
            for j, value in enumerate(bar.values):
                if value:
                    end = at(sum(v or 0 for v in bar.values[: j + 1]))
                    color = chart.colors[j % len(chart.colors)]
                    b.rect("bar", Box(x, start, end, start + group), color)
                    x = end
            b.text(
                "value",
                _fmt(totals[i]),
                x + b.px(10),
                middle + (vascent - vdescent) / 2,
                value_size,
                bold=True,
            )
            continue
        for j, value in enumerate(bar.values):
            top_ = start + j * thickness
            gap = b.px(2) if series > 1 else 0
            color = chart.colors[j % len(chart.colors)]
            baseline = top_ + thickness / 2 + (vascent - vdescent) / 2
            if value is None:
                b.text("value", DASH, at(low) + b.px(10), baseline, value_size, color=MUTED)
                continue
            end = at(value)
            b.rect("bar", Box(at(low), top_ + gap / 2, end, top_ + thickness - gap / 2), color)
            b.text(
                "value", _fmt(value), end + b.px(10), baseline, value_size, bold=True, color=INK
            )
    _x_axis_title(b, chart, panel, x_title_top, (bars_left + bars_right) / 2, font)


def _layout_columns(
    b: _Builder, chart: ColumnChart, panel: Box, top: float, font: str | Path
) -> None:
    pad = b.px(_PAD)
    plot_top, x_title_top = _axis_titles(b, chart, panel, top, font)
    tick_size = b.size(_TICK)
    tick_line = b.line_height(tick_size)
    plot_bottom = x_title_top - b.px(8) - tick_line - b.px(6)
    fits = b.measure(tick_size)

    peak = max((v for group in chart.values for v in group), default=0)
    ticks = nice_ticks(peak)
    tick_width = max(fits(_fmt(t)) for t in ticks)
    plot_left = panel.left + pad + tick_width + b.px(12)
    plot_right = panel.right - pad
    high = ticks[-1]
    # the top tick's label sits on its line: keep half a line free above it
    plot_top += tick_size / 2

    def at(value: float) -> float:
        return plot_bottom - min(max(value, 0.0), high) / high * (plot_bottom - plot_top)

    ascent, descent = b.fonts.get(tick_size).getmetrics()
    for t in ticks:
        y = at(t)
        role, color = ("axis", AXIS) if t == 0 else ("grid", GRID)
        width = b.px(2) if t == 0 else b.px(1.5)
        b.rect(role, Box(plot_left, y - width / 2, plot_right, y + width / 2), color)
        b.text(
            "tick",
            _fmt(t),
            plot_left - b.px(12),
            y + (ascent - descent) / 2,
            tick_size,
            color=MUTED,
            align="right",
        )

    n = len(chart.labels)
    column = (plot_right - plot_left) / n
    series = max((len(group) for group in chart.values), default=1)
    group = column * 0.74
    width = group / series
    labels = [_clean(label, font) for label in chart.labels]
    widest = max(fits(label) for label in labels)
    step = max(1, math.ceil((widest + b.px(14)) / column))
    for i, values in enumerate(chart.values):
        left = plot_left + i * column + (column - group) / 2
        for j, value in enumerate(values):
            if value > 0:
                color = chart.colors[j % len(chart.colors)]
                x0 = left + j * width
                b.rect("bar", Box(x0, at(value), x0 + width, at(0)), color)
    # tick labels from the newest one back; a label that would touch its right neighbour
    # (near the edges, where labels are pushed inside the canvas) is left out
    limit = panel.right - pad
    for i in range(n - 1, -1, -1):
        if (n - 1 - i) % step:
            continue
        text = _ellipsize(labels[i], fits, column * step - b.px(6))
        center = plot_left + (i + 0.5) * column
        w = fits(text)
        x = min(max(center - w / 2, panel.left + pad), panel.right - pad - w)
        if x + w > limit:
            continue
        b.text("category", text, x, plot_bottom + b.px(8) + tick_size, tick_size, color=MUTED)
        limit = x - b.px(12)
    _x_axis_title(b, chart, panel, x_title_top, (plot_left + plot_right) / 2, font)


def _layout_panel(b: _Builder, chart: Chart, panel: Box, font: str | Path) -> None:
    top = _header(b, chart, panel, font)
    if not has_data(chart):
        _empty(b, chart, panel, top, font)
    elif isinstance(chart, BarChart):
        _layout_bars(b, chart, panel, top, font)
    else:
        _layout_columns(b, chart, panel, top, font)


def layout_sheet(
    charts: Sequence[Chart],
    font: str | Path,
    size: tuple[int, int] = TALL,
    *,
    footer: str = "",
) -> Layout:
    """Charts stacked top to bottom on one canvas (equal heights), a footer line under them."""
    if not charts:
        raise ValueError("a sheet needs at least one chart")
    width, height = size
    if min(width, height) < MIN_SIDE:
        raise ValueError(f"a chart needs at least {MIN_SIDE}×{MIN_SIDE} pixels, got {size}")
    b = _Builder(_fonts(font), width / DESIGN_WIDTH)
    bottom = float(height)
    footer = _clean(footer, font)
    if footer:
        band = b.px(_FOOTER_BAND)
        bottom -= band
        fsize = b.size(_FOOTER)
        fits = b.measure(fsize)
        text = _ellipsize(footer, fits, width - 2 * b.px(_PAD))
        ascent, descent = b.fonts.get(fsize).getmetrics()
        b.panel = -1
        b.text(
            "footer",
            text,
            width / 2,
            bottom + band / 2 + (ascent - descent) / 2 - b.px(4),
            fsize,
            color=MUTED,
            align="center",
        )
    part = bottom / len(charts)
    panels = tuple(Box(0, i * part, width, (i + 1) * part) for i in range(len(charts)))
    for i, (chart, panel) in enumerate(zip(charts, panels, strict=True)):
        b.panel = i
        if i:
            b.rect(
                "divider",
                Box(b.px(_PAD), panel.top - 1, width - b.px(_PAD), panel.top + 1),
                DIVIDER,
            )
        _layout_panel(b, chart, panel, font)
    return Layout(width, height, BACKGROUND, panels, tuple(b.texts), tuple(b.rects))


def layout_chart(
    chart: Chart, font: str | Path, size: tuple[int, int] = SQUARE, *, footer: str = ""
) -> Layout:
    return layout_sheet((chart,), font, size, footer=footer)


# --------------------------------------------------------------------------------------------
# Drawing


def draw(layout: Layout, font: str | Path) -> Image.Image:
    """Paint a layout made by `layout_sheet` with the same font; an RGB image."""
    fonts = _fonts(font)
    image = Image.new("RGB", (layout.width, layout.height), layout.background)
    pen = ImageDraw.Draw(image)
    for order in (("frame", "grid", "divider"), ("axis", "bar", "swatch")):
        for r in layout.rects:
            if r.role in order:
                box = r.box
                left, top = round(box.left), round(box.top)
                right = max(left, round(box.right) - 1)  # a hairline is still one pixel
                bottom = max(top, round(box.bottom) - 1)
                pen.rectangle((left, top, right, bottom), fill=r.color)
    for t in layout.texts:
        pen.text(
            (t.x, t.baseline), t.text, font=fonts.get(t.size, t.bold), fill=t.color, anchor="ls"
        )
    return image


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=6)
    return out.getvalue()


def render_sheet(
    charts: Sequence[Chart],
    font: str | Path,
    size: tuple[int, int] = TALL,
    *,
    footer: str = "",
) -> bytes:
    """The charts of `layout_sheet` as PNG bytes. Deterministic for the same input."""
    return _png(draw(layout_sheet(charts, font, size, footer=footer), font))


def render_chart(
    chart: Chart, font: str | Path, size: tuple[int, int] = SQUARE, *, footer: str = ""
) -> bytes:
    """One chart as PNG bytes (size, RGB). Deterministic for the same input."""
    return render_sheet((chart,), font, size, footer=footer)


# --------------------------------------------------------------------------------------------
# Without a font: the same data as text


def text_table(chart: Chart) -> tuple[str, tuple[str, ...]]:
    """The chart's title and one plain-text line per category (or per day with data)."""

    def values(items: Sequence[float | None]) -> str:
        return " / ".join(DASH if v is None else _fmt(v) for v in items)

    if not has_data(chart):
        return chart.title, (chart.empty,)
    if isinstance(chart, BarChart):
        lines = [f"{bar.label} — {values(bar.values)}" for bar in chart.bars]
    else:
        lines = [
            f"{label} — {values(group)}"
            for label, group in zip(chart.labels, chart.values, strict=True)
            if any(v > 0 for v in group)
        ]
    if len(chart.series) > 1:
        lines.insert(0, " / ".join(chart.series))
    return chart.title, tuple(lines)
