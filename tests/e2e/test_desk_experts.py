"""The consultation desk's outside experts end to end through the emulator: a coordinator
invites an expert for some kinds by a one-time link; the expert (a newcomer: consent first)
is told of a new question of their kind, takes and answers it, the asker receives it as
«Консультация №N» and rates it. The expert never sees, opens or takes a question of another
kind, nor any coordinator's tool (forged presses change nothing); a used, expired, revoked or
forged link, a coordinator's own link and another coordinator opening it change nothing; a
removed expert loses access at once; /my_data shows the expert's record."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.app import App
from bot.emulator import ChatMessage, EmulatedUser, Emulator
from bot.infra.clock import ManualClock
from bot.storage.tables import desk_experts, desk_invites, desk_questions, user_roles
from tests.conftest import Launch
from tests.e2e.test_desk import activist, ask, question_row
from tests.e2e.test_journey import read_policy, say, tap
from tests.e2e.test_volunteer import person, tick

MONDAY = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
COORDINATOR = 9400
ACTIVIST = 9401
EXPERT = 9412
OTHER_COORDINATOR = 9413
GROUP = -1009410
NOT_THEIRS = "not of a kind you answer"
ONLY_COORDINATORS = "only for coordinators"


def token_of(text: str) -> str:
    found = re.search(r"\?start=exp_([A-Za-z0-9_-]+)", text)
    assert found, text
    return found[1]


async def tap_on(user: EmulatedUser, label: str) -> ChatMessage:
    """Press `label` on the newest message that has it; that message as it is now (a screen
    edited in place), whatever else (a digest) came meanwhile."""
    shown = next(m for m in reversed(user.bot_messages) if label in m.button_texts())
    await user.press(label, message=shown)
    user.skip_pending()
    return user.current(shown.message_id)


async def make_invitation(coordinator: EmulatedUser, *kinds: str) -> str:
    """The coordinator's way to a link: «📥 Questions» → «🎓 Experts» → kinds → the link."""
    coordinator.skip_pending()
    await coordinator.send("/coordinator")  # a digest may come first
    await coordinator.messages_until(lambda m: "📥 Questions" in m.button_texts())
    await tap_on(coordinator, "📥 Questions")
    await tap_on(coordinator, "🎓 Experts")
    screen = await tap_on(coordinator, "➕ Invite an expert")
    assert "🔗 Make the link" not in screen.button_texts()  # at least one kind first
    for kind in kinds:
        screen = await tap_on(coordinator, kind)
        assert f"✅ {kind}" in screen.button_texts()
    screen = await tap_on(coordinator, "🔗 Make the link")
    assert "for an expert" in screen.text
    return token_of(screen.text)


async def opens(user: EmulatedUser, token: str) -> str:
    """The link opened; what the bot says of it (a digest may come first)."""
    user.skip_pending()
    await user.send(f"/start exp_{token}")
    [*_, said] = await user.messages_until(lambda m: "invitation" in m.text or "expert" in m.text)
    return said.text


async def experts_count(app: App) -> int:
    async with app.engine.connect() as conn:
        return int(
            (await conn.execute(select(func.count()).select_from(desk_experts))).scalar_one()
        )


async def roles_of(app: App, uid: int) -> set[str]:
    async with app.engine.connect() as conn:
        rows = await conn.execute(select(user_roles.c.role).where(user_roles.c.user_id == uid))
        return set(rows.scalars())


