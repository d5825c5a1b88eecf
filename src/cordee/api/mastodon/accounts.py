"""``/api/v1/accounts``: registration, profiles, relationships, follows, an account's statuses."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import follows
from cordee.actions.accounts import (
    ProfileChanges,
    Registration,
    RegistrationInvalid,
    create_local_account,
    update_profile,
)
from cordee.actions.emails import send_confirmation
from cordee.actions.oauth import issue_user_token
from cordee.actions.preferences import check_preferences, update_preferences
from cordee.api.mastodon._responses import page_response, relationship_response
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.pagination import Page, paged_headers
from cordee.api.mastodon.params import parse_id
from cordee.api.mastodon.preferences import source_changes
from cordee.api.mastodon.profile import credential_account, read_pictures
from cordee.api.mastodon.serializers.accounts import (
    render_account,
    render_relationships,
)
from cordee.db.tables import Account, Status
from cordee.mail import sender_of
from cordee.queries import accounts as account_queries
from cordee.queries import personal
from cordee.queries.pages import account_page, with_originals
from cordee.queries.personal import pinned_query
from cordee.queries.timelines import ACCOUNT_EXISTS, AccountStatusFilter, account_statuses_query
from cordee.ratelimit import guard_sign_up, refund_sign_up
from cordee.rendering import profile_pages
from cordee.rendering.accounts import account_entities
from cordee.rendering.profile_pages import ProfilePages
from cordee.rendering.statuses import render_live, render_statuses


async def _account_or_404(ctx: Ctx, account_id: int) -> Account:
    async with ctx.db.read() as session:
        account = await account_queries.account_by_id(session, account_id)
    if account is None:
        raise ApiError(404, "Record not found")
    return account


async def _exists_or_404(ctx: Ctx, account_id: int) -> None:
    """An empty page of an account that does not exist is a 404 (one hot statement, asked of empty
    pages only: a note's or a follow's account exists)."""
    if not await ctx.db.hot_replica.rows(ACCOUNT_EXISTS, author=account_id):
        raise ApiError(404, "Record not found")


@endpoint(scope="write:accounts", auth="app")
async def register(ctx: Ctx) -> Response:
    """Sign up through an app token; answers a user token (Mastodon's Token entity)."""
    assert ctx.caller is not None
    p = ctx.params
    if not p.bool("agreement"):
        raise ApiError(
            422,
            "Validation failed: Agreement must be accepted",
            details={"agreement": [{"error": "ERR_ACCEPTED", "description": "must be accepted"}]},
        )
    reg = Registration(
        username=p.str("username", "") or "",
        email=p.str("email", "") or "",
        password=p.str("password", "") or "",
        locale=p.str("locale", "en") or "en",
        reason=p.str("reason", "") or "",
        invite_code=p.str("invite_code"),
    )
    key = await guard_sign_up(ctx.request, web=False)
    try:
        _, user_id = await create_local_account(ctx.db, ctx.settings, reg)
    except RegistrationInvalid:
        await refund_sign_up(ctx.request, key)
        raise
    await send_confirmation(ctx.db, sender_of(ctx.request.app), ctx.settings, user_id)
    # As Mastodon: the token is given at once; while confirmation is required, it is refused
    # (403) until the address is confirmed, except to ask for the link again.
    token = await issue_user_token(ctx.db, await ctx.application(), user_id, ctx.caller.scopes)
    return json_response(
        {
            "access_token": token.access_token,
            "token_type": "Bearer",
            "scope": token.scopes,
            "created_at": token.created_at,
        }
    )


async def _credentials(ctx: Ctx) -> Response:
    return await credential_account(ctx)


@endpoint(scope="read:accounts", auth="required")
async def verify_credentials(ctx: Ctx) -> Response:
    return await _credentials(ctx)


@endpoint(scope="write:accounts", auth="required")
async def update_credentials(ctx: Ctx) -> Response:
    p = ctx.params
    pictures = await read_pictures(ctx)
    changes = ProfileChanges(
        display_name=p.str("display_name", max_length=1000),
        note=p.str("note", max_length=5000),
        locked=p.bool("locked"),
        bot=p.bool("bot"),
        discoverable=p.bool("discoverable"),
    )
    posting = source_changes(p)  # source[privacy], source[sensitive], source[language]
    check_preferences(posting)  # before any write: bad input changes nothing
    await update_profile(
        ctx.db,
        ctx.account_id,
        changes,
        pictures=pictures,
        settings=ctx.settings,
        images=ctx.request.app.state.images,
    )
    await update_preferences(ctx.db, ctx.account_id, posting)
    return await _credentials(ctx)


@endpoint(scope="read:accounts", auth="optional")
async def lookup(ctx: Ctx) -> Response:
    acct = ctx.params.required_str("acct")
    async with ctx.db.read() as session:
        account = await account_queries.account_by_acct(session, ctx.settings, acct)
    if account is None:
        raise ApiError(404, "Record not found")
    return json_response(render_account(ctx.settings, account))


@endpoint(scope="read:accounts", auth="optional")
async def show(ctx: Ctx) -> Response:
    account_id = ctx.path_id()
    found = await account_entities(ctx.db, ctx.settings, [account_id])
    if account_id not in found:
        raise ApiError(404, "Record not found")
    return json_response(found[account_id])


@endpoint(scope="read:accounts", auth="optional")
async def many(ctx: Ctx) -> Response:
    ids = [parse_id(i) for i in ctx.params.list("id")[:40]]
    found = await account_entities(ctx.db, ctx.settings, ids)
    return json_response([found[i] for i in ids if i in found])


@endpoint(scope="read:statuses", auth="optional")
async def statuses(ctx: Ctx) -> Response:
    p = ctx.params
    page = Page.from_params(p)
    filters = AccountStatusFilter(
        exclude_replies=bool(p.bool("exclude_replies")),
        exclude_reblogs=bool(p.bool("exclude_reblogs")),
        tagged=p.str("tagged"),
        only_media=bool(p.bool("only_media")),
    )
    hot_path = not (filters.tagged or filters.only_media or page.min_id is not None or p.bool("pinned"))
    # The hot path serves a profile's usual tabs (all notes; without replies and/or boosts); readers
    # with filters take the general one, which applies them.
    if hot_path and not ctx.has_filters:
        return await _hot_statuses(ctx, page, filters)
    if p.bool("pinned") and not (filters.tagged or filters.only_media):
        return await _pinned(ctx, page)
    if hot_path and ctx.viewer_id is not None:  # the hot page, rendered through the reader's filters
        hot = await account_page(
            ctx.db.hot_replica,
            ctx.viewer_id,
            ctx.path_id(),
            page.max_id,
            page.since_id,
            page.limit,
            exclude_replies=filters.exclude_replies,
            exclude_reblogs=filters.exclude_reblogs,
        )
        return await page_response(ctx, page, hot, "account")
    account = await _account_or_404(ctx, ctx.path_id())
    async with ctx.db.read() as session:
        base = (
            pinned_query(ctx.viewer_id, account.id)
            if p.bool("pinned")
            else account_statuses_query(ctx.viewer_id, account.id, filters)
        )
        query = page.apply(base, Status.id)
        rows = page.arrange(list(await session.scalars(query)))
        body = await render_statuses(session, ctx.settings, ctx.viewer_id, rows, filter_context="account")
    return json_response(
        body, headers=paged_headers(ctx.request, [s.id for s in rows], page, ctx.settings.base_url)
    )


async def _pinned(ctx: Ctx, page: Page) -> Response:
    """A profile's pinned tab on the hot path (``queries.personal.PINNED_PAGES``)."""
    author, hot = ctx.path_id(), ctx.db.hot_replica
    rows = await personal.pinned_page(
        hot, ctx.viewer_id, author, page.max_id, page.above, page.limit, oldest_first=page.min_id is not None
    )
    if not rows:
        await _exists_or_404(ctx, author)
    return await page_response(ctx, page, await with_originals(hot, rows, viewer=ctx.viewer_id), "account")


async def _hot_statuses(ctx: Ctx, page: Page, filters: AccountStatusFilter) -> Response:
    """A profile's usual tab on the hot path: served as kept while nothing it shows changed
    (``rendering/profile_pages.py``), else read and rendered (and kept)."""
    author = ctx.path_id()
    kept_pages: ProfilePages | None = getattr(ctx.request.app.state, "profile_pages", None)
    key = (
        ctx.viewer_id or 0,
        author,
        page.max_id,
        page.since_id,
        page.limit,
        filters.exclude_replies,
        filters.exclude_reblogs,
    )
    if kept_pages is not None:
        kept = kept_pages.get(key, ctx.db)
        if kept is not None:
            headers = paged_headers(ctx.request, kept.ids, page, ctx.settings.base_url)
            return Response(kept.json, media_type="application/json", headers=headers)
        stamp, mark = kept_pages.stamp(key[0]), ctx.db.entities.mark()  # before any read
    hot = None
    if kept_pages is not None and ctx.viewer_id is not None:  # the page most readers share?
        hot = await kept_pages.seen_by_everyone(ctx.db, ctx.viewer_id, (author, *key[2:]))
    if hot is None:
        hot = await account_page(
            ctx.db.hot_replica,
            ctx.viewer_id,
            author,
            page.max_id,
            page.since_id,
            page.limit,
            exclude_replies=filters.exclude_replies,
            exclude_reblogs=filters.exclude_reblogs,
        )
    headers = paged_headers(ctx.request, [x.id for x in hot.lives], page, ctx.settings.base_url)
    if kept_pages is None:
        body = await render_live(ctx.db, ctx.settings, ctx.viewer_id, hot.lives, hot.originals)
        return json_response(body, headers=headers)
    json, keep = await profile_pages.rendered(ctx.db, ctx.settings, ctx.viewer_id, author, hot, mark)
    if keep is not None:
        kept_pages.keep(key, stamp, keep)
    return Response(json, media_type="application/json", headers=headers)


async def _follow_list(ctx: Ctx, followers: bool) -> Response:
    """A page of followers or follows, paged by the follow's id, on the hot path
    (``queries.accounts.FOLLOW_PAGES``); the accounts from their kept bodies."""
    account_id = ctx.path_id()
    page = Page.from_params(ctx.params, default=40, maximum=80)
    rows = await account_queries.follow_page(
        ctx.db.hot_replica,
        account_id,
        ctx.viewer_id,
        followers=followers,
        below=page.max_id,
        above=page.above,
        limit=page.limit,
        oldest_first=page.min_id is not None,
    )
    if not rows:
        await _exists_or_404(ctx, account_id)
    found = await account_entities(ctx.db, ctx.settings, [listed for listed, _ in rows])
    return json_response(
        [found[listed] for listed, _ in rows if listed in found],
        headers=paged_headers(ctx.request, [key for _, key in rows], page, ctx.settings.base_url),
    )


@endpoint(scope="read:accounts", auth="optional")
async def followers(ctx: Ctx) -> Response:
    return await _follow_list(ctx, followers=True)


@endpoint(scope="read:accounts", auth="optional")
async def following(ctx: Ctx) -> Response:
    return await _follow_list(ctx, followers=False)


@endpoint(scope="write:follows", auth="required", limit="follows")
async def follow(ctx: Ctx) -> Response:
    target = ctx.path_id()
    p = ctx.params
    languages = p.list("languages") if "languages" in p else None
    await follows.follow(
        ctx.db,
        ctx.account_id,
        target,
        reblogs=p.bool("reblogs"),
        notify_posts=p.bool("notify"),
        languages=languages,
    )
    return await relationship_response(ctx, target)


@endpoint(scope="write:follows", auth="required")
async def unfollow(ctx: Ctx) -> Response:
    target = ctx.path_id()
    await follows.unfollow(ctx.db, ctx.account_id, target)
    return await relationship_response(ctx, target)


@endpoint(scope="read:follows", auth="required")
async def relationships(ctx: Ctx) -> Response:
    ids = [parse_id(i) for i in ctx.params.list("id")[:40]]
    # Which of them exist: one hot statement (an ORM session for it cost more than the answer).
    found = await ctx.db.hot.rows(account_queries.EXISTING.fitting(len(ids)), ids=ids) if ids else []
    existing = {row[0] for row in found}
    body = await render_relationships(ctx.db.hot, ctx.account_id, [i for i in ids if i in existing])
    return json_response(body)


@endpoint(scope="read:accounts", auth="required")
async def search(ctx: Ctx) -> Response:
    p = ctx.params
    q = p.required_str("q")
    limit = max(1, min(p.int("limit", 40) or 40, 80))
    async with ctx.db.read() as session:
        found = await account_queries.search_accounts(
            session,
            ctx.settings,
            ctx.viewer_id,
            q,
            limit=limit,
            offset=max(0, p.int("offset", 0) or 0),
            following=bool(p.bool("following")),
        )
    return json_response([render_account(ctx.settings, a) for a in found])


routes = [
    Route("/api/v1/accounts", register, methods=["POST"]),
    Route("/api/v1/accounts", many, methods=["GET"]),
    Route("/api/v1/accounts/verify_credentials", verify_credentials, methods=["GET"]),
    Route("/api/v1/accounts/update_credentials", update_credentials, methods=["PATCH"]),
    Route("/api/v1/accounts/lookup", lookup, methods=["GET"]),
    Route("/api/v1/accounts/relationships", relationships, methods=["GET"]),
    Route("/api/v1/accounts/search", search, methods=["GET"]),
    Route("/api/v1/accounts/{id}", show, methods=["GET"]),
    Route("/api/v1/accounts/{id}/statuses", statuses, methods=["GET"]),
    Route("/api/v1/accounts/{id}/followers", followers, methods=["GET"]),
    Route("/api/v1/accounts/{id}/following", following, methods=["GET"]),
    Route("/api/v1/accounts/{id}/follow", follow, methods=["POST"]),
    Route("/api/v1/accounts/{id}/unfollow", unfollow, methods=["POST"]),
]
