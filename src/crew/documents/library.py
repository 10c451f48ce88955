"""The document library: which files each workspace holds, kept consistent with memory.

A document is listed only once all its chunks are stored (status `ready`). While it is being
added it is `ingesting`, while being removed `deleting`; a process that dies midway leaves such
a row behind, and the next look at that workspace after `stale_after_s` without a heartbeat
removes its chunks and the row. Every call names its workspace.

The rows live in a `DocumentRecords` store (`crew.storage.documents_table`, SQLite under the
data dir by default); each document's original bytes in an `OriginalStore` (files under the data
dir by default, Postgres rows with `CREW_DATABASE_URL`), so a re-index can read them again; they go
when the document goes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from crew.documents.originals import FileOriginals
from crew.documents.parsers import READERS
from crew.retrieval.memory import Memory, check_workspace
from crew.storage.documents_table import Document, DocumentsTable, Job
from crew.storage.files import DataFiles
from crew.storage.owners import owner_alive, process_owner
from crew.storage.protocols import DocumentRecords, OriginalStore

__all__ = ["Document", "Library", "read_by_older"]


def read_by_older(doc: Document) -> bool:
    """Whether an older reader of its format than today's made the document's text."""
    return doc.reader < READERS.get(doc.format, 0)


class Library:
    """The documents of each workspace, kept consistent with the memory that holds their chunks."""

    def __init__(self, records: DocumentRecords, memory: Memory, originals: OriginalStore,
                 clock: Callable[[], float] = time.time, stale_after_s: float = 600.0) -> None:
        self.records = records
        self.memory = memory
        self.originals = originals
        self.clock = clock
        self.stale_after_s = stale_after_s

    @classmethod
    def beside(cls, data_dir: Path, memory: Memory, records: DocumentRecords | None = None,
               originals: OriginalStore | None = None, **kwargs) -> "Library":
        """The library of a data dir: its rows in `records` and the uploads' bytes in `originals` (default:
        SQLite and files in the data dir)."""
        files = DataFiles(data_dir)
        return cls(records if records is not None else DocumentsTable(files.library), memory,
                   originals if originals is not None else FileOriginals(files.originals), **kwargs)

    def close(self) -> None:
        self.records.close()
        self.originals.close()

    def documents(self, workspace: str) -> list[Document]:
        """List a workspace's complete documents, newest first."""
        check_workspace(workspace)
        self.sweep(workspace)
        return self.records.ready(workspace)

    def outdated(self, workspace: str) -> list[Document]:
        """A workspace's documents whose text an older reader of their format made: a re-index reads them better."""
        return [d for d in self.documents(workspace) if read_by_older(d)]

    def get(self, workspace: str, doc_id: str) -> Document | None:
        return self.records.get(check_workspace(workspace), doc_id)

    def by_hash(self, workspace: str, content_hash: str) -> Document | None:
        return self.records.by_hash(check_workspace(workspace), content_hash)

    def claim(self, workspace: str, doc_id: str, name: str, fmt: str, size: int, content_hash: str) -> Document | None:
        """Record that a file is being added; return None if this caller may add it, else the row in the way."""
        check_workspace(workspace)
        now = self.clock()
        for _ in range(2):
            if self.records.insert(workspace, doc_id, name, fmt, size, content_hash, now=now, owner=process_owner()):
                return None
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

    def has_original(self, workspace: str, doc_id: str) -> bool:
        return self.originals.has(check_workspace(workspace), doc_id)

    def refresh(self, workspace: str, doc_id: str, *, pages: int, rows: int, chunks: int, seconds: float,
                reader: int) -> None:
        """Record what a re-index made of a listed document, and which reader read it."""
        self.records.set_counts(check_workspace(workspace), doc_id, pages=pages, rows=rows, chunks=chunks,
                                seconds=seconds, reader=reader)

    def heartbeat(self, workspace: str, doc_id: str) -> None:
        """Say an ingest is still alive, so no other process sweeps it away."""
        self.records.beat(check_workspace(workspace), doc_id, self.clock())

    def finish(self, workspace: str, doc_id: str, *, pages: int, rows: int, chunks: int, seconds: float,
               reader: int) -> None:
        """List the document: every chunk is stored (its text made by version `reader` of its format's reader)."""
        if not self.records.finish(check_workspace(workspace), doc_id, pages=pages, rows=rows, chunks=chunks,
                                   seconds=seconds, reader=reader, now=self.clock()):
            raise RuntimeError("the library lost track of this upload (was it swept as stale?)")

    def abandon(self, workspace: str, doc_id: str) -> None:
        """Forget a failed upload: its chunks leave memory, then its row goes."""
        self._remove(workspace, doc_id)

    def delete(self, workspace: str, doc_id: str) -> bool:
        """Delete a document and its chunks; return False when the workspace has no such document."""
        check_workspace(workspace)
        if not self.records.start_delete(workspace, doc_id, self.clock()):
            return False
        self._remove(workspace, doc_id)
        return True

    def _remove(self, workspace: str, doc_id: str) -> None:
        check_workspace(workspace)
        # If the memory cannot be reached the row stays as 'deleting' and a later sweep retries.
        self.records.mark_deleting(workspace, doc_id)
        self.memory.workspace(workspace).delete_document(doc_id, kinds=("documents",))  # where ingest puts them
        self.originals.delete(workspace, doc_id)
        self.records.remove(workspace, doc_id)

    def _dead(self, job: Job) -> bool:
        """An unfinished upload or deletion whose process is gone, or that stopped beating."""
        now = self.clock()
        if job.owner and not owner_alive(job.owner, job.heartbeat, now):
            return True
        return job.heartbeat < now - self.stale_after_s

    def _stale(self, workspace: str, doc_id: str) -> bool:
        job = self.records.job(workspace, doc_id)
        return job is not None and self._dead(job)

    def _reclaim(self, workspace: str, doc_id: str) -> None:
        try:
            self._remove(workspace, doc_id)
        except Exception:
            pass  # memory unreachable: the row stays, the next sweep tries again

    def sweep(self, workspace: str) -> int:
        """Remove uploads and deletions of this workspace that died midway; return how many."""
        check_workspace(workspace)
        dead = [job for job in self.records.unfinished(workspace) if self._dead(job)]
        for job in dead:
            self._reclaim(workspace, job.doc_id)
        return len(dead)
