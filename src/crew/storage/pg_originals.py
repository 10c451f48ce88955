"""The original bytes of uploads on Postgres: `crew.documents.originals.FileOriginals`'s twin for a team.

With `CREW_DATABASE_URL` an instance keeps nothing another needs on its own disk, so the file a person
uploaded on one instance is a `bytea` row here, keyed by workspace and document, and any instance can
re-index it. Uploads are already bounded (`max_upload_mb`, the UI's `server.maxUploadSize`: hundreds of
MB at most) well below Postgres's 1 GB per value; a row is written and read whole, in one statement.
"""

from __future__ import annotations

from crew.retrieval.memory import check_workspace
from crew.storage.pg_sql import PgStore

class PgOriginals(PgStore):
    """Each uploaded file's bytes, one row per document; written whole or not at all (one statement)."""

    @staticmethod
    def _key(workspace: str, doc_id: str) -> tuple[str, str]:
        if not doc_id or not doc_id.isalnum():  # doc ids are hex digests, as FileOriginals checks
            raise ValueError(f"bad document id {doc_id!r}")
        return check_workspace(workspace), doc_id

    def put(self, workspace: str, doc_id: str, data: bytes) -> None:
        self.run("INSERT INTO originals (workspace, doc_id, data) VALUES (%s, %s, %s)"
                 " ON CONFLICT (workspace, doc_id) DO UPDATE SET data = excluded.data",
                 (*self._key(workspace, doc_id), bytes(data)))

    def get(self, workspace: str, doc_id: str) -> bytes | None:
        row = self.row("SELECT data FROM originals WHERE workspace = %s AND doc_id = %s", self._key(workspace, doc_id))
        return bytes(row["data"]) if row else None

    def has(self, workspace: str, doc_id: str) -> bool:
        """Whether a document's bytes are kept, without reading them."""
        return self.row("SELECT 1 FROM originals WHERE workspace = %s AND doc_id = %s",
                        self._key(workspace, doc_id)) is not None

    def delete(self, workspace: str, doc_id: str) -> None:
        self.run("DELETE FROM originals WHERE workspace = %s AND doc_id = %s", self._key(workspace, doc_id))
