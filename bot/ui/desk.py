"""The consultation desk's buttons and names shared by the handlers and the service's pushes."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.ui.render import Tr

MAX_QUESTION = 3000  # characters of a question or a follow-up (a group post stays under 4096)
MAX_FILES = 3  # photos or documents attached to a question


def _(message: str) -> str:
    """Marks a string for extraction; it is translated where it is shown."""
    return message


KINDS: dict[str, str] = {
    "law": _("⚖️ Law"),
    "accounting": _("🧾 Accounting"),
    "grant": _("📝 Grant application"),
    "management": _("🧭 Management"),
    "other": _("❓ Other"),
}
STATUSES: dict[str, str] = {
    "new": _("waiting to be taken"),
    "taken": _("being answered"),
    "answered": _("answered"),
    "closed": _("closed"),
    "withdrawn": _("withdrawn"),
}


class DeskCb(CallbackData, prefix="dk"):
    """A desk action: `ask` (choose a kind), `kind` (arg: the kind), `send`, `edit`, `mine`,
    `open` / `reply` / `close` / `withdraw` / `rate` (arg: 1-5) / `comment` on the asker's
    question `id`; the coordinators' `inbox`, `see`, `take`, `answer`, `shut`."""

    action: str
    id: int = 0
    arg: str = ""


class ExpertCb(CallbackData, prefix="ex"):
    """The coordinators' outside experts: `list` (experts and open invitations), `new`
    (choose the kinds; arg: those chosen so far, comma-separated), `make` (the invitation for
    arg's kinds), `revoke` invitation `id`, `remove` expert `id` (ask), `removed` (confirmed)."""

    action: str
    id: int = 0
    arg: str = ""


def kind_name(tr: Tr, kind: str) -> str:
    return tr._(KINDS.get(kind, KINDS["other"]))


def status_name(tr: Tr, status: str) -> str:
    return tr._(STATUSES.get(status, status))
