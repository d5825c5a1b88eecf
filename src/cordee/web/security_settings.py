"""Settings pages of one's account security: the signed-in browsers (sign one out, or every other
one) and the password change, which asks for the current password."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from cordee.actions import sessions as session_actions
from cordee.actions.errors import ValidationFailed
from cordee.actions.passwords import MAX_PASSWORD_LENGTH, WrongPassword, change_password
from cordee.api.mastodon.params import id_or_none
from cordee.domain.passwords import MIN_PASSWORD_LENGTH
from cordee.queries.sessions import live_sessions
from cordee.web.app_common import me_or_sign_in, signed_in_form
from cordee.web.i18n import N_
from cordee.web.render import (
    SignedIn,
    db_of,
    field,
    gettext,
    ip_of,
    redirect,
    render,
)

FLASHES = {
    "revoked": N_("That browser is signed out."),
    "revoked_others": N_("Every other browser is signed out."),
    "password_changed": N_(
        "Your password is changed. Every other browser and every app were signed out: sign in again there."
    ),
}
WRONG_CURRENT = N_("The current password is incorrect.")
TOO_SHORT = N_("The new password is too short: use at least %(min)d characters.")
TOO_LONG = N_("The new password is too long.")
MISMATCH = N_("The two new passwords are not the same.")


def _flash(request: Request) -> str | None:
    flash = request.session.pop("flash", None)
    return gettext(request, FLASHES[flash]) if isinstance(flash, str) and flash in FLASHES else None


async def sessions_page(request: Request) -> Response:
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    async with db_of(request).read() as session:
        rows = await live_sessions(session, me.user.id)
    return await render(request, "settings_sessions.html", me=me, sessions=rows, flash=_flash(request))


async def revoke_submit(request: Request) -> Response:
    posted = await signed_in_form(request)
    if isinstance(posted, Response):
        return posted
    me, form = posted
    session_id = id_or_none(str(request.path_params["id"])) or 0
    if session_id == me.session_id:  # this browser: that is signing out
        return redirect("/settings/sessions")
    if not await session_actions.revoke(db_of(request), me.user.id, session_id, ip_of(request)):
        title, message = (
            gettext(request, "Page not found"),
            gettext(request, "The page you asked for does not exist."),
        )
        return await render(request, "error.html", 404, me=me, title=title, message=message)
    request.session["flash"] = "revoked"
    return redirect("/settings/sessions")


async def revoke_others_submit(request: Request) -> Response:
    posted = await signed_in_form(request)
    if isinstance(posted, Response):
        return posted
    me, form = posted
    await session_actions.revoke_others(db_of(request), me.user.id, me.session_id, ip_of(request))
    request.session["flash"] = "revoked_others"
    return redirect("/settings/sessions")


async def password_page(request: Request) -> Response:
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    return await render(request, "settings_password.html", me=me, errors={}, flash=_flash(request))


async def password_submit(request: Request) -> Response:
    posted = await signed_in_form(request)
    if isinstance(posted, Response):
        return posted
    me, form = posted
    current = field(form, "current_password", MAX_PASSWORD_LENGTH + 1)
    new = field(form, "password", MAX_PASSWORD_LENGTH + 1)
    errors: dict[str, str] = {}
    if len(new) < MIN_PASSWORD_LENGTH:
        errors["password"] = gettext(request, TOO_SHORT) % {"min": MIN_PASSWORD_LENGTH}
    elif len(new) > MAX_PASSWORD_LENGTH:
        errors["password"] = gettext(request, TOO_LONG)
    elif new != field(form, "confirm", MAX_PASSWORD_LENGTH + 1):
        errors["confirm"] = gettext(request, MISMATCH)
    if not errors:
        try:
            await change_password(
                db_of(request), me.user.id, current, new, keep_session_id=me.session_id, ip=ip_of(request)
            )
        except WrongPassword:
            errors["current_password"] = gettext(request, WRONG_CURRENT)
        except ValidationFailed as e:
            errors["password"] = e.message
    if errors:
        return await render(request, "settings_password.html", 422, me=me, errors=errors, flash=None)
    request.session["flash"] = "password_changed"
    return redirect("/settings/password")
