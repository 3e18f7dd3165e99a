"""/grants: every programme that fits the user, each with its status (open, opens soon, closed
until the next season, dates not announced) — or only the open ones; a card per grant with
follow (deadline reminders) and "add to calendar"; /calendar for all followed."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message

from bot.config import Settings
from bot.domain.errors import StaleButton
from bot.domain.grants import opening
from bot.domain.paging import paged
from bot.infra.clock import Clock
from bot.services.catalogs import CatalogService, Fit, fit_for
from bot.services.profile import ConsentRequired, ProfileService
from bot.ui.keyboards import GrantCb, Menu, back_row, button, keyboard, page_row
from bot.ui.screen import Screen

router = Router(name=__name__)
PAGE = 5


def _caveat(screen: Screen) -> str:
    return screen.tr._(
        "≈ The usual date, by past years: the programme has not announced this year's dates. "
        "Check them on its official site."
    )


async def show_list(
    screen: Screen, page: int, catalogs: CatalogService, fit: Fit, clock: Clock, only: str = ""
) -> None:
    now = clock.now()
    fitting = catalogs.fitting(await catalogs.grants(), fit, now)
    found = [(g, o) for g, o in fitting if o.status == "open"] if only else fitting
    followed = await catalogs.followed(screen.user_id) if screen.user else set()
    at = paged(len(found), page, PAGE)
    shown = found[at.slice]
    tr = screen.tr
    rows: list[list[InlineKeyboardButton]] = [
        [
            button(
                ("🔔 " if g.key in followed else "") + g.title.get(tr.locale)[:56],
                GrantCb(action="card", key=g.key, page=at.number, only=only),
            )
        ]
        for g, _ in shown
    ]
    rows.append(page_row(at, lambda n: GrantCb(action="list", page=n, only=only)))
    if only:
        rows.append([button(tr._("📋 All programmes"), GrantCb(action="list"))])
    else:
        rows.append([button(tr._("🟢 Only open now"), GrantCb(action="list", only="open"))])
    rows.append(back_row(tr))
    text = tr(
        "grants/list.j2",
        found=shown,
        page=at.number + 1,
        pages=at.pages,
        total=len(found),
        fitting=len(fitting),
        only=only,
        fit=fit,
    )
    await screen.show(text, keyboard(rows))


@router.message(Command("grants"))
@router.callback_query(Menu.filter(F.section == "grants"))
async def grants_command(
    event: Message | CallbackQuery,
    screen: Screen,
    catalogs: CatalogService,
    profiles: ProfileService,
    settings: Settings,
    clock: Clock,
) -> None:
    await show_list(
        screen, 0, catalogs, await fit_for(profiles, screen.user, settings.default_timezone), clock
    )


@router.callback_query(GrantCb.filter(F.action == "list"))
async def list_page(
    query: CallbackQuery,
    callback_data: GrantCb,
    screen: Screen,
    catalogs: CatalogService,
    profiles: ProfileService,
    settings: Settings,
    clock: Clock,
) -> None:
    fit = await fit_for(profiles, screen.user, settings.default_timezone)
    await show_list(screen, callback_data.page, catalogs, fit, clock, callback_data.only)


async def show_card(
    screen: Screen,
    origin: GrantCb,
    catalogs: CatalogService,
    fit: Fit,
    clock: Clock,
    profiles: ProfileService | None = None,
) -> None:
    """The grant's card; for a follower whose grant pushes are off (`profiles` given), that
    said, with a button to turn them on — a follow never promises reminders that won't come."""
    key, page, only = origin.key, origin.page, origin.only
    grant = await catalogs.grant(key)
    if grant is None:
        raise StaleButton
    now = clock.now()
    found = opening(grant.key, grant.windows, grant.timezone, now)
    following = key in await catalogs.followed(screen.user_id) if screen.user else False
    pushes_off = (
        following
        and profiles is not None
        and not (await profiles.push_settings(screen.user_id)).grants
    )
    tr = screen.tr
    rows: list[list[InlineKeyboardButton]] = [
        [
            button(
                tr._("🔕 Stop following") if following else tr._("🔔 Follow deadlines"),
                GrantCb(action="follow", key=key, page=page, only=only),
            ),
        ]
    ]
    if pushes_off:
        on = GrantCb(action="pushes", key=key, page=page, only=only)
        rows.insert(0, [button(tr._("🔔 Turn on grant reminders"), on)])
    if found.occurrence is not None and found.occurrence.close_at is not None:
        ics = GrantCb(action="ics", key=key, page=page, only=only)
        rows.append([button(tr._("📅 Add to calendar"), ics)])
    if grant.link:
        rows.append([InlineKeyboardButton(text=tr._("🔗 Official site"), url=grant.link)])
    rows.append([button(tr._("« Back to the list"), GrantCb(action="list", page=page, only=only))])
    text = tr(
        "grants/card.j2",
        g=grant, found=found, tz=fit.timezone, following=following, pushes_off=pushes_off,
    )  # fmt: skip
    await screen.show(text, keyboard(rows))


