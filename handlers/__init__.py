"""The router tree, in an explicit order: errors first, the catch-all fallback last.

The journey's routers sit under one parent that checks consent on the server for every message
and button, whatever screen it came from. An event only visits the routers that have a handler
that could take it: a press, one for its CallbackData prefix; a message, one for its state or
its command (bot/infra/routing.py).
"""

from __future__ import annotations

from aiogram import Router

from bot.infra.routing import Tree, filters_on_the_loop, route
from handlers import (
    admin,
    articles,
    attendance,
    basics,
    brief,
    broadcast,
    catalog,
    chats,
    consent,
    content_admin,
    coordinator,
    desk,
    desk_experts,
    diagnosis,
    errors,
    fallback,
    faq,
    grants,
    ikigai,
    language,
    measures,
    mentor_marks,
    onboarding,
    opportunities_admin,
    organisers,
    peers,
    place,
    posting,
    profile,
    quiz,
    settings,
    sharing,
    stats,
    volunteer,
    volunteer_setup,
    working_groups,
)
from handlers.guards import DeskScope, OwnOpportunities, RequireConsent, RequireRole

_tree: Router | None = None


def build_router() -> Router:
    """The tree is built once per process (aiogram routers are module singletons); an app built
    again in the same process (tests, a restart) takes it over from the stopped one."""
    global _tree
    if _tree is None:
        _tree = _build()
    _tree._parent_router = None  # detach from a previous, stopped Dispatcher
    return _tree


def _build() -> Router:
    personal = Tree(name="personal")
    guard = RequireConsent()
    personal.message.middleware(guard)
    personal.callback_query.middleware(guard)
    personal.include_routers(
        onboarding.router,
        place.router,
        ikigai.router,
        quiz.router,
        diagnosis.router,
        measures.router,
        profile.router,
        peers.router,
        settings.router,
        volunteer.router,
        volunteer_setup.router,
        desk.router,
        attendance.router,
    )

    # The desk's inbox, shared by coordinators and outside experts (an expert only with the
    # questions of their kinds: DeskScope, and the service checks every action).
    consulting = Tree(name="consulting")
    for observer in (consulting.message, consulting.callback_query):
        observer.middleware(RequireRole("coordinator", "admin", "expert"))
        observer.middleware(DeskScope())
    consulting.include_routers(desk.inbox, desk_experts.expert)

    coordinating = Tree(name="coordinating")
    for observer in (coordinating.message, coordinating.callback_query):
        observer.middleware(RequireRole("coordinator", "admin"))
    coordinating.include_routers(
        coordinator.router,
        coordinator.serving,
        faq.admin,
        desk_experts.router,
        broadcast.router,
        content_admin.router,
        stats.router,
        brief.router,
        organisers.router,
        mentor_marks.router,
        working_groups.router,
    )

    organising = Tree(name="organising")  # coordinators, and activists allowed to publish
    for observer in (organising.message, organising.callback_query):
        observer.middleware(RequireRole("coordinator", "admin", "organiser"))
    organising.callback_query.middleware(OwnOpportunities())
    organising.include_routers(opportunities_admin.router, posting.router)

    administering = Tree(name="administering")
    for observer in (administering.message, administering.callback_query):
        observer.middleware(RequireRole("admin"))
    administering.include_routers(admin.router)

    root = Tree(name="root")
    root.include_routers(
        errors.router,
        desk.group,  # the work group's messages, before anything that answers a person
        consent.router,
        desk_experts.link,  # t.me/<bot>?start=exp_…, before /start itself
        basics.router,
        language.router,
        catalog.router,
        grants.router,
        articles.router,
        faq.router,  # «Частые вопросы» are for everyone, consent or not
        sharing.router,  # inline queries come from anyone: no consent needed to see cards
        chats.router,  # the bot added to / removed from a group or channel
        personal,
        consulting,
        coordinating,
        organising,
        administering,
        fallback.router,  # must stay last
    )
    route(root)  # an event skips every router that could not take it
    filters_on_the_loop(root)  # a state or F filter is a comparison: no thread trip for it
    return root
