"""Keep the crew's shared memory in Chroma, every record and every query scoped to a workspace.

Two collections: `documents` (chunks of uploaded files) and `findings` (what researchers
brought back from the web). Callers never see a client or a `where` clause: they get a
`WorkspaceMemory` for one workspace, so a query cannot forget its scope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal

import chromadb
from chromadb.config import Settings as ChromaSettings

from crew.embeddings import Embedder

Kind = Literal["documents", "findings"]
KINDS: tuple[Kind, ...] = ("documents", "findings")
_WORKSPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class WorkspaceError(ValueError):
    """A workspace name that cannot be used."""


def check_workspace(name: str) -> str:
    if not _WORKSPACE.match(name or ""):
        raise WorkspaceError(
            f"bad workspace name {name!r}: use 1-64 letters, digits, '.', '_', '-' or '@', starting with a letter or digit"
        )
    return name


@dataclass(frozen=True)
class Chunk:
    """A piece of text to remember, with where it came from."""

    text: str
    source: str
    doc_id: str
    position: int
    page: int = 0  # 1-based physical page; 0 when the source has no pages
    url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def chunk_id(self) -> str:
        return f"{self.doc_id}-{self.position:06d}"


@dataclass(frozen=True)
class Hit:
    """A remembered chunk returned by a search."""

    text: str
    source: str
    page: int
    url: str
    score: float
    chunk_id: str
    doc_id: str
    position: int
    kind: Kind
    extra: dict[str, Any] = field(default_factory=dict)

    def cite(self) -> str:
        """Render the place a claim came from: `file.pdf p. 3` or the URL."""
        if self.url:
            return self.url
        return f"{self.source}, p. {self.page}" if self.page else self.source


def chroma_client(data_dir: Path, host: str | None = None, port: int = 8000) -> chromadb.ClientAPI:
    """Open Chroma: a server when host is set (shared by many app instances), else on disk."""
    settings = ChromaSettings(anonymized_telemetry=False)
    if host:
        return chromadb.HttpClient(host=host, port=port, settings=settings)
    path = Path(data_dir) / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


class Memory:
    """The Chroma collections of every workspace; hand out one workspace at a time."""

    def __init__(self, client: chromadb.ClientAPI, embedder: Embedder, prefix: str = "crew") -> None:
        self.client = client
        self.embedder = embedder
        self._collections = {
            kind: client.get_or_create_collection(
                f"{prefix}_{kind}", embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
            for kind in KINDS
        }

    def collection(self, kind: Kind):
        return self._collections[kind]

    def workspace(self, name: str) -> "WorkspaceMemory":
        return WorkspaceMemory(self, check_workspace(name))


def _metadata(workspace: str, chunk: Chunk) -> dict[str, Any]:
    meta = {k: v for k, v in chunk.extra.items() if isinstance(v, (str, int, float, bool))}
    meta.update(
        workspace=workspace, source=chunk.source, doc_id=chunk.doc_id,
        position=chunk.position, page=chunk.page, url=chunk.url,
    )
    return meta


class WorkspaceMemory:
    """Memory as one workspace sees it: every read and write carries its name."""

    def __init__(self, memory: Memory, name: str) -> None:
        self._memory = memory
        self.name = name

    def _where(self, **extra: Any) -> dict[str, Any]:
        clauses = [{"workspace": self.name}] + [{k: v} for k, v in extra.items()]
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def add(self, kind: Kind, chunks: list[Chunk], batch: int = 256, on_batch=None) -> list[str]:
        """Embed and store chunks; `on_batch(done, total)` reports progress."""
        col = self._memory.collection(kind)
        ids: list[str] = []
        for start in range(0, len(chunks), batch):
            part = chunks[start : start + batch]
            vectors = self._memory.embedder([c.text for c in part])
            part_ids = [c.chunk_id for c in part]
            col.upsert(
                ids=part_ids,
                embeddings=vectors.tolist(),
                documents=[c.text for c in part],
                metadatas=[_metadata(self.name, c) for c in part],
            )
            ids.extend(part_ids)
            if on_batch:
                on_batch(len(ids), len(chunks))
        return ids

    def delete_document(self, doc_id: str, kinds: Iterable[Kind] = KINDS) -> int:
        """Remove every chunk of a document in this workspace; return how many there were."""
        removed = 0
        for kind in kinds:
            col = self._memory.collection(kind)
            found = col.get(where=self._where(doc_id=doc_id), include=[])
            if found["ids"]:
                col.delete(ids=found["ids"])
                removed += len(found["ids"])
        return removed

    def count(self, kind: Kind = "documents", doc_id: str | None = None) -> int:
        where = self._where(doc_id=doc_id) if doc_id else self._where()
        return len(self._memory.collection(kind).get(where=where, include=[])["ids"])

    def search(self, query: str, k: int = 5, kinds: Iterable[Kind] = KINDS) -> list[Hit]:
        """Return the k chunks nearest to the query across the given collections."""
        if not query.strip():
            return []
        vector = self._memory.embedder([query])[0].tolist()
        hits: list[Hit] = []
        for kind in kinds:
            res = self._memory.collection(kind).query(
                query_embeddings=[vector], n_results=k, where=self._where(),
                include=["documents", "metadatas", "distances"],
            )
            for cid, text, meta, dist in zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0]):
                hits.append(_hit(kind, cid, text, meta, 1.0 - float(dist)))
        hits.sort(key=lambda h: h.score, reverse=True)
        return hits[:k]


def _hit(kind: Kind, chunk_id: str, text: str, meta: dict[str, Any], score: float) -> Hit:
    known = {"workspace", "source", "doc_id", "position", "page", "url"}
    return Hit(
        text=text, source=str(meta.get("source", "")), page=int(meta.get("page", 0) or 0),
        url=str(meta.get("url", "")), score=round(score, 4), chunk_id=chunk_id,
        doc_id=str(meta.get("doc_id", "")), position=int(meta.get("position", 0) or 0), kind=kind,
        extra={k: v for k, v in meta.items() if k not in known},
    )
