"""Keep the crew's shared memory in Chroma, every record and every query scoped to a workspace.

Two kinds of record: `documents` (chunks of uploaded files) and `findings` (what researchers
brought back from the web). Each workspace has its own Chroma collection per kind, so a search
needs no metadata filter (a filtered HNSW query costs ~300 ms at 100k chunks; an unfiltered one
~3 ms) and one workspace can never see another's records. Callers never see a client: they get
a `WorkspaceMemory` for one workspace, so a query cannot forget its scope.

Each collection records the embedding model that made its vectors (`embedding_model` in its
metadata). Vectors of two models live in different spaces: when the running embedder is another
one the workspace is stale, and searching or adding vectors raises `StaleVectors` (a message that
says how to re-embed: `crew reindex`, or the Documents page's Re-index button) instead of mixing
them. `crew.documents.reindex` rebuilds a stale collection with the current model.

Search is hybrid: the vector search and a BM25 keyword search (`crew.retrieval.keywords`, SQLite FTS5
beside Chroma) each bring candidates, every candidate is ranked both ways, and the two rankings
are merged by weighted reciprocal rank fusion (`crew.retrieval.fusion`), because exact names, numbers
and codes are where embeddings miss. An English question on English passages is ranked a third way, by
an English model's vectors that English chunks carry in their metadata (`crew.retrieval.english`; its
id is part of the stored model id, so adding or changing it makes a workspace stale too). A search
returns the best passage of each place (page, section) before a second passage of the same place.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Literal

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from crew.retrieval import english as en
from crew.retrieval.embeddings import Embedder
from crew.retrieval.fusion import (ENGLISH_POOL_SHARE, ENGLISH_WEIGHT, RRF_K, fuse, keyword_weight, one_per_place,
                                   same_language)
from crew.retrieval import sentences, windows
from crew.retrieval.keywords import KeywordIndex
from crew.storage.files import DataFiles
from crew.storage.protocols import KeywordSearch
from crew.engine.state import source_label
from crew.faults import leaves_storage_unusable

Kind = Literal["documents", "findings"]
KINDS: tuple[Kind, ...] = ("documents", "findings")
Mode = Literal["hybrid", "vector", "keyword"]
MODES: tuple[Mode, ...] = ("hybrid", "vector", "keyword")
SEARCH_THREADS = 8
WINDOW_ROWS = 4  # vector rows asked per chunk wanted (windows.py: a chunk has ~5 rows)
LANGUAGE_SAMPLE = 3  # the vector finds whose text tells the documents' language (py3langid reads 2,000 characters)
# Collections made before models were recorded were all embedded with this one.
LEGACY_MODEL_ID = "all-MiniLM-L6-v2-int8"
MODEL_KEY = "embedding_model"


def model_id_of(embedder: Any, english: Any = None) -> str:
    """The id of what a collection's vectors mean: the embedder's model (`embedder.model_id`, "unknown"
    for one that does not say), how chunks are laid out as vectors (`windows.SCHEME`) and the English
    model whose vectors English chunks carry too (crew.retrieval.english), when there is one."""
    base = f"{getattr(embedder, 'model_id', '') or 'unknown'}; {windows.SCHEME}"
    return f"{base}; English chunks: {getattr(english, 'model_id', '') or 'unknown'}" if english is not None else base


class StaleVectors(RuntimeError):
    """A workspace's vectors were made by another embedding model than the running one."""

    def __init__(self, workspace: str, kind: str, stored: str, current: str) -> None:
        self.workspace, self.kind, self.stored, self.current = workspace, kind, stored, current
        what = "documents" if kind == "documents" else "saved web findings"
        super().__init__(
            f"the {what} of workspace {workspace!r} were embedded with the model {stored}, but this app now embeds"
            f" with {current}: they cannot be searched or added to until they are re-embedded. Re-embed them with"
            f" the Re-index button on the Documents page, or `python -m crew reindex --workspace {workspace}`."
        )


# Matched whole (fullmatch): with `$`, "a\n" passed and became a second workspace that shows as "a".
_WORKSPACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


