"""Coordinators manage content through the emulator: grants, articles and local support
measures added with the step-by-step forms (hints on bad input, a preview, saving, closing),
seen by a fitting activist; CSV export and import of grants (all or nothing)."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App
from bot.content import get_catalog
from bot.domain import csvio
from bot.emulator import ChatMessage, EmulatedUser, Emulator
from bot.infra.clock import ManualClock
from bot.infra.db import make_engine, migrate
from bot.infra.sqlite import inline_sql
from bot.services.content_admin import IMPORT_CHUNK, ContentAdminService
from bot.storage import content_admin as content_repo
from bot.storage.tables import audit_log, grants, user_roles
from bot.ui.keyboards import MeasuresCb
from tests.conftest import Launch
from tests.e2e.test_journey import current, say, tap
from tests.e2e.test_pushes import onboard

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)  # 10:00 in Novosibirsk
COORDINATOR = 8001


async def make_coordinator(
    app: App, emulator: Emulator, uid: int = COORDINATOR, tz: str = "Asia/Novosibirsk"
) -> EmulatedUser:
    """An English-speaking coordinator of Novosibirsk (their zone dates the grants they add)."""
    user = emulator.user(uid, first_name="Olga", language_code="en")
    await say(user, "/start")
    await app.profiles.give_consent(uid, "Olga", None, None)
    await app.profiles.set_place(uid, tz, "nvs")
    async with app.engine.begin() as conn:
        await conn.execute(
            user_roles.insert().values(user_id=uid, role="coordinator", granted_at=app.clock.now())
        )
    return user


async def section(user: EmulatedUser, label: str) -> ChatMessage:
    await say(user, "/coordinator")
    return await tap(user, label)


async def all_pages(user: EmulatedUser, screen: ChatMessage) -> str:
    """The text and buttons of every page of a paginated list, from the first."""
    seen = screen.text + "\n" + "\n".join(screen.button_texts())
    while "▶" in current(user).button_texts():
        page = await tap(user, "▶")
        seen += "\n" + page.text + "\n" + "\n".join(page.button_texts())
    return seen


async def grants_of(user: EmulatedUser) -> str:
    return await all_pages(user, await say(user, "/grants"))


async def audit_actions(app: App) -> list[tuple[str, str | None]]:
    async with app.engine.connect() as conn:
        rows = await conn.execute(select(audit_log.c.action, audit_log.c.target))
        return [(a, t) for a, t in rows]


async def test_a_grant_added_with_the_form_reaches_activists_until_closed(
    emulator: Emulator, launch: Launch
) -> None:
    running = await launch(clock=ManualClock(NOW), tick_seconds=3600)
    app = running.app
    olga = await make_coordinator(app, emulator)

    listing = await section(olga, "💰 Grants")
    assert "Grants added by coordinators" in listing.text
    assert "None yet." in listing.text
    step = await tap(olga, "➕ Add a grant")
    assert "step 1 of 9" in step.text
    assert "What is it called?" in step.text
    assert step.button_texts() == ["✖ Cancel"]

    # A title too long and a title on two lines are refused with a hint; the step repeats.
    hint = await say(olga, "G" * 201)
    assert "Too long: 201 characters, at most 200" in hint.text
    assert "step 1 of 9" in hint.text
    step = await say(olga, "Good Neighbours grant")
    assert "step 2 of 9" in step.text
    assert "« Back" in step.button_texts()
    step = await say(olga, "Novosibirsk resource centre")
    assert "🔗 The link" in step.text

    # Bad links get a hint and the step repeats.
    for bad, reason in [
        ("javascript:alert(1)", "must start with https://"),
        ("https://example .org", "cannot contain spaces"),
        ("example.org", "must start with https://"),
    ]:
        hint = await say(olga, bad)
        assert reason in hint.text
        assert hint.text.startswith("⚠️ ")
        assert hint.text[3].isupper()  # a warning starts as a sentence does
        assert "step 3 of 9" in hint.text
    step = await say(olga, "https://example.org/good-neighbours")
    assert "Who may apply?" in step.text
    step = await say(olga, "Non-profits and initiative groups of the region")
    assert "Leave empty ▶" in step.button_texts()
    step = await tap(olga, "Leave empty ▶")  # no amount
    assert "Which problems of the area" in step.text
    step = await tap(olga, "▫️ Culture and outreach")
    assert "✅ Culture and outreach" in step.button_texts()
    step = await tap(olga, "Done ▶")
    assert "For which phases" in step.text
    await tap(olga, "▫️ Formalisation (4)")
    step = await tap(olga, "Done ▶")
    assert "Where may applicants come from?" in step.text
    assert "🇷🇺 Federal" in step.button_texts()
    step = await tap(olga, "UTC+7 Novosibirsk")
    assert "Novosibirsk Oblast" in step.button_texts()
    step = await tap(olga, "Novosibirsk Oblast")
    assert "When are applications accepted?" in step.text
    assert "time zone, MSK+4." in step.text

    # Dates: a bad one, a closing date before the opening one, then a fixed window.
    hint = await say(olga, "31.11.2026 – 20.12.2026")
    assert "“31.11.2026” is not a date" in hint.text
    hint = await say(olga, "20.12.2026 – 01.12.2026")
    assert "The closing date 01.12.2026 is before the opening date 20.12.2026" in hint.text
    preview = await say(olga, "01.12.2026 – 20.12.2026")
    assert "Preview: this is how activists will see it" in preview.text
    assert "💰 Good Neighbours grant" in preview.text
    assert "Non-profits and initiative groups of the region" in preview.text
    assert "opens 01.12.2026" in preview.text
    assert "Region: Novosibirsk Oblast" in preview.text
    assert "Application window: 01.12.2026 – 20.12.2026" in preview.text
    assert "Dates are in the time zone MSK+4" in preview.text
    assert preview.button_texts() == ["✅ Save", "✏️ Edit a field", "✖ Cancel"]

    # Edit a field from the preview: back to the preview after the answer.
    await tap(olga, "✏️ Edit a field")
    step = await tap(olga, "Amount")
    assert "How much money" in step.text
    preview = await say(olga, "up to 300 000 ₽")
    assert "Amount: up to 300 000 ₽" in preview.text

    saved = await tap(olga, "✅ Save")
    assert "Saved: G1 “Good Neighbours grant”" in saved.text
    assert "G1 · Good Neighbours grant" in saved.button_texts()
    async with app.engine.connect() as conn:
        row = (await conn.execute(select(grants))).mappings().one()
    assert row["timezone"] == "Asia/Novosibirsk"  # the coordinator's zone
    assert json.loads(row["windows"]) == [{"fixed": {"open": "2026-12-01", "close": "2026-12-20"}}]
    assert json.loads(row["topics"]) == ["culture"]
    assert (row["region"], row["amount"], row["created_by"]) == ("nvs", "up to 300 000 ₽", 8001)

    # A fitting activist sees it in /grants; one of another region does not.
    anna = await onboard(app, emulator, 8101, "Asia/Novosibirsk", "nvs")
    assert "Good Neighbours grant" in await grants_of(anna)
    kolya = await onboard(app, emulator, 8102, "Asia/Kamchatka", "kam")
    assert "Good Neighbours grant" not in await grants_of(kolya)

    # The coordinator closes it: it disappears.
    await section(olga, "💰 Grants")
    item = await tap(olga, "G1 · Good Neighbours grant")
    assert "as activists see it" in item.text
    ask = await tap(olga, "🗑 Close")
    assert "Close G1 “Good Neighbours grant”?" in ask.text
    closed = await tap(olga, "🗑 Yes, close it")
    assert "Closed: G1" in closed.text
    assert "None yet." in closed.text
    assert "Good Neighbours grant" not in await grants_of(anna)
    assert await audit_actions(app) == [("grant.add", "G1"), ("grant.close", "G1")]
    assert emulator.rejections() == []


async def test_cancel_and_back_in_a_form(emulator: Emulator, launch: Launch) -> None:
    running = await launch(clock=ManualClock(NOW), tick_seconds=3600)
    olga = await make_coordinator(running.app, emulator)
    await section(olga, "💰 Grants")
    await tap(olga, "➕ Add a grant")
    await say(olga, "A grant")
    step = await tap(olga, "« Back")
    assert "step 1 of 9" in step.text
    assert "Now: A grant" in step.text
    step = await tap(olga, "Keep ▶")
    assert "step 2 of 9" in step.text
    # Typing on a button step gets a hint; a stale button of an older screen is refused.
    gone = await tap(olga, "✖ Cancel")
    assert "Cancelled: nothing was saved." in gone.text
    olga.skip_pending()
    await olga.press_data("cf:keep:organiser:")
    stale = await olga.next_message(timeout=5)
    assert "out of date" in stale.text.lower() or "устарело" in stale.text.lower()
    async with running.app.engine.connect() as conn:
        assert (await conn.execute(select(grants))).first() is None
    assert emulator.rejections() == []


def _swap(data: bytes, old: str, new: str) -> bytes:
    assert old.encode() in data
    return data.replace(old.encode(), new.encode())


async def export(user: EmulatedUser) -> ChatMessage:
    user.skip_pending()
    await user.press("⬇️ Export CSV")
    document = await user.next_message(timeout=5)
    assert document.document is not None
    return document


async def upload(user: EmulatedUser, data: bytes, name: str = "grants.csv") -> ChatMessage:
    await tap(user, "⬆️ Import CSV")
    user.skip_pending()
    await user.send_document(data, name, mime_type="text/csv")
    return await user.next_message(timeout=5)


async def test_grants_csv_round_trip_and_all_or_nothing_import(
    emulator: Emulator, launch: Launch
) -> None:
    running = await launch(clock=ManualClock(NOW), tick_seconds=3600)
    app = running.app
    olga = await make_coordinator(app, emulator)
    anna = await onboard(app, emulator, 8201, "Asia/Novosibirsk", "nvs")

    # New grants from a file written by hand: commas, LF, no BOM.
    new = (
        b"title,organiser,link,who,topics,phases,region,windows\n"
        b'Rural libraries,"Fund ""Book""",https://example.org/lib,Libraries,,,,'
        b'"fixed 2026-12-01..2026-12-25"\n'
        b"Yard sports,Sports ministry,https://example.org/yard,Teams,,,nvs,always\n"
    )
    await section(olga, "💰 Grants")
    done = await upload(olga, new)
    assert "Imported: 2 added, 0 updated, 0 unchanged." in done.text
    assert {"G1 · Rural libraries", "G2 · Yard sports"} <= set(done.button_texts())
    before = await grants_of(anna)
    assert "Rural libraries" in before
    assert "Yard sports" in before

    # Export: UTF-8 with a BOM, the ids, then an edited title goes back in.
    exported = await export(olga)
    assert exported.file_name is not None
    assert exported.file_name.endswith(".csv")
    assert "2 items in the file." in exported.text
    data = exported.document
    assert data is not None
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"G1;Rural libraries;" in data
    assert b'"Fund ""Book"""' in data
    edited = _swap(data, "Rural libraries", "Village libraries")
    done = await upload(olga, edited)
    assert "Imported: 0 added, 1 updated, 1 unchanged." in done.text
    after = await grants_of(anna)
    assert "Village libraries" in after
    assert "Rural libraries" not in after

    # One bad row among good ones: nothing changes, the reply names the row and the column.
    bad = _swap(
        _swap(edited, "Village libraries", "Town libraries"),
        "https://example.org/yard",
        "javascript:alert(1)",
    )
    async with app.engine.connect() as conn:
        rows_before = (await conn.execute(select(grants).order_by(grants.c.id))).all()
    report = await upload(olga, bad)
    assert "Nothing was imported" in report.text
    assert "line 3, link: a link must start with https://" in report.text
    assert "✖ Cancel" in report.button_texts()
    async with app.engine.connect() as conn:
        assert (await conn.execute(select(grants).order_by(grants.c.id))).all() == rows_before
    # An id that is not an open grant: nothing changes either.
    ghost = _swap(edited, "G2;", "G99;")
    olga.skip_pending()
    await olga.send_document(ghost, "grants.csv")
    report = await olga.next_message(timeout=5)
    assert "line 3, id: there is no open G99 to update" in report.text
    gone = await tap(olga, "✖ Cancel")
    assert "Cancelled" in gone.text
    assert "Town libraries" not in await grants_of(anna)

    # Not a CSV document at all: a hint, and the import waits.
    hint = await upload(olga, b"PK\x03\x04xlsx", "grants.xlsx")
    assert "Excel workbook" in hint.text
    olga.skip_pending()
    await olga.send("here it is")
    hint = await olga.next_message(timeout=5)
    assert "Send the .csv file as a document" in hint.text
    actions = await audit_actions(app)
    assert actions.count(("grant.add", "G1")) == 1
    assert actions.count(("grant.edit", "G1")) == 1
    assert emulator.rejections() == []


