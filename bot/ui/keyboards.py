"""Callback data factories and the keyboards every flow shares.

Callbacks are stateless (everything needed is in the data) so buttons survive restarts; forged
or stale data fails the filters and reaches the fallback handler, which answers with a fresh
menu.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Annotated, Literal, Self

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from pydantic import Field

from bot.domain.paging import Page
from bot.storage.users import User
from bot.ui.render import Tr

# Numbers in callback data are whatever the client sends: a tampered button may carry any.
# One that no column can hold (our tables' keys are 32-bit on PostgreSQL, Telegram ids have
# at most 52 bits) fails the filter — "this menu is out of date" — instead of reaching SQL.
RowId = Annotated[int, Field(ge=0, le=2**31 - 1)]
TelegramId = Annotated[int, Field(ge=0, le=2**52)]
Small = Annotated[int, Field(ge=0, le=100_000)]  # a page, a position, a stage number


class Menu(CallbackData, prefix="m"):
    """A main-menu section: home, about, help, lang, stages, measures."""

    section: str


class Lang(CallbackData, prefix="lang"):
    code: str


class StageCard(CallbackData, prefix="st"):
    number: Small


class PhaseCard(CallbackData, prefix="ph"):
    code: str


class Consent(CallbackData, prefix="cs"):
    """yes / no / policy."""

    action: str


class MyData(CallbackData, prefix="dt"):
    """delete (ask) / confirm / keep."""

    action: str


class RoleCb(CallbackData, prefix="rl"):
    role: str


class Place(CallbackData, prefix="pl"):
    """The place screen, region first: home (type a name or pick a federal district), d (the
    district `value`'s regions, page `n`), r (region `value` chosen), z (zone `n` of region
    `value`, one over several offsets), none (no region: the zone groups), g (group `value`)."""

    action: str
    value: str = ""
    n: Small = 0


class ServePlace(Place, prefix="cr"):
    """The same screens for the region a coordinator serves (handlers/coordinator.py): its own
    prefix, so the coordinators' router (role checked) takes it; no `none` nor `g` there."""


class IkigaiCb(CallbackData, prefix="ik"):
    """The ikigai exercise: col (show), next, edit, chg (change entry), del, topics, done."""

    action: str
    column: str = ""
    position: Small = 0


class TopicCb(CallbackData, prefix="tp"):
    code: str


class AnswerCb(CallbackData, prefix="qz"):
    """An answer: question and option codes (≤ 24 characters each, so it fits 64 bytes)."""

    question: str
    option: str


class QuizCb(CallbackData, prefix="qn"):
    """start / back."""

    action: str


class Check(CallbackData, prefix="ck"):
    """A checklist toggle: kind "problems" or "crises"; code "" = done."""

    kind: str
    code: str = ""


class DiagnosisCb(CallbackData, prefix="dx"):
    """Diagnosis screens: card, problems, crises, advice."""

    screen: str


class MeasuresCb(CallbackData, prefix="ms"):
    """Matched measures: kind, a measure type code or "all"; page from 0."""

    kind: str = "all"
    page: Small = 0


class MeasureCb(CallbackData, prefix="mc"):
    """A measure's card; kind and page lead back to the list it was opened from."""

    code: str
    kind: str = "all"
    page: Small = 0


class ProfileCb(CallbackData, prefix="pf"):
    """Profile: show, or edit a part (ikigai, topics, quiz, problems, crises, role, place)."""

    part: str = ""


class SettingsCb(CallbackData, prefix="se"):
    """/settings: toggle a category, or cycle digest / day / hour / quiet hours."""

    item: str


class Unsub(CallbackData, prefix="un"):
    """The one-tap unsubscribe under every push: a category, or "digest"."""

    what: str


class GrantCb(CallbackData, prefix="gr"):
    """Grants: action list (at page), card, follow (toggle), ics; ``only`` "open": the list
    shows only the grants open now, "" every fitting one."""

    action: str
    key: str = ""
    page: Small = 0
    only: Literal["", "open"] = ""

    @classmethod
    def unpack(cls, value: str) -> Self:
        """Buttons sent before ``only`` existed (in reminders and digests weeks old) have one
        part less: they mean the full list."""
        if value.count(cls.__separator__) == 3:
            value += cls.__separator__
        return super().unpack(value)


class ArticleCb(CallbackData, prefix="ar"):
    """Articles: action list (at page) or card."""

    action: str
    key: str = ""
    page: Small = 0


Row = Sequence[InlineKeyboardButton]


def button(text: str, data: CallbackData | str) -> InlineKeyboardButton:
    packed = data if isinstance(data, str) else data.pack()
    return InlineKeyboardButton(text=text, callback_data=packed)


def keyboard(rows: Iterable[Row]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[list(r) for r in rows if r])


