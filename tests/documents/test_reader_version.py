"""Each document remembers which version of its format's reader made its text, and one read by an
older reader is offered a re-index: on the Documents page, in the CLI, and as `Library.outdated`."""

from __future__ import annotations

import json
import sqlite3

from streamlit.testing.v1 import AppTest

from crew.documents.parsers import PARSERS, READERS
from crew.documents.reindex import Reindex
from crew.presentation.library_rows import outdated_line
from crew.retrieval.memory import collection_name
from crew.storage.documents_table import DocumentsTable
from tests.documents import makers
from tests.documents.test_documents_page import added
from tests.servers import APP, run_cli

PAGES = ["Owls hunt at night over the meadow.", "The kestrel ringing code is KESTREL-5521 at the north station."]
NOTES = b"# Notes\n\nThe osprey returned on 3 April.\n"


def read_by_older_reader(library_file, doc_id: str) -> None:
    """What a document added before the current reader looks like: its row names an earlier version."""
    with sqlite3.connect(library_file) as conn:
        conn.execute("UPDATE documents SET reader = reader - 1 WHERE doc_id = ?", (doc_id,))


def test_every_format_has_a_reader_version():
    assert {fmt for fmt, _ in PARSERS.values()} == set(READERS) and all(v >= 1 for v in READERS.values())


def test_a_document_added_now_is_current_and_one_read_before_is_outdated_until_reindexed(store):
    pdf = store.ingest("birds.pdf", makers.pdf(PAGES))
    notes = store.ingest("notes.md", NOTES)
    assert {d.name: d.reader for d in store.library.documents("default")} == {
        "birds.pdf": READERS["pdf"], "notes.md": READERS["markdown"]}
    assert store.library.outdated("default") == []

    read_by_older_reader(store.data_dir / "library.sqlite", pdf.doc_id)
    assert [d.doc_id for d in store.library.outdated("default")] == [pdf.doc_id]
    assert store.library.outdated("other") == []

    Reindex(store.ws(), store.library, chunk_size=400, chunk_overlap=40).run()
    assert store.library.outdated("default") == []
    assert store.library.get("default", pdf.doc_id).reader == READERS["pdf"]
    assert store.library.get("default", notes.doc_id).reader == READERS["markdown"]


def test_a_reindex_of_the_outdated_reads_only_them_and_carries_the_others_as_they_are(store):
    pdf = store.ingest("birds.pdf", makers.pdf(PAGES))
    notes = store.ingest("notes.md", NOTES)
    read_by_older_reader(store.data_dir / "library.sqlite", pdf.doc_id)
    # Stored text that only a re-read would change: the outdated PDF's is read again, the notes' is carried.
    col = store.client.get_collection(collection_name("crew", "documents", "default"))
    for doc_id in (pdf.doc_id, notes.doc_id):
        old = col.get(where={"doc_id": doc_id}, include=["documents", "metadatas", "embeddings"])
        col.upsert(ids=old["ids"], embeddings=old["embeddings"], metadatas=old["metadatas"],
                   documents=[t.replace(" ", "") for t in old["documents"]])
    notes_before = store.chroma(doc_id=notes.doc_id, windows=True)

    job = Reindex(store.ws(), store.library, chunk_size=400, chunk_overlap=40, only_outdated=True)
    assert [d.doc_id for d in job.documents] == [pdf.doc_id]
    assert [(r.file, r.status) for r in job.run()] == [("birds.pdf", "ok")]
    assert any("The kestrel ringing code is KESTREL-5521" in t for t in store.chroma(doc_id=pdf.doc_id)["documents"])
    assert store.chroma(doc_id=notes.doc_id, windows=True) == notes_before  # carried, not read again
    assert store.library.outdated("default") == []
    assert {h.doc_id for h in store.ws().search("osprey returned", k=3)} >= {notes.doc_id}
    assert Reindex(store.ws(), store.library, only_outdated=True).run() == []  # nothing left to read


def test_a_document_without_its_original_stays_outdated_after_a_reindex(store):
    pdf = store.ingest("birds.pdf", makers.pdf(PAGES))
    read_by_older_reader(store.data_dir / "library.sqlite", pdf.doc_id)
    (store.data_dir / "originals" / "default" / pdf.doc_id).unlink()  # added before originals were kept
    [result] = Reindex(store.ws(), store.library, chunk_size=400, chunk_overlap=40).run()
    assert result.status == "skipped"
    assert [d.doc_id for d in store.library.outdated("default")] == [pdf.doc_id]  # its text is still the old one


def test_a_library_file_from_before_readers_were_counted_opens_and_its_documents_are_outdated(tmp_path):
    path = tmp_path / "library.sqlite"
    with sqlite3.connect(path) as conn:  # the table as Crew made it before the `reader` column
        conn.execute("CREATE TABLE documents (workspace TEXT NOT NULL, doc_id TEXT NOT NULL, name TEXT NOT NULL,"
                     " format TEXT NOT NULL DEFAULT '', size INTEGER NOT NULL DEFAULT 0, content_hash TEXT NOT NULL,"
                     " pages INTEGER NOT NULL DEFAULT 0, rows INTEGER NOT NULL DEFAULT 0, chunks INTEGER NOT NULL"
                     " DEFAULT 0, status TEXT NOT NULL, uploaded_at REAL NOT NULL, heartbeat REAL NOT NULL, owner TEXT"
                     " NOT NULL DEFAULT '', seconds REAL NOT NULL DEFAULT 0, PRIMARY KEY (workspace, doc_id),"
                     " UNIQUE (workspace, content_hash))")
        conn.execute("INSERT INTO documents VALUES ('w', 'd1', 'guide.pdf', 'pdf', 10, 'h1', 3, 0, 5, 'ready', 1.0,"
                     " 1.0, '', 0.5)")
    first, second = DocumentsTable(path), DocumentsTable(path)  # a second process opens it too: no error
    try:
        [doc] = second.ready("w")
        assert (doc.name, doc.pages, doc.chunks, doc.reader) == ("guide.pdf", 3, 5, 0)
        assert first.insert("w", "d2", "new.pdf", "pdf", 10, "h2", now=2.0, owner="host:1")
        assert first.finish("w", "d2", pages=1, rows=0, chunks=1, seconds=0.1, reader=READERS["pdf"], now=2.0)
        assert {d.doc_id: d.reader for d in second.ready("w")} == {"d1": 0, "d2": READERS["pdf"]}
    finally:
        first.close()
        second.close()