class WorkspaceError(ValueError):
    """A workspace name that cannot be used."""


def check_workspace(name: str) -> str:
    if not isinstance(name, str) or not _WORKSPACE.fullmatch(name):
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
        return chunk_id_of(self.doc_id, self.position)


def chunk_id_of(doc_id: str, position: int) -> str:
    """The id of a document's chunk at a position (its Chroma row's id)."""
    return f"{doc_id}-{position:06d}"


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
    similarity: float = 0.0  # cosine similarity to the query (0 when only the keywords ranked it)

    @property
    def heading(self) -> str:
        return str(self.extra.get("heading", ""))

    @property
    def rows(self) -> str:
        """The CSV rows a chunk holds, "12-40", or ""."""
        start, end = self.extra.get("row_start"), self.extra.get("row_end")
        return f"{start}-{end}" if start else ""

    @property
    def place(self) -> str:
        """Where in its file the chunk is: "p. 3" (with its heading's last part when the page has one:
        "p. 18 · 2.7. Configurar dh_make"), "rows 12-40", a heading path, or ""."""
        if self.page:
            last = self.heading.rsplit(" > ", 1)[-1]  # the parsers' heading path separator
            return f"p. {self.page} · {last}" if last else f"p. {self.page}"
        if self.rows:
            return f"rows {self.rows}"
        return self.heading

    def cite(self) -> str:
        """Render the place a claim came from: `file.pdf, p. 3`, `data.csv, rows 12-40`, or the URL."""
        return source_label({"source": self.source, "place": self.place, "url": self.url})


def chroma_client(data_dir: Path, host: str | None = None, port: int = 8000) -> chromadb.ClientAPI:
    """Open Chroma: a server when host is set (shared by many app instances), else on disk.

    Either way the client remembers the data dir (`persist_directory`), where the keyword index
    that goes with it lives.
    """
    path = DataFiles(Path(data_dir).resolve()).chroma
    settings = ChromaSettings(anonymized_telemetry=False, persist_directory=str(path))
    if host:
        return chromadb.HttpClient(host=host, port=port, settings=settings)
    path.mkdir(parents=True, exist_ok=True)
    try:
        return chromadb.PersistentClient(path=str(path), settings=settings)
    except Exception:
        # chromadb keeps one system per folder for the whole process, even one whose start failed
        # (a read-only or full disk); left there, every later client would get it, unstarted, and
        # the app could not recover without a restart once the disk is fixed.
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient._identifier_to_system.pop(str(path), None)
        raise


def keyword_index_for(client: chromadb.ClientAPI) -> KeywordIndex:
    """Open the keyword index that belongs with a client: beside its data, or in memory for a throwaway client."""
    s = client.get_settings()
    directory = Path(s.persist_directory) if s.persist_directory else None
    if directory is not None and (s.is_persistent or (s.chroma_server_host and directory.is_absolute())):
        return KeywordIndex(DataFiles.around_chroma(directory).keywords)
    return KeywordIndex(":memory:")


