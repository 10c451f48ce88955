"""Originals are kept; `reindex` reads every document again (same ids and names, all or nothing per
document); vectors of another embedding model are never searched or mixed, and a re-index rebuilds
them with the running model."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from crew.retrieval.memory import LEGACY_MODEL_ID, MODEL_KEY, Memory, StaleVectors, collection_name, model_id_of
from crew.documents.reindex import NO_ORIGINAL, Reindex
from tests.documents import makers
from tests.documents.conftest import Store
from tests.servers import run_cli

PAGES = ["Owls hunt at night over the meadow.", "Herons wade in the shallow lake.",
         "The kestrel ringing code is KESTREL-5521 at the north station."]


class OtherModel:
    """A second embedder with its own id and vector size: hashed words, deterministic."""

    model_id = "other-model-v2"
    dim = 64
    max_tokens = 512

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, int(hashlib.sha256(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        return out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-9, None)

    __call__ = embed_documents

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def corrupt_stored_text(store: Store, doc_id: str) -> None:
    """Make the stored chunks look as an old parser left them: words run together."""
    col = store.client.get_collection(collection_name("crew", "documents", "default"))
    old = col.get(where={"doc_id": doc_id}, include=["documents", "metadatas", "embeddings"])
    col.upsert(ids=old["ids"], embeddings=old["embeddings"], metadatas=old["metadatas"],
               documents=[t.replace(" ", "") for t in old["documents"]])


def test_the_original_is_kept_and_deleted_with_its_document(store):
    pdf = makers.pdf(PAGES)
    res = store.ingest("birds.pdf", pdf)
    assert store.library.original("default", res.doc_id) == pdf
    path = store.data_dir / "originals" / "default" / res.doc_id
    assert path.read_bytes() == pdf
    assert store.library.delete("default", res.doc_id)
    assert not path.exists() and store.library.original("default", res.doc_id) is None


def test_a_failed_upload_keeps_no_original(store):
    res = store.ingest("scan.pdf", makers.pdf(["", ""]))
    assert res.status == "error"
    assert not [f for f in (store.data_dir / "originals").rglob("*") if f.is_file()]


def test_reindex_reads_documents_again_keeping_ids_and_names(store):
    res = store.ingest("birds.pdf", makers.pdf(PAGES))
    note = store.ingest("notes.md", b"# Notes\n\nThe osprey returned on 3 April.\n")
    corrupt_stored_text(store, res.doc_id)
    assert "Thekestrelringingcode" in store.chroma(doc_id=res.doc_id)["documents"][2]

    results = Reindex(store.ws(), store.library, chunk_size=400, chunk_overlap=40).run()
    assert [(r.file, r.status, r.doc_id) for r in results] == [("notes.md", "ok", note.doc_id),
                                                                ("birds.pdf", "ok", res.doc_id)]
    texts = store.chroma(doc_id=res.doc_id)["documents"]
    assert any("The kestrel ringing code is KESTREL-5521" in t for t in texts)
    assert [d.name for d in store.library.documents("default")] == ["notes.md", "birds.pdf"]
    hit = store.ws().search("kestrel ringing code", k=1)[0]
    assert (hit.doc_id, hit.page, hit.source) == (res.doc_id, 3, "birds.pdf")
    assert store.ws().keyword_count() == len(store.chroma()["ids"])  # keyword rows follow the new chunks
    assert not [c.name for c in store.client.list_collections() if c.name.endswith("-next")]


def test_a_document_without_original_is_named_and_keeps_its_chunks(store):
    res = store.ingest("birds.pdf", makers.pdf(PAGES))
    (store.data_dir / "originals" / "default" / res.doc_id).unlink()  # as if added before originals were kept
    before = sorted(store.chroma(doc_id=res.doc_id)["documents"])
    [result] = Reindex(store.ws(), store.library, chunk_size=400, chunk_overlap=40).run()
    assert result.status == "skipped" and "re-upload it to re-index" in result.error and NO_ORIGINAL in result.error
    assert sorted(store.chroma(doc_id=res.doc_id)["documents"]) == before
    assert store.ws().search("kestrel ringing code", k=1)[0].doc_id == res.doc_id


def test_a_document_that_fails_to_parse_keeps_its_old_chunks_and_others_go_on(store):
    bad = store.ingest("birds.pdf", makers.pdf(PAGES))
    good = store.ingest("notes.md", b"# Notes\n\nThe osprey returned on 3 April.\n")
    store.library.keep_original("default", bad.doc_id, b"%PDF-1.4 not really a pdf any more")
    before = sorted(store.chroma(doc_id=bad.doc_id)["documents"])
    results = {r.file: r for r in Reindex(store.ws(), store.library, chunk_size=400, chunk_overlap=40).run()}
    assert results["birds.pdf"].status == "error" and "old chunks are kept" in results["birds.pdf"].error
    assert "damaged" in results["birds.pdf"].error
    assert results["notes.md"].status == "ok"
    assert sorted(store.chroma(doc_id=bad.doc_id)["documents"]) == before
    assert store.chroma(doc_id=good.doc_id)["ids"]


def test_a_cancelled_reindex_leaves_the_old_index_whole(store):
    from crew.documents.uploads import CANCELLED, Uploads

    res = store.ingest("birds.pdf", makers.pdf(PAGES))
    store.ingest("notes.md", b"# Notes\n\nThe osprey returned on 3 April.\n")
    corrupt_stored_text(store, res.doc_id)
    job = Reindex(store.ws(), store.library, chunk_size=400, chunk_overlap=40)
    uploads = Uploads()
    running = uploads.submit("default", [(d.name, b"") for d in job.documents],
                             lambda ws, name, data, progress: (uploads.cancel(running.job_id)
                                                               if name == "birds.pdf" else None,
                                                               job.step(ws, name, data, progress))[1])
    assert uploads.wait(running.job_id, 60)
    assert [f.result.status for f in running.files] == ["ok", "error"]
    assert running.files[1].result.error == CANCELLED
    assert any("Thekestrelringingcode" in t for t in store.chroma(doc_id=res.doc_id)["documents"])
    assert not [c.name for c in store.client.list_collections() if c.name.endswith("-next")]


def test_vectors_of_another_model_are_refused_then_rebuilt_by_reindex(tmp_path, embedder):
    first = Store(tmp_path / "data", embedder)
    res = first.ingest("birds.pdf", makers.pdf(PAGES))
    col = first.client.get_collection(collection_name("crew", "documents", "default"))
    assert col.metadata[MODEL_KEY] == model_id_of(embedder) and embedder.model_id in model_id_of(embedder)

    later = Store(tmp_path / "data", OtherModel())  # the app restarted with another embedder
    with pytest.raises(StaleVectors) as stale:
        later.ws().search("kestrel ringing code", k=1)
    message = str(stale.value)
    assert embedder.model_id in message and "other-model-v2" in message
    assert "Re-index" in message and "python -m crew reindex --workspace default" in message
    assert [s.kind for s in later.ws().stale()] == ["documents"]
    refused = later.ingest("notes.md", b"# Notes\n\nThe osprey returned on 3 April.\n")
    assert refused.status == "error" and "re-embedded" in refused.error
    assert len(later.chroma()["ids"]) == 3  # nothing mixed in
    assert later.ws().search("kestrel", k=1, mode="keyword")[0].doc_id == res.doc_id  # words need no vectors

    [result] = Reindex(later.ws(), later.library, chunk_size=400, chunk_overlap=40).run()
    assert result.status == "ok" and result.doc_id == res.doc_id
    col = later.client.get_collection(collection_name("crew", "documents", "default"))
    assert col.metadata[MODEL_KEY] == model_id_of(OtherModel())
    assert len(col.get(include=["embeddings"])["embeddings"][0]) == OtherModel.dim
    assert later.ws().stale() == []
    assert later.ws().search("kestrel ringing code KESTREL-5521", k=1)[0].page == 3
    assert later.ingest("notes.md", b"# Notes\n\nThe osprey returned on 3 April.\n").status == "ok"


def test_stale_findings_are_embedded_again_from_their_text(tmp_path, embedder):
    from crew.retrieval.memory import Chunk

    first = Store(tmp_path / "data", embedder)
    first.ws().add("findings", [Chunk("Storks nest on chimneys in Alcala.", "web", "f1", 0, url="https://example.org/s")])
    later = Store(tmp_path / "data", OtherModel())
    assert [s.kind for s in later.ws().stale()] == ["findings"]
    with pytest.raises(StaleVectors, match="saved web findings"):
        later.ws().search("storks", k=1)
    assert Reindex(later.ws(), later.library).run() == []
    hit = later.ws().search("storks nest chimneys", k=1)[0]
    assert hit.kind == "findings" and hit.url == "https://example.org/s"


def test_a_collection_from_before_models_were_recorded_counts_as_minilm(tmp_path, embedder):
    store = Store(tmp_path / "data", embedder)
    name = collection_name("crew", "documents", "default")
    legacy = store.client.create_collection(name, embedding_function=None, metadata={"workspace": "default", "kind": "documents"})
    legacy.add(ids=["d-000000"], embeddings=embedder(["Owls hunt at night."]), documents=["Owls hunt at night."],
               metadatas=[{"workspace": "default", "doc_id": "d", "source": "a.md", "position": 0, "page": 0, "url": ""}])
    assert store.ws().stored_model() == LEGACY_MODEL_ID
    assert Store(tmp_path / "data", OtherModel()).ws().stale()[0].stored == LEGACY_MODEL_ID


def test_a_turn_over_stale_vectors_is_refused_with_the_way_out(tmp_path, embedder):
    from crew.engine.service import Crew
    from crew.settings import ROLES, Settings
    from crew.models.fake import FakeCrewModel

    Store(tmp_path / "data", embedder).ingest("birds.pdf", makers.pdf(PAGES))
    model = FakeCrewModel()
    crew = Crew.from_settings(Settings(data_dir=tmp_path / "data", model="fake", web_search=False),
                              models={r: model for r in ROLES}, embedder=OtherModel())
    with pytest.raises(StaleVectors, match="crew reindex"):
        crew.run_turn("default", "t1", "Where do kestrels ring?")
    crew.reindex("default").run()
    assert crew.stale("default") == []
    assert crew.run_turn("default", "t1", "Where do kestrels ring?").run().answer


def test_cli_search_says_the_workspace_is_stale_and_reindex_rebuilds_it(tmp_path):
    import chromadb

    doc = tmp_path / "birds.pdf"
    doc.write_bytes(makers.pdf(PAGES))
    assert run_cli("ingest", str(doc), "--json").returncode == 0
    # Stamp the collection as made by another model, as an app on another embedder would have left it.
    client = chromadb.PersistentClient(path=str(tmp_path / "data" / "chroma"))
    col = client.get_collection(collection_name("crew", "documents", "default"))
    col.modify(metadata={**col.metadata, MODEL_KEY: "old-model-v1"})
    del client, col

    out = run_cli("search", "kestrel ringing code", "--json")
    assert out.returncode == 2 and out.stdout == ""
    assert "old-model-v1" in out.stderr and "crew reindex --workspace default" in out.stderr
    assert "Traceback" not in out.stderr

    out = run_cli("reindex", "--workspace", "default", "--json")
    assert out.returncode == 0, out.stderr
    doc_out = json.loads(out.stdout)
    assert doc_out["re_embedded"] == ["documents"]
    assert [(d["file"], d["status"], d["pages"]) for d in doc_out["documents"]] == [("birds.pdf", "ok", 3)]

    hit = json.loads(run_cli("search", "kestrel ringing code", "--json", "-k", "1").stdout)[0]
    assert (hit["source"], hit["page"]) == ("birds.pdf", 3)


def test_an_emptied_collection_of_another_model_is_taken_over_by_the_current_one(tmp_path, embedder):
    first = Store(tmp_path / "data", embedder)
    res = first.ingest("birds.pdf", makers.pdf(PAGES))
    assert first.library.delete("default", res.doc_id)  # empty again, but its vectors were 384 wide
    later = Store(tmp_path / "data", OtherModel())
    assert later.ws().stale() == []
    assert later.ingest("birds.pdf", makers.pdf(PAGES)).status == "ok"  # 64-wide vectors go in
    assert later.ws().search("kestrel ringing code", k=1)[0].page == 3
