"""Open the app's SQLite files and use them one way everywhere, so no store fails with "locked".

Several stores share one file (chats and traces both live in crew.sqlite) and several processes
share the data dir. In WAL mode a connection that still has a half-read SELECT open holds an old
snapshot; when it then writes while another connection has committed since, SQLite answers
SQLITE_BUSY_SNAPSHOT ("database is locked") at once, without waiting for the busy timeout. So
every store goes through `SqlStore`: a read fetches all its rows before the connection is let go,
and anything that reads and then writes (or writes several rows) runs in a `BEGIN IMMEDIATE`
transaction, which takes the write lock first and so waits its turn instead of failing.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

BUSY_TIMEOUT_MS = 30_000
# Reads again after "vtable constructor failed" (another connection changed the schema) up to this many times, waiting
# 10 ms more each time (0.66 s in all): with 5 (0.1 s), a search failed in a clean-clone run of the test that makes 150
# workspaces' tables while six threads search (tests/retrieval/test_search_threads.py).
SCHEMA_RETRIES = 12


def connect(path: Path | str) -> sqlite3.Connection:
    """Open a connection usable from any thread; callers serialise its use with their own lock.

    `":memory:"` opens a private in-memory database (tests, throwaway clients).
    """
    if str(path) == ":memory:":
        conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    else:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.row_factory = sqlite3.Row
    return conn


class Tx:
    """The statements of one transaction (only valid inside `SqlStore.transaction`)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self._conn.execute(sql, args).fetchall()

    def row(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Row | None:
        rows = self.rows(sql, args)
        return rows[0] if rows else None

    def run(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Run one statement; return how many rows it changed."""
        return self._conn.execute(sql, args).rowcount

    def run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)


class SqlStore:
    """One SQLite connection behind one lock; every store of the app is built on it.

    Subclasses pass their schema, and may pass `translate` to turn sqlite3 errors into their own
    error type (the trace store names itself in what the person reads), and `parallel_reads` when
    many threads search at once (the keyword index): `rows` then reads on a connection per thread.
    """

    def __init__(self, path: Path | str, schema: str = "",
                 translate: Callable[[sqlite3.Error], Exception] | None = None, parallel_reads: bool = False) -> None:
        self.path = path
        self._translate = translate
        self._lock = threading.RLock()
        self._conn = self._guard(connect, path)
        # With parallel reads each thread reads on a connection of its own (WAL lets readers run
        # beside each other and beside the writer); an in-memory database has only the one.
        self._parallel = parallel_reads and str(path) != ":memory:"
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        if schema:
            with self.transaction() as tx:
                for statement in _statements(schema):
                    tx.run(statement)

    def _guard(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except sqlite3.Error as exc:
            if self._translate is None:
                raise
            raise self._translate(exc) from exc

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Run a query and return all its rows, read before the connection is let go."""
        if self._parallel:
            return self._guard(self._read, sql, args)
        with self._lock:
            return self._guard(lambda: self._conn.execute(sql, args).fetchall())

    def _read(self, sql: str, args: Sequence[Any]) -> list[sqlite3.Row]:
        for attempt in range(1, SCHEMA_RETRIES):
            try:
                return self._reader().execute(sql, args).fetchall()
            except sqlite3.OperationalError as exc:
                # Another connection changed the schema (a workspace's first keyword tables), and this one,
                # loading it again, failed to reconnect an FTS5 table it uses: a moment later it succeeds.
                if not str(exc).startswith("vtable constructor failed"):
                    raise
                time.sleep(0.01 * attempt)
        return self._reader().execute(sql, args).fetchall()

    def _reader(self) -> sqlite3.Connection:
        """This thread's own reading connection (opened on its first read, closed with the store)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = connect(self.path)
            with self._lock:
                self._readers.append(conn)
        return conn

    def row(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Row | None:
        rows = self.rows(sql, args)
        return rows[0] if rows else None

    def run(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Run one writing statement on its own (SQLite makes it atomic); return the rows changed."""
        with self._lock:
            return self._guard(lambda: self._conn.execute(sql, args).rowcount)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Tx]:
        """Read and write as one: the write lock is taken first, so the block waits rather than fails."""
        with self._lock:
            self._guard(self._conn.execute, "BEGIN IMMEDIATE")
            try:
                yield Tx(self._conn)
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error) and self._translate is not None:
                    raise self._translate(exc) from exc
                raise
            else:
                try:
                    self._guard(self._conn.execute, "COMMIT")
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        self._conn.execute("ROLLBACK")
                    raise

    def close(self) -> None:
        with self._lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
            self._conn.close()


def _statements(schema: str) -> list[str]:
    """Split a schema script into statements (no statement of ours holds a ';' inside it)."""
    return [s.strip() for s in schema.split(";") if s.strip()]
