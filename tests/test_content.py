"""The content catalog holds every list of the seed, exactly, and refuses broken files."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from bot.content import (
    CONTENT_DIR,
    AdditionalMeasure,
    Catalog,
    ContentError,
    L10n,
    Measure,
    UnknownCodeError,
    get_catalog,
    load_catalog,
)

# ── the seed's lists, copied from seed/000_922927fa6ae450e2.txt ──────────────────────────────

SEED_DEFINITIONS = {
    "Взаимодействие": "согласование интересов органа власти с общественными инициативами "
    "различного уровня для гармоничного развития общества.",
    "Управление взаимодействием": "планируемая систематическая деятельность по созданию условий "
    "и налаживанию отношений с общественными инициативами. Полномасштабный управленческий "
    "процесс.",
}

SEED_PROBLEMS_RUNNING = [
    "Высокие издержки деятельности;",
    "Низкий уровень качества услуг;",
    "Нехватка средств;",
    "Слабый менеджмент и персонал;",
    "Низкая технологичность работы;",
    "Несовременная внутренняя культура;",
    "Отсутствие кооперации;",
]
SEED_PROBLEMS_NEW = [
    "Недостаток инициативы;",
    "Обременительная система регистрации;",
    "Дефицит стартовых ресурсов;",
    "Нехватка управленческих компетенций;",
    "Не востребованность со стороны общества;",
    "Отсутствие механизмов поддержки;",
    "Высокие риски и уровень неопределенности.",
]

SEED_BENEFITS = [
    "Активисты обладают уникальным знанием о проблемах и потребностях населения,",
    "Они отлично считывают общественные настроения, не хуже социологов,",
    "Они толкователи смыслов и интерпретаторы властных инициатив,",
    "Активисты обладают целым набором уникальных организаторских мобилизационных компетенций,",
    "Активисты осуществляют функции внешнего контроля, независимого аудита,",
    "Они берут на себя часть ответственности за общественное благополучие, решают местные "
    "социальные проблемы, формируют имидж территории,",
    "Привлекают ресурсы в социальную сферу (через гранты, пожертвования, инвестиции, "
    "добровольчество),",
    "Способны предоставлять информацию, рекомендации, аргументы, экспертную поддержку,",
    "Исправляют провалы рынка и государства, обеспечивают индивидуальные решения для "
    "нестандартных случаев,",
    "Создают пространство и возможности разной самореализации и успешности.",
]

SEED_TOPICS = [
    "Обеспечение доступа к качественным социальным услугам, услугам здравоохранения, культуры и "
    "спорта и т.д.",
    "Развитие предпринимательства и самозанятости;",
    "Повышение уровня жизни населения;",
    "Снижение социальной напряженности, конфликтности;",
    "Производство и (или) реализация медицинской техники, для профилактики инвалидности или "
    "реабилитации инвалидов;",
    "Обеспечение культурно-просветительской деятельности (театры, школы-студии, музыкальные "
    "учреждения, творческие мастерские);",
    "Предоставление образовательных услуг группам граждан, имеющим ограниченный доступ к "
    "образовательным услугам;",
    "Содействие вовлечению в социально активную деятельность социально незащищенных групп "
    "граждан (инвалиды, сироты, выпускники детских домов, пожилые люди, люди, страдающие "
    "наркоманией и алкоголизмом);",
    "Профилактика социально опасных форм поведения граждан;",
    "Выпуск периодических печатных изданий, а также книжной продукции, связанной с "
    "образованием, наукой и культурой.",
]

SEED_IKIGAI = ["Чего хотят", "Что могут", "Что нужно"]

SEED_CONDITIONS = [
    "Наличия политической воли в территории, дальнего горизонта планирования;",
    "Степени доверия между органами власти и активистами, сложившимися практиками и атмосферой "
    "взаимодействия;",
    "Наличия в органах власти подготовленных специалистов, мотивированных и обученных работать "
    "с социальными инициативами;",
    "Количества и качества, а также тематики социальных инициатив;",
    "Наличия источников финансирования и материально-технической базы для поддержки социальных "
    "инициатив;",
    "Отношением общества к местным низовым инициативам.",
]

# (number, name, content, factors, risks); the seed's cells run items together with spaces
SEED_STAGES = [
    (
        1,
        "Ощущение проблемы",
        "Очаги напряжения и беспокойства, поиск идей и формулировок",
        ["Совместная боль", "Свободное время", "Человеческий капитал"],
        ["Отложенный спрос на проблему"],
    ),
    (
        2,
        "Первый круг",
        "Привлечение «озадаченных», хаотические, мерцающие коммуникации",
        ["Место сбора", "Навыки диалога", "Организатор"],
        ["Разговоры без результата"],
    ),
    (
        3,
        "Пляжный волейбол",
        "Деятельность – хобби, необязательность, выработка первых правил игры",
        ["Личные ресурсы участников", "Сила первого лица", "Лояльность внешнего мира"],
        ["Высокая смертность"],
    ),
    (
        4,
        "Формализация",
        "Команда, делегирование, санкции, управление ресурсами, наемники",
        ["Сила правил", "Корпоративная культура"],
        ["Начало конца лидера"],
    ),
    (
        5,
        "Экспансия",
        "Ориентация на результаты, новые направления, расширение влияния",
        ["Экспертность", "Масштабирование", "Стратегия"],
        ["Башня из слоновой кости"],
    ),
    (
        6,
        "Децентрализация",
        "Новые лидеры, новые точки роста, коллегиальный стиль",
        ["Идеология", "Партнерство", "Творчество"],
        ["Рейдерство"],
    ),
    (
        7,
        "Финиш",
        "Трансформация или смерть, переход в бизнес или во власть, новый виток",
        ["Автоматизация опыта", "Искусство обнуления"],
        ["Забвение"],
    ),
]

SEED_REACTIONS = {
    "Лавина авралов": "Количество задач начинает превышать возможности организации",
    "Давай - давай": "Попытка решить проблемы за счет сверхэксплуатации сотрудников",
    "Тихий саботаж": "Сотрудники звереют, аврал продолжается",
    "Танцы с бубном": "Все средства хороши – корпоративы, ярмарки идей и т.д.",
    "Репрессии": "Угрозы, лишения премий, перестановки, увольнения",
    "Тяжелое утро": "Измотанные стороны садятся за стол переговоров",
}

SEED_PHASES = {"Зарождение": [1, 2, 3], "Формализация": [4], "Экспансия": [5, 6, 7]}
SEED_TYPES = ["Финансовая", "Имущественная", "Информационная", "Консультационная", "Кадровая"]
# type → the three cells Зарождение, Формализация, Экспансия, split into items
SEED_MATRIX = {
    "Финансовая": [
        ["Гранты", "Налоговые льготы", "Краудфандинг"],
        ["Субсидии", "Налоговые льготы", "Фандрайзинг"],
        ["Государственный/муниципальный заказ", "Аутсорсинг"],
    ],
    "Имущественная": [
        ["Помещения для мероприятий", "Коворкинг", "Доступ в интернет, техника"],
        ["Безвозмездная аренда", "Доступ в интернет, техника", "Форумы, конференции"],
        ["Льготная оплата", "Концессия"],
    ],
    "Информационная": [
        ["Пресс-релизы, анонсы", "Рассылки в СМИ", "Конкурсы"],
        ["Пресс-релизы, анонсы", "Печать, квоты", "Создание баз данных"],
        ["Социальная реклама", "Печать", "Методические издания"],
    ],
    "Консультационная": [
        ["Менторство, наставничество", "Обучение"],
        ["Консультации юриста, бухгалтера, менеджера", "Интернет-сопровождение"],
        ["Участие в совещательных органах", "Партнерство с властью"],
    ],
    "Кадровая": [
        ["Развитие добровольчества", "Семинары, конференции", "Конкурсы"],
        ["Помощь в подборе персонала", "Повышение квалификации"],
        ["Программы лидерства", "Стажировки", "Обмен опытом"],
    ],
}

SEED_ADDITIONAL = [
    "Ресурсный центр, центр инноваций социальной сферы",
    "Социальный информационный портал",
    "Социальный бюллетень",
    "Библиотека лучших практик, методические издания",
    "Форумы, ярмарки, слеты",
    "Ваучеры на профессиональный консалтинг",
    "Кадровое социальное агентство",
    "Центр повышения квалификации, бизнес-инкубатор",
    "Микрозаймы и помощь в привлечении средств",
    "Центр развития добровольчества",
    "Клуб или ассоциация активистов",
    "Исследования и аналитика для социальных инициатив",
    "Переговорные площадки и рабочие группы",
]


def norm(text: str) -> str:
    """Compare ignoring whitespace, case, ё/е, the kind of quotes and dashes, list punctuation."""
    text = text.casefold().replace("ё", "е")
    text = re.sub(r"[«»“”„\"']", '"', text)
    text = re.sub(r"[‐‑–—-]", "-", text)
    return re.sub(r"\s+", "", text).rstrip(";,.")


def norms(texts: Any) -> list[str]:
    return [norm(t) for t in texts]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CONTENT_DIR)


# ── every item of every list of the seed is there ─────────────────────────────────────────────


def test_definitions(catalog: Catalog) -> None:
    assert [(norm(d.term.ru), norm(d.text.ru)) for d in catalog.definitions] == [
        (norm(term), norm(text)) for term, text in SEED_DEFINITIONS.items()
    ]
    assert [d.code for d in catalog.definitions] == ["interaction", "interaction_management"]


def test_project_problems(catalog: Catalog) -> None:
    running, new = catalog.problem_groups
    assert (running.code, new.code) == ("running", "new")
    assert (running.name.ru, new.name.ru) == ("У действующих проектов", "У новых инициатив")
    assert norms(p.name.ru for p in running.items) == norms(SEED_PROBLEMS_RUNNING)
    assert norms(p.name.ru for p in new.items) == norms(SEED_PROBLEMS_NEW)


def test_authority_benefits(catalog: Catalog) -> None:
    assert norms(b.name.ru for b in catalog.authority_benefits) == norms(SEED_BENEFITS)


def test_topics(catalog: Catalog) -> None:
    assert norms(t.name.ru for t in catalog.topics) == norms(SEED_TOPICS)
    for topic in catalog.topics:
        assert 0 < len(topic.short.ru) <= 28
        assert 0 < len(topic.short.en) <= 28


def test_ikigai(catalog: Catalog) -> None:
    ikigai = catalog.ikigai
    assert [c.code for c in ikigai.columns] == ["want", "can", "need"]
    assert norms(c.title.ru for c in ikigai.columns) == norms(SEED_IKIGAI)
    assert ikigai.max_entries == 3
    assert ikigai.column("need").title.ru == "Что нужно"


def test_support_conditions(catalog: Catalog) -> None:
    # The seed's two slips of case are shown corrected (the list continues «зависят от:»).
    corrected = [
        t.replace(
            "сложившимися практиками и атмосферой", "сложившихся практик и атмосферы"
        ).replace("Отношением", "Отношения")
        for t in SEED_CONDITIONS
    ]
    assert corrected != SEED_CONDITIONS
    assert norms(c.name.ru for c in catalog.support_conditions) == norms(corrected)
    for condition in catalog.support_conditions:
        assert 0 < len(condition.short.ru) <= 40
        assert 0 < len(condition.short.en) <= 40


def test_stages(catalog: Catalog) -> None:
    assert len(catalog.stages) == len(SEED_STAGES) == 7
    for stage, (number, name, content, factors, risks) in zip(
        catalog.stages, SEED_STAGES, strict=True
    ):
        assert stage.number == number
        assert catalog.stage_by_number(number) is stage
        assert norm(stage.name.ru) == norm(name)
        assert norm(stage.content.ru) == norm(content)
        assert norms(f.name.ru for f in stage.factors) == norms(factors)
        assert norms(r.name.ru for r in stage.risks) == norms(risks)
        assert len(stage.next_step.ru) <= 300
        assert len(stage.next_step.en) <= 300
    assert [s.code for s in catalog.stages] == [
        "problem_sensed",
        "first_circle",
        "beach_volleyball",
        "formalization",
        "expansion",
        "decentralization",
        "finish",
    ]


def test_crisis_reactions(catalog: Catalog) -> None:
    got = [(norm(r.name.ru), norm(r.description.ru)) for r in catalog.crisis_reactions]
    assert got == [(norm(name), norm(text)) for name, text in SEED_REACTIONS.items()]
    for reaction in catalog.crisis_reactions:
        assert len(reaction.advice.ru) <= 400
        assert len(reaction.advice.en) <= 400


def test_phases_and_types(catalog: Catalog) -> None:
    assert {p.name.ru: list(p.stage_numbers) for p in catalog.phases} == SEED_PHASES
    assert [p.code for p in catalog.phases] == ["origin", "formalization", "expansion"]
    assert [t.name.ru for t in catalog.measure_types] == SEED_TYPES
    assert [t.code for t in catalog.measure_types] == [
        "financial",
        "property",
        "information",
        "consulting",
        "personnel",
    ]


def test_measure_matrix(catalog: Catalog) -> None:
    total = 0
    for mtype in catalog.measure_types:
        for phase, cell in zip(catalog.phases, SEED_MATRIX[mtype.name.ru], strict=True):
            items = catalog.measures_for(phase.code, mtype.code)
            assert norms(m.name.ru for m in items) == norms(cell), (phase.code, mtype.code)
            total += len(cell)
    assert len(catalog.measures) == total == 39


def test_additional_measures(catalog: Catalog) -> None:
    assert norms(m.name.ru for m in catalog.additional_measures) == norms(SEED_ADDITIONAL)
    known = {t.code for t in catalog.measure_types}
    for measure in catalog.additional_measures:
        assert set(measure.types) <= known


def test_counts_are_the_seeds(catalog: Catalog) -> None:
    assert len(catalog.definitions) == 2
    assert [len(g.items) for g in catalog.problem_groups] == [7, 7]
    assert len(catalog.authority_benefits) == 10
    assert len(catalog.topics) == 10
    assert len(catalog.ikigai.columns) == 3
    assert len(catalog.support_conditions) == 6
    assert len(catalog.stages) == 7
    assert sum(len(s.factors) for s in catalog.stages) == 19
    assert sum(len(s.risks) for s in catalog.stages) == 7
    assert len(catalog.crisis_reactions) == 6
    assert len(catalog.phases) == 3
    assert len(catalog.measure_types) == 5
    assert len(catalog.measures) == 39
    assert len(catalog.additional_measures) == 13


# ── codes, languages, cross-references ───────────────────────────────────────────────────────


def code_lists(catalog: Catalog) -> dict[str, list[str]]:
    return {
        "definitions": [d.code for d in catalog.definitions],
        "stages": [s.code for s in catalog.stages],
        "factors_and_risks": [
            *(f.code for s in catalog.stages for f in s.factors),
            *(r.code for s in catalog.stages for r in s.risks),
        ],
        "phases": [p.code for p in catalog.phases],
        "measure_types": [t.code for t in catalog.measure_types],
        "measures_and_additional": [m.code for m in catalog.measures]
        + [m.code for m in catalog.additional_measures],
        "crisis_reactions": [r.code for r in catalog.crisis_reactions],
        "problem_groups": [g.code for g in catalog.problem_groups],
        "problems": [p.code for g in catalog.problem_groups for p in g.items],
        "topics": [t.code for t in catalog.topics],
        "authority_benefits": [b.code for b in catalog.authority_benefits],
        "support_conditions": [c.code for c in catalog.support_conditions],
        "ikigai": [c.code for c in catalog.ikigai.columns],
    }


def test_codes_unique_ascii_snake_case(catalog: Catalog) -> None:
    for name, codes in code_lists(catalog).items():
        assert len(codes) == len(set(codes)), name
        for code in codes:
            assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", code), (name, code)
            assert len(code) <= 40


def walk_l10n(node: Any) -> Iterator[L10n]:
    if isinstance(node, L10n):
        yield node
    elif isinstance(node, BaseModel):
        for field in type(node).model_fields:
            yield from walk_l10n(getattr(node, field))
    elif isinstance(node, (tuple, list)):
        for item in node:
            yield from walk_l10n(item)
    elif isinstance(node, dict):
        for item in node.values():
            yield from walk_l10n(item)


def test_every_text_has_ru_and_en(catalog: Catalog) -> None:
    texts = list(walk_l10n(catalog))
    assert len(texts) > 250  # 258 texts when written
    for text in texts:
        assert text.ru.strip() == text.ru != ""
        assert text.en.strip() == text.en != ""
        assert not re.search(r"[а-яё]", text.en, re.IGNORECASE), text.en
        assert "  " not in text.ru
        assert "  " not in text.en


def test_phases_cover_stages_once(catalog: Catalog) -> None:
    numbers = sorted(n for p in catalog.phases for n in p.stage_numbers)
    assert numbers == [1, 2, 3, 4, 5, 6, 7]
    for stage in catalog.stages:
        assert stage.number in catalog.phase(stage.phase).stage_numbers
    assert [catalog.phase_of_stage(n).code for n in range(1, 8)] == [
        "origin",
        "origin",
        "origin",
        "formalization",
        "expansion",
        "expansion",
        "expansion",
    ]


def test_repeated_measures_have_distinct_codes(catalog: Catalog) -> None:
    by_name: dict[str, list[str]] = {}
    for m in catalog.measures:
        by_name.setdefault(m.name.ru, []).append(m.code)
    assert by_name["Налоговые льготы"] == ["tax_breaks_origin", "tax_breaks_formalization"]
    assert by_name["Пресс-релизы, анонсы"] == [
        "press_releases_origin",
        "press_releases_formalization",
    ]
    assert by_name["Доступ в интернет, техника"] == [
        "internet_equipment_origin",
        "internet_equipment_formalization",
    ]
    assert by_name["Конкурсы"] == ["contests_information", "contests_personnel"]


# ── the API ──────────────────────────────────────────────────────────────────────────────────


def test_lookups(catalog: Catalog) -> None:
    assert catalog.stage("first_circle").number == 2
    assert catalog.stage_by_number(4).code == "formalization"
    assert catalog.factor("shared_pain").name.ru == "Совместная боль"
    assert catalog.risk("ivory_tower").name.ru == "Башня из слоновой кости"
    assert catalog.measure("grants").phase == "origin"
    assert [m.code for m in catalog.measures_for("origin", "financial")] == [
        "grants",
        "tax_breaks_origin",
        "crowdfunding",
    ]
    assert len(catalog.measures_for("expansion")) == 12
    assert catalog.measure_type("personnel").name.ru == "Кадровая"
    assert catalog.additional_measure("consulting_vouchers").types == ("consulting", "financial")
    assert catalog.crisis_reaction("hard_morning").name.ru == "Тяжелое утро"
    assert catalog.problem_group("new").items[0].code == "lack_of_initiative"
    assert catalog.problem("no_cooperation").name.ru == "Отсутствие кооперации"
    assert catalog.topic("entrepreneurship").short.ru == "Предпринимательство"
    assert catalog.authority_benefit("public_sentiment").name.en
    assert catalog.support_condition("trust").short.ru
    assert catalog.definition("interaction").term.ru == "Взаимодействие"
    assert catalog.titles["topics"].ru == "Решаемые проблемы территорий"
    assert catalog.source.author.ru == "Сергей Пономарев"
    with pytest.raises(UnknownCodeError, match="unknown stage code 'nope'"):
        catalog.stage("nope")
    with pytest.raises(KeyError):
        catalog.stage_by_number(8)
    with pytest.raises(UnknownCodeError):
        catalog.measures_for("origin", "nope")
    with pytest.raises(UnknownCodeError):
        catalog.ikigai.column("nope")


def test_l10n_get() -> None:
    text = L10n(ru="Привет", en="Hello")
    assert text.get("ru") == "Привет"
    assert text.get("en") == "Hello"
    assert text.get("en-US") == "Hello"
    assert text.get("EN_gb") == "Hello"
    assert text.get("de") == "Привет"
    assert text.get("") == "Привет"
    assert text.get(None) == "Привет"
    with pytest.raises(ValidationError):
        L10n(ru="Привет", en=" ")


def test_models_are_frozen(catalog: Catalog) -> None:
    with pytest.raises(ValidationError):
        catalog.stages[0].name = L10n(ru="x", en="x")  # type: ignore[misc]


def test_get_catalog_is_cached() -> None:
    assert get_catalog() is get_catalog()
    assert len(get_catalog().stages) == 7
    assert Path(__file__).resolve().parent.parent / "content" == CONTENT_DIR


# ── broken files stop loading, naming file, entry and reason ──────────────────────────────────


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return Path(shutil.copytree(CONTENT_DIR, tmp_path / "content"))


def edit(directory: Path, name: str, change: Callable[[Any], None]) -> None:
    path = directory / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def load_error(directory: Path) -> str:
    with pytest.raises(ContentError) as info:
        load_catalog(directory)
    return str(info.value)


def test_copy_loads(content: Path) -> None:
    edit(content, "stages.yaml", lambda data: None)  # a YAML round trip changes nothing
    assert load_catalog(content) == load_catalog(CONTENT_DIR)


def test_missing_en(content: Path) -> None:
    edit(content, "stages.yaml", lambda d: d["items"][1]["name"].pop("en"))
    message = load_error(content)
    assert "stages.yaml: entry 'first_circle' (#2): name.en: Field required" in message


def test_empty_ru_in_nested_entry(content: Path) -> None:
    edit(content, "stages.yaml", lambda d: d["items"][0]["factors"][1]["name"].update(ru=" "))
    message = load_error(content)
    assert "stages.yaml: entry 'problem_sensed' (#1), factors entry 'free_time' (#2)" in message
    assert "name.ru: String should have at least 1 character" in message


def test_duplicate_code(content: Path) -> None:
    edit(content, "topics.yaml", lambda d: d["items"][2].update(code="social_services"))
    message = load_error(content)
    assert "topics.yaml: entry 'social_services' (#3): duplicate code" in message
    assert "entry 'social_services' (#1)" in message


def test_duplicate_code_across_groups(content: Path) -> None:
    edit(
        content,
        "project_problems.yaml",
        lambda d: d["items"][1]["items"][0].update(code="high_costs"),
    )
    message = load_error(content)
    assert "project_problems.yaml: entry 'new' (#2), items entry 'high_costs' (#1)" in message
    assert "duplicate code" in message


def test_additional_measure_code_clashes_with_matrix(content: Path) -> None:
    edit(content, "additional_measures.yaml", lambda d: d["items"][0].update(code="grants"))
    message = load_error(content)
    assert (
        "additional_measures.yaml: entry 'grants' (#1): code is used by measures.yaml" in message
    )


def test_bad_code(content: Path) -> None:
    edit(content, "topics.yaml", lambda d: d["items"][0].update(code="Social-Services"))
    message = load_error(content)
    assert (
        "topics.yaml: entry 'Social-Services' (#1): code: String should match pattern" in message
    )


def test_unknown_phase_of_measure(content: Path) -> None:
    edit(content, "measures.yaml", lambda d: d["items"][0].update(phase="nowhere"))
    message = load_error(content)
    assert "measures.yaml: entry 'grants' (#1): phase: unknown code 'nowhere'" in message


def test_unknown_phase_of_stage(content: Path) -> None:
    edit(content, "stages.yaml", lambda d: d["items"][2].update(phase="orign"))
    message = load_error(content)
    assert "stages.yaml: entry 'beach_volleyball' (#3): phase: unknown code 'orign'" in message


def test_unknown_type(content: Path) -> None:
    edit(content, "additional_measures.yaml", lambda d: d["items"][1]["types"].append("magic"))
    message = load_error(content)
    assert (
        "additional_measures.yaml: entry 'info_portal' (#2): types: unknown code 'magic'"
        in message
    )


def test_stage_in_wrong_phase(content: Path) -> None:
    edit(content, "stages.yaml", lambda d: d["items"][3].update(phase="expansion"))
    message = load_error(content)
    assert "stages.yaml: entry 'formalization' (#4): phase:" in message
    assert "'formalization', not 'expansion'" in message


def test_phases_must_cover_each_stage_once(content: Path) -> None:
    def change(data: Any) -> None:
        data["phases"][0]["stage_numbers"] = [1, 2]
        data["phases"][1]["stage_numbers"] = [4, 5]

    edit(content, "measures.yaml", change)
    message = load_error(content)
    assert "measures.yaml: phases entry 'expansion' (#3): stage_numbers: 5 is in" in message
    assert "measures.yaml: phases: stages [3] are in no phase" in message


def test_empty_matrix_cell(content: Path) -> None:
    edit(content, "measures.yaml", lambda d: d["items"].__setitem__(slice(6, 8), []))
    message = load_error(content)
    assert "measures.yaml: items: no measure for phase 'expansion', type 'financial'" in message


def test_unknown_field_and_too_long_label(content: Path) -> None:
    def change(data: Any) -> None:
        data["items"][0]["colour"] = "red"
        data["items"][1]["short"]["en"] = "x" * 29

    edit(content, "topics.yaml", change)
    message = load_error(content)
    assert "topics.yaml: entry 'social_services' (#1): colour: Extra inputs" in message
    assert "topics.yaml: entry 'entrepreneurship' (#2): short: en has 29 characters" in message


def test_ikigai_columns_are_fixed(content: Path) -> None:
    edit(content, "ikigai.yaml", lambda d: d["columns"].reverse())
    assert "ikigai.yaml: columns: codes must be ['want', 'can', 'need']" in load_error(content)


def test_malformed_yaml(content: Path) -> None:
    (content / "topics.yaml").write_text("title: {ru: x, en: y}\nitems: [unclosed\n")
    message = load_error(content)
    assert "topics.yaml: malformed YAML at line 3" in message


def test_empty_and_missing_file(content: Path) -> None:
    (content / "topics.yaml").write_text("# nothing here\n")
    assert "topics.yaml: the file is empty" in load_error(content)
    (content / "topics.yaml").unlink()
    assert "topics.yaml: file not found" in load_error(content)


def test_not_a_mapping(content: Path) -> None:
    (content / "topics.yaml").write_text("- just\n- a list\n")
    assert "topics.yaml: top level: Input should be a valid dictionary" in load_error(content)


# ── the stage quiz and the matching tags (our own content) ───────────────────────────────────


def test_quiz_and_matching_load(catalog: Catalog) -> None:
    assert len(catalog.quiz.questions) >= 8
    assert catalog.quiz.title.ru
    assert catalog.titles["quiz"] == catalog.quiz.title
    assert catalog.titles["matching"].ru
    assert catalog.quiz.question("money").option("donations").weights == {3: 1, 4: 2}
    assert catalog.quiz.question("transition").option("carry_on").weights == {}
    tagged = [t.code for t in catalog.matching]
    measures = [m.code for m in catalog.measures] + [m.code for m in catalog.additional_measures]
    assert sorted(tagged) == sorted(measures)
    assert "lack_of_funds" in catalog.measure_tags("grants").problems
    assert "rush_avalanche" in catalog.measure_tags("mentoring").crises
    with pytest.raises(UnknownCodeError, match="unknown quiz question code 'nope'"):
        catalog.quiz.question("nope")
    with pytest.raises(UnknownCodeError, match="option of question 'money' code 'nope'"):
        catalog.quiz.question("money").option("nope")
    with pytest.raises(UnknownCodeError, match="unknown measure code 'nope'"):
        catalog.measure_tags("nope")


def test_quiz_weights_reference_stages_1_to_7(content: Path) -> None:
    edit(content, "quiz.yaml", lambda d: d["items"][0]["options"][0]["weights"].update({8: 1}))
    message = load_error(content)
    assert "quiz.yaml: entry 'problem' (#1), options entry 'vague' (#1): weights" in message
    assert "less than or equal to 7" in message


def test_quiz_every_stage_needs_evidence(content: Path) -> None:
    def drop_stage_seven(data: Any) -> None:
        for question in data["items"]:
            for option in question["options"]:
                option["weights"].pop(7, None)

    edit(content, "quiz.yaml", drop_stage_seven)
    assert "quiz.yaml: items: no option gives evidence for stages [7]" in load_error(content)


def test_quiz_duplicate_option_and_question(content: Path) -> None:
    def change(data: Any) -> None:
        data["items"][1]["options"][1]["code"] = "nobody"
        data["items"][2]["code"] = "problem"

    edit(content, "quiz.yaml", change)
    message = load_error(content)
    assert "quiz.yaml: entry 'people' (#2), options entry 'nobody' (#2): duplicate code" in message
    assert "quiz.yaml: entry 'problem' (#3): duplicate code" in message


def test_quiz_shape_limits(content: Path) -> None:
    def change(data: Any) -> None:
        data["items"][0]["options"][0]["label"]["ru"] = "ж" * 41
        data["items"][1]["text"]["en"] = "x" * 201
        data["items"][2]["options"] = data["items"][2]["options"][:2]
        data["items"][3]["code"] = "a_much_too_long_question_code"
        data["items"][4]["options"][0].pop("weights")

    edit(content, "quiz.yaml", change)
    message = load_error(content)
    assert "entry 'vague' (#1): label: ru has 41 characters, at most 40" in message
    assert "entry 'people' (#2): text: en has 201 characters, at most 200" in message
    assert "entry 'regularity' (#3): options: Tuple should have at least 3 items" in message
    assert "(#4): code: String should have at most 24 characters" in message
    assert "entry 'not_needed' (#1): weights: Field required" in message


def test_matching_unknown_codes(content: Path) -> None:
    def change(data: Any) -> None:
        data["items"][0]["problems"].append("no_luck")
        data["items"][1]["topics"] = ["space"]
        data["items"][2]["crises"] = ["panic"]
        data["items"][3]["code"] = "teleport"

    edit(content, "matching.yaml", change)
    message = load_error(content)
    assert "matching.yaml: entry 'grants' (#1): problems: unknown code 'no_luck'" in message
    assert "entry 'tax_breaks_origin' (#2): topics: unknown code 'space'" in message
    assert "entry 'crowdfunding' (#3): crises: unknown code 'panic'" in message
    assert "entry 'teleport' (#4): code: unknown code 'teleport'" in message
    assert "matching.yaml: items: measures without tags: subsidies" in message


def test_matching_every_measure_once_and_every_problem(content: Path) -> None:
    def change(data: Any) -> None:
        data["items"][1]["code"] = "grants"
        data["items"][0]["problems"] = ["lack_of_funds", "lack_of_funds"]
        for entry in data["items"]:
            entry["problems"] = [p for p in entry["problems"] if p != "high_costs"] or [
                "lack_of_funds"
            ]

    edit(content, "matching.yaml", change)
    message = load_error(content)
    assert "matching.yaml: entry 'grants' (#2): duplicate code" in message
    assert "entry 'grants' (#1): problems: repeated codes ['lack_of_funds']" in message
    assert "measures without tags: tax_breaks_origin" in message
    assert "no measure addresses problems: high_costs" in message


def test_matching_needs_a_problem(content: Path) -> None:
    edit(content, "matching.yaml", lambda d: d["items"][0].update(problems=[]))
    message = load_error(content)
    assert "matching.yaml: entry 'grants' (#1): problems: Tuple should have at least 1 item" in (
        message
    )


# ── grants and articles (our starter catalogs) ───────────────────────────────────────────────


def test_grants_and_articles_load(catalog: Catalog) -> None:
    assert len(catalog.grants) >= 12
    assert len(catalog.articles) >= 20
    assert catalog.titles["grants"].ru == "Гранты и конкурсы"
    assert catalog.titles["articles"].en == "Best practices"
    pgf = catalog.grant("presidential_grants")
    assert pgf.site == "президентскиегранты.рф"
    assert pgf.link == "https://xn--80afcdbalict6afooklqi5o.xn--p1ai/"
    assert pgf.region is None
    assert pgf.timezone == "Europe/Moscow"
    assert [w.to_window().to_spec() for w in pgf.windows] == [
        {"yearly": {"open": "09-01", "close": "10-15"}},
        {"yearly": {"open": "02-01", "close": "03-15"}},
        {"fixed": {"open": "2026-02-02", "close": "2026-03-16"}},
    ]
    assert catalog.grant("moscow_kind_city").region == "mow"
    assert catalog.grant("sme_microloans").windows[0].always is True
    assert catalog.article("first_grant_application").stages == (3, 4)
    with pytest.raises(UnknownCodeError, match="unknown grant code 'nope'"):
        catalog.grant("nope")
    with pytest.raises(UnknownCodeError, match="unknown article code 'nope'"):
        catalog.article("nope")


def test_grant_codes_and_references(catalog: Catalog) -> None:
    topics = {t.code for t in catalog.topics}
    phases = {p.code for p in catalog.phases}
    regions = {r.code for r in catalog.regions}
    for codes in ([g.code for g in catalog.grants], [a.code for a in catalog.articles]):
        assert len(codes) == len(set(codes))
        for code in codes:
            assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", code), code
    for grant in catalog.grants:
        assert set(grant.topics) <= topics
        assert set(grant.phases) <= phases
        assert grant.region is None or grant.region in regions
    for article in catalog.articles:
        assert set(article.topics) <= topics
        assert article.stages
        assert set(article.stages) <= {1, 2, 3, 4, 5, 6, 7}
    # every stage has something to read
    assert {n for a in catalog.articles for n in a.stages} == {1, 2, 3, 4, 5, 6, 7}


def host(link: str) -> str:
    return (urlsplit(link).hostname or "").encode("ascii").decode("idna")


def test_links_are_https_ascii_and_match_their_site(catalog: Catalog) -> None:
    for grant in catalog.grants:
        if not grant.link:
            assert grant.site == ""
            # no verified site: the note says the facts are unverified
            assert "Не проверено" in grant.note.ru
            assert "Unverified" in grant.note.en
            continue
        assert grant.link.isascii()
        assert grant.link.startswith("https://")
        assert urlsplit(grant.link).path in ("", "/")  # site roots only
        assert host(grant.link) == grant.site
    for article in catalog.articles:
        assert article.link.isascii()
        assert article.link.startswith("https://")
        assert urlsplit(article.link).path in ("", "/")
        assert host(article.link) == article.source


def test_grant_windows_become_occurrences(catalog: Catalog) -> None:
    kinds = {w.to_window().kind for g in catalog.grants for w in g.windows}
    assert kinds == {"yearly", "fixed", "always"}
    now = datetime(2026, 11, 29, 12, tzinfo=UTC)
    culture = catalog.grant("culture_initiatives_fund").occurrence(now)
    assert culture is not None
    assert culture.close_at == datetime(2026, 12, 2, 20, 59, 59, tzinfo=UTC)
    pgf = catalog.grant("presidential_grants").occurrence(now)
    assert pgf is not None
    assert pgf.open_at == datetime(2027, 1, 31, 21, tzinfo=UTC)
    loans = catalog.grant("sme_microloans").occurrence(now)
    assert loans is not None
    assert loans.close_at is None
    assert catalog.grant("moscow_kind_city").occurrence(now) is None  # no known dates


def test_grant_facts_a_user_acts_on(catalog: Catalog) -> None:
    """The facts corrected in content-facts.md on 2026-12-07 that change what a user does."""

    def specs(code: str) -> list[dict[str, Any]]:
        return [w.to_window().to_spec() for w in catalog.grant(code).windows]

    # 1 May is the deadline of the social enterprise STATUS; the grant contests are regional.
    social = catalog.grant("social_entrepreneur_grant")
    assert specs("social_entrepreneur_grant") == []
    assert social.note.ru.startswith("До 1 мая каждого года подают заявление на статус")
    assert "это срок статуса, а не гранта" in social.note.ru
    assert "1 May" in social.note.en
    assert "the status deadline, not the grant's" in social.note.en

    # Timchenko: six contests' windows are estimates of 6–9 weeks; «Человек дела» is an award.
    timchenko = [g for g in catalog.grants if g.code.startswith("timchenko_")]
    assert len(timchenko) == 6
    for grant in timchenko:
        [window] = grant.application_windows()
        assert window.kind == "yearly", grant.code
        for year in (2027, 2028):  # a common and a leap year
            opens, closes = window.dates_in(year)
            assert 6 * 7 <= (closes - opens).days <= 9 * 7, grant.code
        assert "дата окончания — наша оценка по прошлым годам" in grant.note.ru, grant.code
        assert "the closing date is our estimate from past years" in grant.note.en, grant.code
    award = catalog.grant("timchenko_person_of_action")
    for text in (award.title.ru, award.who.ru, award.note.ru):
        assert "премия" in text
    for text in (award.title.en, award.who.en, award.note.en):
        assert "award" in text
    assert "конкурс" not in award.title.ru

    # «Регион добрых дел» is for regional governments: no deadline to remind activists of.
    region = catalog.grant("region_of_good_deeds")
    assert "для правительств регионов" in region.who.ru
    assert "for regional governments" in region.who.en
    assert specs("region_of_good_deeds") == []

    # Rosmolodezh: the 2025 cap and the autumn season opening on 20 August.
    youth = catalog.grant("rosmolodezh_youth")
    assert youth.amount is not None
    assert youth.amount.ru.startswith("До 1 млн ₽ (в 2025 году")
    assert specs("rosmolodezh_youth") == [
        {"yearly": {"open": "03-01", "close": "04-15"}},
        {"yearly": {"open": "08-20", "close": "09-15"}},
    ]

    # The Cultural Initiatives Fund's second contest has no dates we could remind of.
    assert specs("culture_initiatives_fund") == [{"yearly": {"open": "10-15", "close": "12-02"}}]
    assert "его сроки нам не известны" in catalog.grant("culture_initiatives_fund").note.ru

    # Dates resting on ⚠ facts alone are not guessed, and the notes call them unverified.
    for code in ("potanin_foundation", "rosmolodezh_micro", "moscow_kind_city"):
        assert specs(code) == [], code
    for code in ("potanin_foundation", "rosmolodezh_micro", "presidential_nature_fund"):
        assert catalog.grant(code).note.ru.startswith("Не проверено"), code
        assert catalog.grant(code).note.en.startswith("Unverified"), code


def test_grant_and_article_text_limits(catalog: Catalog) -> None:
    for article in catalog.articles:
        for text in (article.summary.ru, article.summary.en):
            assert 0 < len(text) <= 400
        assert len(article.title.ru) <= 100
        assert len(article.title.en) <= 100
    for grant in catalog.grants:
        assert grant.note.ru
        assert grant.note.en


def test_catalog_without_grants_and_articles() -> None:
    full = get_catalog()
    fields = {k: getattr(full, k) for k in Catalog.model_fields if k not in ("grants", "articles")}
    bare = Catalog(**fields)
    assert bare.grants == ()
    assert bare.articles == ()
    with pytest.raises(UnknownCodeError):
        bare.grant("presidential_grants")


def test_grant_unknown_references(content: Path) -> None:
    def change(data: Any) -> None:
        data["items"][0]["topics"] = ["space", "culture", "culture"]
        data["items"][1]["phases"] = ["growth"]
        data["items"][2]["region"] = "atlantis"
        data["items"][4]["windows"].append(data["items"][4]["windows"][0])

    edit(content, "grants.yaml", change)
    message = load_error(content)
    assert "grants.yaml: entry 'presidential_grants' (#1): topics: unknown code 'space'" in message
    assert "entry 'presidential_grants' (#1): topics: repeated codes ['culture']" in message
    assert "entry 'regional_cofinanced_contests' (#2): phases: unknown code 'growth'" in message
    assert "entry 'presidential_nature_fund' (#3): region: unknown region code 'atlantis'" in (
        message
    )
    assert "entry 'rosmolodezh_youth' (#5): windows: repeated windows" in message


def test_grant_timezone(content: Path) -> None:
    edit(content, "grants.yaml", lambda d: d["items"][3].update(timezone="Europe/Atlantis"))
    message = load_error(content)
    assert "entry 'culture_initiatives_fund' (#4): timezone: unknown IANA time zone" in message


def test_grant_links(content: Path) -> None:
    def change(data: Any) -> None:
        data["items"][0]["link"] = "https://президентскиегранты.рф/"
        data["items"][1]["link"] = "http://xn--80af5akm8c.xn--p1ai/"
        data["items"][3]["link"] = ""  # the site stays
        data["items"][4]["link"] = "https://myrosmol.ru/"  # not the site
        data["items"][2]["link"] = "https://fondpotanin.ru/"  # a link without a site

    edit(content, "grants.yaml", change)
    message = load_error(content)
    assert "entry 'presidential_grants' (#1): link: " in message
    assert "punycode" in message
    assert "entry 'regional_cofinanced_contests' (#2): link: must be an https:// URL" in message
    assert "entry 'culture_initiatives_fund' (#4): link: empty, but site is" in message
    assert "entry 'rosmolodezh_youth' (#5): link: its domain 'myrosmol.ru' is not" in message
    assert "entry 'presidential_nature_fund' (#3): site: empty, but there is a link" in message


def test_grant_windows_are_validated(content: Path) -> None:
    def change(data: Any) -> None:
        data["items"][0]["windows"][0] = {"yearly": {"open": "02-30", "close": "03-01"}}
        data["items"][0]["windows"][1] = {"yearly": {"open": "2-1", "close": "03-15"}}
        data["items"][0]["windows"][2]["fixed"] = {"open": "2026-03-16", "close": "2026-02-02"}
        data["items"][2]["windows"] = [{"always": False}]
        data["items"][3]["windows"] = [{}]

    edit(content, "grants.yaml", change)
    message = load_error(content)
    assert (
        "entry 'presidential_grants' (#1), windows entry #1: yearly.open: no such day" in message
    )
    assert "entry 'presidential_grants' (#1), windows entry #2: yearly.open: expected" in message
    assert (
        "entry 'presidential_grants' (#1), windows entry #3: fixed: open 2026-03-16 is after"
        in message
    )
    assert "entry 'presidential_nature_fund' (#3), windows entry #1: always: Input should be" in (
        message
    )
    assert (
        "entry 'culture_initiatives_fund' (#4), windows entry #1: a window needs exactly one"
        in message
    )


def test_grant_window_with_two_kinds(content: Path) -> None:
    def change(data: Any) -> None:
        data["items"][0]["windows"] = [
            {"always": True, "yearly": {"open": "09-01", "close": "10-15"}}
        ]

    edit(content, "grants.yaml", change)
    message = load_error(content)
    assert "entry 'presidential_grants' (#1), windows entry #1: a window needs exactly one of" in (
        message
    )
    assert "['yearly', 'always']" in message


def test_grant_and_article_duplicate_codes(content: Path) -> None:
    edit(content, "grants.yaml", lambda d: d["items"][1].update(code="presidential_grants"))
    edit(content, "articles.yaml", lambda d: d["items"][2].update(code="project_library"))
    message = load_error(content)
    assert "grants.yaml: entry 'presidential_grants' (#2): duplicate code" in message
    assert "articles.yaml: entry 'project_library' (#3): duplicate code" in message


def test_article_problems(content: Path) -> None:
    def change(data: Any) -> None:
        data["items"][1]["stages"] = [8]
        data["items"][2]["stages"] = []
        data["items"][3]["summary"]["en"] = "x" * 401
        data["items"][4]["link"] = "https://добро.рф/"
        data["items"][5]["link"] = ""

    edit(content, "articles.yaml", change)
    message = load_error(content)
    assert "entry 'project_library' (#2): stages[0]: Input should be less than or equal to 7" in (
        message
    )
    assert "entry 'register_ngo' (#3): stages: Tuple should have at least 1 item" in message
    assert "entry 'register_tos' (#4): summary: en has 401 characters, at most 400" in message
    assert "entry 'find_volunteers' (#5): link: " in message
    assert "entry 'keep_volunteers' (#6): link: String should have at least 1 character" in (
        message
    )


def test_article_references(content: Path) -> None:
    def change(data: Any) -> None:
        data["items"][0]["topics"] = ["space"]
        data["items"][6]["stages"] = [2, 2]

    edit(content, "articles.yaml", change)
    message = load_error(content)
    assert "articles.yaml: entry 'first_grant_application' (#1): topics: unknown code" in message
    assert "entry 'first_event' (#7): stages: repeated numbers [2]" in message


def test_grants_file_is_required(content: Path) -> None:
    (content / "grants.yaml").unlink()
    assert "grants.yaml: file not found" in load_error(content)


# ── ways to get each measure (measures.yaml, additional_measures.yaml: our own content) ─────


def ways_of_catalog(catalog: Catalog) -> list[tuple[str, Measure | AdditionalMeasure]]:
    """Every matrix and additional measure with its code, in the catalog's order."""
    matrix = [(m.code, m) for m in catalog.measures]
    return [*matrix, *((m.code, m) for m in catalog.additional_measures)]


