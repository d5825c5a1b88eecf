"""Sending Web Push messages: the ``push.deliver`` job takes the deliveries that notifications
recorded (``actions.push.record_deliveries``), and for each one whose subscription's alerts and
policy allow it, encrypts Mastodon's payload to the subscriber's keys (pywebpush: aes128gcm,
RFC 8291, for ``standard`` subscriptions; the aesgcm draft Mastodon still uses by default for the
others), signs a VAPID header (py-vapid) and posts it to the push service. A 2xx ends the delivery;
a 4xx other than 408 and 429 means the subscription is dead and it is dropped (as Mastodon does);
anything else is tried again later, five times in all. Never on a request's path.

The server posts only to public addresses unless ``push_allowed_private_networks`` says otherwise:
names are checked as they are resolved for the connection (so a name cannot be re-pointed between
a check and the connection), literal addresses before it, and redirects are not followed.
What talks to push services is in ``jobs/push_sending.py``, loaded when a first message is due.
"""

from __future__ import annotations

import asyncio
import html
import importlib
import json
import logging
import re
import sys
from datetime import timedelta
from typing import Any

from cordee.actions import push as push_actions
from cordee.actions.push import Claimed, Outcomes, ServerKeys
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.types import utcnow
from cordee.jobs.runner import periodic
from cordee.media.profile import urls as profile_urls
from cordee.queries.push import PushFacts, push_facts
from cordee.web.i18n import LANGUAGES, N_, translations

log = logging.getLogger(__name__)

#: Deliveries sent per tick at most (``push_sending.CONCURRENCY`` at once).
BATCH = 100
#: Mastodon's: a message waits 48 hours at most for its device, and is not sent at all when its
#: notification is older than that.
TTL = timedelta(hours=48)
URGENCY = "normal"

#: Mastodon's ``notification_mailer.<type>.subject``, which it uses as the push's title.
TITLES = {
    "mention": N_("You were mentioned by %(name)s"),
    "status": N_("%(name)s just posted"),
    "reblog": N_("%(name)s boosted your post"),
    "follow": N_("%(name)s is now following you"),
    "follow_request": N_("Pending follower: %(name)s"),
    "favourite": N_("%(name)s favorited your post"),
    "poll": N_("A poll by %(name)s has ended"),
    "update": N_("%(name)s edited a post"),
    "quote": N_("%(name)s quoted your post"),
}
OTHER_TITLE = N_("New notification from %(name)s")
_TAG = re.compile(r"<[^>]*>")


def pushable(facts: PushFacts) -> bool:
    """Mastodon's ``Web::PushSubscription#pushable?``: the alert of the type is on and the policy
    lets the sender through."""
    alerts = facts.data.get("alerts") or {}
    if not alerts.get(facts.type):
        return False
    policy = facts.data.get("policy") or "all"
    if policy == "followed":
        return facts.recipient_follows
    if policy == "follower":
        return facts.follows_recipient
    return bool(policy == "all")


def _truncate(text: str, length: int = 140) -> str:
    """Rails' ``truncate``: at most ``length`` characters, the last three being "..." if cut."""
    return text if len(text) <= length else text[: length - 3] + "..."


def payload(settings: Settings, facts: PushFacts) -> dict[str, Any]:
    """Mastodon's ``Web::NotificationSerializer``. The id is a string, as everywhere in the API:
    these ids are 64-bit and a number that large loses digits in a service worker's JavaScript."""
    lang = facts.locale if facts.locale in LANGUAGES else "en"
    name = facts.from_display_name or facts.from_username
    title = translations(lang).gettext(TITLES.get(facts.type, OTHER_TITLE)) % {"name": name}
    source = facts.status_spoiler or facts.status_text or facts.from_note or ""
    body = _truncate(html.unescape(_TAG.sub("", source)))
    _, icon = profile_urls(settings, facts.from_avatar_url, "avatar")
    return {
        "access_token": facts.token,
        "preferred_locale": facts.locale,
        "notification_id": str(facts.notification_id),
        "notification_type": facts.type,
        "icon": icon,
        "title": title,
        "body": body,
    }


