"""Record which version of its format's reader made each document's text (`documents.reader`).

A newer reader makes better text of the same file (PDF hyphens, table rows, footnotes); the library
offers a re-index of the documents an older one read (crew.documents.library.Library.outdated). Rows
already there get 0: read before readers were counted, so they are offered one too.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.get_bind().exec_driver_sql("ALTER TABLE documents ADD COLUMN IF NOT EXISTS reader integer NOT NULL DEFAULT 0")


def downgrade() -> None:
    raise NotImplementedError("Crew's schema moves forward only; restore a backup to go back")
