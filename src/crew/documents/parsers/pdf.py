"""PDF with PDFium (pypdfium2): one section per physical page, numbered from 1 as a viewer numbers them,
under the heading its outline puts it (crew.documents.parsers.outline).

PDFium is the PDF engine of Chromium: it places words by their glyph positions, so the spaces
between words survive on the DocBook/LaTeX PDFs where pypdf ran them together
("Ahoraintentacompilaryejecutarelprograma"), and it reads ~10x faster.

Memory stays bounded by one page: each page and its text page are closed as soon as their text
is read (PDFium keeps a loaded page until it is closed), and only the text travels on. Running
headers and footers are dropped across pages (crew.parsers.furniture) before sections are made.

PDFium is not thread-safe, even across documents: every call into it holds one process-wide lock.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from contextlib import contextmanager
from typing import Iterable, Iterator

from crew.documents.parsers.base import IngestError, ParseOptions, Parsed, Section, Tick, no_tick
from crew.documents.parsers.furniture import strip_chapter_lines, strip_contents, strip_furniture
from crew.documents.parsers.outline import Entry, entries_of, page_headings
from crew.documents.parsers.pdf_layout import text_of
from crew.documents.parsers.sniff import sniff

_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# A footnote at a page's foot starts with its number run into its first word ("3Hay varios paquetes...",
# "10Añade el paquete..."): prose never starts with a number glued to a capitalised word.
_FOOTNOTE_MARK = re.compile(r"(?m)^\d{1,3}(?=[A-ZÁÉÍÓÚÑ][a-záéíóúñü]|[¿¡«“”\"(][A-Za-zÁÉÍÓÚÑ])")
# PDFium marks a word hyphenated across a line break with \x02 and joins the two halves. Whether the hyphen
# was the word's own ("dpkg-source", "stable-backports") or the typesetter's ("docu-mentación") is read off
# the rest of the document first: the way it writes the same word where no line breaks it.
_BROKEN = re.compile(r"\S*\x02\S*")
_WORD_CHARS = r"[\w.+~/-]"  # a word, a name, a path or an address
_WORD = re.compile(_WORD_CHARS + "+")
_WORD_END = re.compile(_WORD_CHARS + "*$")
_WORD_START = re.compile(_WORD_CHARS + "*")
PDFIUM_LOCK = threading.RLock()

# pypdfium2's error codes (FPDF_ERR_*) for the failures a person can act on.
_ERR_PASSWORD = 4
_ERR_SECURITY = 5


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


def spellings(texts: Iterable[str]) -> Counter[str]:
    """How often the document writes each word where no line break hyphenates it."""
    return Counter(word.rstrip(".") for text in texts for word in _WORD.findall(_BROKEN.sub(" ", text)))


def _hyphen(left: str, right: str, spelled: Counter[str]) -> str:
    """What a hyphenation mark between `left` and `right` (the word's halves) stands for: "-" or nothing."""
    right = right.rstrip(".")
    hyphened, joined = spelled[f"{left}-{right}"] > 0, spelled[left + right] > 0
    if hyphened != joined:  # the document writes it one way only
        return "-" if hyphened else ""
    if not left or not right:
        return ""
    # Names, paths and addresses keep their hyphens ("fonts-crosextra-carlito", ".../best-pkging-practices.html",
    # "LGPL-2.1"); so does a capital after a small letter ("Fernández-Sanguino"), not inside a capitalised word.
    if any(c in left + right for c in "-/") or right[0].isdigit() or (right[0].isupper() and not left[-1].isupper()):
        return "-"
    return ""


def _unbreak(text: str, spelled: Counter[str]) -> str:
    def one(match: re.Match) -> str:
        out, *rest = match.group(0).split("\x02")
        for half in rest:
            out += _hyphen(_WORD_END.search(out).group(0), _WORD_START.match(half).group(0), spelled) + half
        return out

    return _BROKEN.sub(one, text)


def clean_page_text(text: str, spelled: Counter[str] | None = None) -> str:
    """PDFium's page text as plain lines: hyphen marks resolved (by the document's `spellings`), control
    characters out, spaces folded, footnote numbers off their footnotes' first words."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _unbreak(text, spelled if spelled is not None else spellings([text]))
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text)
    text = _FOOTNOTE_MARK.sub("", text)
    return _BLANK_LINES.sub("\n\n", text).strip()


@contextmanager
def _opened(data: bytes) -> Iterator[object]:
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        try:
            # An empty password opens permissions-only PDFs (encrypted, but readable by anyone).
            doc = pdfium.PdfDocument(data, password="")
        except pdfium.PdfiumError as exc:
            code = getattr(exc, "err_code", None)
            if code == _ERR_PASSWORD:
                raise IngestError("the PDF is password-protected: remove the password (print to PDF) and upload it again") from None
            if code == _ERR_SECURITY:
                raise IngestError("the PDF uses an encryption this reader does not support: print it to a new PDF and upload that") from None
            raise IngestError(f"the PDF is damaged and cannot be read ({_short(exc)})") from None
    try:
        yield doc
    finally:
        with PDFIUM_LOCK:
            doc.close()


def page_texts(data: bytes, tick: Tick = no_tick) -> Iterator[str]:
    """Yield each physical page's raw text in order (a table's rows on a line each: crew.documents.parsers.
    pdf_layout), holding one page in memory at a time."""
    with _opened(data) as doc:
        with PDFIUM_LOCK:
            total = len(doc)
        if total == 0:
            raise IngestError("the PDF has no pages")
        for number in range(1, total + 1):
            with PDFIUM_LOCK:
                page = textpage = None
                try:
                    page = doc[number - 1]
                    textpage = page.get_textpage()
                    text = text_of(textpage)
                except Exception as exc:
                    raise IngestError(f"the PDF is damaged: page {number} cannot be read ({_short(exc)})") from None
                finally:
                    if textpage is not None:
                        textpage.close()
                    if page is not None:
                        page.close()
            yield text
            tick(number / total)


def outline(data: bytes) -> list[Entry]:
    """The PDF's outline entries (crew.documents.parsers.outline), [] when it has none."""
    with _opened(data) as doc:
        with PDFIUM_LOCK:
            return entries_of(doc)


def parse_pdf(data: bytes, options: ParseOptions = ParseOptions(), tick: Tick = no_tick) -> Parsed:
    if b"%PDF-" not in data[:1024]:
        kind = sniff(data)
        if kind:
            raise IngestError(f"this is not a PDF: the file is {kind}")
        raise IngestError("this is not a PDF: it has no PDF header (damaged, or another format renamed .pdf)")
    raw = list(page_texts(data, tick))
    spelled = spellings(raw)
    texts = strip_contents(strip_furniture([clean_page_text(text, spelled) for text in raw]))
    del raw
    entries = outline(data)
    texts = strip_chapter_lines(texts, [(e.title, e.page) for e in entries if e.level == 0])
    headings = page_headings(texts, entries)
    sections = [Section(text.strip(), page=number, heading=start, marks=marks)
                for number, (text, (start, marks)) in enumerate(zip(texts, headings), 1) if text.strip()]
    if not sections:
        raise IngestError(f"the PDF's {len(texts)} page(s) hold no text layer (a scan?); text recognition (OCR) is not supported")
    return Parsed(sections, pages=len(texts))
