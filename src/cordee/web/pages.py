"""The landing page, signing in and out, and signing up."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from cordee.actions import oauth as oauth_actions
from cordee.actions import two_factor as two_factor_actions
from cordee.actions.accounts import Registration, RegistrationInvalid, create_local_account
from cordee.actions.emails import send_confirmation
from cordee.actions.errors import Forbidden
from cordee.domain.passwords import MIN_PASSWORD_LENGTH
from cordee.mail import sender_of
from cordee.ratelimit import guard_sign_in, guard_sign_up, refund_sign_up
from cordee.web import two_factor
from cordee.web.i18n import N_, choose_language
from cordee.web.render import (
    csrf_ok,
    db_of,
    field,
    gettext,
    redirect,
    render,
    safe_next,
    settings_of,
    sign_in,
    sign_out,
)

FLASHES = {
    "welcome": N_("Welcome! Your account is ready: sign in to it from any Mastodon app."),
    "pending": N_(
        "Your account has been created. It is waiting for a moderator's approval: "
        "you will be able to sign in once it is approved."
    ),
    "signed_out": N_("You are signed out."),
    "confirm": N_(
        "Your account has been created. Follow the link we sent to your e-mail address to confirm it, "
        "then sign in."
    ),
}
EXPIRED = N_("This form has expired. Please try again.")
BAD_CREDENTIALS = N_("The e-mail address, username or password is incorrect.")
MISSING_CREDENTIALS = N_("Enter your e-mail address or username and your password.")
UNCONFIRMED = N_(
    "Confirm your e-mail address first: follow the link we sent you. "
    "No message? Ask for a new one from the “Confirm your address” page."
)
CLOSED = N_("Registrations are closed on this server. You cannot create an account here for now.")
FIELD_ERRORS = {
    ("username", "ERR_INVALID"): N_("Use only letters, numbers and underscores (at most 30 characters)."),
    ("username", "ERR_RESERVED"): N_("This username is reserved. Choose another one."),
    ("username", "ERR_TAKEN"): N_("This username is already taken. Choose another one."),
    ("email", "ERR_INVALID"): N_("Enter a valid e-mail address, such as name@example.org."),
    ("email", "ERR_BLOCKED"): N_("Addresses from this e-mail provider cannot register here."),
    ("email", "ERR_TAKEN"): N_("An account already uses this e-mail address."),
    ("password", "ERR_TOO_SHORT"): N_("The password is too short: use at least %(min)d characters."),
    ("invite_code", "ERR_BLANK"): N_("Registration is by invitation: enter your invitation code."),
    ("invite_code", "ERR_INVALID"): N_("This invitation code is not valid, or has been used up."),
}


def user_problem(request: Request, user_approved: bool, user_disabled: bool) -> str | None:
    """Why a user cannot sign in now, in the page's language, or None."""
    if user_disabled:
        return gettext(request, N_("This account has been disabled."))
    if not user_approved:
        return gettext(request, N_("This account is waiting for a moderator's approval."))
    return None


async def landing(request: Request) -> Response:
    flash = request.session.pop("flash", None)
    message = gettext(request, FLASHES[flash]) if isinstance(flash, str) and flash in FLASHES else None
    return await render(request, "index.html", flash=message)


async def sign_in_page(request: Request) -> Response:
    nxt = safe_next(request.query_params.get("next"))
    return await render(request, "sign_in.html", next=nxt, login="", error=None)


async def sign_in_submit(request: Request) -> Response:
    form = await request.form()
    nxt = safe_next(field(form, "next", 4000))
    login = field(form, "login", 320).strip()
    password = field(form, "password")
    error: str | None = None
    if not csrf_ok(request, form):
        error = EXPIRED
    elif not login or not password:
        error = MISSING_CREDENTIALS
    if error is not None:
        return await render(
            request, "sign_in.html", 400, next=nxt, login=login, error=gettext(request, error)
        )
    await guard_sign_in(request, login)  # before the Argon2 run a password check costs
    user = await oauth_actions.check_user_credentials(db_of(request), login, password)
    problem: str | None
    if user is None:
        problem = gettext(request, BAD_CREDENTIALS)
    else:
        problem = user_problem(request, user.approved, user.disabled)
        if (
            problem is None
            and user.email_confirmed_at is None
            and settings_of(request).email_confirmation_required
        ):
            problem = gettext(request, UNCONFIRMED)
    if user is None or problem is not None:
        return await render(request, "sign_in.html", 422, next=nxt, login=login, error=problem)
    if await two_factor_actions.is_enabled(db_of(request), user.id):
        return two_factor.begin(request, user.id, nxt)  # not signed in until the code is given
    response = redirect(nxt)
    await sign_in(request, response, user.id)
    return response


async def sign_out_submit(request: Request) -> Response:
    form = await request.form()
    if not csrf_ok(request, form):
        return await render(request, "error.html", 400, title=None, message=gettext(request, EXPIRED))
    response = redirect("/")
    await sign_out(request, response)
    request.session["flash"] = "signed_out"
    return response


async def sign_up_page(request: Request) -> Response:
    if settings_of(request).registration_mode == "closed":
        return await render(request, "sign_up.html", 403, closed=gettext(request, CLOSED))
    nxt = safe_next(request.query_params.get("next"))
    return await render(request, "sign_up.html", next=nxt, values={}, errors={}, error=None)


def _field_errors(request: Request, details: dict[str, tuple[str, str]]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, (code, fallback) in details.items():
        template = FIELD_ERRORS.get((name, code))
        if template is None:
            errors[name] = fallback
        else:
            errors[name] = gettext(request, template) % {"min": MIN_PASSWORD_LENGTH}
    return errors


async def sign_up_submit(request: Request) -> Response:
    settings = settings_of(request)
    if settings.registration_mode == "closed":
        return await render(request, "sign_up.html", 403, closed=gettext(request, CLOSED))
    form = await request.form()
    nxt = safe_next(field(form, "next", 4000))
    values = {
        "username": field(form, "username", 100).strip(),
        "email": field(form, "email", 320).strip(),
        "invite_code": field(form, "invite_code", 100).strip(),
        "reason": field(form, "reason", 1000).strip(),
    }
    context = {"next": nxt, "values": values, "errors": {}, "error": None}
    if not csrf_ok(request, form):
        return await render(request, "sign_up.html", 400, **{**context, "error": gettext(request, EXPIRED)})
    registration = Registration(
        username=values["username"],
        email=values["email"],
        password=field(form, "password"),
        locale=choose_language(request),
        reason=values["reason"],
        invite_code=values["invite_code"] or None,
    )
    key = await guard_sign_up(request, web=True)
    try:
        _, user_id = await create_local_account(db_of(request), settings, registration, enforce_mode=True)
    except Forbidden:
        return await render(request, "sign_up.html", 403, closed=gettext(request, CLOSED))
    except RegistrationInvalid as e:
        await refund_sign_up(request, key)
        errors = _field_errors(request, e.details)
        return await render(request, "sign_up.html", 422, **{**context, "errors": errors})
    await send_confirmation(db_of(request), sender_of(request.app), settings, user_id)
    if settings.registration_mode == "approval":
        request.session["flash"] = "pending"
        return redirect("/")
    if settings.email_confirmation_required:
        request.session["flash"] = "confirm"
        return redirect("/")
    response = redirect(nxt)
    await sign_in(request, response, user_id, method="sign_up")
    if nxt == "/":
        request.session["flash"] = "welcome"
    return response
