"""Every chunk fits an embedder's window, so a windowed model reads each chunk to its end.

The default embedder (USE) reads a text whole and has no window (`max_tokens` 0); ingest cuts
chunks to the window of any embedder that has one, counted with that embedder's tokens. Here the
window is counted with USE's own SentencePiece pieces."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from crew.documents.ingest import chunk_sections, fit_window
from crew.documents.parsers import Section

ROOT = Path(__file__).resolve().parents[2]
# scripts/corpus unpacks each corpus package into ${CREW_CORPUS:-bench/out/corpus}/<package>/.
CORPUS = Path(os.environ.get("CREW_CORPUS", ROOT / "bench" / "out" / "corpus"))
SPANISH_PDF = CORPUS / "debian-reference-es" / "usr" / "share" / "debian-reference" / "debian-reference.es.pdf"


def spanish_pages() -> list[Section]:
    """The Spanish Debian reference guide (package debian-reference-es), page by page, read by PDFium."""
    # scripts/setup --dev unpacks the corpus: a missing file is a broken install, not a skip.
    assert SPANISH_PDF.is_file(), f"{SPANISH_PDF} is missing: run bash scripts/corpus"
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(SPANISH_PDF))
    try:
        return [Section(pdf[i].get_textpage().get_text_bounded(), page=i + 1) for i in range(len(pdf))]
    finally:
        pdf.close()


def test_the_embedder_says_it_has_no_window_and_counts_tokens(embedder):
    assert embedder.max_tokens == 0 and embedder.dim == 512 and "USE-multilingual-v3" in embedder.model_id
    assert embedder.count_tokens("hola mundo") < embedder.count_tokens("hola mundo " * 20)
    assert embedder.embed_query("¿cómo instalo un paquete?").shape == (512,)


def test_a_spanish_question_is_closest_to_its_english_answer(embedder):
    passages = ["To build the package, run dpkg-buildpackage in the source directory.",
                "The kernel is loaded by the boot loader from the disk."]
    vectors = embedder.embed_documents(passages) @ embedder.embed_query("¿Cómo compilo el paquete?")
    assert vectors[0] > vectors[1]


@pytest.mark.parametrize("window", [512, 200])
def test_no_chunk_of_a_real_spanish_manual_passes_the_window(embedder, window):
    sections = spanish_pages()
    plain = chunk_sections(sections, "d", "ref.pdf", 800, 120, "h")
    chunks = chunk_sections(sections, "d", "ref.pdf", 800, 120, "h", tokens=embedder.count_tokens, max_tokens=window)
    counts = [embedder.count_tokens(c.text) for c in chunks]
    assert max(counts) <= window
    if window < 300:  # a window shorter than the 800 characters' tokens: chunks are cut, never lost
        assert max(embedder.count_tokens(c.text) for c in plain) > window and len(chunks) > len(plain)
    assert {c.page for c in chunks} == {c.page for c in plain}


def test_text_dense_in_tokens_is_cut_to_the_window(embedder):
    # 800 characters of hex digests and paths are far more than 512 tokens.
    dense = " ".join(f"/usr/lib/x86_64/{i:04x}{i * 7919:08x}.so" for i in range(400))
    assert embedder.count_tokens(dense) > 512
    pieces = fit_window(dense, embedder.count_tokens, 512)
    assert len(pieces) > 1 and all(embedder.count_tokens(p) <= 512 for p in pieces)
    assert "".join(pieces).replace(" ", "") == dense.replace(" ", "")  # nothing dropped
    chunks = chunk_sections([Section(dense)], "d", "x.txt", 20_000, 0, "h", tokens=embedder.count_tokens, max_tokens=512)
    assert all(embedder.count_tokens(c.text) <= 512 for c in chunks)
