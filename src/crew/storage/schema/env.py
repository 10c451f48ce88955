"""Alembic's entry point for Crew's schema: run the revisions on the connection `ensure_schema` hands in.

That connection already holds the schema's advisory lock inside an open transaction, so every revision
of one upgrade runs in it and another instance sees the schema only once it is whole.
"""

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("Crew's schema is migrated by Crew itself (crew.storage.postgres.ensure_schema, at start);"
                     " to write a new revision: alembic -c src/crew/storage/schema/alembic.ini revision -m '...'")
context.configure(connection=connection, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