async def test_an_article_and_a_local_measure_reach_a_fitting_activist(
    emulator: Emulator, launch: Launch
) -> None:
    running = await launch(clock=ManualClock(NOW), tick_seconds=3600)
    app = running.app
    olga = await make_coordinator(app, emulator)

    # An article for stage 4.
    await section(olga, "📖 Articles")
    step = await tap(olga, "➕ Add an article")
    assert "step 1 of 5" in step.text
    await say(olga, "Our resource centre's checklist for a first report")
    hint = await say(olga, "ftp://example.org/checklist")
    assert "must start with https://" in hint.text
    await say(olga, "https://example.org/checklist")
    hint = await say(olga, "x" * 401)
    assert "at most 400" in hint.text
    await say(olga, "What to put into the first report to a funder, in ten lines.")
    await tap(olga, "Done ▶")  # any topic
    step = await tap(olga, "Done ▶")  # no stage ticked yet
    assert "Choose at least one stage" in step.text
    await tap(olga, "▫️ 4")
    preview = await tap(olga, "Done ▶")
    assert "📖 Our resource centre's checklist" in preview.text
    # No source: the title is followed by the summary, with no empty source line between.
    assert (
        "📖 Our resource centre's checklist for a first report\n\n"
        "What to put into the first report to a funder, in ten lines."
    ) in preview.text
    assert "Stages: 4" in preview.text
    saved = await tap(olga, "✅ Save")
    assert "Saved: A1" in saved.text

    # A local measure of Novosibirsk Oblast.
    await section(olga, "🤝 Local support measures")
    step = await tap(olga, "➕ Add a local measure")
    assert "step 1 of 9" in step.text
    await say(olga, "Mayor's micro-grants for yards")
    await say(olga, "Up to 100 000 ₽ for a yard project of neighbours.")
    await tap(olga, "Financial")
    await tap(olga, "Formalisation (4)")
    await tap(olga, "UTC+7 Novosibirsk")
    await tap(olga, "Novosibirsk Oblast")
    await tap(olga, "Done ▶")  # any topic
    step = await tap(olga, "Leave empty ▶")  # no problems
    assert "Whom to contact" in step.text
    await say(olga, "+7 383 111-22-33")
    hint = await say(olga, "not a link")
    assert "cannot contain spaces" in hint.text
    preview = await say(olga, "https://example.org/yards")
    assert "📍 Mayor's micro-grants for yards" in preview.text
    assert "+7 383 111-22-33" in preview.text
    saved = await tap(olga, "✅ Save")
    assert "Saved: L1" in saved.text

    # A stage-4 activist of the region sees both.
    anna = await onboard(app, emulator, 8301, "Asia/Novosibirsk", "nvs")
    assert "Our resource centre's checklist" in await all_pages(anna, await say(anna, "/articles"))
    anna.skip_pending()
    await anna.press_data(MeasuresCb().pack())
    measures = await all_pages(anna, current(anna))
    assert "Mayor's micro-grants for yards" in measures
    # One of another region gets the article, not the measure.
    kolya = await onboard(app, emulator, 8302, "Asia/Kamchatka", "kam")
    kolya.skip_pending()
    await kolya.press_data(MeasuresCb().pack())
    assert "Mayor's micro-grants for yards" not in await all_pages(kolya, current(kolya))

    # Editing the measure changes what activists see; closing removes it.
    await section(olga, "🤝 Local support measures")
    await tap(olga, "L1 · Mayor's micro-grants for yards")
    await tap(olga, "✏️ Edit")
    await tap(olga, "Title")
    await say(olga, "City micro-grants for yards")
    saved = await tap(olga, "✅ Save")
    assert "Saved: L1 “City micro-grants for yards”" in saved.text
    anna.skip_pending()
    await anna.press_data(MeasuresCb().pack())
    assert "City micro-grants for yards" in await all_pages(anna, current(anna))
    await tap(olga, "L1 · City micro-grants for yards")
    await tap(olga, "🗑 Close")
    await tap(olga, "🗑 Yes, close it")
    anna.skip_pending()
    await anna.press_data(MeasuresCb().pack())
    assert "micro-grants for yards" not in await all_pages(anna, current(anna))
    assert await audit_actions(app) == [
        ("article.add", "A1"),
        ("measure.add", "L1"),
        ("measure.edit", "L1"),
        ("measure.close", "L1"),
    ]
    service = app.dp["content_admin"]
    assert isinstance(service, ContentAdminService)
    assert [a.title for a in await service.items("article")] == [
        "Our resource centre's checklist for a first report"
    ]
    assert emulator.rejections() == []


