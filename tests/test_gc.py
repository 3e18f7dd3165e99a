"""bot/infra/gc.py: start-up runs without collections; once settled, what start-up built is
frozen and the young generation is GC_YOUNG."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bot.infra import gc as collector


@pytest.fixture
def restored() -> Iterator[None]:
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    (gc.enable if enabled else gc.disable)()


@pytest.mark.usefixtures("restored")
def test_pause_then_settle_freezes_and_collects_with_a_larger_young_generation() -> None:
    collector.pause()
    assert not gc.isenabled()
    built = [object() for _ in range(10)]  # what start-up builds
    frozen_before = gc.get_freeze_count()
    collector.settle()
    assert gc.isenabled()
    assert gc.get_threshold()[0] == collector.GC_YOUNG
    assert gc.get_freeze_count() > frozen_before
    assert built