def test_every_measure_has_a_way_or_says_why_not(catalog: Catalog) -> None:
    measures = ways_of_catalog(catalog)
    assert len(measures) == 39 + 13  # the seed's matrix (its cells hold 39 items) and the 13
    for code, measure in measures:
        if measure.ways:
            assert 1 <= len(measure.ways) <= 3, code  # the card shows them all, one screen
            assert measure.no_nationwide_way is None, code
            assert measure.no_way_reason is None, code
        else:
            assert measure.no_nationwide_way is True, code
            assert measure.no_way_reason is not None, code
    with_ways = [code for code, m in measures if m.ways]
    assert len(with_ways) >= 45  # a reason instead of a way stays the exception
    assert catalog.measure("concession").no_nationwide_way is True  # a municipal concession


def test_way_links_are_https_ascii_and_lead_to_their_site(catalog: Catalog) -> None:
    ways = [w for _code, m in ways_of_catalog(catalog) for w in m.ways]
    linked = [w for w in ways if w.link]
    assert len(linked) >= 60
    for way in ways:
        if not way.link:
            assert way.site == "", way.name.ru
            assert way.no_link is not None, way.name.ru  # says why there is no link
            continue
        assert way.link.isascii(), way.link
        assert way.link.startswith("https://"), way.link
        assert host(way.link) == way.site, way.link
        assert urlsplit(way.link).path in ("", "/"), way.link  # site roots only
        assert way.no_link is None, way.name.ru
    hosts = {urlsplit(w.link).hostname for w in linked}
    assert "university.dobro.ru" not in hosts  # Добро.Университет lives at edu.dobro.ru
    assert not any("university.dobro" in w.link for w in linked)
    assert "edu.dobro.ru" in hosts
    assert "xn--90aifddrld7a.xn--p1ai" in hosts  # мойбизнес.рф, in punycode


