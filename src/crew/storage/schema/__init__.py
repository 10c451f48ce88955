"""Crew's Postgres schema as alembic revisions (`versions/`), applied by `crew.storage.postgres.ensure_schema`."""
