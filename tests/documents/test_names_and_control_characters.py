"""A long file name keeps its extension (the stem is shortened), and control characters never reach a
chunk: NUL and the other C0 controls except tab and newline are dropped from every format's text."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from crew.documents.ingest import MAX_NAME, safe_name
from crew.documents.parsers import clean_text
from tests.documents import makers

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@pytest.mark.parametrize("name, suffix", [("n" * 243 + ".md", ".md"), ("report " * 50 + ".pdf", ".pdf"),
                                          ("x" * 400 + ".markdown", ".markdown")])
def test_a_long_name_keeps_its_extension(name, suffix):
    shown = safe_name(name)
    assert len(shown) <= MAX_NAME and shown.endswith(suffix)
    assert shown[: -len(suffix)] == name[: MAX_NAME - len(suffix)].rstrip(" .")  # the stem's start, whole words or not


def test_a_long_name_without_a_real_extension_is_cut_as_it_was():
    assert safe_name("y" * 300) == "y" * MAX_NAME
    assert safe_name("z" * 300 + ".not-an-extension-at-all") == "z" * MAX_NAME


def test_a_247_character_markdown_name_is_stored(store):
    name = "meeting-notes-" + "q" * 230 + ".md"
    assert len(name) == 247
    res = store.ingest(name, b"# Notes\n\nThe osprey returned on 3 April.\n")
    assert res.status == "ok", res.error  # it said "has no extension"
    assert res.file == safe_name(name) and res.file.endswith(".md") and len(res.file) == MAX_NAME
    assert [d.name for d in store.library.documents("default")] == [res.file]
    assert {m["source"] for m in store.chroma()["metadatas"]} == {res.file}


def test_clean_text_keeps_tab_and_newline_and_turns_other_breaks_into_newlines():
    assert clean_text("a\x00b\tc\r\nd\re\x0bf\x0cg\x1b[31mh\x7fi\x08j") == "ab\tc\nd\ne\nf\ng[31mhij"
    assert clean_text("ñandú – ok") == "ñandú – ok"


def docx_with_controls() -> bytes:
    """A .docx whose XML holds control characters, which XML 1.0 does not allow."""
    good = makers.docx([("h1", "Herons"), ("p", "The heron colony MARK counts 412 nests.")])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            zout.writestr(item, data.replace(b"MARK", b"a\x07b&#x1;c") if item.filename == "word/document.xml" else data)
    return out.getvalue()


# A few stray control characters in a page of ordinary text (many of them would mark a binary file).
PROSE = b"Herons nest in colonies along the river, and the survey walks the same banks every spring. " * 12
FORMATS = [
    ("notes.txt", PROSE + b"The he\x00ron colony\x07 counts 412\x1b nests.\x7f\r\nNext\x01 line.\n"),
    ("notes.md", b"# Her\x00ons\x01\n\n" + PROSE + b"The he\x00ron colony\x07 counts 412 nests.\x08\n"),
    ("counts.csv", b"site,nests,note\nHer\x00on Bay\x07,412\x1b," + PROSE.replace(b",", b"") + b"\n"),
    ("page.html", b"<html><body><h1>Her\x00ons\x01</h1><p>" + PROSE + b"The he\x00ron colony\x07 counts 412 nests.\x1b</p>"
                  b"</body></html>"),
    ("scan.pdf", makers.raw_pdf(b"The he\\000ron colony\\007 counts 412\\033 nests.")),
]


@pytest.mark.parametrize("name, data", FORMATS, ids=[f[0] for f in FORMATS])
def test_no_control_character_reaches_a_chunk_in_any_format(store, name, data):
    res = store.ingest(name, data)
    assert res.status == "ok", res.error
    stored = store.chroma()
    texts = stored["documents"] + [str(m.get("heading", "")) for m in stored["metadatas"]]
    assert texts and not [t for t in texts if CONTROL.search(t)], texts
    joined = "Heron Bay" if name.endswith(".csv") else "heron colony"
    assert joined in " ".join(stored["documents"])  # the letters either side of a NUL meet again


def test_a_docx_cannot_hold_control_characters_and_is_refused_not_stored(store):
    res = store.ingest("notes.docx", docx_with_controls())
    assert res.status == "error" and "damaged" in res.error
    assert store.nothing_stored()
