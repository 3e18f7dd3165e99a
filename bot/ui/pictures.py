"""The ikigai picture: three overlapping circles with the activist's own words in them.

`layout_ikigai` is pure geometry: it decides where every circle and every line of text goes and
returns a `Layout` that tests can inspect. `render_ikigai` draws exactly that layout with Pillow
and returns PNG bytes. Both are CPU-bound and meant for `asyncio.to_thread`.

The look (1080×1080 by default; every measure scales with `size`):

* "What I want" is the top circle, "What I can" the bottom-left one, "What the territory needs"
  the bottom-right one; the circles are semi-transparent and alpha-composited, so the pairwise
  and the triple overlaps show as mixed colours. The project focus sits in the triple overlap.
* Each circle's bold title and its entries (a bullet each) flow, centred line by line, through
  the part of the circle that no other circle covers. The width of every line follows the
  shape, so the text uses the crescent instead of a small inscribed rectangle.
* The picture title is in the top-left corner, the territory topics are small pills in the
  top-right corner right above the "need" circle, the footer is centred at the bottom.

Fitting text: the font shrinks step by step (entries 30 → 18 px at 1080, headings with them);
above the minimum size no word is ever split (a smaller size is tried first). The three columns
use nearly the same size (at most 15 % apart) so the picture looks even. Only when a column does
not fit at the minimum size are its entries cut, fairly: every entry keeps the same number of
lines and a cut one ends with "…". The focus (under its upper-cased title) is fitted the same
way; titles and the footer are shrunk and, as a last resort, cut with "…" too. Topics that do
not fit are summed up in a "+N" pill. Text is never drawn outside its region or the canvas.

The measured limit at 1080 px with DejaVu Sans, at the minimum size: about 350 characters of
ordinary Russian prose fit whole in the top ("want") circle and about 380–400 in each bottom
one, and about 150 in the focus. Three entries of ~110 characters per column fit whole; the
input maximum (three 200-character entries in every column) does not fit readably in a Venn
diagram of this size, so those entries are cut, visibly, with "…".

Characters the font has no glyph for (most emoji, for DejaVu Sans) are dropped, as are control
and format characters (zero-width joiners, bidi controls, soft hyphens) and variation selectors:
they are invisible or would be drawn as boxes. An entry that consists of nothing else is drawn
as "□". See `sanitize_text`. Right-to-left text and combining marks are shaped by Pillow
(with libraqm when it is available); a long word is broken between grapheme clusters,
preferably after a hyphen, and no hyphen is added.

Thread safety: the only module state is an LRU cache of loaded `FreeTypeFont` objects; Pillow
calls FreeType holding the GIL, so the cached fonts can be shared by worker threads.
"""

from __future__ import annotations

import functools
import io
import logging
import math
import re
import shutil
import subprocess
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from importlib.util import find_spec
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

RGB = tuple[int, int, int]
Align = Literal["left", "center", "right"]
BlockKind = Literal["title", "column_title", "entry", "focus_title", "focus", "topic", "footer"]

DESIGN_SIZE = 1080
MIN_SIZE = 240
DEFAULT_COLORS: tuple[RGB, RGB, RGB] = (
    (244, 114, 94),  # want: coral
    (38, 170, 140),  # can: teal
    (88, 116, 224),  # need: blue
)
BACKGROUND: RGB = (252, 251, 248)
INK: RGB = (33, 35, 43)
MUTED: RGB = (120, 122, 130)
CIRCLE_ALPHA = 0.30
ELLIPSIS = "…"
BULLET = "•"
MISSING = "□"

# Everything below is in pixels of the 1080 design and is scaled with the canvas.
_MARGIN = 14
_FOOTER_BAND = 44
_CIRCLE_PAD = 14  # distance of text from circle borders
_FOCUS_PAD = 12
_ENTRY_MAX, _ENTRY_MIN = 30, 18
_HEADING_MAX, _HEADING_MIN = 34, 22
_TITLE_MAX, _TITLE_MIN = 40, 22
_FOCUS_MAX = 30
_TOPIC_MAX, _TOPIC_MIN = 20, 16
_FOOTER_SIZE, _FOOTER_MIN = 20, 14
_SIZE_RATIO = 1.15  # the largest column font may exceed the smallest by this factor
_SPREAD = 0.6  # distance of a circle centre from the diagram centre, relative to the radius
_BAND_STEP = 3

_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/share/fonts/dejavu-sans-fonts"),
    Path("/usr/share/fonts/truetype"),
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path("/Library/Fonts"),
    Path("~/.local/share/fonts"),
    Path("~/.fonts"),
)
_REGULAR_NAME = "DejaVuSans.ttf"


# --------------------------------------------------------------------------------------------
# Fonts


def _font_ok(path: Path) -> bool:
    try:
        ImageFont.truetype(str(path), 16)
    except OSError:
        return False
    return True


def _has_cyrillic(path: Path) -> bool:
    probe = _GlyphProbe(path)
    return all(probe.has(ch) for ch in "Жж")


def _in_dir(directory: Path, name: str) -> Path | None:
    direct = directory / name
    if direct.is_file():
        return direct
    try:
        found = sorted(directory.rglob(name))
    except OSError:
        return None
    return next((p for p in found if p.is_file()), None)


def _matplotlib_font() -> Path | None:
    try:
        spec = find_spec("matplotlib")
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / _REGULAR_NAME
    return path if path.is_file() else None


def _fc_match(pattern: str) -> Path | None:
    exe = shutil.which("fc-match")
    if exe is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603 - fixed arguments, resolved executable
            [exe, "-f", "%{file}", pattern],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    out = done.stdout.strip()
    if done.returncode != 0 or not out:
        return None
    path = Path(out)
    return path if path.is_file() else None


