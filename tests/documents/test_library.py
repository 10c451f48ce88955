"""The library lists what memory fully holds: dedupe by content, delete everywhere, no halves."""

from __future__ import annotations

import errno
import time

import pytest

from crew.documents.library import Library
from tests.documents import makers

TEA = b"# Tea\n\nGreen tea holds about 30 mg of caffeine per cup.\n\n## Oolong\n\nOolong is partly oxidised.\n"


def test_listing_shows_size_pages_chunks_and_upload_time(store):
    pdf = makers.pdf(["First page about owls.", "Second page about larks.", "Third page about herons."])
    store.ingest("birds.pdf", pdf)
    store.ingest("tea.md", TEA)
    docs = store.library.documents("default")
    assert [d.name for d in docs] == ["tea.md", "birds.pdf"]  # newest first
    birds = docs[1]
    assert (birds.size, birds.pages, birds.format, birds.status) == (len(pdf), 3, "pdf", "ready")
    assert birds.chunks == len(store.chroma(doc_id=birds.doc_id)["ids"]) == 3
    assert birds.uploaded_at > 0
    assert store.library.documents("elsewhere") == []


def test_identical_reupload_is_recognised_by_content_not_name(store):
    first = store.ingest("tea.md", TEA)
    again = store.ingest("tea-copy.md", TEA)
    assert again.status == "ok" and again.duplicate and again.doc_id == first.doc_id
    assert "tea.md" in again.extra["note"]
    assert len(store.library.documents("default")) == 1
    assert len(store.chroma()["ids"]) == first.chunks
    changed = store.ingest("tea.md", TEA + b"\nMatcha is powdered.\n")
    assert not changed.duplicate and len(store.library.documents("default")) == 2


def test_the_same_file_in_two_workspaces_is_two_documents(store):
    a = store.ingest("tea.md", TEA, workspace="alpha")
    b = store.ingest("tea.md", TEA, workspace="beta")
    assert not b.duplicate and a.doc_id != b.doc_id
    assert store.library.delete("alpha", a.doc_id)
    assert store.chroma("beta")["ids"] and not store.chroma("alpha")["ids"]


def test_delete_removes_chunks_from_chroma_and_the_keyword_index(store):
    keep = store.ingest("tea.md", TEA)
    gone = store.ingest("birds.pdf", makers.pdf(["Owls hunt at night.", "Herons wade in shallow water."]))
    assert store.chroma(doc_id=gone.doc_id)["ids"]
    assert store.library.delete("default", gone.doc_id) is True
    assert store.chroma(doc_id=gone.doc_id)["ids"] == []  # asked of Chroma directly
    assert store.ws().keyword_count(doc_id=gone.doc_id) == 0
    assert [d.doc_id for d in store.library.documents("default")] == [keep.doc_id]
    assert all(h.doc_id != gone.doc_id for h in store.ws().search("herons wade", k=10))
    assert store.library.delete("default", gone.doc_id) is False  # already gone
    # A workspace cannot delete another's document.
    assert store.library.delete("other", keep.doc_id) is False
    assert store.chroma(doc_id=keep.doc_id)["ids"]


class FailingEmbedder:
    """Embeds the first n batches, then fails like a model that ran out of memory."""

    def __init__(self, real, good_batches):
        self.real, self.left = real, good_batches

    def embed_documents(self, texts):
        if self.left == 0:
            raise MemoryError("embedding model ran out of memory")
        self.left -= 1
        return self.real.embed_documents(texts)

    def __getattr__(self, name):  # the window, the token count, the query side: the real model's
        return getattr(self.real, name)


def test_a_failure_midway_rolls_back_every_stored_chunk(store, embedder):
    pages = [f"Page {i} of the long report about rivers and their floods in spring." for i in range(1, 30)]
    store.memory.embedder = FailingEmbedder(embedder, good_batches=2)
    res = store.ingest("long.pdf", makers.pdf(pages), batch=4)
    assert res.status == "error" and "could not store the file" in res.error and "out of memory" in res.error
    assert store.nothing_stored()
    store.memory.embedder = embedder
    assert store.ingest("long.pdf", makers.pdf(pages)).status == "ok"  # and it can be added afterwards


class DiskFillingEmbedder(FailingEmbedder):
    def embed_documents(self, texts):
        if self.left == 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().embed_documents(texts)