@router.callback_query(GrantCb.filter(F.action == "card"))
async def card(
    query: CallbackQuery,
    callback_data: GrantCb,
    screen: Screen,
    catalogs: CatalogService,
    profiles: ProfileService,
    settings: Settings,
    clock: Clock,
) -> None:
    fit = await fit_for(profiles, screen.user, settings.default_timezone)
    await show_card(screen, callback_data, catalogs, fit, clock, profiles)


@router.callback_query(GrantCb.filter(F.action.in_({"follow", "pushes"})))
async def follow(
    query: CallbackQuery,
    callback_data: GrantCb,
    screen: Screen,
    catalogs: CatalogService,
    profiles: ProfileService,
    settings: Settings,
    clock: Clock,
) -> None:
    """Follow or stop following; "pushes": grant pushes on, from the card of a grant followed
    while they were off."""
    if screen.user is None or not screen.user.consented:
        raise ConsentRequired
    if await catalogs.grant(callback_data.key) is None:
        raise StaleButton
    if callback_data.action == "pushes":
        pushes = await profiles.push_settings(screen.user_id)
        await profiles.save_push_settings(screen.user_id, pushes.with_(grants=True))
    else:
        await catalogs.toggle_follow(screen.user_id, callback_data.key)
    fit = await fit_for(profiles, screen.user, settings.default_timezone)
    await show_card(screen, callback_data, catalogs, fit, clock, profiles)


@router.callback_query(GrantCb.filter(F.action == "ics"))
async def add_to_calendar(
    query: CallbackQuery,
    callback_data: GrantCb,
    screen: Screen,
    catalogs: CatalogService,
    clock: Clock,
) -> None:
    grant = await catalogs.grant(callback_data.key)
    if grant is None:
        raise StaleButton
    ics = catalogs.calendar([grant], screen.tr.locale, clock.now(), _caveat(screen))
    if ics is None:
        raise StaleButton
    await screen.document(
        ics,
        f"{grant.key}.ics",
        screen.tr._("📅 Open the file to add the deadline to your calendar."),
    )


@router.message(Command("calendar"))
async def calendar_command(
    message: Message, screen: Screen, catalogs: CatalogService, clock: Clock
) -> None:
    followed = await catalogs.followed(screen.user_id)
    grants = [g for g in await catalogs.grants() if g.key in followed]
    now = clock.now()
    ics = catalogs.calendar(grants, screen.tr.locale, now, _caveat(screen)) if grants else None
    if ics is None:
        await screen.send(
            screen.tr("grants/no_calendar.j2"),
            keyboard([[button(screen.tr._("📋 Grants"), Menu(section="grants"))]]),
        )
        return
    await screen.document(
        ics,
        "opora-deadlines.ics",
        screen.tr._(
            "📅 All the deadlines you follow. Open the file to add them to your calendar."
        ),
    )
