"""The ikigai picture: CPU per picture, by part (layout, drawing, palette and PNG), for the
picture of the updates benchmark's journey and for one with every column full.

    python bench/picture.py [--repeat 30]

Printed: milliseconds of CPU per picture (process time, the median of `--repeat` runs after
one warm-up, which fills the per-size caches as the first picture of a running bot does);
"palette + PNG" is the whole `render_ikigai` less the layout and the drawing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import table
from bot.ui.pictures import (
    Column,
    IkigaiPicture,
    draw_layout,
    find_font,
    layout_ikigai,
    render_ikigai,
)

JOURNEY = IkigaiPicture(
    title="Икигай проекта",
    columns=(
        Column(
            "Чего хочу",
            ("Кружок робототехники для детей в селе", "Мастерская по ремонту техники"),
        ),
        Column("Что могу", ("Паять и учить",)),
        Column("Что нужно территории", ()),
    ),
    focus_title="Фокус проекта",
    focus="Кружок робототехники для детей в селе",
    topics=("Доступ к образованию",),
    footer="Опора",
)
_LONG = "Собираем соседей по выходным, чтобы вместе приводить в порядок дворы и скверы"
FULL = IkigaiPicture(
    title="Икигай проекта",
    columns=tuple(  # type: ignore[arg-type]
        Column(title, (_LONG, _LONG[:60], _LONG[:30]))
        for title in ("Чего хочу", "Что могу", "Что нужно территории")
    ),
    focus_title="Фокус проекта",
    focus=_LONG,
    topics=("Экология", "Городская среда", "Соседские сообщества"),
    footer="Опора",
)


def _cpu_ms(work: Callable[[], Any], repeat: int) -> float:
    work()  # warm-up: fonts, the circles of this size, the layout's span memo
    times = []
    for _ in range(repeat):
        started = time.process_time()
        work()
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


def measure(picture: IkigaiPicture, font: Path, repeat: int) -> dict[str, float]:
    layout = layout_ikigai(picture, font)
    whole = _cpu_ms(lambda: render_ikigai(picture, font), repeat)
    parts = {
        "layout": _cpu_ms(lambda: layout_ikigai(picture, font), repeat),
        "draw": _cpu_ms(lambda: draw_layout(layout, font), repeat),
    }
    return {
        **parts,
        "palette + PNG": max(0.0, whole - sum(parts.values())),
        "whole": whole,
        "KB": len(render_ikigai(picture, font)) / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    font = find_font()
    if font is None:
        print("no font (DejaVu Sans) on this machine: the bot sends the text summary only")
        return 1
    rows = []
    for name, picture in (("journey", JOURNEY), ("every column full", FULL)):
        m = measure(picture, font, args.repeat)
        parts = ("layout", "draw", "palette + PNG", "whole")
        rows.append([name, *(f"{m[k]:.1f}" for k in parts), f"{m['KB']:.0f}"])
    print(table(["picture", "layout ms", "draw ms", "palette + PNG ms", "whole ms", "KB"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