def collection_name(prefix: str, kind: Kind, workspace: str) -> str:
    """Name a workspace's collection: readable, and distinct even for names that slug alike."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", workspace).strip("-")[:40] or "ws"
    digest = hashlib.sha256(workspace.encode()).hexdigest()[:8]
    return f"{prefix}_{kind}_{slug}_{digest}"


class Memory:
    """The Chroma collections of every workspace; hand out one workspace at a time."""

    def __init__(self, client: chromadb.ClientAPI, embedder: Embedder, prefix: str = "crew",
                 keywords: KeywordSearch | None = None, english: Any = None) -> None:
        self.client = client
        self.embedder = embedder
        self.english = english  # crew.retrieval.english.EnglishEmbedder, or None for USE alone
        self.prefix = prefix
        self.keywords: KeywordSearch = keywords if keywords is not None else keyword_index_for(client)
        self._collections: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._threads: ThreadPoolExecutor | None = None

    def threads(self) -> ThreadPoolExecutor:
        """The threads a search runs its independent parts on (made on the first search)."""
        with self._lock:
            if self._threads is None:
                # A search hands out up to five parts at once (per kind: holds, keyword query; the stale check);
                # a turn's researchers search side by side.
                self._threads = ThreadPoolExecutor(max_workers=SEARCH_THREADS, thread_name_prefix="crew-search")
            return self._threads

    def side_by_side(self, fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        """`fn` of each item, the first on the caller's thread and the others on the memory's (each a round
        trip to a Chroma server, say); results in the items' order."""
        others = [self.threads().submit(fn, item) for item in items[1:]]
        return [fn(items[0])] + [f.result() for f in others] if items else []

    @property
    def model_id(self) -> str:
        return model_id_of(self.embedder, self.english)

    def collection(self, kind: Kind, workspace: str, fresh: bool = False):
        """Return (creating once) the Chroma collection of one kind in one workspace.

        `fresh` looks it up again, for its current metadata and in case a re-index (here or in
        another process) replaced it.
        """
        name = collection_name(self.prefix, kind, check_workspace(workspace))
        col = None if fresh else self._collections.get(name)
        if col is None:
            col = self.client.get_or_create_collection(
                name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}},
                metadata={"workspace": workspace, "kind": kind, MODEL_KEY: self.model_id},
            )
            with self._lock:
                self._collections[name] = col
        return col

    def new_collection(self, kind: Kind, workspace: str, suffix: str = "next"):
        """An empty collection for the current model, beside a workspace's own, to rebuild it in."""
        name = f"{collection_name(self.prefix, kind, check_workspace(workspace))}-{suffix}"
        try:
            self.client.delete_collection(name)  # left by a re-index that died midway
        except Exception:
            pass
        return self.client.create_collection(
            name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}},
            metadata={"workspace": workspace, "kind": kind, MODEL_KEY: self.model_id},
        )

    def replace_collection(self, kind: Kind, workspace: str, new) -> None:
        """Put a rebuilt collection in the place of a workspace's own (drop the old, rename the new)."""
        name = collection_name(self.prefix, kind, check_workspace(workspace))
        with self._lock:
            self._collections.pop(name, None)
        try:
            self.client.delete_collection(name)
        except Exception:
            pass  # never made, or already gone
        new.modify(name=name)
        with self._lock:
            self._collections[name] = new

    def drop_collection(self, col) -> None:
        try:
            self.client.delete_collection(col.name)
        except Exception:
            pass

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
    """Memory as one workspace sees it: every read and write goes to its own collections."""

    def __init__(self, memory: Memory, name: str) -> None:
        self._memory = memory
        self.name = name

    @property
    def memory(self) -> Memory:
        """The store behind this view (the library needs it to open other workspaces)."""
        return self._memory

    def _col(self, kind: Kind):
        return self._memory.collection(kind, self.name)

    def _key(self, kind: Kind) -> str:
        return collection_name(self._memory.prefix, kind, self.name)

    def stored_model(self, kind: Kind = "documents") -> str:
        """The model that made the vectors of one kind here (the current one for an empty collection)."""
        col = self._memory.collection(kind, self.name, fresh=True)
        stored = (col.metadata or {}).get(MODEL_KEY)
        if stored:
            return str(stored)
        if col.count() == 0:  # made before models were recorded, and still empty: it is ours now
            return self._take_over(kind)
        return LEGACY_MODEL_ID

    def _take_over(self, kind: Kind) -> str:
        """Make an empty collection of another model the current model's: made anew, since Chroma keeps
        the vector size of the first vectors a collection held even after they are deleted."""
        self._memory.replace_collection(kind, self.name, self._memory.new_collection(kind, self.name))
        return self._memory.model_id

    def stale(self, kinds: Iterable[Kind] = KINDS) -> list[StaleVectors]:
        """Why this workspace's vectors cannot be used with the running embedder, per kind; [] when they can."""
        current = self._memory.model_id
        found = []
        for kind in kinds:
            stored = self.stored_model(kind)
            if stored != current and self.count(kind) > 0:
                found.append(StaleVectors(self.name, kind, stored, current))
            elif stored != current:  # empty: take it over for the current model
                self._take_over(kind)
        return found

    def check_current(self, kinds: Iterable[Kind] = KINDS) -> None:
        """Raise StaleVectors when vectors of another model are stored here."""
        if found := self.stale(kinds):
            raise found[0]

    def _where(self, **extra: Any) -> dict[str, Any]:
        clauses = [{"workspace": self.name}] + [{k: v} for k, v in extra.items()]
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def add(self, kind: Kind, chunks: list[Chunk], batch: int = 64,
            on_batch: Callable[[int, int], None] | None = None, embed: windows.Embed | None = None,
            english: windows.Embed | None = None) -> list[str]:
        """Embed and store chunks (vectors of each chunk and its windows in Chroma, words in the keyword
        index); report `on_batch(done, total)`.

        `embed` replaces the embedder's `embed_documents`, e.g. with vectors cached elsewhere; `english`
        likewise the English embedder's (used only when the memory has one).
        """
        self.check_current([kind])
        col, key, keywords = self._col(kind), self._key(kind), self._memory.keywords
        ids: list[str] = []
        for start in range(0, len(chunks), batch):
            part = chunks[start : start + batch]
            part_ids = [c.chunk_id for c in part]
            row_ids, vectors, texts, metas = windows.rows(part_ids, [c.text for c in part],
                                                          [_metadata(self.name, c) for c in part],
                                                          embed or self._memory.embedder.embed_documents,
                                                          self._english_embed(english))
            windows.upsert(col, row_ids, vectors, texts, metas)
            keywords.add(key, [(cid, c.doc_id, c.text) for cid, c in zip(part_ids, part)])
            ids.extend(part_ids)
            if on_batch:
                on_batch(len(ids), len(chunks))
        return ids

    def _english_embed(self, override: windows.Embed | None) -> windows.Embed | None:
        english = self._memory.english
        return None if english is None else (override or english.embed_documents)

    def add_document(self, doc_id: str, chunks: list[Chunk], kind: Kind = "documents", batch: int = 64,
                     on_batch: Callable[[int, int], None] | None = None) -> list[str]:
        """Store every chunk of one document or none: hidden from search until all are in, removed on failure."""
        if any(c.doc_id != doc_id for c in chunks):
            raise ValueError("every chunk of a document must carry its doc_id")
        keywords, key = self._memory.keywords, self._key(kind)
        keywords.hold(key, doc_id)
        try:
            ids = self.add(kind, chunks, batch=batch, on_batch=on_batch)
        except BaseException as exc:
            if leaves_storage_unusable(exc):
                raise  # the hold keeps what was stored hidden until the library's sweep removes it
            try:
                self._purge(kind, doc_id)
            except Exception:  # the hold stays, as above
                pass
            else:
                keywords.release(key, doc_id)
            raise
        keywords.release(key, doc_id)
        return ids

    def _purge(self, kind: Kind, doc_id: str) -> int:
        col = self._col(kind)
        found = col.get(where=self._where(doc_id=doc_id), include=[])
        if found["ids"]:
            col.delete(ids=found["ids"])
        self._memory.keywords.delete_document(self._key(kind), doc_id)
        return len(found["ids"])

    def delete_document(self, doc_id: str, kinds: Iterable[Kind] = KINDS) -> int:
        """Remove every chunk of a document in this workspace; return how many Chroma held."""
        removed = 0
        keywords = self._memory.keywords
        for kind in kinds:
            key = self._key(kind)
            keywords.hold(key, doc_id)  # hidden at once, even while Chroma is still deleting
            removed += self._purge(kind, doc_id)
            keywords.release(key, doc_id)
        return removed

    def count(self, kind: Kind = "documents", doc_id: str | None = None) -> int:
        """Chunks stored (not their windows)."""
        where = self._where(doc_id=doc_id) if doc_id is not None else self._where()
        return sum(not windows.is_window(i) for i in self._col(kind).get(where=where, include=[])["ids"])

    def keyword_count(self, kind: Kind = "documents", doc_id: str | None = None) -> int:
        return self._memory.keywords.count(self._key(kind), doc_id)

    def search_documents(self, query: str, k: int = 5, with_findings: bool = False) -> list[Hit]:
        """What a person searching a workspace gets: passages of its documents, and with
        `with_findings` the web findings the crew remembered too.

        The Documents page and `crew search` both ask this, so they cannot disagree; its passages are completed to
        whole sentences, as the researcher's are.
        """
        return self.whole_sentences(
            self.search(query, k=k, kinds=("documents", "findings") if with_findings else ("documents",)))

    def whole_sentences(self, hits: list[Hit]) -> list[Hit]:
        """The hits with the sentences cut at their edges completed from the chunks beside them on the same page
        (crew.retrieval.sentences); a passage read, quoted or cited then starts and ends with whole sentences."""
        wanted = {(h.kind, chunk_id_of(h.doc_id, h.position + step)) for h in hits if h.doc_id for step in (-1, 1)
                  if h.position + step >= 0}
        if not wanted:
            return hits
        beside: dict[tuple[Kind, str], Hit] = {}
        self._fetch(beside, sorted(wanted))
        out = []
        for h in hits:
            def near(step: int) -> str | None:
                other = beside.get((h.kind, chunk_id_of(h.doc_id, h.position + step)))
                same_place = other is not None and other.page == h.page and (h.page or other.heading == h.heading)
                return other.text if same_place else None

            text = sentences.whole(near(-1), h.text, near(1))
            out.append(h if text == h.text else dataclasses.replace(h, text=text))
        return out

    def search(self, query: str, k: int = 5, kinds: Iterable[Kind] = KINDS, mode: Mode = "hybrid",
               candidates: int | None = None, checked: bool = False) -> list[Hit]:
        """Return the k best chunks for a query.

        `checked`: the caller made sure the stored vectors are the running model's (a turn does so
        as it starts), so each of its searches need not look the collections up again.

        hybrid: the vector search's top candidates and the keyword search's top candidates form one
        pool; every pooled chunk is ranked by cosine similarity and by BM25 score, and the two
        rankings are fused by weighted reciprocal rank (keywords weigh more when the query is in the
        language of the passages found, `fusion.keyword_weight`). Scoring the whole pool both ways (instead of
        fusing two lists that each know only their own finds) lets a keyword match confirm a
        semantic one, and a chunk found by one method alone still gets the other's opinion.

        In every mode the k passages are the best of k different places (pages, sections) when the
        candidates hold that many: a second chunk of a page comes after the first chunk of each
        other page (`fusion.one_per_place`).
        """
        if mode not in MODES:
            raise ValueError(f"unknown search mode {mode!r}: use one of {', '.join(MODES)}")
        if not query.strip() or k < 1:
            return []
        n_vector = candidates or max(4 * k, 20)
        n_keyword = candidates or max(2 * k, 10)
        kinds = tuple(kinds)
        keywords = self._memory.keywords
        keys = {kind: self._key(kind) for kind in kinds}
        # What does not need the vector finds runs beside the vector search, on the memory's threads (Chroma,
        # SQLite, Postgres and onnxruntime let go of the GIL while they work): the documents on hold, the keyword
        # query's preparation and the stale-vector check (while the question is embedded); then the keyword ranking,
        # and the English model's query.
        threads = self._memory.threads()
        holding = {kind: threads.submit(keywords.held, keys[kind]) for kind in kinds}
        prepared = {kind: threads.submit(keywords.prepare, keys[kind], query) for kind in kinds} if mode != "vector" else {}
        stale = threads.submit(self.check_current, kinds) if mode != "keyword" and not checked else None

        found: dict[tuple[Kind, str], Hit] = {}
        cosine: dict[tuple[Kind, str], float] = {}  # a chunk's own similarity: what `Hit.similarity` reports
        closest: dict[tuple[Kind, str], float] = {}  # the better of it and its best window's: what ranks it
        english: dict[tuple[Kind, str], str] = {}  # English chunks' packed English vectors, as their rows are read
        vector = np.asarray(self._memory.embedder.embed_query(query), dtype=np.float32) if mode != "keyword" else None
        held = {kind: holding[kind].result() for kind in kinds}
        if stale is not None:
            stale.result()  # before the collections are used: the check may put a new empty one in an old one's place
        if vector is not None:
            for own, best in self._memory.side_by_side(
                    lambda kind: self._nearest(kind, vector, n_vector, bool(held[kind])), list(kinds)):
                cosine.update(own)
                closest.update(best)
        # The keyword index ranks its own finds and gives its opinion of the vector finds in one pass, while the
        # vector finds are read here.
        ranking = {kind: threads.submit(keywords.rank, prepared[kind].result(), n_keyword, held[kind],
                                        [cid for kd, cid in closest if kd == kind]) for kind in prepared}
        if vector is not None:
            self._fetch(found, list(closest), vector, cosine, english)
            for key in [key for key in closest if key not in found or found[key].doc_id in held[key[0]]]:
                found.pop(key, None)
                del closest[key]
        english_query = None
        if mode == "hybrid":
            # The language of what the vectors found first stands for the documents': a question in
            # another language meets them by keyword only on shared names, so keywords weigh less.
            first = sorted(closest, key=lambda key: closest[key], reverse=True)[:LANGUAGE_SAMPLE]
            same = same_language(query, [found[key].text for key in first])
            english_query = threads.submit(self._english_query, query) if same else None
        bm25: dict[tuple[Kind, str], float] = {}
        for kind, running in ranking.items():
            best, scores = running.result()
            bm25.update({(kind, cid): score for cid, score in best})
            bm25.update({(kind, cid): score for cid, score in scores.items() if (kind, cid) in closest})
        closest = {key: max(value, cosine.get(key, -1.0)) for key, value in closest.items()}
        if mode == "vector":
            ranked = sorted(closest.items(), key=lambda x: x[1], reverse=True)
        elif mode == "keyword":
            ranked = sorted(bm25.items(), key=lambda x: x[1], reverse=True)
        else:
            fetched = [key for key in bm25 if key not in found]
            self._fetch(found, fetched, vector, cosine, english)
            for key in fetched:
                if key in cosine:
                    closest[key] = max(closest.get(key, -1.0), cosine[key])
            pool = [key for key in dict.fromkeys([*closest, *bm25]) if key in found]
            by_vector = sorted((key for key in pool if key in closest), key=lambda key: closest[key], reverse=True)
            by_keyword = sorted((key for key in pool if key in bm25), key=lambda key: bm25[key], reverse=True)
            rankings, weights = [by_vector, by_keyword], [1.0, keyword_weight(query, same)]
            if english_query and (by_english := self._english_ranking(pool, english, english_query.result())):
                rankings.append(by_english)
                weights.append(ENGLISH_WEIGHT)
            ranked = fuse(rankings, weights, k=RRF_K)
        self._fetch(found, [key for key, _ in ranked if key not in found])
        top = one_per_place([(key, score) for key, score in ranked if key in found], lambda key: place_of(found[key]), k)
        return [_rescore(found[key], score, cosine.get(key, 0.0)) for key, score in top if key in found]

    def _nearest(self, kind: Kind, vector: np.ndarray, n: int, held: bool) -> tuple[dict, dict]:
        """The chunks of one kind nearest a query vector, met as themselves or through one of their windows: a
        chunk's own similarity when its row was met, and the better of it and its best window's. Only distances
        are asked (a window's id names its chunk): the chunks are read afterwards, once each."""
        # A chunk comes back as itself or as any of its ~5 windows: ask for enough rows to see as many chunks.
        wanted = (2 * n if held else n) * WINDOW_ROWS
        res = self._col(kind).query(query_embeddings=[vector], n_results=wanted, include=["distances"])
        own: dict[tuple[Kind, str], float] = {}
        best: dict[tuple[Kind, str], float] = {}
        for rid, dist in zip(res["ids"][0], res["distances"][0]):
            key = (kind, windows.chunk_of(rid))
            best[key] = max(best.get(key, -1.0), 1.0 - float(dist))
            if key[1] == rid:
                own[key] = 1.0 - float(dist)
        return own, best

    def _english_query(self, query: str) -> np.ndarray | None:
        """The English model's vector of an English question; None for another language or without the model."""
        english = self._memory.english
        if english is None:
            return None
        from crew.retrieval.stemming import language_of

        return english.embed_query(query) if language_of(query) == en.LANGUAGE else None

    def _english_ranking(self, pool: list[tuple[Kind, str]], packed: dict[tuple[Kind, str], str],
                         query: np.ndarray | None) -> list[tuple[Kind, str]]:
        """The pool's English chunks (`packed`: their English vectors, kept as their rows were read) ranked
        by the English model's vector of the question (`_english_query`); [] without one, or when most of the
        pool is not English (fusion.ENGLISH_POOL_SHARE)."""
        if query is None or sum(key in packed for key in pool) < ENGLISH_POOL_SHARE * len(pool):
            return []
        scores = {key: en.similarity(packed[key], query) for key in pool if key in packed}
        return sorted(scores, key=lambda key: scores[key], reverse=True)

    def _fetch(self, found: dict[tuple[Kind, str], Hit], keys: list[tuple[Kind, str]],
               vector: np.ndarray | None = None, cosine: dict | None = None,
               english: dict[tuple[Kind, str], str] | None = None) -> None:
        """Read chunks from Chroma (the source of truth) into `found`, with their similarity to `vector` into
        `cosine` when not known yet, and their English vectors into `english`."""
        include = ["documents", "metadatas"] + (["embeddings"] if vector is not None else [])
        kinds = list(dict.fromkeys(kind for kind, _ in keys))

        def get(kind: Kind) -> dict:
            return self._col(kind).get(ids=[cid for kd, cid in keys if kd == kind], include=include)

        for kind, res in zip(kinds, self._memory.side_by_side(get, kinds)):
            for i, (cid, text, meta) in enumerate(zip(res["ids"], res["documents"], res["metadatas"])):
                found[(kind, cid)] = _hit(kind, cid, text, meta, 0.0)
                if english is not None:
                    _keep_english(english, (kind, cid), meta)
                if vector is not None and cosine is not None and (kind, cid) not in cosine:
                    cosine[(kind, cid)] = float(np.dot(np.asarray(res["embeddings"][i], dtype=np.float32), vector))


