"""Share what every parser needs: the section type, the error a person can act on, and the limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

Tick = Callable[[float], None]  # fraction 0..1 of the parse done


class IngestError(ValueError):
    """A file that cannot be ingested; the message names the problem for the person."""


@dataclass(frozen=True)
class Section:
    """A run of text from one place in a file: a page, a heading, a row range."""

    text: str
    page: int = 0  # 1-based physical page; 0 when the format has no pages
    heading: str = ""  # heading path, "Intro > Scope"
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
    """Sizes and caps a parser obeys; defaults match Settings."""

    chunk_size: int = 800
    max_csv_rows: int = 100_000
    zip_max_bytes: int = 200 * 1024 * 1024  # total unpacked size of a .docx
    zip_max_ratio: float = 100.0  # unpacked/packed size of any large member


def no_tick(_: float) -> None:
    return None