def test_cli_search_names_the_outdated_documents_and_the_command_that_reads_them_again(tmp_path):
    doc = tmp_path / "birds.pdf"
    doc.write_bytes(makers.pdf(PAGES))
    assert run_cli("ingest", str(doc)).returncode == 0
    out = run_cli("search", "kestrel ringing code", "--json")
    assert out.returncode == 0 and "older reader" not in out.stderr  # just added: nothing to say

    with sqlite3.connect(tmp_path / "data" / "library.sqlite") as conn:
        conn.execute("UPDATE documents SET reader = 0")
    out = run_cli("search", "kestrel ringing code", "--json")
    assert out.returncode == 0 and out.stdout.startswith("[")  # stdout stays one JSON document
    assert "1 document of default (birds.pdf) read by an older reader" in out.stderr
    assert "crew reindex --outdated --workspace default" in out.stderr

    out = run_cli("reindex", "--outdated", "--workspace", "default", "--json")
    assert out.returncode == 0 and [d["file"] for d in json.loads(out.stdout)["documents"]] == ["birds.pdf"]
    assert "older reader" not in run_cli("search", "kestrel ringing code").stderr
    out = run_cli("reindex", "--outdated", "--workspace", "default")
    assert out.returncode == 0 and out.stdout.strip() == "(no document an older reader read in workspace default)"


def test_the_pages_offer_a_reindex_for_documents_an_older_reader_read(monkeypatch):
    from crew.engine.service import Crew
    from crew.settings import Settings

    monkeypatch.setenv("CREW_MODEL", "fake")
    crew = Crew.from_settings(Settings(model="fake"))
    pdf = crew.ingest("default", "birds.pdf", makers.pdf(PAGES))
    crew.ingest("default", "notes.md", NOTES)
    read_by_older_reader(crew.settings.data_dir / "library.sqlite", pdf.doc_id)

    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception  # the chat's welcome says so too, and links to the Documents page
    assert [i.value for i in at.info] == [outdated_line(crew.outdated("default"))]
    assert "Re-index on the Documents page" in [link.proto.label for link in at.get("page_link")]
    at.switch_page("pages/5_Evaluate.py").run()  # and the Evaluate page: its figures would be of the older text
    assert not at.exception, at.exception
    assert [i.value for i in at.info] == [outdated_line(crew.outdated("default"))]
    at.switch_page("pages/2_Documents.py").run()
    assert not at.exception, at.exception
    [info] = [i.value for i in at.info]
    assert info.startswith("1 document (birds.pdf) was read by an older version of Crew's PDF reader")
    assert "notes.md" not in info
    assert not [b for b in at.button if b.key == "reindex"]  # the offer replaces the plain Re-index button

    at.button(key="reindex-outdated").click().run()
    assert not at.exception, at.exception
    added(at)
    assert [s.value.split(":")[0] for s in at.success] == ["birds.pdf"]  # only it is read again
    assert crew.outdated("default") == []
    at.switch_page("pages/2_Documents.py").run()
    assert not at.info and [b for b in at.button if b.key == "reindex"]


def test_the_offer_names_a_few_documents_and_every_reader_that_changed():
    from types import SimpleNamespace

    docs = [SimpleNamespace(name=f"part{i}.pdf", format="pdf") for i in range(4)]
    docs.append(SimpleNamespace(name="notes.md", format="markdown"))
    assert outdated_line(docs).startswith("5 documents (part0.pdf, part1.pdf, part2.pdf and 2 more) were read by an"
                                          " older version of Crew's Markdown, PDF readers. Re-index to read them again")


def test_uploading_the_same_file_again_keeps_a_missing_original_so_a_reindex_can_read_it(store):
    data = makers.pdf(PAGES)
    pdf = store.ingest("birds.pdf", data)
    read_by_older_reader(store.data_dir / "library.sqlite", pdf.doc_id)
    (store.data_dir / "originals" / "default" / pdf.doc_id).unlink()  # added before originals were kept
    [skipped] = Reindex(store.ws(), store.library, only_outdated=True).run()
    assert skipped.status == "skipped" and "re-upload it to re-index it" in skipped.error

    again = store.ingest("birds.pdf", data)  # what that message asks
    assert again.duplicate and again.doc_id == pdf.doc_id and len(store.chroma()["ids"]) == pdf.chunks
    assert "its original is kept now" in again.extra["note"] and "an older reader read it" in again.extra["note"]
    assert store.library.original("default", pdf.doc_id) == data
    [read] = Reindex(store.ws(), store.library, chunk_size=400, chunk_overlap=40, only_outdated=True).run()
    assert read.status == "ok" and store.library.outdated("default") == []
    third = store.ingest("birds.pdf", data)
    assert third.duplicate and third.extra["note"] == "already in the library"  # nothing more to say
