"""Full-text search of notes, accounts and hashtags (the search issue)."""

from __future__ import annotations
