"""English chunks carry an English model's vector too (crew.retrieval.english), and an English question
on English passages has the candidate pool ranked by it as well; nothing changes for Spanish."""

from __future__ import annotations

import numpy as np
import pytest

from crew.retrieval import english as en
from crew.retrieval import windows
from crew.retrieval.memory import MODEL_KEY, Chunk, Memory, StaleVectors, chroma_client, collection_name, model_id_of

FILLER = ("The committee met on a Tuesday and discussed the budget, the parking rota, the new carpets for the "
          "second floor and whether the canteen should open earlier in winter. ")
SPANISH = ("El comité se reunió el martes y habló del presupuesto, del turno del aparcamiento, de las alfombras "
           "nuevas de la segunda planta y de si la cantina debe abrir antes en invierno. ")


class Tagged:
    """An embedder double: a text holding one of the tags is at that tag's cosine from every query, any
    other text at `default`; it records what it was asked, so a test sees when the search used it."""

    max_tokens = 0

    def __init__(self, model_id: str, cosines: dict[str, float], default: float = 0.0, dim: int = en.DIM) -> None:
        self.model_id, self.cosines, self.default, self.dim = model_id, cosines, default, dim
        self.documents: list[str] = []
        self.queries: list[str] = []

    def _vector(self, cosine: float) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        v[0], v[1] = cosine, np.sqrt(max(0.0, 1.0 - cosine * cosine))
        return v

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        self.documents += list(texts)
        cos = [next((c for tag, c in self.cosines.items() if tag in t), self.default) for t in texts]
        return np.stack([self._vector(c) for c in cos]) if texts else np.zeros((0, self.dim), dtype=np.float32)

    __call__ = embed_documents

    def embed_query(self, text: str) -> np.ndarray:
        self.queries.append(text)
        return self._vector(1.0)

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def marked(tag: str, model_id: str = "marked-english-v1") -> Tagged:
    """An English-model double that points texts holding `tag` at every query."""
    return Tagged(model_id, {tag: 1.0})


