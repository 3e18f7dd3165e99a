"""Cards shared outside the bot: inline mode (`@bot субботник` in any chat offers matching
opportunity cards; the «📤 Share» button of a card asks for exactly that one with `opp_<id>`),
and the chosen results remembered so their free places update in place (this needs inline
feedback on: BotFather's /setinlinefeedback). Nothing is stored about who typed the query."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import (
    ChosenInlineResult,
    InlineQuery,
    InlineQueryResultArticle,
    InlineQueryResultUnion,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
)

from bot.services.sharing import INLINE_CACHE_SECONDS, SharingService

router = Router(name=__name__)


@router.inline_query()
async def inline_search(
    query: InlineQuery, bot: Bot, sharing: SharingService, locale: str
) -> None:
    me = await bot.me()
    results: list[InlineQueryResultUnion] = []
    for listing in await sharing.search(query.query):
        shown = sharing.card(listing, locale, me.username)
        results.append(
            InlineQueryResultArticle(
                id=f"opp_{listing.opportunity.id}",
                title=listing.opportunity.title[:100],
                description=sharing.summary(listing, locale),
                input_message_content=InputTextMessageContent(
                    message_text=shown.text,
                    parse_mode="HTML",
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                ),
                reply_markup=shown.markup,
            )
        )
    # Personal: the cards are in the language of the one who asks.
    await query.answer(results, cache_time=INLINE_CACHE_SECONDS, is_personal=True)


@router.chosen_inline_result()
async def inline_chosen(result: ChosenInlineResult, sharing: SharingService, locale: str) -> None:
    rest = result.result_id.removeprefix("opp_")
    if result.inline_message_id is None or not rest.isdigit() or len(rest) > 9:
        return
    await sharing.remember_inline(int(rest), result.inline_message_id, locale)


async def _via_me(message: Message, bot: Bot) -> bool:
    return message.via_bot is not None and message.via_bot.id == bot.id


@router.message(F.via_bot, _via_me)
async def sent_via_me(message: Message) -> None:
    """A card the user shared into their own chat with the bot: theirs, not a request."""
