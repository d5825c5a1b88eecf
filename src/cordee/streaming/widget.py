"""Anonymous streams for the blog widget: an account's or a hashtag's public notes.

No token and no cookie: a widget connection belongs to no account (``ANONYMOUS``, an id no account
has). Its routing keys are ``("widget", "account", id)`` and ``("widget", "tag", name)``. Whether a
new or edited note goes to them is the answer of ``queries.widget.widget_query`` — the very
statement ``GET /widget/notes`` reads — asked once per note, not once per connection: every
anonymous reader sees the same thing. Deletes of public notes reach every note stream already
(``Hub._on_delete``), these included. Heartbeats and the bounded queue are the hub's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from cordee.db.tables import Status
from cordee.domain.text import normalize_tag
from cordee.queries.widget import widget_query
from cordee.rendering.statuses import render_statuses
from cordee.rendering.widget import compact_note
from cordee.streaming.channels import Channel, Key

if TYPE_CHECKING:
    from cordee.streaming.hub import Hub

#: The account id of anonymous connections (snowflake ids are never 0).
ANONYMOUS = 0


def widget_channel(*, account_id: int | None = None, tag: str | None = None) -> Channel:
    if account_id is not None:
        return Channel(("widget", "account", account_id), ("widget",), "")
    assert tag is not None
    return Channel(("widget", "tag", normalize_tag(tag)), ("widget",), "")


async def on_status(hub: Hub, event: Any, name: str) -> None:
    """A note was posted (``update``) or edited (``status.update``): send its compact form to the
    widget streams that show it."""
    if event.visibility != "public" or getattr(event, "reblog_of_id", None) is not None:
        return
    keys: list[Key] = [("widget", "account", event.account_id)]
    keys += [("widget", "tag", normalize_tag(tag)) for tag in event.tags]
    open_keys = [key for key in keys if hub.subscribers(key)]
    if not open_keys:
        return
    async with hub.db.read() as session:
        status = await session.get(Status, event.status_id)
        if status is None:
            return
        shown: list[Key] = []
        for key in open_keys:
            query = (
                widget_query(account_id=int(str(key[2])))
                if key[1] == "account"
                else widget_query(tag=str(key[2]))
            )
            if await session.scalar(query.where(Status.id == status.id).with_only_columns(Status.id)):
                shown.append(key)
        if not shown:
            return
        rendered = await render_statuses(session, hub.settings, None, [status])
    if not rendered:
        return
    payload = orjson.dumps(compact_note(hub.settings, rendered[0])).decode()
    for key in shown:
        for connection in list(hub.subscribers(key)):
            connection.send(f"event: {name}\ndata: {payload}\n\n")
