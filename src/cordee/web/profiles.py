"""What a signed-in reader does on a profile: follow (or ask to, for a locked account), unfollow or
withdraw a request, block, unblock, mute, unmute. Plain forms with the CSRF token, each calling the
very action the API calls (``actions/follows.py``, ``actions/relationships.py``), then back to the
profile, which shows the new state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from cordee.actions import follows, relationships
from cordee.actions.errors import Forbidden, NotFound
from cordee.db.engine import Database
from cordee.queries import accounts as account_queries
from cordee.web.i18n import N_
from cordee.web.pages import EXPIRED
from cordee.web.public_pages import not_found
from cordee.web.render import csrf_ok, current_user, db_of, gettext, redirect, render, settings_of

NOT_ALLOWED = N_("This action is not allowed.")

Act = Callable[[Database, int, int], Awaitable[None]]


async def _follow(db: Database, actor: int, target: int) -> None:
    await follows.follow(db, actor, target)


async def _mute(db: Database, actor: int, target: int) -> None:
    await relationships.mute(db, actor, target)


ACTIONS: dict[str, Act] = {
    "follow": _follow,
    "unfollow": follows.unfollow,
    "block": relationships.block,
    "unblock": relationships.unblock,
    "mute": _mute,
    "unmute": relationships.unmute,
}


async def relationship_submit(request: Request) -> Response:
    me = await current_user(request)
    acct = str(request.path_params["acct"])
    if me is None:
        return redirect("/auth/sign_in?" + urlencode({"next": f"/@{acct}"}))
    form = await request.form()
    if not csrf_ok(request, form):
        return await render(request, "error.html", 400, me=me, title=None, message=gettext(request, EXPIRED))
    act = ACTIONS.get(str(request.path_params["action"]))
    async with db_of(request).read() as session:
        target = await account_queries.account_by_acct(session, settings_of(request), acct)
    if act is None or target is None:
        return await not_found(request, me)
    try:
        await act(db_of(request), me.account.id, target.id)
    except NotFound:
        return await not_found(request, me)
    except Forbidden:
        # Following across a block, or oneself: the profile already offers no such button.
        return await render(
            request, "error.html", 403, me=me, title=None, message=gettext(request, NOT_ALLOWED)
        )
    return redirect(f"/@{acct}")
