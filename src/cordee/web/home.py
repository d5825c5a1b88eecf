"""``/home``: the signed-in person's home timeline, with the compose box, paged with "older" links.

It reads the timeline through ``rendering.home.home_page``, the function behind
``GET /api/v1/timelines/home``: one timeline, one hot path. New notes arrive through ``live.py``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from cordee.api.mastodon.pagination import Page
from cordee.api.mastodon.params import id_or_none
from cordee.rendering.home import has_filters, home_page
from cordee.web import compose, pages
from cordee.web.app_common import me_or_sign_in
from cordee.web.render import (
    PAGE_HEADERS,
    SignedIn,
    current_user,
    db_of,
    gettext,
    redirect,
    render,
    settings_of,
)

PAGE_SIZE = 20
#: Notes fetched at once by a live page catching up after a drop (the rest: the "newest" link).
CATCH_UP = 40


async def root(request: Request) -> Response:
    """``/``: the home timeline for a signed-in person, the welcome page for anyone else."""
    if await current_user(request) is not None:
        return redirect("/home")
    return await pages.landing(request)


async def home_timeline(request: Request) -> Response:
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    max_id = id_or_none(request.query_params.get("max_id") or "")
    page = Page(max_id=max_id, limit=PAGE_SIZE)
    db = db_of(request)
    found = await home_page(
        db,
        settings_of(request),
        getattr(request.app.state, "home", None),
        me.account.id,
        page,
        filters=await has_filters(db, me.account.id),
    )
    flash = request.session.pop("flash", None)
    message = None
    if isinstance(flash, str) and flash in pages.FLASHES:
        message = gettext(request, pages.FLASHES[flash])
    elif isinstance(flash, str) and flash in compose.FLASHES:
        message = gettext(request, compose.FLASHES[flash])
    form = await compose.blank_form(request, me)
    return await render(
        request,
        "home.html",
        me=me,
        statuses=found.entities,
        flash=message,
        live=max_id is None,
        newest=found.ids[0] if found.ids else "",
        older=found.ids[-1] if len(found.ids) >= PAGE_SIZE else None,
        form=form,
    )


async def home_since(request: Request) -> Response:
    """``/web/timeline/home?since_id=``: the notes a live page missed, as fragments (newest first)."""
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    since_id = id_or_none(request.query_params.get("since_id") or "")
    if since_id is None:
        return Response(status_code=400, headers=PAGE_HEADERS)
    db = db_of(request)
    statuses = (
        await home_page(
            db,
            settings_of(request),
            getattr(request.app.state, "home", None),
            me.account.id,
            Page(since_id=since_id, limit=CATCH_UP),
            filters=await has_filters(db, me.account.id),
        )
    ).entities
    return await render(request, "_notes_fragment.html", me=me, statuses=statuses)
