"""Share what every parser needs: the section type, the error a person can act on, and the limits."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Callable

from crew.settings import Settings, default_of

MB = 1024 * 1024
Tick = Callable[[float], None]  # fraction 0..1 of the parse done


class IngestError(ValueError):
    """A file that cannot be ingested; the message names the problem for the person."""


@dataclass(frozen=True)
class Section:
    """A run of text from one place in a file: a page, a heading, a row range."""

    text: str
    page: int = 0  # 1-based physical page; 0 when the format has no pages
    heading: str = ""  # heading path, "Intro > Scope"; a PDF page's: the one in effect where the page starts
    # Headings that start inside the text (a PDF page's sections): (the line that prints one, or "" for the top;
    # the heading path from there on). crew.documents.parsers.outline
    marks: tuple[tuple[str, str], ...] = ()
    row_start: int = 0  # first and last data row (1-based, header excluded) of a CSV group
    row_end: int = 0
    atomic: bool = False  # already sized as one chunk (a CSV row group): do not split


@dataclass(frozen=True)
class Parsed:
    """What a parser read from one file."""

    sections: list[Section]
    pages: int = 0  # physical pages (PDF), or pages split by form feeds
    rows: int = 0  # data rows (CSV)


@dataclass(frozen=True)
class ParseOptions:
    """Sizes and caps a parser obeys; the defaults are Settings' own (see `from_settings`)."""

    chunk_size: int = default_of("chunk_size")
    max_csv_rows: int = default_of("max_csv_rows")
    zip_max_bytes: int = default_of("docx_max_unpacked_mb") * MB  # total unpacked size of a .docx
    zip_max_ratio: float = default_of("docx_max_ratio")  # unpacked/packed size of any large member

    @classmethod
    def from_settings(cls, settings: Settings) -> "ParseOptions":
        """Take the sizes and caps from the settings (the .docx size is set in MB there)."""
        return cls(chunk_size=settings.chunk_size, max_csv_rows=settings.max_csv_rows,
                   zip_max_bytes=int(settings.docx_max_unpacked_mb * MB), zip_max_ratio=settings.docx_max_ratio)


def no_tick(_: float) -> None:
    return None


# C0 control characters and DEL, except tab and newline: a NUL or an ESC in a chunk is noise to the
# embedder, breaks keyword search and storage, and can act on a terminal that shows it.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_BREAKS = re.compile(r"\r\n?|[\x0b\x0c]")  # CR, CRLF, vertical tab and form feed end a line


def clean_text(text: str) -> str:
    """Drop control characters from parsed text: line breaks of every kind become newlines, the rest go."""
    return _CONTROLS.sub("", _BREAKS.sub("\n", text))


def clean_parsed(parsed: Parsed) -> Parsed:
    """`clean_text` on every section's text and heading; sections left blank are dropped."""
    sections = [replace(s, text=clean_text(s.text), heading=clean_text(s.heading)) for s in parsed.sections]
    return replace(parsed, sections=[s for s in sections if s.text.strip()])
