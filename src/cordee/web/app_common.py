"""What the signed-in pages of the web app share: who is signed in (or a redirect to sign in), whether
a request comes from the page's own JavaScript, and a note rendered as one HTML fragment."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from cordee.web.pages import EXPIRED
from cordee.web.render import SignedIn, csrf_ok, current_user, gettext, redirect, render

#: Sent by static/*.js with its fetches: the answer is a fragment (or a status), not a page.
SCRIPT_HEADER = "x-cordee-fetch"


async def me_or_sign_in(request: Request) -> SignedIn | Response:
    me = await current_user(request)
    if me is None:
        if from_script(request):
            return Response(status_code=401, headers={"Cache-Control": "no-store"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect("/auth/sign_in?" + urlencode({"next": target}))
    return me


async def signed_in_form(request: Request) -> tuple[SignedIn, FormData] | Response:
    """A signed-in person's form, its CSRF token checked; else the answer that refuses it (the way
    to sign in, or the "form has expired" page)."""
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    form = await request.form()
    if not csrf_ok(request, form):
        return await render(request, "error.html", 400, me=me, title=None, message=gettext(request, EXPIRED))
    return me, form


def from_script(request: Request) -> bool:
    return request.headers.get(SCRIPT_HEADER) == "1"


async def note_fragment(
    request: Request, me: SignedIn, status: dict[str, Any], level: int = 3
) -> HTMLResponse:
    """One note through ``_note.html``: the same markup a page shows, for the page's scripts."""
    return await render(request, "_note_fragment.html", note=status, me=me, note_level=level)
