"""``POST /api/v1/reports``: report an account and, optionally, some of its notes."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import reports as actions
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.params import id_or_none, parse_id
from cordee.api.mastodon.serializers.reports import render_report
from cordee.db.tables import Account
from cordee.db.tables_curation import Report


def _rule_id(raw: str) -> int:
    number = id_or_none(raw)
    if number is None:
        raise ApiError(422, f"Validation failed: Rule {raw} does not exist")
    return number


@endpoint(scope="write:reports", auth="required")
async def create(ctx: Ctx) -> Response:
    p = ctx.params
    account_id = p.id("account_id")
    if account_id is None:
        raise ApiError(422, "Validation failed: account_id is missing")
    new = actions.NewReport(
        account_id=account_id,
        status_ids=[parse_id(i) for i in p.list("status_ids")],
        comment=p.str("comment", "", max_length=actions.MAX_COMMENT) or "",
        category=p.str("category") or None,
        rule_ids=[_rule_id(i) for i in p.list("rule_ids")],
        forward=bool(p.bool("forward", False)),
    )
    report_id = await actions.file_report(ctx.db, ctx.account_id, new)
    async with ctx.db.read() as session:
        report = await session.get(Report, report_id)
        target = await session.get(Account, account_id)
    assert report is not None and target is not None
    return json_response(render_report(ctx.settings, report, target))


routes = [Route("/api/v1/reports", create, methods=["POST"])]
