"""SqlStore: one writing connection behind a lock; with parallel reads, one reading connection per thread."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from crew.storage.sql import SqlStore

SCHEMA = "CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)"


def _readers_seen(store: SqlStore, threads: int) -> set[int]:
    seen: set[int] = set()
    lock = threading.Lock()

    def read() -> None:
        assert store.row("SELECT v FROM t WHERE k = 'a'")["v"] == 1
        with lock:
            seen.add(id(store._reader() if store._parallel else store._conn))

    workers = [threading.Thread(target=read) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return seen


def test_parallel_reads_use_a_connection_per_thread_and_see_committed_writes(tmp_path):
    store = SqlStore(tmp_path / "x.sqlite", SCHEMA, parallel_reads=True)
    store.run("INSERT INTO t VALUES ('a', 1)")
    assert len(_readers_seen(store, 3)) == 3
    store.run("UPDATE t SET v = 2 WHERE k = 'a'")
    assert store.row("SELECT v FROM t WHERE k = 'a'")["v"] == 2  # a reader sees the writer's commit
    readers = list(store._readers)
    store.close()
    for conn in readers:  # closed with the store
        with pytest.raises(sqlite3.ProgrammingError):
            conn.execute("SELECT 1")


def test_without_parallel_reads_and_in_memory_every_read_shares_the_one_connection(tmp_path):
    for store in (SqlStore(tmp_path / "y.sqlite", SCHEMA), SqlStore(":memory:", SCHEMA, parallel_reads=True)):
        store.run("INSERT INTO t VALUES ('a', 1)")
        assert _readers_seen(store, 3) == {id(store._conn)}
        assert store._readers == []
        store.close()


def test_a_failed_transaction_leaves_nothing(tmp_path):
    store = SqlStore(tmp_path / "z.sqlite", SCHEMA)
    with pytest.raises(sqlite3.IntegrityError):
        with store.transaction() as tx:
            tx.run("INSERT INTO t VALUES ('a', 1)")
            tx.run("INSERT INTO t VALUES ('a', 2)")
    assert store.rows("SELECT * FROM t") == []
    store.close()
