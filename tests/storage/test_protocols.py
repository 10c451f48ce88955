"""Each store satisfies its protocol exactly: same public methods, same signatures.

A method added to a store (for a caller) must be added to its protocol too, or a second backend
written against the protocol would lack it; this test is what says so.
"""

from __future__ import annotations

import inspect
import re

import pytest

from crew.documents.library import Library
from crew.documents.originals import FileOriginals
from crew.retrieval.keywords import KeywordIndex
from crew.storage import protocols
from crew.storage.chats import ChatStore
from crew.storage.documents_table import DocumentsTable
from crew.storage.files import DataFiles
from crew.storage.sql import SqlStore
from crew.storage.traces import TraceStore

# The SQL helpers every SQLite store inherits; no caller outside the store uses them.
SQL_HELPERS = {"rows", "row", "run", "transaction"}

PAIRS = [
    (ChatStore, protocols.Chats),
    (TraceStore, protocols.Traces),
    (DocumentsTable, protocols.DocumentRecords),
    (KeywordIndex, protocols.KeywordSearch),
    (FileOriginals, protocols.OriginalStore),
    (Library, protocols.DocumentLibrary),
]


def _methods(cls: type, skip: set[str] = frozenset()) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(fn) for name, fn in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith("_") and name not in skip}


def _shape(sig: inspect.Signature) -> list[tuple]:
    """A signature as comparable text: names, kinds, defaults and annotations (quotes and spaces aside)."""
    def text(annotation) -> str:
        return "" if annotation is inspect.Parameter.empty else re.sub(r"[\s'\"]", "", str(annotation))

    params = [(p.name, p.kind, repr(p.default), text(p.annotation)) for p in sig.parameters.values()]
    return params + [("->", text(sig.return_annotation))]


@pytest.mark.parametrize("store, protocol", PAIRS, ids=lambda x: x.__name__)
def test_every_public_method_is_in_the_protocol_with_the_same_signature(store, protocol):
    ours = _methods(store, SQL_HELPERS if issubclass(store, SqlStore) else set())
    promised = _methods(protocol)
    assert sorted(ours) == sorted(promised), "a store's public methods and its protocol differ"
    for name in promised:
        assert _shape(ours[name]) == _shape(promised[name]), f"{store.__name__}.{name} differs from the protocol"


def test_the_sqlite_stores_are_instances_of_their_protocols(tmp_path):
    files = DataFiles(tmp_path)
    chats, traces, table = ChatStore(files.chats), TraceStore(files.traces), DocumentsTable(files.library)
    keywords = KeywordIndex(files.keywords)
    library = Library(table, memory=None, originals=FileOriginals(files.originals))  # type: ignore[arg-type]
    try:
        assert isinstance(chats, protocols.Chats)
        assert isinstance(traces, protocols.Traces)
        assert isinstance(table, protocols.DocumentRecords)
        assert isinstance(keywords, protocols.KeywordSearch)
        assert isinstance(library, protocols.DocumentLibrary)
        assert not isinstance(keywords, protocols.Chats)
    finally:
        for store in (chats, traces, keywords, library):
            store.close()


def test_a_method_missing_from_the_protocol_is_caught():
    class Grown(ChatStore):
        def archive(self, workspace: str, chat_id: str) -> None: ...

    assert sorted(_methods(Grown, SQL_HELPERS)) != sorted(_methods(protocols.Chats))

    class Changed(TraceStore):
        def turns(self, workspace: str, limit: int = 10) -> list[dict]: ...  # type: ignore[override]

    assert _shape(_methods(Changed)["turns"]) != _shape(_methods(protocols.Traces)["turns"])