def test_every_checked_way_names_its_source(catalog: Catalog) -> None:
    ways = [w for _code, m in ways_of_catalog(catalog) for w in m.ways]
    checked = [w for w in ways if w.checked is not None]
    assert checked, "some ways were checked"
    assert any(w.checked is None for w in ways), "and some were not: they say nothing"
    today = datetime.now(UTC).date()
    for way in ways:
        if way.checked is None:
            assert way.source is None, way.name.ru
            continue
        assert way.source is not None, way.name.ru
        assert way.source == "content-facts" or re.match(r"https?://\S+\Z", way.source), way.source
        assert way.checked <= today, way.name.ru


def test_way_texts_are_short_and_in_both_languages(catalog: Catalog) -> None:
    for code, measure in ways_of_catalog(catalog):
        names = [w.name.ru for w in measure.ways]
        assert len(names) == len(set(names)), code
        for way in measure.ways:
            for text in (way.gives, way.who, way.first_step):
                assert 0 < len(text.ru) <= 160, (code, text.ru)
                assert 0 < len(text.en) <= 160, (code, text.en)
            assert len(way.name.ru) <= 100, code
            assert "«Опора»" not in way.first_step.en  # English has “Opora”


def test_measure_without_ways_or_reason(content: Path) -> None:
    def change(data: Any) -> None:
        data["items"][0].pop("ways")
        data["items"][1].update(ways=[], no_nationwide_way=True)
        data["items"][2].update(no_nationwide_way=True, no_way_reason={"ru": "нет", "en": "no"})

    edit(content, "measures.yaml", change)
    message = load_error(content)
    assert "measures.yaml: entry 'grants' (#1): ways: at least one way, or no_nationwide_way" in (
        message
    )
    assert "entry 'tax_breaks_origin' (#2): no_way_reason: no_nationwide_way needs the reason" in (
        message
    )
    assert "entry 'crowdfunding' (#3): ways: given, so no_nationwide_way and no_way_reason" in (
        message
    )


