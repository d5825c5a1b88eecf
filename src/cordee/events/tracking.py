"""The event of tracked searches (the listening issue): joins the codec by subclassing ``Event``."""

from __future__ import annotations

from dataclasses import dataclass

from cordee.events.types import Event


@dataclass(frozen=True)
class TrackedMatched(Event):
    """A note was matched by these tracked searches (their owners may see it); the hub sends it to
    the live columns (``cordee:tracked`` streams) whose reader may see it too."""

    status_id: int
    tracked_search_ids: tuple[int, ...]
    kind = "tracked.matched"


@dataclass(frozen=True)
class TrackedSearchesChanged(Event):
    """A tracked search was created, re-queried or deleted: every process reloads the searches it
    matches new notes against."""

    tracked_search_id: int
    kind = "tracked.searches_changed"
