"""The planner's shortcuts give what the plain rules give: the batched volunteer matching
(`DigestOpportunities`) picks what `opportunities_for` picks, users with equal keys get equal
picks, and a digest composed of separately rendered sections is the template's own text."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.content import get_catalog
from bot.domain import opportunities as rules
from bot.domain.opportunities import Listing, Opportunity, VolunteerFit
from bot.domain.windows import Occurrence
from bot.services.catalogs import ArticleView, GrantView, Plain
from bot.services.pushes import DueGrant, Planner, _Contents, _Part, _Tick
from bot.services.volunteering import DigestOpportunities
from bot.ui.render import Renderer

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday
ZONES = ("Europe/Moscow", "Asia/Novosibirsk", "Europe/Kaliningrad", "Asia/Kamchatka")
REGIONS = ("mow", "nvs", "kgd", None)
TOPICS = ("culture", "social_services", "prevention")
WORDS = ("фотограф", "ремонт", "готовим", "учим детей", "музыка", "перевод")


def _opportunity(i: int, draw: Any) -> Listing:
    starts = NOW + timedelta(hours=draw(st.integers(-5, 24 * 20)))
    online = draw(st.booleans())
    words = draw(st.lists(st.sampled_from(WORDS), max_size=2))
    opp = Opportunity(
        id=i,
        title=f"Помощь {' '.join(words)}",
        description=draw(st.sampled_from(("Нужны люди.", "Ждём волонтёров: " + " ".join(words)))),
        topic=draw(st.sampled_from(TOPICS)),
        place=None if online else draw(st.sampled_from(("ул. Ленина, 1", "Томск, ул. Мира, 2"))),
        link="https://example.org/meet" if online else None,
        region=None if online else draw(st.sampled_from(REGIONS)),
        timezone="Europe/Moscow",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        capacity=draw(st.sampled_from((None, 1, 3))),
        signup_until=None,
        contact=None,
        status=draw(st.sampled_from(("open", "open", "open", "closed", "cancelled"))),
        created_by=1,
        created_at=NOW,
    )
    return Listing(opp, confirmed=draw(st.integers(0, 3)))


@st.composite
def listings(draw: Any) -> list[Listing]:
    return [_opportunity(i, draw) for i in range(1, draw(st.integers(0, 12)) + 1)]


fits = st.builds(
    VolunteerFit,
    timezone=st.sampled_from(ZONES),
    region=st.sampled_from(REGIONS),
    topics=st.frozensets(st.sampled_from((*TOPICS, "publishing"))),
    skills=st.lists(st.sampled_from((*WORDS, "шить", "водитель")), max_size=3).map(tuple),
    availability=st.frozensets(st.sampled_from(rules.AVAILABILITY)),
    taken=st.frozensets(st.integers(1, 12), max_size=3),
    reach=st.sampled_from((None, *rules.REACH)),
    city=st.sampled_from((None, "Томск", "Северск")),
)


@settings(max_examples=300, deadline=None)
@given(listings(), fits, fits)
def test_batched_matching_picks_what_the_rule_picks(
    found: list[Listing], fit: VolunteerFit, other: VolunteerFit
) -> None:
    matcher = DigestOpportunities(found, NOW)
    for limit in (1, 3):
        assert matcher.pick(fit, limit) == rules.opportunities_for(fit, found, NOW, limit=limit)
    if matcher.key(fit) == matcher.key(other):
        assert matcher.pick(fit) == matcher.pick(other)


def test_volunteers_with_equal_keys_share_one_answer() -> None:
    river = _fixed(1, region="mow", topic="culture")
    online = _fixed(2, region=None, place=None, link="https://example.org/x")
    matcher = DigestOpportunities([Listing(river), Listing(online)], NOW)
    a = VolunteerFit(timezone="Europe/Moscow", region="tam", topics=frozenset({"culture"}))
    b = a._replace(region="bel", topics=frozenset({"culture", "publishing"}))
    assert matcher.key(a) == matcher.key(b)  # regions with no listings, a topic no one has
    assert matcher.pick(a) == matcher.pick(b) == [Listing(online)]  # the river is out of reach
    assert matcher.key(a) != matcher.key(a._replace(region="mow"))


def _fixed(i: int, **changes: Any) -> Opportunity:
    starts = NOW + timedelta(days=3)
    base = Opportunity(
        id=i, title="Уборка берега", description="Собираем мусор.", topic="culture",
        place="Набережная, 1", link=None, region="mow", timezone="Europe/Moscow",
        starts_at=starts, ends_at=starts + timedelta(hours=2), capacity=None,
        signup_until=None, contact=None, status="open", created_by=1, created_at=NOW,
    )  # fmt: skip
    return replace(base, **changes)


def _planner() -> Planner:
    renderer = Renderer(globals_={"catalog": get_catalog(), "settings": None})
    nothing = cast(Any, None)
    return Planner(
        nothing, nothing, get_catalog(), renderer, nothing, nothing,
        default_timezone="Europe/Moscow", reminder_days=(14, 3, 1),
    )  # fmt: skip


def test_a_digest_of_sections_is_the_templates_digest() -> None:
    planner = _planner()
    tick = _Tick(NOW, [], [], {}, {}, {}, None)
    grant = GrantView(
        key="G1", title=Plain("Грант «Доброе дело» <для всех>"), organiser=Plain("Фонд"),
        site="", link="https://example.org/g", who=Plain("НКО"), amount=None, note=None,
        topics=(), phases=(), region=None, timezone="Europe/Moscow", windows=(),
    )  # fmt: skip
    soon = Occurrence(NOW - timedelta(days=3), NOW + timedelta(days=10))
    later = Occurrence(NOW + timedelta(days=5), NOW + timedelta(days=40))
    shown: tuple[DueGrant, ...] = ((grant, soon, 10, True), (grant, later, 40, False))
    grants = _Part(shown)
    measures: _Part[tuple[str, ...]] = _Part(("Консультации юриста", "Помещение & зал"))
    article = ArticleView(
        key="A1", title=Plain("Как найти партнёров"), summary=Plain("Коротко: <b>что</b> делать"),
        link="https://example.org/a", source="", topics=(), stages=(4,),
    )  # fmt: skip
    listings: _Part[tuple[Listing, ...]] = _Part(
        (Listing(_fixed(1)), Listing(_fixed(2, title="Ремонт <в> приюте & «ко»")))
    )
    empty: _Part[tuple[Any, ...]] = _Part(())
    for locale, tz, weekly in itertools.product(("ru", "en"), ZONES[:2], (True, False)):
        for g, m, a, o in itertools.product((False, True), repeat=4):
            if not (g or m or a or o):
                continue  # nothing to say: no digest
            shown_grants, shown_measures = (grants if g else empty), (measures if m else empty)
            shown_article, shown_listings = (article if a else None), (listings if o else empty)
            tick.checks = 0  # composed only, never compared inside
            tick.opportunity_checks = 0  # opportunities formatted without Jinja, unchecked
            contents = _Contents(
                locale, tz, weekly, shown_grants, shown_measures, shown_article, shown_listings
            )
            whole = planner._render(
                locale,
                tz,
                weekly,
                grants=shown_grants.value,
                measures=shown_measures.value,
                article=shown_article,
                opportunities=shown_listings.value,
            )
            composed = "".join(text for text, _ in planner._text(tick, contents))
            assert composed == whole, (locale, tz, weekly, g, m, a, o)
            # The payload joins the sections' escaped pieces: the JSON of the whole text.
            encoded = planner._payload(tick, contents).json
            payload = json.loads(encoded)
            assert payload["text"] == whole
            assert encoded == json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
            links = [b.get("url") for row in payload["buttons"] for b in row]
            assert links.count(article.link) == a
            assert len(payload["buttons"]) == 1 + g + a + o  # and "unsubscribe", always
            assert tick.compose
            assert tick.plain_opportunities


def test_opportunities_that_stop_matching_the_template_go_back_to_jinja(caplog: Any) -> None:
    planner = _planner()
    tick = _Tick(NOW, [], [], {}, {}, {}, None)
    listings: _Part[tuple[Listing, ...]] = _Part((Listing(_fixed(1)),))
    empty: _Part[tuple[Any, ...]] = _Part(())
    contents = _Contents("ru", "Europe/Moscow", True, empty, empty, None, listings)
    whole = planner._render("ru", "Europe/Moscow", True, opportunities=listings.value)
    planner._opportunities_section = lambda *args: "\n\nсломано"  # type: ignore[method-assign]
    assert "".join(text for text, _ in planner._text(tick, contents)) == whole
    assert not tick.plain_opportunities
    assert "differ from the template" in caplog.text