def test_packed_vectors_keep_their_cosines():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(3, en.DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    query = vectors[0] + 0.5 * vectors[2]
    query /= np.linalg.norm(query)
    packed = en.pack(vectors)
    assert isinstance(en.pack(vectors[0]), str) and len(en.pack(vectors[0])) == 512  # 384 int8 in base64, not floats
    assert np.allclose(en.unpack(packed) @ query, vectors @ query, atol=0.01)
    assert en.similarity(packed, query) == pytest.approx(float((vectors @ query).max()), abs=0.01)


def test_only_english_chunks_are_embedded_by_the_english_model():
    model = marked("budget")
    packed = en.vectors_for([FILLER * 2, SPANISH * 2, "Kestrels nest in the bell tower every spring."], model.embed_documents)
    assert packed[0] is not None and packed[1] is None and packed[2] is not None
    assert model.documents == [FILLER * 2, "Kestrels nest in the bell tower every spring."]  # one call, English only
    assert en.similarity(packed[0], model.embed_query("q")) == pytest.approx(1.0)


def test_rows_put_the_english_vector_on_the_chunk_row_only_and_drop_an_old_one():
    model = marked("budget")
    metas = [{"workspace": "w", "doc_id": "d", en.VECTORS_KEY: "left by another model"},
             {"workspace": "w", "doc_id": "d", en.VECTORS_KEY: "left by another model"}]
    ids, _, _, out = windows.rows(["d-000000", "d-000001"], [FILLER * 3, SPANISH * 3], metas,
                                  lambda ts: np.ones((len(ts), 4)), model.embed_documents)
    assert out[0][en.VECTORS_KEY] != "left by another model"
    assert en.VECTORS_KEY not in out[1]  # Spanish: no English vector, and not the stale one
    assert all(en.VECTORS_KEY not in m for i, m in zip(ids, out) if windows.is_window(i))
    assert metas[0][en.VECTORS_KEY] == "left by another model"  # the caller's dicts are not changed
    _, _, _, plain = windows.rows(["d-000000"], [FILLER * 3], metas[:1], lambda ts: np.ones((len(ts), 4)))
    assert en.VECTORS_KEY not in plain[0]


def test_the_english_model_is_part_of_the_stored_model_id(tmp_path, embedder):
    client = chroma_client(tmp_path / "data")
    with_english = Memory(client, embedder, english=marked("x"))
    assert with_english.model_id == model_id_of(embedder, with_english.english)
    assert "marked-english-v1" in with_english.model_id and embedder.model_id in with_english.model_id
    with_english.workspace("w").add("documents", [Chunk(FILLER, "a.txt", "a", 0)])
    col = client.get_collection(collection_name("crew", "documents", "w"))
    assert col.metadata[MODEL_KEY] == with_english.model_id
    with pytest.raises(StaleVectors):  # the same USE vectors, but English chunks carry vectors of a model this one lacks
        Memory(client, embedder).workspace("w").search("budget", k=1)
    with pytest.raises(StaleVectors):  # another English model: never mixed either
        Memory(client, embedder, english=marked("x", "other-english-v2")).workspace("w").search("budget", k=1)


def test_an_english_question_on_english_passages_is_ranked_by_the_english_model_too(tmp_path):
    # No word of the question is in any passage, so the two vector rankings alone decide: the main model
    # puts "alpha" first and "beta" second, the English model "beta" first and "alpha" last.
    client = chroma_client(tmp_path / "data")
    main = Tagged("tagged-main-v1", {"alpha": 0.9, "beta": 0.8}, default=0.1, dim=16)
    model = Tagged("tagged-english-v1", {"beta": 1.0, "alpha": -1.0}, default=0.0)
    chunks = [Chunk(f"{FILLER}Note {tag}.", f"{tag}.txt", tag, 0) for tag in ("alpha", "beta", "gamma", "delta")]
    memory = Memory(client, main, english=model)
    memory.workspace("w").add("documents", chunks)
    assert sorted(model.documents) == sorted(c.text for c in chunks)  # every English chunk got its English vector
    query = "Where does the owl sleep during the day?"
    without = Memory(client, main).workspace("w").search(query, k=4, checked=True)  # the same rows, English unused
    assert [h.doc_id for h in without][:2] == ["alpha", "beta"]
    found = memory.workspace("w").search(query, k=4)
    assert model.queries == [query]
    assert [h.doc_id for h in found][:2] == ["beta", "alpha"]
    assert all(en.VECTORS_KEY not in h.extra for h in found)  # the packed vector stays inside the store


def test_the_english_model_does_not_vote_on_a_pool_that_is_mostly_not_english(tmp_path):
    # A Spanish manual quoting English text: its three English passages come first by the main vectors (so the
    # question passes the language test), but the pool is mostly Spanish and the English model could rank only
    # those three; it would put "beta" ahead of "alpha" as in the test above.
    client = chroma_client(tmp_path / "data")
    main = Tagged("tagged-main-v1", {"alpha": 0.9, "beta": 0.8, "gamma": 0.7}, default=0.1, dim=16)
    model = Tagged("tagged-english-v1", {"beta": 1.0, "gamma": 0.5, "alpha": -1.0}, default=0.0)
    chunks = [Chunk(f"{FILLER}Note {tag}.", f"{tag}.txt", tag, 0) for tag in ("alpha", "beta", "gamma")]
    chunks += [Chunk(SPANISH + f"Punto {n}.", f"s{n}.txt", f"s{n}", 0) for n in range(8)]
    memory = Memory(client, main, english=model)
    memory.workspace("w").add("documents", chunks)
    query = "Where does the owl sleep during the day?"
    found = memory.workspace("w").search(query, k=3)
    assert [h.doc_id for h in found] == ["alpha", "beta", "gamma"]  # the main vectors' order: no English vote


def test_spanish_questions_and_spanish_passages_never_ask_the_english_model(tmp_path, embedder):
    client = chroma_client(tmp_path / "data")
    model = marked("presupuesto")
    memory = Memory(client, embedder, english=model)
    memory.workspace("w").add("documents", [Chunk(SPANISH + f"Punto {n}.", f"s{n}.txt", f"s{n}", 0) for n in range(4)])
    memory.workspace("en").add("documents", [Chunk(FILLER + f"Item {n}.", f"e{n}.txt", f"e{n}", 0) for n in range(4)])
    assert model.documents == [FILLER + f"Item {n}." for n in range(4)]  # Spanish chunks got no English vector
    assert memory.workspace("w").search("¿Qué se habló del presupuesto?", k=2)
    assert memory.workspace("w").search("What did they say about the budget?", k=2)  # English question, Spanish passages
    assert memory.workspace("en").search("¿Qué se habló del presupuesto?", k=2)  # Spanish question, English passages
    assert model.queries == []
    memory.workspace("en").search("What did they say about the budget?", k=2)
    assert model.queries == ["What did they say about the budget?"]


def test_minilm_puts_a_paraphrase_closer_than_an_unrelated_sentence():
    model = en.EnglishEmbedder(threads=1)
    question = model.embed_query("How do I copy a whole folder with everything inside it?")
    passages = model.embed_documents(["shutil.copytree recursively copies an entire directory tree to a new place.",
                                      "The canteen opens earlier in winter."])
    assert passages.shape == (2, en.DIM)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    assert passages[0] @ question > passages[1] @ question + 0.2


def test_a_reindex_gives_english_chunks_their_english_vectors(tmp_path, embedder):
    from crew.documents.reindex import Reindex
    from tests.documents.conftest import Store

    text = f"# Notes\n\n{FILLER}\n\n## Actas\n\n{SPANISH}\n".encode()
    first = Store(tmp_path / "data", embedder)  # an app before the English model
    first.ingest("notes.md", text)
    assert not any(en.VECTORS_KEY in m for m in first.chroma()["metadatas"])
    later = Store(tmp_path / "data", embedder, english=marked("budget"))
    assert [s.kind for s in later.ws().stale()] == ["documents"]
    [result] = Reindex(later.ws(), later.library, chunk_size=400, chunk_overlap=40).run()
    assert result.status == "ok" and later.ws().stale() == []
    stored = later.chroma()
    carries = {"budget" in t: en.VECTORS_KEY in m for t, m in zip(stored["documents"], stored["metadatas"])}
    assert carries == {True: True, False: False}  # the English chunk has its vector, the Spanish one none
