"""The coordinators' menu: broadcasts, content, statistics, self-assessment (each its own flow
module); only for coordinators and admins — the parent router checks the role."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message

from bot.ui.keyboards import Menu, button, keyboard
from bot.ui.screen import Screen

router = Router(name=__name__)


class Cm(CallbackData, prefix="cm"):
    """A coordinator screen: menu, broadcast, grants, articles, measures, stats, assess."""

    section: str


@router.message(Command("coordinator"))
@router.callback_query(Cm.filter(F.section == "menu"))
@router.callback_query(Menu.filter(F.section == "coordinator"))
async def coordinator_menu(event: Message | CallbackQuery, screen: Screen) -> None:
    if screen.state is not None:  # the menu ends any form that was open
        await screen.state.set_state(None)
    tr = screen.tr
    markup = keyboard(
        [
            [button(tr._("📣 Broadcast"), Cm(section="broadcast"))],
            [
                button(tr._("💰 Grants"), Cm(section="grants")),
                button(tr._("📖 Articles"), Cm(section="articles")),
            ],
            [button(tr._("🤝 Local support measures"), Cm(section="measures"))],
            [button(tr._("🙋 Volunteer opportunities"), Cm(section="opportunities"))],
            [button(tr._("👥 Activists who may publish"), Cm(section="organisers"))],
            [
                button(tr._("📊 Statistics"), Cm(section="stats")),
                button(tr._("🧭 Self-assessment"), Cm(section="assess")),
            ],
            [button(tr._("☰ Menu"), Menu(section="home"))],
        ]
    )
    await screen.show(tr("coordinator/menu.j2"), markup)
