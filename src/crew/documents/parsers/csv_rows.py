"""CSV with the csv module: rows grouped into chunk-sized sections, the header repeated in each.

Rows are read as a stream and counting stops at the row limit, so a huge file is refused
without holding its rows in memory.
"""

from __future__ import annotations

import csv
from typing import Iterator

from crew.documents.parsers.base import IngestError, ParseOptions, Parsed, Section, Tick, no_tick
from crew.documents.parsers.text import decode_text

_MAX_ROWS_PER_GROUP = 50


def _dialect(sample: str):
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def _lines(text: str) -> Iterator[str]:
    """Yield lines one by one: a StringIO would copy the whole file at four bytes a character."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        if end == -1:
            yield text[start:]
            return
        yield text[start : end + 1]
        start = end + 1


def _line(cells: list[str]) -> str:
    return " | ".join(c.strip().replace("\n", " ") for c in cells)


def parse_csv(data: bytes, options: ParseOptions = ParseOptions(), tick: Tick = no_tick) -> Parsed:
    text = decode_text(data)
    total_lines = max(text.count("\n"), 1)
    reader = csv.reader(_lines(text), _dialect(text[:65536]))
    try:
        header = next(reader, None)
        while header is not None and not any(c.strip() for c in header):
            header = next(reader, None)  # skip blank lines before the header
        if header is None:
            raise IngestError("the CSV holds no rows")
        head = _line(header)
        sections: list[Section] = []
        group: list[str] = []
        size = len(head)
        first = rows = 0
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            rows += 1
            if rows > options.max_csv_rows:
                raise IngestError(
                    f"the CSV has more than {options.max_csv_rows:,} rows, over the limit: split it into smaller files "
                    "(or raise CREW_MAX_CSV_ROWS)"
                )
            line = _line(cells)
            if group and (size + len(line) + 1 > options.chunk_size or len(group) >= _MAX_ROWS_PER_GROUP):
                sections.append(Section("\n".join([head, *group]), row_start=first, row_end=rows - 1, atomic=True))
                group, size = [], len(head)
            if not group:
                first = rows
            group.append(line)
            size += len(line) + 1
            if rows % 500 == 0:
                tick(min(reader.line_num / total_lines, 1.0))
        if group:
            sections.append(Section("\n".join([head, *group]), row_start=first, row_end=rows, atomic=True))
    except csv.Error as exc:
        raise IngestError(f"the CSV is malformed near line {reader.line_num}: {exc}") from None
    tick(1.0)
    if not sections:
        raise IngestError("the CSV has a header but no data rows")
    return Parsed(sections, rows=rows)
