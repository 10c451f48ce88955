"""The document library: which files each workspace holds, in SQLite under the data dir.

A document is listed only once all its chunks are stored (status `ready`). While it is being
added it is `ingesting`, while being removed `deleting`; a process that dies midway leaves such
a row behind, and the next look at that workspace after `stale_after_s` without a heartbeat
removes its chunks and the row. Every query here names its workspace.

Each document's original bytes are kept in an `OriginalStore` (files under the data dir by
default), so a re-index can read them again; they go when the document goes.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from crew.storage.files import DataFiles
from crew.storage.sql import SqlStore
from crew.retrieval.memory import Memory, check_workspace
from crew.documents.originals import FileOriginals, OriginalStore
from crew.storage.owners import owner_alive, process_owner

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    workspace    TEXT NOT NULL,
    doc_id       TEXT NOT NULL,
    name         TEXT NOT NULL,
    format       TEXT NOT NULL DEFAULT '',
    size         INTEGER NOT NULL DEFAULT 0,
    content_hash TEXT NOT NULL,
    pages        INTEGER NOT NULL DEFAULT 0,
    rows         INTEGER NOT NULL DEFAULT 0,
    chunks       INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL,
    uploaded_at  REAL NOT NULL,
    heartbeat    REAL NOT NULL,
    owner        TEXT NOT NULL DEFAULT '',
    seconds      REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace, doc_id),
    UNIQUE (workspace, content_hash)
)
"""


@dataclass(frozen=True)
class Document:
    """One uploaded file as the library lists it."""

    workspace: str
    doc_id: str
    name: str
    format: str
    size: int
    content_hash: str
    pages: int
    rows: int
    chunks: int
    status: str  # ingesting | ready | deleting
    uploaded_at: float
    seconds: float

    def to_dict(self) -> dict:
        return asdict(self)


def _document(row: sqlite3.Row) -> Document:
    return Document(
        workspace=row["workspace"], doc_id=row["doc_id"], name=row["name"], format=row["format"], size=row["size"],
        content_hash=row["content_hash"], pages=row["pages"], rows=row["rows"], chunks=row["chunks"],
        status=row["status"], uploaded_at=row["uploaded_at"], seconds=row["seconds"],
    )


