"""Find page furniture: running headers and footers that repeat across a document's pages.

A book's pages start or end with the same lines ("Guía de referencia de Debian 108 / 244", a
bare folio, the chapter's title over each of its pages). Indexed as content they match every
query about the title and reach answers as quotes, so they are dropped before chunking.

A book's table of contents (and its lists of tables and figures) is furniture too: each entry restates a heading
that stands on its own page, with a folio behind a dot leader ("1.2.13. tmpfs . . . . . 16"). Indexed, a contents
page matches every question about the ten topics it lists and took one of the five passages of 10 of 179 labelled
questions; quoted, it answers nothing. An entry line goes, and so does a page made mostly of them (its chapter
lines without leaders too).

A running header that a chapter of two or three pages prints too few times to count as repeated is known by the
document's outline instead: its folio and a chapter's title ("10 Chapter 3. Debian Developer's Duties").

A line is furniture when, with its digits masked, it stands among the first or last two lines
of at least `min_pages` pages, and is a folio or a short line with words (a full line of body
text that opens many pages alike is more likely content). Pages with fewer than `min_lines` lines have no zone of
their own: a page that is one paragraph has no header to strip, and "Page 3 of the report…" written on every page
of a short file is its content, not its frame; only the lines the full pages show as furniture go from them (the
blank page that ends a chapter, with its header and footer alone).
"""

from __future__ import annotations

import re
from collections import Counter

ZONE = 2  # lines at the top and at the bottom of a page where headers and footers stand
MAX_LENGTH = 80  # a running header is a title and a folio, shorter than a line of body text
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
_LETTER = re.compile(r"[^\W\d_]")
_FOLIO = re.compile(r"[\s#/|.\-–—]*#[\s#/|.\-–—]*")  # "#", "# / #", "- # -" (roman folios are masked too)


# A roman folio closing a line ("Guía de referencia de Debian vii" in the front matter).
_ROMAN_END = re.compile(r"(?:(?<=\s)|^)(?=[mdclxvi]+$)m{0,3}(c[md]|d?c{0,3})(x[cl]|l?x{0,3})(i[xv]|v?i{0,3})$")


# A contents entry: a dot leader (five dots at least, spaced or not) and the folio closing the line.
_LEADER = re.compile(r"(?:\.\s?){5,}\s*(?:\d{1,4}|[ivxlcdm]{1,7})\s*$", re.IGNORECASE)
CONTENTS_SHARE = 0.5  # of a page's lines: entries on a contents page; a chapter line between them has no leader


def is_contents_entry(line: str) -> bool:
    """A table-of-contents line: a title, a dot leader and its folio."""
    return bool(_LEADER.search(line))


def strip_contents(pages: list[str]) -> list[str]:
    """Each page without its contents entries; a page mostly made of them is left empty (unless all are: a
    file that is only a contents listing keeps it)."""
    out = []
    for text in pages:
        lines = [line for line in text.splitlines() if line.strip()]
        entries = sum(is_contents_entry(line) for line in lines)
        if not entries:
            out.append(text)
        elif entries >= CONTENTS_SHARE * len(lines):
            out.append("")
        else:
            out.append("\n".join(line for line in text.splitlines() if not is_contents_entry(line)))
    return out if any(text.strip() for text in out) else list(pages)


def line_key(line: str) -> str:
    """The line as it repeats from page to page: digits and a closing roman folio masked, spacing and case folded."""
    key = _SPACE.sub(" ", _DIGITS.sub("#", line)).strip().casefold()
    return _ROMAN_END.sub("#", key)


def _can_be_furniture(key: str) -> bool:
    """A folio, or a short line with words; a lone brace atop three pages of code is content."""
    return bool(_FOLIO.fullmatch(key)) or (len(key) <= MAX_LENGTH and bool(_LETTER.search(key)))


def _zone(lines: list[str], min_lines: int) -> set[int]:
    """Indexes of the non-blank lines where a header or footer can stand (none on a short page)."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    if len(filled) < min_lines:
        return set()
    return set(filled[:ZONE] + filled[-ZONE:])


def furniture_keys(pages: list[list[str]], min_pages: int = 3, min_lines: int = 3) -> set[str]:
    """The masked lines that stand in the header/footer zone of at least `min_pages` pages."""
    seen: Counter[str] = Counter()
    for lines in pages:
        seen.update({line_key(lines[i]) for i in _zone(lines, min_lines)})
    return {key for key, n in seen.items() if n >= min_pages and _can_be_furniture(key)}


# A running header as books print it: the folio before or after the chapter's title, with its label or not
# ("10 Chapter 3. Debian Developer's Duties", "Managing Packages 37").
_FOLIO_EDGE = re.compile(r"^\d{1,4}\s+|\s+\d{1,4}$")
_LABEL = re.compile(r"^(?:(?:chapter|cap[ií]tulo|chapitre|kapitel)\s+)?[\dIVXLCA-Z]{1,4}\.?\s+", re.IGNORECASE)


def strip_chapter_lines(pages: list[str], chapters: list[tuple[str, int]], min_lines: int = 3) -> list[str]:
    """Each page without a header or footer line that is the folio and the title of one of the document's
    `chapters` ((title, the 1-based page it starts on), from its outline). Repetition finds most running headers,
    but a chapter of two or three pages prints its line too few times ("10 Chapter 3. Debian Developer's Duties"
    reached an answer as a quote). On the page where the chapter starts, "1 Introduction" is its heading: kept."""
    starts: dict[str, set[int]] = {}
    for title, page in chapters:
        if len(title.strip()) > 3:
            starts.setdefault(_SPACE.sub(" ", title).strip().casefold(), set()).add(page)
    if not starts:
        return list(pages)
    out = []
    for number, text in enumerate(pages, 1):
        lines = text.splitlines()
        frame = _frame(lines, min_lines)
        out.append("\n".join(line for i, line in enumerate(lines)
                              if i not in frame or not _is_chapter_line(line, starts, number)))
    return out


def _is_chapter_line(line: str, starts: dict[str, set[int]], page: int) -> bool:
    line = _SPACE.sub(" ", line).strip()
    rest = _FOLIO_EDGE.sub("", line)
    if rest == line or len(line) > MAX_LENGTH:
        return False  # without a folio the title atop a page is the chapter's heading, which stays
    # The title as printed, or after its label ("Chapter 3.", "A.", "IV"): a title may begin with a short word too.
    for title in {rest, _LABEL.sub("", rest, count=1)}:
        pages = starts.get(title.casefold())
        if pages is not None and page not in pages:
            return True
    return False


def _frame(lines: list[str], min_lines: int) -> set[int]:
    """Indexes of the lines that may be dropped as furniture: the zone of a page, every line of a short one (a
    blank page at a chapter's end prints only its header and footer). Only lines known as furniture from the
    zones of full pages are dropped there, so a page of one paragraph keeps its text."""
    zone = _zone(lines, min_lines)
    return zone or {i for i, line in enumerate(lines) if line.strip()}


def strip_furniture(pages: list[str], min_pages: int = 3, min_lines: int = 3) -> list[str]:
    """Return each page's text without its running headers and footers."""
    split = [text.splitlines() for text in pages]
    keys = furniture_keys(split, min_pages, min_lines)
    if not keys:
        return list(pages)
    out = []
    for lines in split:
        frame = _frame(lines, min_lines)
        out.append("\n".join(line for i, line in enumerate(lines) if i not in frame or line_key(line) not in keys))
    return out
