"""The one-page brief for a municipality, «Зачем поддерживать социальные инициативы», as a PDF.

`Brief` holds every text already in the reader's language (the service assembles it:
bot/services/brief.py); `render_brief` lays it out on A4 with fpdf2 and returns the PDF's bytes.
DejaVu Sans, regular and bold, is embedded from `content/fonts/` (bundled with its licence), so
neither the server nor the reader needs a font with Cyrillic.

The page, top to bottom: who it is from and the date (small, muted); the title; for whom; the
seed's two definitions; the seed's ten things initiatives give the authorities, numbered, and
the talk both come from; the area's figures from the bot as a two-column table (or one honest
sentence when there are none yet); a footer line. One page where it fits: when the text runs
over, the body is set a little smaller, and only at the smallest size may it take a second page.

Everything is CPU-bound pure Python (fpdf2 and fontTools subsetting the fonts), so it is meant for
`Painter.draw` (bot/ui/painter.py): module-level, its argument plain data that pickles. The output
is deterministic for the same `Brief`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

# fpdf2 (with fontTools, 17 MB and a tenth of a second) is imported by the first brief, not by
# the bot's start-up, which needs only the dataclasses below (bot/services/brief.py).
if TYPE_CHECKING:
    from fpdf import FPDF

# Not bot.config's ROOT: the picture process imports this module and nothing more.
FONTS = Path(__file__).resolve().parent.parent.parent / "content" / "fonts"
REGULAR = "DejaVuSans.ttf"
BOLD = "DejaVuSans-Bold.ttf"
FAMILY = "DejaVu"

RGB = tuple[int, int, int]
INK: RGB = (33, 35, 43)
MUTED: RGB = (112, 116, 128)
ACCENT: RGB = (58, 110, 200)
RULE: RGB = (210, 210, 216)
STRIPE: RGB = (243, 245, 250)

MARGIN = 16.0  # mm, every side
BODY_SIZES = (10.5, 9.75, 9.0)  # pt: tried in turn until the brief fits one page
_PT = 25.4 / 72  # mm per point


@dataclass(frozen=True)
class Definition:
    term: str
    text: str


@dataclass(frozen=True)
class Figure:
    """One row of the figures table."""

    label: str
    value: str  # may hold several lines ("\n")


@dataclass(frozen=True)
class Brief:
    locale: str  # "ru" or "en": the document's language tag
    title: str
    addressee: str  # "for the administration of …"
    sender: str  # who it is from (the operator); "" leaves the line out
    date: str  # today, in the coordinator's zone, as printed
    definitions_title: str
    definitions: tuple[Definition, ...]
    credit: str  # the talk the definitions and the points are from (under the points)
    points_title: str
    points: tuple[str, ...]
    figures_title: str
    figures: tuple[Figure, ...]  # empty: no data yet, `no_figures` is said instead
    no_figures: str
    figures_note: str  # where the figures come from, under the table ("" without one)
    footer: str
    created: datetime  # the PDF's creation date (aware)
    filename: str


@functools.cache
def _page_class() -> Callable[[Brief, Path, bool], FPDF]:
    """FPDF with the brief's footer (a class made at the first brief: fpdf2 is imported then)."""
    from fpdf import FPDF

    class _Page(FPDF):
        def __init__(self, brief: Brief, fonts: Path, numbered: bool) -> None:
            super().__init__(orientation="portrait", unit="mm", format="A4")
            self.brief = brief
            self.numbered = numbered
            self.add_font(FAMILY, "", str(fonts / REGULAR))
            self.add_font(FAMILY, "B", str(fonts / BOLD))
            self.set_margins(MARGIN, MARGIN, MARGIN)
            self.set_auto_page_break(True, margin=MARGIN + 4)

        def footer(self) -> None:
            self.set_y(-MARGIN + 2)
            self.set_font(FAMILY, "", 7.5)
            self.set_text_color(*MUTED)
            text = self.brief.footer
            if self.numbered:
                text = f"{text} · {self.page_no()}/{{nb}}"
            self.cell(0, 4, text, align="C")

    return _Page


def _line(size: float) -> float:
    """The line height, in mm, for a font size in points."""
    return size * _PT * 1.32


