"""A PDF page's text lines with where they stand, and a table's rows put back together.

PDFium writes a table cell by cell: "apt upgrade aptitude", "safe-upgrade", "apt-get", "upgrade", "actualiza
los paquetes ya instalados ...", "sin eliminar ningún paquete", each a line of the page's text. Read as lines,
a row's command and what it does end up apart, and a quote of three lines spans two rows. Where a line stands
tells them apart: in prose each line is below the one before it; the next cell of a row starts to the right and
not below (it goes back up to the row's top). Such a row is written as one line, its cells joined by " · ":
"apt upgrade aptitude safe-upgrade · apt-get upgrade · actualiza los paquetes ya instalados a las nuevas
versiones candidatas sin eliminar ningún paquete". Everything else keeps PDFium's lines as they were.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

CELL_SEPARATOR = " · "
MAX_CELL_LINES = 8  # a taller "cell" is a column of prose beside another (a two-column page), not a table
_HYPHEN_MARK = "\ufffe"  # get_text_range's mark for a word hyphenated at a line end; get_text_bounded's is \x02


@dataclass
class Line:
    text: str
    x: float  # left edge
    right: float
    base: float  # median bottom of its glyphs (PDF points, up is more)
    h: float  # median glyph height
    starts: list[float] = field(default_factory=list)  # left edges of its words after the first


def text_of(textpage: Any) -> str:
    """A page's text (a pypdfium2 PdfTextPage), each table row on one line."""
    lines = lines_of(textpage)
    return textpage.get_text_bounded() if lines is None else page_text(lines)


def lines_of(textpage: Any) -> list[Line] | None:
    """The page's text lines in PDFium's order, with their positions; None when characters outside the BMP
    shift the text's indices off the characters' (no positions to trust)."""
    n = textpage.count_chars()
    text = textpage.get_text_range(0, n) if n else ""
    if len(text) != n:
        return None
    out: list[Line] = []
    start = 0
    for i in range(n + 1):
        if i < n and text[i] not in "\r\n":
            continue
        if text[start:i].strip():
            out.append(_line(textpage, text, start, i))
        start = i + 1
    return out


def _line(textpage: Any, text: str, a: int, b: int) -> Line:
    # Each word's first character and the line's last stand for the line: a box per character tripled the
    # time a page takes to read.
    inked = [i for i in range(a, b) if not text[i].isspace()]
    words = [i for i in inked[1:] if text[i - 1] == " "]
    boxes = {i: textpage.get_charbox(i) for i in inked[:1] + words + inked[-1:]}
    drawn = [box for box in boxes.values() if box[2] > box[0]] or [(0.0, 0.0, 0.0, 1.0)]
    starts = [boxes[i][0] for i in words if boxes[i][2] > boxes[i][0]]
    return Line(text[a:b].strip().replace(_HYPHEN_MARK, "\x02"), min(box[0] for box in drawn),
                max(box[2] for box in drawn), statistics.median(box[1] for box in drawn),
                max(1.0, statistics.median(box[3] - box[1] for box in drawn)), starts)


@dataclass
class _Row:
    cells: list[list[Line]]
    table: bool = False


def page_text(lines: list[Line]) -> str:
    """The page's text: PDFium's lines, with each table row on one line."""
    out: list[str] = []

    def emit(row: _Row) -> None:
        if row.table and max(len(cell) for cell in row.cells) <= MAX_CELL_LINES:
            out.append(CELL_SEPARATOR.join(" ".join(line.text for line in cell) for cell in row.cells))
        else:
            out.extend(line.text for cell in row.cells for line in cell)

    row: _Row | None = None
    last: Line | None = None
    for line in lines:
        if last is not None and line.h < 0.8 * last.h and len(line.text) <= 3:
            # A footnote mark raised off its line: neither a cell nor a line of its own cell.
            if row is not None:
                emit(row)
            out.append(line.text)
            row = None
            continue
        if row is not None and last is not None:
            below = line.base < last.base - 0.5 * last.h
            if not below and abs(line.base - last.base) < 0.3 * last.h and 0 <= line.x - last.right < 1.5 * last.h:
                # The same visual line, cut in two by PDFium (after a raised mark): one line again.
                last.text, last.right = f"{last.text} {line.text}", line.right
                continue
            if line.x > last.x + 4 and not below:  # a cell to the right of the one before
                if not row.table:
                    first = row.cells[0]
                    # Lines of the first "cell" well above this one are prose before the table.
                    above = [ln for ln in first if ln.base > line.base + 1.5 * line.h]
                    if len(above) == len(first):  # nothing of it beside this line: not a row
                        emit(row)
                        row, last = _Row([[line]]), line
                        continue
                    if above:
                        emit(_Row([above]))
                        row.cells[0] = first[len(above):]
                    row.table = True
                row.cells.append([line])
                last = line
                continue
            one_down = below and last.base - line.base < 2.2 * last.h
            if below and (abs(line.x - last.x) < 3 or (one_down and any(abs(line.x - s) < 3 for s in last.starts))):
                # The cell goes on below, where it started or under one of its words (PDFium put two cells'
                # first lines on one line: "apt update aptitude", then "update" under "aptitude").
                row.cells[-1].append(line)
                last = line
                continue
            emit(row)
        row, last = _Row([[line]]), line
    if row is not None:
        emit(row)
    return "\n".join(out)
