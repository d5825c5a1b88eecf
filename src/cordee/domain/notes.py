"""A note as its author's post stored it (plain values, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class WrittenNote:
    """What a new note's entity shows, known to the post that stored it: its answer is rendered
    from this, not read back (``rendering.new_notes.render_written``). Only for a note without
    media or a poll (their entities are read)."""

    id: int
    account_id: int
    created_at: datetime
    content: str
    visibility: str
    sensitive: bool
    spoiler_text: str
    language: str | None
    in_reply_to_id: int | None
    in_reply_to_account_id: int | None
    application_id: int | None
    #: The accounts it mentions (id, username, domain), in the order their mentions were stored.
    mentions: tuple[tuple[int, str, str | None], ...]
    #: Its tags (id, display name as the tag's row has it).
    tags: tuple[tuple[int, str], ...]