def test_too_many_ways(content: Path) -> None:
    def change(data: Any) -> None:
        ways = data["items"][0]["ways"]
        extra = dict(ways[0], name={"ru": "Ещё один", "en": "One more"}, link="", site="")
        extra["no_link"] = {"ru": "Нет сайта.", "en": "No site."}
        ways.append(extra)

    edit(content, "measures.yaml", change)
    message = load_error(content)
    assert "entry 'grants' (#1): ways: Tuple should have at most 3 items" in message


def test_way_links_are_validated(content: Path) -> None:
    def change(data: Any) -> None:
        data["items"][0]["ways"][0]["link"] = "http://grants.myrosmol.ru/"
        data["items"][0]["ways"][1]["link"] = "https://фондкультурныхинициатив.рф/"
        data["items"][0]["ways"][2]["site"] = "мойбизнес.рф"
        data["items"][1]["ways"][1].pop("no_link")  # a resource centre: no site, no reason

    edit(content, "measures.yaml", change)
    message = load_error(content)
    assert "entry 'grants' (#1), ways entry #1: link: must be an https:// URL" in message
    assert "entry 'grants' (#1), ways entry #2: link: " in message
    assert "punycode" in message
    assert "ways entry #3: link: its domain 'президентскиегранты.рф' is not the site" in message
    assert "entry 'tax_breaks_origin' (#2), ways entry #2: no_link: a way without a link" in (
        message
    )


