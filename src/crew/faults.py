"""Name the part of the machine that failed, and what to do about it, when the fault is not the person's input.

Three operator faults reach the app from below, each as whatever the library in the way raises
(an OSError, a sqlite3 error, a chromadb or httpx error, sometimes wrapped twice):

- the disk holding the data dir is full (ENOSPC, SQLite's "database or disk is full");
- the data dir is read-only or cannot be written (EROFS, SQLite's "readonly database");
- the Chroma server (`CHROMA_HOST`/`CHROMA_PORT`) does not answer;
- the database of `CREW_DATABASE_URL` is unreachable, refuses the login, or is not a Postgres URL
  (`crew.storage.postgres.DatabaseError`, or psycopg's OperationalError once the app runs).

`explain(exc, ...)` walks the exception's chain and returns a `Fault` with one message a person
can act on, or None when the error is something else (then it is ours, and keeps its traceback).
"""

from __future__ import annotations

import errno
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

FaultKind = Literal["disk_full", "read_only", "chroma_down", "database_down"]

# What SQLite and Chroma's own SQLite (which reports through chromadb's InternalError text) say.
_DISK_FULL_TEXT = ("database or disk is full", "no space left on device", "disk quota exceeded")
_READ_ONLY_TEXT = ("readonly database", "read-only database", "read-only file system", "unable to open database file")
_CHROMA_DOWN_TEXT = ("could not connect to a chroma server",)
_CONNECTION_ERRORS = ("ConnectError", "ConnectTimeout", "RemoteProtocolError", "ReadError")


@dataclass(frozen=True)
class Fault:
    """An operator fault: which part failed (`part`, e.g. "data dir"), where, and the whole message."""

    kind: FaultKind
    part: str  # "data dir" | "Chroma server" | "database"
    where: str  # the path, host:port, or the database URL with its password masked
    message: str

    def to_json(self) -> dict[str, str]:
        return {"error": self.message, "part": self.part, "where": self.where}


def _chain(exc: BaseException | None):
    """The exception, then its causes and contexts (each once)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen and len(seen) < 10:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def fault_kind(exc: BaseException, chroma_server: bool = False) -> FaultKind | None:
    """Which operator fault an exception shows, if any. `chroma_server`: Chroma is a server, not a folder."""
    for e in _chain(exc):
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return "disk_full"
        if isinstance(e, OSError) and e.errno == errno.EROFS:
            return "read_only"
        name = getattr(e, "sqlite_errorname", "") if isinstance(e, sqlite3.Error) else ""
        if name.startswith("SQLITE_FULL"):
            return "disk_full"
        if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN")):
            return "read_only"
        text = str(e).lower()
        if any(t in text for t in _DISK_FULL_TEXT):
            return "disk_full"
        if any(t in text for t in _READ_ONLY_TEXT):
            return "read_only"
        if chroma_server and (any(t in text for t in _CHROMA_DOWN_TEXT) or (_connection_error(e) and _from_chromadb(e))):
            return "chroma_down"
    return None


def _connection_error(e: BaseException) -> bool:
    return isinstance(e, ConnectionError) or type(e).__name__ in _CONNECTION_ERRORS


def _from_chromadb(e: BaseException) -> bool:
    """True when the error was raised on its way through chromadb (and not, say, from a model server's client)."""
    tb = e.__traceback__
    while tb is not None:
        if "chromadb" in tb.tb_frame.f_code.co_filename:
            return True
        tb = tb.tb_next
    return False


def _database_fault(exc: BaseException, database_url: str | None) -> Fault | None:
    """The database fault behind `exc`: a store could not open (DatabaseError says why, naming the
    setting), or a running store lost the server (psycopg's OperationalError)."""
    from crew.redact import redact, url_for_display

    for e in _chain(exc):
        name = type(e).__name__
        module = type(e).__module__ or ""
        if name == "DatabaseError" and module == "crew.storage.postgres":
            where = url_for_display(database_url) if database_url else "CREW_DATABASE_URL"
            return Fault("database_down", "database", where, redact(str(e)) + ": fix CREW_DATABASE_URL or start the"
                         " database, then try again")
        if database_url and module.startswith("psycopg") and name in ("OperationalError", "PoolTimeout"):
            where = url_for_display(database_url)
            said = redact(str(e).strip().splitlines()[0]) if str(e).strip() else name
            return Fault("database_down", "database", where,
                         f"the database in CREW_DATABASE_URL ({where}) does not answer ({said}): start it or fix the"
                         " setting, then try again")
    return None


def leaves_storage_unusable(exc: BaseException) -> bool:
    """A write failed for want of a writable disk: nothing more should be asked of the stores in this process.

    Chroma's embedded client can block for ever on its next call after a write that hit a full disk
    (seen: `Collection.get` never returning), so clean-up of what was half stored is left to the
    next process, which finds the upload's owner gone and sweeps it (crew.documents.library).
    """
    return fault_kind(exc) in ("disk_full", "read_only")


def explain(exc: BaseException, data_dir: Path | str, chroma_host: str | None = None,
            chroma_port: int | None = None, database_url: str | None = None) -> Fault | None:
    """Return the operator fault behind `exc`, with its message, or None if it is not one."""
    database = _database_fault(exc, database_url)
    if database is not None:
        return database
    kind = fault_kind(exc, chroma_server=bool(chroma_host))
    where = str(Path(data_dir).expanduser().resolve())
    if kind == "disk_full":
        return Fault(kind, "data dir", where,
                     f"the disk holding the data dir {where} is full: free some space there (or point CREW_DATA_DIR "
                     "at a disk with room), then try again")
    if kind == "read_only":
        return Fault(kind, "data dir", where,
                     f"the data dir {where} is read-only or cannot be written: make it writable for the user running "
                     "Crew (or point CREW_DATA_DIR at a writable folder), then try again")
    if kind == "chroma_down":
        server = f"{chroma_host}:{chroma_port or 8000}"
        return Fault(kind, "Chroma server", server,
                     f"the Chroma server at {server} does not answer: start it (`chroma run --host {chroma_host} "
                     f"--port {chroma_port or 8000} --path DIR`) or point CHROMA_HOST/CHROMA_PORT at a running one, "
                     "then try again")
    return None


def explain_for(exc: BaseException, settings) -> Fault | None:
    """`explain` with the data dir, Chroma server and database of a Settings."""
    url = getattr(settings, "database_url", None)
    return explain(exc, settings.data_dir, settings.chroma_host, settings.chroma_port,
                   url.get_secret_value() if url is not None else None)


def explainer(settings) -> Callable[[BaseException], str | None]:
    """A function giving the message of an operator fault under these settings, or None (for ingest's reports)."""

    def message(exc: BaseException) -> str | None:
        fault = explain_for(exc, settings)
        return fault.message if fault else None

    return message
