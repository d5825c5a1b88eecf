"""``/settings/profile``: display name, bio, avatar and header, locked account, and the posting
defaults (visibility, language) — the fields of ``PATCH /api/v1/accounts/update_credentials``,
changed by the same actions (``update_profile``, ``update_preferences``). Everything is checked
before anything is written: a refused field (or image) leaves the whole profile as it was."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from cordee.actions.accounts import ProfileChanges, update_profile
from cordee.actions.errors import ValidationFailed
from cordee.actions.preferences import (
    DEFAULT_VISIBILITIES,
    INTERFACE_LANGUAGES,
    LANGUAGE_RE,
    PreferenceChanges,
    check_preferences,
    update_preferences,
)
from cordee.media.profile import PROFILE_IMAGE_LIMIT
from cordee.queries.personal import preferences_of
from cordee.web.app_common import me_or_sign_in
from cordee.web.i18n import LANGUAGE_NAMES, N_
from cordee.web.pages import EXPIRED
from cordee.web.render import (
    SignedIn,
    csrf_ok,
    db_of,
    field,
    gettext,
    redirect,
    render,
    settings_of,
)

MAX_DISPLAY_NAME = 30
MAX_BIO = 500
SAVED = N_("Your profile is saved.")
ERRORS = {
    "display_name": N_("The display name is too long: at most %(max)d characters."),
    "note": N_("The bio is too long: at most %(max)d characters."),
    "default_visibility": N_("Choose one of the visibilities offered."),
    "default_language": N_("Enter a language code such as fr or en, or leave it empty."),
    "interface_language": N_("Choose one of the languages offered."),
    "picture": N_("This image was refused: %(reason)s"),
}
VISIBILITY_LABELS = {
    "public": N_("Public"),
    "unlisted": N_("Unlisted"),
    "private": N_("Followers only"),
}


@dataclass(frozen=True)
class Values:
    """What the form shows: the saved profile, or what was just submitted."""

    display_name: str
    note: str
    locked: bool
    default_visibility: str
    default_language: str
    interface_language: str


def _language_of(me: SignedIn) -> str:
    return me.user.locale if me.user.locale in INTERFACE_LANGUAGES else "en"


async def _page(
    request: Request, me: SignedIn, values: Values, errors: dict[str, str], status: int = 200
) -> Response:
    flash = request.session.pop("flash", None) == "profile_saved"
    return await render(
        request,
        "settings_profile.html",
        status,
        me=me,
        values=values,
        errors=errors,
        flash=gettext(request, SAVED) if flash else None,
        visibilities=[(v, gettext(request, VISIBILITY_LABELS[v])) for v in DEFAULT_VISIBILITIES],
        languages=[(code, LANGUAGE_NAMES[code]) for code in INTERFACE_LANGUAGES],
        max_display_name=MAX_DISPLAY_NAME,
        max_bio=MAX_BIO,
    )


async def profile_page(request: Request) -> Response:
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    async with db_of(request).read() as session:
        prefs = await preferences_of(session, me.account.id)
    values = Values(
        display_name=me.account.display_name,
        note=me.account.note,
        locked=me.account.locked,
        default_visibility=prefs.default_visibility,
        default_language=prefs.default_language or "",
        interface_language=_language_of(me),
    )
    return await _page(request, me, values, {})


async def _pictures(form: FormData) -> dict[str, bytes]:
    pictures = {}
    for kind in ("avatar", "header"):
        upload = form.get(kind)
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read(PROFILE_IMAGE_LIMIT + 1)
            if data:
                pictures[kind] = data
    return pictures


def _check(request: Request, values: Values) -> dict[str, str]:
    errors = {}
    if len(values.display_name) > MAX_DISPLAY_NAME:
        errors["display_name"] = gettext(request, ERRORS["display_name"]) % {"max": MAX_DISPLAY_NAME}
    if len(values.note) > MAX_BIO:
        errors["note"] = gettext(request, ERRORS["note"]) % {"max": MAX_BIO}
    if values.default_visibility not in DEFAULT_VISIBILITIES:
        errors["default_visibility"] = gettext(request, ERRORS["default_visibility"])
    if values.default_language and not LANGUAGE_RE.match(values.default_language):
        errors["default_language"] = gettext(request, ERRORS["default_language"])
    if values.interface_language not in INTERFACE_LANGUAGES:
        errors["interface_language"] = gettext(request, ERRORS["interface_language"])
    return errors


async def profile_submit(request: Request) -> Response:
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    form = await request.form()
    try:
        return await _submit(request, me, form)
    finally:
        await form.close()  # the uploaded files' temporary copies


async def _submit(request: Request, me: SignedIn, form: FormData) -> Response:
    if not csrf_ok(request, form):
        return await render(request, "error.html", 400, me=me, title=None, message=gettext(request, EXPIRED))
    values = Values(
        display_name=field(form, "display_name", 1000).strip(),
        note=field(form, "note", 5000),
        locked=form.get("locked") == "on",
        default_visibility=field(form, "default_visibility", 20),
        default_language=field(form, "default_language", 20).strip(),
        # Left out (a form of an older page, a script): the language stays as it is.
        interface_language=field(form, "interface_language", 10) or _language_of(me),
    )
    errors = _check(request, values)
    if errors:
        return await _page(request, me, values, errors, 422)
    posting = PreferenceChanges(
        default_visibility=values.default_visibility,
        default_language=values.default_language,
        interface_language=values.interface_language,
    )
    check_preferences(posting)  # already checked above, field by field; kept as the action's own gate
    changes = ProfileChanges(display_name=values.display_name, note=values.note, locked=values.locked)
    try:
        await update_profile(
            db_of(request),
            me.account.id,
            changes,
            pictures=await _pictures(form),
            settings=settings_of(request),
            images=request.app.state.images,
        )
    except ValidationFailed as e:  # an image refused before anything was written
        errors["picture"] = gettext(request, ERRORS["picture"]) % {"reason": str(e)}
        return await _page(request, me, values, errors, 422)
    await update_preferences(db_of(request), me.account.id, posting)
    request.session["lang"] = values.interface_language  # the next page speaks it at once
    request.session["flash"] = "profile_saved"
    return redirect("/settings/profile")