async def test_only_coordinators_reach_the_content_tools(
    emulator: Emulator, launch: Launch
) -> None:
    running = await launch()
    anna = await onboard(running.app, emulator, 8401, "Europe/Moscow", "mow")
    anna.skip_pending()
    await anna.press_data("ca:new:grant:0:0")
    refusal = await anna.next_message(timeout=5)
    assert "только для координаторов" in refusal.text
    assert await audit_actions(running.app) == [("denied", "admin,coordinator")]


def test_typed_dates_confirm_this_years_contest_and_keep_the_usual_ones(tmp_path: Path) -> None:
    """A coordinator marks a window confirmed by typing its dates: the dated contest replaces
    only the confirmed windows, the usual yearly ones stay for the years after; typed usual
    dates replace them all; in another time zone the old dates would shift, so all go."""
    service = ContentAdminService(
        make_engine(f"sqlite+aiosqlite:///{tmp_path / 'unused.sqlite'}"),
        ManualClock(NOW),
        get_catalog(),
    )
    msk = "Europe/Moscow"
    draft = {
        "timezone": msk,
        "windows": [
            {"yearly": {"open": "02-01", "close": "03-15"}},
            {"fixed": {"open": "2026-02-02", "close": "2026-03-16"}},
        ],
    }
    confirmed = service.accept("grant", "windows", "01.02.2027 – 14.03.2027", msk, draft)
    assert confirmed == {
        "timezone": msk,
        "windows": [
            {"yearly": {"open": "02-01", "close": "03-15"}},
            {"fixed": {"open": "2027-02-01", "close": "2027-03-14"}},
        ],
    }
    usual = service.accept("grant", "windows", "01.09 – 15.10", msk, draft)
    assert usual["windows"] == [{"yearly": {"open": "09-01", "close": "10-15"}}]
    elsewhere = service.accept("grant", "windows", "01.02.2027 – 14.03.2027", "Asia/Omsk", draft)
    assert elsewhere["windows"] == [{"fixed": {"open": "2027-02-01", "close": "2027-03-14"}}]


