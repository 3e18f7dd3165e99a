"""The brief for a municipality below the bot: the volunteering counts it cites (SQL), the rows of
its figures table, the operator who signs it, and the PDF — one A4 page with the fonts embedded,
two pages at most however long, the same bytes for the same brief."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import insert

from bot.config import Settings
from bot.content import get_catalog
from bot.infra.clock import ManualClock
from bot.infra.db import make_engine, migrate
from bot.services.brief import BriefService
from bot.services.stats import StatsService, Territory
from bot.storage import stats as repo
from bot.storage.stats import VolunteeringCounts
from bot.storage.tables import opportunities, signups, users
from bot.ui.brief import Brief, Definition, Figure, render_brief
from bot.ui.render import Renderer

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
CATALOG = get_catalog()
NONE = VolunteeringCounts(held=0, upcoming=0, volunteers=0, attended=0)
A4 = (595.28, 841.89)  # points


def text_of(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), " ".join(" ".join(p.extract_text() for p in reader.pages).split())


@pytest.fixture
def tr():
    return Renderer().bind("ru")


def brief(**changes) -> Brief:
    base = Brief(
        locale="ru",
        title="Зачем поддерживать социальные инициативы",
        addressee="Записка для администрации муниципального образования · Томская область",
        sender="Ресурсный центр «Томск»",
        date="26.11.2026",
        definitions_title=CATALOG.titles["interaction"].ru,
        definitions=tuple(Definition(d.term.ru, d.text.ru) for d in CATALOG.definitions),
        credit="Определения и перечень — по докладу С. Пономарёва",
        points_title=CATALOG.titles["authority_benefits"].ru,
        points=tuple(b.name.ru for b in CATALOG.authority_benefits),
        figures_title="Территория в цифрах",
        figures=(
            Figure("Участники, давшие согласие", "12"),
            Figure("Чаще всего названные нужды", "Культура — 5\nСоцуслуги — 3\nЭкология — 1"),
        ),
        no_figures="Пока в боте нет данных по вашей территории.",
        figures_note="По данным бота «Опора» на 26.11.2026.",
        footer="Подготовлено в боте «Опора»",
        created=NOW,
        filename="opora-brief-2026-11-26.pdf",
    )
    return replace(base, **changes)


# ------------------------------------------------------------------ the PDF


def test_the_brief_is_one_a4_page_with_the_fonts_embedded() -> None:
    pdf = render_brief(brief())
    assert pdf.startswith(b"%PDF")
    assert pdf.count(b"/FontFile2") == 2  # regular and bold, both embedded
    pages, text = text_of(pdf)
    assert pages == 1
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4, abs=1)
    assert "Зачем поддерживать социальные инициативы" in text
    assert "Томская область" in text
    assert "Ресурсный центр «Томск»" in text
    assert "Культура — 5" in text
    for benefit in CATALOG.authority_benefits:
        assert " ".join(benefit.name.ru.split()) in text
    assert render_brief(brief()) == pdf  # deterministic


def test_no_figures_yet_is_said_in_words() -> None:
    pages, text = text_of(render_brief(brief(figures=())))
    assert pages == 1
    assert "Пока в боте нет данных по вашей территории." in text
    assert "Участники" not in text


def test_an_unnamed_operator_leaves_the_line_out() -> None:
    _, text = text_of(render_brief(brief(sender="")))
    assert "Ресурсный центр" not in text
    assert "26.11.2026" in text


def test_every_figure_the_service_gives_still_fits_one_page(tr) -> None:
    """The longest table BriefService makes: every row, the longest labels it may have."""
    topics = sorted((tr.loc(t.short) for t in CATALOG.topics), key=len)[-3:]
    named = sorted((tr.loc(p.name) for g in CATALOG.problem_groups for p in g.items), key=len)
    full = territory(
        consented=1234,
        roles={"activist": 1000, "volunteer": 234},
        with_stage=900,
        phases=(("Зарождение", 500), ("Формализация", 300), ("Экспансия", 100)),
        needs=tuple((label, 10) for label in topics),
        problems=tuple((label, 10) for label in named[-3:]),
        volunteering=VolunteeringCounts(held=40, upcoming=5, volunteers=300, attended=250),
    )
    rows = BriefService.figures(tr, full)
    assert len(rows) == 9
    long_sender = "Автономная некоммерческая организация «Ресурсный центр " * 3 + "»"
    pages, text = text_of(render_brief(brief(figures=rows, sender=long_sender)))
    assert pages == 1
    assert "посещений, отмеченных организаторами: 250" in text


def test_a_brief_too_long_for_one_page_takes_two_numbered() -> None:
    many = tuple(Figure(f"Строка {n}", "первая\nвторая\nтретья") for n in range(16))
    pages, text = text_of(render_brief(brief(figures=many)))
    assert pages == 2
    assert "Строка 15" in text
    assert "1/2" in text
    assert "2/2" in text


# ------------------------------------------------------------------ the figures


def territory(**changes) -> Territory:
    base = Territory(
        day=NOW.date(),
        consented=0,
        roles={},
        with_stage=0,
        phases=(("Зарождение", 0), ("Формализация", 0), ("Экспансия", 0)),
        needs=(),
        problems=(),
        volunteering=NONE,
    )
    return replace(base, **changes)


def test_an_area_with_only_coordinators_is_empty() -> None:
    assert territory(consented=2, roles={"coordinator": 2}).empty
    assert not territory(consented=1, roles={"activist": 1}).empty
    assert not territory(volunteering=replace(NONE, upcoming=1)).empty


def test_figures_leave_out_what_the_bot_does_not_know(tr) -> None:
    rows = BriefService.figures(tr, territory(consented=3, roles={"activist": 3}))
    assert [(f.label, f.value) for f in rows] == [
        ("Участники, давшие согласие", "3"),
        ("Активисты", "3"),
        ("Добровольцы", "0"),
    ]
    rows = BriefService.figures(
        tr,
        territory(
            consented=3,
            roles={"activist": 2, "volunteer": 1},
            with_stage=2,
            phases=(("Зарождение", 1), ("Формализация", 0), ("Экспансия", 1)),
            needs=(("Культура", 2),),
            problems=(("Нехватка средств", 2), ("Высокие издержки деятельности", 1)),
            volunteering=VolunteeringCounts(held=2, upcoming=1, volunteers=4, attended=0),
        ),
    )
    found = {f.label: f.value for f in rows}
    phases = found["Проекты по фазам развития"].replace("\u00a0", " ")
    assert phases == "Зарождение — 1 · Формализация — 0 · Экспансия — 1"
    assert found["Чаще всего отмеченные проблемы проектов"] == (
        "Нехватка средств — 2\nВысокие издержки деятельности — 1"
    )
    assert found["Добровольческие дела"] == "проведено 2 · впереди 1"
    assert found["Добровольцы на этих делах"] == "4 с подтверждённым местом"  # nobody marked yet


def test_the_settings_stand_in_is_not_an_operator_to_sign_with() -> None:
    clock = ManualClock(NOW)

    def service(**settings) -> BriefService:
        config = Settings(_env_file=None, **settings)
        stats = StatsService(None, clock, CATALOG, config)  # type: ignore[arg-type]
        return BriefService(stats, CATALOG, config, clock)

    assert service().operator() == ""
    assert service(operator_name="  АНО «Вместе»\n").operator() == "АНО «Вместе»"


# ------------------------------------------------------------------ the SQL


@pytest.fixture
async def engine(database_url):
    engine = make_engine(database_url)
    await migrate(engine)
    yield engine
    await engine.dispose()


async def test_volunteering_counts_leave_out_cancelled_opportunities(engine) -> None:
    async with engine.begin() as conn:
        assert await repo.volunteering_counts(conn, NOW) == NONE
        await conn.execute(
            insert(users),
            [{"id": uid, "created_at": NOW, "updated_at": NOW} for uid in (1, 2, 3, 4)],
        )

        async def opportunity(starts: datetime, status: str = "open") -> int:
            result = await conn.execute(
                insert(opportunities)
                .values(
                    title="…",
                    description="…",
                    topic="culture",
                    timezone="Europe/Moscow",
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=3),
                    status=status,
                    created_by=1,
                    created_at=NOW,
                    updated_at=NOW,
                )
                .returning(opportunities.c.id)
            )
            return int(result.scalar_one())

        held = await opportunity(NOW - timedelta(days=3))
        closed = await opportunity(NOW - timedelta(days=1), "closed")  # held all the same
        ahead = await opportunity(NOW + timedelta(days=2))
        cancelled = await opportunity(NOW + timedelta(days=1), "cancelled")
        rows = [
            (held, 1, "confirmed", True),
            (held, 2, "confirmed", False),  # a no-show
            (closed, 1, "confirmed", True),  # the same person again
            (ahead, 3, "waiting", None),  # not a place
            (ahead, 4, "cancelled", None),
            (cancelled, 3, "confirmed", None),
        ]
        await conn.execute(
            insert(signups),
            [
                {
                    "opportunity_id": o,
                    "user_id": u,
                    "status": status,
                    "position": n,
                    "created_at": NOW,
                    "status_at": NOW,
                    "attended": attended,
                }
                for n, (o, u, status, attended) in enumerate(rows)
            ],
        )
        found = await repo.volunteering_counts(conn, NOW)
    assert found == VolunteeringCounts(held=2, upcoming=1, volunteers=2, attended=2)
