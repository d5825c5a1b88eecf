"""``GET /api/v1/preferences``; they are changed through ``update_credentials`` (``source[…]``)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from cordee.actions.preferences import PreferenceChanges
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.params import Params
from cordee.db.tables_personal import Preferences
from cordee.queries.personal import preferences_of


def render_preferences(prefs: Preferences) -> dict[str, Any]:
    return {
        "posting:default:visibility": prefs.default_visibility,
        "posting:default:sensitive": prefs.default_sensitive,
        "posting:default:language": prefs.default_language,
        "reading:expand:media": prefs.expand_media,
        "reading:expand:spoilers": prefs.expand_spoilers,
    }


def _source_field(p: Params, name: str) -> Any:
    """``source[name]`` from a form, or ``{"source": {name: …}}`` from JSON."""
    value = p.raw(f"source[{name}]")
    nested = p.raw("source")
    if value is None and isinstance(nested, dict):
        value = nested.get(name)
    return value


def source_changes(p: Params) -> PreferenceChanges:
    """The posting defaults that ``PATCH /api/v1/accounts/update_credentials`` may change."""
    privacy, sensitive, language = (_source_field(p, n) for n in ("privacy", "sensitive", "language"))
    if sensitive is not None and not isinstance(sensitive, bool):
        sensitive = Params({"source[sensitive]": [sensitive]}).bool("source[sensitive]")
    for name, value in (("privacy", privacy), ("language", language)):
        if value is not None and not isinstance(value, str):
            raise ApiError(422, f"Validation failed: source[{name}] must be text")
    return PreferenceChanges(
        default_visibility=privacy or None, default_sensitive=sensitive, default_language=language
    )


@endpoint(scope="read:accounts", auth="required")
async def show(ctx: Ctx) -> Response:
    async with ctx.db.read() as session:
        return json_response(render_preferences(await preferences_of(session, ctx.account_id)))


routes = [Route("/api/v1/preferences", show, methods=["GET"])]
