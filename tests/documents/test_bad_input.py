"""Bad input gets a message naming the problem, and nothing from that file is stored anywhere."""

from __future__ import annotations

import random

import pytest

from crew.documents.ingest import IngestLimits, safe_name
from tests.documents import makers

TEXT = "A perfectly ordinary sentence about the weather in Lisbon. "


def noise(n: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(n)


def corrupt_pdf() -> bytes:
    good = makers.pdf(["Some text on page one.", "More text on page two."])
    return good[:400] + noise(600) + good[-200:]


def random_binary() -> bytes:
    return noise(20_000)


CASES = [
    # (file name, bytes or maker, words the message must contain)
    ("empty.txt", b"", ["empty", "0 bytes"]),
    ("empty.pdf", b"", ["empty", "0 bytes"]),
    ("corrupt.pdf", corrupt_pdf, ["PDF", "damaged"]),
    ("truncated.pdf", lambda: makers.pdf(["text"])[:300], ["PDF", "damaged"]),
    ("locked.pdf", lambda: makers.encrypted_pdf(["Secret text on page one."]), ["password-protected"]),
    ("photo.pdf", makers.png, ["not a PDF", "PNG image"]),
    ("noise.txt", random_binary, ["not a text file", "binary"]),
    ("photo.txt", makers.png, ["not a text file", "PNG image"]),
    ("noise.csv", random_binary, ["not a text file"]),
    ("noise.html", random_binary, ["binary"]),
    ("photo.docx", makers.png, ["not a Word .docx", "PNG image"]),
    ("notes.docx", lambda: b"PK\x03\x04" + noise(500), ["not a Word .docx"]),
    ("old.docx", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + noise(500), ["old Word .doc"]),
    ("scripts.html", lambda: b"<html><head><script>alert('x')</script></head><body><script>steal()</script></body></html>",
     ["no readable text", "scripts"]),
    ("scan.pdf", lambda: makers.pdf(["", ""]), ["no text layer", "OCR"]),
    ("blank.txt", b"   \n\n\t  \n", ["no text"]),
    ("header-only.csv", b"a,b,c\n", ["no data rows"]),
    ("../../etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n", ["'passwd'", "no extension"]),
    ("report.exe", b"MZ\x90\x00", ["unsupported file type", ".exe"]),
]


@pytest.mark.parametrize("name, data, words", CASES, ids=[c[0] for c in CASES])
def test_bad_file_is_refused_with_a_clear_message_and_nothing_stored(store, name, data, words):
    res = store.ingest(name, data() if callable(data) else data)
    assert res.status == "error"
    for w in words:
        assert w in res.error, res.error
    assert "Traceback" not in res.error
    assert store.nothing_stored()


def test_file_over_the_upload_limit(store):
    limits = IngestLimits(max_bytes=1024 * 1024)
    res = store.ingest("big.txt", (TEXT * 20_000).encode(), limits=limits)
    assert res.status == "error" and "over the upload limit of 1 MB" in res.error and "MB" in res.error
    assert store.nothing_stored()


def test_the_default_upload_limit_is_the_ui_limit(tmp_path):
    from crew.documents.ingest import upload_limit_mb
    from crew.settings import Settings

    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "config.toml").write_text("[server]\nmaxUploadSize = 7\n")
    assert upload_limit_mb(tmp_path) == 7
    assert upload_limit_mb() == 200  # the app's own config.toml
    assert IngestLimits.from_settings(Settings()).max_bytes == 200 * 1024 * 1024
    assert IngestLimits.from_settings(Settings(max_upload_mb=3)).max_bytes == 3 * 1024 * 1024


def test_docx_zip_bomb_is_refused_before_expanding(store):
    bomb = makers.zip_bomb_docx(unpacked_mb=300)
    assert len(bomb) < 2_000_000  # small on disk, 300 MB unpacked
    res = store.ingest("bomb.docx", bomb)
    assert res.status == "error" and "zip bomb" in res.error and "expand" in res.error
    assert store.nothing_stored()


def test_docx_with_an_extreme_compression_ratio_is_refused(store):
    res = store.ingest("ratio.docx", makers.zip_bomb_docx(unpacked_mb=20))  # under the size cap
    assert res.status == "error" and "zip bomb" in res.error and "times" in res.error
    assert store.nothing_stored()


def test_csv_with_a_million_rows_is_refused_with_the_limit(store):
    import tracemalloc

    data = makers.csv_text(1_000_000)
    tracemalloc.start()
    try:
        res = store.ingest("huge.csv", data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert res.status == "error"
    assert "more than 100,000 rows" in res.error and "limit" in res.error
    assert store.nothing_stored()
    assert peak < 4 * len(data)  # streamed: never a copy of every row (a StringIO alone is 4x)


def test_a_csv_just_under_the_row_limit_is_ingested(store):
    res = store.ingest("ok.csv", makers.csv_text(120), limits=IngestLimits(max_csv_rows=120))
    assert res.status == "ok" and res.rows == 120
    res = store.ingest("over.csv", makers.csv_text(121), limits=IngestLimits(max_csv_rows=120))
    assert res.status == "error" and "more than 120 rows" in res.error


def test_too_many_chunks_is_refused(store):
    res = store.ingest("long.txt", (TEXT * 2000).encode(), limits=IngestLimits(max_chunks=10))
    assert res.status == "error" and "over the limit of 10 per file" in res.error
    assert store.nothing_stored()


@pytest.mark.parametrize("raw, shown", [
    ("../../etc/notes.txt", "notes.txt"),
    ("..\\..\\windows\\notes.txt", "notes.txt"),
    ("re\x00po\x1b[31mrt\u202e.txt", "report.txt"),
    ("/abs/path/.hidden.md", "hidden.md"),
    ("\x07\x08", "unnamed"),
])
def test_names_are_reduced_to_a_safe_base_name(raw, shown):
    assert safe_name(raw) == shown


def test_a_path_like_name_is_stored_under_its_base_name_only(store):
    res = store.ingest("../../etc/notes.txt", TEXT.encode())
    assert res.status == "ok" and res.file == "notes.txt"
    assert store.library.documents("default")[0].name == "notes.txt"
    assert {m["source"] for m in store.chroma()["metadatas"]} == {"notes.txt"}
    assert not (store.data_dir.parent / "etc").exists()


def test_html_full_of_scripts_keeps_only_its_text(store):
    data = makers.html("Report", [("Summary", "Rainfall in Lisbon was 20 percent below average.")], scripts=200)
    res = store.ingest("page.html", data)
    assert res.status == "ok"
    stored = " ".join(store.chroma()["documents"])
    assert "Rainfall in Lisbon" in stored and "TRACKER-CODE-777" not in stored and "document.write" not in stored
    assert store.ws().search("TRACKER-CODE-777", k=5, mode="keyword") == []


def test_the_app_stays_up_after_bad_files(store):
    for name, data, _ in CASES:
        store.ingest(name, data() if callable(data) else data)
    assert store.ingest("fine.md", b"# Fine\n\nStill working after all that.").status == "ok"
    assert len(store.library.documents("default")) == 1
