"""Shape what the Documents page shows, without Streamlit: progress labels, per-file summaries,
library rows. Pure functions, so the page stays thin and these stay tested."""

from __future__ import annotations

import time
from typing import Any, Iterable

from crew.documents.parsers import SUFFIXES

STAGE_LABELS = {
    "waiting": "Queued",
    "parsing": "Reading",
    "chunking": "Splitting into chunks",
    "embedding": "Embedding and storing",
    "done": "Done",
}
UPLOAD_TYPES = sorted({s.lstrip(".") for s in SUFFIXES})


def human_size(n: int) -> str:
    """Render a byte count as a person reads it: 532 B, 14.2 KB, 3.1 MB."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def progress_label(name: str, stage: str, fraction: float) -> str:
    """The text on a file's progress bar: what is happening and how far along."""
    return f"{name}: {STAGE_LABELS.get(stage, stage)} ({fraction:.0%})"


def plural(n: int, word: str) -> str:
    """'1 chunk', '3 chunks', '1,200 rows'."""
    return f"{n:,} {word}{'s' * (n != 1)}"


def extent(pages: int, rows: int) -> str:
    """How long a document is, in the unit it has: pages, rows, or nothing."""
    if pages:
        return plural(pages, "page")
    if rows:
        return plural(rows, "row")
    return ""


def summary_line(result: Any) -> str:
    """One line on how an upload went: pages, chunks and time, or what was wrong (plain text)."""
    r = result if isinstance(result, dict) else result.to_dict()
    reindexed = bool((r.get("extra") or {}).get("reindex"))  # a re-index's result (crew.reindex), not an upload's
    if r["status"] != "ok":
        return f"{r['file']}: {'not re-indexed' if reindexed else 'not added'}: {r['error']}"
    if r.get("duplicate"):
        note = (r.get("extra") or {}).get("note", "already in the library")
        return f"{r['file']}: {note}; nothing stored twice"
    parts = [p for p in (extent(r.get("pages", 0), r.get("rows", 0)),) if p]
    parts += [plural(r["chunks"], "chunk"), f"{r.get('seconds', 0.0):.1f} s"]
    return f"{r['file']}: {'re-indexed' if reindexed else 'added'}, " + ", ".join(parts)


def format_label(fmt: str) -> str:
    """A format as the page names it: PDF, DOCX, Markdown."""
    return "Markdown" if fmt == "markdown" else fmt.upper()


def library_rows(documents: Iterable[Any]) -> list[dict[str, Any]]:
    """Rows for the library table, newest first as the library lists them."""
    rows = []
    for d in documents:
        rows.append({
            "doc_id": d.doc_id,
            "Name": d.name,
            "Type": format_label(d.format),
            "Size": human_size(d.size),
            "Length": extent(d.pages, d.rows) or "—",
            "Chunks": d.chunks,
            "Uploaded": time.strftime("%Y-%m-%d %H:%M", time.localtime(d.uploaded_at)),
        })
    return rows


def some_names(documents: list[Any], shown: int = 3) -> str:
    """'a.pdf, b.md and 4 more': a list of documents named in one short line."""
    more = len(documents) - shown
    return ", ".join(d.name for d in documents[:shown]) + (f" and {more:,} more" if more > 0 else "")


def outdated_line(documents: list[Any]) -> str:
    """Why the page offers a re-index: which documents an older reader read (plain text)."""
    kinds = sorted({format_label(d.format) for d in documents})
    one = len(documents) == 1
    return (f"{plural(len(documents), 'document')} ({some_names(documents)}) {'was' if one else 'were'} read by an "
            f"older version of Crew's {', '.join(kinds)} reader{'s' * (len(kinds) > 1)}. Re-index to read "
            f"{'it' if one else 'them'} again from the original files: the current reader makes better text to find "
            "and quote.")