async def test_a_large_import_lets_other_updates_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2 000 rows, imported as inside an update (SQLite statements on the event loop): the
    file is parsed in a worker thread and written in chunks that yield, so another coroutine
    runs during both — it could not while the import held the loop."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'import.sqlite'}")
    await migrate(engine)
    service = ContentAdminService(engine, ManualClock(NOW), get_catalog())
    rows = 2000
    data = b"title,organiser,link,who,windows\n" + b"".join(
        b"Grant %d,Fund,https://example.org/g%d,Anyone,always\n" % (n, n) for n in range(rows)
    )
    other_ran = threading.Event()  # set by the other coroutine, waited for by the parse
    turns = 0  # how often the other coroutine has run
    seen: list[int] = []  # `turns` at each row written

    parse, save = csvio.parse_grants, content_repo.save_grant

    def parse_waiting(*args: Any) -> Any:
        assert other_ran.wait(timeout=10), "the parse held the event loop"
        return parse(*args)

    async def save_counting(*args: Any) -> int:
        seen.append(turns)
        return await save(*args)

    async def other() -> None:
        nonlocal turns
        other_ran.set()
        while True:
            turns += 1
            await asyncio.sleep(0)

    monkeypatch.setattr("bot.domain.csvio.parse_grants", parse_waiting)
    monkeypatch.setattr("bot.storage.content_admin.save_grant", save_counting)
    running = asyncio.create_task(other())
    try:
        with inline_sql():
            report = await service.import_csv(1, "grant", data, "Europe/Moscow")
    finally:
        running.cancel()
        await engine.dispose()
    assert len(report.added) == rows
    assert len(seen) == rows
    assert len(set(seen)) >= rows // IMPORT_CHUNK  # the other ran between the chunks
