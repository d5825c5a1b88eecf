"""The periodic job of tracked searches: alerts (one notification per batch of matches, spike
alerts) and e-mail digests, in the owner's language, through the configured mail sender."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from cordee.actions.tracked_alerts import Digest, run_alerts
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.tables import Account, Status
from cordee.db.types import utcnow
from cordee.jobs.runner import periodic
from cordee.mail import Sender, build_sender, message
from cordee.web.i18n import translations

_senders: dict[int, Sender] = {}


def _sender(settings: Settings) -> Sender:
    found = _senders.get(id(settings))
    if found is None:
        found = _senders[id(settings)] = build_sender(settings)
    return found


async def compose(db: Database, settings: Settings, digest: Digest) -> tuple[str, str]:
    """(subject, body) of a digest or spike e-mail, in the owner's language."""
    _ = translations(digest.locale if digest.locale in ("en", "fr") else "en").gettext
    async with db.read() as session:
        rows = (
            await session.execute(
                select(Status.id, Status.text, Account.username, Account.domain)
                .join(Account, Account.id == Status.account_id)
                .where(Status.id.in_(digest.status_ids))
                .order_by(Status.id.desc())
            )
        ).all()
    link = f"{settings.base_url}/columns"
    if digest.spike is not None:
        subject = _("Spike on your tracked search “%(name)s”") % {"name": digest.search_name}
        intro = _("%(count)d notes in the last %(minutes)d minutes (usually %(baseline).1f).") % {
            "count": digest.spike[0],
            "minutes": digest.window_minutes,
            "baseline": digest.spike[1],
        }
    else:
        subject = _("%(count)d new notes for your tracked search “%(name)s”") % {
            "count": digest.count,
            "name": digest.search_name,
        }
        intro = _("Query: %(query)s") % {"query": digest.query}
    lines = [intro, ""]
    for status_id, text, username, domain in rows:
        who = f"@{username}@{domain}" if domain else f"@{username}"
        excerpt = " ".join(text.split())
        excerpt = excerpt if len(excerpt) <= 200 else excerpt[:199] + "…"
        lines += [f"{who}: {excerpt}", f"  {settings.base_url}/@{username}/{status_id}", ""]
    if digest.count > len(rows) and digest.spike is None:
        lines.append(_("… and %(more)d more.") % {"more": digest.count - len(rows)})
    lines += ["", _("Your columns: %(link)s") % {"link": link}]
    return subject, "\n".join(lines)


async def send_tracking_alerts(db: Database, settings: Settings, now: datetime | None = None) -> int:
    made, digests = await run_alerts(db, now or utcnow())
    sender = _sender(settings)
    for digest in digests:
        subject, body = await compose(db, settings, digest)
        # Sent here, after the claims committed: a failing server loses this digest, never sends two.
        await sender.send(message(settings, digest.email, subject, body))
    return made


@periodic("tracking.alerts")
async def tracking_alerts(db: Database, settings: Settings) -> int:
    return await send_tracking_alerts(db, settings)
