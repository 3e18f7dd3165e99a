"""The coordinators' menu: broadcasts, content, statistics, self-assessment, the brief for the
municipality (each its own flow module); only for coordinators and admins — the parent router
checks the role."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message

from bot.ui.keyboards import Menu, button, keyboard
from bot.ui.screen import Screen

router = Router(name=__name__)


class CoordinatorCb(CallbackData, prefix="cm"):
    """A coordinator screen: menu, broadcast, grants, articles, measures, stats, assess, brief
    (and brief_pdf, which sends it as a document)."""

    section: str


@router.message(Command("coordinator"))
@router.callback_query(CoordinatorCb.filter(F.section == "menu"))
@router.callback_query(Menu.filter(F.section == "coordinator"))
async def coordinator_menu(event: Message | CallbackQuery, screen: Screen) -> None:
    if screen.state is not None:  # the menu ends any form that was open
        await screen.state.set_state(None)
    tr = screen.tr
    markup = keyboard(
        [
            [button(tr._("📣 Broadcast"), CoordinatorCb(section="broadcast"))],
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
            [button(tr._("☰ Menu"), Menu(section="home"))],
        ]
    )
    await screen.show(tr("coordinator/menu.j2"), markup)