async def test_an_expert_answers_only_the_questions_of_their_kinds(
    emulator: Emulator, launch: Launch
) -> None:
    clock = ManualClock(MONDAY)
    app = (await launch(clock=clock, tick_seconds=3600, default_locale="en")).app
    olga = await person(
        app, emulator, COORDINATOR, "Olga", "Europe/Moscow", "mow", role="coordinator"
    )
    anna = await activist(app, emulator, ACTIVIST, "Anna")
    await ask(anna, "🧾 Accounting", "Do we pay tax on donations?")  # №1: not the expert's

    # The invitation: toggles (one chosen, one chosen and dropped), then the link.
    await say(olga, "/coordinator")
    await tap(olga, "📥 Questions")
    screen = await tap(olga, "🎓 Experts")
    assert "No experts yet" in screen.text
    screen = await tap(olga, "➕ Invite an expert")
    assert "🔗 Make the link" not in screen.button_texts()
    await tap(olga, "⚖️ Law")
    await tap(olga, "📝 Grant application")
    screen = await tap(olga, "✅ 📝 Grant application")
    assert "📝 Grant application" in screen.button_texts()
    assert "Chosen: ⚖️ Law" in screen.text
    screen = await tap(olga, "🔗 Make the link")
    assert "Invitation №1 for an expert · ⚖️ Law" in screen.text
    assert "It works once, until" in screen.text
    token = token_of(screen.text)
    async with app.engine.connect() as conn:
        stored = (await conn.execute(select(desk_invites.c.token_hash))).scalar_one()
    assert token not in stored  # only a hash of the token is kept
    screen = await tap(olga, "🎓 Experts")
    assert "№1 · ⚖️ Law · by Olga (@olga_9400), valid until" in screen.text
    assert "🚫 Revoke invitation №1" in screen.button_texts()

    # The coordinator's own link: told so, the invitation still unused.
    own = await say(olga, f"/start exp_{token}")
    assert "your own invitation link" in own.text
    # Another coordinator: sees every question anyway; the link is not used up.
    other = await person(
        app, emulator, OTHER_COORDINATOR, "Pavel", "Europe/Moscow", "mow", role="coordinator"
    )
    told = await say(other, f"/start exp_{token}")
    assert "You are a coordinator and see every question already" in told.text
    assert await experts_count(app) == 0

    # A forged link, a malformed one: a clear word, nothing changes.
    lev = emulator.user(EXPERT, first_name="Lev", username="lev_law", language_code="en")
    await lev.send("/start")
    await lev.next_message()
    forged = await say(lev, "/start exp_" + "A" * 22)
    assert "consent" in forged.text.lower()  # a newcomer: consent first, then the check
    refused = await tap(lev, "✅ I agree")
    assert "This invitation link is not valid" in refused.text
    refused = await say(lev, "/start exp_x")
    assert "not valid" in refused.text
    assert await experts_count(app) == 0
    assert "expert" not in await roles_of(app, EXPERT)

    # The real link: Lev becomes an expert for law.
    welcome = await say(lev, f"/start exp_{token}")
    assert "Welcome, expert!" in welcome.text
    assert "⚖️ Law" in welcome.text
    assert "🧾 Accounting" not in welcome.text
    assert "expert" in await roles_of(app, EXPERT)
    # Used: once only, for anyone.
    again = await say(lev, f"/start exp_{token}")
    assert "already been used" in again.text
    async with app.engine.connect() as conn:
        invite = (await conn.execute(select(desk_invites))).mappings().one()
    assert invite["used_by"] == EXPERT

    # His menu lists only law questions: the accounting one is not there.
    menu = await say(lev, "/start")
    assert "🎓 Questions for me as an expert" in menu.button_texts()
    screen = await tap(lev, "🎓 Questions for me as an expert")
    assert "You answer consultation questions of these kinds: ⚖️ Law." in screen.text
    screen = await tap(lev, "📥 Questions")
    assert "No open questions" in screen.text
    assert "Accounting" not in screen.text

    # A new law question: Lev is told (through the outbox), opens, takes and answers it.
    await ask(anna, "⚖️ Law", "May we sign a lease <alone>?")  # №2
    pushed = await lev.next_message()
    assert "New question №2" in pushed.text
    assert pushed.button_texts() == ["📥 Open the question", "☰ Menu"]
    card = await tap(lev, "📥 Open the question", pushed)
    assert "May we sign a lease <alone>?" in card.text
    assert "Anna (@anna_9401)" in card.text
    inbox = await tap(lev, "« Questions")
    assert "№2 · ⚖️ Law — waiting to be taken" in inbox.text
    assert "№1" not in inbox.text
    await tap(lev, "№2 · ⚖️ Law")
    card = await tap(lev, "🙋 Take")
    assert "being answered" in card.text
    taken = await anna.next_message()
    assert "Your question №2 has been taken: an expert is working" in taken.text
    await tap(lev, "✍️ Answer")
    lev.skip_pending()
    await lev.send("Yes, the chair signs <it>.")
    assert "Sent to the asker" in (await lev.next_message()).text
    answer = await anna.next_message()
    assert "Consultation №2" in answer.text
    assert "Yes, the chair signs <it>." in answer.text
    # The asker writes again: the expert (not in the work group) is told.
    lev.skip_pending()
    await tap(anna, "↩️ Reply", answer)
    await say(anna, "Even without the board?")
    again = await lev.next_message()
    assert "The asker wrote again in question №2" in again.text
    card = await tap(lev, "📥 Open the question", again)
    assert "Expert: Yes, the chair signs <it>." in card.text
    assert "Asker: Even without the board?" in card.text
    await tap(lev, "✍️ Answer")
    lev.skip_pending()
    await lev.send("Yes.")
    await lev.next_message()
    answer = await anna.next_message()
    assert "Consultation №2" in answer.text
    await tap(anna, "✅ Close the question", answer)
    thanks = await tap(anna, "5")
    assert "Your rating: 5/5" in thanks.text
    row = await question_row(app, 2)
    assert (row["status"], row["taken_by"], row["rating"]) == ("closed", EXPERT, 5)

    # A new accounting question: Lev is not told.
    lev.skip_pending()
    await ask(anna, "🧾 Accounting", "And VAT?")  # №3
    await lev.no_message()
    # A law question a coordinator took is not in his list (new ones and his own only).
    await ask(anna, "⚖️ Law", "Olga's one")  # №4
    await lev.next_message()  # told of it, as new
    await say(olga, "/coordinator")
    await tap(olga, "📥 Questions")
    await tap(olga, "№4 · ⚖️ Law")
    await tap(olga, "🙋 Take")
    assert "№4 has been taken" in (await anna.next_message()).text
    await say(lev, "/expert")
    inbox = await tap(lev, "📥 Questions")
    assert "No open questions" in inbox.text

    # Forged presses for a question of another kind: refused, nothing changes.
    for data in ("dk:see:1:", "dk:take:1:", "dk:answer:1:", "dk:shut:1:", "dk:files:1:"):
        lev.skip_pending()
        await lev.press_data(data)
        assert NOT_THEIRS in (await lev.next_message()).text, data
    row = await question_row(app, 1)
    assert (row["status"], row["taken_by"]) == ("new", None)
    lev.skip_pending()
    await lev.send("Answer to №1 anyway")  # no answer form open: nothing reaches Anna
    await lev.next_message()
    await anna.no_message()

    # Coordinators' tools: statistics, broadcasts, the experts and invitations — refused.
    for data in ("cm:stats", "cm:broadcast", "cm:menu", "ex:list:0:", "ex:make:0:law"):
        lev.skip_pending()
        await lev.press_data(data)
        assert ONLY_COORDINATORS in (await lev.next_message()).text, data
    for command in ("/stats", "/broadcast", "/coordinator"):
        refused = await say(lev, command)
        assert ONLY_COORDINATORS in refused.text, command
    async with app.engine.connect() as conn:
        invites = (await conn.execute(select(func.count()).select_from(desk_invites))).scalar()
    assert invites == 1
    group = emulator.group(GROUP, "Coordinators", creator=olga)
    group.add(lev)
    await group.send(lev, "/desk_group")
    assert "Only a coordinator of Opora" in (await group.next_message()).text
    assert await app.desk.group() is None

    # /my_data has the expert's record.
    exported = await app.profiles.export(EXPERT)
    assert exported is not None
    assert exported["expert"]["kinds"] == ["law"]
    assert exported["expert"]["answered"] == 1  # one question, answered twice
    lev.skip_pending()
    await lev.send("/my_data")
    [*_, shown] = await lev.messages_until(lambda m: "Outside expert" in m.text)
    assert "Kinds of questions you answer: ⚖️ Law" in shown.text
    assert "1 question answered" in shown.text

    # The coordinator sees him with his kinds and answers, and removes him.
    await say(olga, "/coordinator")
    await tap(olga, "📥 Questions")
    screen = await tap(olga, "🎓 Experts")
    assert "Lev (@lev_law) — ⚖️ Law · 1 question answered" in screen.text
    screen = await tap(olga, "✖ Remove Lev (@lev_law)")
    assert "no longer see any question" in screen.text
    screen = await tap(olga, "✖ Yes, remove")
    assert "The expert is removed" in screen.text
    assert "No experts yet" in screen.text
    assert "expert" not in await roles_of(app, EXPERT)
    [*_, told] = await lev.messages_until(lambda m: "outside expert" in m.text)
    assert "questions are no longer shown to you" in told.text
    assert told.button_texts() == ["☰ Menu"]

    # A removed expert loses access at once, from old buttons too.
    lev.skip_pending()
    await ask(anna, "⚖️ Law", "One more?")  # №5: nobody to tell
    await lev.no_message()
    for data in ("dk:inbox:0:", "dk:see:5:", "dk:take:5:", "m:expert"):
        lev.skip_pending()
        await lev.press_data(data)
        assert ONLY_COORDINATORS in (await lev.next_message()).text, data
    assert (await question_row(app, 5))["status"] == "new"
    assert emulator.rejections() == []


