"""Table definitions (SQLAlchemy Core). Migrations in `migrations/` create exactly these.

SQL stays portable between SQLite and PostgreSQL: no dialect-only types or statements here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


# What erasing a person's data (bot.storage.personal.erase) does with a column that may hold
# their Telegram id, beyond the columns with a foreign key to users.id (their rows are
# deleted): `column.info[ERASE]` is PSEUDONYM (the column says who did something that stays:
# it gets their pseudonym, see `erasures`), NULL (it is set to NULL) or DELETE (the row goes).
ERASE = "erase"
PSEUDONYM = "pseudonym"
NULL = "null"
DELETE = "delete"


def _who(name: str, *, nullable: bool = True) -> Column[int]:
    """A column naming who did something that outlives their data: a pseudonym after erasure."""
    return Column(name, BigInteger, nullable=nullable, info={ERASE: PSEUDONYM})


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python, the same instant on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


users = Table(
    "users",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),  # Telegram user id
    Column("first_name", String(128)),
    Column("last_name", String(128)),
    Column("username", String(64)),
    Column("locale", String(8)),  # None: follow the Telegram client's language
    Column("timezone", String(64)),  # IANA zone; None: the deployment's default
    Column("region", String(16)),  # a region code of content/regions.yaml
    Column("ikigai_done_at", UTCDateTime()),  # finished (or skipped through) the exercise
    Column("ikigai_focus", Text),  # the user's sentence for what their project does
    Column("ikigai_message_id", BigInteger),  # the message the ikigai's result is shown in
    Column("consent_version", String(16)),
    Column("consent_at", UTCDateTime()),
    Column("blocked", Boolean, nullable=False, default=False, server_default=false()),
    Column("blocked_at", UTCDateTime()),
    # The last update from the user, written at most once a day: the retention term counts
    # from it (bot/services/retention.py).
    Column("last_seen_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

user_roles = Table(
    "user_roles",
    metadata,
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), primary_key=True),
    _who("granted_by"),
    Column("granted_at", UTCDateTime(), nullable=False),
)

fsm_states = Table(
    "fsm_states",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("user_id", BigInteger, info={ERASE: DELETE}),
    Column("state", String(255)),
    Column("data", Text, nullable=False, default="{}", server_default="{}"),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_fsm_states_user_id", "user_id"),
)

# --- the activist journey -----------------------------------------------------------------


def _user_fk() -> ForeignKey:
    return ForeignKey("users.id", ondelete="CASCADE")


ikigai_entries = Table(
    "ikigai_entries",
    metadata,
    Column("user_id", BigInteger, _user_fk(), primary_key=True),
    Column("col", String(8), primary_key=True),  # want / can / need
    Column("position", Integer, primary_key=True),  # 1..3
    Column("text", Text, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

user_topics = Table(
    "user_topics",
    metadata,
    Column("user_id", BigInteger, _user_fk(), primary_key=True),
    Column("topic", String(32), primary_key=True),
)

user_problems = Table(
    "user_problems",
    metadata,
    Column("user_id", BigInteger, _user_fk(), primary_key=True),
    Column("problem", String(48), primary_key=True),
)

user_crises = Table(
    "user_crises",
    metadata,
    Column("user_id", BigInteger, _user_fk(), primary_key=True),
    Column("reaction", String(32), primary_key=True),
)

quiz_results = Table(
    "quiz_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, _user_fk(), nullable=False),
    Column("stage", Integer, nullable=False),
    Column("answers", Text, nullable=False),  # JSON {question: option}
    Column("taken_at", UTCDateTime(), nullable=False),
    Index("ix_quiz_results_user_id", "user_id"),
)

# Support measures that coordinators add for their territory (screens: the coordinators issue).
local_measures = Table(
    "local_measures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("type", String(16), nullable=False),  # a measure type code of the catalog
    Column("phase", String(16)),  # None: any phase
    Column("region", String(16)),  # None: every region
    Column("topics", Text, nullable=False, default="[]", server_default="[]"),  # JSON codes
    Column("problems", Text, nullable=False, default="[]", server_default="[]"),  # JSON codes
    Column("contact", String(200)),
    Column("link", String(500)),
    _who("created_by"),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("closed_at", UTCDateTime()),
)

# --- pushes: settings, catalogs added by coordinators, follows, the outbox ---------------

user_settings = Table(
    "user_settings",
    metadata,
    Column("user_id", BigInteger, _user_fk(), primary_key=True),
    # Categories of pushes, each on or off.
    Column("measures", Boolean, nullable=False, default=True, server_default=true()),
    Column("grants", Boolean, nullable=False, default=True, server_default=true()),
    Column("articles", Boolean, nullable=False, default=True, server_default=true()),
    # Coordinators' announcements are a mailing with a consent of its own: None until the user
    # answers the question asked after consent (off meanwhile).
    Column("announcements", Boolean),
    Column("opportunities", Boolean, nullable=False, default=True, server_default=true()),
    Column("digest", String(8), nullable=False, default="weekly", server_default="weekly"),
    Column("digest_hour", Integer, nullable=False, default=10, server_default="10"),  # local
    Column("digest_weekday", Integer, nullable=False, default=0, server_default="0"),  # Monday
    Column("quiet_start", Integer, nullable=False, default=22, server_default="22"),  # local
    Column("quiet_end", Integer, nullable=False, default=9, server_default="9"),  # local
    Column("updated_at", UTCDateTime(), nullable=False),
)

grants = Table(
    "grants",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", String(300), nullable=False),
    Column("organiser", String(300), nullable=False),
    Column("link", String(500), nullable=False),
    Column("who", Text, nullable=False),
    Column("amount", String(200)),
    Column("topics", Text, nullable=False, default="[]", server_default="[]"),  # JSON codes
    Column("phases", Text, nullable=False, default="[]", server_default="[]"),  # JSON codes
    Column("region", String(16)),  # None: federal
    Column("windows", Text, nullable=False),  # JSON, see bot.domain.windows
    Column("timezone", String(64), nullable=False, default="Europe/Moscow"),
    _who("created_by"),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("closed_at", UTCDateTime()),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", String(300), nullable=False),
    Column("link", String(500), nullable=False),
    Column("summary", Text, nullable=False),
    Column("topics", Text, nullable=False, default="[]", server_default="[]"),
    Column("stages", Text, nullable=False, default="[]", server_default="[]"),  # JSON numbers
    _who("created_by"),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("closed_at", UTCDateTime()),
)

# Grants a user follows (deadline reminders, /calendar); key: a catalog code or "G<id>".
grant_follows = Table(
    "grant_follows",
    metadata,
    Column("user_id", BigInteger, _user_fk(), primary_key=True),
    Column("grant_key", String(64), primary_key=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

# Articles a user was sent or opened: an article never reaches the same user twice.
article_log = Table(
    "article_log",
    metadata,
    Column("user_id", BigInteger, _user_fk(), primary_key=True),
    Column("article_key", String(64), primary_key=True),
    Column("sent_at", UTCDateTime()),
    Column("read_at", UTCDateTime()),
)

# Everything that leaves the bot on its own initiative. The row is the truth: a restart resumes
# it, the unique dedup key stops doubles, instances claim rows instead of racing.
outbox = Table(
    "outbox",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("user_id", BigInteger, _user_fk(), nullable=False),
    Column("chat_id", BigInteger, nullable=False, info={ERASE: DELETE}),
    Column("kind", String(16), nullable=False),  # digest, reminder, broadcast, …
    Column("dedup_key", String(200), nullable=False, unique=True),
    Column("payload", Text, nullable=False),  # JSON, see bot.delivery
    Column("batch_id", Integer),  # a broadcast's id, for progress and cancelling
    Column("status", String(12), nullable=False, default="pending", server_default="pending"),
    Column("not_before", UTCDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False, default=0, server_default="0"),
    Column("claimed_by", String(64)),
    Column("claimed_at", UTCDateTime()),
    Column("sent_at", UTCDateTime()),
    Column("message_id", BigInteger),
    Column("error", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_outbox_due", "status", "not_before"),
    Index("ix_outbox_batch_id", "batch_id"),
    Index("ix_outbox_user_id", "user_id"),
)

# The planner's work of one tick, a page of user ids (first..last) a row: a worker process
# claims a page (`claimed_by`, `claimed_at`), plans it and marks it done in the transaction
# that writes its pushes, so two workers or a restarted one never plan a page twice
# (bot/storage/plan_claims.py). The ids bound a page and are erased with their user.
plan_claims = Table(
    "plan_claims",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("tick_at", UTCDateTime(), nullable=False),  # the tick's time: what is due then
    Column("first_id", BigInteger, nullable=False, info={ERASE: DELETE}),
    Column("last_id", BigInteger, nullable=False, info={ERASE: DELETE}),
    Column("claimed_by", String(64)),
    Column("claimed_at", UTCDateTime()),  # wall-clock time, for the lease
    Column("done_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),  # wall-clock time
    UniqueConstraint("tick_at", "first_id", name="uq_plan_claims_page"),
    Index("ix_plan_claims_open", "done_at", "tick_at"),
)

# --- coordinators: audit log, broadcasts, self-assessments --------------------------------

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # Who did it: a Telegram user id, or after that user's data was erased their pseudonym
    # (`erasures`, as a negative number); the log is the operator's record of who did what.
    _who("actor_id", nullable=False),
    Column("action", String(48), nullable=False),
    Column("target", String(200)),
    Column("details", Text, nullable=False, default="{}", server_default="{}"),  # JSON
    Column("created_at", UTCDateTime(), nullable=False),  # a refusal's: the window's first
    # Refusals are counted, not logged one by one: one row per actor, action and target in
    # a window (bot/services/coordination.py), `times` the presses it stands for.
    Column("times", Integer, nullable=False, default=1, server_default="1"),
    Index("ix_audit_log_created_at", "created_at"),
)

# One row per person whose data was erased (/delete_me, the retention purge) while something
# they did stays: their id in the columns that say who did what (audit_log.actor_id,
# opportunities.created_by, broadcasts.author_id, …) becomes `-id` of this row, and in text
# "deleted-<id>". A counter, not derived from the Telegram id: nothing leads back to it.
erasures = Table(
    "erasures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("erased_at", UTCDateTime(), nullable=False),
)

broadcasts = Table(
    "broadcasts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _who("author_id", nullable=False),
    Column("text", Text, nullable=False),
    Column("entities", Text),  # JSON MessageEntity list: the formatting the author used
    Column("photo", String(255)),  # file_id
    Column("document", String(255)),  # file_id
    Column("filename", String(255)),
    Column("segment", Text, nullable=False, default="{}", server_default="{}"),  # JSON
    Column("status", String(12), nullable=False, default="draft", server_default="draft"),
    Column("scheduled_at", UTCDateTime()),
    Column("recipients", Integer, nullable=False, default=0, server_default="0"),
    Column("progress_chat_id", BigInteger, info={ERASE: NULL}),  # the author's chat
    Column("progress_message_id", BigInteger),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime()),
    Column("finished_at", UTCDateTime()),
    Column("locale", String(8)),  # the author's language while composing: progress, report
    Index("ix_broadcasts_status", "status"),
)

self_assessments = Table(
    "self_assessments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("coordinator_id", BigInteger, nullable=False, info={ERASE: DELETE}),
    Column("scores", Text, nullable=False),  # JSON {support condition code: 1..5}
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_self_assessments_coordinator_id", "coordinator_id"),
)

# --- volunteering: opportunities, sign-ups, their change log, volunteer profiles ----------


def _opportunity_fk() -> ForeignKey:
    return ForeignKey("opportunities.id", ondelete="CASCADE")


opportunities = Table(
    "opportunities",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("topic", String(32), nullable=False),  # a topic code of topics.yaml
    Column("place", String(300)),  # an address; None: online only
    Column("link", String(500)),  # an online link
    Column("region", String(16)),  # None: anywhere
    Column("timezone", String(64), nullable=False),  # the organiser's IANA zone
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("ends_at", UTCDateTime(), nullable=False),
    Column("capacity", Integer),  # None: no limit
    Column("signup_until", UTCDateTime()),  # None: until the start
    Column("contact", String(200)),
    Column("status", String(12), nullable=False, default="open", server_default="open"),
    # Bumped by every sign-up change: the UPDATE that bumps it is the opportunity's lock, and
    # its new value is the queue position of the sign-up made under that lock.
    Column("seq", Integer, nullable=False, default=0, server_default="0"),
    # The last opportunity_changes.id the organiser was told about.
    Column("noticed_change", Integer, nullable=False, default=0, server_default="0"),
    # A shift or a role of another opportunity (bot.domain.shifts); None: a first one.
    Column("parent_id", Integer, ForeignKey("opportunities.id", ondelete="CASCADE")),
    Column("role", String(60)),  # the role within the shift («водитель»); None: any
    _who("created_by", nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_opportunities_starts_at", "starts_at"),
    Index("ix_opportunities_parent_id", "parent_id"),
)

signups = Table(
    "signups",
    metadata,
    Column("opportunity_id", Integer, _opportunity_fk(), primary_key=True),
    Column("user_id", BigInteger, _user_fk(), primary_key=True),
    Column("status", String(12), nullable=False),  # confirmed / waiting / cancelled
    Column("position", Integer, nullable=False),  # in the queue: the opportunity's seq then
    Column("created_at", UTCDateTime(), nullable=False),
    Column("status_at", UTCDateTime(), nullable=False),  # when the status was set
    Column("attended", Boolean),  # None: not marked; False: a no-show
    # The day-before confirmation: None not asked; asked; yes; no (declined: the place went);
    # silent (asked, no answer by the deadline).
    Column("confirm", String(8)),
    Column("confirm_at", UTCDateTime()),  # when asked or answered
    Column("rating", Integer),  # 1–5, the volunteer's, after the event
    Column("comment", Text),  # the volunteer's comment with the rating
    Column("thanked_at", UTCDateTime()),  # when the thanks with the rating buttons went
    Column("minutes", Integer),  # the organiser's correction of the hours; None: end − start
    Index("ix_signups_user_id", "user_id"),
)

# Every sign-up change, for the organiser's batched notices.
opportunity_changes = Table(
    "opportunity_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("opportunity_id", Integer, _opportunity_fk(), nullable=False),
    Column("user_id", BigInteger, _user_fk(), nullable=False),
    Column("change", String(12), nullable=False),  # confirmed/waiting/cancelled/left/promoted
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_opportunity_changes_opportunity_id", "opportunity_id"),
    Index("ix_opportunity_changes_user_id", "user_id"),
)

# Opportunity cards shown outside the bot: posted by an organiser into a group or channel the bot
# administers (chat_id + message_id), or shared by anyone through inline mode
# (inline_message_id). Kept so the free places are updated in place across restarts; no user:
# who posted is in the audit log, who shared inline is not known.
posted_cards = Table(
    "posted_cards",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("opportunity_id", Integer, _opportunity_fk(), nullable=False),
    Column("chat_id", BigInteger),  # a group or channel (never a person)
    Column("message_id", BigInteger),
    Column("inline_message_id", String(255), unique=True),
    Column("locale", String(8), nullable=False),
    # What the message shows now: the opportunity's seq and updated_at, and its phase.
    Column("shown_seq", Integer, nullable=False, default=0, server_default="0"),
    Column("shown_updated", UTCDateTime()),
    Column("shown_phase", String(12), nullable=False, default="", server_default=""),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_posted_cards_opportunity_id", "opportunity_id"),
    UniqueConstraint("chat_id", "message_id", name="uq_posted_cards_message"),
)

# Groups and channels where the bot is an administrator that may post, as my_chat_member
# updates told (bot/services/sharing.py): offered as buttons to an organiser posting a card,
# who must administer the chat themselves (asked of Telegram at the press). A row goes when
# the bot is removed or demoted. No user: who added the bot is not kept.
bot_chats = Table(
    "bot_chats",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),  # never a person
    Column("type", String(12), nullable=False),  # group / supergroup / channel
    Column("title", String(255), nullable=False),
    Column("username", String(64)),
    Column("changed_at", UTCDateTime(), nullable=False),  # the update's date: a late one loses
)

volunteer_profiles = Table(
    "volunteer_profiles",
    metadata,
    Column("user_id", BigInteger, _user_fk(), primary_key=True),
    Column("skills", Text, nullable=False, default="[]", server_default="[]"),  # JSON strings
    Column("availability", Text, nullable=False, default="[]", server_default="[]"),  # JSON
    Column("reach", String(8)),  # online / town / region / far; None: not asked yet
    Column("city", String(100)),  # the town, typed (the catalog has no districts)
    # Told the moment a fitting opportunity is published (asked when none fitted).
    Column("notify_new", Boolean, nullable=False, default=False, server_default=false()),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# --- peers and mentors (bot/services/peers.py) ----------------------------------------------

# An activist who shows their project to other activists: which parts (nothing before this
# row; deleting it hides them at once) and the peers suggested the last time.
peer_profiles = Table(
    "peer_profiles",
    metadata,
    Column("user_id", BigInteger, _user_fk(), primary_key=True),
    Column("fields", Text, nullable=False, default="[]", server_default="[]"),  # JSON codes
    Column("shown", Text, nullable=False, default="[]", server_default="[]"),  # JSON user ids
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Someone a person no longer wants to hear from (and, if reported, the coordinators were told).
peer_blocks = Table(
    "peer_blocks",
    metadata,
    Column("user_id", BigInteger, _user_fk(), primary_key=True),
    Column(
        "blocked_id",
        BigInteger,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("reported", Boolean, nullable=False, default=False, server_default=false()),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_peer_blocks_blocked_id", "blocked_id"),
)

# An offer to mentor: topics, mentees at once, how and how often.
mentor_offers = Table(
    "mentor_offers",
    metadata,
    Column("user_id", BigInteger, _user_fk(), primary_key=True),
    Column("topics", Text, nullable=False, default="[]", server_default="[]"),  # JSON codes
    Column("capacity", Integer, nullable=False, default=1, server_default="1"),
    Column("ways", Text, nullable=False, default="[]", server_default="[]"),  # chat/call/meeting
    Column("often", String(12), nullable=False, default="monthly", server_default="monthly"),
    Column("active", Boolean, nullable=False, default=False, server_default=false()),
    _who("marked_by"),  # the coordinator who let them mentor below stage 5
    Column("updated_at", UTCDateTime(), nullable=False),
)

# A double opt-in introduction between two activists (kind "peer") or a mentorship ("mentor":
# from the mentee to the mentor): pending → accepted (a mentorship then runs: a check-in after
# a month, an end with an optional rating) or declined (silently); ended.
introductions = Table(
    "introductions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(8), nullable=False),
    Column("from_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("to_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(10), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("answered_at", UTCDateTime()),
    Column("checkin_at", UTCDateTime()),  # when the month's «как идёт?» went to both
    Column("ended_at", UTCDateTime()),
    Column("rating", Integer),  # 1–5 from the mentee at the end
    Index("ix_introductions_from_id", "from_id"),
    Index("ix_introductions_to_id", "to_id"),
)

# --- the consultation desk: questions to the coordinators, their conversation, the group ----


def _question_fk() -> ForeignKey:
    return ForeignKey("desk_questions.id", ondelete="CASCADE")


desk_questions = Table(
    "desk_questions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),  # the number «№N»
    Column("user_id", BigInteger, _user_fk(), nullable=False),  # who asked
    Column("kind", String(16), nullable=False),  # law / accounting / grant / management / other
    Column("text", Text, nullable=False),
    Column("context", Text, nullable=False),  # JSON: stage, region, topics shared with it
    Column("files", Text, nullable=False, default="[]", server_default="[]"),  # JSON: attached
    # photos and documents, [{"kind": "photo" | "document", "file_id": …, "name": …}]
    Column("status", String(12), nullable=False),  # new / taken / answered / closed / withdrawn
    _who("taken_by"),
    Column("group_id", BigInteger),  # the work group and forum topic it went to
    Column("thread_id", BigInteger),
    Column("rating", Integer),  # 1-5, from the asker
    Column("rating_comment", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("taken_at", UTCDateTime()),
    Column("answered_at", UTCDateTime()),  # the first answer
    Column("active_at", UTCDateTime(), nullable=False),  # the last message either way
    Column("closed_at", UTCDateTime()),
    Column("reminded_at", UTCDateTime()),  # the group was reminded it is not taken
    # «Частые вопросы»: may it be published without the name? None: not asked yet.
    Column("faq_permission", Boolean),
    Index("ix_desk_questions_user_id", "user_id"),
    Index("ix_desk_questions_status", "status"),
    Index("ix_desk_questions_thread", "group_id", "thread_id"),
)

desk_messages = Table(
    "desk_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("question_id", Integer, _question_fk(), nullable=False),
    Column("asker_id", BigInteger, _user_fk(), nullable=False),  # whose question it is
    _who("author_id"),  # a coordinator's answer; None: the asker's follow-up
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_desk_messages_question_id", "question_id"),
)

desk_group = Table(  # the coordinators' work group (one row, id 1)
    "desk_group",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("title", String(255)),
    _who("set_by"),
    Column("set_at", UTCDateTime(), nullable=False),
)

# «Частые вопросы»: an answered question published, anonymised and edited by a coordinator.
# No foreign key to users: a published entry holds nothing of the asker's (`question_id`
# links it to the question it came from while that lives; the erasure drops a draft, and a
# published entry that still names the asker, see bot/storage/faq.py).
faq_entries = Table(
    "faq_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "question_id", Integer, ForeignKey("desk_questions.id", ondelete="SET NULL"), unique=True
    ),
    Column("kind", String(16), nullable=False),  # the desk's kinds: law / accounting / …
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("status", String(12), nullable=False),  # draft / published / hidden
    _who("edited_by"),  # the coordinator who last edited or published it
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("published_at", UTCDateTime()),
    Index("ix_faq_entries_status", "status"),
)

# Outside experts of the consultation desk (a lawyer, an accountant): a coordinator's one-time
# invitation (only a hash of its token is kept) and the experts with the kinds of questions
# they answer (their role "expert" is in user_roles).
desk_invites = Table(
    "desk_invites",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the token
    Column("kinds", String(80), nullable=False),  # comma-separated: law,accounting
    _who("created_by", nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_by", BigInteger, info={ERASE: NULL}),  # who became an expert by it
    Column("used_at", UTCDateTime()),
    Column("revoked_at", UTCDateTime()),
)

desk_experts = Table(
    "desk_experts",
    metadata,
    Column("user_id", BigInteger, _user_fk(), primary_key=True),
    Column("kinds", String(80), nullable=False),  # comma-separated, as desk_invites
    _who("invited_by"),
    Column("joined_at", UTCDateTime(), nullable=False),
)

# Certificates of volunteering the volunteer downloaded: what was certified, checked by code.
certificates = Table(
    "certificates",
    metadata,
    Column("code", String(16), primary_key=True),
    Column("user_id", BigInteger, _user_fk(), nullable=False),
    Column("name", String(200), nullable=False),  # as the volunteer chose to show it
    Column("minutes", Integer, nullable=False),
    Column("events", Integer, nullable=False),
    Column("issued_at", UTCDateTime(), nullable=False),
    Index("ix_certificates_user_id", "user_id"),
)
