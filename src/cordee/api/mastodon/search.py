"""``/api/v2/search``: accounts, hashtags and statuses (no federation lookups: ``resolve`` finds
nothing remote). Statuses go through the full-text engine (``cordee.search``) and its query
language; a malformed or too costly query is answered 422 with the reason.

Beyond Mastodon's parameters, ``order=relevance`` ranks statuses by text relevance (the default,
``date``, is Mastodon's newest-first order, the one ``max_id``/``min_id`` page through).
"""

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
from cordee.search.query import MAX_LENGTH, QueryError, parse

TYPES = ("accounts", "hashtags", "statuses")


@endpoint(scope="read:search", auth="optional", limit="search")
async def search(ctx: Ctx) -> Response:
    p = ctx.params
    q = (p.str("q", "", max_length=MAX_LENGTH) or "").strip()
    if not q:
        raise ApiError(422, "Validation failed: q is missing")
    kind = p.str("type")
    if kind is not None and kind not in TYPES:
        raise ApiError(422, f"Validation failed: type must be one of {', '.join(TYPES)}")
    order = p.str("order") or "date"
    if order not in search_queries.ORDERS:
        raise ApiError(422, f"Validation failed: order must be one of {', '.join(search_queries.ORDERS)}")
    limit = max(1, min(p.int("limit", 20) or 20, 40))
    offset = max(0, p.int("offset", 0) or 0)
    if offset and ctx.viewer_id is None:
        raise ApiError(401, "Search queries with offset require a signed-in user")
    p.bool("resolve"), p.bool("exclude_unreviewed")  # accepted: nothing remote, no tag review here
    result: dict[str, list[object]] = {"accounts": [], "statuses": [], "hashtags": []}
    # Mastodon's SearchService: a "#tag" asks for hashtags, an "@address" (no space) for accounts;
    # a phrase with an "@" in it is no address. Asking for type=statuses searches them anyway.
    tag_query = q.startswith("#") and " " not in q
    address = "@" in q and " " not in q
    find_statuses = kind == "statuses" or (kind is None and not tag_query and not address)
    statuses_query = None
    if find_statuses:
        try:
            statuses_query = parse(q, local_domain=ctx.settings.domain)
        except QueryError as error:
            raise ApiError(422, f"Validation failed: {error}") from None
    async with ctx.db.read() as session:
        if kind in (None, "accounts") and not q.startswith("#") and not ("@" in q and " " in q):
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
        if kind in (None, "hashtags") and "@" not in q and " " not in q.strip():
            tags = await search_queries.search_tags(session, q, limit=limit, offset=offset)
            result["hashtags"] = list(await render_tags(session, ctx.settings, ctx.viewer_id, tags))
        if statuses_query is not None:
            statuses = await search_queries.search_statuses(
                session,
                ctx.viewer_id,
                statuses_query,
                limit=limit,
                offset=offset,
                account_id=p.id("account_id"),
                max_id=p.id("max_id"),
                min_id=p.id("min_id"),
                order="relevance" if order == "relevance" else "date",
            )
            result["statuses"] = list(await render_statuses(session, ctx.settings, ctx.viewer_id, statuses))
    return json_response(result)


routes = [Route("/api/v2/search", search, methods=["GET"])]
