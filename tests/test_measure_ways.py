"""A measure's card says where to get it: the region's local offers first (picked by the pure
domain), then the nationwide ways of the catalog, each with its first step."""

from __future__ import annotations

import pytest

from bot.content import Catalog, get_catalog
from bot.domain.csvio import MeasureItem
from bot.domain.matching import Candidate, local_offers
from bot.services.measures import Card
from bot.ui.render import MESSAGE_LIMIT, Renderer, plain_text, visible_length

CATALOG = get_catalog()


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


def render(locale: str, card: Card, catalog: Catalog = CATALOG) -> str:
    return Renderer().bind(locale)("measures/card.j2", card=card, catalog=catalog)


def test_card_lists_local_offers_above_the_nationwide_ways() -> None:
    offer = MeasureItem(
        title="Грант мэрии",
        description="—",
        type="financial",
        contact="+7 383 000-00-00",
        region="nvs",
        id=7,
    )
    text = plain_text(
        render("ru", Card(None, matrix=CATALOG.measure("subsidies"), locals=(offer,)))
    )
    assert text.index("📍 У вас в регионе") < text.index("• Грант мэрии: +7 383 000-00-00")
    assert text.index("• Грант мэрии") < text.index("🌐 По всей стране")
    first, second = CATALOG.measure("subsidies").ways
    assert f"1. {first.name.ru} · {first.site}\n{first.gives.ru}\n" in text
    assert f"Кому: {first.who.ru}\n👉 {first.first_step.ru}\nпроверено 07.12.2026" in text
    assert second.checked is None
    assert text.endswith(f"👉 {second.first_step.ru}")  # nothing said about checking it
    assert text.count("проверено") == 1
    without = plain_text(render("ru", Card(None, matrix=CATALOG.measure("subsidies"))))
    assert "У вас в регионе" not in without


def test_card_without_a_nationwide_way_says_why_and_whom_to_ask() -> None:
    concession = CATALOG.measure("concession")
    assert concession.no_way_reason is not None
    text = plain_text(render("ru", Card(None, matrix=concession)))
    assert f"🌐 По всей стране\n{concession.no_way_reason.ru}\n" in text
    assert "👉 Спросите координатора «Опоры» в вашем регионе, что есть на месте." in text
    english = plain_text(render("en", Card(None, matrix=concession)))
    assert "👉 Ask the “Opora” coordinator of your region what can be had locally." in english


def test_a_way_without_a_link_says_why() -> None:
    [way] = CATALOG.measure("media_mailings").ways
    assert way.no_link is not None
    text = plain_text(render("ru", Card(None, matrix=CATALOG.measure("media_mailings"))))
    assert f"1. {way.name.ru}\n" in text  # no site after the name
    assert way.no_link.ru in text


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_every_card_fits_one_message(locale: str) -> None:
    offers = tuple(
        MeasureItem(
            title="Местная мера с довольно длинным названием " + str(i),
            description="—",
            type="financial",
            contact="+7 383 000-00-00, help@example.org",
            id=i,
        )
        for i in range(3)
    )
    cards = [Card(None, matrix=m, locals=offers) for m in CATALOG.measures]
    cards += [Card(None, additional=m, locals=offers) for m in CATALOG.additional_measures]
    for card in cards:
        text = render(locale, card)
        assert visible_length(text) <= 1500 < MESSAGE_LIMIT  # about a phone screen or two
        measure = card.matrix or card.additional
        assert measure is not None
        for way in measure.ways:
            assert way.name.get(locale) in plain_text(text)
            assert way.first_step.get(locale) in plain_text(text)
