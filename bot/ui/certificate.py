"""The volunteer's certificate as a PDF: who, how many hours at how many events, for which
organisers, and a QR code with the link that checks it (t.me/<bot>?start=cert_<code>).

`Certificate` holds every text in the reader's language (the service assembles it:
`VolunteerService.certificate`); `render_certificate` lays it out on A4 with fpdf2. DejaVu Sans
is embedded from `content/fonts/` (see bot/ui/brief.py), so Cyrillic needs nothing installed.
CPU-bound and picklable: meant for `Painter.draw`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from bot.ui.brief import ACCENT, BOLD, FAMILY, FONTS, INK, MUTED, REGULAR, RULE, STRIPE

MARGIN = 18.0  # mm
QR_SIZE = 38.0  # mm


@dataclass(frozen=True)
class Row:
    """One event of the certificate's table."""

    date: str
    title: str
    organiser: str
    hours: str


@dataclass(frozen=True)
class Certificate:
    locale: str
    title: str  # "Certificate of volunteering"
    intro: str  # "This certifies that"
    name: str
    summary: str  # "took part in 3 events, 9 hours of volunteering"
    headers: tuple[str, str, str, str]  # date, event, organiser, hours
    rows: tuple[Row, ...]
    total: str  # "Total: 9 h"
    check: str  # "Check it: scan the code or open …"
    link: str
    code_line: str  # "Code: ABCD…"
    issued: str  # "Issued on 07.12.2026"
    footer: str
    created: datetime
    filename: str


def _qr(link: str) -> bytes:
    import segno

    buffer = io.BytesIO()
    segno.make_qr(link, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


def render_certificate(c: Certificate) -> bytes:
    # fpdf2 (with fontTools, 17 MB) is imported by the first certificate, not by the bot's
    # start-up: a bot that issues none never holds it (the picture process draws them).
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos
    from fpdf.fonts import FontFace

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.add_font(FAMILY, "", str(FONTS / REGULAR))
    pdf.add_font(FAMILY, "B", str(FONTS / BOLD))
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN + 6)
    pdf.set_lang(c.locale)
    pdf.set_title(c.title)
    pdf.set_creation_date(c.created)
    pdf.add_page()
    width = pdf.epw

    # a frame, an accent band
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.8)
    pdf.rect(8, 8, pdf.w - 16, pdf.h - 16)
    pdf.set_fill_color(*ACCENT)
    pdf.rect(8, 8, pdf.w - 16, 6, style="F")

    pdf.set_y(MARGIN + 8)
    pdf.set_text_color(*ACCENT)
    pdf.set_font(FAMILY, "B", 24)
    pdf.multi_cell(width, 11, c.title.upper(), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(8)
    pdf.set_text_color(*MUTED)
    pdf.set_font(FAMILY, "", 12)
    pdf.cell(width, 7, c.intro, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_text_color(*INK)
    pdf.set_font(FAMILY, "B", 22)
    pdf.multi_cell(width, 11, c.name, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font(FAMILY, "", 12)
    pdf.multi_cell(width, 7, c.summary, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(8)

    # the events
    widths = (24.0, width - 24 - 52 - 18, 52.0, 18.0)
    pdf.set_font(FAMILY, "", 9.5)
    pdf.set_fill_color(255, 255, 255)
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    with pdf.table(
        col_widths=widths,
        width=width,
        borders_layout="HORIZONTAL_LINES",
        line_height=5.5,
        text_align=("LEFT", "LEFT", "LEFT", "RIGHT"),
        headings_style=FontFace(emphasis="BOLD", fill_color=STRIPE),
    ) as table:
        table.row(list(c.headers))
        for row in c.rows:
            table.row([row.date, row.title, row.organiser or "—", row.hours])
    pdf.ln(2)
    pdf.set_font(FAMILY, "B", 11)
    pdf.cell(width, 7, c.total, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # the check: QR on the left, the link and the code beside it
    bottom = pdf.h - MARGIN - QR_SIZE - 8
    if pdf.get_y() + 6 > bottom:
        pdf.add_page()
    pdf.set_y(bottom)
    top = pdf.get_y()
    pdf.image(io.BytesIO(_qr(c.link)), x=MARGIN, y=top, w=QR_SIZE, h=QR_SIZE)
    x = MARGIN + QR_SIZE + 6
    pdf.set_xy(x, top + 4)
    pdf.set_text_color(*INK)
    pdf.set_font(FAMILY, "", 10)
    pdf.multi_cell(width - QR_SIZE - 6, 5.5, c.check, align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_text_color(*ACCENT)
    pdf.multi_cell(
        width - QR_SIZE - 6, 5.5, c.link, link=c.link, align="L", new_x=XPos.LEFT, new_y=YPos.NEXT
    )
    pdf.set_text_color(*INK)
    pdf.set_font(FAMILY, "B", 11)
    pdf.cell(width - QR_SIZE - 6, 7, c.code_line, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 10)
    pdf.cell(width - QR_SIZE - 6, 6, c.issued, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_auto_page_break(False)  # the footer sits in the bottom margin
    pdf.set_y(pdf.h - MARGIN)
    pdf.set_text_color(*MUTED)
    pdf.set_font(FAMILY, "", 7.5)
    pdf.cell(width, 4, c.footer, align="C")
    return bytes(pdf.output())
