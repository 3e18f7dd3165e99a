"""Matching support measures: bot.domain.matching over the catalog and content/matching.yaml."""

from __future__ import annotations

from collections.abc import Sequence
from random import Random

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.content import CONTENT_DIR, get_catalog
from bot.domain.matching import (
    INFRASTRUCTURE,
    WEIGHTS,
    Candidate,
    Match,
    Profile,
    Reason,
    phase_for_stage,
    rank,
)
from bot.services.measures import candidates_from_catalog

CATALOG = get_catalog()
CANDIDATES = candidates_from_catalog(CATALOG)
PROBLEMS = [p.code for g in CATALOG.problem_groups for p in g.items]
TOPICS = [t.code for t in CATALOG.topics]
CRISES = [r.code for r in CATALOG.crisis_reactions]
TYPES = [t.code for t in CATALOG.measure_types]


def local(
    code: str,
    *,
    region: str | None = "tomsk",
    phase: str | None = None,
    types: tuple[str, ...] = ("consulting",),
    problems: Sequence[str] = (),
    topics: Sequence[str] = (),
    order: int = 0,
) -> Candidate:
    return Candidate(
        code=code,
        kind="local",
        phase=phase,
        types=types,
        problems=frozenset(problems),
        topics=frozenset(topics),
        region=region,
        order=order,
    )


def codes(matches: Sequence[Match]) -> list[str]:
    return [m.candidate.code for m in matches]


def by_code(matches: Sequence[Match]) -> dict[str, Match]:
    return {m.candidate.code: m for m in matches}


def assert_explained(matches: Sequence[Match]) -> None:
    for match in matches:
        assert match.reasons, match
        assert match.score == sum(WEIGHTS[r.kind] for r in match.reasons)
        assert match.score == sum(r.points for r in match.reasons)
        assert len(set(match.reasons)) == len(match.reasons)
    scores = [m.score for m in matches]
    assert scores == sorted(scores, reverse=True)


# ── phases ──────────────────────────────────────────────────────────────────────────────────


def test_phase_for_stage_agrees_with_the_catalog() -> None:
    for number in range(1, 8):
        assert phase_for_stage(number) == CATALOG.phase_of_stage(number).code
    assert [phase_for_stage(n) for n in (1, 3, 4, 5, 7)] == [
        "origin",
        "origin",
        "formalization",
        "expansion",
        "expansion",
    ]
    for wrong in (0, 8, -1):
        with pytest.raises(ValueError, match="no stage"):
            phase_for_stage(wrong)


def test_profile_for_stage() -> None:
    profile = Profile.for_stage(4, problems=["lack_of_funds"], region="tomsk")
    assert profile == Profile(
        stage=4,
        phase="formalization",
        problems=frozenset({"lack_of_funds"}),
        topics=frozenset(),
        region="tomsk",
    )


# ── the catalog's candidates and the tagging ─────────────────────────────────────────────────


def test_candidates_from_catalog() -> None:
    assert len(CANDIDATES) == len(CATALOG.measures) + len(CATALOG.additional_measures) == 52
    matrix = [c for c in CANDIDATES if c.kind == "matrix"]
    extra = [c for c in CANDIDATES if c.kind == "additional"]
    assert [c.code for c in matrix] == [m.code for m in CATALOG.measures]
    assert [c.code for c in extra] == [m.code for m in CATALOG.additional_measures]
    assert [c.order for c in matrix] == list(range(len(matrix)))
    grants = matrix[0]
    assert grants.code == "grants"
    assert grants.phase == "origin"
    assert grants.types == ("financial",)
    assert "lack_of_funds" in grants.problems
    assert all(c.phase is None and c.region is None for c in extra)
    vouchers = next(c for c in extra if c.code == "consulting_vouchers")
    assert vouchers.types == ("consulting", "financial")
    for c in CANDIDATES:
        assert c.problems, c.code  # every measure helps with something


def test_matching_yaml_covers_every_measure_with_known_codes() -> None:
    data = yaml.safe_load((CONTENT_DIR / "matching.yaml").read_text(encoding="utf-8"))
    tagged = [entry["code"] for entry in data["items"]]
    measures = [m.code for m in CATALOG.measures] + [m.code for m in CATALOG.additional_measures]
    assert sorted(tagged) == sorted(measures)  # every measure exactly once
    for entry in data["items"]:
        assert entry["problems"], entry["code"]
        assert set(entry["problems"]) <= set(PROBLEMS)
        assert set(entry.get("topics", [])) <= set(TOPICS)
        assert set(entry.get("crises", [])) <= set(CRISES)
    assert len(CATALOG.matching) == 52
    assert CATALOG.measure_tags("microloans").problems == ("lack_of_funds", "no_startup_resources")


