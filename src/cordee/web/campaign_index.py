"""``/campaigns``: the campaigns on this server (newest first, each with its thermometer's
figures) and the form to start one; on a campaign's page, its organisers and the form with which
they add another. The same actions as the API (``actions/campaigns.py``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from cordee.actions import campaigns as campaign_actions
from cordee.actions.errors import ActionError
from cordee.api.mastodon.params import id_or_none
from cordee.queries import campaigns as queries
from cordee.queries.accounts import account_by_acct
from cordee.rendering.money import money, percent
from cordee.web.app_common import signed_in_form
from cordee.web.campaign_organiser import BAD_AMOUNT, NO_ACCOUNT, parse_amount
from cordee.web.campaign_pages import campaign_page
from cordee.web.campaign_refusals import refusal
from cordee.web.i18n import choose_language
from cordee.web.public_pages import not_found
from cordee.web.render import current_user, db_of, field, gettext, redirect, render, settings_of

CAMPAIGN_FIELDS = ("title", "hashtag", "cause", "goal", "currency")


async def campaigns_page(
    request: Request, error: str | None = None, status: int = 200, values: dict[str, str] | None = None
) -> Response:
    me = await current_user(request)
    lang = choose_language(request)
    async with db_of(request).read() as session:
        campaigns = await queries.recent_campaigns(session)
        totals = await queries.totals_per_campaign(session, [c.id for c in campaigns])
    empty = queries.Totals({}, 0)
    rows = []
    for c in campaigns:
        raised = totals.get(c.id, empty).in_currency(c.currency)
        rows.append(
            {
                "campaign": c,
                "raised": money(raised, c.currency, lang),
                "goal": money(c.goal_cents, c.currency, lang),
                "percent": percent(raised, c.goal_cents),
            }
        )
    return await render(
        request,
        "campaigns.html",
        status,
        me=me,
        campaigns=rows,
        error=error,
        values=values or {"currency": "EUR"},
    )


async def create_submit(request: Request) -> Response:
    """Anyone signed in starts a campaign and becomes its first organiser."""
    posted = await signed_in_form(request)
    if isinstance(posted, Response):
        return posted
    me, form = posted
    # Read longer than any field may be: the action's "too long" is said, nothing shortened silently.
    values = {name: field(form, name, 6000 if name == "cause" else 1000) for name in CAMPAIGN_FIELDS}
    currency = values["currency"].strip().upper()
    goal = parse_amount(values["goal"], currency)
    if goal is None:
        return await campaigns_page(request, gettext(request, BAD_AMOUNT), 422, values)
    new = campaign_actions.NewCampaign(
        title=values["title"],
        hashtag=values["hashtag"],
        cause=values["cause"],
        goal_cents=goal,
        currency=currency,
    )
    try:
        campaign_id = await campaign_actions.create_campaign(db_of(request), me.account.id, new)
    except ActionError as e:
        return await campaigns_page(request, refusal(request, e), e.status, values)
    return redirect(f"/campaigns/{campaign_id}")


async def organiser_submit(request: Request) -> Response:
    """A campaign organiser names another (by account name)."""
    posted = await signed_in_form(request)
    if isinstance(posted, Response):
        return posted
    me, form = posted
    campaign_id = id_or_none(str(request.path_params["id"]))
    async with db_of(request).read() as session:
        account = await account_by_acct(session, settings_of(request), field(form, "username", 200).strip())
    if campaign_id is None:
        return await not_found(request, me)
    if account is None:
        return await campaign_page(request, organiser_error=gettext(request, NO_ACCOUNT), status=422)
    try:
        await campaign_actions.add_campaign_organiser(db_of(request), me.account.id, campaign_id, account.id)
    except ActionError as e:
        if e.status == 404:
            return await not_found(request, me)
        return await campaign_page(request, organiser_error=refusal(request, e), status=e.status)
    return redirect(f"/campaigns/{campaign_id}#campaign-organisers")
