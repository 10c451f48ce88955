"""The library's rows on Postgres: `crew.storage.documents_table.DocumentsTable`'s twin for a team.

One row per document of a workspace with its status, owner (host:pid) and heartbeat, so an instance
can tell an upload that another, dead instance left half-done (`crew.documents.library.Library` decides
that, on either backend). Every query names its workspace.
"""

from __future__ import annotations

from crew.storage.documents_table import Document, Job, _document, _job
from crew.storage.pg_sql import PgStore

class PgDocuments(PgStore):
    """The `documents` table in Postgres; safe to share between threads, processes and machines."""

    def _one(self, sql: str, args: tuple) -> Document | None:
        row = self.row(sql, args)
        return _document(row) if row else None

    def ready(self, workspace: str) -> list[Document]:
        rows = self.rows("SELECT * FROM documents WHERE workspace = %s AND status = 'ready'"
                         " ORDER BY uploaded_at DESC, name", (workspace,))
        return [_document(r) for r in rows]

    def get(self, workspace: str, doc_id: str) -> Document | None:
        return self._one("SELECT * FROM documents WHERE workspace = %s AND doc_id = %s", (workspace, doc_id))

    def by_hash(self, workspace: str, content_hash: str) -> Document | None:
        return self._one("SELECT * FROM documents WHERE workspace = %s AND content_hash = %s",
                         (workspace, content_hash))

    def insert(self, workspace: str, doc_id: str, name: str, fmt: str, size: int, content_hash: str, *,
               now: float, owner: str) -> bool:
        """Add a row being ingested; False when the workspace already has this id or these bytes."""
        return self.run(
            "INSERT INTO documents (workspace, doc_id, name, format, size, content_hash, status, uploaded_at,"
            " heartbeat, owner) VALUES (%s, %s, %s, %s, %s, %s, 'ingesting', %s, %s, %s) ON CONFLICT DO NOTHING",
            (workspace, doc_id, name, fmt, size, content_hash, now, now, owner)) == 1

    def set_counts(self, workspace: str, doc_id: str, *, pages: int, rows: int, chunks: int, seconds: float,
                   reader: int) -> None:
        self.run('UPDATE documents SET pages = %s, "rows" = %s, chunks = %s, seconds = %s, reader = %s'
                 " WHERE workspace = %s AND doc_id = %s", (pages, rows, chunks, seconds, reader, workspace, doc_id))

    def beat(self, workspace: str, doc_id: str, now: float) -> None:
        self.run("UPDATE documents SET heartbeat = %s WHERE workspace = %s AND doc_id = %s AND status = 'ingesting'",
                 (now, workspace, doc_id))

    def finish(self, workspace: str, doc_id: str, *, pages: int, rows: int, chunks: int, seconds: float,
               reader: int, now: float) -> bool:
        return self.run(
            'UPDATE documents SET status = \'ready\', pages = %s, "rows" = %s, chunks = %s, seconds = %s,'
            " reader = %s, heartbeat = %s WHERE workspace = %s AND doc_id = %s AND status = 'ingesting'",
            (pages, rows, chunks, seconds, reader, now, workspace, doc_id)) == 1

    def start_delete(self, workspace: str, doc_id: str, now: float) -> bool:
        return self.run("UPDATE documents SET status = 'deleting', heartbeat = %s"
                        " WHERE workspace = %s AND doc_id = %s AND status = 'ready'", (now, workspace, doc_id)) == 1

    def mark_deleting(self, workspace: str, doc_id: str) -> None:
        self.run("UPDATE documents SET status = 'deleting' WHERE workspace = %s AND doc_id = %s", (workspace, doc_id))

    def remove(self, workspace: str, doc_id: str) -> None:
        self.run("DELETE FROM documents WHERE workspace = %s AND doc_id = %s", (workspace, doc_id))

    def job(self, workspace: str, doc_id: str) -> Job | None:
        row = self.row("SELECT doc_id, owner, heartbeat FROM documents WHERE workspace = %s AND doc_id = %s",
                       (workspace, doc_id))
        return _job(row) if row else None

    def unfinished(self, workspace: str) -> list[Job]:
        rows = self.rows("SELECT doc_id, owner, heartbeat FROM documents WHERE workspace = %s AND status != 'ready'",
                         (workspace,))
        return [_job(r) for r in rows]
