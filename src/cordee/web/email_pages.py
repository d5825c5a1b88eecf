"""Pages reached by e-mail: "forgot your password" (ask for a link, then choose a new password),
the address confirmation link, and asking for that link again.

Asking for a link answers the same, whether the address belongs to someone here or not.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from cordee.actions import emails as email_actions
from cordee.actions.emails import InvalidLink
from cordee.actions.errors import ValidationFailed
from cordee.actions.passwords import MAX_PASSWORD_LENGTH
from cordee.domain.passwords import MIN_PASSWORD_LENGTH
from cordee.mail import sender_of
from cordee.web.i18n import N_
from cordee.web.pages import EXPIRED
from cordee.web.render import csrf_ok, db_of, field, gettext, ip_of, render, settings_of

SENT_RESET = N_(
    "If an account uses this address, we have sent it a link to choose a new password. "
    "The link works once, within an hour."
)
SENT_CONFIRMATION = N_(
    "If an account uses this address and it is not confirmed yet, we have sent it a new confirmation link."
)
BAD_LINK = N_("This link is not valid: it was already used, has expired, or was copied incompletely.")
CONFIRMED = N_("Your e-mail address is confirmed. You can sign in.")
RESET_DONE = N_("Your password is changed, and every browser and app signed out. Sign in with the new one.")
TOO_SHORT = N_("The new password is too short: use at least %(min)d characters.")
MISMATCH = N_("The two new passwords are not the same.")


async def _message(request: Request, title: str, message: str, status: int = 200) -> Response:
    return await render(request, "message.html", status, title=gettext(request, title), message=message)


async def forgot_page(request: Request) -> Response:
    return await render(request, "password_new.html", sent=None, error=None)


async def forgot_submit(request: Request) -> Response:
    form = await request.form()
    if not csrf_ok(request, form):
        return await render(request, "password_new.html", 400, sent=None, error=gettext(request, EXPIRED))
    email = field(form, "email", 320)
    await email_actions.request_reset(
        db_of(request), sender_of(request.app), settings_of(request), email, ip_of(request)
    )
    return await render(request, "password_new.html", sent=gettext(request, SENT_RESET), error=None)


async def reset_page(request: Request) -> Response:
    token = request.query_params.get("reset_password_token", "")[:200]
    if not token or not await email_actions.check_reset_token(db_of(request), token):
        return await _message(request, N_("Choose a new password"), gettext(request, BAD_LINK), 404)
    return await render(request, "password_edit.html", token=token, errors={})


async def reset_submit(request: Request) -> Response:
    form = await request.form()
    token = field(form, "reset_password_token", 200)
    if not csrf_ok(request, form):
        return await _message(request, N_("Choose a new password"), gettext(request, EXPIRED), 400)
    new = field(form, "password", MAX_PASSWORD_LENGTH + 1)
    errors: dict[str, str] = {}
    if len(new) < MIN_PASSWORD_LENGTH:
        errors["password"] = gettext(request, TOO_SHORT) % {"min": MIN_PASSWORD_LENGTH}
    elif new != field(form, "confirm", MAX_PASSWORD_LENGTH + 1):
        errors["confirm"] = gettext(request, MISMATCH)
    if not errors:
        try:
            await email_actions.reset_password(db_of(request), token, new, ip_of(request))
        except InvalidLink:
            return await _message(request, N_("Choose a new password"), gettext(request, BAD_LINK), 404)
        except ValidationFailed as e:
            errors["password"] = e.message
    if errors:
        return await render(request, "password_edit.html", 422, token=token, errors=errors)
    return await _message(request, N_("Choose a new password"), gettext(request, RESET_DONE))


async def confirm_link(request: Request) -> Response:
    token = request.query_params.get("confirmation_token", "")[:200]
    try:
        await email_actions.confirm(db_of(request), token, ip_of(request))
    except InvalidLink:
        return await _message(request, N_("Confirm your address"), gettext(request, BAD_LINK), 404)
    return await _message(request, N_("Confirm your address"), gettext(request, CONFIRMED))


async def resend_page(request: Request) -> Response:
    return await render(request, "confirmation_new.html", sent=None, error=None)


async def resend_submit(request: Request) -> Response:
    form = await request.form()
    if not csrf_ok(request, form):
        return await render(request, "confirmation_new.html", 400, sent=None, error=gettext(request, EXPIRED))
    await email_actions.resend_confirmation(
        db_of(request),
        sender_of(request.app),
        settings_of(request),
        field(form, "email", 320),
        ip_of(request),
    )
    return await render(
        request, "confirmation_new.html", sent=gettext(request, SENT_CONFIRMATION), error=None
    )
