"""Open the app's relational stores on one backend, chosen by one setting, `CREW_DATABASE_URL`.

Unset: SQLite files under the data dir (`DataFiles`), the embedded default for one person. A
`postgresql://…` URL: chats, traces, the library's rows, the originals of uploads, the keyword index and
LangGraph's checkpoints all live in that database (tables created on first start, exactly once however many instances start
together), and none of those files is created. Callers get protocol-typed stores and never ask which.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from crew.settings import Settings
from crew.storage.files import DataFiles
from crew.storage.protocols import Chats, DocumentRecords, KeywordSearch, OriginalStore, Traces

CHECKPOINT_LOCK = 0x637265772D636B70  # "crew-ckp": LangGraph's checkpoint tables being set up
SETUP_WAIT_S = 120.0


@dataclass(frozen=True)
class Stores:
    """Every relational store one crew uses, on one backend; `close()` closes them all."""

    chats: Chats
    traces: Traces
    documents: DocumentRecords
    keywords: KeywordSearch
    originals: OriginalStore
    checkpointer: Any  # a LangGraph BaseCheckpointSaver
    backend: str  # "sqlite" | "postgres"
    _closers: tuple = ()

    def close(self) -> None:
        for store in (self.chats, self.traces, self.documents, self.keywords, self.originals):
            store.close()
        for close in self._closers:
            close()


def database_url(settings: Settings) -> str | None:
    """The Postgres URL the settings name, or None for the SQLite files."""
    secret = settings.database_url
    url = secret.get_secret_value().strip() if secret is not None else ""
    return url or None


def open_keywords(settings: Settings) -> KeywordSearch:
    """The keyword index alone (`crew search` needs nothing else)."""
    url = database_url(settings)
    if url:
        from crew.retrieval.pg_keywords import PgKeywordIndex

        return PgKeywordIndex(url)
    from crew.retrieval.keywords import KeywordIndex

    return KeywordIndex(DataFiles(settings.data_dir).keywords)


def open_documents(settings: Settings) -> DocumentRecords:
    """The library's rows alone (the library's commands need these and the keywords)."""
    url = database_url(settings)
    if url:
        from crew.storage.pg_documents import PgDocuments

        return PgDocuments(url)
    from crew.storage.documents_table import DocumentsTable

    return DocumentsTable(DataFiles(settings.data_dir).library)


def open_originals(settings: Settings) -> OriginalStore:
    """The uploads' original bytes: files under the data dir, or rows in Postgres (any instance re-indexes)."""
    url = database_url(settings)
    if url:
        from crew.storage.pg_originals import PgOriginals

        return PgOriginals(url)
    from crew.documents.originals import FileOriginals

    return FileOriginals(DataFiles(settings.data_dir).originals)


def open_traces(settings: Settings) -> Traces:
    from crew.storage.traces import price_table

    url = database_url(settings)
    if url:
        from crew.storage.pg_traces import PgTraces

        return PgTraces(url, price_table(settings.prices))
    from crew.storage.traces import TraceStore

    return TraceStore(DataFiles(settings.data_dir).traces, price_table(settings.prices))


def open_stores(settings: Settings) -> Stores:
    """Open every store on the backend the settings choose; a bad database URL raises `DatabaseError` at once."""
    url = database_url(settings)
    opened: list[Any] = []
    try:
        if url:
            from crew.storage.pg_chats import PgChats

            chats = PgChats(url)
            opened.append(chats)
            checkpointer, pool = postgres_saver(url)
            opened.append(pool)
            backend, closers = "postgres", (pool.close,)
        else:
            from langgraph.checkpoint.sqlite import SqliteSaver

            from crew.storage.chats import ChatStore
            from crew.storage.sql import connect

            files = DataFiles(settings.data_dir)
            chats = ChatStore(files.chats)
            opened.append(chats)
            conn = connect(files.checkpoints)
            opened.append(conn)
            checkpointer, backend, closers = SqliteSaver(conn), "sqlite", (conn.close,)
        traces = open_traces(settings)
        opened.append(traces)
        documents = open_documents(settings)
        opened.append(documents)
        keywords = open_keywords(settings)
        opened.append(keywords)
        originals = open_originals(settings)
    except BaseException:
        for store in reversed(opened):
            store.close()
        raise
    return Stores(chats, traces, documents, keywords, originals, checkpointer, backend, closers)


def postgres_saver(url: str):
    """LangGraph's Postgres checkpointer on a pool of its own (it wants autocommit and dict rows), set up once.

    `setup()` runs LangGraph's own migrations, which are not safe side by side, so instances starting
    together take turns through an advisory lock. Not the schema lock, and not waited for in a statement:
    one of those migrations is CREATE INDEX CONCURRENTLY, which waits for every transaction open when it
    starts, and a session blocked on the lock is one, so a blocking wait would deadlock through the client.
    The others ask again every 50 ms, holding nothing between asks.
    """
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row

    from crew.storage.postgres import DatabaseError, open_pool

    pool = open_pool(url, max_size=8, name="crew-checkpoints",
                     kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row})
    try:
        saver = PostgresSaver(pool)
        with pool.connection() as conn:
            deadline = time.monotonic() + SETUP_WAIT_S
            while not conn.execute("SELECT pg_try_advisory_lock(%s) AS got", (CHECKPOINT_LOCK,)).fetchone()["got"]:
                if time.monotonic() > deadline:
                    raise DatabaseError(f"another instance held the checkpoint tables' setup for {SETUP_WAIT_S:g} s")
                time.sleep(0.05)
            try:
                saver.setup()
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (CHECKPOINT_LOCK,))
    except BaseException:
        pool.close()
        raise
    return saver, pool
