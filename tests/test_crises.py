"""The seed's chain of crisis reactions: where a team is, what usually comes next."""

from __future__ import annotations

from bot.content import CONTENT_DIR, load_catalog
from bot.domain.crises import ChainPosition, position
from bot.ui.render import Renderer

CHAIN = ["rush", "push", "sabotage", "dances", "repression", "morning"]


def test_the_furthest_ticked_reaction_places_the_team() -> None:
    assert position(CHAIN, set()) is None
    assert position(CHAIN, {"not_in_the_chain"}) is None
    assert position(CHAIN, {"rush"}) == ChainPosition(1, 6, "rush", "push")
    # ticks need not be contiguous: the furthest one counts
    assert position(CHAIN, {"rush", "sabotage", "x"}) == ChainPosition(3, 6, "sabotage", "dances")
    last = position(CHAIN, {"push", "morning"})
    assert last == ChainPosition(6, 6, "morning", None)
    assert last is not None
    assert last.at_the_table


def test_the_catalog_chain_says_how_to_reach_the_table_sooner_but_at_the_table() -> None:
    chain = load_catalog(CONTENT_DIR).crisis_reactions
    assert [r.code for r in chain][-1] == "hard_morning"  # the negotiating table is last
    for reaction in chain[:-1]:
        assert reaction.sooner is not None, reaction.code
        assert reaction.sooner.ru
        assert reaction.sooner.en
    assert chain[-1].sooner is None


def test_at_the_table_the_advice_says_so_in_both_languages() -> None:
    chain = load_catalog(CONTENT_DIR).crisis_reactions
    last = chain[-1]
    at = position([r.code for r in chain], {last.code})
    for locale, expected in (
        ("ru", "Вы на последнем шаге цепочки — за столом переговоров."),
        ("en", "You are at the last step of the chain, the negotiating table"),
    ):
        text = Renderer().bind(locale)(
            "diagnosis/advice.j2", reactions=[last], at=at, current=last, next=None
        )
        assert expected in text
        assert last.advice.get(locale)[:30] in text
        assert "Что обычно бывает дальше" not in text
