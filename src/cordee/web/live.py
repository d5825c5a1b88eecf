"""``GET /web/stream``: the home stream of the web app, as server-sent events, authenticated by the
session cookie (a page cannot put a token in an ``EventSource``, and the app has none to give it).

It is the hub's own ``user`` stream — the same channel, filtering and framing as
``/api/v1/streaming/user`` — opened with the user's id, so that what ends the user's streams (a
password change, a disabled account: ``TokensRevoked(user_id=…)``) ends this one too, and with its
web session, so that signing out ends it (``TokensRevoked(web_session_ids=…)``); the page then
reconnects and finds itself signed out. The page uses only the ids in the events: it fetches each new
note's HTML from ``/web/notes/{id}``, so notes are rendered in one place (``_note.html``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from cordee.streaming.channels import channel_for
from cordee.streaming.endpoints import _EventStream, _hub
from cordee.streaming.hub import HubClosed
from cordee.web.render import PAGE_HEADERS, current_user


async def stream(request: Request) -> Response:
    me = await current_user(request)
    if me is None:
        return Response(status_code=401, headers=PAGE_HEADERS)
    try:
        hub = _hub(request.app)
        connection = await hub.connect(me.account.id, "sse", user_id=me.user.id, web_session_id=me.session_id)
    except HubClosed:
        return Response(status_code=503, headers={**PAGE_HEADERS, "Retry-After": "2"})
    hub.subscribe(connection, channel_for("user", {}, me.account.id))
    return _EventStream(hub, connection)  # type: ignore[return-value]
