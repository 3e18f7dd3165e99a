"""Paging a list (pure): which items page N shows, how many pages there are, whether there is
one before and after it.

Pages are numbered from 0, as the buttons carry them (the screens say "page N + 1 of M"). A list
in memory is paged at once (`paged`); one read from the database is asked for page N first
(`asked`: its offset and limit) and counted by the same query (`Page.counted`).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, replace

__all__ = ["Page", "asked", "paged"]


@dataclass(frozen=True, slots=True)
class Page:
    """Page `number` (from 0) of a list of `total` items, `size` of them to a page.

    The number may be past the last page (a stale button: the list got shorter); `clamped`
    (and `paged`) bring it back to the last one."""

    number: int
    size: int
    total: int = 0

    def __post_init__(self) -> None:
        if self.size < 1 or self.number < 0 or self.total < 0:
            raise ValueError(f"not a page: {self!r}")

    @property
    def pages(self) -> int:
        """How many pages the list has: at least one, empty or not."""
        return max(1, -(-self.total // self.size))

    @property
    def offset(self) -> int:
        """How many items come before the page."""
        return self.number * self.size

    @property
    def limit(self) -> int:
        """How many items the page holds at most."""
        return self.size

    @property
    def slice(self) -> builtins.slice:
        """The page's items of the whole list: `items[page.slice]`."""
        return slice(self.offset, self.offset + self.size)

    @property
    def has_prev(self) -> bool:
        return self.number > 0

    @property
    def has_next(self) -> bool:
        return self.number < self.pages - 1

    def counted(self, total: int) -> Page:
        """The same page of a list of `total` items (not clamped)."""
        return replace(self, total=total)

    def clamped(self) -> Page:
        """The page, or the last one if the list ends before it."""
        return replace(self, number=min(self.number, self.pages - 1))


def asked(page: int, size: int) -> Page:
    """The page a button asks for, before the list is counted (a negative number: the first)."""
    return Page(max(page, 0), size)


def paged(total: int, page: int, size: int) -> Page:
    """Page `page` of a list of `total` items, `size` to a page, clamped to the pages there are
    (a stale or forged number shows the first or the last)."""
    return asked(page, size).counted(total).clamped()
