"""``/api/v1/polls``: read a poll and vote on it. Polls are created with a note
(``poll[options][]``, ``poll[expires_in]``, ``poll[multiple]``, ``poll[hide_totals]``)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import polls as poll_actions
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.params import Params
from cordee.api.mastodon.serializers.polls import render_poll
from cordee.queries import polls as poll_queries

_POLL_KEYS = ("poll[options]", "poll[expires_in]", "poll[multiple]", "poll[hide_totals]")


def poll_from_params(p: Params) -> poll_actions.NewPoll | None:
    """The poll a new note asks for, if any (checked by the action)."""
    if not any(p.raw(key) not in (None, "") for key in _POLL_KEYS):
        return None
    return poll_actions.NewPoll(
        options=tuple(p.list("poll[options]")),
        expires_in=p.int("poll[expires_in]"),
        multiple=bool(p.bool("poll[multiple]", False)),
        hide_totals=bool(p.bool("poll[hide_totals]", False)),
    )


async def _render(ctx: Ctx, poll_id: int) -> Response:
    async with ctx.db.read() as session:
        poll = await poll_queries.visible_poll(session, ctx.viewer_id, poll_id)
        if poll is None:
            raise ApiError(404, "Record not found")
        return json_response(await render_poll(session, ctx.viewer_id, poll))


@endpoint(scope="read:statuses", auth="optional")
async def show(ctx: Ctx) -> Response:
    return await _render(ctx, ctx.path_id())


@endpoint(scope="write:statuses", auth="required")
async def vote(ctx: Ctx) -> Response:
    choices: list[int] = []
    for raw in ctx.params.list("choices"):
        digits = raw.strip().lstrip("-")
        if not (digits.isascii() and digits.isdigit()) or len(raw) > 9:
            raise ApiError(422, "Validation failed: choices must be option indexes (0, 1, …)")
        choices.append(int(raw))
    poll_id = await poll_actions.vote(ctx.db, ctx.account_id, ctx.path_id(), choices)
    return await _render(ctx, poll_id)


routes = [
    Route("/api/v1/polls/{id}", show, methods=["GET"]),
    Route("/api/v1/polls/{id}/votes", vote, methods=["POST"]),
]
