"""Word .docx with python-docx: paragraphs and tables in order, each under its heading path.

A .docx is a zip: its declared sizes are checked before anything is unpacked, so a zip bomb is
refused without expanding it (Python's zipfile never reads past a member's declared size).
"""

from __future__ import annotations

import io
import re
import zipfile

from crew.documents.parsers.base import IngestError, ParseOptions, Parsed, Section, Tick, no_tick
from crew.documents.parsers.sniff import sniff

_HEADING = re.compile(r"^(?:heading|título|titulo|titre|überschrift|kop|titolo)\s*(\d)$", re.IGNORECASE)


def check_package(data: bytes, options: ParseOptions) -> None:
    """Refuse a zip that is not a .docx or that would expand past the caps."""
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        members = package.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        kind = sniff(data)
        if kind and kind.startswith("an old Microsoft Office"):
            raise IngestError("this is an old Word .doc file or a password-protected .docx: save it as .docx without a password") from None
        raise IngestError(f"this is not a Word .docx file{': it is ' + kind if kind else ' (it is not a zip package)'}") from None
    total = 0
    cap_mb = options.zip_max_bytes // (1024 * 1024)
    for info in members:
        total += info.file_size
        if total > options.zip_max_bytes:
            raise IngestError(f"the .docx would expand to more than {cap_mb} MB when unpacked (a zip bomb?): refused")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1_000_000 and ratio > options.zip_max_ratio:
            raise IngestError(
                f"the .docx member {info.filename!r} expands {ratio:,.0f} times (limit {options.zip_max_ratio:,.0f}; a zip bomb?): refused"
            )
    if "word/document.xml" not in {m.filename for m in members}:
        raise IngestError("this zip is not a Word .docx document (no word/document.xml inside)")


def _level(paragraph) -> int:
    """Return the heading level of a paragraph (Title counts as 1), 0 for body text."""
    try:
        style = paragraph.style
    except Exception:  # a style reference the package does not define
        return 0
    for name in (getattr(style, "name", None) or "", getattr(style, "style_id", None) or ""):
        if name.strip().lower() == "title":
            return 1
        m = _HEADING.match(name.strip())
        if m:
            return int(m.group(1))
    return 0


def parse_docx(data: bytes, options: ParseOptions = ParseOptions(), tick: Tick = no_tick) -> Parsed:
    import docx
    from docx.table import Table

    check_package(data, options)
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(document.iter_inner_content())
    except Exception as exc:
        raise IngestError(f"the .docx is damaged and cannot be read ({type(exc).__name__})") from None
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    lines: list[str] = []

    def flush() -> None:
        text = "\n".join(lines).strip()
        if text:
            sections.append(Section(text, heading=" > ".join(t for _, t in path)))
        lines.clear()

    for i, block in enumerate(blocks, 1):
        if isinstance(block, Table):
            for row in block.rows:
                cells = []
                for cell in row.cells:
                    value = cell.text.strip()
                    if value and (not cells or cells[-1] != value):  # merged cells repeat their text
                        cells.append(value)
                if cells:
                    lines.append(" | ".join(cells))
        else:
            text = block.text.strip()
            level = _level(block) if text else 0
            if level:
                flush()
                path = [(lv, t) for lv, t in path if lv < level] + [(level, text)]
            if text:
                lines.append(text)
        if i % 50 == 0:
            tick(i / len(blocks))
    flush()
    tick(1.0)
    if not sections:
        raise IngestError("the .docx holds no text")
    return Parsed(sections)
