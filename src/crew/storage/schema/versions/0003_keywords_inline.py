"""Keep each chunk's tsvector in its own row, so a keyword search does not read it from the TOAST table.

A chunk's row (its stems and the tsvector made of them, ~2.3 kB) passed Postgres's 2 kB threshold, and the
toaster moved the tsvector, the larger column, out of line. A search reads the tsvector of every chunk it
matches (the match, then BM25's term counts), so each matching chunk cost a TOAST index lookup and a
decompression: at 100k chunks, 3,151 matches of one question took 21 ms to rank, 5.5 ms with the tsvector
compressed in its row (bench/RESULTS.md, "Team scale on Postgres"). STORAGE MAIN keeps it in the row and
lets the stems, which searches never read, go out of line instead. The rows already written are rewritten
once (the tsvector is generated again from the stems) so they get the new layout too.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql("ALTER TABLE crew_keyword_chunks ALTER COLUMN tsv SET STORAGE MAIN")
    bind.exec_driver_sql("UPDATE crew_keyword_chunks SET stems = stems")


def downgrade() -> None:
    raise NotImplementedError("Crew's schema moves forward only; restore a backup to go back")
