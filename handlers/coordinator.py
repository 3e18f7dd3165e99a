"""The coordinators' menu: broadcasts, content, statistics, self-assessment, the brief for the
municipality (each its own flow module); only for coordinators and admins — the parent router
checks the role.

Until they are all done the menu carries a first-run checklist: the region served (📍, chosen
here: zone, then region), a first local measure, a first opportunity, an invitation for
activists (📨: a deep link and a QR code as a PNG to print) and where the charts are."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.enums import ChatAction
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message

from bot.content import Catalog, UnknownCodeError
from bot.services.coordination import CoordinationService
from bot.ui.keyboards import Menu, button, grid, keyboard
from bot.ui.qr import qr_png
from bot.ui.screen import Screen

router = Router(name=__name__)
INVITE_PREFIX = "coord_"  # t.me/<bot>?start=coord_<coordinator id>


class CoordinatorCb(CallbackData, prefix="cm"):
    """A coordinator screen: menu, broadcast, grants, articles, measures, stats, assess, brief
    (and brief_pdf, which sends it as a document), region (choose the region served), invite
    (the invitation for activists)."""

    section: str


class ServeCb(CallbackData, prefix="cz"):
    """The region a coordinator serves: a zone group opens its regions; with a region, set."""

    zone: str = ""
    region: str = ""


def region_name(catalog: Catalog, code: str | None, locale: str) -> str | None:
    if code is None:
        return None
    try:
        return catalog.region(code).name(locale)
    except UnknownCodeError:  # a code from a catalog since changed
        return code


async def show_menu(screen: Screen, coordination: CoordinationService, catalog: Catalog) -> None:
    if screen.state is not None:  # the menu ends any form that was open
        await screen.state.set_state(None)
    tr = screen.tr
    steps = await coordination.first_steps(screen.user_id)
    done = all((steps.region, steps.measure, steps.opportunity, steps.invitation, steps.charts))
    markup = keyboard(
        [
            [
                button(tr._("📣 Broadcast"), CoordinatorCb(section="broadcast")),
                button(tr._("📥 Questions"), CoordinatorCb(section="desk")),
            ],
            [
                button(tr._("💰 Grants"), CoordinatorCb(section="grants")),
                button(tr._("📖 Articles"), CoordinatorCb(section="articles")),
            ],
            [button(tr._("🤝 Local support measures"), CoordinatorCb(section="measures"))],
            [button(tr._("🙋 Volunteer opportunities"), CoordinatorCb(section="opportunities"))],
            [button(tr._("👥 Activists who may publish"), CoordinatorCb(section="organisers"))],
            [
                button(tr._("📊 Statistics"), CoordinatorCb(section="stats")),
                button(tr._("🧭 Self-assessment"), CoordinatorCb(section="assess")),
            ],
            [button(tr._("📄 Brief for the municipality"), CoordinatorCb(section="brief"))],
            [
                button(tr._("📍 My region"), CoordinatorCb(section="region")),
                button(tr._("📨 Invite activists"), CoordinatorCb(section="invite")),
            ],
            [button(tr._("☰ Menu"), Menu(section="home"))],
        ]
    )
    region = region_name(catalog, steps.region, tr.locale)
    await screen.show(tr("coordinator/menu.j2", steps=steps, done=done, region=region), markup)


@router.message(Command("coordinator"))
@router.callback_query(CoordinatorCb.filter(F.section == "menu"))
@router.callback_query(Menu.filter(F.section == "coordinator"))
async def coordinator_menu(
    event: Message | CallbackQuery,
    screen: Screen,
    coordination: CoordinationService,
    catalog: Catalog,
) -> None:
    await show_menu(screen, coordination, catalog)


# --- the region served ---


@router.callback_query(CoordinatorCb.filter(F.section == "region"))
@router.callback_query(ServeCb.filter(F.zone == ""))
async def region_zones(query: CallbackQuery, screen: Screen, catalog: Catalog) -> None:
    tr = screen.tr
    zones = [button(z.label(tr.locale), ServeCb(zone=z.code)) for z in catalog.zones]
    back = [button(tr._("« Coordinator menu"), CoordinatorCb(section="menu"))]
    await screen.show(tr("coordinator/region_zone.j2"), keyboard([*grid(zones, 2), back]))


@router.callback_query(ServeCb.filter((F.zone != "") & (F.region == "")))
async def region_list(
    query: CallbackQuery, callback_data: ServeCb, screen: Screen, catalog: Catalog
) -> None:
    tr = screen.tr
    try:
        zone = catalog.zone(callback_data.zone)
    except UnknownCodeError:
        await region_zones(query, screen, catalog)
        return
    regions = [
        button(r.name(tr.locale), ServeCb(zone=zone.code, region=r.code))
        for r in catalog.regions_in(zone.code)
    ]
    back = [button(tr._("« Back"), ServeCb())]
    text = tr("coordinator/region_list.j2", zone=zone.label(tr.locale))
    await screen.show(text, keyboard([*grid(regions, 1), back]))


@router.callback_query(ServeCb.filter((F.zone != "") & (F.region != "")))
async def region_chosen(
    query: CallbackQuery,
    callback_data: ServeCb,
    screen: Screen,
    coordination: CoordinationService,
    catalog: Catalog,
) -> None:
    try:
        catalog.region(callback_data.region)
    except UnknownCodeError:
        await region_zones(query, screen, catalog)
        return
    await coordination.serve(screen.user_id, callback_data.region)
    await show_menu(screen, coordination, catalog)


# --- the invitation for activists ---


def invite_link(username: str | None, coordinator_id: int) -> str:
    return f"https://t.me/{username}?start={INVITE_PREFIX}{coordinator_id}"


@router.callback_query(CoordinatorCb.filter(F.section == "invite"))
@router.message(Command("invite"))
async def invite(
    event: Message | CallbackQuery,
    screen: Screen,
    bot: Bot,
    coordination: CoordinationService,
    catalog: Catalog,
) -> None:
    tr = screen.tr
    link = invite_link((await bot.me()).username, screen.user_id)
    await screen.chat_action(ChatAction.UPLOAD_DOCUMENT)
    await screen.document(
        qr_png(link), "opora-invitation.png", tr("coordinator/invite.j2", link=link)
    )
    await coordination.audit(screen.user_id, "invite.made")
    screen.query = None  # the menu comes anew under the file, its checklist ticked
    await show_menu(screen, coordination, catalog)
