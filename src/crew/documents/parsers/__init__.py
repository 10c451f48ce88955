"""Read uploaded files into text sections, one module per format, each over a well-kept library.

`parse(name, data)` picks the parser by file extension; each parser checks that the bytes really
are that format and raises `IngestError` with a message a person can act on.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Callable

from crew.documents.parsers.base import IngestError, ParseOptions, Parsed, Section, Tick, clean_parsed, clean_text, no_tick
from crew.documents.parsers.csv_rows import parse_csv
from crew.documents.parsers.html_text import parse_html
from crew.documents.parsers.markdown import parse_markdown
from crew.documents.parsers.pdf import parse_pdf
from crew.documents.parsers.text import decode_text, parse_text
from crew.documents.parsers.word import parse_docx

Parser = Callable[[bytes, ParseOptions, Tick], Parsed]

PARSERS: dict[str, tuple[str, Parser]] = {
    ".pdf": ("pdf", parse_pdf),
    ".docx": ("docx", parse_docx),
    ".md": ("markdown", parse_markdown),
    ".markdown": ("markdown", parse_markdown),
    ".txt": ("text", parse_text),
    ".text": ("text", parse_text),
    ".html": ("html", parse_html),
    ".htm": ("html", parse_html),
    ".csv": ("csv", parse_csv),
}
SUFFIXES: tuple[str, ...] = tuple(PARSERS)

# Which version of each format's reader made a document's text; the library keeps it per document, and a
# document read by an older one is offered a re-index (crew.documents.library.Library.outdated). Raise a
# format's number whenever the text its parser (or the cleaning and cutting after it) makes changes, so
# documents already in workspaces get the better text. 0 is a document stored before readers were counted.
READERS: dict[str, int] = {
    # PDFium: spacing kept, hyphens by the document's spellings, table rows, footnotes, furniture; 2: contents pages;
    # 3: a short chapter's running header (folio and chapter title), blank pages that hold only furniture
    "pdf": 3,
    # HTML 2: DocBook <sidebar> boxes kept as content; "docnav", "banner" and "toc" navigation dropped; 3: a box's
    # title heads its text
    "docx": 1,
    "markdown": 1,
    "text": 1,
    "html": 3,
    "csv": 1,
}


def file_format(name: str) -> str:
    """Return the format a file name asks for ("pdf", "docx", ...); raise IngestError when none fits."""
    suffix = PurePath(name).suffix.lower()
    if suffix in PARSERS:
        return PARSERS[suffix][0]
    known = ", ".join(SUFFIXES)
    if not suffix:
        raise IngestError(f"the file name {name!r} has no extension, so its type is unknown: use one of {known}")
    raise IngestError(f"unsupported file type '{suffix}': use one of {known}")


def parse(name: str, data: bytes, options: ParseOptions = ParseOptions(), tick: Tick = no_tick) -> Parsed:
    """Read a file into sections by its extension, without control characters (whatever the format)."""
    file_format(name)
    if not data:
        raise IngestError("the file is empty (0 bytes)")
    return clean_parsed(PARSERS[PurePath(name).suffix.lower()][1](data, options, tick))


__all__ = [
    "IngestError", "ParseOptions", "Parsed", "Section", "Tick", "PARSERS", "READERS", "SUFFIXES",
    "clean_text", "decode_text", "file_format", "parse", "no_tick",
]
