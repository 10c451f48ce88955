"""Read a workspace's documents again and embed them again: after a parser change, or when the
embedding model changed and the stored vectors went stale.

Every document is parsed again from its kept original and embedded by the running embedder into
a new collection beside the workspace's own; the new one takes the old one's place only when all
documents are in it, so searches meanwhile see the old index whole. Per document it is all or
nothing: a document that cannot be read again (no original kept, because it was added before
originals were; or the new parse fails) keeps its old chunks, copied as they are, or embedded
again from their stored text when the model changed. Web findings have no original: their
stored text is embedded again when the model changed. Document ids and names stay.

`Reindex.step` has the shape of one file of a background upload (crew.uploads), so the
Documents page runs a re-index as an upload job with a progress bar per document.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crew.documents.ingest import IngestLimits, IngestResult, Progress, _Reporter, chunk_sections
from crew.retrieval import windows
from crew.retrieval.memory import Chunk, WorkspaceMemory, _metadata
from crew.documents.parsers import READERS, IngestError, file_format, parse
from crew.settings import default_of

if TYPE_CHECKING:
    from crew.storage.documents_table import Document
    from crew.storage.protocols import DocumentLibrary

NO_ORIGINAL = "its original file was not kept (it was added before originals were): re-upload it to re-index it"
REINDEXED = "reindex"  # IngestResult.extra key: this result is a re-index, not an upload


@dataclass
class Reindex:
    """One re-index of one workspace: `step` once per document (in `documents` order), or `run`.

    With `only_outdated`, `documents` are only those an older reader read (Library.outdated); the others'
    chunks are carried into the new index as they are (embedded again from their text if the model changed).
    """

    memory: WorkspaceMemory
    library: "DocumentLibrary"
    chunk_size: int = default_of("chunk_size")
    chunk_overlap: int = default_of("chunk_overlap")
    limits: IngestLimits = field(default_factory=IngestLimits)
    batch: int = 64
    only_outdated: bool = False
    documents: list["Document"] = field(init=False)

    def __post_init__(self) -> None:
        ws = self.memory.name
        self.documents = self.library.outdated(ws) if self.only_outdated else self.library.documents(ws)
        self.model = self.memory.memory.model_id
        self.stale = {s.kind for s in self.memory.stale()}
        self._old = self.memory.memory.collection("documents", ws, fresh=True)
        self._target = self.memory.memory.new_collection("documents", ws)
        self._keywords: dict[str, list[tuple[str, str, str]]] = {}  # doc_id -> keyword rows of a re-read document
        self._refresh: dict[str, dict[str, Any]] = {}
        self._done: set[str] = set()
        self._next = 0
        self.results: list[IngestResult] = []

    # -- the whole workspace ------------------------------------------------------------------

    def run(self, progress: Any = None) -> list[IngestResult]:
        """Re-index every document, then put the new index in place; `progress(doc_index, stage, fraction)`."""
        try:
            for i, doc in enumerate(self.documents):
                self.results.append(self._one(doc, (lambda s, f, i=i: progress(i, s, f)) if progress else None))
            self.finish()
        except BaseException:
            self.abort()
            raise
        return self.results

    def step(self, workspace: str, name: str, data: bytes, progress: Progress | None = None) -> IngestResult:
        """Re-index the next document (an upload job's `ingest`); the last one puts the new index in place."""
        if workspace != self.memory.name:
            raise ValueError("this re-index belongs to another workspace")
        doc = self.documents[self._next]
        self._next += 1
        try:
            result = self._one(doc, progress)
            if self._next == len(self.documents):
                self.finish()
        except BaseException:
            self.abort()  # cancelled or broken: the old index stays as it was
            raise
        self.results.append(result)
        return result

    def finish(self) -> None:
        """Carry over what was added meanwhile, then swap the new collection in; keyword rows follow."""
        ws, kw = self.memory.name, self.memory.memory.keywords
        alive = {d.doc_id for d in self.library.documents(ws)}
        for doc_id in self._doc_ids(self._old) - self._done:
            self._carry(doc_id)
        for doc_id in self._done - alive:  # deleted while we worked
            self._target.delete(where={"doc_id": doc_id})
            self._keywords.pop(doc_id, None)
        self.memory.memory.replace_collection("documents", ws, self._target)
        key = self.memory._key("documents")
        for doc_id, rows in self._keywords.items():
            kw.hold(key, doc_id)
            try:
                kw.delete_document(key, doc_id)
                kw.add(key, rows)
            finally:
                kw.release(key, doc_id)
        for doc_id, counts in self._refresh.items():
            if doc_id in alive:
                self.library.refresh(ws, doc_id, **counts)
        if "findings" in self.stale:
            self._rebuild_findings()

    def abort(self) -> None:
        self.memory.memory.drop_collection(self._target)

    # -- one document -------------------------------------------------------------------------

    def _one(self, doc: "Document", progress: Progress | None) -> IngestResult:
        started = time.perf_counter()
        report = _Reporter(progress)
        ws = self.memory.name

        def result(status: str, chunks: int, error: str = "", pages: int = 0, rows: int = 0) -> IngestResult:
            return IngestResult(doc.name, status, chunks, error=error, doc_id=doc.doc_id, pages=pages or doc.pages,
                                rows=rows or doc.rows, size=doc.size, format=doc.format, extra={REINDEXED: True},
                                seconds=round(time.perf_counter() - started, 3))

        data = self.library.original(ws, doc.doc_id)
        if data is None:
            report("embedding", 0.0)
            kept = self._carry(doc.doc_id, lambda d, t: report("embedding", d / t))
            report("done", 1.0)
            return result("skipped", kept, NO_ORIGINAL + self._kept_note())
        try:
            report("parsing", 0.0)
            fmt = file_format(doc.name)
            parsed = parse(doc.name, data, self.limits.parse_options(self.chunk_size),
                           tick=lambda f: report("parsing", f))
            report("chunking", 0.0)
            chunks = chunk_sections(parsed.sections, doc.doc_id, doc.name, self.chunk_size, self.chunk_overlap,
                                    doc.content_hash, fmt, tick=lambda f: report("chunking", f))
            if not chunks:
                raise IngestError("no text found in the file")
            if len(chunks) > self.limits.max_chunks:
                raise IngestError(f"the file makes {len(chunks):,} chunks, over the limit of {self.limits.max_chunks:,}")
            report("embedding", 0.0)
            self._store(chunks, lambda d, t: report("embedding", d / t))
        except IngestError as exc:
            self._target.delete(where={"doc_id": doc.doc_id})
            kept = self._carry(doc.doc_id)
            return result("error", kept, f"could not be read again ({exc}); its old chunks are kept" + self._kept_note())
        except Exception as exc:  # the store failing midway: this document keeps its old chunks
            self._target.delete(where={"doc_id": doc.doc_id})
            kept = self._carry(doc.doc_id)
            return result("error", kept, f"could not be re-embedded ({type(exc).__name__}: {exc}); its old chunks are kept"
                          + self._kept_note())
        self._done.add(doc.doc_id)
        self._keywords[doc.doc_id] = [(c.chunk_id, c.doc_id, c.text) for c in chunks]
        seconds = round(time.perf_counter() - started, 3)
        self._refresh[doc.doc_id] = dict(pages=parsed.pages, rows=parsed.rows, chunks=len(chunks), seconds=seconds,
                                         reader=READERS[fmt])
        report("done", 1.0)
        return result("ok", len(chunks), pages=parsed.pages, rows=parsed.rows)

    def _kept_note(self) -> str:
        return " (embedded again from its stored text for the new model)" if "documents" in self.stale else ""

    def _store(self, chunks: list[Chunk], on_batch) -> None:
        ws = self.memory.name
        for start in range(0, len(chunks), self.batch):
            part = chunks[start : start + self.batch]
            ids, vectors, texts, metas = windows.rows([c.chunk_id for c in part], [c.text for c in part],
                                                      [_metadata(ws, c) for c in part], *self._embedders())
            windows.upsert(self._target, ids, vectors, texts, metas)
            on_batch(start + len(part), len(chunks))

    def _carry(self, doc_id: str, on_batch=None) -> int:
        """Copy a document's old chunks into the new collection (embedded again if the model changed)."""
        old = self._old.get(where={"doc_id": doc_id}, include=["documents", "metadatas", "embeddings"])
        self._copy(old, self._target, "documents" in self.stale, on_batch)
        self._done.add(doc_id)
        return sum(not windows.is_window(i) for i in old["ids"])

    def _copy(self, old: dict, target, embed_again: bool, on_batch=None) -> None:
        """Copy records as they are, or embed the chunks again (their windows made anew, as the new layout cuts them)."""
        rows = range(len(old["ids"]))
        if embed_again:
            rows = [n for n in rows if not windows.is_window(old["ids"][n])]
        rows = list(rows)
        for start in range(0, len(rows), self.batch):
            part = rows[start : start + self.batch]
            ids, texts, metas = ([old[key][n] for n in part] for key in ("ids", "documents", "metadatas"))
            if embed_again:
                ids, vectors, texts, metas = windows.rows(ids, texts, metas, *self._embedders())
            else:
                vectors = [old["embeddings"][n] for n in part]
            windows.upsert(target, ids, vectors, texts, metas)
            if on_batch:
                on_batch(min(start + len(part), len(rows)), len(rows))

    def _embedders(self) -> tuple[Any, Any]:
        """The memory's embedder, and its English one's `embed_documents` (None without one), for `windows.rows`."""
        english = self.memory.memory.english
        return self.memory.memory.embedder, (english.embed_documents if english is not None else None)

    @staticmethod
    def _doc_ids(col) -> set[str]:
        return {str(m.get("doc_id", "")) for m in col.get(include=["metadatas"])["metadatas"] if m}

    def _rebuild_findings(self) -> None:
        ws, mem = self.memory.name, self.memory.memory
        old = mem.collection("findings", ws, fresh=True)
        target = mem.new_collection("findings", ws)
        try:
            self._copy(old.get(include=["documents", "metadatas"]), target, True)
            mem.replace_collection("findings", ws, target)
        except BaseException:
            mem.drop_collection(target)
            raise
