"""``/settings/two_factor``: turning two-factor authentication on and off, and recovery codes.

Enrolment shows the secret as a QR code, drawn here as inline SVG markup by segno (no image to
fetch, no script: it passes a strict Content-Security-Policy), and as text. Turning it on needs a
current code; the ten recovery codes are shown once, on the page that answers that form.
"""

from __future__ import annotations

from urllib.parse import urlencode

import segno
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from cordee.actions import two_factor as two_factor_actions
from cordee.web.i18n import N_
from cordee.web.pages import EXPIRED
from cordee.web.render import (
    SignedIn,
    csrf_ok,
    current_user,
    db_of,
    field,
    gettext,
    ip_of,
    redirect,
    render,
    settings_of,
)
from cordee.web.two_factor import TOO_MANY

PATH = "/settings/two_factor"
WRONG_CODE = N_("This code is not right. Check the time of your phone and enter the code the app shows now.")
NOT_CONFIRMED = N_("This is neither your password nor a valid code.")
FLASHES = {"two_factor_off": N_("Two-factor authentication is off.")}


def _qr_svg(uri: str) -> Markup:
    # segno writes only path data and numbers: nothing of the URI's text reaches the markup.
    return Markup(segno.make(uri, error="m").svg_inline(scale=4, border=4, svgclass="qr-code"))  # noqa: S704


async def _show(
    request: Request,
    me: SignedIn,
    status: int = 200,
    *,
    error: str | None = None,
    codes: list[str] | None = None,
) -> Response:
    state = await two_factor_actions.state(db_of(request), me.user.id)
    qr = secret = None
    if state.pending_secret is not None:
        settings = settings_of(request)
        uri = two_factor_actions.provisioning_uri(
            state.pending_secret, f"{me.account.username}@{settings.domain}", settings.instance_title
        )
        qr = _qr_svg(uri)
        secret = " ".join(state.pending_secret[i : i + 4] for i in range(0, len(state.pending_secret), 4))
    flash = request.session.pop("flash", None)
    message = gettext(request, FLASHES[flash]) if isinstance(flash, str) and flash in FLASHES else None
    return await render(
        request,
        "two_factor_settings.html",
        status,
        me=me,
        state=state,
        qr=qr,
        secret=secret,
        codes=codes,
        error=error,
        flash=message,
    )


async def _signed_in(request: Request) -> SignedIn | Response:
    me = await current_user(request)
    if me is None:
        return redirect("/auth/sign_in?" + urlencode({"next": PATH}))
    return me


async def _form_from(request: Request) -> tuple[SignedIn, str, str] | Response:
    """The signed-in user and the ``code`` and ``confirmation`` fields of a checked form."""
    form = await request.form()
    if not csrf_ok(request, form):
        return await render(request, "error.html", 400, title=None, message=gettext(request, EXPIRED))
    me = await _signed_in(request)
    if isinstance(me, Response):
        return me
    return me, field(form, "code", 100), field(form, "confirmation")


async def settings_page(request: Request) -> Response:
    me = await _signed_in(request)
    return me if isinstance(me, Response) else await _show(request, me)


async def setup_submit(request: Request) -> Response:
    got = await _form_from(request)
    if isinstance(got, Response):
        return got
    await two_factor_actions.start_enrolment(db_of(request), got[0].user.id)
    return redirect(PATH)


async def enable_submit(request: Request) -> Response:
    got = await _form_from(request)
    if isinstance(got, Response):
        return got
    me, code, _ = got
    codes = await two_factor_actions.enable(db_of(request), me.user.id, code, ip=ip_of(request))
    if codes is None:
        return await _show(request, me, 422, error=gettext(request, WRONG_CODE))
    return await _show(request, me, codes=codes)


def _refusal(request: Request, verdict: two_factor_actions.Verdict) -> tuple[int, str]:
    if verdict.how == "locked":
        return 429, gettext(request, TOO_MANY)
    return 422, gettext(request, NOT_CONFIRMED)


async def recovery_codes_submit(request: Request) -> Response:
    got = await _form_from(request)
    if isinstance(got, Response):
        return got
    me, _, confirmation = got
    verdict, codes = await two_factor_actions.regenerate_recovery_codes(
        db_of(request), me.user.id, confirmation, ip=ip_of(request)
    )
    if codes is None:
        status, message = _refusal(request, verdict)
        return await _show(request, me, status, error=message)
    return await _show(request, me, codes=codes)


async def disable_submit(request: Request) -> Response:
    got = await _form_from(request)
    if isinstance(got, Response):
        return got
    me, _, confirmation = got
    verdict = await two_factor_actions.disable(db_of(request), me.user.id, confirmation, ip=ip_of(request))
    if not verdict.ok:
        status, message = _refusal(request, verdict)
        return await _show(request, me, status, error=message)
    request.session["flash"] = "two_factor_off"
    return redirect(PATH)