def _subject(settings: Settings) -> str:
    return f"mailto:{settings.contact_email}" if settings.contact_email else settings.base_url


def request_for(settings: Settings, keys: ServerKeys, facts: PushFacts) -> tuple[bytes, dict[str, str]]:
    """The encrypted body and the headers of one push message (Mastodon's, per encoding). Imports
    the sending half where ``load_sending`` did not already."""
    from cordee.jobs.push_sending import encrypted

    data = json.dumps(payload(settings, facts), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/octet-stream", "TTL": str(int(TTL.total_seconds()))}
    headers["Urgency"] = URGENCY
    return encrypted(data, facts, keys, _subject(settings), headers)


_SENDING = "cordee.jobs.push_sending"


async def load_sending() -> None:
    """Import ``jobs/push_sending.py`` the first time a message is due, in a thread: the import
    of aiohttp (which loads the system's CA certificates) held the event loop ~150–200 ms."""
    if _SENDING not in sys.modules:
        await asyncio.to_thread(importlib.import_module, _SENDING)


async def deliver_due(db: Database, settings: Settings) -> int:
    """Send what is due; returns how many deliveries were settled."""
    claimed = await push_actions.claim_due(db, BATCH)
    if not claimed:
        return 0
    keys = await push_actions.server_keys(db, settings)
    by_key = {
        (f.subscription_id, f.notification_id): f
        for f in await push_facts(db, [(c.subscription_id, c.notification_id) for c in claimed])
    }
    done: list[Claimed] = []
    retry: list[Claimed] = []
    gone: set[int] = set()
    to_send: list[tuple[Claimed, PushFacts]] = []
    oldest = utcnow() - TTL
    for c in claimed:
        facts = by_key.get((c.subscription_id, c.notification_id))
        if facts is None or facts.created_at < oldest or not pushable(facts):
            done.append(c)
        elif facts.token_revoked:  # the app was signed out: its subscription goes with its token
            gone.add(c.subscription_id)
        else:
            to_send.append((c, facts))
    if to_send:
        await load_sending()
        from cordee.jobs.push_sending import CONCURRENCY, UNUSABLE, Sender

        sender = Sender(settings)
        limit = asyncio.Semaphore(CONCURRENCY)

        async def one(facts: PushFacts) -> int | None:
            async with limit:
                try:
                    body, headers = request_for(settings, keys, facts)
                except UNUSABLE as e:
                    log.warning("push message for subscription %s not made: %s", facts.subscription_id, e)
                    return 400  # keys or endpoint no longer usable: like a refusal
                return await sender.post(facts.endpoint, body, headers)

        try:
            statuses = await asyncio.gather(*(one(facts) for _, facts in to_send))
        finally:
            await sender.close()
        for (c, _), status in zip(to_send, statuses, strict=True):
            if status is not None and 200 <= status < 300:
                done.append(c)
            elif status is not None and 400 <= status < 500 and status not in (408, 429):
                gone.add(c.subscription_id)
            else:
                retry.append(c)
    await push_actions.settle(db, Outcomes(done, retry, sorted(gone)))
    return len(claimed)


#: The batch being sent by this process, per database: one at a time.
_inflight: dict[str, asyncio.Task[int]] = {}
#: How long the runner waits for a batch before going on with its other tasks (scheduled notes,
#: polls): a slow push service (up to ``push_sending.TIMEOUT`` per message) must not hold them up.
RUNNER_WAIT = 1.0


@periodic("push.deliver")
async def deliver_job(db: Database, settings: Settings) -> int:
    running = _inflight.get(db.url)
    if running is not None and not running.done():
        return 0
    task = asyncio.create_task(deliver_due(db, settings), name="cordee-push")
    _inflight[db.url] = task
    done, _ = await asyncio.wait({task}, timeout=RUNNER_WAIT)
    return task.result() if done else 0