def test_every_problem_and_crisis_has_a_measure() -> None:
    assert {p for c in CANDIDATES for p in c.problems} == set(PROBLEMS)
    assert {r for c in CANDIDATES for r in c.crises} == set(CRISES)
    # both groups of problems are used
    for group in CATALOG.problem_groups:
        assert any(c.problems & {p.code for p in group.items} for c in CANDIDATES)


@pytest.mark.parametrize(
    ("measure", "problems"),
    [
        ("grants", {"lack_of_funds", "no_startup_resources"}),
        ("subsidies", {"lack_of_funds"}),
        ("crowdfunding", {"lack_of_funds", "no_startup_resources"}),
        ("microloans", {"lack_of_funds", "no_startup_resources"}),
        ("expert_consultations", {"burdensome_registration", "lack_of_management_skills"}),
        ("consulting_vouchers", {"burdensome_registration", "weak_management"}),
        ("volunteering_development", {"lack_of_initiative"}),
        ("volunteering_center", {"lack_of_initiative"}),
        ("activists_club", {"no_cooperation"}),
        ("dialogue_platforms", {"no_cooperation"}),
    ],
)
def test_plausible_tags(measure: str, problems: set[str]) -> None:
    assert problems <= set(CATALOG.measure_tags(measure).problems)


def test_mentoring_and_training_help_with_rush_jobs() -> None:
    for measure in ("mentoring", "training"):
        assert {"rush_avalanche", "push_push"} <= set(CATALOG.measure_tags(measure).crises)


# ── ranking over the real catalog ────────────────────────────────────────────────────────────


def test_stage_four_gets_formalization_measures_first() -> None:
    matches = rank(Profile.for_stage(4), CANDIDATES)
    assert_explained(matches)
    formalization = [m.code for m in CATALOG.measures_for("formalization")]
    assert codes(matches[: len(formalization)]) == formalization  # in the seed's order
    for match in matches[: len(formalization)]:
        assert match.reasons == (Reason("phase", "formalization"),)
        assert match.score == 3
    # then the infrastructure, which fits every stage; no other phase without a reason
    rest = matches[len(formalization) :]
    assert codes(rest) == [m.code for m in CATALOG.additional_measures]
    for match in rest:
        assert match.reasons == (Reason("infrastructure", INFRASTRUCTURE),)


@pytest.mark.parametrize(("stage", "phase"), [(1, "origin"), (3, "origin"), (6, "expansion")])
def test_each_phase_gets_its_own_measures(stage: int, phase: str) -> None:
    matches = rank(Profile.for_stage(stage), CANDIDATES)
    matrix = [m for m in matches if m.candidate.kind == "matrix"]
    assert matrix
    assert all(m.candidate.phase == phase for m in matrix)
    assert matches[0].candidate.phase == phase


def test_lack_of_funds_lifts_money_measures() -> None:
    plain = by_code(rank(Profile.for_stage(4), CANDIDATES))
    ranked = rank(Profile.for_stage(4, problems=["lack_of_funds"]), CANDIDATES)
    assert_explained(ranked)
    lifted = by_code(ranked)
    for code in ("subsidies", "microloans", "fundraising", "social_bulletin"):
        assert lifted[code].score == plain[code].score + 2
        assert Reason("problem", "lack_of_funds") in lifted[code].reasons
    # the stage's money measures come first; the shown reason is «этап · проблема»
    top = ranked[0]
    assert top.candidate.code == "subsidies"
    assert top.reasons == (Reason("phase", "formalization"), Reason("problem", "lack_of_funds"))
    assert codes(ranked).index("microloans") < codes(ranked).index("info_portal")
    # grants belong to another phase, yet help with the ticked problem: listed, for that reason
    assert "grants" not in plain
    assert lifted["grants"].reasons == (Reason("problem", "lack_of_funds"),)
    assert "crowdfunding" in lifted
    # measures of another phase that do not help with it stay out
    assert "coworking" not in lifted