def find_font(
    configured: str | Path | None = None, *, search: Iterable[str | Path] | None = None
) -> Path | None:
    """The font file for the pictures, or None when there is none (then send text only).

    A configured path wins when it exists and loads. Otherwise DejaVu Sans is looked for:
    in `search` when given (files or directories, searched recursively), else in the usual
    system places, matplotlib's bundled copy and finally `fc-match`. `search=()` turns every
    lookup off, which makes the no-font branch testable.
    """
    if configured is not None and str(configured).strip():
        path = Path(configured).expanduser()
        if path.is_file() and _font_ok(path):
            return path
        log.warning("configured font is missing or unreadable", extra={"font": str(path)})
    places = list(_FONT_DIRS) if search is None else [Path(p) for p in search]
    for place in places:
        place = place.expanduser()
        if place.is_file():
            candidate: Path | None = place
        elif place.is_dir():
            candidate = _in_dir(place, _REGULAR_NAME)
        else:
            candidate = None
        if candidate is not None and _font_ok(candidate):
            return candidate
    if search is not None:
        return None
    bundled = _matplotlib_font()
    if bundled is not None and _font_ok(bundled):
        return bundled
    matched = _fc_match("DejaVuSans")
    if matched is not None and _font_ok(matched) and _has_cyrillic(matched):
        return matched
    return None


def find_bold_font(regular: str | Path) -> Path | None:
    """The bold face next to `regular` (DejaVuSans.ttf → DejaVuSans-Bold.ttf), if there is one."""
    path = Path(regular)
    stem, suffix = path.stem, path.suffix
    names = [f"{stem}-Bold{suffix}", f"{stem}Bold{suffix}", f"{stem}-bold{suffix}"]
    for tail in ("-Regular", "-Book", "-Roman", "Regular"):
        if stem.endswith(tail):
            dash = "-" if tail.startswith("-") else ""
            names.insert(0, f"{stem.removesuffix(tail)}{dash}Bold{suffix}")
    for name in names:
        candidate = path.with_name(name)
        if candidate != path and candidate.is_file() and _font_ok(candidate):
            return candidate
    return None


@functools.lru_cache(maxsize=64)
def _load(path: str, size: int, basic: bool = False) -> ImageFont.FreeTypeFont:
    engine = ImageFont.Layout.BASIC if basic else None
    return ImageFont.truetype(path, size, layout_engine=engine)


class _GlyphProbe:
    """Answers "does the font have a glyph for this character" (per layout call, not shared)."""

    def __init__(self, path: Path) -> None:
        # The basic layout maps characters straight through the cmap: no shaping, so a missing
        # character renders exactly as glyph 0 (.notdef).
        self._font = _load(str(path), 24, basic=True)
        notdef = self._font.getmask("\U0010fffd")
        self._notdef = (notdef.size, bytes(notdef))
        self._known: dict[str, bool] = {}

    def has(self, ch: str) -> bool:
        known = self._known.get(ch)
        if known is None:
            try:
                mask = self._font.getmask(ch)
                known = (mask.size, bytes(mask)) != self._notdef
            except (OSError, ValueError, RuntimeError):
                known = False
            self._known[ch] = known
        return known


def _is_variation_selector(ch: str) -> bool:
    code = ord(ch)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


# Control, format (ZWJ, bidi controls, soft hyphen), surrogate, private-use and unassigned.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_GAP = "\x00"  # stands for a dropped glyph while cleaning
_GAP_BEFORE_PUNCTUATION = re.compile(" \x00+(?=[,.;:!?)»…])")


def _sanitize(text: str, probe: _GlyphProbe) -> str:
    out: list[str] = []
    dropped = False
    for ch in unicodedata.normalize("NFC", text):
        if ch.isspace():
            out.append(" ")
        elif unicodedata.category(ch) in _INVISIBLE or _is_variation_selector(ch):
            continue
        elif probe.has(ch):
            out.append(ch)
        else:
            out.append(_GAP)
            dropped = True
    joined = "".join(out)
    if dropped:  # "флаг 🇷🇺, семья" → "флаг, семья", not "флаг , семья"
        joined = _GAP_BEFORE_PUNCTUATION.sub("", joined).replace(_GAP, "")
    clean = " ".join(joined.split())
    if not clean and dropped:
        return MISSING if probe.has(MISSING) else "?"
    return clean


def sanitize_text(text: str, font: str | Path) -> str:
    """`text` as the picture shows it: NFC, whitespace collapsed, unprintable characters gone.

    Dropped: control and format characters (zero-width joiners, bidi controls, soft hyphens),
    variation selectors and every character the font has no glyph for (emoji, for DejaVu).
    A text that had something but loses all of it becomes "□".
    """
    return _sanitize(text, _GlyphProbe(Path(font)))


# --------------------------------------------------------------------------------------------
# Input and layout types


@dataclass(frozen=True)
class Column:
    title: str
    entries: tuple[str, ...]
    color: RGB | None = None


@dataclass(frozen=True)
class IkigaiPicture:
    title: str
    columns: tuple[Column, Column, Column]
    focus_title: str
    focus: str
    topics: tuple[str, ...] = ()
    footer: str = ""


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def center(self) -> tuple[float, float]:
        return ((self.left + self.right) / 2, (self.top + self.bottom) / 2)

    @property
    def corners(self) -> tuple[tuple[float, float], ...]:
        return (
            (self.left, self.top),
            (self.right, self.top),
            (self.left, self.bottom),
            (self.right, self.bottom),
        )

    def union(self, other: Box) -> Box:
        return Box(
            min(self.left, other.left),
            min(self.top, other.top),
            max(self.right, other.right),
            max(self.bottom, other.bottom),
        )


@dataclass(frozen=True)
class Circle:
    cx: float
    cy: float
    r: float
    color: RGB

    def contains(self, x: float, y: float, tolerance: float = 0.0) -> bool:
        return math.hypot(x - self.cx, y - self.cy) <= self.r + tolerance

    def contains_box(self, box: Box, tolerance: float = 0.0) -> bool:
        return all(self.contains(x, y, tolerance) for x, y in box.corners)

    def clear_of_box(self, box: Box, tolerance: float = 0.0) -> bool:
        """True when no point of `box` is inside the circle."""
        nx = min(max(self.cx, box.left), box.right)
        ny = min(max(self.cy, box.top), box.bottom)
        return math.hypot(nx - self.cx, ny - self.cy) >= self.r - tolerance


