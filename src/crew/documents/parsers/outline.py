"""A PDF's outline (its bookmarks) as the heading each page's text stands under, so a citation can say
"p. 18 · 2.7. Configurar dh_make" and not only "p. 18".

Only labels: the pages are chunked exactly as before. Cutting pages at their sections made more, smaller
chunks and cost page recall on the labelled sets (bench/RESULTS.md, "Page recall: five ideas..."), so a
section that starts mid-page is a mark in the page's section (`Section.marks`: the heading's line and the
path from there on), and each chunk takes the heading in effect at its middle (crew.documents.ingest).

An outline names its entries without their numbers ("Configurar dh_make"); the page prints the heading
with them ("2.7. Configurar dh_make"). The printed line is what the label shows when it is found on the
entry's page; else the outline's title, from the top of that page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from crew.retrieval.stemming import fold

SEPARATOR = " > "
MAX_TITLE = 120
_NUMBERING = re.compile(r"^(?:(?:cap[ií]tulo|chapter|ap[eé]ndice|appendix|secci[oó]n|section)\s+)?"
                        r"(?:[\divxlcIVXLC]+|[A-Z])(?:\.\d+)*\.?\s+", re.I)


@dataclass(frozen=True)
class Entry:
    page: int  # 1-based
    level: int  # 0 for a chapter
    title: str


def entries_of(doc: object) -> list[Entry]:
    """The outline of an open pypdfium2 document; [] when it has none or it cannot be read."""
    out: list[Entry] = []
    try:
        for item in doc.get_toc():  # type: ignore[attr-defined]
            dest = item.get_dest()
            index = dest.get_index() if dest is not None else None
            title = " ".join((item.get_title() or "").split())[:MAX_TITLE]
            if index is not None and index >= 0 and title:
                out.append(Entry(index + 1, item.level, title))
    except Exception:  # a damaged outline costs the labels, never the document
        return []
    return out


def _fold(text: str) -> str:
    return " ".join(fold(text).split())


def _printed(title: str, lines: Sequence[str]) -> str | None:
    """The line of a page that prints an outline title, with or without its numbering."""
    want = _fold(title)
    for line in lines:
        folded = _fold(line)
        if folded == want or _fold(_NUMBERING.sub("", line.strip(), count=1)) == want:
            return line.strip()
    return None


def page_headings(texts: Sequence[str], entries: Sequence[Entry]) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """For each page's text: the heading path in effect where the page starts, and the headings that start on
    it, each as (the line that prints it, or "" for the top of the page; the path from there on)."""
    by_page: dict[int, list[Entry]] = {}
    for entry in entries:
        by_page.setdefault(entry.page, []).append(entry)
    stack: list[tuple[int, str]] = []  # (level, label) from the chapter down
    out = []
    for number, text in enumerate(texts, 1):
        start = SEPARATOR.join(label for _, label in stack)
        marks = []
        lines = text.splitlines()
        for entry in by_page.get(number, []):
            line = _printed(entry.title, lines)
            while stack and stack[-1][0] >= entry.level:
                stack.pop()
            stack.append((entry.level, line or entry.title))
            marks.append((line or "", SEPARATOR.join(label for _, label in stack)))
        out.append((start, tuple(marks)))
    return out


def heading_at(text: str, start: str, marks: Sequence[tuple[str, str]], offset: int) -> str:
    """The heading path in effect at a character offset of a page's text."""
    heading = start
    cursor = 0
    for line, path in marks:
        at = text.find(line, cursor) if line else 0
        if at < 0:
            continue
        if at > offset:
            break
        heading, cursor = path, at
    return heading
