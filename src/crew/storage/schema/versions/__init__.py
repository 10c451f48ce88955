"""Alembic revisions of the Postgres schema, oldest first (0001 is the schema as first released)."""
