"""PDF text reads right: words keep their spaces, running headers and footers are not content,
page numbers stay physical, and PDFium is used from one thread at a time."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest

from crew.documents.parsers import parse
from crew.documents.parsers.furniture import line_key, strip_chapter_lines, strip_contents, strip_furniture
from crew.documents.parsers.pdf import clean_page_text, spellings
from tests.documents import makers

ROOT = Path(__file__).resolve().parents[2]
# scripts/corpus unpacks each corpus package into ${CREW_CORPUS:-bench/out/corpus}/<package>/.
CORPUS = Path(os.environ.get("CREW_CORPUS", ROOT / "bench" / "out" / "corpus"))
MAINT_GUIDE = CORPUS / "maint-guide-es" / "usr" / "share" / "doc" / "maint-guide-es" / "maint-guide.es.pdf"
DEBIAN_REFERENCE = CORPUS / "debian-reference-es" / "usr" / "share" / "debian-reference" / "debian-reference.es.pdf"
DEVELOPERS_REFERENCE = CORPUS / "developers-reference" / "usr" / "share" / "developers-reference" / "developers-reference.pdf"


@pytest.fixture(scope="module")
def maint_guide() -> bytes:
    """Debian's Spanish packaging guide (package maint-guide-es): DocBook via LaTeX, where pypdf ran
    the words of most lines together."""
    # scripts/setup --dev unpacks the corpus: a missing file is a broken install, not a skip.
    assert MAINT_GUIDE.is_file(), f"{MAINT_GUIDE} is missing: run bash scripts/corpus"
    return MAINT_GUIDE.read_bytes()


def test_real_docbook_pdf_keeps_the_spaces_between_words(maint_guide):
    parsed = parse("maint-guide.es.pdf", maint_guide)
    assert parsed.pages == 69
    pages = {s.page: s.text for s in parsed.sections}
    # pypdf read page 16 as "Ahoraintentacompilaryejecutarelprograma,paraasegurartequefuncionabien"
    assert "Ahora intenta compilar y ejecutar el programa, para asegurarte que funciona bien" in pages[16]
    words = " ".join(pages.values()).split()
    long_words = [w for w in words if len(w) > 30 and "/" not in w and "." not in w and "_" not in w]
    assert len(long_words) < 10, long_words[:20]  # run-together words are what pypdf made of it
    assert "2.4. Métodos de compilación simple" in pages[16]  # the page a viewer shows as 16 of 69


def test_real_pdf_words_hyphenated_at_a_line_end_are_spelled_as_the_document_spells_them(maint_guide):
    """The typesetter breaks "dpkg-source" at its own hyphen; PDFium marks every break alike, so the hyphen is
    kept where the document writes the word with it elsewhere, and syllable breaks are joined."""
    pages = {s.page: s.text for s in parse("maint-guide.es.pdf", maint_guide).sections}
    text = "\n".join(pages.values())
    assert "dpkg-source(1)" in text and "dpkgsource" not in text
    assert "Fernández-Sanguino" in text and "habilidades" in text and "documentación" in text
    assert "\x02" not in text


def test_real_pdf_footnotes_do_not_start_with_their_number_run_into_a_word(maint_guide):
    pages = {s.page: s.text for s in parse("maint-guide.es.pdf", maint_guide).sections}
    assert "\nHay varios paquetes similares pero más específicos como dh-make-perl" in pages[9]
    assert "3Hay" not in pages[9]
    assert "Añade el paquete dh-autoreconf" in pages[16] and "10Añade" not in pages[16]
    assert clean_page_text("83M disk.img\n2 Sección") == "83M disk.img\n2 Sección"  # a size, a numbered line


def test_made_pdf_table_rows_are_one_line_each_and_prose_keeps_its_lines():
    before = "Before the table a paragraph of prose runs over more than one line of the page, as prose does in a manual."
    after = "After the table another paragraph says what the table was about, and it too wraps onto a second line."
    rows = [[["apt upgrade"], ["aptitude", "safe-upgrade"], ["upgrades the installed packages", "without removing any"]],
            [["apt full-upgrade"], ["aptitude", "full-upgrade"], ["upgrades them and removes", "what it must"]]]
    data = makers.table_pdf(before, rows, [50, 170, 290], after)
    parsed = parse("table.pdf", data)
    lines = parsed.sections[0].text.splitlines()
    # PDFium puts the first lines of the first two cells on one line ("apt upgrade aptitude"); the second cell's
    # next line stands under its first word and goes on with it.
    assert "apt upgrade aptitude safe-upgrade · upgrades the installed packages without removing any" in lines
    assert "apt full-upgrade aptitude full-upgrade · upgrades them and removes what it must" in lines
    assert not [line for line in lines if "·" in line and ("paragraph" in line)]  # prose is no cell
    # Two columns of prose side by side are not a table: each keeps its lines.
    second = parsed.sections[1].text
    assert "·" not in second and len(second.splitlines()) > 10


def test_real_manual_table_row_keeps_its_command_with_what_it_does():
    """Debian's Spanish reference, table 2.6 (page 79): PDFium gives its cells line by line, column by column."""
    parsed = parse("debian-reference.es.pdf", DEBIAN_REFERENCE.read_bytes())
    page = next(s.text for s in parsed.sections if s.page == 79).splitlines()
    assert "apt upgrade aptitude safe-upgrade · apt-get upgrade · actualiza los paquetes ya instalados a las nuevas " \
           "versiones candidatas sin eliminar ningún paquete" in page
    assert "apt remove foo · aptitude remove foo · apt-get remove foo · elimina el paquete «foo» sin eliminar sus " \
           "archivos de configuración" in page


