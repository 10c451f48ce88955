"""The trace store, the library's rows and turn ownership behave the same on SQLite and on Postgres,
and one setting (`CREW_DATABASE_URL`) picks the backend of every store."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from crew.engine.reducer import Span, TurnFold
from crew.settings import Settings
from crew.storage import protocols
from crew.storage.traces import price_table

HEAD = "0004"  # the newest revision of crew/storage/schema/versions

# Traces ----------------------------------------------------------------------------------------------


def _turn(turn_id="t1", chat_id="c1", goal="What is green tea?") -> TurnFold:
    return TurnFold(turn_id=turn_id, goal=goal, workspace="w", chat_id=chat_id, model="gpt-4o-mini")


def test_a_turn_and_its_spans_with_tokens_and_cost(backend):
    traces = backend.traces(price_table({"gpt-4o-mini": (1.0, 2.0)}))
    turn = _turn()
    traces.write("w", turn, [Span("t1", "t1", None, "turn", "", "turn", start=10.0)])
    llm = Span("s-llm", "t1", "t1", "llm", "writer", "draft", start=10.5, end=11.0, tokens_in=1000, tokens_out=500,
               status="ok", attrs={"model": "gpt-4o-mini"})
    traces.write("w", turn, [llm])
    traces.write("w", turn, [llm])  # the same span again (a retried write) replaces it but counts again, as on SQLite
    turn.status, turn.limit_hit = "limit", "max_steps"
    traces.write("w", turn, [Span("t1", "t1", None, "turn", "", "turn", start=10.0, end=12.0, status="limit")])
    [row] = traces.turns("w")
    assert (row["turn_id"], row["thread_id"], row["status"], row["limit_hit"], row["ended"]) == (
        "t1", "c1", "limit", "max_steps", 12.0)
    assert (row["tokens_in"], row["tokens_out"]) == (2000, 1000)
    assert row["cost"] == pytest.approx(2 * (1000 * 1.0 + 500 * 2.0) / 1e6)
    spans = traces.spans("w", "t1")
    assert [s["span_id"] for s in spans] == ["t1", "s-llm"]
    assert spans[1]["attrs"] == {"model": "gpt-4o-mini"} and spans[1]["ms"] == 500.0 and spans[1]["end"] == 11.0
    assert traces.export("w", "t1")["turn"]["goal"] == "What is green tea?"
    assert traces.turns("other") == [] and traces.spans("other", "t1") == [] and traces.export("other", "t1") == {
        "turn": None, "spans": []}


def test_a_key_in_what_a_turn_reports_is_stored_redacted(backend):
    traces = backend.traces()
    key = "sk-" + "A1b2C3d4" * 4
    turn = _turn(goal=f"use {key}")
    turn.error = f"provider said: bad key {key}"
    traces.write("w", turn, [Span("t1", "t1", None, "turn", "", "turn", start=1.0, end=2.0, status="error",
                                  error=f"401 {key}", attrs={"sent": key})])
    doc = traces.export("w", "t1")
    assert key not in repr(doc) and "[redacted]" in doc["turn"]["error"]


def test_deleting_a_chat_forgets_its_traces_only(backend):
    traces = backend.traces()
    for turn_id, chat in (("a1", "A"), ("a2", "A"), ("b1", "B")):
        traces.write("w", _turn(turn_id, chat), [Span(turn_id, turn_id, None, "turn", "", "turn", start=1.0),
                                                 Span(turn_id + "-s", turn_id, turn_id, "step", "writer", "x", start=1.0)])
    assert traces.delete_thread("other", "A") == 0
    assert traces.delete_thread("w", "A") == 2
    assert [t["turn_id"] for t in traces.turns("w")] == ["b1"] and traces.spans("w", "a1") == []
    assert len(traces.spans("w", "b1")) == 2


# Originals of uploads ---------------------------------------------------------------------------------


def test_an_upload_original_is_kept_whole_per_workspace_replaced_and_deleted(backend):
    originals = backend.originals()
    data = bytes(range(256)) * 4096 + b"\x00tail"  # every byte value, NULs included, 1 MB
    originals.put("w", "d1", data)
    assert originals.get("w", "d1") == data
    assert originals.has("w", "d1") and not originals.has("v", "d1") and not originals.has("w", "d2")
    assert originals.get("v", "d1") is None and originals.get("w", "d2") is None  # another workspace, another doc
    other = backend.originals()  # another process on the same data reads the same bytes
    assert other.get("w", "d1") == data
    originals.put("w", "d1", b"second")  # a re-upload of the same id replaces, never appends
    assert other.get("w", "d1") == b"second"
    originals.delete("w", "d1")
    originals.delete("w", "d1")  # deleting twice is not an error (a retried removal)
    assert other.get("w", "d1") is None and not other.has("w", "d1")
    for bad in ("../x", "", "a/b"):
        with pytest.raises(ValueError):
            originals.put("w", bad, b"x")
    assert isinstance(originals, protocols.OriginalStore)


# Library rows ----------------------------------------------------------------------------------------


def test_document_rows_from_ingesting_to_ready_to_gone(backend):
    rows = backend.documents()
    assert rows.insert("w", "d1", "a.md", "md", 10, "h1", now=1.0, owner="host:1")
    assert not rows.insert("w", "d2", "b.md", "md", 10, "h1", now=1.0, owner="host:1")  # the same bytes
    assert not rows.insert("w", "d1", "c.md", "md", 10, "h2", now=1.0, owner="host:1")  # the same id
    assert rows.insert("v", "d1", "a.md", "md", 10, "h1", now=1.0, owner="host:1")  # another workspace
    assert rows.ready("w") == [] and [j.doc_id for j in rows.unfinished("w")] == ["d1"]
    rows.set_counts("w", "d1", pages=2, rows=0, chunks=5, seconds=0.5, reader=1)
    assert rows.get("w", "d1").reader == 1
    rows.beat("w", "d1", 5.0)
    assert rows.job("w", "d1").heartbeat == 5.0 and rows.job("w", "d1").owner == "host:1"
    assert rows.finish("w", "d1", pages=3, rows=7, chunks=9, seconds=1.5, reader=2, now=6.0)
    assert not rows.finish("w", "d1", pages=3, rows=7, chunks=9, seconds=1.5, reader=2, now=6.0)
    [doc] = rows.ready("w")
    assert (doc.name, doc.pages, doc.rows, doc.chunks, doc.status, doc.seconds, doc.reader) == (
        "a.md", 3, 7, 9, "ready", 1.5, 2)
    assert rows.by_hash("w", "h1") == doc and rows.get("w", "d1") == doc and rows.get("x", "d1") is None
    assert rows.start_delete("w", "d1", 7.0) and not rows.start_delete("w", "d1", 7.0)
    assert rows.get("w", "d1").status == "deleting"
    rows.remove("w", "d1")
    assert rows.get("w", "d1") is None and rows.get("v", "d1") is not None
    rows.mark_deleting("v", "d1")
    assert rows.get("v", "d1").status == "deleting"


# Ownership -------------------------------------------------------------------------------------------


def _dead_pid() -> int:
    pid = os.getpid() + 1
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid += 1


def test_a_turn_whose_owner_died_reads_as_interrupted(backend):
    chats = backend.chats()
    chat = chats.create("w", "c")
    for turn_id in ("mine", "dead-here", "fresh-elsewhere", "stale-elsewhere"):
        chats.start_turn("w", chat.chat_id, turn_id, "g")
    now = time.time()
    backend.sql(chats, "UPDATE chat_turns SET owner = {} WHERE turn_id = {}",
                (f"{socket.gethostname()}:{_dead_pid()}", "dead-here"))
    backend.sql(chats, "UPDATE chat_turns SET owner = {}, heartbeat = {} WHERE turn_id = {}",
                ("other-host:1", now - 5, "fresh-elsewhere"))
    backend.sql(chats, "UPDATE chat_turns SET owner = {}, heartbeat = {} WHERE turn_id = {}",
                ("other-host:1", now - 3600, "stale-elsewhere"))
    status = {t.turn_id: t.status for t in chats.turns("w", chat.chat_id)}
    assert status == {"mine": "running", "dead-here": "interrupted", "fresh-elsewhere": "running",
                      "stale-elsewhere": "interrupted"}
    # Marked in the store too: another process reads it so.
    assert backend.chats().turn("w", "dead-here").status == "interrupted"


def test_how_long_another_hosts_turn_may_go_without_a_heartbeat_is_the_crews_setting(backend, settings):
    from crew.engine.service import Crew

    chats = backend.chats()
    chat = chats.create("w", "c")
    chats.start_turn("w", chat.chat_id, "quiet", "g")
    backend.sql(chats, "UPDATE chat_turns SET owner = {}, heartbeat = {} WHERE turn_id = {}",
                ("other-host:1", time.time() - 5, "quiet"))
    assert chats.turn("w", "quiet").status == "running"  # 5 s without a beat: within the default 120
    impatient = backend.chats()
    Crew(settings.model_copy(update={"turn_stale_after_s": 4}), memory=None, traces=None, chats=impatient)
    assert impatient.stale_after_s == 4
    assert impatient.turn("w", "quiet").status == "interrupted"
    assert chats.turn("w", "quiet").status == "interrupted"  # marked in the store, for every instance


# The switch ------------------------------------------------------------------------------------------


def test_the_postgres_stores_keep_the_protocols():
    from tests.storage.test_protocols import _methods, _shape

    from crew.retrieval.pg_keywords import PgKeywordIndex
    from crew.storage.pg_chats import PgChats
    from crew.storage.pg_documents import PgDocuments
    from crew.storage.pg_traces import PgTraces

    helpers = {"rows", "row", "run", "transaction"}
    for store, protocol in ((PgChats, protocols.Chats), (PgTraces, protocols.Traces),
                            (PgDocuments, protocols.DocumentRecords)):
        ours, promised = _methods(store, helpers), _methods(protocol)
        assert sorted(ours) == sorted(promised), store.__name__
        for name in promised:
            assert _shape(ours[name]) == _shape(promised[name]), f"{store.__name__}.{name}"
    # PgKeywordIndex (tests/retrieval/test_pg_keywords.py) has every method the protocol asks for.
    assert set(_methods(protocols.KeywordSearch)) <= set(_methods(PgKeywordIndex))


def test_unset_database_url_opens_the_sqlite_files(tmp_path):
    from crew.storage.stores import open_stores

    stores = open_stores(Settings(data_dir=tmp_path))
    try:
        assert stores.backend == "sqlite"
        assert sorted(p.name for p in tmp_path.glob("*.sqlite")) == [
            "checkpoints.sqlite", "crew.sqlite", "keywords.sqlite", "library.sqlite"]
    finally:
        stores.close()


def test_a_database_url_puts_every_store_in_postgres_and_nothing_on_disk(tmp_path, postgres_server):
    from crew.storage.stores import open_stores

    url = postgres_server.create_database("switch")
    stores = open_stores(Settings(data_dir=tmp_path, database_url=url))
    try:
        assert stores.backend == "postgres"
        for store, protocol in ((stores.chats, protocols.Chats), (stores.traces, protocols.Traces),
                                (stores.documents, protocols.DocumentRecords),
                                (stores.keywords, protocols.KeywordSearch),
                                (stores.originals, protocols.OriginalStore)):
            assert isinstance(store, protocol)
        chat = stores.chats.create("w", "hello")
        config = {"configurable": {"thread_id": chat.chat_id, "checkpoint_ns": ""}}
        assert stores.checkpointer.get_tuple(config) is None  # its tables exist
        assert list(tmp_path.iterdir()) == []
    finally:
        stores.close()
    import psycopg

    with psycopg.connect(url) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"chats", "chat_turns", "traces", "spans", "documents", "originals", "crew_keyword_chunks",
            "checkpoints"} <= tables


def test_instances_starting_together_on_an_empty_database_create_the_schema_once(tmp_path, postgres_server):
    from crew.storage.stores import open_stores

    url = postgres_server.create_database("together")
    settings = Settings(data_dir=tmp_path, database_url=url)
    opened, errors, start = [], [], threading.Barrier(4)

    def instance() -> None:
        start.wait()
        try:
            opened.append(open_stores(settings))
        except Exception as exc:  # any failure is the test's failure, reported below
            errors.append(exc)

    threads = [threading.Thread(target=instance) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for stores in opened:
        stores.close()
    assert errors == [] and len(opened) == 4
    import psycopg

    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
        # An older Crew (hand-rolled migrations) finds its stores past the version it knows and refuses to start.
        fence = dict(conn.execute("SELECT component, version FROM crew_schema").fetchall())
    assert fence == {c: 2 for c in ("chats", "traces", "documents", "keywords", "originals")}


# The first hand-rolled schema of issue 13, as Crew made it before alembic: its statements and its version rows.
def _pre_alembic_database(url: str, components=("chats", "traces", "documents", "keywords")) -> None:
    import importlib

    import psycopg

    first = importlib.import_module("crew.storage.schema.versions.0001_first_schema")
    parts = {"chats": first.CHATS, "traces": first.TRACES, "documents": first.DOCUMENTS, "keywords": first.KEYWORDS}
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE crew_schema (component text PRIMARY KEY, version integer NOT NULL,"
                     " updated timestamptz NOT NULL DEFAULT now())")
        for component in components:
            for statement in parts[component]:
                conn.execute(statement)
            conn.execute("INSERT INTO crew_schema (component, version) VALUES (%s, 1)", (component,))
        conn.execute("INSERT INTO chats VALUES ('c-old', 'w', 'kept from before', 1.0, 1.0, false)")


def test_a_database_made_before_alembic_is_stamped_not_created_again(tmp_path, postgres_server):
    import psycopg

    from crew.storage.stores import open_stores

    url = postgres_server.create_database("pre_alembic")
    _pre_alembic_database(url)
    stores = open_stores(Settings(data_dir=tmp_path, database_url=url))
    try:
        assert [c.title for c in stores.chats.list("w")] == ["kept from before"]
        stores.originals.put("w", "d1", b"bytes")  # 0002 ran on top of the stamp
        assert stores.originals.get("w", "d1") == b"bytes"
    finally:
        stores.close()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
        triggers = conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'crew_keyword_stats_%'").fetchone()
    assert triggers == (3,)


def test_a_database_an_older_crew_only_began_is_completed(tmp_path, postgres_server):
    import psycopg

    from crew.storage.stores import open_keywords, open_stores

    url = postgres_server.create_database("pre_alembic_part")
    _pre_alembic_database(url, components=("chats",))  # only `crew search` ever ran... or only chats
    stores = open_stores(Settings(data_dir=tmp_path, database_url=url))
    stores.close()
    with psycopg.connect(url) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert conn.execute("SELECT title FROM chats").fetchall() == [("kept from before",)]
    assert {"traces", "spans", "documents", "originals", "crew_keyword_chunks"} <= tables
    open_keywords(Settings(data_dir=tmp_path, database_url=url)).close()


def test_a_schema_from_a_newer_crew_is_refused_with_what_to_do(tmp_path, postgres_server):
    import psycopg

    from crew.storage.postgres import DatabaseError
    from crew.storage.stores import open_stores

    url = postgres_server.create_database("newer_schema")
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('9999')")
    with pytest.raises(DatabaseError, match="revision 9999, newer than this Crew's " + HEAD + ": upgrade Crew"):
        open_stores(Settings(data_dir=tmp_path, database_url=url))
    with psycopg.connect(url) as conn:  # nothing was created beside it
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert tables == {"alembic_version"}


def test_a_wrong_database_url_names_the_setting_without_the_password(tmp_path):
    from crew.faults import explain_for
    from crew.storage.postgres import DatabaseError
    from crew.storage.stores import open_stores
    from tests.servers import free_port

    url = f"postgresql://crew:hunter2-secret@127.0.0.1:{free_port()}/crew"
    settings = Settings(data_dir=tmp_path, database_url=url)
    with pytest.raises(DatabaseError) as caught:
        open_stores(settings)
    fault = explain_for(caught.value, settings)
    assert fault is not None and fault.part == "database"
    assert "CREW_DATABASE_URL" in fault.message and "hunter2-secret" not in fault.message
    assert "127.0.0.1" in fault.message and list(tmp_path.glob("*.sqlite")) == []
