"""The library's rows in SQLite: one row per document of a workspace, with its status and heartbeat.

Only rows live here; `crew.documents.library.Library` decides what they mean (when a document is
listed, when an unfinished one is dead, what else goes when it goes). A second backend implements
`crew.storage.protocols.DocumentRecords` and the library runs on it unchanged. Every query names
its workspace.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path

from crew.storage.sql import SqlStore

SCHEMA = """
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
    reader       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace, doc_id),
    UNIQUE (workspace, content_hash)
)
"""
# Columns added since the table was first made, each with its default: a library file made before
# gets them when it is opened (SQLite's CREATE TABLE IF NOT EXISTS leaves an existing table as it is).
ADDED = {"reader": "INTEGER NOT NULL DEFAULT 0"}


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
    reader: int = 0  # the version of its format's reader that made its text (crew.documents.parsers.READERS)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Job:
    """Who is adding or removing a document, and when they last said they still were."""

    doc_id: str
    owner: str
    heartbeat: float


def _document(row: sqlite3.Row) -> Document:
    return Document(
        workspace=row["workspace"], doc_id=row["doc_id"], name=row["name"], format=row["format"], size=row["size"],
        content_hash=row["content_hash"], pages=row["pages"], rows=row["rows"], chunks=row["chunks"],
        status=row["status"], uploaded_at=row["uploaded_at"], seconds=row["seconds"], reader=row["reader"],
    )


def _columns(db) -> set[str]:
    """The columns the `documents` table has in this file (`db`: the store, or a transaction of it)."""
    return {r["name"] for r in db.rows("PRAGMA table_info(documents)")}


def _job(row: sqlite3.Row) -> Job:
    return Job(row["doc_id"], row["owner"], row["heartbeat"])


class DocumentsTable(SqlStore):
    """The `documents` table; safe to share between threads and processes."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(path, SCHEMA)
        if ADDED.keys() - _columns(self):  # an older file: add them under the write lock, looking again there,
            with self.transaction() as tx:  # since another process may have added them meanwhile
                for column in ADDED.keys() - _columns(tx):
                    tx.run(f"ALTER TABLE documents ADD COLUMN {column} {ADDED[column]}")

    def _one(self, sql: str, args: tuple) -> Document | None:
        row = self.row(sql, args)
        return _document(row) if row else None

    def ready(self, workspace: str) -> list[Document]:
        """A workspace's complete documents, newest first."""
        rows = self.rows("SELECT * FROM documents WHERE workspace = ? AND status = 'ready'"
                         " ORDER BY uploaded_at DESC, name", (workspace,))
        return [_document(r) for r in rows]

    def get(self, workspace: str, doc_id: str) -> Document | None:
        return self._one("SELECT * FROM documents WHERE workspace = ? AND doc_id = ?", (workspace, doc_id))

    def by_hash(self, workspace: str, content_hash: str) -> Document | None:
        return self._one("SELECT * FROM documents WHERE workspace = ? AND content_hash = ?", (workspace, content_hash))

    def insert(self, workspace: str, doc_id: str, name: str, fmt: str, size: int, content_hash: str, *,
               now: float, owner: str) -> bool:
        """Add a row being ingested; False when the workspace already has this id or these bytes."""
        try:
            self.run("INSERT INTO documents (workspace, doc_id, name, format, size, content_hash, status, uploaded_at,"
                     " heartbeat, owner) VALUES (?, ?, ?, ?, ?, ?, 'ingesting', ?, ?, ?)",
                     (workspace, doc_id, name, fmt, size, content_hash, now, now, owner))
        except sqlite3.IntegrityError:
            return False
        return True

    def set_counts(self, workspace: str, doc_id: str, *, pages: int, rows: int, chunks: int, seconds: float,
                   reader: int) -> None:
        self.run("UPDATE documents SET pages = ?, rows = ?, chunks = ?, seconds = ?, reader = ?"
                 " WHERE workspace = ? AND doc_id = ?", (pages, rows, chunks, seconds, reader, workspace, doc_id))

    def beat(self, workspace: str, doc_id: str, now: float) -> None:
        """Renew an ingesting row's heartbeat."""
        self.run("UPDATE documents SET heartbeat = ? WHERE workspace = ? AND doc_id = ? AND status = 'ingesting'",
                 (now, workspace, doc_id))

    def finish(self, workspace: str, doc_id: str, *, pages: int, rows: int, chunks: int, seconds: float,
               reader: int, now: float) -> bool:
        """Mark an ingesting row ready; False when it is no longer ingesting (or gone)."""
        return self.run(
            "UPDATE documents SET status = 'ready', pages = ?, rows = ?, chunks = ?, seconds = ?, reader = ?,"
            " heartbeat = ? WHERE workspace = ? AND doc_id = ? AND status = 'ingesting'",
            (pages, rows, chunks, seconds, reader, now, workspace, doc_id),
        ) == 1

    def start_delete(self, workspace: str, doc_id: str, now: float) -> bool:
        """Mark a ready row as being deleted; False when the workspace has no such ready document."""
        return self.run("UPDATE documents SET status = 'deleting', heartbeat = ?"
                        " WHERE workspace = ? AND doc_id = ? AND status = 'ready'", (now, workspace, doc_id)) == 1

    def mark_deleting(self, workspace: str, doc_id: str) -> None:
        """Mark a row of any status as being deleted (a failed or dead upload on its way out)."""
        self.run("UPDATE documents SET status = 'deleting' WHERE workspace = ? AND doc_id = ?", (workspace, doc_id))

    def remove(self, workspace: str, doc_id: str) -> None:
        self.run("DELETE FROM documents WHERE workspace = ? AND doc_id = ?", (workspace, doc_id))

    def job(self, workspace: str, doc_id: str) -> Job | None:
        row = self.row("SELECT doc_id, owner, heartbeat FROM documents WHERE workspace = ? AND doc_id = ?",
                       (workspace, doc_id))
        return _job(row) if row else None

    def unfinished(self, workspace: str) -> list[Job]:
        """The rows of a workspace still being added or removed."""
        rows = self.rows("SELECT doc_id, owner, heartbeat FROM documents WHERE workspace = ? AND status != 'ready'",
                         (workspace,))
        return [_job(r) for r in rows]
