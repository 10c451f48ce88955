"""crew.faults tells operator faults from our own errors, whatever wraps them, and names the part."""

from __future__ import annotations

import errno
import sqlite3

import httpx
import pytest

from crew.faults import explain
from crew.storage.traces import TraceStoreError
from tests.servers import free_port


def raised(fn):
    try:
        fn()
    except Exception as exc:
        return exc
    raise AssertionError("nothing was raised")


def readonly_sqlite(tmp_path) -> sqlite3.Error:
    path = tmp_path / "x.sqlite"
    sqlite3.connect(path).execute("CREATE TABLE t (x)")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    return raised(lambda: conn.execute("INSERT INTO t VALUES (1)"))


def wrapped(exc: Exception) -> Exception:
    """As the trace store raises it: its own error, from the SQLite one."""
    try:
        raise TraceStoreError(f"the trace store failed: {exc}") from exc
    except TraceStoreError as outer:
        return outer


def test_disk_full_and_read_only_are_named_with_the_data_dir(tmp_path):
    data = tmp_path / "data"
    full = explain(OSError(errno.ENOSPC, "No space left on device"), data)
    assert (full.kind, full.part, full.where) == ("disk_full", "data dir", str(data))
    assert full.message.startswith(f"the disk holding the data dir {data} is full: free some space")
    assert explain(wrapped(sqlite3.OperationalError("database or disk is full")), data).kind == "disk_full"
    ro = explain(wrapped(readonly_sqlite(tmp_path)), data)
    assert ro.kind == "read_only" and f"the data dir {data} is read-only" in ro.message
    assert explain(OSError(errno.EROFS, "Read-only file system"), data).kind == "read_only"
    chroma_text = Exception("error returned from database: (code: 8) attempt to write a readonly database")
    assert explain(chroma_text, data).kind == "read_only"


def test_chroma_down_only_when_chroma_is_a_server_and_the_error_came_through_chromadb(tmp_path):
    from crew.retrieval.memory import chroma_client

    port = free_port()
    down = raised(lambda: chroma_client(tmp_path, "127.0.0.1", port))
    fault = explain(down, tmp_path, "127.0.0.1", port)
    assert (fault.kind, fault.part, fault.where) == ("chroma_down", "Chroma server", f"127.0.0.1:{port}")
    assert fault.message.startswith(f"the Chroma server at 127.0.0.1:{port} does not answer: start it")
    # A model server that refuses the connection is not the Chroma server, even with one configured.
    model_down = raised(lambda: httpx.get(f"http://127.0.0.1:{port}/v1/models"))
    assert explain(model_down, tmp_path, "127.0.0.1", port) is None


@pytest.mark.parametrize("exc", [ValueError("bad"), OSError(errno.ENOENT, "No such file"), KeyError("x"),
                                 sqlite3.OperationalError("database is locked")])
def test_other_errors_are_not_operator_faults(tmp_path, exc):
    assert explain(exc, tmp_path, "127.0.0.1", 8000) is None
