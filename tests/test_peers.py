"""Peers and mentors: bot.domain.peers matches ikigai columns by Russian stems, explains both
directions, orders by place, topic and stage, and never shows the same set twice in a row."""

from __future__ import annotations

from bot.content import get_catalog
from bot.domain.peers import (
    Mentor,
    Peer,
    may_be_mentored,
    may_mentor,
    mentors_for,
    pick,
    rank,
    stems,
    suggestion,
)
from bot.ui.render import Renderer

ME = Peer(
    1,
    stage=2,
    region="tom",
    zone="utc7",
    topics=frozenset({"ecology"}),
    can=("Дизайн афиш и листовок",),
    need=("Юридическая консультация по регистрации НКО",),
)


def test_stems_match_word_forms_and_drop_stop_words() -> None:
    assert stems("юридические вопросы") & stems("юридическая консультация") == {"юридическ"}
    assert stems("Заявки на гранты") == stems("заявку на грант")
    assert stems("и в на для нужно") == frozenset()
    assert stems("Ёлки") == stems("елки")


def test_a_peer_who_can_what_i_need_is_suggested_with_the_reason_both_ways() -> None:
    lawyer = Peer(
        2,
        stage=5,
        can=("Помогу с юридическими вопросами и регистрацией",),
        need=("Дизайнер для афиши",),
    )
    s = suggestion(ME, lawyer)
    assert s is not None
    assert [f.can for f in s.they_can] == ["Помогу с юридическими вопросами и регистрацией"]
    assert s.they_can[0].words == {"юридическ", "регистрац"}
    assert [f.need for f in s.you_can] == ["Дизайнер для афиши"]
    assert s.ahead


def test_nothing_in_common_is_no_suggestion_and_nobody_is_their_own_peer() -> None:
    assert suggestion(ME, Peer(3, can=("Выпечка пирогов",), need=("Помещение",))) is None
    assert suggestion(ME, ME) is None
    assert suggestion(ME, Peer(4)) is None  # showed no columns


def test_same_region_then_zone_then_topic_then_stage_ahead() -> None:
    can = ("юридическая помощь",)
    far = Peer(10, stage=7, region="mow", zone="utc3", topics=frozenset({"ecology"}), can=can)
    zone = Peer(11, stage=1, region="nvs", zone="utc7", can=can)
    region = Peer(12, stage=1, region="tom", zone="utc7", can=can)
    topic = Peer(13, stage=1, region="spe", zone="utc3", topics=frozenset({"ecology"}), can=can)
    ahead = Peer(14, stage=3, region="spe", zone="utc3", can=can)
    plain = Peer(15, stage=2, region="spe", zone="utc3", can=can)
    order = [s.peer.user_id for s in rank(ME, [plain, ahead, topic, region, zone, far])]
    assert order == [12, 11, 10, 13, 14, 15]


def test_never_the_same_set_twice_in_a_row() -> None:
    can = ("юридическая помощь",)
    ranked = rank(ME, [Peer(i, can=can) for i in range(20, 25)])
    first = pick(ranked, ())
    assert [s.peer.user_id for s in first] == [20, 21, 22]
    second = pick(ranked, [s.peer.user_id for s in first])
    assert [s.peer.user_id for s in second] == [23, 24, 20]
    third = pick(ranked, [s.peer.user_id for s in second])
    assert {s.peer.user_id for s in third} != {s.peer.user_id for s in second}
    few = rank(ME, [Peer(30, can=can)])
    assert [s.peer.user_id for s in pick(few, [30])] == [30]  # the only one: shown again


def test_who_may_mentor_and_be_mentored() -> None:
    assert [may_mentor(s, False) for s in (4, 5, 7, None)] == [False, True, True, False]
    assert may_mentor(None, True)
    assert [may_be_mentored(s) for s in (1, 2, 3, 4, None)] == [True, True, True, False, False]


def test_mentors_with_a_free_place_and_a_common_topic_nearest_first() -> None:
    eco = frozenset({"ecology"})
    mentors = [
        Mentor(40, eco, capacity=1, mentees=1, region="tom"),  # full
        Mentor(41, frozenset({"culture"}), capacity=2, mentees=0, region="tom"),  # other topic
        Mentor(42, eco, capacity=2, mentees=1, region="mow", zone="utc3"),
        Mentor(43, eco, capacity=2, mentees=0, region="nvs", zone="utc7"),
        Mentor(1, eco, capacity=2, mentees=0, region="tom"),  # the mentee themselves
    ]
    found = mentors_for(1, eco, "tom", "utc7", mentors)
    assert [m.user_id for m in found] == [43, 42]


def test_the_reason_reads_in_russian() -> None:
    lawyer = Peer(2, stage=5, can=("Помогу с юридическими вопросами",), need=("Афиша",))
    s = suggestion(ME, lawyer)
    renderer = Renderer(globals_={"catalog": get_catalog()})
    text = renderer.bind("ru")("peers/list.j2", shown=[{"peer": lawyer, "title": None, "s": s}])
    assert (
        "Вам нужно то, что они могут: «Юридическая консультация по регистрации НКО» ↔ "
        "«Помогу с юридическими вопросами»" in text
    )
    assert "Им нужно то, что можете вы: «Афиша» ↔ «Дизайн афиш и листовок»" in text
    assert "Этап 5" in text