def test_a_hyphenation_mark_is_read_by_the_document_s_own_spellings():
    spelled = spellings(["stable-backports is open", "an ordinary documentation page", "binNMUs and NMUs"])
    assert clean_page_text("upload to stable\x02backports?", spelled) == "upload to stable-backports?"
    assert clean_page_text("the docu\x02mentation", spelled) == "the documentation"
    assert clean_page_text("binN\x02MUs.", spelled) == "binNMUs."  # both halves of a capitalised word
    # Not written elsewhere: names, paths, addresses and versions keep theirs; a syllable break does not.
    assert clean_page_text("fonts-crosextra\x02carlito", spelled) == "fonts-crosextra-carlito"
    assert clean_page_text("http://lists.debian.org/debian-devel\x02announce/", spelled) == \
        "http://lists.debian.org/debian-devel-announce/"
    assert clean_page_text("LGPL\x022.1 and Fernández\x02Sanguino", spelled) == "LGPL-2.1 and Fernández-Sanguino"
    assert clean_page_text("habilida\x02des ELI\x02MINADO", spelled) == "habilidades ELIMINADO"


def test_real_pdf_running_header_with_folio_is_not_content(maint_guide):
    parsed = parse("maint-guide.es.pdf", maint_guide)
    header = re.compile(r"Guía del nuevo desarrollador de Debian \d+ / 63")
    assert not [s.page for s in parsed.sections if header.search(s.text)]
    # The title itself is still there where it is content: the cover page.
    assert parsed.sections[0].page == 1 and "Guía del nuevo desarrollador de Debian" in parsed.sections[0].text


def test_real_manual_folio_header_is_gone_from_every_page():
    """Debian's Spanish reference (package debian-reference-es): "Guía de referencia de Debian 108 / 244"
    atop 244 of its 272 pages, the line the issue saw quoted in answers."""
    assert DEBIAN_REFERENCE.is_file(), f"{DEBIAN_REFERENCE} is missing: run bash scripts/corpus"
    parsed = parse("debian-reference.es.pdf", DEBIAN_REFERENCE.read_bytes())
    assert parsed.pages == 272
    text = "\n".join(s.text for s in parsed.sections)
    assert not re.search(r"Guía de referencia de Debian \d+ / \d+", text)
    assert not re.search(r"Guía de referencia de Debian [ivxl]+\n", text)  # nor its roman folios up front
    page = next(s for s in parsed.sections if s.text.startswith("3.1.2. Fase 2: el cargador de arranque"))
    assert page.page == 109


def test_real_pdf_contents_pages_are_not_content(maint_guide):
    """The guide's table of contents (pages 4-6: "7.4. El paquete lintian . . . . . 49") restates the headings of
    the pages it lists; indexed, it took one of the five passages of 10 of 179 labelled questions."""
    parsed = parse("maint-guide.es.pdf", maint_guide)
    assert parsed.pages == 69
    pages = {s.page: s.text for s in parsed.sections}
    assert not {4, 5, 6} & set(pages)
    assert not [p for p, text in pages.items() if re.search(r"(?:\. ){5,}\d+\s*$", text, re.M)]
    assert "7.4. El paquete lintian" in pages[55]  # the heading stays where it stands (folio 49), the page counted as before
    assert "2.4. Métodos de compilación simple" in pages[16]


