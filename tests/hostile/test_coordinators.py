"""Hostile input at the coordinators' and admins' tools: broadcast compose (any text, formatting,
files), the content forms and CSV import, the statistics and self-assessment, naming people for
a role; and nobody else gets anything done there with commands or tampered buttons, nor the
brief for the municipality."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.fields import blank
from bot.emulator import EmulatedUser
from bot.services.content_admin import KINDS, draft_of
from bot.storage.tables import (
    broadcasts,
    opportunities,
    outbox,
    self_assessments,
    user_roles,
    users,
)
from bot.ui.broadcast import BroadcastCb
from bot.ui.render import CAPTION_LIMIT, MESSAGE_LIMIT, utf16_len
from handlers.content_admin import ContentCb
from tests.hostile.harness import (
    ADMIN,
    ADMIN_PREFIXES,
    COORDINATOR_PREFIXES,
    Harness,
    callback_data,
    few,
    hostile,
    mutated,
    telegram_text,
    texts,
)

# ------------------------------------------------------------------ broadcast compose

FORMATTING = [
    "bold",
    "italic",
    "underline",
    "strikethrough",
    "spoiler",
    "code",
    "pre",
    "text_link",
    "blockquote",
    "custom_emoji",
]
URLS = ["https://example.org/<b>?a=1&b=2", "http://пример.рф/путь", "tg://user?id=1"]


def _utf16(text: str, index: int) -> int:
    return utf16_len(text[:index])


@st.composite
def formatted(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]]]:
    """A text and the formatting a Telegram client could send with it: spans on character
    boundaries that do not cross, of any type a user can set (custom emoji included)."""
    text = telegram_text(draw(texts()))
    cuts = sorted(set(draw(st.lists(st.integers(0, len(text)), max_size=8))))
    entities: list[dict[str, Any]] = []
    for start, end in zip(cuts[::2], cuts[1::2], strict=False):
        if start == end:
            continue
        kind = draw(st.sampled_from(FORMATTING))
        entity: dict[str, Any] = {
            "type": kind,
            "offset": _utf16(text, start),
            "length": _utf16(text, end) - _utf16(text, start),
        }
        if kind == "text_link":
            entity["url"] = draw(st.sampled_from(URLS))
        elif kind == "custom_emoji":
            entity["custom_emoji_id"] = "5368324170671202286"
        elif kind == "pre" and draw(st.booleans()):
            entity["language"] = draw(st.sampled_from(["python", "<b>", "'; --"]))
        entities.append(entity)
    if text and draw(st.booleans()):  # an italic around everything, the others nested in it
        entities.append({"type": "italic", "offset": 0, "length": utf16_len(text)})
    return text, entities


async def compose(
    harness: Harness,
    user: EmulatedUser,
    how: str,
    content: tuple[str, list[dict[str, Any]]],
    filename: str,
) -> None:
    text, entities = content
    if how == "text":
        await harness._message(user, lambda: user.send(text, entities=entities), "formatted text")
    elif how == "photo":
        await harness.send_media(user, "photo", caption=text)
    elif how == "document":
        await harness._message(
            user, lambda: user.send_document(b"%PDF-1.4", filename, caption=text), "document"
        )
    else:
        await harness.send_media(user, how)


@hostile
@given(
    how=st.sampled_from(["text", "text", "photo", "document", "sticker"]),
    content=formatted(),
    filename=st.text(min_size=1, max_size=255).filter(lambda s: "/" not in s and s.strip() != ""),
)
async def test_broadcast_compose_takes_any_message_within_telegrams_limits(
    harness: Harness, how: str, content: tuple[str, list[dict[str, Any]]], filename: str
) -> None:
    """Whatever the coordinator sends: a draft when Telegram could deliver it, a hint and no
    draft when not (over 4096 characters, a caption over 1024, a sticker, a text nobody would
    see: zero-width characters and direction marks only); the preview is the
    message as recipients will get it; nothing reaches anyone before "Send"."""
    user = await harness.coordinator(language_code="en")
    sent_before = len(await harness.rows(outbox))
    await harness.send(user, "/broadcast")
    before = {b["id"] for b in await harness.rows(broadcasts)}
    await compose(harness, user, how, content, filename)
    created = [b for b in await harness.rows(broadcasts) if b["id"] not in before]
    text = content[0]
    limit = CAPTION_LIMIT if how in ("photo", "document") else MESSAGE_LIMIT
    fits = how != "sticker" and utf16_len(text) <= limit and (how != "text" or not blank(text))
    assert len(created) == (1 if fits else 0), user.transcript()
    if created:
        [draft] = created
        assert draft["text"] == text
        assert all(e["type"] != "custom_emoji" for e in json.loads(draft["entities"] or "[]"))
        preview = await harness.press(user, BroadcastCb(action="prev", id=draft["id"]).pack())
        assert preview is not None
        shown = user.bot_messages[-2]  # the preview, then the controls under it
        assert shown.text == text
        await harness.press(user, BroadcastCb(action="drop", id=draft["id"]).pack())
    assert len(await harness.rows(outbox)) == sent_before


def times() -> st.SearchStrategy[str]:
    return (
        st.sampled_from(
            [
                "10:00",
                "25:61",
                "31.02 10:00",
                "01.01.2000 10:00",
                "01.01.99 23:59",
                "٠١.٠١ ١٠:٠٠",
                "29.02.2099 12:00",
                "00:00",
            ]
        )
        | texts()
    )


@few
@given(data=st.data())
async def test_broadcast_screens_with_tampered_buttons_and_typed_times(
    harness: Harness, data: st.DataObject
) -> None:
    """Recipients, preview, schedule (typed times too), send, cancel — pressed in any order,
    old screens and tampered ids included."""
    user = await harness.coordinator(language_code="en")
    await harness.send(user, "/broadcast")
    await harness.send(user, data.draw(texts()))
    await harness.wander(user, data, 12, ["bc", "cm"], typed=times())


# ------------------------------------------------------------------ content forms


def form_answers() -> st.SearchStrategy[str]:
    valid = [
        "https://example.org/grant?<b>=&amp;",
        "пример.рф/гранты",
        "http://",
        "javascript:alert(1)",
        "01.12–20.12",
        "01.12.2026 – 20.12.2026",
        "с 1 декабря по 20 декабря",
        "31.02–30.02",
        "-",
        "Фонд «Добро» <i>",
    ]
    return st.sampled_from(valid) | texts()


async def stored_items_are_valid(harness: Harness) -> None:
    """Everything saved passes the very checks a form or a CSV row must pass."""
    service = harness.app.dp["content_admin"]
    for kind in KINDS:
        for item in await service.items(kind):
            service.build(kind, draft_of(item), item.id)  # RowInvalid if anything is wrong


@few
@given(data=st.data())
async def test_content_forms_store_only_valid_items(harness: Harness, data: st.DataObject) -> None:
    user = await harness.coordinator(language_code=data.draw(st.sampled_from(["ru", "en"])))
    await harness.send(user, "/coordinator")
    kind = data.draw(st.sampled_from(KINDS))
    await harness.press(user, ContentCb(action="new", kind=kind).pack())
    await harness.wander(user, data, 16, ["cf", "ca", "cm"], typed=form_answers())
    await stored_items_are_valid(harness)


CSV_HEADER = "id;title;organiser;link;who;amount;topics;phases;region;windows;timezone"


@few
@given(
    rows=st.lists(
        st.lists(
            texts()
            | st.sampled_from(
                [
                    "",
                    "G1",
                    "https://x.org",
                    "culture",
                    "origin",
                    "nvs",
                    "always",
                    "Europe/Moscow",
                    "=cmd|' /C calc'!A0",
                    '"";"',
                ]
            ),
            min_size=1,
            max_size=11,
        ),
        max_size=4,
    ),
    raw=st.none() | st.binary(max_size=300),
    kind=st.sampled_from(["grant", "article"]),
)
async def test_csv_import_of_hostile_files_is_all_or_nothing(
    harness: Harness, rows: list[list[str]], raw: bytes | None, kind: str
) -> None:
    user = await harness.coordinator()
    await harness.send(user, "/coordinator")
    await harness.press(user, ContentCb(action="import", kind=kind).pack())
    if raw is None:
        lines = [CSV_HEADER, *(";".join(cells) for cells in rows)]
        body = "\r\n".join(lines).encode()
    else:
        body = raw
    await harness._message(
        user, lambda: user.send_document(body, "import.csv", mime_type="text/csv"), "csv"
    )
    await stored_items_are_valid(harness)


# ------------------------------------------------------------------ statistics


@few
@given(data=st.data())
async def test_statistics_and_self_assessment_with_tampered_buttons(
    harness: Harness, data: st.DataObject
) -> None:
    user = await harness.coordinator()
    await harness.send(user, data.draw(st.sampled_from(["/stats", "/assess", "/coordinator"])))
    await harness.wander(user, data, 8, ["sa", "cm"])
    for row in await harness.rows(self_assessments):
        assert row is not None


# ------------------------------------------------------------------ the region served


@few
@given(data=st.data())
async def test_the_region_served_with_tampered_buttons_and_anything_typed(
    harness: Harness, data: st.DataObject
) -> None:
    """«📍 Мой регион» (handlers/place.py's screens, prefix cr): whatever is pressed or typed,
    what is stored is a known region with one of its own zones, or nothing."""
    catalog = harness.app.dp["catalog"]
    user = await harness.coordinator()
    await harness.send(user, "/coordinator")
    typed = st.sampled_from(["спб", "якут", "новг", "республика", "Москва", "<b>"]) | texts()
    await harness.wander(user, data, 10, ["cr", "cm"], typed=typed)
    [row] = await harness.rows(users, id=user.id)
    if row["region"] is not None:
        region = catalog.region(row["region"])
        zones = {region.iana, *(z.iana for z in region.zones)}
        assert row["timezone"] in zones


# ------------------------------------------------------------------ naming people


def person_answers(harness: Harness) -> st.SearchStrategy[str]:
    known = [str(uid) for uid in range(harness.next_id - 3, harness.next_id + 1)]
    odd = ["²", "٣", "9" * 30, "-5", "0", " 1000001 ", "1e3", "@username", "9" * 5000]
    return st.sampled_from(odd) | st.sampled_from(known) | texts()


@few
@given(data=st.data())
async def test_naming_people_for_a_role(harness: Harness, data: st.DataObject) -> None:
    """The admin appointing coordinators and a coordinator allowing activists to publish, with
    anything typed: a role only ever goes to a user the bot knows."""
    coordinator = await harness.coordinator()
    admin = harness.emulator.user(ADMIN, language_code="ru")
    if harness.expected[ADMIN] == 0:
        await harness.send(admin, "/start")
    for who, start in ((admin, "co:add:0"), (coordinator, "og:add:0")):
        await harness.send(who, data.draw(st.sampled_from(["/coordinators", "/coordinator"])))
        await harness.press(who, start)
        for _ in range(data.draw(st.integers(1, 3))):
            await harness.send(who, data.draw(person_answers(harness)))
    known = {u["id"] for u in await harness.rows(users)}
    for role in await harness.rows(user_roles):
        assert role["user_id"] in known


# ------------------------------------------------------------------ no escalation


@pytest.fixture
async def coordinators_buttons(harness: Harness) -> list[str]:
    """Real buttons of a coordinator's screens (a draft broadcast, a grant, an opportunity,
    the statistics, the organisers, the brief), for others to forge."""
    coordinator = await harness.coordinator(language_code="en")
    volunteering = harness.app.volunteering
    from datetime import timedelta

    from bot.services.volunteering import Draft

    now = harness.app.clock.now()
    await volunteering.create(
        coordinator.id,
        Draft(
            "Park",
            "Gloves",
            "culture",
            "Gate",
            None,
            None,
            "Europe/Moscow",
            now + timedelta(days=2),
            now + timedelta(days=2, hours=2),
            5,
            None,
            None,
        ),
    )
    await harness.send(coordinator, "/broadcast")
    await harness.send(coordinator, "Subbotnik")
    await harness.send(coordinator, "/coordinator")
    sections = ("grants", "articles", "measures", "opportunities", "organisers", "assess", "brief")
    for section in sections:
        await harness.press(coordinator, f"cm:{section}")
    await harness.press(coordinator, ContentCb(action="new", kind="grant").pack())
    seen = {
        b.callback_data
        for m in coordinator.bot_messages
        for row in m.buttons
        for b in row
        if b.callback_data
    }
    return sorted(seen)


@hostile
@given(
    data=st.data(),
    persona=st.sampled_from(["stranger", "activist", "volunteer", "organiser", "coordinator"]),
)
async def test_nobody_else_gets_anything_done_at_the_coordinators_tools(
    harness: Harness, coordinators_buttons: list[str], data: st.DataObject, persona: str
) -> None:
    """Coordinators' commands, their real buttons (as forwarded or guessed), with other ids,
    and forged data of the coordinators' and admins' prefixes: nothing changes (but the user's
    own rows), and no role appears. A coordinator tries the admins' tools."""
    if persona == "stranger":
        user = await harness.started()
    else:
        user = await harness.consented(role="volunteer" if persona == "volunteer" else "activist")
        if persona in ("organiser", "coordinator"):
            await harness.grant(user.id, persona)
    roles_before = {r["role"] for r in await harness.rows(user_roles, user_id=user.id)}
    organiser = persona == "organiser"  # may publish opportunities of their own
    skip = {"opportunities", "opportunity_changes"} if organiser else set()
    before = await harness.snapshot(ignore_user=user.id, skip=skip)
    others_before = [o for o in await harness.rows(opportunities) if o["created_by"] != user.id]
    if persona == "coordinator":  # the admins' tools only
        prefixes, commands, typed = ADMIN_PREFIXES, ["/coordinators", "/audit"], texts()
        real = [b for b in coordinators_buttons if b.startswith("co:")] or ["co:list", "co:del:1"]
    else:
        prefixes = [*COORDINATOR_PREFIXES, *ADMIN_PREFIXES]
        commands = [
            "/broadcast",
            "/coordinator",
            "/stats",
            "/assess",
            "/brief",
            "/opportunities",
            "/coordinators",
            "/audit",
        ]
        typed, real = texts(commands=True), coordinators_buttons
    await harness.send(user, data.draw(st.sampled_from(commands)))
    for _ in range(data.draw(st.integers(1, 4))):
        forged = data.draw(
            st.sampled_from(real).flatmap(lambda d: st.just(d) | mutated(d))
            | callback_data(prefixes)
        )
        await harness.press(user, forged)
        await harness.send(user, data.draw(typed))
    assert {r["role"] for r in await harness.rows(user_roles, user_id=user.id)} == roles_before
    assert await harness.snapshot(ignore_user=user.id, skip=skip) == before
    others_after = [o for o in await harness.rows(opportunities) if o["created_by"] != user.id]
    assert others_after == others_before


