"""A note's thread on the hot read path (``db/hot.py``): its ancestors and its replies as the
reader may see them, from statements built once — the thread's shape (ids and parents, whoever
reads), then the live rows of those notes under ``visible_to``, the one rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, bindparam, select

from cordee.db.hot import HotQuery, HotReader
from cordee.db.tables import Status
from cordee.queries.pages import LivePage, live_rows, visible_one, with_originals
from cordee.queries.statuses import MAX_THREAD, reply_order
from cordee.queries.timelines import live_visible

_note: Any = bindparam("status_id", 0, type_=BigInteger())


def _walk(start: Any, step: Any) -> HotQuery:
    """``(id, in_reply_to_id)`` of the notes reached from the note ``status_id`` by ``step``."""
    walked = select(Status.id, Status.in_reply_to_id).where(start).cte("walked", recursive=True)
    walked = walked.union_all(select(Status.id, Status.in_reply_to_id).where(step(walked)))
    return HotQuery(select(walked.c.id, walked.c.in_reply_to_id).limit(MAX_THREAD))


#: The note and the chain of its parents, each with its own parent.
THREAD_UP = _walk(Status.id == _note, lambda walked: Status.id == walked.c.in_reply_to_id)
#: Every reply below the note, each with its parent.
THREAD_DOWN = _walk(Status.in_reply_to_id == _note, lambda walked: Status.in_reply_to_id == walked.c.id)


@dataclass(frozen=True)
class Thread:
    ancestors: LivePage  # oldest first
    descendants: LivePage  # depth first in reply order


async def thread(hot: HotReader, viewer: int | None, status_id: int) -> Thread | None:
    """The thread around a note the reader may see (None otherwise, as for a missing note): its
    parents up to the first one the reader may not see, and its replies but the branches below a
    reply the reader may not see (``queries.statuses.ancestors`` and ``descendants``' rule)."""
    if await visible_one(hot, viewer, status_id) is None:
        return None
    up = await hot.rows(THREAD_UP, status_id=status_id)
    down = await hot.rows(THREAD_DOWN, status_id=status_id)
    parents: dict[int, int | None] = {row[0]: row[1] for row in (*up, *down)}
    ids = [i for i in parents if i != status_id]
    seen = {row[0]: row for row in await live_rows(hot, ids, *live_visible(viewer))}
    chain = []
    parent = parents.get(status_id)
    while parent is not None and parent in seen:
        chain.append(seen[parent])
        parent = parents.get(parent)
    chain.reverse()
    replies = reply_order(status_id, [(row[0], row[1]) for row in down if row[0] in seen])
    return Thread(
        await with_originals(hot, chain, viewer=viewer),
        await with_originals(hot, [seen[i] for i in replies], viewer=viewer),
    )