class Library(SqlStore):
    """The documents table, kept consistent with the memory that holds their chunks."""

    def __init__(self, path: Path, memory: Memory, clock: Callable[[], float] = time.time,
                 stale_after_s: float = 600.0, originals: OriginalStore | None = None) -> None:
        super().__init__(Path(path), _SCHEMA)
        self.memory = memory
        self.originals: OriginalStore = (originals if originals is not None
                                          else FileOriginals(DataFiles(Path(path).parent).originals))
        self.clock = clock
        self.stale_after_s = stale_after_s

    @classmethod
    def beside(cls, data_dir: Path, memory: Memory, **kwargs) -> "Library":
        return cls(DataFiles(data_dir).library, memory, **kwargs)

    def _one(self, sql: str, args: tuple) -> Document | None:
        row = self.row(sql, args)
        return _document(row) if row else None

    def documents(self, workspace: str) -> list[Document]:
        """List a workspace's complete documents, newest first."""
        check_workspace(workspace)
        self.sweep(workspace)
        rows = self.rows(
            "SELECT * FROM documents WHERE workspace = ? AND status = 'ready' ORDER BY uploaded_at DESC, name",
            (workspace,),
        )
        return [_document(r) for r in rows]

    def get(self, workspace: str, doc_id: str) -> Document | None:
        return self._one("SELECT * FROM documents WHERE workspace = ? AND doc_id = ?", (check_workspace(workspace), doc_id))

    def by_hash(self, workspace: str, content_hash: str) -> Document | None:
        return self._one("SELECT * FROM documents WHERE workspace = ? AND content_hash = ?",
                         (check_workspace(workspace), content_hash))

    def claim(self, workspace: str, doc_id: str, name: str, fmt: str, size: int, content_hash: str) -> Document | None:
        """Record that a file is being added; return None if this caller may add it, else the row in the way."""
        check_workspace(workspace)
        now = self.clock()
        for _ in range(2):
            try:
                self.run(
                    "INSERT INTO documents (workspace, doc_id, name, format, size, content_hash, status, uploaded_at,"
                    " heartbeat, owner) VALUES (?, ?, ?, ?, ?, ?, 'ingesting', ?, ?, ?)",
                    (workspace, doc_id, name, fmt, size, content_hash, now, now, process_owner()),
                )
                return None
            except sqlite3.IntegrityError:
                existing = self.by_hash(workspace, content_hash) or self.get(workspace, doc_id)
                if existing is None:
                    continue  # removed between our insert and our look: try once more
                if existing.status == "ready" or not self._stale(workspace, existing.doc_id):
                    return existing
                self._reclaim(workspace, existing.doc_id)
        return self.by_hash(workspace, content_hash)

    def keep_original(self, workspace: str, doc_id: str, data: bytes) -> None:
        """Keep a document's file as uploaded, for a later re-index."""
        self.originals.put(check_workspace(workspace), doc_id, data)

    def original(self, workspace: str, doc_id: str) -> bytes | None:
        """A document's file as uploaded; None for documents added before originals were kept."""
        return self.originals.get(check_workspace(workspace), doc_id)

    def refresh(self, workspace: str, doc_id: str, *, pages: int, rows: int, chunks: int, seconds: float) -> None:
        """Record what a re-index made of a listed document."""
        self.run("UPDATE documents SET pages = ?, rows = ?, chunks = ?, seconds = ? WHERE workspace = ? AND doc_id = ?",
                 (pages, rows, chunks, seconds, check_workspace(workspace), doc_id))

    def heartbeat(self, workspace: str, doc_id: str) -> None:
        """Say an ingest is still alive, so no other process sweeps it away."""
        self.run("UPDATE documents SET heartbeat = ? WHERE workspace = ? AND doc_id = ? AND status = 'ingesting'",
                 (self.clock(), check_workspace(workspace), doc_id))

    def finish(self, workspace: str, doc_id: str, *, pages: int, rows: int, chunks: int, seconds: float) -> None:
        """List the document: every chunk is stored."""
        changed = self.run(
            "UPDATE documents SET status = 'ready', pages = ?, rows = ?, chunks = ?, seconds = ?, heartbeat = ?"
            " WHERE workspace = ? AND doc_id = ? AND status = 'ingesting'",
            (pages, rows, chunks, seconds, self.clock(), check_workspace(workspace), doc_id),
        )
        if changed != 1:
            raise RuntimeError("the library lost track of this upload (was it swept as stale?)")

    def abandon(self, workspace: str, doc_id: str) -> None:
        """Forget a failed upload: its chunks leave memory, then its row goes."""
        self._remove(workspace, doc_id)

    def delete(self, workspace: str, doc_id: str) -> bool:
        """Delete a document and its chunks; return False when the workspace has no such document."""
        check_workspace(workspace)
        changed = self.run(
            "UPDATE documents SET status = 'deleting', heartbeat = ? WHERE workspace = ? AND doc_id = ? AND status = 'ready'",
            (self.clock(), workspace, doc_id),
        )
        if changed != 1:
            return False
        self._remove(workspace, doc_id)
        return True

    def _remove(self, workspace: str, doc_id: str) -> None:
        check_workspace(workspace)
        # If the memory cannot be reached the row stays as 'deleting' and a later sweep retries.
        self.run("UPDATE documents SET status = 'deleting' WHERE workspace = ? AND doc_id = ?", (workspace, doc_id))
        self.memory.workspace(workspace).delete_document(doc_id, kinds=("documents",))  # where ingest puts them
        self.originals.delete(workspace, doc_id)
        self.run("DELETE FROM documents WHERE workspace = ? AND doc_id = ?", (workspace, doc_id))

    def _dead(self, row: sqlite3.Row) -> bool:
        """An unfinished upload or deletion whose process is gone, or that stopped beating."""
        now = self.clock()
        if row["owner"] and not owner_alive(row["owner"], row["heartbeat"], now):
            return True
        return row["heartbeat"] < now - self.stale_after_s

    def _stale(self, workspace: str, doc_id: str) -> bool:
        row = self.row("SELECT heartbeat, owner FROM documents WHERE workspace = ? AND doc_id = ?", (workspace, doc_id))
        return row is not None and self._dead(row)

    def _reclaim(self, workspace: str, doc_id: str) -> None:
        try:
            self._remove(workspace, doc_id)
        except Exception:
            pass  # memory unreachable: the row stays, the next sweep tries again

    def sweep(self, workspace: str) -> int:
        """Remove uploads and deletions of this workspace that died midway; return how many."""
        check_workspace(workspace)
        rows = self.rows("SELECT doc_id, heartbeat, owner FROM documents WHERE workspace = ? AND status != 'ready'",
                         (workspace,))
        rows = [row for row in rows if self._dead(row)]
        for row in rows:
            self._reclaim(workspace, row["doc_id"])
        return len(rows)
