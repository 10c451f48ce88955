"""Chunks are searched by their short windows too (crew.retrieval.windows), and the windows follow their chunk."""

from __future__ import annotations

import numpy as np
import pytest

from crew.retrieval import windows
from crew.retrieval.memory import Chunk, Memory, StaleVectors, chroma_client, collection_name

FILLER = ("The committee met on a Tuesday and discussed the budget, the parking rota, the new carpets for the "
          "second floor and whether the canteen should open earlier in winter. ")


def test_windows_overlap_cut_between_words_and_cover_the_text():
    text = " ".join(f"word{n}" for n in range(200))
    found = windows.windows_of(text)
    assert len(found) > 3
    assert all(len(w) <= windows.WINDOW_CHARS + 10 for w in found)
    assert set(" ".join(found).split()) == set(text.split())  # every word is in some window
    assert found[1].split()[0] in found[0].split()  # consecutive windows share words
    assert windows.windows_of("A short chunk is its own window.") == []


def test_rows_give_each_window_its_parent_and_document_and_keep_only_the_chunks_text():
    embedded = []
    ids, vectors, texts, metas = windows.rows(["d-000001"], [FILLER * 3], [{"workspace": "w", "doc_id": "d", "page": 2}],
                                              lambda ts: embedded.extend(ts) or np.ones((len(ts), 4)))
    assert ids[0] == "d-000001" and metas[0]["page"] == 2
    assert len(ids) == len(vectors) == len(texts) == len(embedded) > 2
    assert texts[0] == embedded[0] == FILLER * 3 and texts[1:] == [None] * (len(ids) - 1)
    assert all(FILLER.split()[0] in w for w in embedded[1:])  # the windows' own words were embedded
    assert all(windows.is_window(i) and m == {"workspace": "w", "doc_id": "d", "parent": "d-000001"}
               for i, m in zip(ids[1:], metas[1:]))


@pytest.fixture()
def memory(tmp_path, embedder):
    return Memory(chroma_client(tmp_path / "data"), embedder)


def test_a_sentence_buried_in_a_long_chunk_is_found_and_the_chunk_is_returned(memory):
    buried = FILLER * 2 + "Kestrels nest in the old bell tower from April onwards. " + FILLER * 2
    ws = memory.workspace("w")
    ws.add("documents", [Chunk(buried, "minutes.txt", "m", 0, page=4)]
           + [Chunk(FILLER + f"Item {n} was postponed.", "other.txt", f"o{n}", 0, page=1) for n in range(8)])
    assert ws.count() == 9  # chunks, not their windows
    hits = ws.search("where do the kestrels nest?", k=3, mode="vector")
    assert hits[0].chunk_id == "m-000000" and hits[0].text == buried and hits[0].page == 4
    assert len({h.chunk_id for h in hits}) == len(hits) and not any(windows.is_window(h.chunk_id) for h in hits)


def test_deleting_a_document_deletes_its_windows(memory):
    ws = memory.workspace("w")
    ws.add("documents", [Chunk(FILLER * 3, "a.txt", "a", 0), Chunk(FILLER * 3, "b.txt", "b", 0)])
    col = memory.client.get_collection(collection_name("crew", "documents", "w"))
    assert col.count() > 2
    ws.delete_document("a")
    left = col.get(include=["metadatas"])
    assert left["ids"] and all(m["doc_id"] == "b" for m in left["metadatas"])


def test_a_collection_made_before_windows_is_stale(memory, embedder):
    ws = memory.workspace("w")
    ws.add("documents", [Chunk(FILLER, "a.txt", "a", 0)])
    col = memory.client.get_collection(collection_name("crew", "documents", "w"))
    col.modify(metadata={**col.metadata, "embedding_model": embedder.model_id})  # the id before windows
    fresh = Memory(memory.client, embedder)
    with pytest.raises(StaleVectors):
        fresh.workspace("w").search("budget", k=1)


def test_a_large_batch_of_chunks_is_stored_in_slices_chroma_accepts(memory):
    """2,000 chunks bring ~10,000 rows with their windows, past Chroma's 5,461 rows per call."""
    rng = np.random.default_rng(0)

    def unit_vectors(texts):
        v = rng.normal(size=(len(texts), memory.embedder.dim)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    chunks = [Chunk(f"Minutes {n}. " + FILLER * 3, "minutes.txt", "m", n) for n in range(2000)]
    ws = memory.workspace("w")
    ws.add("documents", chunks, batch=2000, embed=unit_vectors)
    col = memory.client.get_collection(collection_name("crew", "documents", "w"))
    assert col.count() > 5461 and ws.count() == 2000


def test_a_document_on_hold_is_not_found_through_its_windows_either(memory):
    buried = FILLER * 2 + "Kestrels nest in the old bell tower from April onwards. " + FILLER * 2
    ws = memory.workspace("w")
    ws.add("documents", [Chunk(buried, "minutes.txt", "m", 0, page=4)]
           + [Chunk(FILLER + f"Item {n} was postponed.", "other.txt", f"o{n}", 0, page=1) for n in range(8)])
    assert ws.search("where do the kestrels nest?", k=1)[0].doc_id == "m"
    memory.keywords.hold(collection_name("crew", "documents", "w"), "m")  # as while it is being added or removed
    for mode in ("hybrid", "vector", "keyword"):
        hits = ws.search("where do the kestrels nest?", k=9, mode=mode)
        assert "m" not in {h.doc_id for h in hits}, mode