async def test_expired_and_revoked_links_change_nothing(
    emulator: Emulator, launch: Launch
) -> None:
    clock = ManualClock(MONDAY)
    app = (await launch(clock=clock, tick_seconds=3600, default_locale="en")).app
    olga = await person(
        app, emulator, COORDINATOR, "Olga", "Europe/Moscow", "mow", role="coordinator"
    )
    lev = await activist(app, emulator, EXPERT, "Lev")  # consented: no consent screen

    old = await make_invitation(olga, "⚖️ Law", "🧾 Accounting")
    await tick(app, clock, clock.now() + timedelta(days=7, minutes=1))
    assert "This invitation link has expired" in await opens(lev, old)

    revoked = await make_invitation(olga, "🧾 Accounting")
    screen = await tap_on(olga, "🎓 Experts")
    assert "№1" not in screen.text  # expired: no longer listed
    screen = await tap_on(olga, "🚫 Revoke invitation №2")
    assert "Invitation №2 is revoked" in screen.text
    assert "🚫 Revoke invitation №2" not in screen.button_texts()
    assert "was revoked" in await opens(lev, revoked)
    olga.skip_pending()
    await olga.press_data("ex:revoke:2:")  # revoked already: a stale button
    await olga.messages_until(lambda m: "out of date" in m.text)
    await olga.press_data("ex:make:0:")  # no kind chosen (forged)
    await olga.messages_until(lambda m: "at least one kind" in m.text)
    await olga.press_data("ex:make:0:law,bogus")
    await olga.messages_until(lambda m: "at least one kind" in m.text)
    assert await experts_count(app) == 0
    assert "expert" not in await roles_of(app, EXPERT)
    async with app.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(desk_invites))).scalar() == 2
        assert (await conn.execute(select(func.count()).select_from(desk_questions))).scalar() == 0

    # A working one after all, for accounting: his kinds add up with a second invitation.
    fresh = await make_invitation(olga, "🧾 Accounting")
    assert "Welcome, expert!" in await opens(lev, fresh)
    more = await make_invitation(olga, "⚖️ Law")
    assert "⚖️ Law, 🧾 Accounting" in await opens(lev, more)
    assert await app.desk.expert_kinds(EXPERT) == frozenset({"law", "accounting"})
    assert emulator.rejections() == []


