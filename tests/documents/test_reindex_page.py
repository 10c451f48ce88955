"""The Documents page's Re-index button, and what the page says about vectors of another model."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from crew.retrieval.memory import MODEL_KEY, collection_name
from tests.documents import makers
from tests.documents.test_documents_page import added
from tests.servers import APP

PAGES = ["Cover.", "Contents.", "The heron colony counts 412 nests on the north shore."]


@pytest.fixture
def crew(monkeypatch):
    from crew.engine.service import Crew
    from crew.settings import Settings

    monkeypatch.setenv("CREW_MODEL", "fake")
    return Crew.from_settings(Settings(model="fake"))


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/2_Documents.py").run()
    assert not at.exception, at.exception
    return at


def test_reindex_button_reads_every_document_again_with_a_bar_each(crew):
    survey = crew.ingest("default", "survey.pdf", makers.pdf(PAGES))
    notes = crew.ingest("default", "notes.md", b"# Notes\n\nThe osprey returned on 3 April.\n")
    (crew.settings.data_dir / "originals" / "default" / notes.doc_id).unlink()  # as if added before originals
    at = open_page()
    at.button(key="reindex").click().run()
    assert not at.exception, at.exception
    added(at)
    assert [s.value for s in at.success] == ["survey.pdf: re-indexed, 3 pages, 3 chunks, " + at.success[0].value.rsplit(", ", 1)[1]]
    assert at.warning[0].value.startswith("notes.md: not re-indexed: its original file was not kept")
    assert "re-upload it to re-index it" in at.warning[0].value
    assert [b.proto.text for b in at.get("progress")] == ["notes.md: Done (100%)", "survey.pdf: Done (100%)"]
    assert sorted(at.dataframe[0].value["Name"]) == ["notes.md", "survey.pdf"]
    assert [d.doc_id for d in crew.documents("default")] == [notes.doc_id, survey.doc_id]


def test_the_page_says_the_vectors_are_stale_and_rebuilds_them(crew):
    crew.ingest("default", "survey.pdf", makers.pdf(PAGES))
    col = crew.memory.client.get_collection(collection_name("crew", "documents", "default"))
    col.modify(metadata={**col.metadata, MODEL_KEY: "old-model-v1"})  # left by an app on another embedder
    crew.memory._collections.clear()

    at = open_page()
    warning = at.warning[0].value
    assert "old-model-v1" in warning and "Re-index" in warning and "crew reindex" in warning
    at.text_input(key="doc_search").input("heron colony").run()
    assert not at.exception, at.exception
    assert "Search waits for the re-index" in at.info[0].value and not at.expander

    at.button(key="reindex-stale").click().run()
    added(at)
    assert not [w for w in at.warning if "old-model-v1" in w.value]
    assert at.success[0].value.startswith("survey.pdf: re-indexed, 3 pages")
    at.text_input(key="doc_search").input("heron colony nests").run()
    assert [e.label for e in at.expander][0] == "1. survey.pdf, p. 3"