@hostile
@given(
    data=st.data(),
    persona=st.sampled_from(["stranger", "activist", "volunteer", "organiser"]),
)
async def test_nobody_else_gets_the_brief_for_the_municipality(
    harness: Harness, data: st.DataObject, persona: str
) -> None:
    """The brief's command, its screen's button and the PDF's, pressed by anyone but a
    coordinator (forged, or a coordinator's forwarded message): the polite refusal, no
    document and not a line of the brief."""
    if persona == "stranger":
        user = await harness.started()
    else:
        user = await harness.consented(role="volunteer" if persona == "volunteer" else "activist")
        if persona == "organiser":
            await harness.grant(user.id, "organiser")
    refusal = harness.app.renderer.render("ru", "errors/not_allowed.j2")
    title = harness.app.renderer.gettext("ru", "Why support social initiatives")
    for _ in range(data.draw(st.integers(1, 3))):
        way = data.draw(st.sampled_from(["/brief", "cm:brief", "cm:brief_pdf"]))
        before = len(user.chat.bot_messages)
        if way.startswith("/"):
            await harness.send(user, way)
        else:
            await harness.press(user, way)
        replies = [m.snapshot() for m in user.chat.bot_messages[before:]]
        assert [m.kind for m in replies] == ["text"], user.transcript()
        assert replies[0].text == refusal
        assert not any(title in m.text for m in user.chat.bot_messages), user.transcript()
