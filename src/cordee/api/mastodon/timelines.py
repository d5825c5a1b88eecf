"""``/api/v1/timelines``: home, public (local / remote) and hashtag timelines."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from starlette.responses import Response
from starlette.routing import Route

from cordee.api.mastodon._responses import page_response
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.pagination import Page, paged_headers
from cordee.db.tables import Status
from cordee.domain.text import normalize_tag
from cordee.feeds.home import HomeTimeline
from cordee.queries import timelines as tl
from cordee.queries.pages import public_page, tagged_page
from cordee.rendering.home import home_page
from cordee.rendering.statuses import render_statuses

#: Hashtags whose pages a hashtag timeline with ``any[]`` merges on the hot path (more: the general
#: path, one statement).
MAX_TAGS_MERGED = 8


async def _page_of(ctx: Ctx, query: Select[Any], context: str, older: Select[Any] | None = None) -> Response:
    """One page of ``query``; when it comes out short of a full page while paging down, ``older``
    (the same timeline straight from the database) fills the rest below the last row."""
    page = Page.from_params(ctx.params)
    async with ctx.db.read() as session:
        rows = page.arrange(list(await session.scalars(page.apply(query, Status.id))))
        if older is not None and len(rows) < page.limit and page.min_id is None and page.since_id is None:
            bounds = [r.id for r in rows] + ([page.max_id] if page.max_id is not None else [])
            below = Page(max_id=min(bounds) if bounds else None, limit=page.limit - len(rows))
            rows += list(await session.scalars(below.apply(older, Status.id)))
        body = await render_statuses(session, ctx.settings, ctx.viewer_id, rows, filter_context=context)
    return json_response(
        body, headers=paged_headers(ctx.request, [s.id for s in rows], page, ctx.settings.base_url)
    )


def _only_media(ctx: Ctx) -> bool:
    return bool(ctx.params.bool("only_media"))


@endpoint(scope="read:statuses", auth="required")
async def home(ctx: Ctx) -> Response:
    timeline: HomeTimeline | None = getattr(ctx.request.app.state, "home", None)
    page = Page.from_params(ctx.params)
    found = await home_page(ctx.db, ctx.settings, timeline, ctx.account_id, page, filters=ctx.has_filters)
    headers = paged_headers(ctx.request, found.ids, page, ctx.settings.base_url)
    return Response(found.json(), media_type="application/json", headers=headers)


async def _hot_public(ctx: Ctx, local: bool, remote: bool, tags: tuple[str, ...] = ()) -> Response:
    """A page of the public timeline, or of the notes with any of ``tags``, on the hot path
    (``public_page``, ``tagged_page``)."""
    page = Page.from_params(ctx.params)
    scope = "local" if local else "remote" if remote else "all"
    bounds = (page.max_id, page.above, page.limit)
    oldest_first = page.min_id is not None
    hot_reader = ctx.db.hot_replica
    if tags:
        hot = await tagged_page(hot_reader, ctx.viewer_id, scope, tags, *bounds, oldest_first=oldest_first)
    else:
        hot = await public_page(hot_reader, ctx.viewer_id, scope, *bounds, oldest_first=oldest_first)
    return await page_response(ctx, page, hot, "public")


@endpoint(scope="read:statuses", auth="optional")
async def public(ctx: Ctx) -> Response:
    p = ctx.params
    local, remote = bool(p.bool("local")), bool(p.bool("remote"))
    if not _only_media(ctx):
        return await _hot_public(ctx, local, remote)
    query = tl.public_query(ctx.viewer_id, local=local, remote=remote).where(tl.has_media())
    return await _page_of(ctx, query, "public")


@endpoint(scope="read:statuses", auth="optional")
async def tag(ctx: Ctx) -> Response:
    p = ctx.params
    tags = tl.TagFilter(
        name=str(ctx.request.path_params["hashtag"]),
        any=tuple(p.list("any")),
        all=tuple(p.list("all")),
        none=tuple(p.list("none")),
    )
    local, remote = bool(p.bool("local")), bool(p.bool("remote"))
    if not (tags.all or tags.none or _only_media(ctx)):  # any of a few tags: each tag's page, merged
        names = tuple(normalize_tag(n) for n in (tags.name, *tags.any))
        if len(names) <= MAX_TAGS_MERGED:
            return await _hot_public(ctx, local, remote, names)
    query = tl.tag_query(ctx.viewer_id, tags, local=local, remote=remote)
    if _only_media(ctx):
        query = query.where(tl.has_media())
    return await _page_of(ctx, query, "public")


routes = [
    Route("/api/v1/timelines/home", home, methods=["GET"]),
    Route("/api/v1/timelines/public", public, methods=["GET"]),
    Route("/api/v1/timelines/tag/{hashtag}", tag, methods=["GET"]),
]
