"""A chapter's live wall for the venue's screen, and the campaign's live thermometer.

``/chapters/{id}/wall`` is a full-screen page anyone can open (a screen needs no account): the
public notes with the chapter's or the campaign's hashtag, newest first, and the running totals.
``wall.js`` listens to ``/chapters/{id}/wall/stream`` (SSE through the streaming hub:
``streaming/campaigns.py``), reconnects by itself (after any error, with a growing delay) and
fetches the newest notes from ``/chapters/{id}/wall/notes`` to add what it missed and drop what
was hidden meanwhile; the stream starts with the totals as they are. A signed-in organiser of
the chapter opening the wall moderates from it: "Hide" under each note (it leaves every open
wall at once), and, when the chapter holds notes for approval, a queue of waiting notes to
approve or hide (``actions/wall.py``).
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from cordee.actions import wall as wall_actions
from cordee.actions.errors import ActionError
from cordee.api.mastodon.errors import error_response
from cordee.api.mastodon.params import id_or_none
from cordee.config import Settings
from cordee.db.tables import Status
from cordee.db.tables_campaigns import Campaign, Chapter
from cordee.queries import campaigns as queries
from cordee.rendering.money import money, percent
from cordee.rendering.statuses import render_statuses
from cordee.rendering.widget import compact_note
from cordee.streaming.campaigns import campaign_channel, current_totals, wall_channels
from cordee.streaming.endpoints import _EventStream
from cordee.streaming.hub import Hub
from cordee.streaming.widget import ANONYMOUS
from cordee.web.app_common import signed_in_form
from cordee.web.i18n import choose_language
from cordee.web.public_pages import not_found
from cordee.web.render import PAGE_HEADERS, current_user, db_of, field, render, settings_of

WALL_NOTES = 30
#: Walls and thermometers share the anonymous streams' room with the widget.
MAX_STREAMS = 5000


async def _chapter(request: Request, session: AsyncSession) -> tuple[Campaign, Chapter] | None:
    chapter_id = id_or_none(str(request.path_params["id"]))
    chapter = await queries.chapter_by_id(session, chapter_id) if chapter_id is not None else None
    campaign = await queries.campaign_by_id(session, chapter.campaign_id) if chapter else None
    return (campaign, chapter) if campaign and chapter else None


async def _notes(
    session: AsyncSession, settings: Settings, campaign: Campaign, chapter: Chapter, since_id: int | None
) -> list[dict[str, Any]]:
    query = queries.wall_query(campaign, chapter)
    if since_id is not None:
        query = query.where(Status.id > since_id)
    rows = list(await session.scalars(query.order_by(Status.id.desc()).limit(WALL_NOTES)))
    return [compact_note(settings, e) for e in await render_statuses(session, settings, None, rows)]


async def _queue(
    session: AsyncSession, settings: Settings, campaign: Campaign, chapter: Chapter
) -> list[dict[str, Any]]:
    waiting = queries.wall_queue_query(campaign, chapter).order_by(Status.id.desc()).limit(WALL_NOTES)
    rows = list(await session.scalars(waiting))
    return [compact_note(settings, e) for e in await render_statuses(session, settings, None, rows)]


async def wall_page(request: Request) -> Response:
    me = await current_user(request)
    async with db_of(request).read() as session:
        found = await _chapter(request, session)
        if found is None:
            return await not_found(request, me)
        campaign, chapter = found
        notes = await _notes(session, settings_of(request), campaign, chapter, None)
        here = (await queries.chapter_totals(session, chapter.id)).in_currency(chapter.currency)
        whole = (await queries.campaign_totals(session, campaign.id)).in_currency(campaign.currency)
        moderate = me is not None and await queries.allowed(session, me.account.id, chapter, "door")
        queue: list[dict[str, Any]] = []
        if moderate and chapter.wall_moderation == "before":
            queue = await _queue(session, settings_of(request), campaign, chapter)
    lang = choose_language(request)
    return await render(
        request,
        "wall.html",
        me=me,
        campaign=campaign,
        chapter=chapter,
        notes_json=orjson.dumps(notes).decode(),
        chapter_raised=money(here, chapter.currency, chapter.locale),
        campaign_raised=money(whole, campaign.currency, lang),
        percent=percent(whole, campaign.goal_cents),
        moderate=moderate,
        queue_json=orjson.dumps(queue).decode(),
    )


async def wall_notes(request: Request) -> Response:
    async with db_of(request).read() as session:
        found = await _chapter(request, session)
        if found is None:
            return error_response(404, "Record not found")
        since_id = id_or_none(request.query_params.get("since_id", ""))
        notes = await _notes(session, settings_of(request), *found, since_id)
    return Response(orjson.dumps(notes), media_type="application/json", headers=PAGE_HEADERS)


async def wall_queue(request: Request) -> Response:
    """The notes waiting for approval, for the wall's organisers (their page asks again after a
    cut in the stream: notes posted meanwhile reached no queue)."""
    me = await current_user(request)
    async with db_of(request).read() as session:
        found = await _chapter(request, session)
        if found is None or me is None or not await queries.allowed(session, me.account.id, found[1], "door"):
            return error_response(404, "Record not found")
        notes = await _queue(session, settings_of(request), *found)
    return Response(orjson.dumps(notes), media_type="application/json", headers=PAGE_HEADERS)


def _hub(request: Request) -> Hub | None:
    hub: Hub | None = getattr(request.app.state, "hub", None)
    return None if hub is None or hub.draining else hub


async def wall_stream(request: Request) -> Response:
    hub = _hub(request)
    if hub is None:
        return error_response(503, "The server is restarting; reconnect in a moment")
    lang = choose_language(request)
    async with db_of(request).read() as session:
        found = await _chapter(request, session)
        if found is None:
            return error_response(404, "Record not found")
        campaign, chapter = found
        frames = await current_totals(session, campaign, chapter, lang)
    if hub.open_for(ANONYMOUS) >= MAX_STREAMS:
        return error_response(503, "Too many live pages are open; retry in a moment")
    connection = await hub.connect(ANONYMOUS, "sse")
    for channel in wall_channels(chapter.id, [chapter.hashtag, campaign.hashtag]):
        hub.subscribe(connection, channel)
    hub.subscribe(connection, campaign_channel(campaign.id, lang))
    for frame in frames:
        connection.send(frame)
    return _EventStream(hub, connection)  # type: ignore[return-value]


async def campaign_stream(request: Request) -> Response:
    """The thermometer's stream: ``totals`` events with the campaign's amount in the page's language."""
    hub = _hub(request)
    if hub is None:
        return error_response(503, "The server is restarting; reconnect in a moment")
    campaign_id = id_or_none(str(request.path_params["id"]))
    lang = choose_language(request)
    async with db_of(request).read() as session:
        campaign = await queries.campaign_by_id(session, campaign_id) if campaign_id is not None else None
        if campaign is None:
            return error_response(404, "Record not found")
        frames = await current_totals(session, campaign, None, lang)
    if hub.open_for(ANONYMOUS) >= MAX_STREAMS:
        return error_response(503, "Too many live pages are open; retry in a moment")
    connection = await hub.connect(ANONYMOUS, "sse")
    hub.subscribe(connection, campaign_channel(campaign.id, lang))
    for frame in frames:
        connection.send(frame)
    return _EventStream(hub, connection)  # type: ignore[return-value]


async def decide_submit(request: Request) -> Response:
    """``status_id``: hide the note from this chapter's wall, or approve it onto it (the path's
    last part); sent in the background by wall.js."""
    posted = await signed_in_form(request)
    if isinstance(posted, Response):
        return posted
    me, form = posted
    chapter_id = id_or_none(str(request.path_params["id"]))
    status_id = id_or_none(field(form, "status_id", 20))
    decision = {"hide": "hidden", "approve": "approved"}.get(str(request.path_params["decision"]))
    if chapter_id is None or status_id is None or decision is None:
        return error_response(404, "Record not found")
    try:
        await wall_actions.decide(db_of(request), me.account.id, chapter_id, status_id, decision)
    except ActionError as e:
        return error_response(e.status, e.message)
    return Response(status_code=204, headers=PAGE_HEADERS)
