"""A memory and library over a temporary data dir, and ways to look straight into Chroma."""

from __future__ import annotations

import pytest

from crew.documents.library import Library
from crew.retrieval.memory import Memory, chroma_client, collection_name
from crew.retrieval.windows import is_window


class Store:
    """Memory + library on one data dir, with direct views into Chroma and the keyword index."""

    def __init__(self, data_dir, embedder, host=None, port=8000, english=None):
        self.data_dir = data_dir
        self.client = chroma_client(data_dir, host, port)
        self.memory = Memory(self.client, embedder, english=english)
        self.library = Library.beside(data_dir, self.memory)

    def ws(self, name="default"):
        return self.memory.workspace(name)

    def ingest(self, name, data, workspace="default", **kwargs):
        from crew.documents.ingest import ingest_bytes

        kwargs.setdefault("chunk_size", 400)
        kwargs.setdefault("chunk_overlap", 40)
        return ingest_bytes(self.ws(workspace), name, data, library=self.library, **kwargs)

    def chroma(self, workspace="default", kind="documents", windows=False, **where):
        """Chunk records Chroma itself holds (not through Memory), optionally filtered by metadata;
        with `windows`, the chunks' window records (crew.retrieval.windows) as well."""
        name = collection_name("crew", kind, workspace)
        if name not in {c.name for c in self.client.list_collections()}:
            return {"ids": [], "metadatas": [], "documents": []}
        col = self.client.get_collection(name)
        clauses = [{k: v} for k, v in where.items()]
        flt = None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}
        found = col.get(where=flt, include=["metadatas", "documents"])
        keep = [n for n, i in enumerate(found["ids"]) if windows or not is_window(i)]
        return {key: [found[key][n] for n in keep] for key in ("ids", "metadatas", "documents")}

    def all_library_rows(self, workspace="default"):
        """Every row, whatever its status (the library's own list shows only complete documents)."""
        return self.library.records.rows("SELECT * FROM documents WHERE workspace = ?", (workspace,))

    def nothing_stored(self, workspace="default") -> bool:
        return (not self.chroma(workspace)["ids"] and self.ws(workspace).keyword_count() == 0
                and not self.all_library_rows(workspace))


@pytest.fixture
def store(tmp_path, embedder):
    return Store(tmp_path / "data", embedder)
