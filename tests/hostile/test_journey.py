"""Hostile input along the activist's journey: role and region, the ikigai entries (typed and
edited), the quiz, the profile and /settings, the diagnosis and measures."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from bot.content import get_catalog
from bot.domain import ikigai as rules
from bot.storage.settings import DIGESTS
from bot.storage.tables import ikigai_entries, quiz_results, user_roles, user_settings, users
from bot.ui.keyboards import IkigaiCb, Menu
from tests.hostile.harness import (
    MEDIA,
    PERSONAL_PREFIXES,
    PUBLIC_PREFIXES,
    Harness,
    few,
    hostile,
    telegram_text,
    texts,
)

CATALOG = get_catalog()
ZONES = {z.iana for z in CATALOG.zones} | {r.iana for r in CATALOG.regions}
ZONES |= {z.iana for r in CATALOG.regions for z in r.zones}  # Yakutia's other two
REGIONS = {r.code: r for r in CATALOG.regions}
JOURNEY = Menu(section="journey").pack()


async def roles_of(harness: Harness, user_id: int) -> set[str]:
    return {r["role"] for r in await harness.rows(user_roles, user_id=user_id)}


@hostile
@given(data=st.data())
async def test_role_and_place_take_only_what_the_buttons_offer(
    harness: Harness, data: st.DataObject
) -> None:
    user = await harness.consented(role=None, place=None)
    await harness.send(user, "/menu")
    await harness.press(user, JOURNEY)
    await harness.wander(user, data, 6, ["rl", "pl", "m", *PERSONAL_PREFIXES])
    assert await roles_of(harness, user.id) <= {"activist", "volunteer"}
    [row] = await harness.rows(users, id=user.id)
    assert row["timezone"] is None or row["timezone"] in ZONES
    if row["region"] is not None:
        region = REGIONS[row["region"]]
        assert row["timezone"] in {region.iana} | {z.iana for z in region.zones}


def _expected_ikigai(typed: list[str | None]) -> tuple[dict[str, list[str]], str | None]:
    """What the exercise keeps of what was typed, column after column (None: a file), and
    the column it asks for next (None: past the last one, at the topics)."""
    stored: dict[str, list[str]] = {}
    columns = list(rules.COLUMNS)
    for text in typed:
        if not columns:  # past the last column: the topics screen takes no text
            continue
        entry = rules.clean_entry(text)
        if isinstance(entry, rules.EntryProblem):
            continue
        col = columns[0]
        stored[col] = [*stored.get(col, []), entry][-rules.MAX_ENTRIES :]
        if len(stored[col]) == rules.MAX_ENTRIES:
            columns.pop(0)
    return stored, columns[0] if columns else None


@hostile
@given(
    typed=st.lists(texts() | st.sampled_from(MEDIA).map(lambda _: None), min_size=1, max_size=5),
    replacement=st.none() | texts(),
)
async def test_ikigai_stores_exactly_the_entries_it_accepted(
    harness: Harness, typed: list[str | None], replacement: str | None
) -> None:
    """A 10 000-character entry, an empty-looking one, a sticker: a hint and nothing stored;
    anything else is stored as folded and shown literally (markup stays text)."""
    user = await harness.consented(language_code="en")
    await harness.send(user, "/menu")
    await harness.press(user, JOURNEY)
    delivered: list[str | None] = []
    for text in typed:
        if text is None:
            await harness.send_media(user, "sticker")
            delivered.append(None)
            continue
        _, column = _expected_ikigai(delivered)
        replies = await harness.send(user, text)
        delivered.append(telegram_text(text))
        entry = rules.clean_entry(delivered[-1])
        shown = "\n".join(reply.text for reply in replies)
        if entry is rules.EntryProblem.TOO_LONG:
            assert str(rules.ENTRY_LIMIT) in shown
        elif isinstance(entry, str) and _expected_ikigai(delivered)[1] == column:
            assert f". {entry}" in shown  # literally, markup and all
    expected, _ = _expected_ikigai(delivered)

    if replacement is not None and expected.get("want"):
        await harness.press(user, IkigaiCb(action="chg", column="want", position=1).pack())
        await harness.send(user, replacement)
        entry = rules.clean_entry(telegram_text(replacement))
        if isinstance(entry, str):
            expected["want"][0] = entry

    rows = await harness.rows(ikigai_entries, user_id=user.id)
    stored: dict[str, list[str]] = {}
    for row in sorted(rows, key=lambda r: (r["col"], r["position"])):
        stored.setdefault(row["col"], []).append(row["text"])
    assert stored == expected
    assert all(len(e) <= rules.ENTRY_LIMIT for entries in stored.values() for e in entries)


@few
@given(data=st.data())
async def test_the_quiz_stores_only_offered_answers(harness: Harness, data: st.DataObject) -> None:
    """Every question answered with one of its buttons, with forged answers (other questions'
    codes, unknown ones), typed text and files in between: the result stored, if any, holds
    only offered answers to every question."""
    user = await harness.consented(ikigai_done=True)
    await harness.send(user, "/quiz")
    questions = {q.code: {o.code for o in q.options} for q in CATALOG.quiz.questions}
    for _ in questions:
        await harness.wander(user, data, data.draw(st.integers(0, 1)), ["qz", "qn"], typed=texts())
        newest = user.last_bot_message
        answers = [
            b.callback_data
            for row in (newest.buttons if newest else [])
            for b in row
            if (b.callback_data or "").startswith("qz:")
        ]
        if answers:
            index = data.draw(st.integers(0, 10**6), label="answer")
            await harness.press(user, answers[index % len(answers)] or "", newest)
    for result in await harness.rows(quiz_results, user_id=user.id):
        answers_ = json.loads(result["answers"])
        assert 1 <= result["stage"] <= 7
        assert set(answers_) == set(questions)
        assert all(option in questions[q] for q, option in answers_.items())


@few
@given(data=st.data())
async def test_the_whole_journey_wandered_with_forged_buttons(
    harness: Harness, data: st.DataObject
) -> None:
    """The profile, /settings, the diagnosis, checklists, measures: random real buttons, old
    ones, forged ones of every personal flow, hostile texts; settings stay in their range,
    nothing of anyone else changes, and no role but a self-chosen one appears."""
    user = await harness.consented(stage=data.draw(st.sampled_from([None, 1, 4, 7])))
    before = await harness.snapshot(ignore_user=user.id)
    await harness.send(user, data.draw(st.sampled_from(["/profile", "/settings", "/menu"])))
    await harness.wander(user, data, 14, [*PERSONAL_PREFIXES, *PUBLIC_PREFIXES])
    assert await roles_of(harness, user.id) <= {"activist", "volunteer"}
    for row in await harness.rows(user_settings, user_id=user.id):
        assert row["digest"] in DIGESTS
        assert all(0 <= row[h] <= 23 for h in ("digest_hour", "quiet_start", "quiet_end"))
        assert 0 <= row["digest_weekday"] <= 6
    assert await harness.snapshot(ignore_user=user.id) == before


@few
@given(
    entries=st.lists(
        texts()
        .map(lambda t: " ".join(telegram_text(t).split())[: rules.ENTRY_LIMIT])
        .filter(bool),
        min_size=9,
        max_size=9,
    ),
    topics=st.sets(st.sampled_from([t.code for t in CATALOG.topics])),
)
async def test_the_ikigai_result_draws_any_entries(
    harness: Harness, entries: list[str], topics: set[str]
) -> None:
    """Nine entries of up to 200 characters (right-to-left, combining marks, emoji, markup):
    the picture and the summary arrive; a summary too long for a caption comes as text."""
    user = await harness.consented()
    profiles = harness.app.profiles
    for n, col in enumerate(rules.COLUMNS):
        await profiles.set_ikigai_column(user.id, col, entries[3 * n : 3 * n + 3])
    await profiles.set_codes(user.id, "topics", frozenset(topics))
    await harness.send(user, "/menu")
    await harness.press(user, IkigaiCb(action="done").pack())  # the focus step
    await harness.press(user, IkigaiCb(action="take").pack())  # its suggestion, any entries
    kinds = [m.kind for m in user.bot_messages]
    assert "photo" in kinds or harness.app.dp["font"] is None
    await harness.send(user, "/my_data")  # everything back, as a message and a file