def test_contents_entries_go_and_the_rest_of_their_page_stays():
    contents = "Índice general\n1. Primeros pasos 1\n" + "\n".join(
        f"1.{i}. Sección {i} . . . . . . . . . . {i}" for i in range(1, 9))
    body = "2.1. Uso de dh_make\nEjecuta dh_make en el directorio.\nVéase la sección 2.3. . . . . . . . 12\nFin."
    other = "Otra página sin índice.\nY una segunda línea."
    assert strip_contents([contents, body, other]) == [
        "", "2.1. Uso de dh_make\nEjecuta dh_make en el directorio.\nFin.", other]
    # Roman folios of a front matter and unspaced leaders are entries too.
    assert strip_contents(["Prefacio ........ vii\nAgradecimientos ........ ix", "Texto."]) == ["", "Texto."]
    # A file that is nothing but a contents listing keeps it: it is all there is to search.
    assert strip_contents([contents]) == [contents]
    # An ellipsis or a row of dots in prose is no leader.
    prose = ["Espera... y luego sigue.\nCargando..... hecho\nEl total es 5 . 3 puntos"]
    assert strip_contents(prose) == prose


def test_real_pdf_chapter_headers_of_short_chapters_and_blank_pages_are_not_content():
    """The Developer's Reference prints "10 Chapter 3. Debian Developer's Duties" atop even pages: too few times in
    a short chapter for repetition to find it (it reached an answer as a quote), and alone with the book's title on
    the blank page that ends a chapter."""
    assert DEVELOPERS_REFERENCE.is_file(), f"{DEVELOPERS_REFERENCE} is missing: run bash scripts/corpus"
    parsed = parse("developers-reference.pdf", DEVELOPERS_REFERENCE.read_bytes())
    assert parsed.pages == 114
    pages = {s.page: s.text for s in parsed.sections}
    assert not [p for p, text in pages.items() if re.search(r"^\d+ Chapter \d+\. ", text, re.M)]
    assert not {12, 16, 22, 36, 70, 92, 104} & set(pages)  # blank pages at chapters' ends
    assert "3.1.3 Manage release-critical bugs" in pages[18]  # the page's body stays, on its physical page


def test_a_chapter_line_goes_only_with_its_folio_and_only_from_a_page_s_frame():
    chapters = [("Applying to Become a Member", 5), ("I18N y L10N", 2), ("Introduction", 1)]
    body = "\n".join(f"line {i} of the body" for i in range(6))
    pages = [f"1 Introduction\n{body}\nmore",  # a LaTeX chapter's heading on the page it starts: it stays
             f"I18N y L10N\n{body}\nmore",  # the chapter's own heading atop its first page: no folio, it stays
             f"Top\n{body}\n12 Chapter 2. Applying to Become a Member\n{body}\nBottom",  # in the middle: content
             f"4 Introduction\n{body}\nmore",  # the same line on a later page is its running header
             f"2. Applying to Become a Member\n{body}\nmore",  # the chapter starts here
             f"Reference 1.0\n{body}\n6 Chapter 2. Applying to Become a Member"]
    got = strip_chapter_lines(pages, chapters)
    assert got[:3] == pages[:3] and got[3] == f"{body}\nmore" and got[4] == pages[4]
    assert got[5] == f"Reference 1.0\n{body}"
    # On a page too short for a frame (a blank page), every line may be furniture, found as such elsewhere.
    assert strip_chapter_lines(["8 Chapter 2. Applying to Become a Member"], [("Applying to Become a Member", 5)]) == [""]
    # A title that begins with a short word is not taken for a chapter number.
    short = [f"A Tour of Debian\n{body}", f"{body}\nA Tour of Debian 7"]
    assert strip_chapter_lines(short, [("A Tour of Debian", 1)]) == [short[0], body]
    titled = [f"Manual 1.{i}\n{body} {i}\nend {i}" for i in range(4)] + ["Manual 1.9"]
    assert strip_furniture(titled)[-1] == ""


def test_real_pdf_phrase_is_found_on_its_page_by_keywords(store, maint_guide):
    res = store.ingest("maint-guide.es.pdf", maint_guide, chunk_size=800, chunk_overlap=120)
    assert res.status == "ok" and res.pages == 69, res.error
    hits = store.ws().search("intenta compilar y ejecutar el programa", k=3, mode="keyword")
    assert hits and hits[0].page == 16
    assert hits[0].cite() == "maint-guide.es.pdf, p. 16 · 2.4. Métodos de compilación simple"


