"""The page a person sees when a web form (sign-in, sign-up) is over its rate limit."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from cordee.web.i18n import N_
from cordee.web.render import gettext, render

TITLE = N_("Too many attempts")
MESSAGE = N_("Too many attempts from your connection or for this account. Try again in %(minutes)d minutes.")


async def rate_limited_page(request: Request, headers: dict[str, str]) -> Response:
    """A 429 page in the person's language, with the same rate-limit headers as the API."""
    minutes = max(1, -(-int(headers.get("Retry-After", "60")) // 60))
    message = gettext(request, MESSAGE) % {"minutes": minutes}
    response = await render(request, "error.html", 429, title=gettext(request, TITLE), message=message)
    response.headers.update(headers)
    return response
