"""Live columns: the ``cordee:tracked`` stream of a tracked search (``?id=``), a Cordée extension.

A ``TrackedMatched`` event (published after the posting transaction recorded the match) goes to the
connections subscribed to ``("tracked", id)`` for each search it names, as Mastodon's ``update``
event with the note's entity. The search's owner may see the note (the match was recorded under
that rule); a team member reading a shared column is asked the same rule again — ``visible_to``
through ``viewers_who_see``, one statement for every connected reader — so a column never shows a
reader a note they could not open. A note is rendered once for everyone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.db.tables import Status
from cordee.db.tables_tracking import TrackedSearch
from cordee.events.tracking import TrackedMatched
from cordee.queries.tracking import members_of
from cordee.queries.visibility import viewers_who_see, visible_to
from cordee.rendering.statuses import render_statuses
from cordee.streaming.channels import Key
from cordee.streaming.frames import frame

if TYPE_CHECKING:
    from cordee.streaming.connections import Connection
    from cordee.streaming.hub import Hub


async def members_now(session: AsyncSession, search_ids: list[int]) -> dict[int, set[int]]:
    """Who may read each search now: its owner and its members."""
    found: dict[int, set[int]] = {i: set() for i in search_ids}
    for search_id, owner_id in await session.execute(
        select(TrackedSearch.id, TrackedSearch.account_id).where(TrackedSearch.id.in_(search_ids))
    ):
        found[search_id].add(owner_id)
    for search_id, members in (await members_of(session, search_ids)).items():
        found[search_id].update(members)
    return found


def _visible(viewer: Any) -> Any:
    return select(Status).where(visible_to(viewer))


async def on_match(hub: Hub, event: TrackedMatched) -> None:
    pairs: list[tuple[Connection, Key]] = []
    for search_id in event.tracked_search_ids:
        key: Key = ("tracked", search_id)
        pairs += [(c, key) for c in hub.subscribers(key)]
    if not pairs:
        return
    async with hub.db.read() as session:
        # Still the owner or a member now (a member may have left, or been removed, since the
        # stream opened), and allowed to see the note.
        keep = await members_now(session, list(event.tracked_search_ids))
        pairs = [(c, key) for c, key in pairs if c.account_id in keep.get(int(str(key[1])), set())]
        readers = sorted({c.account_id for c, _ in pairs})
        if not readers:
            return
        allowed = set(await session.scalars(viewers_who_see(event.status_id, readers, _visible)))
        pairs = [(c, key) for c, key in pairs if c.account_id in allowed]
        if not pairs:
            return
        status = await session.get(Status, event.status_id)
        if status is None:
            return  # deleted before we got to it
        entity = (await render_statuses(session, hub.settings, None, [status], any_reader=True))[0]
    payload = orjson.dumps(entity).decode()
    for connection, key in pairs:
        stream = connection.streams.get(key)
        if stream is not None:
            connection.send(frame(connection.transport, stream, "update", payload))