def test_real_pdf_pages_stand_under_their_outline_headings(maint_guide):
    """The guide's outline says "Configurar dh_make" starts on page 18, and so does "Paquete no nativo Debian
    inicial"; the page prints them numbered. Each chunk takes the heading in effect at its middle."""
    from crew.documents.ingest import chunk_sections

    parsed = parse("maint-guide.es.pdf", maint_guide)
    page = next(s for s in parsed.sections if s.page == 18)
    assert page.heading == "Primeros pasos > 2.6. Nombre del paquete y versión"  # where page 18 starts
    assert [line for line, _ in page.marks] == ["2.7. Configurar dh_make", "2.8. Paquete no nativo Debian inicial"]
    chunks = [c for c in chunk_sections(parsed.sections, "d", "maint-guide.es.pdf", 800, 120, "h") if c.page == 18]
    assert chunks[0].text.startswith("2.7. Configurar dh_make") and chunks[0].extra["heading"].endswith("2.7. Configurar dh_make")
    assert chunks[-1].extra["heading"].endswith("2.8. Paquete no nativo Debian inicial")
    assert sum(1 for s in parsed.sections if s.heading) >= 60  # of 69 pages: the cover and contents stand under none


def test_real_pdf_citation_names_the_section(store, maint_guide):
    res = store.ingest("maint-guide.es.pdf", maint_guide, chunk_size=800, chunk_overlap=120)
    assert res.status == "ok", res.error
    hit = store.ws().search("DEBEMAIL DEBFULLNAME", k=1, mode="keyword")[0]
    assert hit.cite() == "maint-guide.es.pdf, p. 18 · 2.7. Configurar dh_make"
    assert hit.page == 18  # the page stays what the eval and the viewer count


def test_real_pdf_passages_are_completed_to_whole_sentences_from_their_page(store, maint_guide):
    """A third of this guide's chunks begin inside a sentence: what a search hands on starts and ends with whole
    sentences of the same page, the words as the page has them."""
    store.ingest("maint-guide.es.pdf", maint_guide, chunk_size=800, chunk_overlap=120)
    ws = store.ws()
    raw = [h for q in ("¿Qué paquete básico tengo que instalar antes de empaquetar?", "variables de entorno DEBEMAIL",
                       "¿Cómo pruebo los guiones del desarrollador al instalar y purgar el paquete?",
                       "parches de quilt en debian/patches", "¿Qué hace dh_make con el archivo original?")
           for h in ws.search(q, k=5)]
    whole = ws.whole_sentences(raw)
    completed = [(r, w) for r, w in zip(raw, whole) if w.text != r.text]
    assert len(completed) >= 5
    pages = {}
    for r, w in completed:
        assert r.text in w.text and (w.page, w.chunk_id, w.source) == (r.page, r.chunk_id, r.source)
        page = pages.setdefault(r.page, " ".join(c for c, m in zip(store.chroma()["documents"], store.chroma()["metadatas"])
                                                  if m["page"] == r.page))
        # Every added word is a word of the same page: nothing invented, nothing from the page before or after.
        assert set(w.text.split()) <= set(page.split())
    starts_inside = sum(r.text[:1].islower() for r, _ in completed)
    assert starts_inside and sum(w.text[:1].islower() for _, w in completed) < starts_inside
    # What people and the crew are handed is completed the same way.
    assert [h.text for h in ws.search_documents("variables de entorno DEBEMAIL")] == \
           [h.text for h in ws.whole_sentences(ws.search("variables de entorno DEBEMAIL", kinds=("documents",)))]


BODIES = [
    "Owls hunt at night over the meadow and nest in old barns.",
    "Herons wade in the shallow water of the lake at dawn.",
    "Larks sing high above the fields in early spring.",
    "The kestrel code KESTREL-5521 marks the ringing station.",
    "Swifts sleep on the wing and land only to breed.",
    "Storks return to the same chimney every year.",
]


def book() -> bytes:
    return makers.book_pdf("Field Guide to Birds", [
        ("Chapter 1. Birds of the night", [f"{BODIES[0]} {BODIES[1]}", BODIES[1], BODIES[2]]),
        ("Chapter 2. Birds of the day", BODIES[3:]),
    ])


