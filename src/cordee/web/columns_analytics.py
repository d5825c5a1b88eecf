"""``/tracked/{id}/analytics`` and ``/analytics/tags/{name}``: the analytics of a tracked search or
a hashtag as charts (server-drawn SVG, inline: no script) and tables with the same numbers, the
share of voice of the reader's searches, the newest notes with their sentiment and a form to
correct it, and the CSV export — all read through ``queries.tracking_analytics``, as the API's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from cordee.actions import tracked_searches as actions
from cordee.actions.errors import ActionError
from cordee.api.mastodon.params import id_or_none
from cordee.api.mastodon.serializers.accounts import acct
from cordee.db.tables_tracking import TrackedSearch
from cordee.db.types import utcnow
from cordee.domain.sentiment import LABELS
from cordee.domain.text import normalize_tag
from cordee.queries import tracking as queries
from cordee.queries import tracking_analytics as analytics
from cordee.rendering.tracking_charts import sentiment_svg, share_svg, volume_svg
from cordee.rendering.tracking_export import export_record, to_csv
from cordee.web.app_common import me_or_sign_in, signed_in_form
from cordee.web.i18n import N_
from cordee.web.public_pages import not_found
from cordee.web.render import PAGE_HEADERS, SignedIn, db_of, gettext, redirect, render, settings_of

BAD_PERIOD = N_("This period cannot be shown: %(reason)s")
VOLUME = N_("Volume")
SENTIMENT = N_("Sentiment")
SHARE = N_("Share of voice")
RECENT = 20


def _period(request: Request) -> tuple[analytics.Period | None, str | None]:
    q = request.query_params

    def moment(name: str) -> datetime | None:
        raw = q.get(name, "").strip()
        if not raw:
            return None
        value = datetime.fromisoformat(raw)
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

    try:
        return analytics.Period.of(moment("since"), moment("until"), q.get("bucket") or None, utcnow()), None
    except (ValueError, analytics.AnalyticsError) as e:
        return None, gettext(request, BAD_PERIOD) % {"reason": str(e)}


async def _readable(request: Request, me: SignedIn) -> TrackedSearch | None:
    search_id = id_or_none(str(request.path_params["id"]))
    if search_id is None:
        return None
    async with db_of(request).read() as session:
        return await queries.readable(session, me.account.id, search_id)


async def _page(
    request: Request, me: SignedIn, search: TrackedSearch | None, tag: str | None, title: str
) -> Response:
    period, error = _period(request)
    if period is None:
        period = analytics.Period.of(None, None, None, utcnow())
    notes = (
        analytics.tracked_notes(me.account.id, [search.id], period)
        if search is not None
        else analytics.hashtag_notes(me.account.id, tag or "", period)
    )
    if tag is not None:
        notes.extra["exclude_tag"] = tag
    settings = settings_of(request)

    def _(message: str) -> str:
        return gettext(request, message)

    async with db_of(request).read() as session:
        data = await analytics.analytics(session, me.account.id, notes, period)
        recent = await analytics.export_rows(session, me.account.id, notes, limit=RECENT)
        shares: list[dict[str, Any]] = []
        if search is not None:
            mine = await queries.searches_of(session, me.account.id)
            if len(mine) >= 2:
                shares = await analytics.share_of_voice(
                    session, me.account.id, [(r.id, r.name) for r in mine[:10]], period
                )
    return await render(
        request,
        "tracked_analytics.html",
        400 if error else 200,
        me=me,
        search=search,
        tag=tag,
        title=title,
        error=error,
        data=data,
        period=period,
        authors=[(acct(settings, a["account"]), a["count"]) for a in data["top_authors"]],
        recent=[export_record(settings, r) for r in recent],
        labels=LABELS,
        shares=shares,
        volume_chart=volume_svg(title, data, _(VOLUME)),
        sentiment_chart=sentiment_svg(title, data, _(SENTIMENT), {n: _(n) for n in LABELS}),
        share_chart=share_svg(shares, _(SHARE)) if shares else "",
        query=request.url.query,
    )


async def search_analytics(request: Request) -> Response:
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    search = await _readable(request, me)
    if search is None:
        return await not_found(request, me)
    return await _page(request, me, search, None, search.name)


async def tag_analytics(request: Request) -> Response:
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    tag = normalize_tag(str(request.path_params["name"]).lstrip("#"))
    if not tag:
        return await not_found(request, me)
    return await _page(request, me, None, tag, f"#{tag}")


async def export_csv(request: Request) -> Response:
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    search = await _readable(request, me)
    period, _error = _period(request)
    if search is None or period is None:
        return Response(status_code=404 if search is None else 400, headers=PAGE_HEADERS)
    notes = analytics.tracked_notes(me.account.id, [search.id], period)
    async with db_of(request).read() as session:
        rows = await analytics.export_rows(session, me.account.id, notes)
    settings = settings_of(request)
    return Response(
        to_csv([export_record(settings, r) for r in rows]),
        media_type="text/csv; charset=utf-8",
        headers={**PAGE_HEADERS, "Content-Disposition": f'attachment; filename="tracked-{search.id}.csv"'},
    )


async def correct_submit(request: Request) -> Response:
    """A person's label for a note (``label``: positive, neutral, negative; empty: the lexicon's)."""
    posted = await signed_in_form(request)
    if isinstance(posted, Response):
        return posted
    me, form = posted
    search = await _readable(request, me)
    status_id = id_or_none(str(request.path_params["status_id"]))
    if search is None or status_id is None:
        return await not_found(request, me)
    value = form.get("label")
    label = value if isinstance(value, str) and value in LABELS else None
    try:
        await actions.correct_sentiment(db_of(request), me.account.id, status_id, label)
    except ActionError:
        return await not_found(request, me)
    return redirect(f"/tracked/{search.id}/analytics#note-{status_id}")
