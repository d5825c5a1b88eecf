"""What the signed-in pages of the web app share: who is signed in (or a redirect to sign in), whether
a request comes from the page's own JavaScript, and a note rendered as one HTML fragment."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from cordee.web.render import SignedIn, current_user, redirect, render

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


def from_script(request: Request) -> bool:
    return request.headers.get(SCRIPT_HEADER) == "1"


async def note_fragment(
    request: Request, me: SignedIn, status: dict[str, Any], level: int = 3
) -> HTMLResponse:
    """One note through ``_note.html``: the same markup a page shows, for the page's scripts."""
    return await render(request, "_note_fragment.html", note=status, me=me, note_level=level)
