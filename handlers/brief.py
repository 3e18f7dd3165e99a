"""Coordinators: 📄 the brief for a municipality, «Зачем поддерживать социальные инициативы» —
the seed's two definitions and ten things initiatives give the authorities, beside the area's
figures from /stats. The screen previews it; «📄 PDF» sends it as an A4 document. The parent
router lets only coordinators and admins in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import F, Router
from aiogram.enums import ChatAction
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.infra.turns import stepped_aside
from bot.services.brief import BriefService
from bot.services.coordination import CoordinationService
from bot.ui.brief import render_brief
from bot.ui.keyboards import button, keyboard
from bot.ui.painter import Painter
from bot.ui.screen import Screen
from handlers.coordinator import CoordinatorCb

router = Router(name=__name__)


@router.message(Command("brief"))
@router.callback_query(CoordinatorCb.filter(F.section == "brief"))
async def show_brief(event: Message | CallbackQuery, screen: Screen, briefs: BriefService) -> None:
    tr = screen.tr
    brief = await briefs.brief(tr, screen.user)
    markup = keyboard(
        [
            [button(tr._("📄 PDF"), CoordinatorCb(section="brief_pdf"))],
            [button(tr._("« Back"), CoordinatorCb(section="menu"))],
        ]
    )
    await screen.show(tr("brief/screen.j2", b=brief), markup)


@router.callback_query(CoordinatorCb.filter(F.section == "brief_pdf"))
async def send_brief(
    query: CallbackQuery,
    screen: Screen,
    briefs: BriefService,
    painter: Painter,
    coordination: CoordinationService,
    answer_press: Callable[[], Awaitable[None]],
) -> None:
    tr = screen.tr
    brief = await briefs.brief(tr, screen.user)
    await answer_press()  # the button stops spinning now, not once the PDF is made
    await screen.chat_action(ChatAction.UPLOAD_DOCUMENT)
    async with stepped_aside():  # other users' updates go on while this one waits
        pdf = await painter.draw(render_brief, brief)
    screen.query = None  # the document comes under the preview, which stays as it was
    await screen.document(pdf, brief.filename, tr("brief/sent.j2", b=brief))
    await coordination.audit(screen.user_id, "brief.pdf", figures=len(brief.figures))
