"""search: finer statistics of the notes' words on PostgreSQL

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 17:20:00

PostgreSQL estimates how many notes have a word from the most common words it samples
(``ANALYZE``): 10 times the column's statistics target, i.e. 1,000 words by default. Any other word
is taken to be in half as many notes as the rarest of those — ~1,900 of 1M notes in the search
benchmark, for words found in 100 to 300. Expecting that many, the planner walked the notes
newest first for the 20 matches of a rare word (60 ms over 1M notes, growing with the corpus)
instead of reading its few matches from the GIN index (1-10 ms). Sampling 10,000 words (target
1,000) brings the estimate of words outside them down to ~340 and makes ``ANALYZE`` of the table
~3 s longer over 1M notes. SQLite keeps no such statistics: nothing to do there.
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

STATISTICS_TARGET = 1000


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE status_search ALTER COLUMN tsv SET STATISTICS {STATISTICS_TARGET}")
    op.execute("ANALYZE status_search")  # now, not at autovacuum's next pass


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE status_search ALTER COLUMN tsv SET STATISTICS -1")
