"""``/api/v2/search``: accounts, hashtags and statuses (a simple version, no federation lookups)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.serializers.accounts import render_account
from cordee.api.mastodon.serializers.tags import render_tags
from cordee.queries import accounts as account_queries
from cordee.queries import search as search_queries
from cordee.rendering.statuses import render_statuses

TYPES = ("accounts", "hashtags", "statuses")


@endpoint(scope="read:search", auth="optional", limit="search")
async def search(ctx: Ctx) -> Response:
    p = ctx.params
    q = (p.str("q", "", max_length=500) or "").strip()
    if not q:
        raise ApiError(422, "Validation failed: q is missing")
    kind = p.str("type")
    if kind is not None and kind not in TYPES:
        raise ApiError(422, f"Validation failed: type must be one of {', '.join(TYPES)}")
    limit = max(1, min(p.int("limit", 20) or 20, 40))
    offset = max(0, p.int("offset", 0) or 0)
    if offset and ctx.viewer_id is None:
        raise ApiError(401, "Search queries with offset require a signed-in user")
    result: dict[str, list[object]] = {"accounts": [], "statuses": [], "hashtags": []}
    # Mastodon's SearchService: a "#tag" asks for hashtags, an "@address" (no space) for accounts;
    # a phrase with an "@" in it is no address.
    tag_query = q.startswith("#")
    address = "@" in q and " " not in q
    async with ctx.db.read() as session:
        if kind in (None, "accounts") and not tag_query and not ("@" in q and " " in q):
            accounts = await account_queries.search_accounts(
                session,
                ctx.settings,
                ctx.viewer_id,
                q,
                limit=limit,
                offset=offset,
                following=bool(p.bool("following")),
            )
            result["accounts"] = [render_account(ctx.settings, a) for a in accounts]
        if kind in (None, "hashtags") and "@" not in q:
            tags = await search_queries.search_tags(session, q, limit=limit, offset=offset)
            result["hashtags"] = list(await render_tags(session, ctx.settings, ctx.viewer_id, tags))
        if kind in (None, "statuses") and not tag_query and not address:
            statuses = await search_queries.search_statuses(
                session,
                ctx.viewer_id,
                q,
                limit=limit,
                offset=offset,
                account_id=p.id("account_id"),
                max_id=p.id("max_id"),
                min_id=p.id("min_id"),
            )
            result["statuses"] = list(await render_statuses(session, ctx.settings, ctx.viewer_id, statuses))
    return json_response(result)


routes = [Route("/api/v2/search", search, methods=["GET"])]