def test_several_problems_add_up() -> None:
    profile = Profile.for_stage(2, problems=["lack_of_funds", "no_startup_resources"])
    ranked = rank(profile, CANDIDATES)
    assert_explained(ranked)
    top = ranked[0]
    assert top.candidate.code == "grants"
    assert top.score == 3 + 2 + 2
    assert [r.kind for r in top.reasons] == ["phase", "problem", "problem"]
    assert by_code(ranked)["microloans"].score == 1 + 2 + 2


def test_crisis_lifts_its_measures() -> None:
    ranked = rank(Profile.for_stage(5, crises=["rush_avalanche"]), CANDIDATES)
    assert_explained(ranked)
    found = by_code(ranked)
    assert found["mentoring"].reasons == (Reason("crisis", "rush_avalanche"),)
    assert found["staffing_agency"].score == 1 + 2
    assert "quiet_sabotage" not in {r.code for m in ranked for r in m.reasons}


def test_topic_boosts_by_one_per_shared_topic() -> None:
    plain = by_code(rank(Profile.for_stage(5), CANDIDATES))
    boosted = by_code(
        rank(Profile.for_stage(5, topics=["social_services", "vulnerable_groups"]), CANDIDATES)
    )
    assert boosted["outsourcing"].score == plain["outsourcing"].score + 2
    assert boosted["public_procurement"].reasons[-2:] == (
        Reason("topic", "social_services"),
        Reason("topic", "vulnerable_groups"),
    )
    # measures without topics fit every topic and get no boost
    assert boosted["advisory_bodies"].score == plain["advisory_bodies"].score
    # a topic alone does not bring in a measure of another phase
    assert "event_venues" not in boosted


def test_type_filter() -> None:
    profile = Profile.for_stage(4, problems=["lack_of_funds"])
    ranked = rank(profile, CANDIDATES, types=["financial"])
    assert_explained(ranked)
    assert ranked
    assert all("financial" in m.candidate.types for m in ranked)
    assert {"subsidies", "consulting_vouchers", "microloans", "grants"} <= set(codes(ranked))
    assert "info_portal" not in codes(ranked)
    both = rank(profile, CANDIDATES, types={"financial", "personnel"})
    assert set(codes(ranked)) < set(codes(both))
    assert rank(profile, CANDIDATES, types=()) == []
    # the filtered list keeps the unfiltered order
    full = codes(rank(profile, CANDIDATES))
    assert codes(ranked) == [c for c in full if c in set(codes(ranked))]


def test_additional_measure_without_types_is_left_out_by_a_type_filter() -> None:
    bare = Candidate("bare", "additional", None, (), frozenset(), frozenset())
    assert codes(rank(Profile.for_stage(1), [bare])) == ["bare"]
    assert rank(Profile.for_stage(1), [bare], types=["consulting"]) == []


# ── local measures ──────────────────────────────────────────────────────────────────────────


def test_local_measures_by_region() -> None:
    here = local("here", region="tomsk")
    there = local("there", region="omsk")
    everywhere = local("everywhere", region=None)
    profile = Profile.for_stage(4, region="tomsk")
    ranked = rank(profile, [there, everywhere, here, *CANDIDATES])
    assert_explained(ranked)
    found = by_code(ranked)
    assert "there" not in found  # another region: excluded
    assert found["here"].reasons == (Reason("phase", "formalization"), Reason("region", "tomsk"))
    assert found["here"].score == 5
    assert found["everywhere"].reasons == (Reason("phase", "formalization"),)
    assert codes(ranked)[:2] == ["here", "everywhere"]  # same score as matrix: local first
    # an unknown region: only region-less local measures
    unknown = rank(Profile.for_stage(4), [here, there, everywhere])
    assert codes(unknown) == ["everywhere"]


def test_local_measure_phase_problem_and_topic() -> None:
    profile = Profile.for_stage(2, problems=["no_cooperation"], topics=["culture"], region="tomsk")
    same_phase = local("club", phase="origin", topics=["culture", "publishing"])
    other_phase = local("later", phase="expansion")
    other_helps = local("helps", phase="expansion", problems=["no_cooperation"])
    ranked = rank(profile, [same_phase, other_phase, other_helps])
    assert_explained(ranked)
    assert codes(ranked) == ["club", "helps"]
    assert ranked[0].reasons == (
        Reason("phase", "origin"),
        Reason("region", "tomsk"),
        Reason("topic", "culture"),
    )
    assert ranked[1].reasons == (Reason("region", "tomsk"), Reason("problem", "no_cooperation"))


