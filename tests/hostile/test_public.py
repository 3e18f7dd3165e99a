"""Hostile input where anyone can reach: /start and consent, the public screens (stages,
measures, grants, articles, language), commands out of order, random and forged buttons,
photos, stickers and files where text is expected."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from bot.storage.tables import metadata, users
from tests.hostile.harness import (
    ALL_PREFIXES,
    MEDIA,
    PUBLIC_PREFIXES,
    Harness,
    callback_data,
    hostile,
    texts,
)

LANGUAGES = st.sampled_from(["ru", "en", None, "ar", "he", "zh-hans", "ru-RU", "xx"])

Action = tuple[str, Any]
speak = st.tuples(st.just("text"), texts(commands=True))
show = st.tuples(st.just("media"), st.sampled_from(MEDIA))
forge = st.tuples(st.just("press"), callback_data(ALL_PREFIXES))


async def act(harness: Harness, user: Any, action: Action) -> None:
    kind, value = action
    if kind == "text":
        await harness.send(user, value)
    elif kind == "media":
        await harness.send_media(user, value)
    else:
        await harness.press(user, value)


async def personal_rows(harness: Harness, user_id: int) -> dict[str, int]:
    """Rows about the user outside `users` and the FSM (anything stored beyond the id)."""
    found: dict[str, int] = {}
    for table in metadata.sorted_tables:
        if table.name in {"users", "fsm_states", "audit_log"} or "user_id" not in table.c:
            continue
        rows = await harness.rows(table, user_id=user_id)
        if rows:
            found[table.name] = len(rows)
    return found


@hostile
@given(
    language=LANGUAGES,
    actions=st.tuples(speak | show).flatmap(
        lambda first: st.lists(speak | show | forge, max_size=5).map(
            lambda rest: [first[0], *rest]
        )
    ),
)
async def test_a_stranger_gets_an_answer_to_anything_and_nothing_is_stored(
    harness: Harness, language: str | None, actions: list[Action]
) -> None:
    """Commands out of order (/quiz, /broadcast before consent…), media, forged buttons of
    every flow: always answered, and without consent nothing beyond the id is stored."""
    before = await harness.snapshot()
    user = harness.user(language)
    for action in actions:
        await act(harness, user, action)
    found = await harness.rows(users, id=user.id)
    row = found[0] if found else None
    if row is None or row["consent_at"] is None:
        assert row is None or (row["first_name"], row["username"]) == (None, None)
        assert await personal_rows(harness, user.id) == {}
    assert await harness.snapshot(ignore_user=user.id) == before


@hostile
@given(name=st.text(min_size=1, max_size=64).filter(lambda s: bool(s.strip())), language=LANGUAGES)
@example(name="Ан\x00на", language="ru")  # a NUL broke consent on PostgreSQL
async def test_consent_with_a_hostile_name_stores_it_as_given(
    harness: Harness, name: str, language: str | None
) -> None:
    user = harness.user(language, first_name=name)
    await harness.send(user, "/start")
    await harness.tap(user, user.last_bot_message.buttons[0][0].text)  # type: ignore[union-attr]
    consent = user.last_bot_message
    assert consent is not None
    await harness.press(user, consent.buttons[0][0].callback_data or "")  # I agree
    [row] = await harness.rows(users, id=user.id)
    assert row["consent_at"] is not None
    assert row["first_name"] == (name.replace("\x00", "") or None)  # no NUL: PostgreSQL
    await harness.send(user, "/my_data")  # the name comes back in the export, escaped


@hostile
@given(
    screen=st.sampled_from(["/grants", "/articles", "/menu", "/calendar", "/language"]),
    data=st.lists(callback_data(PUBLIC_PREFIXES), min_size=1, max_size=5),
    language=LANGUAGES,
)
async def test_forged_public_buttons_change_nothing_of_others(
    harness: Harness, screen: str, data: list[str], language: str | None
) -> None:
    user = await harness.consented(language)
    before = await harness.snapshot(ignore_user=user.id)
    await harness.send(user, screen)
    for forged in data:
        await harness.press(user, forged)
    assert await harness.snapshot(ignore_user=user.id) == before
