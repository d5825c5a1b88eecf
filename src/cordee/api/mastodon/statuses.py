"""``/api/v1/statuses``: post, read, delete, thread context, favourites and reblogs."""

from __future__ import annotations

from sqlalchemy import select
from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import interactions
from cordee.actions import statuses as status_actions
from cordee.actions.scheduled_statuses import MIN_OFFSET
from cordee.api.mastodon import scheduled_statuses
from cordee.api.mastodon._responses import status_response
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.media import media_ids_from_params
from cordee.api.mastodon.pagination import Page, paged_headers
from cordee.api.mastodon.params import id_or_none
from cordee.api.mastodon.polls import poll_from_params
from cordee.api.mastodon.serializers.accounts import render_account
from cordee.db.tables import Account, Favourite, Status
from cordee.db.types import utcnow
from cordee.queries import statuses as status_queries
from cordee.queries import threads
from cordee.queries.accounts import not_blocked
from cordee.queries.visibility import visible_to
from cordee.rendering.new_notes import render_written
from cordee.rendering.statuses import render_filtered, render_page, render_status, render_statuses

MAX_IDEMPOTENCY_KEY = 200


@endpoint(scope="write:statuses", auth="required")
async def create(ctx: Ctx) -> Response:
    p = ctx.params
    for unsupported in ("quoted_status_id",):
        if p.raw(unsupported) not in (None, ""):
            raise ApiError(422, f"Validation failed: {unsupported} is not supported by this server yet")
    key = ctx.request.headers.get("idempotency-key")
    if key is not None and not (0 < len(key) <= MAX_IDEMPOTENCY_KEY):
        raise ApiError(422, "Validation failed: Idempotency-Key must have 1 to 200 characters")
    # What the author set as defaults (update_credentials), read with the token.
    assert ctx.caller is not None
    default_visibility, default_sensitive, default_language = ctx.caller.posting_defaults
    visibility = p.str("visibility") or default_visibility
    new = status_actions.NewStatus(
        text=p.str("status", "", max_length=100_000) or "",
        visibility=visibility,
        in_reply_to_id=p.id("in_reply_to_id"),
        spoiler_text=p.str("spoiler_text", "", max_length=100_000) or "",
        sensitive=bool(p.bool("sensitive", default_sensitive)),
        language=p.str("language") or default_language,
        media_ids=media_ids_from_params(p),
        poll=poll_from_params(p),
    )
    if scheduled_at := p.str("scheduled_at"):
        when = scheduled_statuses.parse_scheduled_at(scheduled_at)
        # PostStatusService: a time less than five minutes ahead (or past) posts the note now.
        if when > utcnow() + MIN_OFFSET:
            return await scheduled_statuses.schedule(ctx, new, when, key)
    assert ctx.caller is not None
    posted = await status_actions.post_status(
        ctx.db,
        ctx.settings,
        ctx.account_id,
        new,
        application_id=ctx.caller.application_id,
        idempotency_key=key,
    )
    if posted.written is not None:  # rendered from what the post wrote: nothing read back
        return json_response(
            await render_written(ctx.db, ctx.settings, ctx.account_id, posted.written, posted.author_counters)
        )
    return await status_response(ctx, posted.id)


@endpoint(scope="read:statuses", auth="optional")
async def show(ctx: Ctx) -> Response:
    return await status_response(ctx, ctx.path_id())


@endpoint(scope="read:statuses", auth="optional")
async def many(ctx: Ctx) -> Response:
    ids = [i for i in (id_or_none(raw) for raw in ctx.params.list("id")[:40]) if i is not None]
    async with ctx.db.read() as session:
        rows = list(
            await session.scalars(select(Status).where(Status.id.in_(ids), visible_to(ctx.viewer_id)))
        )
        by_id = {s.id: s for s in rows}
        ordered = [by_id[i] for i in dict.fromkeys(ids) if i in by_id]
        return json_response(await render_statuses(session, ctx.settings, ctx.viewer_id, ordered))


@endpoint(scope="write:statuses", auth="required")
async def delete(ctx: Ctx) -> Response:
    status_id = ctx.path_id()
    async with ctx.db.read() as session:
        status = await status_queries.visible_status(session, ctx.viewer_id, status_id)
        if status is None or status.reblog_of_id is not None:
            raise ApiError(404, "Record not found")
        # Mastodon answers with the deleted note and its source text, for "delete and redraft".
        body = await render_status(session, ctx.settings, ctx.viewer_id, status, with_source_text=True)
    await status_actions.delete_status(ctx.db, ctx.account_id, status_id)
    return json_response(body)


