"""Coordinators: /stats (and 📊 in their menu) sends the territory's picture — three charts, the
anonymised profiles as CSV and a short summary; the self-assessment (🧭, /assess) rates the six
conditions support depends on, one tap per condition, and draws the result next to the previous
one. The parent router lets only coordinators and admins in."""

from __future__ import annotations

import logging
from pathlib import Path

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.content import Catalog, UnknownCodeError
from bot.services.coordination import CoordinationService
from bot.services.desk import DeskService
from bot.services.stats import DAYS, SCORES, Area, Assessment, Picture, StatsService
from bot.ui.desk import kind_name
from bot.ui.keyboards import button, grid, keyboard
from bot.ui.render import Tr
from bot.ui.screen import Screen
from handlers.coordinator import CoordinatorCb, topic_name

log = logging.getLogger(__name__)
router = Router(name=__name__)
NO_FONT_HINT = "install fonts-dejavu-core or set FONT_PATH"


class AssessCb(CallbackData, prefix="sa"):
    """The self-assessment: action q (ask the next condition) or last (the latest result);
    `scores` holds those given so far, one digit 1–5 per condition, so buttons are stateless."""

    action: str
    scores: str = ""


def _zone(screen: Screen) -> str | None:
    return screen.user.timezone if screen.user else None