@dataclass(frozen=True)
class Line:
    text: str
    box: Box  # the advance box of `text` (without the bullet), one line-height tall
    baseline: float


@dataclass(frozen=True)
class TextBlock:
    """One paragraph: a title, an entry, the focus, a topic pill or the footer."""

    kind: BlockKind
    column: int | None  # 0 want, 1 can, 2 need; None for picture-wide blocks
    index: int | None  # the entry's or topic's position in the input
    source: str  # the sanitized text the block should show
    font_size: int
    bold: bool
    color: RGB
    lines: tuple[Line, ...]
    truncated: bool = False  # the last line ends with "…" because the rest did not fit
    bullet: Box | None = None
    pill: Box | None = None  # the rounded rectangle behind a topic

    @property
    def box(self) -> Box:
        boxes = [line.box for line in self.lines]
        boxes += [b for b in (self.bullet, self.pill) if b is not None]
        if not boxes:
            return Box(0, 0, 0, 0)
        return functools.reduce(Box.union, boxes)

    @property
    def text(self) -> str:
        return " ".join(line.text for line in self.lines)


@dataclass(frozen=True)
class Layout:
    size: int
    background: RGB
    circles: tuple[Circle, Circle, Circle]
    blocks: tuple[TextBlock, ...]
    hidden_topics: int = 0  # topics summed up in the "+N" pill

    def find(self, kind: BlockKind, column: int | None = None) -> tuple[TextBlock, ...]:
        return tuple(
            b for b in self.blocks if b.kind == kind and (column is None or b.column == column)
        )

    def entries(self, column: int) -> tuple[TextBlock, ...]:
        return self.find("entry", column)

    @property
    def focus(self) -> TextBlock | None:
        found = self.find("focus")
        return found[0] if found else None


# --------------------------------------------------------------------------------------------
# Text measuring and wrapping


@dataclass(frozen=True)
class _Face:
    font: ImageFont.FreeTypeFont
    size: int
    stroke: int = 0  # > 0 when bold is simulated by stroking the regular face
    _lengths: dict[str, float] = field(default_factory=dict, compare=False, repr=False)

    def length(self, text: str) -> float:
        """The advance width of `text` (memoized: one face object lives for one layout)."""
        if not text:
            return 0.0
        found = self._lengths.get(text)
        if found is None:
            found = self._lengths[text] = float(self.font.getlength(text)) + 2 * self.stroke
        return found

    @functools.cached_property
    def space(self) -> float:
        return float(self.font.getlength(" "))

    @functools.cached_property
    def metrics(self) -> tuple[int, int]:
        ascent, descent = self.font.getmetrics()
        return ascent + self.stroke, descent + self.stroke

    @property
    def line_height(self) -> float:
        ascent, descent = self.metrics
        return float(ascent + descent) + round(0.07 * self.size)


class _Fonts:
    """The faces of one layout (or drawing) call, with their measurements."""

    def __init__(self, regular: Path, bold: Path | None) -> None:
        self.regular = str(regular)
        self.bold = str(bold) if bold is not None else None
        self._faces: dict[tuple[int, bool], _Face] = {}

    def face(self, size: int, bold: bool = False) -> _Face:
        face = self._faces.get((size, bold))
        if face is None:
            if bold and self.bold is not None:
                face = _Face(_load(self.bold, size), size)
            elif bold:
                face = _Face(_load(self.regular, size), size, max(1, round(size / 28)))
            else:
                face = _Face(_load(self.regular, size), size)
            self._faces[(size, bold)] = face
        return face


def _clusters(word: str) -> list[str]:
    """Grapheme-ish clusters: a base character with the marks that follow it."""
    out: list[str] = []
    for ch in word:
        if out and unicodedata.category(ch) in {"Mn", "Mc", "Me"}:
            out[-1] += ch
        else:
            out.append(ch)
    return out


def _break_word(word: str, face: _Face, width: float) -> tuple[str, str]:
    """The longest head of `word` that fits `width`, and the rest.

    A first cluster wider than the whole line (possible only with an exotic font) is dropped:
    the head is then empty.
    """
    parts = _clusters(word)
    if face.length(parts[0]) > width:
        return "", "".join(parts[1:])
    lo, hi = 1, len(parts)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if face.length("".join(parts[:mid])) <= width:
            lo = mid
        else:
            hi = mid - 1
    cut = lo
    hyphen = max((i + 1 for i in range(cut - 1) if parts[i] in "-‐‑–—/"), default=0)
    if hyphen * 2 >= cut:
        cut = hyphen
    return "".join(parts[:cut]), "".join(parts[cut:])


def _take_line(
    words: list[str], face: _Face, width: float, keep: float = 0.0
) -> tuple[str, list[str]] | None:
    """Greedy: as many words as fit `width`; a word longer than the line is broken.

    None when the first word would have to be broken although it is no wider than `keep`
    (the caller then looks for a wider line further down, or shrinks the font).
    """
    taken: list[str] = []
    used = 0.0
    for word in words:
        w = face.length(word)
        need = w if not taken else used + face.space + w
        if need > width:
            break
        taken.append(word)
        used = need
    if taken:
        return " ".join(taken), words[len(taken) :]
    if face.length(words[0]) <= keep:
        return None
    head, tail = _break_word(words[0], face, width)
    return head, ([tail] if tail else []) + words[1:]


def _ellipsize(text: str, face: _Face, width: float) -> str:
    """The longest head of `text` that fits `width` with "…" after it."""

    def candidate(n: int) -> str:
        return "".join(parts[:n]).rstrip(" ,;:.-–—…") + ELLIPSIS

    parts = _clusters(text)
    lo, hi = 0, len(parts)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if face.length(candidate(mid)) <= width:
            lo = mid
        else:
            hi = mid - 1
    return candidate(lo)


