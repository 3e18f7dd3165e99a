"""The garbage collector's settings for a long-running bot process.

Start-up imports and builds hundreds of thousands of objects (aiogram's Telegram types first)
and no garbage: the collector would scan them again and again. `pause()` turns it off while the
process starts; `settle()` freezes what start-up built (it lives as long as the process) and
turns the collector back on with a larger young generation.
"""

from __future__ import annotations

import gc

# Young objects allocated before the collector's first generation runs (Python's default: 700).
# An update allocates thousands (aiogram's and pydantic's objects for each request and
# answer), nearly all freed by reference counting; collecting every 700 is a measurable share
# of the CPU per update (bench/updates.py). Only cyclic garbage waits longer.
GC_YOUNG = 50_000


def pause() -> None:
    """No collections while the process starts (`python -m bot` calls this first)."""
    gc.disable()


def settle() -> None:
    """Once start-up is done: out of the collector's scans from now on, then collect again.

    No collection first: it would take half a second to free a few thousand objects.
    What a rare feature imports at its first use (icalendar, the stemmers; fpdf2 where pictures
    are drawn in threads) is not frozen: a few tens of thousands of objects in the oldest
    generation, which its rare full collections scan beside the garbage.
    """
    gc.freeze()
    gc.set_threshold(GC_YOUNG, *gc.get_threshold()[1:])
    gc.enable()