def _lay_out(brief: Brief, fonts: Path, body: float, numbered: bool = False) -> FPDF:
    from fpdf.enums import XPos, YPos

    pdf = _page_class()(brief, fonts, numbered)
    pdf.set_lang(brief.locale)
    pdf.set_title(brief.title)
    pdf.set_subject(brief.addressee)
    if brief.sender:
        pdf.set_author(brief.sender)
    pdf.set_creation_date(brief.created)
    pdf.add_page()
    pdf.c_margin = 0  # text lines up with the margin and the rule; the table pads its own
    width = pdf.epw
    small = body - 1.5

    # who from, and when
    pdf.set_font(FAMILY, "", small)
    pdf.set_text_color(*MUTED)
    top = pdf.get_y()
    date_width = pdf.get_string_width(brief.date) + 1
    if brief.sender:
        pdf.multi_cell(width - date_width - 6, _line(small), brief.sender, align="L")
    bottom = pdf.get_y()
    pdf.set_xy(pdf.l_margin, top)
    pdf.cell(width, _line(small), brief.date, align="R")
    pdf.set_y(max(bottom, top + _line(small)) + 5)

    # the title and for whom
    pdf.set_font(FAMILY, "B", body + 7)
    pdf.set_text_color(*INK)
    pdf.multi_cell(width, _line(body + 7) * 0.9, brief.title, align="L")
    pdf.ln(1.5)
    pdf.set_font(FAMILY, "", body + 1)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(width, _line(body + 1), brief.addressee, align="L")
    pdf.ln(3)
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.6)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
    pdf.ln(5)

    # the two definitions
    _heading(pdf, brief.definitions_title, body)
    for definition in brief.definitions:
        pdf.set_text_color(*INK)
        pdf.set_font(FAMILY, "B", body)
        pdf.write(_line(body), definition.term)
        pdf.set_font(FAMILY, "", body)
        pdf.write(_line(body), f" — {definition.text}")
        pdf.ln(_line(body) + 1.2)
    pdf.ln(2.8)

    # the ten points
    _heading(pdf, brief.points_title, body)
    number_width = pdf.get_string_width("10.") + 2.5 if brief.points else 0
    for n, point in enumerate(brief.points, start=1):
        y = pdf.get_y()
        pdf.set_font(FAMILY, "B", body)
        pdf.set_text_color(*ACCENT)
        pdf.cell(number_width, _line(body), f"{n}.", align="R")
        pdf.set_xy(pdf.l_margin + number_width + 1.5, y)
        pdf.set_font(FAMILY, "", body)
        pdf.set_text_color(*INK)
        pdf.multi_cell(
            width - number_width - 1.5,
            _line(body),
            point,
            align="L",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.ln(0.9)
    pdf.ln(0.6)
    pdf.set_font(FAMILY, "", small)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(width, _line(small), brief.credit, align="L")
    pdf.ln(4)

    # the figures
    _heading(pdf, brief.figures_title, body)
    pdf.set_text_color(*INK)
    if brief.figures:
        pdf.set_font(FAMILY, "", body)
        pdf.set_draw_color(*RULE)
        pdf.set_line_width(0.2)
        with pdf.table(
            col_widths=(38, 62),
            text_align=("LEFT", "LEFT"),
            borders_layout="HORIZONTAL_LINES",
            first_row_as_headings=False,
            cell_fill_color=STRIPE,
            cell_fill_mode="ROWS",
            line_height=_line(body),
            padding=(1.1, 2.0),
            width=width,
        ) as table:
            for figure in brief.figures:
                row = table.row()
                row.cell(figure.label)
                row.cell(figure.value)
    else:
        pdf.set_font(FAMILY, "", body)
        pdf.multi_cell(width, _line(body), brief.no_figures, align="L")
    if brief.figures_note:
        pdf.ln(1.5)
        pdf.set_font(FAMILY, "", small)
        pdf.set_text_color(*MUTED)
        pdf.multi_cell(width, _line(small), brief.figures_note, align="L")
    return pdf


def _heading(pdf: FPDF, text: str, body: float) -> None:
    size = body + 2
    pdf.set_font(FAMILY, "B", size)
    pdf.set_text_color(*ACCENT)
    pdf.multi_cell(pdf.epw, _line(size), text, align="L")
    pdf.ln(1.8)


def render_brief(brief: Brief, fonts: Path = FONTS) -> bytes:
    """The brief as PDF bytes: one A4 page at the largest body size that fits; otherwise at the
    smallest size, its pages numbered (the brief's content takes two at most)."""
    for body in BODY_SIZES:
        pdf = _lay_out(brief, fonts, body)
        if pdf.pages_count == 1:
            return bytes(pdf.output())
    return bytes(_lay_out(brief, fonts, BODY_SIZES[-1], numbered=True).output())
