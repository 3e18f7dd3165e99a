"""bot.domain.paging: every item on exactly one page, the page clamped, at least one page; and
the ◀ ▶ row the lists share (bot.ui.keyboards.page_row)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.paging import Page, asked, paged
from bot.ui.keyboards import ArticleCb, page_row

totals = st.integers(min_value=0, max_value=500)
sizes = st.integers(min_value=1, max_value=40)
numbers = st.integers(min_value=-5, max_value=200)


@given(totals, sizes)
def test_every_item_lands_on_exactly_one_page(total: int, size: int) -> None:
    items = list(range(total))
    pages = paged(total, 0, size).pages
    seen = [item for n in range(pages) for item in items[paged(total, n, size).slice]]
    assert seen == items
    for n in range(pages):
        at = paged(total, n, size)
        shown = items[at.slice]
        assert shown == items[at.offset : at.offset + at.limit]
        assert 1 <= len(shown) <= size or total == 0
        assert at.has_prev == (n > 0)
        assert at.has_next == (n < pages - 1)


@given(totals, numbers, sizes)
def test_the_page_is_clamped_and_there_is_at_least_one(total: int, number: int, size: int) -> None:
    at = paged(total, number, size)
    assert at.pages >= 1
    assert at.pages == max(1, -(-total // size))
    assert 0 <= at.number <= at.pages - 1
    assert at.number == min(max(number, 0), at.pages - 1)
    assert (at.total, at.size, at.limit) == (total, size, size)
    assert at.offset == at.number * size


@given(totals, numbers, sizes)
def test_a_page_asked_before_counting_is_not_clamped(total: int, number: int, size: int) -> None:
    ask = asked(number, size)
    assert ask.number == max(number, 0)
    counted = ask.counted(total)
    assert (counted.number, counted.offset) == (ask.number, ask.offset)
    assert counted.clamped() == paged(total, number, size)
    assert counted.has_next == (counted.number < counted.pages - 1)


def test_the_known_shapes() -> None:
    assert paged(0, 3, 5) == Page(0, 5, 0)
    assert paged(12, 7, 5) == Page(2, 5, 12)
    assert paged(12, 1, 5).slice == slice(5, 10)
    assert (paged(10, 1, 5).pages, paged(10, 1, 5).has_next) == (2, False)
    assert asked(3, 5).counted(7) == Page(3, 5, 7)  # past the end: an empty page, as asked


@pytest.mark.parametrize(("number", "size", "total"), [(0, 0, 0), (-1, 5, 0), (0, 5, -1)])
def test_nonsense_is_refused(number: int, size: int, total: int) -> None:
    with pytest.raises(ValueError, match="not a page"):
        Page(number, size, total)


def test_page_row() -> None:
    def to(n: int) -> ArticleCb:
        return ArticleCb(action="list", page=n)

    assert page_row(paged(3, 0, 5), to) == []
    first, middle, last = (page_row(paged(15, n, 5), to) for n in range(3))
    assert [(b.text, b.callback_data) for b in first] == [("▶", "ar:list::1")]
    assert [(b.text, b.callback_data) for b in middle] == [
        ("◀", "ar:list::0"),
        ("▶", "ar:list::2"),
    ]
    assert [(b.text, b.callback_data) for b in last] == [("◀", "ar:list::1")]
    labelled = page_row(paged(15, 1, 5), to, "◀ Previous", "Next ▶")
    assert [b.text for b in labelled] == ["◀ Previous", "Next ▶"]