def test_a_full_disk_midway_hides_the_halves_and_leaves_their_removal_to_the_next_sweep(store, embedder):
    """After a write hit a full disk, Chroma's embedded client may block for ever on its next call, so
    nothing more is asked of it: what was stored stays held (hidden), and the next claim of the file,
    once its owner is gone, sweeps it before storing the file whole."""
    pages = [f"Page {i} of the long report about rivers and their floods in spring." for i in range(1, 30)]
    pdf = makers.pdf(pages)
    store.memory.embedder = DiskFillingEmbedder(embedder, good_batches=2)
    res = store.ingest("long.pdf", pdf, batch=4)
    assert res.status == "error" and "No space left" in res.error
    assert store.chroma()["ids"], "the halves were left in Chroma, not cleaned up by the process that hit the fault"
    assert store.library.documents("default") == []
    assert all(h.source != "long.pdf" for h in store.ws().search("rivers floods spring", k=10))

    store.memory.embedder = embedder
    later = time.time() + 3600  # the failed upload stopped beating long ago
    store.library.clock = lambda: later
    again = store.ingest("long.pdf", pdf)
    assert again.status == "ok"
    assert len(store.chroma()["ids"]) == again.chunks  # the old halves are gone
    assert [h.source for h in store.ws().search("rivers floods spring", k=3)] == ["long.pdf"] * 3


def test_an_upload_stopped_midway_leaves_nothing_and_the_stop_goes_on(store):
    """Ctrl-C in the CLI, or Streamlit stopping the script that ran the upload, mid-embedding."""
    pages = [f"Page {i} of the long report about rivers and their floods in spring." for i in range(1, 30)]
    seen = []

    def stop_at_half(stage, fraction):
        seen.append(stage)
        if stage == "embedding" and fraction > 0.5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.ingest("long.pdf", makers.pdf(pages), batch=4, progress=stop_at_half)
    assert seen.count("embedding") > 2  # some batches were stored before the stop
    assert store.nothing_stored()
    assert store.ingest("long.pdf", makers.pdf(pages)).status == "ok"


def test_a_document_is_listed_and_searchable_only_once_complete(store):
    seen = []

    def peek(stage, fraction):
        if stage == "embedding" and 0 < fraction < 1:
            seen.append((
                [d.name for d in store.library.documents("default")],
                [h.source for h in store.ws().search("rivers floods spring", k=5)],
            ))

    pages = [f"Page {i}: rivers and their floods in spring, gauge R-{i}." for i in range(1, 25)]
    res = store.ingest("rivers.pdf", makers.pdf(pages), batch=4, progress=peek)
    assert res.status == "ok"
    assert len(seen) >= 3
    assert all(listed == [] and found == [] for listed, found in seen)  # stored chunks stay hidden meanwhile
    assert [d.name for d in store.library.documents("default")] == ["rivers.pdf"]
    assert store.ws().search("rivers floods spring", k=1)[0].source == "rivers.pdf"


def test_an_upload_that_died_with_its_process_is_swept(store, embedder):
    # Simulate a process that stored some chunks and died: a claimed row, a hold, chunks in memory.
    from crew.documents.ingest import chunk_sections, document_id
    from crew.documents.parsers import Section

    ws = store.ws()
    doc_id = document_id("default", "f" * 64)
    chunks = chunk_sections([Section("Half a document about glaciers.")], doc_id, "glaciers.md", 400, 40, "f" * 64)
    assert store.library.claim("default", doc_id, "glaciers.md", "markdown", 10, "f" * 64) is None
    store.memory.keywords.hold(ws._key("documents"), doc_id)
    ws.add("documents", chunks)
    assert store.ws().search("glaciers", k=5) == []  # held: not searchable
    now = [1e12]
    later = Library.beside(store.data_dir, store.memory, clock=lambda: now[0], stale_after_s=600)
    assert later.documents("default") == [] and not store.chroma()["ids"] and not store.all_library_rows()


def test_a_fresh_upload_in_another_process_is_not_swept(store):
    assert store.library.claim("default", "d" * 20, "busy.md", "markdown", 10, "e" * 64) is None
    assert store.library.documents("default") == []
    assert len(store.all_library_rows()) == 1  # still ingesting elsewhere: left alone
    res = store.ingest("busy.md", b"x")  # a different file is not in its way
    assert res.status == "ok"


def test_library_refuses_bad_workspace_names(store):
    from crew.retrieval.memory import WorkspaceError

    with pytest.raises(WorkspaceError):
        store.library.documents("../etc")


def test_crew_methods_go_through_the_library(settings):
    from crew.models.fake import FakeCrewModel
    from crew.engine.service import Crew
    from crew.settings import ROLES

    crew = Crew.from_settings(settings, models={r: FakeCrewModel() for r in ROLES})
    stages = []
    res = crew.ingest("default", "tea.md", TEA, progress=lambda s, f: stages.append(s))
    assert res.status == "ok" and "embedding" in stages
    assert crew.ingest("default", "again.md", TEA).duplicate
    docs = crew.documents("default")
    assert [d.name for d in docs] == ["tea.md"]
    assert crew.delete_document("default", docs[0].doc_id)
    assert crew.documents("default") == [] and crew.memory.workspace("default").count() == 0