@endpoint(scope="read:statuses", auth="optional")
async def context(ctx: Ctx) -> Response:
    """A thread on the hot path (``queries.threads``), rendered from the kept bodies (through the
    reader's filters, if any): building the rule's statements for each note of the thread was
    most of a context's ~10 ms of CPU."""
    found = await threads.thread(ctx.db.hot_replica, ctx.viewer_id, ctx.path_id())
    if found is None:
        raise ApiError(404, "Record not found")
    before, after = found.ancestors, found.descendants
    lives = [*before.lives, *after.lives]
    if ctx.viewer_id is not None and ctx.has_filters:  # through them: ``hide`` leaves notes out
        ids = [x.id for x in lives]
        shown = await render_filtered(ctx.db, ctx.settings, ctx.viewer_id, ids, "thread")
    else:
        originals = {**before.originals, **after.originals}
        shown = await render_page(ctx.db, ctx.settings, ctx.viewer_id, lives, originals)
    earlier = {str(x.id) for x in before.lives}
    return json_response(
        {
            "ancestors": [r for r in shown if r["id"] in earlier],
            "descendants": [r for r in shown if r["id"] not in earlier],
        }
    )


@endpoint(scope="write:favourites", auth="required")
async def favourite(ctx: Ctx) -> Response:
    return await status_response(ctx, await interactions.favourite(ctx.db, ctx.account_id, ctx.path_id()))


@endpoint(scope="write:favourites", auth="required")
async def unfavourite(ctx: Ctx) -> Response:
    return await status_response(ctx, await interactions.unfavourite(ctx.db, ctx.account_id, ctx.path_id()))


@endpoint(scope="write:statuses", auth="required")
async def reblog(ctx: Ctx) -> Response:
    visibility = ctx.params.str("visibility") or "public"
    boost_id = await status_actions.reblog(ctx.db, ctx.account_id, ctx.path_id(), visibility)
    return await status_response(ctx, boost_id, boost_answer=True)


@endpoint(scope="write:statuses", auth="required")
async def unreblog(ctx: Ctx) -> Response:
    return await status_response(ctx, await status_actions.unreblog(ctx.db, ctx.account_id, ctx.path_id()))


async def _who(ctx: Ctx, favourites: bool) -> Response:
    page = Page.from_params(ctx.params, default=40, maximum=80)
    async with ctx.db.read() as session:
        status = await status_queries.visible_status(session, ctx.viewer_id, ctx.path_id())
        if status is None:
            raise ApiError(404, "Record not found")
        if favourites:
            query = (
                select(Account, Favourite.id)
                .join(Favourite, Favourite.account_id == Account.id)
                .where(Favourite.status_id == status.id, not_blocked(ctx.viewer_id))
            )
            key = Favourite.id
        else:
            query = (
                select(Account, Status.id)
                .join(Status, Status.account_id == Account.id)
                .where(
                    Status.reblog_of_id == status.id, visible_to(ctx.viewer_id), not_blocked(ctx.viewer_id)
                )
            )
            key = Status.id
        rows = page.arrange(list((await session.execute(page.apply(query, key))).all()))
    return json_response(
        [render_account(ctx.settings, a) for a, _ in rows],
        headers=paged_headers(ctx.request, [k for _, k in rows], page, ctx.settings.base_url),
    )


@endpoint(scope="read:statuses", auth="optional")
async def favourited_by(ctx: Ctx) -> Response:
    return await _who(ctx, favourites=True)


@endpoint(scope="read:statuses", auth="optional")
async def reblogged_by(ctx: Ctx) -> Response:
    return await _who(ctx, favourites=False)


routes = [
    Route("/api/v1/statuses", create, methods=["POST"]),
    Route("/api/v1/statuses", many, methods=["GET"]),
    Route("/api/v1/statuses/{id}", show, methods=["GET"]),
    Route("/api/v1/statuses/{id}", delete, methods=["DELETE"]),
    Route("/api/v1/statuses/{id}/context", context, methods=["GET"]),
    Route("/api/v1/statuses/{id}/favourite", favourite, methods=["POST"]),
    Route("/api/v1/statuses/{id}/unfavourite", unfavourite, methods=["POST"]),
    Route("/api/v1/statuses/{id}/reblog", reblog, methods=["POST"]),
    Route("/api/v1/statuses/{id}/unreblog", unreblog, methods=["POST"]),
    Route("/api/v1/statuses/{id}/favourited_by", favourited_by, methods=["GET"]),
    Route("/api/v1/statuses/{id}/reblogged_by", reblogged_by, methods=["GET"]),
]
