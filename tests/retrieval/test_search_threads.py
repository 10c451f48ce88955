"""A search runs what does not need the vector finds beside the vector search (WorkspaceMemory.search)."""

from __future__ import annotations

import threading

from crew.retrieval.keywords import KeywordIndex
from crew.retrieval.memory import Chunk, Memory, chroma_client


class Signalling(KeywordIndex):
    """A keyword index that says when a search starts preparing its query, and from which thread."""

    def __init__(self, path) -> None:
        super().__init__(path)
        self.preparing = threading.Event()
        self.threads: list[str] = []

    def prepare(self, collection, query):
        self.threads.append(threading.current_thread().name)
        self.preparing.set()
        return super().prepare(collection, query)


class Waiting:
    """An embedder whose query embedding waits (up to 5 s) for the keyword preparation to have begun."""

    def __init__(self, inner, keywords: Signalling) -> None:
        self.inner, self.keywords, self.saw = inner, keywords, []
        self.dim, self.model_id = inner.dim, inner.model_id

    def embed_documents(self, texts):
        return self.inner.embed_documents(texts)

    def embed_query(self, text):
        self.saw.append(self.keywords.preparing.wait(5))
        return self.inner.embed_query(text)


def test_the_keyword_query_is_prepared_while_the_question_is_embedded(tmp_path, embedder):
    """Run one after the other, the embedding would wait its 5 s for a preparation that had not begun."""
    keywords = Signalling(tmp_path / "keywords.sqlite")
    waiting = Waiting(embedder, keywords)
    memory = Memory(chroma_client(tmp_path / "data"), waiting, keywords=keywords)
    ws = memory.workspace("w")
    ws.add("documents", [Chunk("Kestrels nest in the old bell tower from April onwards.", "birds.txt", "b", 0, page=2),
                         Chunk("The canteen opens at eight in winter.", "notes.txt", "n", 0, page=1)])
    keywords.preparing.clear()
    hits = ws.search("Where do kestrels nest?", k=1)
    assert waiting.saw == [True]
    assert keywords.threads and all(name.startswith("crew-search") for name in keywords.threads)
    assert hits[0].doc_id == "b" and hits[0].page == 2


def test_searches_go_on_while_other_workspaces_get_their_first_keyword_tables(tmp_path):
    """A new workspace's keyword tables change the file's schema; a search reading on another connection then
    reconnects its FTS5 tables, which can fail for a moment ("vtable constructor failed"): it reads again."""
    keywords = KeywordIndex(tmp_path / "keywords.sqlite")
    for n in range(3):
        keywords.add(f"crew_documents_w{n}", [(f"a-{i:06d}", "a", f"Kestrels nest in tower {i} with herons.")
                                              for i in range(30)])
    errors: list[str] = []
    done = threading.Event()

    def search(n: int) -> None:
        while not done.is_set():
            try:
                best, _ = keywords.rank(keywords.prepare(f"crew_documents_w{n % 3}", "kestrels herons"), 3)
                assert len(best) == 3
            except Exception as exc:  # what the test reports
                errors.append(repr(exc))

    def new_workspaces() -> None:
        for n in range(150):
            keywords.prepare(f"crew_findings_new{n}", "anything")  # makes the workspace's tables
        done.set()

    threads = [threading.Thread(target=search, args=(n,)) for n in range(6)] + [threading.Thread(target=new_workspaces)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    keywords.close()
    assert errors == []
