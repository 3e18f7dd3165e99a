"""Where a team is in the seed's chain of crisis reactions (pure).

The seed lists six typical reactions to a crisis in the order they usually follow each other:
a rush of tasks, pushing people harder, quiet sabotage, rain dances, repression, and the
morning after, when the exhausted sides sit down at the negotiating table. What a team ticks
places it at the furthest reaction it recognises; the next one is what usually comes next."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ChainPosition:
    step: int  # 1-based: the furthest reaction ticked
    total: int
    code: str
    next_code: str | None  # what usually comes next; None: at the negotiating table already

    @property
    def at_the_table(self) -> bool:
        return self.next_code is None


def position(chain: Sequence[str], ticked: Collection[str]) -> ChainPosition | None:
    """The furthest ticked reaction of ``chain`` (None: nothing of it ticked). Codes not in
    the chain are ignored."""
    steps = [i for i, code in enumerate(chain) if code in ticked]
    if not steps:
        return None
    i = steps[-1]
    return ChainPosition(
        step=i + 1,
        total=len(chain),
        code=chain[i],
        next_code=chain[i + 1] if i + 1 < len(chain) else None,
    )
