"""The consultation desk's outside experts (bot/services/desk.py): three routers.

* `router` — the coordinators' «🎓 Experts» (from «📥 Questions», under the coordinators' role
  check): the experts with their kinds and answers (remove one), the open invitations (revoke
  one), and a new invitation: toggle the kinds (at least one), get the one-time link.
* `link` — `t.me/<bot>?start=exp_<token>` opened by anyone (first the expert's consent screen
  for someone who has not consented: its "I agree" carries the token): the person becomes an
  expert for the invitation's kinds, or is told why not (used, expired, revoked, forged, their
  own link, a coordinator already).
* `expert` — the expert's short menu (under the desk's role check, beside the inbox that they
  share with the coordinators: handlers/desk.py).
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.config import Settings
from bot.delivery import Sender
from bot.services.desk import DeskService, Expert, Invite
from bot.services.profile import ProfileService
from bot.services.users import UserService
from bot.ui.desk import KINDS, DeskCb, ExpertCb, kind_name
from bot.ui.keyboards import Consent, Menu, button, keyboard
from bot.ui.render import Tr
from bot.ui.screen import Screen
from handlers.consent import record_consent
from handlers.coordinator import CoordinatorCb
from handlers.desk import menu_row, who

router = Router(name=__name__)
link = Router(name=f"{__name__}.link")
expert = Router(name=f"{__name__}.expert")
PREFIX = "exp_"  # t.me/<bot>?start=exp_<token>
LINK = r"^exp_[A-Za-z0-9_-]{1,40}$"


def kinds_text(tr: Tr, kinds: tuple[str, ...] | frozenset[str]) -> str:
    return ", ".join(kind_name(tr, k) for k in KINDS if k in kinds)


def _chosen(arg: str) -> tuple[str, ...]:
    """The kinds in a button's data, known ones only, in the catalog's order."""
    wanted = set(arg.split(","))
    return tuple(k for k in KINDS if k in wanted)


# --------------------------------------------------------------------------- the coordinators


async def show_experts(
    screen: Screen, desk: DeskService, users: UserService, settings: Settings, note: str = ""
) -> None:
    tr = screen.tr
    experts: list[Expert] = await desk.experts()
    invites: list[Invite] = await desk.invites()
    listed = []
    rows: list[list[InlineKeyboardButton]] = []
    for found in experts:
        name = who(await users.get(found.user_id), found.user_id)
        listed.append(
            {"name": name, "kinds": kinds_text(tr, found.kinds), "answered": found.answered}
        )
        label = tr._("✖ Remove {name}").format(name=name)
        rows.append([button(label[:60], ExpertCb(action="remove", id=found.user_id))])
    pending = []
    for invite in invites:
        by = who(await users.get(invite.created_by), invite.created_by)
        pending.append(
            {
                "id": invite.id,
                "kinds": kinds_text(tr, invite.kinds),
                "by": by,
                "until": invite.expires_at,
            }
        )
        label = tr._("🚫 Revoke invitation №{n}").format(n=invite.id)
        rows.append([button(label, ExpertCb(action="revoke", id=invite.id))])
    rows.append([button(tr._("➕ Invite an expert"), ExpertCb(action="new"))])
    rows.append([button(tr._("« Questions"), DeskCb(action="inbox"))])
    rows.append([button(tr._("« Coordinator menu"), CoordinatorCb(section="menu"))])
    text = tr(
        "desk/experts.j2",
        experts=listed,
        invites=pending,
        note=note,
        tz=screen.zone(settings.default_timezone),
    )
    await screen.show(text, keyboard(rows))


@router.callback_query(ExpertCb.filter(F.action == "list"))
async def experts_list(
    query: CallbackQuery, screen: Screen, desk: DeskService, users: UserService, settings: Settings
) -> None:
    await show_experts(screen, desk, users, settings)


@router.callback_query(ExpertCb.filter(F.action == "new"))
async def new_invite(query: CallbackQuery, callback_data: ExpertCb, screen: Screen) -> None:
    """The kinds to invite an expert for: each button toggles one (the choice rides in the
    buttons' data: nothing is stored until the link is made)."""
    tr = screen.tr
    chosen = _chosen(callback_data.arg)
    rows = []
    for code, label in KINDS.items():
        toggled = tuple(k for k in chosen if k != code) if code in chosen else (*chosen, code)
        mark = "✅ " if code in chosen else ""
        rows.append(
            [
                button(
                    mark + tr._(label),
                    ExpertCb(action="new", arg=",".join(_chosen(",".join(toggled)))),
                )
            ]
        )
    if chosen:
        rows.append(
            [button(tr._("🔗 Make the link"), ExpertCb(action="make", arg=",".join(chosen)))]
        )
    rows.append([button(tr._("« Back"), ExpertCb(action="list")), *menu_row(tr)])
    text = tr("desk/expert_kinds.j2", chosen=kinds_text(tr, chosen))
    await screen.show(text, keyboard(rows))


@router.callback_query(ExpertCb.filter(F.action == "make"))
async def make_invite(
    query: CallbackQuery,
    callback_data: ExpertCb,
    screen: Screen,
    desk: DeskService,
    bot: Bot,
    settings: Settings,
) -> None:
    tr = screen.tr
    token, invite = await desk.invite(screen.user_id, tuple(callback_data.arg.split(",")))
    url = f"https://t.me/{(await bot.me()).username}?start={PREFIX}{token}"
    rows = [
        [button(tr._("🎓 Experts"), ExpertCb(action="list"))],
        [button(tr._("« Coordinator menu"), CoordinatorCb(section="menu"))],
    ]
    text = tr(
        "desk/expert_invite.j2",
        invite=invite,
        kinds=kinds_text(tr, invite.kinds),
        link=url,
        tz=screen.zone(settings.default_timezone),
    )
    await screen.show(text, keyboard(rows))


@router.callback_query(ExpertCb.filter(F.action == "revoke"))
async def revoke_invite(
    query: CallbackQuery,
    callback_data: ExpertCb,
    screen: Screen,
    desk: DeskService,
    users: UserService,
    settings: Settings,
) -> None:
    invite = await desk.revoke_invite(screen.user_id, callback_data.id)
    note = screen.tr._("🚫 Invitation №{n} is revoked: its link no longer works.")
    await show_experts(screen, desk, users, settings, note.format(n=invite.id))


@router.callback_query(ExpertCb.filter(F.action == "remove"))
async def remove_ask(
    query: CallbackQuery,
    callback_data: ExpertCb,
    screen: Screen,
    desk: DeskService,
    users: UserService,
    settings: Settings,
) -> None:
    tr = screen.tr
    found = next((e for e in await desk.experts() if e.user_id == callback_data.id), None)
    if found is None:
        await show_experts(screen, desk, users, settings, tr._("This expert was already removed."))
        return
    name = who(await users.get(found.user_id), found.user_id)
    rows = [
        [button(tr._("✖ Yes, remove"), ExpertCb(action="removed", id=found.user_id))],
        [button(tr._("« Back"), ExpertCb(action="list"))],
    ]
    text = tr("desk/expert_remove.j2", name=name, kinds=kinds_text(tr, found.kinds))
    await screen.show(text, keyboard(rows))


@router.callback_query(ExpertCb.filter(F.action == "removed"))
async def remove_done(
    query: CallbackQuery,
    callback_data: ExpertCb,
    screen: Screen,
    desk: DeskService,
    users: UserService,
    settings: Settings,
    sender: Sender,
) -> None:
    await desk.remove_expert(screen.user_id, callback_data.id)
    sender.wake()  # the expert is told
    await show_experts(
        screen,
        desk,
        users,
        settings,
        screen.tr._("✖ The expert is removed: they no longer see any question."),
    )


# --------------------------------------------------------------------------- the link


async def _redeem(screen: Screen, desk: DeskService, token: str) -> None:
    tr = screen.tr
    done = await desk.redeem(token, screen.user_id, screen.roles)
    if done.outcome == "joined":
        rows = [[button(tr._("📥 Questions"), DeskCb(action="inbox"))], menu_row(tr)]
    else:
        rows = [menu_row(tr)]
    text = tr("desk/expert_link.j2", outcome=done.outcome, kinds=kinds_text(tr, done.kinds))
    await screen.send(text, keyboard(rows))


@link.message(CommandStart(deep_link=True, magic=F.args.regexp(LINK)))
async def start_expert(
    message: Message,
    command: CommandObject,
    screen: Screen,
    users: UserService,
    desk: DeskService,
) -> None:
    """An invitation link: for someone who has not consented, first the expert's consent
    screen (nothing but the id is stored until "I agree", whose button carries the token)."""
    await users.started(screen.user_id)
    if screen.state is not None:
        await screen.state.clear()
    token = str(command.args)[len(PREFIX) :]
    tr = screen.tr
    if screen.user is None or not screen.user.consented:
        markup = keyboard(
            [
                [button(tr._("✅ I agree"), Consent(action=f"{PREFIX}{token}"))],
                [button(tr._("📄 Full privacy policy"), Consent(action="policy"))],
                [button(tr._("✖ I don't agree"), Consent(action="no"))],
            ]
        )
        await screen.send(tr("consent/expert.j2"), markup)
        return
    await _redeem(screen, desk, token)


@link.callback_query(Consent.filter(F.action.regexp(LINK)))
async def agreed_as_expert(
    query: CallbackQuery,
    callback_data: Consent,
    screen: Screen,
    profiles: ProfileService,
    users: UserService,
    desk: DeskService,
    callback_answer: CallbackAnswer,
) -> None:
    """ "I agree" on the expert's consent screen: consent recorded, then the invitation."""
    await record_consent(query, screen, profiles, users, callback_answer)
    await _redeem(screen, desk, callback_data.action[len(PREFIX) :])


# --------------------------------------------------------------------------- the expert's menu


@expert.message(Command("expert"))
@expert.callback_query(Menu.filter(F.section == "expert"))
async def expert_menu(
    event: Message | CallbackQuery,
    screen: Screen,
    desk_kinds: frozenset[str] | None,
) -> None:
    if screen.state is not None:
        await screen.state.set_state(None)
    tr = screen.tr
    rows = [[button(tr._("📥 Questions"), DeskCb(action="inbox"))], menu_row(tr)]
    kinds = kinds_text(tr, frozenset(KINDS) if desk_kinds is None else desk_kinds)
    await screen.show(tr("desk/expert_menu.j2", kinds=kinds), keyboard(rows))
