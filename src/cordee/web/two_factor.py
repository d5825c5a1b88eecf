"""The second step of a web sign-in when two-factor authentication is on: ``/auth/two_factor``.

After a right password the browser holds only a *pending* sign-in in its signed cookie (the user,
when, where to go next): no web session exists yet, so nothing is signed in. It lasts
``PENDING_SECONDS`` and belongs to that browser. The right code (or a recovery code) then starts the
session; wrong codes are counted per account in the audit log (``actions/two_factor.py``), and
once the bound is reached the pending sign-in ends and has to start again with the password.
The OAuth ``authorize`` page signs in through the same form, so it goes through this step too.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from cordee.actions import two_factor as two_factor_actions
from cordee.web.i18n import N_
from cordee.web.render import csrf_ok, db_of, field, gettext, ip_of, redirect, render, safe_next, sign_in

PENDING = "two_factor_pending"
#: How long a right password waits for its code (a cookie copied later is worth nothing).
PENDING_SECONDS = 300
#: Wrong codes before a pending sign-in ends (counted per account, see actions/two_factor.py).
MAX_ATTEMPTS = two_factor_actions.MAX_FAILURES
EXPIRED = N_("This form has expired. Please try again.")
WRONG_CODE = N_("This code is not right, or has already been used. Try the next code of your app.")
TOO_MANY = N_("Too many wrong codes for this account. For its safety, wait 15 minutes, then sign in again.")


def begin(request: Request, user_id: int, nxt: str) -> Response:
    """The password was right and the account has two-factor authentication: ask for the code."""
    request.session[PENDING] = {"user": user_id, "since": int(time.time()), "next": nxt}
    return redirect("/auth/two_factor")


def _pending(request: Request) -> tuple[int, str] | None:
    value = request.session.get(PENDING)
    if not isinstance(value, dict):
        return None
    user_id, since, nxt = value.get("user"), value.get("since"), value.get("next")
    if not isinstance(user_id, int) or not isinstance(since, int) or not isinstance(nxt, str):
        request.session.pop(PENDING, None)
        return None
    if time.time() - since > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None
    return user_id, safe_next(nxt)


def _start_again(request: Request) -> Response:
    value = request.session.pop(PENDING, None)
    nxt = value.get("next") if isinstance(value, dict) else None
    return redirect("/auth/sign_in?" + urlencode({"next": safe_next(nxt if isinstance(nxt, str) else None)}))


async def second_step_page(request: Request) -> Response:
    if _pending(request) is None:
        return _start_again(request)
    return await render(request, "two_factor_sign_in.html", error=None, over=False)


async def second_step_submit(request: Request) -> Response:
    form = await request.form()
    if not csrf_ok(request, form):
        return await render(request, "error.html", 400, title=None, message=gettext(request, EXPIRED))
    pending = _pending(request)
    if pending is None:
        return _start_again(request)
    user_id, nxt = pending
    verdict = await two_factor_actions.check_code(
        db_of(request), user_id, field(form, "code", 100), ip=ip_of(request)
    )
    if verdict.ok:
        request.session.pop(PENDING, None)
        response = redirect(nxt)
        await sign_in(request, response, user_id, method=f"password+{verdict.how}")
        return response
    if verdict.locked:
        request.session.pop(PENDING, None)
        status = 429 if verdict.how == "locked" else 422
        return await render(
            request, "two_factor_sign_in.html", status, error=gettext(request, TOO_MANY), over=True, next=nxt
        )
    return await render(
        request, "two_factor_sign_in.html", 422, error=gettext(request, WRONG_CODE), over=False
    )
