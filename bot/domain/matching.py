"""Matching support measures to an activist (pure): a ranked list, every place explained.

Candidates are the seed's matrix measures (a phase and one type each), the additional
infrastructure measures (no phase, several types) and local measures that coordinators add
(a region or none, a phase or none). The expert tags — which problems a measure helps with, which
topics it especially fits, which crisis reactions it helps out of — come from
``content/matching.yaml`` for the catalog measures and from the database for local ones.

Points (:data:`WEIGHTS`), each earned with a :class:`Reason` that names it:

* ``phase``          +3  the candidate belongs to the profile's phase (code: the phase); a local
                         measure without a phase fits every phase and earns it too;
* ``region``         +2  a local measure in the profile's region (code: the region);
* ``problem``        +2  for EACH ticked problem the candidate helps with (code: the problem);
* ``crisis``         +2  for EACH ticked crisis reaction it helps out of (code: the reaction);
* ``topic``          +1  for EACH of the profile's topics the candidate is tagged with (code: the
                         topic; a candidate without topics fits all and earns nothing here);
* ``infrastructure`` +1  an additional measure: infrastructure helps at any stage (code:
                         ``additional_measures``, the catalog's title key for these measures).

A match's score is exactly the sum of its reasons' points.

Who is left out:

* with ``types`` given, a candidate that shares none of them (an additional measure without
  types is left out then);
* a local measure of another region, and any region-bound local measure when the profile's region
  is unknown (a region-less local measure is always allowed);
* a candidate of ANOTHER phase, unless it helps with a ticked problem or crisis reaction (then it
  is listed for that reason, without phase points);
* a candidate with no reason at all.

Order (stable, independent of the order of the input): score descending; then kind — ``local``
(a concrete offer with a contact) before ``matrix`` (the stage's own measures) before
``additional``; then :attr:`Candidate.order` (the catalog position, or the database id for local
measures); then the code. Reasons within a match: phase, region, problems, crises, topics,
infrastructure; codes of one kind alphabetically.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "INFRASTRUCTURE",
    "KIND_ORDER",
    "PHASES",
    "WEIGHTS",
    "Candidate",
    "Kind",
    "Match",
    "Profile",
    "Reason",
    "ReasonKind",
    "local_offers",
    "phase_for_stage",
    "rank",
]

Kind = Literal["matrix", "additional", "local"]
ReasonKind = Literal["phase", "problem", "topic", "region", "crisis", "infrastructure"]

WEIGHTS: Final[dict[ReasonKind, int]] = {
    "phase": 3,
    "region": 2,
    "problem": 2,
    "crisis": 2,
    "topic": 1,
    "infrastructure": 1,
}
KIND_ORDER: Final[dict[Kind, int]] = {"local": 0, "matrix": 1, "additional": 2}
INFRASTRUCTURE: Final = "additional_measures"
# stage number → phase code, as in content/measures.yaml (1–3 origin, 4 formalization, 5–7
# expansion)
PHASES: Final[dict[int, str]] = {
    1: "origin",
    2: "origin",
    3: "origin",
    4: "formalization",
    5: "expansion",
    6: "expansion",
    7: "expansion",
}


def phase_for_stage(stage: int) -> str:
    """The phase code of a stage number 1–7; ``ValueError`` for anything else."""
    try:
        return PHASES[stage]
    except KeyError:
        raise ValueError(f"there is no stage {stage!r} (only 1–7)") from None


@dataclass(frozen=True, slots=True)
class Candidate:
    code: str
    kind: Kind
    phase: str | None  # None: additional measures, and local measures for every phase
    types: tuple[str, ...]
    problems: frozenset[str]
    topics: frozenset[str]  # empty: fits every topic
    region: str | None = None  # local measures only; None: everywhere
    order: int = 0  # the tie-break after score and kind: catalog position or database id
    crises: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Profile:
    stage: int
    phase: str
    problems: frozenset[str]
    topics: frozenset[str]
    region: str | None
    crises: frozenset[str] = frozenset()

    @classmethod
    def for_stage(
        cls,
        stage: int,
        *,
        problems: Iterable[str] = (),
        topics: Iterable[str] = (),
        region: str | None = None,
        crises: Iterable[str] = (),
    ) -> Profile:
        """A profile whose phase follows from the stage."""
        return cls(
            stage=stage,
            phase=phase_for_stage(stage),
            problems=frozenset(problems),
            topics=frozenset(topics),
            region=region,
            crises=frozenset(crises),
        )


@dataclass(frozen=True, slots=True)
class Reason:
    kind: ReasonKind
    code: str

    @property
    def points(self) -> int:
        return WEIGHTS[self.kind]


@dataclass(frozen=True, slots=True)
class Match:
    candidate: Candidate
    score: int
    reasons: tuple[Reason, ...]  # never empty; their points sum to ``score``


def _reasons(profile: Profile, c: Candidate) -> tuple[Reason, ...] | None:
    """The reasons ``c`` earns for ``profile``, or None when it is left out."""
    if c.kind == "local" and c.region is not None and c.region != profile.region:
        return None
    needs: list[Reason] = [
        *(Reason("problem", code) for code in sorted(c.problems & profile.problems)),
        *(Reason("crisis", code) for code in sorted(c.crises & profile.crises)),
    ]
    fits: list[Reason] = []
    if c.kind == "additional":
        pass  # no phase: infrastructure, added last
    elif c.phase is None or c.phase == profile.phase:
        fits.append(Reason("phase", profile.phase))
    elif not needs:
        return None  # another phase, and nothing ticked that it helps with
    if c.kind == "local" and c.region is not None:
        fits.append(Reason("region", c.region))
    reasons = [
        *fits,
        *needs,
        *(Reason("topic", code) for code in sorted(c.topics & profile.topics)),
    ]
    if c.kind == "additional":
        reasons.append(Reason("infrastructure", INFRASTRUCTURE))
    return tuple(reasons) or None


def _key(match: Match) -> tuple[int, int, int, str]:
    c = match.candidate
    return (-match.score, KIND_ORDER[c.kind], c.order, c.code)


def rank(
    profile: Profile,
    candidates: Iterable[Candidate],
    *,
    types: Collection[str] | None = None,
) -> list[Match]:
    """Candidates that suit ``profile``, best first, each with its reasons (module docstring)."""
    wanted = None if types is None else frozenset(types)
    matches: list[Match] = []
    for c in candidates:
        if wanted is not None and wanted.isdisjoint(c.types):
            continue
        reasons = _reasons(profile, c)
        if reasons:
            matches.append(Match(c, sum(r.points for r in reasons), reasons))
    return sorted(matches, key=_key)


def local_offers(
    candidates: Iterable[Candidate],
    *,
    region: str | None,
    types: Collection[str],
    phase: str | None = None,
) -> list[Candidate]:
    """The local measures to show on a catalog measure's card, above its nationwide ways.

    Of ``candidates``, the ``local`` ones of one of ``types`` that a user in ``region`` may use
    (of that region, or of every region; a region-bound one when the region is unknown, never)
    and that fit ``phase`` (None: any; a local measure without a phase fits every phase). The
    region's own come first, then the ones for every region; then by :attr:`Candidate.order`
    and code.
    """
    wanted = frozenset(types)
    found = [
        c
        for c in candidates
        if c.kind == "local"
        and not wanted.isdisjoint(c.types)
        and (c.region is None or (region is not None and c.region == region))
        and (phase is None or c.phase is None or c.phase == phase)
    ]
    return sorted(found, key=lambda c: (c.region is None, c.order, c.code))