def test_made_pdf_headers_footers_and_chapter_lines_are_dropped_and_bodies_kept():
    parsed = parse("guide.pdf", book())
    assert parsed.pages == 6 and [s.page for s in parsed.sections] == [1, 2, 3, 4, 5, 6]
    for section in parsed.sections:
        assert "Field Guide to Birds" not in section.text
        assert "Chapter" not in section.text
        assert not any(line.strip().isdigit() for line in section.text.splitlines()), section.text
    assert " ".join(parsed.sections[0].text.split()) == f"{BODIES[0]} {BODIES[1]}"
    assert parsed.sections[3].text == BODIES[3] and parsed.sections[3].page == 4


def test_made_pdf_chunks_cite_their_physical_page(store):
    res = store.ingest("guide.pdf", book())
    assert res.status == "ok" and res.pages == 6
    assert store.ws().search("KESTREL-5521", k=1, mode="keyword")[0].cite() == "guide.pdf, p. 4"
    hits = store.ws().search("Field Guide to Birds", k=6, mode="keyword")
    assert not [h.page for h in hits if "Field Guide" in h.text]  # the header is no content


def test_lines_on_short_pages_and_lines_without_words_are_kept():
    # One-line pages that say the same thing: that is their content, not a frame.
    same = [f"Page {i} of the long report about rivers." for i in range(1, 8)]
    assert strip_furniture(same) == same
    # A lone brace atop three pages of code stays; the repeated title line goes.
    code = [f"Manual\n}}\nline {i} of code\nmore code {i}\nend {i}x" for i in range(4)]
    assert all(page.splitlines()[:1] == ["}"] for page in strip_furniture(code))
    # A line that repeats in the middle of pages (not at the top or bottom) is content.
    middle = [f"top {c}\nalpha {c}\nSee the table below.\nbeta {c}\nbottom {c}" for c in "abcd"]
    assert strip_furniture(middle) == middle


def test_pdfium_is_used_by_one_thread_at_a_time():
    """PDFium is not thread-safe: two uploads parsed at once must both come out whole."""
    def tag(t: int, p: int) -> str:  # letters, so no two pages open alike (digits are masked)
        return "ab"[t] + chr(97 + p % 26) + chr(97 + p // 26)

    pdfs = [makers.pdf([f"Thread {tag(t, p)} page {p}: " + "words " * 200 for p in range(1, 31)]) for t in range(2)]
    results: dict[int, object] = {}

    def work(t: int) -> None:
        for _ in range(3):
            results[t] = parse(f"t{t}.pdf", pdfs[t])

    threads = [threading.Thread(target=work, args=(t,)) for t in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for t in range(2):
        assert [s.page for s in results[t].sections] == list(range(1, 31))
        assert all(s.text.startswith(f"Thread {tag(t, s.page)} page {s.page}:") for s in results[t].sections)


def test_roman_folios_of_the_front_matter_are_furniture_too():
    pages = [f"Manual {r}\nBody {c} one\nbody {c} two\n{r}" for c, r in zip("abcd", ["i", "ii", "iii", "iv"])]
    assert strip_furniture(pages) == [f"Body {c} one\nbody {c} two" for c in "abcd"]
    # A word made of roman letters inside a line is a word ("Derecho civil" stays).
    assert line_key("Derecho civil") == "derecho civil" and line_key("Guía vii") == line_key("Guía 7") == "guía #"


def test_an_encrypted_pdf_with_an_empty_user_password_opens_and_a_real_one_is_refused():
    opened = parse("open.pdf", makers.encrypted_pdf(["Readable by anyone, printable by the owner."], user_password=""))
    assert opened.sections[0].text == "Readable by anyone, printable by the owner."
    from crew.documents.parsers import IngestError

    with pytest.raises(IngestError, match="password-protected: remove the password"):
        parse("locked.pdf", makers.encrypted_pdf(["Secret."]))


def test_a_page_whose_characters_cannot_be_placed_keeps_pdfium_s_own_text():
    """A character outside the BMP is two of PDFium's characters and one of Python's: the positions of the rest
    no longer line up with the text, so the page's lines are taken as PDFium gives them."""
    from crew.documents.parsers.pdf_layout import text_of

    class Page:
        def count_chars(self) -> int:
            return 4

        def get_text_range(self, start: int, count: int) -> str:
            return "😀 a"

        def get_text_bounded(self) -> str:
            return "😀 a\nb"

        def get_charbox(self, index: int):
            raise AssertionError("no positions are read")

    assert text_of(Page()) == "😀 a\nb"
