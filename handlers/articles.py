"""/articles: best practices matched to the user's stage and topics, read ones marked; a card
with our own summary and a link to the source."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message

from bot.config import Settings
from bot.domain.errors import StaleButton
from bot.domain.paging import paged
from bot.services.catalogs import CatalogService, Fit, fit_for
from bot.services.profile import ProfileService
from bot.ui.keyboards import ArticleCb, Menu, back_row, button, keyboard, page_row
from bot.ui.screen import Screen

router = Router(name=__name__)
PAGE = 6


@router.message(Command("articles"))
@router.callback_query(Menu.filter(F.section == "articles"))
async def articles_command(
    event: Message | CallbackQuery,
    screen: Screen,
    catalogs: CatalogService,
    profiles: ProfileService,
    settings: Settings,
) -> None:
    await show_list(
        screen, 0, catalogs, await fit_for(profiles, screen.user, settings.default_timezone)
    )


@router.callback_query(ArticleCb.filter(F.action == "list"))
async def list_page(
    query: CallbackQuery,
    callback_data: ArticleCb,
    screen: Screen,
    catalogs: CatalogService,
    profiles: ProfileService,
    settings: Settings,
) -> None:
    await show_list(
        screen,
        callback_data.page,
        catalogs,
        await fit_for(profiles, screen.user, settings.default_timezone),
    )


async def show_list(screen: Screen, page: int, catalogs: CatalogService, fit: Fit) -> None:
    found = catalogs.matching_articles(await catalogs.articles(), fit)
    states = await catalogs.article_states(screen.user_id) if screen.user else {}
    found.sort(key=lambda a: states.get(a.key, False))  # unread first, stable otherwise
    at = paged(len(found), page, PAGE)
    shown = found[at.slice]
    tr = screen.tr
    rows: list[list[InlineKeyboardButton]] = [
        [
            button(
                ("✓ " if states.get(a.key) else "📖 ") + a.title.get(tr.locale)[:56],
                ArticleCb(action="card", key=a.key, page=at.number),
            )
        ]
        for a in shown
    ]
    rows += [page_row(at, lambda n: ArticleCb(action="list", page=n)), back_row(tr)]
    read = sum(1 for a in found if states.get(a.key))
    text = tr(
        "articles/list.j2",
        total=len(found),
        read=read,
        page=at.number + 1,
        pages=at.pages,
        fit=fit,
    )
    await screen.show(text, keyboard(rows))


@router.callback_query(ArticleCb.filter(F.action == "card"))
async def article_card(
    query: CallbackQuery, callback_data: ArticleCb, screen: Screen, catalogs: CatalogService
) -> None:
    article = next((a for a in await catalogs.articles() if a.key == callback_data.key), None)
    if article is None:
        raise StaleButton
    if screen.user is not None and screen.user.consented:
        await catalogs.mark_read(screen.user_id, article.key)
    tr = screen.tr
    # Our summaries link to the source's site, not to a page they retell: the button says so.
    # A coordinator's article links to the article itself.
    label = f"🔗 {article.source}" if article.source else tr._("🔗 Open the article")
    rows = [
        [InlineKeyboardButton(text=label, url=article.link)],
        [button(tr._("« Back to the list"), ArticleCb(action="list", page=callback_data.page))],
    ]
    await screen.show(tr("articles/card.j2", a=article), keyboard(rows))
