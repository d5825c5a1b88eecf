"""``/api/v1/chapters/:id/announcements``: an organiser's message to a chapter's attendees, and
the list of what was sent (announcements, reminders, thank-you), a Cordée extension
(docs/campaigns.md). Attendees receive a ``cordee.campaign_announcement`` notification."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import campaign_messages as actions
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.serializers.common import iso
from cordee.db.tables_campaigns import CampaignMessage
from cordee.mail import sender_of
from cordee.queries.campaigns import allowed, chapter_by_id
from cordee.web.i18n import translations


def gettext_for(lang: str) -> Callable[[str], str]:
    return translations(lang).gettext


def render_message(row: CampaignMessage) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "chapter_id": str(row.chapter_id),
        "kind": row.kind,
        "text": row.text,
        "include_waiting": row.include_waiting,
        "status_id": str(row.status_id) if row.status_id is not None else None,
        "recipients": row.recipients,
        "sent_by": str(row.sent_by),
        "created_at": iso(row.created_at),
        "delivered_at": iso(row.delivered_at),
    }


@endpoint(scope="write", auth="required")
async def create(ctx: Ctx) -> Response:
    sent = await actions.announce(
        ctx.db,
        ctx.settings,
        sender_of(ctx.request.app),
        ctx.account_id,
        ctx.path_id(),
        ctx.params.required_str("text"),
        gettext_for,
        include_waiting=bool(ctx.params.bool("include_waiting", False)),
    )
    async with ctx.db.read() as session:
        row = await session.get(CampaignMessage, sent.message_id)
    assert row is not None
    return json_response(render_message(row))


@endpoint(scope="read", auth="required")
async def index(ctx: Ctx) -> Response:
    async with ctx.db.read() as session:
        chapter = await chapter_by_id(session, ctx.path_id())
        if chapter is None:
            raise ApiError(404, "Record not found")
        if not await allowed(session, ctx.account_id, chapter, "manage"):
            raise ApiError(403, "This action is reserved to the chapter's organisers")
        rows = await session.scalars(
            select(CampaignMessage)
            .where(CampaignMessage.chapter_id == chapter.id)
            .order_by(CampaignMessage.id.desc())
            .limit(200)
        )
        return json_response([render_message(r) for r in rows])


routes = [
    Route("/api/v1/chapters/{id}/announcements", create, methods=["POST"]),
    Route("/api/v1/chapters/{id}/messages", index, methods=["GET"]),
]
