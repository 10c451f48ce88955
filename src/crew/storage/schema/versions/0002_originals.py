"""The uploads' original bytes in Postgres (any instance re-indexes any upload); keep pre-alembic Crews out.

A Crew from before alembic checks its own `crew_schema` rows at start and refuses a version newer than
its own; setting them past it makes such a Crew say "upgrade Crew" instead of writing to tables it
no longer knows. Nothing else reads `crew_schema`.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PRE_ALEMBIC_FENCE = 2  # those Crews knew version 1 of each store


def upgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql(
        "CREATE TABLE IF NOT EXISTS originals (workspace text NOT NULL, doc_id text NOT NULL, data bytea NOT NULL,"
        " PRIMARY KEY (workspace, doc_id))")
    # Already compressed formats (pdf, docx) gain nothing from TOAST's compression; skip the attempt.
    bind.exec_driver_sql("ALTER TABLE originals ALTER COLUMN data SET STORAGE EXTERNAL")
    bind.exec_driver_sql(
        "CREATE TABLE IF NOT EXISTS crew_schema (component text PRIMARY KEY, version integer NOT NULL,"
        " updated timestamptz NOT NULL DEFAULT now())")
    bind.exec_driver_sql(
        "INSERT INTO crew_schema (component, version) SELECT c, %(v)s FROM unnest(ARRAY['chats', 'traces',"
        " 'documents', 'keywords', 'originals']) AS c ON CONFLICT (component) DO UPDATE SET version = %(v)s,"
        " updated = now()" % {"v": PRE_ALEMBIC_FENCE})


def downgrade() -> None:
    raise NotImplementedError("Crew's schema moves forward only; restore a backup to go back")
