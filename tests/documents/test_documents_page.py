"""The Documents page in Streamlit's AppTest: upload several files, see summaries, list, delete."""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from crew.presentation.library_rows import human_size, library_rows, progress_label, summary_line
from tests.documents import makers
from tests.servers import APP


@pytest.fixture
def page(monkeypatch):
    monkeypatch.setenv("CREW_MODEL", "fake")
    at = AppTest.from_file(APP, default_timeout=120)  # the app's entry, as `streamlit run`, then its page
    at.run()
    at.switch_page("pages/2_Documents.py").run()
    assert not at.exception, at.exception
    return at


def _crew(at):
    from crew.engine.service import Crew
    from crew.settings import Settings

    return Crew.from_settings(Settings(model="fake"))


def added(at: AppTest, timeout: float = 60) -> AppTest:
    """Rerun the page, as its timer does in a browser, until the background upload is done."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        at.run()
        assert not at.exception, at.exception
        if not at.session_state["documents_uploads_running"]:
            return at
        time.sleep(0.1)
    raise AssertionError("the upload did not finish")


def test_upload_several_files_then_list_and_delete(page):
    at = page
    assert "No documents in this workspace yet" in at.info[0].value
    pdf = makers.pdf(["Cover.", "Contents.", "The heron colony counts 412 nests."])
    at.file_uploader[0].set_value([
        ("survey.pdf", pdf, "application/pdf"),
        ("notes.md", b"# Notes\n\nThe osprey returned on 3 April.\n", "text/markdown"),
        ("photo.pdf", makers.png(), "application/pdf"),
    ])
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert len(at.get("progress")) == 3  # a bar per file at once, before any is done
    added(at)
    assert [s.value for s in at.success] == [summary_line_for(at, "survey.pdf"), summary_line_for(at, "notes.md")]
    assert "survey.pdf: added, 3 pages, 3 chunks" in at.success[0].value
    assert at.error[0].value == "photo.pdf: not added: this is not a PDF: the file is a PNG image"
    bars = at.get("progress")
    assert len(bars) == 3
    assert bars[0].proto.text == "survey.pdf: Done (100%)" and bars[0].proto.value == 100
    table = at.dataframe[0].value
    assert sorted(table["Name"]) == ["notes.md", "survey.pdf"]
    assert set(table.columns) >= {"Name", "Size", "Length", "Chunks", "Uploaded"}
    assert dict(zip(table["Name"], table["Length"])) == {"survey.pdf": "3 pages", "notes.md": "—"}

    # Deleting survey.pdf removes it from the list and its chunks from Chroma.
    crew = _crew(at)
    survey = next(d for d in crew.documents("default") if d.name == "survey.pdf")
    assert crew.memory.workspace("default").count(doc_id=survey.doc_id) == 3
    at.button(key=f"del-{survey.doc_id}").click().run()
    assert not at.exception, at.exception
    assert list(at.dataframe[0].value["Name"]) == ["notes.md"]
    assert "Deleted survey.pdf" in at.toast[0].value
    assert crew.memory.workspace("default").count(doc_id=survey.doc_id) == 0
    assert [d.name for d in crew.documents("default")] == ["notes.md"]


def summary_line_for(at, name):
    crew = _crew(at)
    doc = next(d for d in crew.documents("default") if d.name == name)
    return summary_line({"file": name, "status": "ok", "chunks": doc.chunks, "pages": doc.pages, "rows": doc.rows,
                         "seconds": doc.seconds, "duplicate": False, "error": "", "extra": {}})


def test_the_page_uses_the_session_workspace_and_the_configured_limit(page):
    at = page
    assert "up to 200 MB each" in at.caption[0].value
    at.session_state["workspace"] = "thesis"
    at.run()
    assert not at.exception, at.exception
    assert "thesis" in at.caption[0].value
    at.file_uploader[0].set_value(("tea.md", b"# Tea\n\nGreen tea.\n", "text/markdown"))
    at.button[0].click().run()
    added(at)
    assert list(at.dataframe[0].value["Name"]) == ["tea.md"]
    crew = _crew(at)
    assert [d.name for d in crew.documents("thesis")] == ["tea.md"] and crew.documents("default") == []


def test_reupload_says_it_is_already_there(page):
    at = page
    for _ in range(2):
        at.file_uploader[0].set_value(("tea.md", b"# Tea\n\nGreen tea.\n", "text/markdown"))
        at.button[0].click().run()
        added(at)
    assert "already in the library" in at.info[0].value
    assert len(at.dataframe[0].value) == 1


def test_submitting_without_files_asks_for_some(page):
    page.button[0].click().run()
    assert "Choose one or more files" in page.warning[0].value


def test_document_names_are_shown_as_text_not_markup(page):
    at = page
    at.file_uploader[0].set_value(("<img src=x onerror=alert(1)>[link](javascript:x).md", b"# Hi\n\nText.\n", "text/markdown"))
    at.button[0].click().run()
    added(at)
    assert not at.exception
    assert all("<img" not in m.value for m in at.markdown)
    assert any("<img src=x onerror=alert(1)>[link](javascript:x).md" in t.value for t in at.text)


def test_view_helpers():
    assert human_size(532) == "532 B" and human_size(14_540) == "14.2 KB" and human_size(3_250_000) == "3.1 MB"
    assert progress_label("a.pdf", "embedding", 0.5) == "a.pdf: Embedding and storing (50%)"
    ok = {"file": "a.csv", "status": "ok", "chunks": 4, "pages": 0, "rows": 120, "seconds": 1.23, "duplicate": False,
          "error": "", "extra": {}}
    assert summary_line(ok) == "a.csv: added, 120 rows, 4 chunks, 1.2 s"
    assert summary_line({**ok, "status": "error", "error": "the file is empty (0 bytes)"}) == \
        "a.csv: not added: the file is empty (0 bytes)"

    class D:
        doc_id, name, format, size, pages, rows, chunks, uploaded_at = "d1", "a.pdf", "pdf", 2048, 3, 0, 5, 0.0

    row = library_rows([D()])[0]
    assert (row["Name"], row["Type"], row["Size"], row["Length"], row["Chunks"]) == ("a.pdf", "PDF", "2.0 KB", "3 pages", 5)


def test_search_box_shows_the_passages_the_crew_would_find_with_their_page(page):
    at = page
    pdf = makers.pdf(["Cover.", "Contents.", "The heron colony counts 412 nests on the north shore."])
    at.file_uploader[0].set_value([("survey.pdf", pdf, "application/pdf"),
                                   ("notes.md", b"# Notes\n\nThe osprey returned on 3 April.\n", "text/markdown")])
    at.button[0].click().run()
    added(at)
    at.text_input(key="doc_search").input("How many heron nests?").run()
    assert not at.exception, at.exception
    found = [e for e in at.expander if e.label != "Last upload"]
    assert found[0].label == "1. survey.pdf, p. 3"
    assert "412 nests" in found[0].text[0].value
    at.text_input(key="doc_search").input("osprey").run()
    assert [e.label for e in at.expander if e.label != "Last upload"][0] == "1. notes.md, Notes"


def test_cancel_button_stops_a_long_upload_and_nothing_is_listed(page):
    at = page
    pages = [f"Page {i}: tide tables and weather notes for the harbour, week {i}. " * 20 for i in range(80)]
    at.file_uploader[0].set_value(("long.pdf", makers.pdf(pages), "application/pdf"))
    at.button[0].click().run()
    cancel = next(b for b in at.button if b.label == "Cancel")
    cancel.click().run()
    added(at)
    assert at.error[0].value == "long.pdf: not added: cancelled; nothing of it is stored"
    assert "No documents in this workspace yet" in at.info[0].value
    assert not any(b.label == "Cancel" for b in at.button)  # gone once the upload is over


def test_documents_work_when_the_configured_model_cannot_be_built(monkeypatch):
    monkeypatch.setenv("CREW_MODEL", "nosuchprovider:model")
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("pages/2_Documents.py").run()
    assert not at.exception, at.exception
    at.file_uploader[0].set_value(("tea.md", b"# Tea\n\nGreen tea.\n", "text/markdown"))
    at.button[0].click().run()
    added(at)
    assert list(at.dataframe[0].value["Name"]) == ["tea.md"]