def test_a_check_needs_its_source_and_a_source_its_check(content: Path) -> None:
    def change(data: Any) -> None:
        data["items"][0]["ways"][0].pop("source")  # checked, but where?
        data["items"][0]["ways"][1]["source"] = "a friend told me"
        data["items"][1]["ways"][0]["source"] = "content-facts"  # checked: null
        data["items"][1]["ways"][1].pop("checked")  # must be written out, null or a date
        data["items"][2]["ways"][0]["checked"] = "07.12.2026"

    edit(content, "measures.yaml", change)
    message = load_error(content)
    assert "entry 'grants' (#1), ways entry #1: source: a checked way names where" in message
    assert (
        "entry 'grants' (#1), ways entry #2: source: must be 'content-facts' or the address"
        in (message)
    )
    assert (
        "entry 'tax_breaks_origin' (#2), ways entry #1: checked: null, but there is a source"
        in (message)
    )
    assert "entry 'tax_breaks_origin' (#2), ways entry #2: checked: Field required" in message
    assert (
        "entry 'crowdfunding' (#3), ways entry #1: checked: expected a date as 'YYYY-MM-DD'"
        in (message)
    )


def test_way_checked_in_the_future_and_repeated_ways(content: Path) -> None:
    def change(data: Any) -> None:
        data["items"][0]["ways"][0]["checked"] = "2999-01-01"
        data["items"][0]["ways"][1]["link"] = data["items"][0]["ways"][2]["link"]
        data["items"][0]["ways"][1]["site"] = data["items"][0]["ways"][2]["site"]
        data["items"][3]["ways"][1]["name"] = data["items"][3]["ways"][0]["name"]

    edit(content, "measures.yaml", change)
    message = load_error(content)
    assert "entry 'grants' (#1), ways entry #1: checked: 2999-01-01 is a day to come" in message
    assert "entry 'grants' (#1): ways: repeated link" in message
    assert "entry 'subsidies' (#4): ways: repeated name" in message


def test_additional_measure_ways_are_validated(content: Path) -> None:
    def change(data: Any) -> None:
        data["items"][0]["ways"] = []
        data["items"][1]["ways"][0]["gives"]["ru"] = "ж" * 161

    edit(content, "additional_measures.yaml", change)
    message = load_error(content)
    assert "additional_measures.yaml: entry 'resource_center' (#1): ways: at least one way" in (
        message
    )
    assert (
        "entry 'info_portal' (#2), ways entry #1: gives: ru has 161 characters, at most 160"
        in (message)
    )
