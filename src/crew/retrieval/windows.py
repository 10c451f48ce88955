"""Each chunk is stored as a vector of its own and as vectors of its short windows.

An 800-character chunk's embedding is the average of everything the chunk says; a question asks
about one or two sentences of it. USE (multilingual v3) was trained on short texts, and a window of
about 300 characters (half-overlapping, cut at spaces) carries one thought. The vector search ranks
a chunk by the better of its own similarity and its best window's, and returns the chunk: the
passage a citation points at stays the whole chunk, on its page.

On the labelled tuning sets (bench/RESULTS.md) this lifted vector recall@5 from 0.79 to 0.88
(Spanish 0.73 -> 0.91), and hybrid recall@5 to 0.91 once the keyword vote was halved to match
(`fusion.KEYWORD_WEIGHT`): the vectors had become the better judge. Windows of 200 and 400
characters were tried and did worse (vector recall 0.86, 0.81). It costs one more embedding per
150 characters at ingest (about 2.2x the embedding work) and index entries, not keyword entries.

Window rows live in the chunk's collection with the chunk's `doc_id` (so deleting a document
deletes them) and a `parent` naming the chunk; their ids end in `~w<n>`. The vector layout is part
of the id stored with a collection (`SCHEME`, `memory.model_id_of`), so collections made before
windows are detected as stale and re-embedded, never searched half one way and half the other.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from crew.retrieval.english import VECTORS_KEY, vectors_for

WINDOW_CHARS = 300
SCHEME = f"windows of {WINDOW_CHARS} characters"
PARENT_KEY = "parent"
_MARK = "~w"

Embed = Callable[[list[str]], Any]


def windows_of(text: str, size: int = WINDOW_CHARS) -> list[str]:
    """Half-overlapping windows of about `size` characters, cut between words; none for a short text."""
    words = text.split()
    out: list[str] = []
    current: list[str] = []
    length = 0
    for word in words:
        current.append(word)
        length += len(word) + 1
        if length >= size:
            out.append(" ".join(current))
            current = current[len(current) // 2 :]
            length = sum(len(w) + 1 for w in current)
    if current and (not out or length > size // 3):
        out.append(" ".join(current))
    return out if len(out) > 1 else []  # a chunk that is one window already has its own vector


def window_id(chunk_id: str, n: int) -> str:
    return f"{chunk_id}{_MARK}{n}"


def is_window(record_id: str) -> bool:
    return _MARK in record_id


def chunk_of(record_id: str) -> str:
    """The id of the chunk a row stands for: its own, or its window's chunk's."""
    return record_id.split(_MARK, 1)[0]


def rows(ids: Sequence[str], texts: Sequence[str], metadatas: Sequence[dict[str, Any]],
         embed: Embed, english: Embed | None = None) -> tuple[list[str], np.ndarray, list[str | None], list[dict[str, Any]]]:
    """The Chroma rows for chunks: each chunk's own row (with its text), then its windows' rows (vectors
    only); one `embed` call.

    With `english` (crew.retrieval.english's embedder), an English chunk's row also carries the English
    model's vector of the chunk; any such vector the metadata came with is dropped.
    """
    out_ids, out_texts = list(ids), list(texts)
    out_metas = [{k: v for k, v in (meta or {}).items() if k != VECTORS_KEY} for meta in metadatas]
    if english is not None:
        for meta, packed in zip(out_metas, vectors_for(texts, english)):
            if packed is not None:
                meta[VECTORS_KEY] = packed
    for cid, text, meta in zip(ids, texts, metadatas):
        for n, window in enumerate(windows_of(text)):
            out_ids.append(window_id(cid, n))
            out_texts.append(window)
            out_metas.append({"workspace": meta.get("workspace", ""), "doc_id": meta.get("doc_id", ""),
                              PARENT_KEY: cid})
    vectors = np.asarray(embed(out_texts), dtype=np.float32) if out_texts else np.zeros((0, 0), dtype=np.float32)
    # A window is found for its chunk and never shown, so Chroma keeps no text of it: storing it took
    # about half of Chroma's time per row (its own full-text index of documents).
    documents: list[str | None] = [*out_texts[: len(ids)], *([None] * (len(out_texts) - len(ids)))]
    return out_ids, vectors, documents, out_metas


UPSERT_ROWS = 1000  # under Chroma's largest batch (5,461 rows embedded; a server may take fewer)


def upsert(collection: Any, ids: Sequence[str], vectors: Any, documents: Sequence[str | None],
           metadatas: Sequence[dict[str, Any]]) -> None:
    """Store `rows`' output in slices Chroma accepts: a chunk brings about six rows, so a caller's batch
    of chunks can pass Chroma's limit on one call."""
    for start in range(0, len(ids), UPSERT_ROWS):
        end = start + UPSERT_ROWS
        collection.upsert(ids=list(ids[start:end]), embeddings=vectors[start:end],
                          documents=list(documents[start:end]), metadatas=list(metadatas[start:end]))