async def _picture(
    screen: Screen,
    stats: StatsService,
    picture: Picture,
    font: Path | None,
    caption: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """The picture as a photo; without a font, its figures as text (and a log line why)."""
    if font is None:
        log.warning("no font: statistics sent as text tables", extra={"hint": NO_FONT_HINT})
        tables = screen.tr("stats/tables.j2", tables=stats.tables(picture))
        await screen.send(f"{tables}\n\n{caption}", markup)
        return
    png = await stats.draw(picture, font)
    await screen.photo(png, caption, markup)


# --- /stats ---


class StatsCb(CallbackData, prefix="sx"):
    """/stats of an area: "all", "r.<region>" or "z.<zone group>"."""

    area: str


class StatsPickCb(CallbackData, prefix="sp"):
    """Choosing the area of /stats: the zone groups, or (zone) that group's regions."""

    zone: str = ""


def _own_area(screen: Screen) -> str:
    """A coordinator tied to a region sees theirs first; everyone else the whole deployment."""
    region = screen.user.region if screen.user else None
    return f"r.{region}" if region and "coordinator" in screen.roles else ""


def _area_rows(tr: Tr, area: Area, own: Area) -> list[list[InlineKeyboardButton]]:
    rows = []
    if area.code:
        rows.append([button(tr._("🌍 All regions"), StatsCb(area="all"))])
    if own.code and own.code != area.code:
        rows.append([button(f"📍 {own.name}", StatsCb(area=own.code))])
    rows.append([button(tr._("🔎 A region or time zone"), StatsPickCb(zone=area.zone))])
    return rows


@router.message(Command("stats"))
@router.callback_query(CoordinatorCb.filter(F.section == "stats"))
@router.callback_query(StatsCb.filter())
async def show_stats(
    event: Message | CallbackQuery,
    screen: Screen,
    stats: StatsService,
    coordination: CoordinationService,
    font: Path | None = None,
    callback_data: CallbackData | None = None,
    desk: DeskService | None = None,
    catalog: Catalog | None = None,
) -> None:
    tr = screen.tr
    screen.query = None  # the charts come as new messages; the menu stays where it was
    own = stats.area(_own_area(screen), tr.locale)
    wanted = callback_data.area if isinstance(callback_data, StatsCb) else own.code
    area = stats.area("" if wanted == "all" else wanted, tr.locale)
    report = await stats.report(tr, _zone(screen), area)
    if font is None:
        log.warning("no font: statistics sent as text tables", extra={"hint": NO_FONT_HINT})
        tables = [t for picture in report.pictures for t in stats.tables(picture)]
        await screen.send(tr("stats/tables.j2", tables=tables))
    else:
        for picture in report.pictures:
            await screen.photo(await stats.draw(picture, font), picture.caption)
    export = report.export
    await screen.document(export.data, export.filename, tr("stats/export.j2", rows=export.rows))
    await coordination.audit(screen.user_id, "stats.export", area.code or None, rows=export.rows)
    markup = keyboard(
        [
            *_area_rows(tr, area, own),
            [button(tr._("🧭 Self-assessment"), CoordinatorCb(section="assess"))],
            [button(tr._("« For coordinators"), CoordinatorCb(section="menu"))],
        ]
    )
    figures = await desk.figures() if desk is not None else None
    kinds = [(kind_name(tr, k), n) for k, n in figures.kinds] if figures is not None else []
    topics = [
        (topic_name(catalog, code, tr.locale) if catalog is not None else code, n)
        for code, n in (figures.topics if figures is not None else ())
    ]
    summary = tr(
        "stats/summary.j2",
        o=report.overview,
        days=DAYS,
        area=area.name,
        desk=figures,
        desk_kinds=kinds,
        desk_topics=topics[:TOPICS_SHOWN],
    )
    await screen.send(summary, markup)


TOPICS_SHOWN = 5  # the desk's most shared topics in the summary


@router.callback_query(StatsPickCb.filter())
async def pick_area(
    query: CallbackQuery, callback_data: StatsPickCb, screen: Screen, catalog: Catalog
) -> None:
    """The zone groups; in a group, the whole group and each of its regions."""
    tr = screen.tr
    try:
        group = catalog.zone(callback_data.zone) if callback_data.zone else None
    except UnknownCodeError:
        group = None
    if group is None:
        zones = [button(z.label(tr.locale), StatsPickCb(zone=z.code)) for z in catalog.zones]
        rows = [*grid(zones, 2), [button(tr._("🌍 All regions"), StatsCb(area="all"))]]
        await screen.show(tr("stats/pick_zone.j2"), keyboard(rows))
        return
    whole = tr._("🗺 The whole zone {zone}").format(zone=group.label(tr.locale))
    rows = [[button(whole, StatsCb(area=f"z.{group.code}"))]]
    rows += [
        [button(r.name(tr.locale), StatsCb(area=f"r.{r.code}"))]
        for r in catalog.regions_in(group.code)
    ]
    rows.append([button(tr._("« Back"), StatsPickCb())])
    await screen.show(tr("stats/pick_region.j2", zone=group.label(tr.locale)), keyboard(rows))


# --- the self-assessment ---


@router.message(Command("assess"))
@router.callback_query(CoordinatorCb.filter(F.section == "assess"))
async def assess_intro(
    event: Message | CallbackQuery, screen: Screen, stats: StatsService, catalog: Catalog
) -> None:
    tr = screen.tr
    found = await stats.assessments(screen.user_id, 1)
    last = found[0] if found else None
    rows = [[button(tr._("▶ Rate now"), AssessCb(action="q"))]]
    if last is not None:
        rows.append([button(tr._("📈 My latest result"), AssessCb(action="last"))])
    rows.append([button(tr._("« For coordinators"), CoordinatorCb(section="menu"))])
    text = tr(
        "stats/assess_intro.j2",
        conditions=catalog.support_conditions,
        title=stats.conditions_title(tr),
        last_date=_date(stats, last, screen) if last else None,
    )
    await screen.show(text, keyboard(rows))


def _date(stats: StatsService, assessment: Assessment, screen: Screen) -> str:
    return assessment.created_at.astimezone(stats.zone(_zone(screen))).strftime("%d.%m.%Y")


@router.callback_query(AssessCb.filter((F.action == "q") & F.scores.regexp(r"^[1-5]{0,12}$")))
async def assess_step(
    query: CallbackQuery,
    callback_data: AssessCb,
    screen: Screen,
    stats: StatsService,
    catalog: Catalog,
    font: Path | None = None,
) -> None:
    tr = screen.tr
    given = callback_data.scores
    conditions = catalog.support_conditions
    if len(given) > len(conditions):  # forged, or the catalog changed under an old button
        await assess_intro(query, screen, stats, catalog)
        return
    if len(given) == len(conditions):
        found = await stats.assess(screen.user_id, [int(d) for d in given])
        await screen.show(tr("stats/assess_saved.j2"))
        await _result(screen, stats, found, font, saved=True)
        return
    step = len(given)
    previous = await stats.assessments(screen.user_id, 1)
    before = previous[0].scores.get(conditions[step].code) if previous else None
    done = [(tr.loc(c.short), int(d)) for c, d in zip(conditions, given, strict=False)]
    text = tr(
        "stats/assess_step.j2",
        step=step + 1,
        total=len(conditions),
        title=stats.conditions_title(tr),
        condition=conditions[step],
        before=before,
        done=done,
    )
    back = AssessCb(action="q", scores=given[:-1]) if given else CoordinatorCb(section="assess")
    markup = keyboard(
        [
            [button(str(n), AssessCb(action="q", scores=f"{given}{n}")) for n in SCORES],
            [
                button(tr._("« Back"), back),
                button(tr._("✖ Cancel"), CoordinatorCb(section="menu")),
            ],
        ]
    )
    await screen.show(text, markup)


@router.callback_query(AssessCb.filter(F.action == "last"))
async def assess_last(
    query: CallbackQuery,
    screen: Screen,
    stats: StatsService,
    catalog: Catalog,
    font: Path | None = None,
) -> None:
    found = await stats.assessments(screen.user_id, 2)
    if not found:  # an old button, from before the assessments were deleted
        await assess_intro(query, screen, stats, catalog)
        return
    await _result(screen, stats, found, font, saved=False)


async def _result(
    screen: Screen,
    stats: StatsService,
    found: list[Assessment],
    font: Path | None,
    *,
    saved: bool,
) -> None:
    tr = screen.tr
    screen.query = None  # the picture is a new message under the questions
    caption = tr(
        "stats/assess_result.j2",
        saved=saved,
        date=_date(stats, found[0], screen),
        previous_date=_date(stats, found[1], screen) if len(found) > 1 else None,
        changes=stats.changes(tr, found),
    )
    markup = keyboard(
        [
            [button(tr._("🔁 Rate again"), AssessCb(action="q"))],
            [button(tr._("« For coordinators"), CoordinatorCb(section="menu"))],
        ]
    )
    picture = stats.assessment_picture(tr, found, _zone(screen))
    await _picture(screen, stats, picture, font, caption, markup)
