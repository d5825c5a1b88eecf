"""Every web page route: the landing page, sign-in, sign-up and the OAuth authorization page."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from cordee.web import (
    authorize,
    campaign_door,
    campaign_index,
    campaign_organiser,
    campaign_pages,
    campaign_wall,
    columns_pages,
    compose,
    compose_polls,
    edit_note,
    email_pages,
    home,
    lists_pages,
    live,
    note_actions,
    pages,
    profiles,
    public_pages,
    reader_pages,
    scheduled_pages,
    security_settings,
    settings_profile,
    two_factor,
    two_factor_settings,
    widget,
)
from cordee.web.feeds import feed_routes
from cordee.web.oembed import oembed_routes


def routes() -> list[BaseRoute]:
    return [
        *feed_routes(),
        *oembed_routes(),
        Route("/", home.root, methods=["GET"]),
        Route("/home", home.home_timeline, methods=["GET"]),
        Route("/compose", compose.compose_page, methods=["GET"]),
        Route("/compose", compose.compose_submit, methods=["POST"]),
        Route("/web/count", compose.count, methods=["POST"]),
        Route("/web/polls/{id}/votes", compose_polls.vote, methods=["POST"]),
        Route("/notes/{id}/edit", edit_note.edit_page, methods=["GET"]),
        Route("/notes/{id}/edit", edit_note.edit_submit, methods=["POST"]),
        Route("/scheduled", scheduled_pages.scheduled_page, methods=["GET"]),
        Route("/scheduled/{id}/cancel", scheduled_pages.cancel_submit, methods=["POST"]),
        Route("/web/stream", live.stream, methods=["GET"]),
        Route("/web/timeline/home", home.home_since, methods=["GET"]),
        Route("/web/notes/{id}", note_actions.note, methods=["GET"]),
        Route("/web/notes/{id}/{action}", note_actions.act, methods=["POST"]),
        Route("/auth/sign_in", pages.sign_in_page, methods=["GET"]),
        Route("/auth/sign_in", pages.sign_in_submit, methods=["POST"]),
        Route("/auth/sign_out", pages.sign_out_submit, methods=["POST"]),
        Route("/auth/two_factor", two_factor.second_step_page, methods=["GET"]),
        Route("/auth/two_factor", two_factor.second_step_submit, methods=["POST"]),
        Route("/settings/two_factor", two_factor_settings.settings_page, methods=["GET"]),
        Route("/settings/two_factor/setup", two_factor_settings.setup_submit, methods=["POST"]),
        Route("/settings/two_factor/enable", two_factor_settings.enable_submit, methods=["POST"]),
        Route(
            "/settings/two_factor/recovery_codes", two_factor_settings.recovery_codes_submit, methods=["POST"]
        ),
        Route("/settings/two_factor/disable", two_factor_settings.disable_submit, methods=["POST"]),
        Route("/auth/password/new", email_pages.forgot_page, methods=["GET"]),
        Route("/auth/password", email_pages.forgot_submit, methods=["POST"]),
        Route("/auth/password/edit", email_pages.reset_page, methods=["GET"]),
        Route("/auth/password/edit", email_pages.reset_submit, methods=["POST"]),
        Route("/auth/confirmation", email_pages.confirm_link, methods=["GET"]),
        Route("/auth/confirmation/new", email_pages.resend_page, methods=["GET"]),
        Route("/auth/confirmation", email_pages.resend_submit, methods=["POST"]),
        Route("/settings/sessions", security_settings.sessions_page, methods=["GET"]),
        Route("/settings/sessions/revoke_others", security_settings.revoke_others_submit, methods=["POST"]),
        Route("/settings/sessions/{id}/revoke", security_settings.revoke_submit, methods=["POST"]),
        Route("/settings/password", security_settings.password_page, methods=["GET"]),
        Route("/settings/password", security_settings.password_submit, methods=["POST"]),
        Route("/auth/sign_up", pages.sign_up_page, methods=["GET"]),
        Route("/auth/sign_up", pages.sign_up_submit, methods=["POST"]),
        Route("/oauth/authorize", authorize.authorize_page, methods=["GET"]),
        Route("/oauth/authorize", authorize.authorize_submit, methods=["POST"]),
        Route("/campaigns", campaign_index.campaigns_page, methods=["GET"]),
        Route("/campaigns", campaign_index.create_submit, methods=["POST"]),
        Route("/campaigns/{id}", campaign_pages.campaign_page, methods=["GET"]),
        Route("/campaigns/{id}/organisers", campaign_index.organiser_submit, methods=["POST"]),
        Route("/campaigns/{id}/chapters", campaign_pages.propose_submit, methods=["POST"]),
        Route("/campaigns/{id}/report", campaign_pages.report_page, methods=["GET"]),
        Route("/campaigns/{id}/ledger.csv", campaign_organiser.campaign_ledger_csv, methods=["GET"]),
        Route("/chapters/{id}/approve", campaign_pages.approve_submit, methods=["POST"]),
        Route("/chapters/{id}", campaign_pages.chapter_page, methods=["GET"]),
        Route("/chapters/{id}/calendar.ics", campaign_pages.calendar_file, methods=["GET"]),
        Route("/chapters/{id}/tickets", campaign_pages.take_submit, methods=["POST"]),
        Route("/chapters/{id}/cancel", campaign_pages.cancel_submit, methods=["POST"]),
        Route("/chapters/{id}/announcements", campaign_organiser.announce_submit, methods=["POST"]),
        Route("/chapters/{id}/tiers", campaign_organiser.tier_submit, methods=["POST"]),
        Route("/chapters/{id}/ledger", campaign_organiser.entry_submit, methods=["POST"]),
        Route("/chapters/{id}/ledger/corrections", campaign_organiser.correction_submit, methods=["POST"]),
        Route("/chapters/{id}/ledger.csv", campaign_organiser.chapter_ledger_csv, methods=["GET"]),
        Route("/chapters/{id}/raffle", campaign_organiser.raffle_submit, methods=["POST"]),
        Route("/chapters/{id}/raffle/draw", campaign_organiser.draw_submit, methods=["POST"]),
        Route("/chapters/{id}/organisers", campaign_organiser.role_submit, methods=["POST"]),
        Route("/chapters/{id}/attendees/cancel", campaign_organiser.cancel_place_submit, methods=["POST"]),
        Route("/chapters/{id}/wall_moderation", campaign_organiser.moderation_submit, methods=["POST"]),
        Route("/chapters/{id}/door", campaign_door.door_page, methods=["GET"]),
        Route("/chapters/{id}/door/sync", campaign_door.door_sync, methods=["POST"]),
        Route("/chapters/{id}/door/payment", campaign_door.payment_submit, methods=["POST"]),
        Route("/chapters/{id}/door/raffle", campaign_door.raffle_sale_submit, methods=["POST"]),
        Route("/chapters/{id}/wall", campaign_wall.wall_page, methods=["GET"]),
        Route("/chapters/{id}/wall/notes", campaign_wall.wall_notes, methods=["GET"]),
        Route("/chapters/{id}/wall/queue", campaign_wall.wall_queue, methods=["GET"]),
        Route("/chapters/{id}/wall/stream", campaign_wall.wall_stream, methods=["GET"]),
        Route("/chapters/{id}/wall/{decision}", campaign_wall.decide_submit, methods=["POST"]),
        Route("/campaigns/{id}/stream", campaign_wall.campaign_stream, methods=["GET"]),
        Route("/widget", widget.builder, methods=["GET"]),
        Route("/widget.js", widget.script, methods=["GET"]),
        Route("/widget/notes", widget.notes, methods=["GET"]),
        Route("/widget/stream", widget.stream, methods=["GET"]),
        Route("/widget/frame", widget.frame, methods=["GET"]),
        *columns_pages.routes(),
        *public_routes(),
        *reader_routes(),
    ]


def public_routes() -> list[BaseRoute]:
    """Profiles, notes, hashtags and the public timelines (readable without an account), and the
    relationship forms of a profile. ``{acct:acct}`` and ``{name:tag}``
    never match ``alice.rss`` or ``cats.rss`` (feeds), whatever the order of routes."""
    return [
        Route("/@{acct:acct}", public_pages.profile, methods=["GET"]),
        Route("/@{acct:acct}/{id:int}", public_pages.note, methods=["GET"]),
        Route("/@{acct:acct}/{tab}", public_pages.profile, methods=["GET"]),
        Route("/@{acct:acct}/{action}", profiles.relationship_submit, methods=["POST"]),
        Route("/tags/{name:tag}", public_pages.tag, methods=["GET"]),
        Route("/public/local", public_pages.local_timeline, methods=["GET"]),
        Route("/public", public_pages.public_timeline, methods=["GET"]),
    ]


def reader_routes() -> list[BaseRoute]:
    """Pages of a signed-in reader: notifications, search, follow requests, bookmarks, profile settings."""
    return [
        Route("/notifications", reader_pages.notifications_page, methods=["GET"]),
        Route("/web/notifications/{which}", reader_pages.notification_fragments, methods=["GET"]),
        Route("/search", reader_pages.search_page, methods=["GET"]),
        Route("/follow_requests", reader_pages.follow_requests_page, methods=["GET"]),
        Route("/follow_requests/{id}/{decision}", reader_pages.follow_request_submit, methods=["POST"]),
        Route("/bookmarks", reader_pages.bookmarks_page, methods=["GET"]),
        Route("/lists", lists_pages.lists_page, methods=["GET"]),
        Route("/lists", lists_pages.create_submit, methods=["POST"]),
        Route("/lists/{id}", lists_pages.list_page, methods=["GET"]),
        Route("/lists/{id}/members/{change}", lists_pages.members_submit, methods=["POST"]),
        Route("/lists/{id}/delete", lists_pages.delete_submit, methods=["POST"]),
        Route("/settings/profile", settings_profile.profile_page, methods=["GET"]),
        Route("/settings/profile", settings_profile.profile_submit, methods=["POST"]),
    ]
