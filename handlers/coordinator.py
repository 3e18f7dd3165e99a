"""The coordinators' menu: broadcasts, content, statistics, self-assessment, the brief for the
municipality (each its own flow module); only for coordinators and admins — the parent router
checks the role.

Until they are all done the menu carries a first-run checklist: the region served (📍, chosen
on handlers/place.py's region-first screens: typed or by federal district, the zone asked only
where the region has several), a first local measure, a first opportunity, an invitation for
activists (📨: a deep link and a QR code as a PNG to print) and where the charts are."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.enums import ChatAction
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message

from bot.content import Catalog, UnknownCodeError
from bot.domain.errors import StaleButton
from bot.services.coordination import CoordinationService
from bot.ui.keyboards import Menu, ServePlace, button, keyboard
from bot.ui.qr import qr_png
from bot.ui.render import Tr
from bot.ui.screen import Screen
from handlers.place import PlaceFlow

router = Router(name=__name__)
INVITE_PREFIX = "coord_"  # t.me/<bot>?start=coord_<coordinator id>


class CoordinatorCb(CallbackData, prefix="cm"):
    """A coordinator screen: menu, broadcast, grants, articles, measures, stats, assess, brief
    (and brief_pdf, which sends it as a document), region (choose the region served), invite
    (the invitation for activists)."""

    section: str


def region_name(catalog: Catalog, code: str | None, locale: str) -> str | None:
    if code is None:
        return None
    try:
        return catalog.region(code).name(locale)
    except UnknownCodeError:  # a code from a catalog since changed
        return code


def topic_name(catalog: Catalog, code: str, locale: str) -> str:
    """A topic's short name; a code the catalog no longer has shows as is."""
    try:
        return catalog.topic(code).short.get(locale)
    except UnknownCodeError:
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


# --- the region served: handlers/place.py's region-first screens, with their own prefix ---


class ServeTyping(StatesGroup):
    region = State()  # text typed on the screens of the region served searches the regions


def _to_menu(tr: Tr) -> list[InlineKeyboardButton]:
    return [button(tr._("« Coordinator menu"), CoordinatorCb(section="menu"))]


async def _serve(screen: Screen, iana: str, region: str | None, deps: dict[str, Any]) -> None:
    coordination: CoordinationService = deps["coordination"]
    if region is None:  # pragma: no cover - this flow offers no «Rather not say»
        raise StaleButton
    await coordination.serve(screen.user_id, region, iana)
    await show_menu(screen, coordination, deps["catalog"])


SERVING = PlaceFlow(
    cb=ServePlace,
    typing=ServeTyping.region,
    home_template="coordinator/region.j2",
    back=_to_menu,
    chosen=_serve,
)
serving = SERVING.router(f"{__name__}.serving")


@router.callback_query(CoordinatorCb.filter(F.section == "region"))
async def region_served(query: CallbackQuery, screen: Screen, **deps: Any) -> None:
    await SERVING.home(screen, deps)


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
