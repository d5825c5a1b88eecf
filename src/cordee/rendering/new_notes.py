"""The answer to a post, rendered from what the post wrote.

A note just posted shows nothing its author's post does not know: its text as stored, its mentions
and tags, no counters yet, no reader's marks (nobody has seen it), and its author's counters.
Reading it back cost the answer four statements — the note under the visibility rule, its parts,
its body, the author's marks — about a quarter of a post's own time on PostgreSQL (py-spy, the
mix). So its body is built here by the same function a read builds it with
(``rendering.statuses.note_body``), kept in the cache for every later reader; the author's
counters are those the post's own count returned (``actions.statuses.Posted.author_counters``;
read only for a direct note, which counts nothing). A note with media or a poll takes the general
path (``WrittenNote`` is not made for it); a reply asks the author's marks, as it may belong to a
thread they muted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, bindparam, select

from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.hot import HotQuery
from cordee.db.tables import Application
from cordee.domain.notes import WrittenNote
from cordee.queries.pages import Live
from cordee.queries.timelines import ACCOUNT_LIVE
from cordee.rendering.marks import Marks, reader_marks
from cordee.rendering.statuses import account_bodies, assemble, mention_entity, note_body

_APPLICATION = HotQuery(
    select(Application.name, Application.website).where(
        Application.id == bindparam("id", 0, type_=BigInteger())
    )
)


async def _application(db: Database, application_id: int | None) -> dict[str, Any] | None:
    """The app a note was posted with, as its entity names it (kept: apps are never renamed)."""
    if application_id is None:
        return None
    found = db.entities.application(application_id)
    if found is None:
        rows = await db.hot.rows(_APPLICATION, id=application_id)
        if not rows:
            return None
        found = {"name": rows[0][0], "website": rows[0][1]}
        db.entities.put_application(application_id, found)
    return found


async def render_written(
    db: Database,
    settings: Settings,
    viewer_id: int,
    note: WrittenNote,
    author_counters: Sequence[tuple[Any, ...]] = (),
) -> dict[str, Any]:
    """The entity of ``note``, just posted by ``viewer_id``, as a read of it would render it;
    ``author_counters``: the author's counters as the post's own update returned them (one row:
    followers, following, notes, last note's time), else they are read."""
    author = note.account_id
    accounts = await account_bodies(db.hot, settings, db.entities, [author])
    body = note_body(
        settings,
        note.id,
        accounts[author]["username"],
        note.created_at,
        None,
        note.content,
        note.visibility,
        note.sensitive,
        note.spoiler_text,
        note.in_reply_to_id,
        note.in_reply_to_account_id,
        note.language,
        await _application(db, note.application_id),
        media=(),
        mentions=tuple(mention_entity(settings, *mentioned) for mentioned in note.mentions),
        tags=[display for _, display in note.tags],
        poll=False,
    )
    db.entities.put_status(note.id, None, body)
    if author_counters:
        [counters] = author_counters
    else:
        [(_, *read)] = await db.hot.rows(ACCOUNT_LIVE, ids=[author])
        counters = tuple(read)
    live = Live(note.id, author, None, None, 0, 0, 0, *counters)
    if note.in_reply_to_id is not None:  # in a thread the author may have muted
        marks = await reader_marks(db.hot, viewer_id, [note.id])
    else:
        marks = Marks(set(), set(), set(), set(), set())
    return assemble(viewer_id, live, body, accounts[author], None, marks, {}, {})