# --------------------------------------------------------------------------------------------
# Regions and flowing text through them


_MEMO_REGIONS = 16  # regions whose widest spans are kept (a picture size uses five)
_MEMO_BANDS = 40_000  # bands kept per region before its memo starts afresh
_memos: dict[_Region, dict[tuple[float, float], tuple[float, float] | None]] = {}
_memos_lock = threading.Lock()


def _region_memo(region: _Region) -> dict[tuple[float, float], tuple[float, float] | None]:
    """The widest-span memo shared by every region equal to `region` (layouts run in threads)."""
    with _memos_lock:
        memo = _memos.pop(region, None)
        if memo is None or len(memo) > _MEMO_BANDS:
            memo = {}
        _memos[region] = memo  # the most recently used last
        while len(_memos) > _MEMO_REGIONS:
            del _memos[next(iter(_memos))]
        return memo


@dataclass(frozen=True)
class _Region:
    """Inside every `inside` circle and outside every `outside` one (by `pad`), within bounds."""

    bounds: Box
    inside: tuple[Circle, ...] = ()
    outside: tuple[Circle, ...] = ()
    pad: float = 0.0
    # Widest spans already computed, by band. A region is pure geometry and every picture of one
    # size has the same circles, so the memo is shared by all regions equal to this one.
    _memo: dict[tuple[float, float], tuple[float, float] | None] = field(
        init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_memo", _region_memo(self))

    def spans(self, y0: float, y1: float) -> list[tuple[float, float]]:
        b = self.bounds
        if y0 < b.top or y1 > b.bottom:
            return []
        lo, hi = b.left, b.right
        for c in self.inside:
            rr = c.r - self.pad
            far = max(abs(y0 - c.cy), abs(y1 - c.cy))
            if far >= rr:
                return []
            w = math.sqrt(rr * rr - far * far)
            lo, hi = max(lo, c.cx - w), min(hi, c.cx + w)
        if hi <= lo:
            return []
        spans = [(lo, hi)]
        for c in self.outside:
            rr = c.r + self.pad
            near = 0.0 if y0 <= c.cy <= y1 else min(abs(y0 - c.cy), abs(y1 - c.cy))
            if near >= rr:
                continue
            w = math.sqrt(rr * rr - near * near)
            a, z = c.cx - w, c.cx + w
            cut: list[tuple[float, float]] = []
            for s0, s1 in spans:
                if z <= s0 or a >= s1:
                    cut.append((s0, s1))
                    continue
                if a > s0:
                    cut.append((s0, a))
                if z < s1:
                    cut.append((z, s1))
            spans = cut
        return spans

    def widest(self, y0: float, y1: float) -> tuple[float, float] | None:
        key = (y0, y1)
        if key in self._memo:
            return self._memo[key]
        spans = self.spans(y0, y1)
        found = max(spans, key=lambda s: s[1] - s[0]) if spans else None
        self._memo[key] = found
        return found

    def max_width(self, band: float) -> float:
        best = 0.0
        y = self.bounds.top
        while y + band <= self.bounds.bottom:
            span = self.widest(y, y + band)
            if span is not None:
                best = max(best, span[1] - span[0])
            y += band / 3
        return best


@dataclass(frozen=True)
class _Para:
    kind: BlockKind
    column: int | None
    index: int | None
    text: str
    face: _Face
    bold: bool
    color: RGB
    align: Align = "center"
    gap_before: float = 0.0
    min_width: float = 0.0
    max_lines: int | None = None
    bullet: bool = False
    keep_words: float = 0.0  # words up to this wide are never broken (the fit fails instead)


@dataclass
class _Raw:
    text: str
    span: tuple[float, float]
    y: float


@dataclass
class _Flowed:
    para: _Para
    raw: list[_Raw] = field(default_factory=list)
    truncated: bool = False

    def cut(self) -> None:
        """End the last line with "…" (within the line's span)."""
        self.truncated = True
        if not self.raw:
            return
        last = self.raw[-1]
        room = last.span[1] - last.span[0] - 2 - (self._bullet_width if len(self.raw) == 1 else 0)
        last.text = _ellipsize(last.text, self.para.face, room)

    @property
    def _bullet_width(self) -> float:
        return self.para.face.length(BULLET + " ") if self.para.bullet else 0.0

    @property
    def top(self) -> float:
        return self.raw[0].y

    @property
    def bottom(self) -> float:
        return self.raw[-1].y + self.para.face.line_height

    def block(self) -> TextBlock:
        p = self.para
        face = p.face
        lh = face.line_height
        ascent, descent = face.metrics
        lines: list[Line] = []
        bullet: Box | None = None
        for n, raw in enumerate(self.raw):
            indent = self._bullet_width if n == 0 else 0.0
            width = face.length(raw.text)
            left = _place(raw.span, width + indent, p.align)
            if indent:
                bullet = Box(left, raw.y, left + indent, raw.y + lh)
            baseline = raw.y + (lh - ascent - descent) / 2 + ascent
            box = Box(left + indent, raw.y, left + indent + width, raw.y + lh)
            lines.append(Line(raw.text, box, baseline))
        return TextBlock(
            kind=p.kind,
            column=p.column,
            index=p.index,
            source=p.text,
            font_size=face.size,
            bold=p.bold,
            color=p.color,
            lines=tuple(lines),
            truncated=self.truncated,
            bullet=bullet,
        )


def _place(span: tuple[float, float], width: float, align: Align) -> float:
    if align == "left":
        return span[0]
    if align == "right":
        return span[1] - width
    return (span[0] + span[1] - width) / 2


def _flow(
    paras: Sequence[_Para],
    region: _Region,
    start: float,
    step: float,
    *,
    greedy: bool = False,
) -> list[_Flowed] | None:
    """Pour the paragraphs down `region` from `start`; None when they do not all fit.

    With `greedy`, text that does not fit is cut instead: the last line that fits gets "…"
    and the paragraphs after it come back with no lines (marked truncated).
    """
    out: list[_Flowed] = []
    y = start
    bottom = region.bounds.bottom
    full = False
    for para in paras:
        flowed = _Flowed(para)
        if full:
            flowed.truncated = True
            out.append(flowed)
            continue
        if any(f.raw for f in out):
            y += para.gap_before
        out.append(flowed)
        face = para.face
        lh = face.line_height
        bullet_w = face.length(BULLET + " ") if para.bullet else 0.0
        words = para.text.split(" ") if para.text else []
        while words:
            span: tuple[float, float] | None = None
            while y + lh <= bottom:
                span = region.widest(y, y + lh)
                if span is not None and span[1] - span[0] >= para.min_width:
                    break
                span = None
                y += step
            if span is None:
                if not greedy:
                    return None
                full = True
                if flowed.raw:
                    flowed.cut()
                else:
                    flowed.truncated = True
                    previous = next((f for f in reversed(out[:-1]) if f.raw), None)
                    if previous is not None and not previous.truncated:
                        previous.cut()
                break
            indent = bullet_w if not flowed.raw else 0.0
            width = span[1] - span[0] - 2 - indent  # a pixel of slack each side for rounding
            taken = _take_line(words, face, width, 0.0 if greedy else para.keep_words)
            if taken is None:  # this line is too narrow for the next word: try a lower one
                y += step
                continue
            text, words = taken
            if not text:
                continue
            if words and para.max_lines is not None and len(flowed.raw) + 1 >= para.max_lines:
                text = _ellipsize(text, face, width)
                words = []
                flowed.truncated = True
            flowed.raw.append(_Raw(text, span, y))
            y += lh
    return out


def _extent(flowed: Sequence[_Flowed]) -> tuple[float, float] | None:
    tops = [f.top for f in flowed if f.raw]
    bottoms = [f.bottom for f in flowed if f.raw]
    if not tops:
        return None
    return min(tops), max(bottoms)


def _usable_range(
    region: _Region, band: float, min_width: float, step: float
) -> tuple[float, float]:
    top = bottom = None
    y = region.bounds.top
    while y + band <= region.bounds.bottom:
        span = region.widest(y, y + band)
        if span is not None and span[1] - span[0] >= min_width:
            if top is None:
                top = y
            bottom = y + band
        y += step
    if top is None or bottom is None:
        return region.bounds.top, region.bounds.top
    return top, bottom


def _flow_centered(
    paras: Sequence[_Para], region: _Region, step: float, centered: bool = True
) -> list[_Flowed] | None:
    """Flow from the top of the region, then move the text to the middle of the usable range."""
    first = _flow(paras, region, region.bounds.top, step)
    if first is None or not centered:
        return first
    extent = _extent(first)
    if extent is None:
        return first
    band = max(p.face.line_height for p in paras)
    lo, hi = _usable_range(region, band, min(p.min_width for p in paras), step)
    best, best_err = first, abs((extent[0] - lo) - (hi - extent[1]))
    start = extent[0]
    for _ in range(4):
        extent_best = _extent(best)
        assert extent_best is not None
        slack = hi - extent_best[1]
        if slack <= step:
            break
        start = start + slack / 2
        again = _flow(paras, region, start, step)
        if again is None:
            break
        ext = _extent(again)
        assert ext is not None
        err = abs((ext[0] - lo) - (hi - ext[1]))
        if err >= best_err:
            break
        best, best_err = again, err
    return best


def _largest_fit(
    sizes: Sequence[int], attempt: Callable[[int], list[_Flowed] | None]
) -> tuple[int, list[_Flowed]] | None:
    """Binary search for the largest size in ascending `sizes` whose attempt fits."""
    lo, hi = 0, len(sizes) - 1
    found: tuple[int, list[_Flowed]] | None = None
    while lo <= hi:
        mid = (lo + hi) // 2
        result = attempt(sizes[mid])
        if result is not None:
            found = (sizes[mid], result)
            lo = mid + 1
        else:
            hi = mid - 1
    return found


# --------------------------------------------------------------------------------------------
# The ikigai layout


def _shade(color: RGB, factor: float) -> RGB:
    r, g, b = color
    return (round(r * factor), round(g * factor), round(b * factor))


def _tint(color: RGB, alpha: float, under: RGB = BACKGROUND) -> RGB:
    return (
        round(color[0] * alpha + under[0] * (1 - alpha)),
        round(color[1] * alpha + under[1] * (1 - alpha)),
        round(color[2] * alpha + under[2] * (1 - alpha)),
    )


def _circles(picture: IkigaiPicture, size: int, scale: float) -> tuple[Circle, Circle, Circle]:
    margin = _MARGIN * scale
    width = size - 2 * margin
    height = size - margin - _FOOTER_BAND * scale
    k = _SPREAD
    r = min(width / (2 + math.sqrt(3) * k), height / (2 + 1.5 * k))
    d = k * r
    top = margin + (height - (2 + 1.5 * k) * r) / 2
    cx = size / 2
    cy = top + r + d  # the centre of the diagram
    half = d * math.sqrt(3) / 2
    colors = [c.color or DEFAULT_COLORS[i] for i, c in enumerate(picture.columns)]
    return (
        Circle(cx, cy - d, r, colors[0]),
        Circle(cx - half, cy + d / 2, r, colors[1]),
        Circle(cx + half, cy + d / 2, r, colors[2]),
    )


def _heading_size(entry: int, scale: float) -> int:
    return max(
        round(_HEADING_MIN * scale), min(round(_HEADING_MAX * scale), entry + round(6 * scale))
    )


class _Planner:
    def __init__(
        self, picture: IkigaiPicture, fonts: _Fonts, probe: _GlyphProbe, size: int
    ) -> None:
        self.picture = picture
        self.fonts = fonts
        self.probe = probe
        self.size = size
        self.scale = size / DESIGN_SIZE
        self.step = max(1.0, _BAND_STEP * self.scale)
        self.circles = _circles(picture, size, self.scale)
        self._clean: dict[str, str] = {}
        m = _MARGIN * self.scale
        self.canvas = Box(m, m, size - m, size - m)

    def clean(self, text: str) -> str:
        found = self._clean.get(text)
        if found is None:
            found = self._clean[text] = _sanitize(text, self.probe)
        return found

    def px(self, value: float) -> int:
        return max(6, round(value * self.scale))

    def sizes(self, low: float, high: float) -> list[int]:
        return list(range(self.px(low), self.px(high) + 1))

    # -- fitting: shrink, then cut fairly, then cut greedily

    def fit(
        self,
        region: _Region,
        build: Callable[[int, int | None, float], list[_Para]],
        sizes: Sequence[int],
        *,
        centered: bool = True,
    ) -> tuple[int, list[_Flowed]]:
        """The largest size in `sizes` (ascending) at which `build(size, cap, width)` fits.

        Above the smallest size no word may be split (shrinking comes first).
        At the smallest size every paragraph built with a `cap` keeps at most `cap` lines; the
        largest cap that fits is used, and as a last resort the text is cut where space ends.
        """
        widest = region.max_width(sizes[-1] * 1.2)

        def attempt(size: int, cap: int | None = None) -> list[_Flowed] | None:
            paras = build(size, cap, widest)
            if size != sizes[0]:
                paras = [replace(p, keep_words=math.inf) for p in paras]
            return _flow_centered(paras, region, self.step, centered)

        found = _largest_fit(sizes, attempt)
        if found is not None:
            return found
        smallest = sizes[0]
        longest = max(
            (len(_flow_unbounded(p)) for p in build(smallest, None, widest)),
            default=1,
        )
        capped = _largest_fit(range(1, longest + 1), lambda cap: attempt(smallest, cap))
        if capped is not None:
            return smallest, capped[1]
        paras = build(smallest, 1, widest)
        greedy = _flow(paras, region, region.bounds.top, self.step, greedy=True)
        assert greedy is not None
        return smallest, greedy

    # -- columns

    def column_region(self, i: int) -> _Region:
        others = tuple(c for j, c in enumerate(self.circles) if j != i)
        return _Region(self.canvas, (self.circles[i],), others, _CIRCLE_PAD * self.scale)

    def column_paras(self, i: int, size: int, cap: int | None, region_width: float) -> list[_Para]:
        column = self.picture.columns[i]
        color = self.circles[i].color
        heading = self.fonts.face(_heading_size(size, self.scale), bold=True)
        paras: list[_Para] = []
        title = self.clean(column.title)
        if title:
            paras.append(
                _Para(
                    "column_title",
                    i,
                    None,
                    title,
                    heading,
                    True,
                    _shade(color, 0.62),
                    min_width=_title_room(heading, title, region_width),
                    max_lines=2,
                )
            )
        face = self.fonts.face(size)
        for n, entry in enumerate(column.entries):
            text = self.clean(entry)
            if not text:
                continue
            paras.append(
                _Para(
                    "entry",
                    i,
                    n,
                    text,
                    face,
                    False,
                    INK,
                    gap_before=(0.55 if paras and paras[-1].kind == "entry" else 0.35) * size,
                    min_width=min(7 * size, 0.6 * region_width),
                    max_lines=cap,
                    bullet=True,
                )
            )
        return paras

    def columns(self) -> list[_Flowed]:
        sizes = self.sizes(_ENTRY_MIN, _ENTRY_MAX)
        regions = [self.column_region(i) for i in range(3)]

        def build(i: int) -> Callable[[int, int | None, float], list[_Para]]:
            return lambda size, cap, width: self.column_paras(i, size, cap, width)

        fitted = [self.fit(regions[i], build(i), sizes) for i in range(3)]
        # Keep the columns even: no column's font exceeds the smallest one by more than 20 %.
        ceiling = math.floor(min(size for size, _ in fitted) * _SIZE_RATIO)
        out: list[_Flowed] = []
        for i, (size, flowed) in enumerate(fitted):
            if size > ceiling:
                allowed = [s for s in sizes if s <= ceiling]
                flowed = self.fit(regions[i], build(i), allowed)[1]
            out.extend(flowed)
        return out

    # -- the focus in the middle

    def focus(self) -> list[_Flowed]:
        text = self.clean(self.picture.focus)
        title = self.clean(self.picture.focus_title).upper()
        if not text and not title:
            return []
        region = _Region(self.canvas, self.circles, (), _FOCUS_PAD * self.scale)

        def build(size: int, cap: int | None, width: float) -> list[_Para]:
            out: list[_Para] = []
            if title:
                face = self.fonts.face(max(self.px(_TOPIC_MIN), round(size * 0.72)), bold=True)
                out.append(
                    _Para(
                        "focus_title",
                        None,
                        None,
                        title,
                        face,
                        True,
                        INK,
                        min_width=min(face.length(title) + 4, 0.8 * width),
                        max_lines=2,
                    )
                )
            if text:
                face = self.fonts.face(size, bold=True)
                out.append(
                    _Para(
                        "focus",
                        None,
                        None,
                        text,
                        face,
                        True,
                        INK,
                        gap_before=0.3 * size,
                        min_width=min(6 * size, 0.5 * width),
                        max_lines=cap,
                    )
                )
            return out

        return self.fit(region, build, self.sizes(_ENTRY_MIN, _FOCUS_MAX))[1]

    # -- the picture title, top left

    def title(self) -> list[_Flowed]:
        text = self.clean(self.picture.title)
        if not text:
            return []
        m = _MARGIN * self.scale
        bounds = Box(m + 6 * self.scale, m, self.size / 2, self.size / 2)
        region = _Region(bounds, (), self.circles, 10 * self.scale)

        def build(size: int, cap: int | None, width: float) -> list[_Para]:
            face = self.fonts.face(size, bold=True)
            para = _Para(
                "title",
                None,
                None,
                text,
                face,
                True,
                INK,
                align="left",
                min_width=min(5 * size, width / 2),
                max_lines=cap,
            )
            return [para]

        return self.fit(region, build, self.sizes(_TITLE_MIN, _TITLE_MAX), centered=False)[1]

    # -- the footer

    def footer(self) -> list[_Flowed]:
        text = self.clean(self.picture.footer)
        if not text:
            return []
        m = _MARGIN * self.scale
        for size in range(self.px(_FOOTER_SIZE), self.px(_FOOTER_MIN) - 1, -1):
            face = self.fonts.face(size)
            top = self.size - m - face.line_height
            bounds = Box(m, top, self.size - m, top + face.line_height + 0.5)
            para = _Para("footer", None, None, text, face, False, MUTED, max_lines=1)
            flowed = _flow([para], _Region(bounds), bounds.top, self.step)
            assert flowed is not None
            if not flowed[0].truncated or size == self.px(_FOOTER_MIN):
                return flowed
        return []  # pragma: no cover - the loop always returns

    # -- topics, top right

    def topics(self) -> tuple[list[TextBlock], int]:
        labels = [(n, self.clean(t)) for n, t in enumerate(self.picture.topics)]
        labels = [(n, t) for n, t in labels if t]
        if not labels:
            return [], 0
        m = _MARGIN * self.scale
        bounds = Box(self.size / 2 + 12 * self.scale, m, self.size - m, self.size / 2)
        region = _Region(bounds, (), self.circles, 10 * self.scale)
        color = self.circles[2].color
        for size in range(self.px(_TOPIC_MAX), self.px(_TOPIC_MIN) - 1, -1):
            pills = _pills(labels, self.fonts.face(size), region, self.scale, color, self.step)
            if pills is not None:
                return pills, 0
        face = self.fonts.face(self.px(_TOPIC_MIN))
        for shown in range(len(labels) - 1, -1, -1):
            more = f"+{len(labels) - shown}"
            pills = _pills(labels[:shown], face, region, self.scale, color, self.step, more)
            if pills is not None:
                return pills, len(labels) - shown
        return [], len(labels)


def _title_room(face: _Face, text: str, region_width: float) -> float:
    """The narrowest line a heading may start on: a short heading stays on one line."""
    whole = face.length(text) + 4
    if whole <= 0.55 * region_width:
        return whole
    longest = max((face.length(w) for w in text.split(" ")), default=0.0)
    return min(longest + 8, 0.9 * region_width)


def _flow_unbounded(para: _Para) -> list[str]:
    """The lines of a paragraph at a generous width (an upper bound for line caps)."""
    words = para.text.split(" ") if para.text else []
    lines: list[str] = []
    width = max(para.min_width, 4 * para.face.size)
    while words:
        taken = _take_line(words, para.face, width)
        assert taken is not None
        text, words = taken
        lines.append(text)
    return lines


def _pills(
    labels: Sequence[tuple[int, str]],
    face: _Face,
    region: _Region,
    scale: float,
    color: RGB,
    step: float,
    more: str | None = None,
) -> list[TextBlock] | None:
    """Topic pills in right-aligned rows; None when they do not all fit."""
    pad_x, pad_y, gap = 0.6 * face.size, 0.22 * face.size, 8 * scale
    lh = face.line_height
    height = lh + 2 * pad_y
    ascent, descent = face.metrics
    items: list[tuple[int | None, str]] = list(labels)
    if more is not None:
        items.append((None, more))
    blocks: list[TextBlock] = []
    y = region.bounds.top
    ink = _shade(color, 0.55)
    widest = region.max_width(height)

    def fitted(text: str) -> str:
        """Only a label wider than the widest row is shortened."""
        if face.length(text) + 2 * pad_x > widest:
            return _ellipsize(text, face, widest - 2 * pad_x)
        return text

    while items:
        first = face.length(fitted(items[0][1])) + 2 * pad_x
        span = None
        while y + height <= region.bounds.bottom:
            span = region.widest(y, y + height)
            if span is not None and span[1] - span[0] >= first:
                break
            span = None
            y += step
        if span is None:
            return None
        room = span[1] - span[0]
        row: list[tuple[int | None, str, str, float]] = []
        used = 0.0
        while items:
            n, source = items[0]
            text = fitted(source)
            w = face.length(text) + 2 * pad_x
            need = w if not row else used + gap + w
            if need > room:
                break
            row.append((n, source, text, w))
            used = need
            items.pop(0)
        x = span[1] - used
        baseline = y + pad_y + (lh - ascent - descent) / 2 + ascent
        for n, source, text, w in row:
            text_w = face.length(text)
            line = Line(
                text, Box(x + pad_x, y + pad_y, x + pad_x + text_w, y + pad_y + lh), baseline
            )
            blocks.append(
                TextBlock(
                    kind="topic",
                    column=2,
                    index=n,
                    source=source,
                    font_size=face.size,
                    bold=False,
                    color=ink,
                    lines=(line,),
                    truncated=text != source,
                    pill=Box(x, y, x + w, y + height),
                )
            )
            x += w + gap
        y += height + gap
    return blocks


def layout_ikigai(
    picture: IkigaiPicture,
    font: str | Path,
    size: int = DESIGN_SIZE,
    *,
    bold: str | Path | None = None,
) -> Layout:
    """Where everything goes on a size×size canvas. Pure: reads the font files, nothing else."""
    if size < MIN_SIZE:
        raise ValueError(f"picture size must be at least {MIN_SIZE} px, got {size}")
    regular = Path(font)
    bold_path = Path(bold) if bold is not None else find_bold_font(regular)
    fonts = _Fonts(regular, bold_path)
    planner = _Planner(picture, fonts, _GlyphProbe(regular), size)
    flowed = planner.title() + planner.columns() + planner.focus() + planner.footer()
    topics, hidden = planner.topics()
    blocks = [f.block() for f in flowed] + topics
    return Layout(size, BACKGROUND, planner.circles, tuple(blocks), hidden)


# --------------------------------------------------------------------------------------------
# Drawing

_SUPERSAMPLE = 3


def _circle_mask(circle: Circle, box: tuple[int, int, int, int], ring: float = 0.0) -> Image.Image:
    """An anti-aliased disc (or, with `ring`, an outline that wide) over the pixel `box`."""
    x0, y0, x1, y1 = box
    f = _SUPERSAMPLE
    big = Image.new("L", ((x1 - x0) * f, (y1 - y0) * f), 0)
    shape = (
        (circle.cx - circle.r - x0) * f,
        (circle.cy - circle.r - y0) * f,
        (circle.cx + circle.r - x0) * f,
        (circle.cy + circle.r - y0) * f,
    )
    if ring:
        ImageDraw.Draw(big).ellipse(shape, outline=255, width=max(1, round(ring * f)))
    else:
        ImageDraw.Draw(big).ellipse(shape, fill=255)
    return big.reduce(f)


def _scaled(mask: Image.Image, alpha: float) -> Image.Image:
    return mask.point([round(v * alpha) for v in range(256)])


@functools.lru_cache(maxsize=4)
def _circles_image(size: int, background: RGB, circles: tuple[Circle, ...]) -> Image.Image:
    """The canvas with the circles and their rings: the same for every picture of one size.

    Cached (a few MB each) because it is most of the drawing's cost; callers draw on a copy.
    """
    scale = size / DESIGN_SIZE
    image = Image.new("RGB", (size, size), background)
    boxes = []
    for circle in circles:
        box = (
            max(0, math.floor(circle.cx - circle.r) - 2),
            max(0, math.floor(circle.cy - circle.r) - 2),
            min(size, math.ceil(circle.cx + circle.r) + 2),
            min(size, math.ceil(circle.cy + circle.r) + 2),
        )
        boxes.append(box)
        image.paste(circle.color, box, _scaled(_circle_mask(circle, box), CIRCLE_ALPHA))
    for circle, box in zip(circles, boxes, strict=True):
        ring = _circle_mask(circle, box, ring=2.5 * scale)
        image.paste(_shade(circle.color, 0.85), box, _scaled(ring, 0.9))
    return image


def draw_layout(
    layout: Layout, font: str | Path, *, bold: str | Path | None = None
) -> Image.Image:
    """Draw a layout made by `layout_ikigai` with the same fonts; an RGB image."""
    regular = Path(font)
    fonts = _Fonts(regular, Path(bold) if bold is not None else find_bold_font(regular))
    size = layout.size
    scale = size / DESIGN_SIZE
    image = _circles_image(size, layout.background, layout.circles).copy()
    draw = ImageDraw.Draw(image)
    for block in layout.blocks:
        if block.pill is not None:
            p = block.pill
            fill = _tint(layout.circles[2].color, 0.16)
            draw.rounded_rectangle(
                (p.left, p.top, p.right, p.bottom),
                radius=p.height / 2,
                fill=fill,
                outline=_tint(layout.circles[2].color, 0.55),
                width=max(1, round(1.5 * scale)),
            )
    for block in layout.blocks:
        face = fonts.face(block.font_size, block.bold)
        stroke = face.stroke
        for n, line in enumerate(block.lines):
            if n == 0 and block.bullet is not None and block.column is not None:
                draw.text(
                    (block.bullet.left, line.baseline),
                    BULLET,
                    font=face.font,
                    fill=_shade(layout.circles[block.column].color, 0.7),
                    anchor="ls",
                )
            if not line.text:
                continue
            draw.text(
                (line.box.left + stroke, line.baseline),
                line.text,
                font=face.font,
                fill=block.color,
                anchor="ls",
                stroke_width=stroke,
                stroke_fill=block.color if stroke else None,
            )
    return image


def render_ikigai(
    picture: IkigaiPicture,
    font: str | Path,
    *,
    size: int = DESIGN_SIZE,
    bold: str | Path | None = None,
) -> bytes:
    """The ikigai picture as PNG bytes (size×size, 256 colours). Deterministic for the same input.

    The drawing has a few flat colours and their anti-aliased edges (about 2 000 colours in
    all), so a 256-colour palette looks the same (no pixel moves by more than a few levels)
    and the PNG costs a third of an RGB one, in a file of half the size. The palette is made
    once per size and colours, from a sample picture with every kind of text (`_palette`).
    """
    layout = layout_ikigai(picture, font, size, bold=bold)
    colors = tuple(c.color for c in layout.circles)
    palette = _palette(size, str(font), None if bold is None else str(bold), colors)
    drawn = draw_layout(layout, font, bold=bold)
    image = drawn.quantize(palette=palette, dither=Image.Dither.NONE)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


_SAMPLE_TEXT = "Съешь же ещё этих мягких французских булок, да выпей чаю 0123456789 — «ok»!"


@functools.lru_cache(maxsize=8)
def _palette(size: int, font: str, bold: str | None, colors: tuple[RGB, ...]) -> Image.Image:
    """256 colours for every picture of this size and these circle colours: those of a sample
    picture drawn with every kind of block (titles, entries, the focus, topics, the footer), so
    the anti-aliased edges of any text over any part of the circles have a near colour."""
    sample = IkigaiPicture(
        title=_SAMPLE_TEXT,
        columns=tuple(  # type: ignore[arg-type]
            Column(_SAMPLE_TEXT[:20], (_SAMPLE_TEXT, _SAMPLE_TEXT[:40]), color) for color in colors
        ),
        focus_title=_SAMPLE_TEXT[:12],
        focus=_SAMPLE_TEXT[:40],
        topics=(_SAMPLE_TEXT[:10], _SAMPLE_TEXT[10:20]),
        footer=_SAMPLE_TEXT[:30],
    )
    drawn = draw_layout(layout_ikigai(sample, font, size, bold=bold), font, bold=bold)
    return drawn.quantize(256, method=Image.Quantize.FASTOCTREE)