def grid(buttons: Sequence[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def page_row(
    page: Page, to: Callable[[int], CallbackData], back: str = "◀", forward: str = "▶"
) -> list[InlineKeyboardButton]:
    """`back` and `forward` to the pages before and after `page` (`to(n)`: the callback data
    of page n); empty on a single page (`keyboard` leaves an empty row out)."""
    row = []
    if page.has_prev:
        row.append(button(back, to(page.number - 1)))
    if page.has_next:
        row.append(button(forward, to(page.number + 1)))
    return row


def back_row(tr: Tr, target: CallbackData | None = None) -> list[InlineKeyboardButton]:
    """« Back (to `target`, or to the main menu)."""
    if target is None:
        return [button(tr._("« Main menu"), Menu(section="home"))]
    return [button(tr._("« Back"), target), button(tr._("☰ Menu"), Menu(section="home"))]


def main_menu(
    tr: Tr, user: User | None = None, roles: frozenset[str] = frozenset()
) -> InlineKeyboardMarkup:
    """The main menu; a user who consented gets their project and profile on top, and a
    coordinator or admin their tools at the bottom."""
    mine = user.roles if user is not None else frozenset()
    if user is None or not user.consented:
        personal = [
            [button(tr._("🚀 Start: my project"), Menu(section="journey"))],
            [button(tr._("🤝 I want to help"), Menu(section="helping"))],
        ]
    elif "volunteer" in mine and "activist" not in mine:  # opportunities first
        personal = [
            [button(tr._("🙋 Opportunities"), Menu(section="volunteer"))],
            [button(tr._("✅ My sign-ups"), Menu(section="signups"))],
            [
                button(tr._("👤 Profile"), Menu(section="profile")),
                button(tr._("💬 Ask a question"), Menu(section="desk")),
            ],
            [button(tr._("🚀 I have a project of my own too"), Menu(section="own_project"))],
        ]
    else:
        personal = [
            [button(tr._("🚀 My project"), Menu(section="journey"))],
            [
                button(tr._("👤 Profile"), Menu(section="profile")),
                button(tr._("💬 Ask a question"), Menu(section="desk")),
            ],
            [button(tr._("🤝 Peers and mentors"), Menu(section="peers"))]
            if "activist" in mine
            else [],
            [
                button(tr._("🙋 Volunteering"), Menu(section="volunteer"))
                if "volunteer" in mine
                else button(tr._("🤝 I want to help"), Menu(section="helping"))
            ],
        ]
    return keyboard(
        [
            *personal,
            [button(tr._("🧭 Stages of a project"), Menu(section="stages"))],
            [button(tr._("🤝 Support measures"), Menu(section="measures"))],
            [
                button(tr._("💰 Grants"), Menu(section="grants")),
                button(tr._("📖 Practices"), Menu(section="articles")),
            ],
            [
                button(tr._("ℹ️ About"), Menu(section="about")),
                button(tr._("❓ Help"), Menu(section="help")),
            ],
            [
                button(tr._("📚 Frequent questions"), Menu(section="faq")),
                button(tr._("🌐 Language"), Menu(section="lang")),
            ],
            [button(tr._("🛠 For coordinators"), Menu(section="coordinator"))]
            if roles & {"coordinator", "admin"}
            else [],
            [button(tr._("📅 My opportunities"), Menu(section="opportunities"))]
            if "organiser" in roles and not roles & {"coordinator", "admin"}
            else [],
            [button(tr._("🎓 Questions for me as an expert"), Menu(section="expert"))]
            if "expert" in roles and not roles & {"coordinator", "admin"}
            else [],
        ]
    )


def availability_toggles(
    tr: Tr, chosen: frozenset[str], data: Callable[[str], CallbackData]
) -> list[InlineKeyboardButton]:
    """A volunteer's time slots as toggles that show their state (✅ on, ▫️ off)."""
    names = {
        "weekdays": tr._("Weekdays"),
        "evenings": tr._("Weekday evenings"),
        "weekends": tr._("Weekends"),
    }
    return [
        button(("✅ " if code in chosen else "▫️ ") + name, data(code))
        for code, name in names.items()
    ]


def language_menu(tr: Tr) -> InlineKeyboardMarkup:
    return keyboard(
        [
            [button("🇷🇺 Русский", Lang(code="ru")), button("🇬🇧 English", Lang(code="en"))],
            back_row(tr),
        ]
    )


# Volunteering (bot/services/volunteering.py packs the ones under its pushes: bot/ui/packed.py).


class VolunteerCb(CallbackData, prefix="vo"):
    """Volunteering: action menu / topics / list / card / sign / cancel / ics / mine; `id` an
    opportunity; topic, period and page lead back to the list it came from."""

    action: str
    id: RowId = 0
    topic: str = ""
    period: str = "a"
    page: Small = 0


class SkillsCb(CallbackData, prefix="vs"):
    """The volunteer's skills and time: action show / edit / ikigai / av (toggle `value`)."""

    action: str
    value: str = ""


class SetupCb(CallbackData, prefix="vj"):
    """The volunteer's onboarding: topics / tp (toggle `value`) / skills / time / av (toggle)
    / reach / go (reach `value`) / done / notify."""

    action: str
    value: str = ""


class OrganiserCb(CallbackData, prefix="oa"):
    """The organiser's tools: action list / new / card / people / csv / msg / att / edit / set /
    close / open / cancel / cancel_ok and wizard buttons; `id` the opportunity."""

    action: str
    id: RowId = 0
    value: str = ""
    page: Small = 0


class ConfirmCb(CallbackData, prefix="vc"):
    """The day-before confirmation: action yes / no; `id` the opportunity, `uid` whose sign-up
    (a button forwarded or forged to someone else is refused)."""

    action: str
    id: RowId = 0
    uid: TelegramId = 0


class RateCb(CallbackData, prefix="vr"):
    """After the event: action rate (`value` 1–5) / comment / skip; `id` the opportunity,
    `uid` whose rating."""

    action: str
    id: RowId = 0
    uid: TelegramId = 0
    value: int = 0


class CertCb(CallbackData, prefix="vt"):
    """The volunteer's certificate: action ask (which name) / full / first (make the PDF)."""

    action: str
