"""PDF with pypdf: one section per physical page, numbered from 1 as a viewer numbers them."""

from __future__ import annotations

import io
import logging
import re

from crew.parsers.base import IngestError, ParseOptions, Parsed, Section, Tick, no_tick
from crew.parsers.sniff import sniff

_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


def _clean(text: str) -> str:
    text = text.replace("\x00", "")
    text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n\n", text).strip()


def parse_pdf(data: bytes, options: ParseOptions = ParseOptions(), tick: Tick = no_tick) -> Parsed:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    if b"%PDF-" not in data[:1024]:
        kind = sniff(data)
        if kind:
            raise IngestError(f"this is not a PDF: the file is {kind}")
        raise IngestError("this is not a PDF: it has no PDF header (damaged, or another format renamed .pdf)")
    # pypdf logs every repaired cross-reference table; a person cannot act on those lines.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except Exception as exc:
        raise IngestError(f"the PDF is damaged and cannot be read ({_short(exc)})") from None
    if encrypted:
        try:
            opened = reader.decrypt("")  # permissions-only PDFs open with an empty password
        except DependencyError:
            raise IngestError("the PDF is encrypted with AES and the 'cryptography' package is missing") from None
        except Exception:
            opened = 0
        if not opened:
            raise IngestError("the PDF is password-protected: remove the password (print to PDF) and upload it again")
    try:
        total = len(reader.pages)
    except Exception as exc:
        raise IngestError(f"the PDF is damaged: its page list cannot be read ({_short(exc)})") from None
    if total == 0:
        raise IngestError("the PDF has no pages")
    sections: list[Section] = []
    for number in range(1, total + 1):
        try:
            text = reader.pages[number - 1].extract_text() or ""
        except Exception as exc:
            raise IngestError(f"the PDF is damaged: page {number} cannot be read ({_short(exc)})") from None
        text = _clean(text)
        if text:
            sections.append(Section(text, page=number))
        tick(number / total)
    if not sections:
        raise IngestError(f"the PDF's {total} page(s) hold no text layer (a scan?); text recognition (OCR) is not supported")
    return Parsed(sections, pages=total)