def _keep_english(english: dict[tuple[Kind, str], str], key: tuple[Kind, str], meta: dict[str, Any] | None) -> None:
    if packed := (meta or {}).get(en.VECTORS_KEY):
        english[key] = packed


def place_of(hit: Hit) -> tuple[str, str, int | str] | None:
    """Where a hit is, for one passage per place: its document and page or section; None when it has neither."""
    where = hit.page or hit.place  # a page is one place whatever headings its chunks stand under
    return (hit.kind, hit.doc_id, where) if where else None


def _rescore(hit: Hit, score: float, similarity: float) -> Hit:
    return Hit(text=hit.text, source=hit.source, page=hit.page, url=hit.url, score=round(float(score), 4),
               chunk_id=hit.chunk_id, doc_id=hit.doc_id, position=hit.position, kind=hit.kind, extra=hit.extra,
               similarity=round(float(similarity), 4))


def _hit(kind: Kind, chunk_id: str, text: str, meta: dict[str, Any], score: float) -> Hit:
    known = {"workspace", "source", "doc_id", "position", "page", "url", en.VECTORS_KEY}
    meta = meta or {}
    return Hit(
        text=text or "", source=str(meta.get("source", "")), page=int(meta.get("page", 0) or 0),
        url=str(meta.get("url", "")), score=round(score, 4), chunk_id=chunk_id,
        doc_id=str(meta.get("doc_id", "")), position=int(meta.get("position", 0) or 0), kind=kind,
        extra={k: v for k, v in meta.items() if k not in known},
    )
