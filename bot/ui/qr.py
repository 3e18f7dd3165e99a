"""A QR code as a PNG to print (segno: pure Python, writes the PNG itself)."""

from __future__ import annotations

import io

QR_SCALE = 16  # pixels a module: a 33-module code with its border is about 650 px, crisp on A5
QR_BORDER = 4  # modules of quiet zone the QR standard asks for


def qr_png(data: str, scale: int = QR_SCALE, border: int = QR_BORDER) -> bytes:
    """`data` (a link) as a black-on-white QR code, error correction M (survives a crease)."""
    import segno  # imported by the first code drawn, not at the bot's start-up

    buffer = io.BytesIO()
    segno.make_qr(data, error="m", boost_error=False).save(
        buffer, kind="png", scale=scale, border=border
    )
    return buffer.getvalue()
