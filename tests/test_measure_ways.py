"""The local offers a catalog measure's card lists: of its type, in the user's region, picked
by the pure domain."""

from __future__ import annotations

from bot.domain.matching import Candidate, local_offers


def local(
    code: str,
    *,
    types: tuple[str, ...] = ("financial",),
    region: str | None = "nvs",
    phase: str | None = None,
    order: int = 0,
) -> Candidate:
    return Candidate(
        code=code,
        kind="local",
        phase=phase,
        types=types,
        problems=frozenset(),
        topics=frozenset(),
        region=region,
        order=order,
    )


def test_local_offers_of_the_type_in_the_region_own_first() -> None:
    candidates = [
        local("L1", region=None, order=1),  # every region
        local("L2", order=2),  # the region's own
        local("L3", region="kam", order=3),  # another region
        local("L4", types=("property",), order=4),  # another type
        local("L5", phase="expansion", order=5),  # another phase
        local("L6", phase="formalization", order=6),
        Candidate("grants", "matrix", "origin", ("financial",), frozenset(), frozenset()),
    ]
    found = local_offers(candidates, region="nvs", types=("financial",), phase="formalization")
    assert [c.code for c in found] == ["L2", "L6", "L1"]
    # any phase (an additional measure has none); several types
    found = local_offers(candidates, region="nvs", types=("property", "financial"))
    assert [c.code for c in found] == ["L2", "L4", "L5", "L6", "L1"]
    # region unknown: only the offers for every region
    assert [c.code for c in local_offers(candidates, region=None, types=("financial",))] == ["L1"]
