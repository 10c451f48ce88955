"""The Postgres counterpart of `crew.storage.sql.SqlStore`: the base of the Postgres chat, trace and library stores.

Each store brings the schema to head as it opens (`crew.storage.postgres.ensure_schema`: alembic, under
an advisory lock, once per process) and runs its statements on a `psycopg_pool.ConnectionPool`. Several stores of one
process share one pool per database URL (`shared_pool`), so a process holds a handful of connections,
not one set per store. Rows come back as dicts, read by column name as the SQLite rows are, so the
stores reuse the SQLite modules' row converters (`_chat`, `_turn`, `_document`, ...).

A statement or transaction borrows a connection for its duration only: the pool's `check` replaces a
connection the server dropped (a restart), so the next call after an outage works again.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Callable, Iterator, Sequence

from crew.storage.postgres import ensure_schema, open_pool

_pools: dict[str, Any] = {}
_users: dict[str, int] = {}
_pools_lock = threading.Lock()


def shared_pool(url: str):
    """This process's pool on `url` (opened on first use); give it back with `release_pool`."""
    with _pools_lock:
        pool = _pools.get(url)
        if pool is None or pool.closed:
            pool = _pools[url] = open_pool(url, max_size=8, name="crew-stores")
            _users[url] = 0
        _users[url] += 1
        return pool


def release_pool(url: str) -> None:
    """One user fewer of `url`'s shared pool; the last one closes it."""
    with _pools_lock:
        _users[url] = _users.get(url, 1) - 1
        if _users[url] <= 0:
            pool = _pools.pop(url, None)
            _users.pop(url, None)
            if pool is not None:
                pool.close()


def _paramstyle(sql: str) -> str:
    # Stores shared with SQLite write `?` placeholders (crew.storage.chats.ChatRecords); psycopg takes `%s`.
    return sql.replace("?", "%s")


class PgTx:
    """The statements of one transaction (only valid inside `PgStore.transaction`)."""

    def __init__(self, conn) -> None:
        self._conn = conn

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        from psycopg.rows import dict_row

        with self._conn.cursor(row_factory=dict_row) as cur:
            cur.execute(_paramstyle(sql), args)
            return cur.fetchall() if cur.description else []

    def row(self, sql: str, args: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self.rows(sql, args)
        return rows[0] if rows else None

    def run(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Run one statement; return how many rows it changed."""
        return self._conn.execute(_paramstyle(sql), args).rowcount


class PgStore:
    """A store on a Postgres database: the schema at head, every call one short transaction.

    `translate` turns psycopg errors into the store's own error type, as `SqlStore`'s does sqlite3's.
    """

    def __init__(self, url: str, translate: Callable[[Exception], Exception] | None = None) -> None:
        self.url = url
        self._translate = translate
        self._pool = shared_pool(url)
        self._closed = False
        try:
            ensure_schema(url)
        except BaseException:
            self.close()
            raise

    @contextlib.contextmanager
    def transaction(self) -> Iterator[PgTx]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        import psycopg

        try:
            with self._pool.connection() as conn, conn.transaction():
                yield PgTx(conn)
        except psycopg.Error as exc:
            if self._translate is None:
                raise
            raise self._translate(exc) from exc

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.transaction() as tx:
            return tx.rows(sql, args)

    def row(self, sql: str, args: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self.rows(sql, args)
        return rows[0] if rows else None

    def run(self, sql: str, args: Sequence[Any] = ()) -> int:
        with self.transaction() as tx:
            return tx.run(sql, args)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            release_pool(self.url)
