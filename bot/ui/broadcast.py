"""The broadcast flow's buttons and the progress view, which the service edits live outside
any update (the flow's screens: `handlers/broadcast.py`)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup

from bot.domain.broadcasts import Progress
from bot.storage.broadcasts import SENDING, Broadcast
from bot.ui.keyboards import RowId, Small, button, keyboard
from bot.ui.render import Tr

KEEP = "k"  # BroadcastCb.value of "new" / "menu": show the next screen as a new message


class BroadcastCb(CallbackData, prefix="bc"):
    """A broadcast screen or action: `id` the broadcast, `value` a role, stage, topic, zone,
    region, preset or kind."""

    action: str
    id: RowId = 0
    value: str = ""
    page: Small = 0


def after_markup(tr: Tr, *, keep: bool = False) -> InlineKeyboardMarkup:
    """Where to go next; with `keep` (under a report) the next screen comes as a new
    message, so the report stays readable."""
    v = KEEP if keep else ""
    return keyboard(
        [
            [button(tr._("📣 New broadcast"), BroadcastCb(action="new", value=v))],
            [button(tr._("🛠 Coordinators' menu"), BroadcastCb(action="menu", value=v))],
        ]
    )


def progress_view(
    tr: Tr, b: Broadcast, progress: Progress
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The live progress message and, once finished, the report (rendered by the service,
    which edits the message outside any update)."""
    if b.finished_at is not None:
        text = tr("broadcast/report.j2", b=b, p=progress)
        return text, after_markup(tr, keep=True)
    text = tr("broadcast/progress.j2", b=b, p=progress)
    if b.status == SENDING:
        return text, keyboard([[button(tr._("⛔ Cancel"), BroadcastCb(action="stop", id=b.id))]])
    return text, None