def test_ties_local_then_matrix_then_additional_then_order_then_code() -> None:
    profile = Profile.for_stage(1)
    a = Candidate("a", "additional", None, (), frozenset(), frozenset(), order=0)
    m2 = Candidate("m2", "matrix", "origin", (), frozenset(), frozenset(), order=2)
    m1 = Candidate("m1", "matrix", "origin", (), frozenset(), frozenset(), order=1)
    lz = local("z", region=None, order=5)
    ly = local("y", region=None, order=5)
    lx = local("x", region=None, order=9)
    ranked = rank(profile, [a, m2, lx, m1, lz, ly])
    assert [m.score for m in ranked] == [3, 3, 3, 3, 3, 1]
    assert codes(ranked) == ["y", "z", "x", "m1", "m2", "a"]


# ── properties ──────────────────────────────────────────────────────────────────────────────

REGIONS = ["tomsk", "omsk", "kazan"]


@st.composite
def local_candidates(draw: st.DrawFn) -> list[Candidate]:
    n = draw(st.integers(0, 6))
    return [
        Candidate(
            code=f"local_{i}",
            kind="local",
            phase=draw(st.sampled_from([None, "origin", "formalization", "expansion"])),
            types=tuple(draw(st.lists(st.sampled_from(TYPES), max_size=2, unique=True))),
            problems=frozenset(draw(st.sets(st.sampled_from(PROBLEMS), max_size=3))),
            topics=frozenset(draw(st.sets(st.sampled_from(TOPICS), max_size=3))),
            region=draw(st.sampled_from([None, *REGIONS])),
            order=draw(st.integers(0, 3)),
            crises=frozenset(draw(st.sets(st.sampled_from(CRISES), max_size=2))),
        )
        for i in range(n)
    ]


profiles = st.builds(
    Profile.for_stage,
    st.integers(1, 7),
    problems=st.sets(st.sampled_from(PROBLEMS), max_size=4),
    topics=st.sets(st.sampled_from(TOPICS), max_size=3),
    region=st.sampled_from([None, *REGIONS]),
    crises=st.sets(st.sampled_from(CRISES), max_size=2),
)
type_filters = st.one_of(st.none(), st.sets(st.sampled_from(TYPES), max_size=3))


@given(profiles, local_candidates(), type_filters, st.randoms(use_true_random=False))
def test_order_is_stable_under_shuffling(
    profile: Profile,
    locals_: list[Candidate],
    types: set[str] | None,
    rnd: Random,
) -> None:
    candidates = [*CANDIDATES, *locals_]
    expected = rank(profile, candidates, types=types)
    shuffled = list(candidates)
    rnd.shuffle(shuffled)
    assert rank(profile, shuffled, types=types) == expected


@given(profiles, local_candidates(), type_filters)
def test_every_match_is_explained_and_allowed(
    profile: Profile, locals_: list[Candidate], types: set[str] | None
) -> None:
    ranked = rank(profile, [*CANDIDATES, *locals_], types=types)
    assert_explained(ranked)
    assert len({(m.candidate.kind, m.candidate.code) for m in ranked}) == len(ranked)
    for match in ranked:
        c = match.candidate
        kinds = {r.kind for r in match.reasons}
        if types is not None:
            assert set(c.types) & types
        if c.kind == "local" and c.region is not None:
            assert c.region == profile.region
            assert Reason("region", c.region) in match.reasons
        if c.phase is not None and c.phase != profile.phase:
            assert kinds & {"problem", "crisis"}
            assert "phase" not in kinds
        assert ("infrastructure" in kinds) == (c.kind == "additional")
        for reason in match.reasons:
            if reason.kind == "problem":
                assert reason.code in c.problems & profile.problems
            elif reason.kind == "crisis":
                assert reason.code in c.crises & profile.crises
            elif reason.kind == "topic":
                assert reason.code in c.topics & profile.topics
            elif reason.kind == "phase":
                assert reason.code == profile.phase


@given(profiles)
def test_every_same_phase_matrix_measure_is_listed(profile: Profile) -> None:
    listed = set(codes(rank(profile, CANDIDATES)))
    assert {m.code for m in CATALOG.measures_for(profile.phase)} <= listed
    assert {m.code for m in CATALOG.additional_measures} <= listed