async def test_an_expert_removed_while_answering_sends_nothing_and_delete_me_erases_them(
    emulator: Emulator, launch: Launch
) -> None:
    clock = ManualClock(MONDAY)
    app = (await launch(clock=clock, tick_seconds=3600, default_locale="en")).app
    olga = await person(
        app, emulator, COORDINATOR, "Olga", "Europe/Moscow", "mow", role="coordinator"
    )
    anna = await activist(app, emulator, ACTIVIST, "Anna")
    lev = await activist(app, emulator, EXPERT, "Lev")
    assert "Welcome, expert!" in await opens(lev, await make_invitation(olga, "⚖️ Law"))

    # Lev opens the answer form of a law question…
    await ask(anna, "⚖️ Law", "Can we sign alone?")
    pushed = await lev.next_message()
    await tap(lev, "📥 Open the question", pushed)
    prompt = await tap(lev, "✍️ Answer")
    assert "Write the answer to question №1" in prompt.text

    # …and is removed meanwhile: what he types goes nowhere.
    await say(olga, "/coordinator")
    await tap(olga, "📥 Questions")
    await tap(olga, "🎓 Experts")
    await tap(olga, "✖ Remove Lev (@lev_9412)")
    await tap(olga, "✖ Yes, remove")
    refused = await say(lev, "Yes, you can.")
    assert ONLY_COORDINATORS in refused.text
    await anna.no_message()
    row = await question_row(app, 1)
    assert (row["status"], row["answered_at"]) == ("new", None)

    # Invited again, then /delete_me: the expert's record and role go with the rest.
    assert "Welcome, expert!" in await opens(lev, await make_invitation(olga, "⚖️ Law"))
    assert await experts_count(app) == 1
    confirm = await say(lev, "/delete_me")
    await tap(lev, "🗑 Yes, delete everything", confirm)
    assert await experts_count(app) == 0
    assert await roles_of(app, EXPERT) == set()
    async with app.engine.connect() as conn:
        used_by = (await conn.execute(select(desk_invites.c.used_by))).scalars().all()
    assert EXPERT not in used_by
    assert emulator.rejections() == []


async def test_a_newcomer_agrees_from_the_policy_and_still_becomes_an_expert(
    emulator: Emulator, launch: Launch
) -> None:
    """The expert's consent screen → the full policy (two pages) → “I agree” there: the
    invitation is kept, not swapped for the activist's consent."""
    app = (await launch(clock=ManualClock(MONDAY), tick_seconds=3600, default_locale="en")).app
    olga = await person(
        app, emulator, COORDINATOR, "Olga", "Europe/Moscow", "mow", role="coordinator"
    )
    token = await make_invitation(olga, "⚖️ Law")
    lev = emulator.user(EXPERT, first_name="Lev", username="lev_law", language_code="en")
    consent = await say(lev, f"/start exp_{token}")
    assert "📄 Full privacy policy" in consent.button_texts()
    policy = await read_policy(lev, "📄 Full privacy policy", consent)
    assert "outside experts" in policy
    welcome = await tap(lev, "✅ I agree")
    assert "Welcome, expert!" in welcome.text
    assert await roles_of(app, EXPERT) >= {"expert"}
    assert "activist" not in await roles_of(app, EXPERT)
