"""Turn files into remembered chunks: bytes -> text sections -> chunks -> memory, with progress.

A file is all-or-nothing: if anything fails after its first chunk was stored, its chunks are
removed again before the error is reported.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePath
from typing import Callable

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from crew.memory import Chunk, WorkspaceMemory

Progress = Callable[[str, float], None]  # (stage, fraction 0..1)


class IngestError(ValueError):
    """A file that cannot be ingested; the message names the problem for the person."""


@dataclass(frozen=True)
class Section:
    """A run of text from one place in a file: a page, a heading, a row range."""

    text: str
    page: int = 0
    heading: str = ""


@dataclass
class IngestResult:
    file: str
    status: str  # "ok" | "error"
    chunks: int = 0
    error: str = ""
    doc_id: str = ""
    pages: int = 0
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def safe_name(name: str) -> str:
    """Keep only the base name, without control characters: a name is shown, never a path."""
    base = PurePath(name.replace("\\", "/")).name
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".")
    return cleaned[:200] or "unnamed"


def decode_text(data: bytes) -> str:
    """Decode text whatever its encoding; refuse bytes that are not text at all."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace") if b"\x00" not in data else ""
    controls = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if not text or b"\x00" in data[:20000] or controls > 0.02 * min(len(text), 20000):
        raise IngestError("this is not a text file (it holds binary data)")
    return text


def parse_text(data: bytes) -> list[Section]:
    return [Section(decode_text(data))]


def parse_markdown(data: bytes) -> list[Section]:
    text = decode_text(data)
    splitter = MarkdownHeaderTextSplitter(
        headers_to_split_on=[("#", "h1"), ("##", "h2"), ("###", "h3")], strip_headers=False
    )
    return [
        Section(d.page_content, heading=" > ".join(d.metadata[h] for h in ("h1", "h2", "h3") if h in d.metadata))
        for d in splitter.split_text(text)
    ]


PARSERS: dict[str, Callable[[bytes], list[Section]]] = {
    ".txt": parse_text,
    ".text": parse_text,
    ".md": parse_markdown,
    ".markdown": parse_markdown,
}


def parse(name: str, data: bytes) -> list[Section]:
    suffix = PurePath(name).suffix.lower()
    parser = PARSERS.get(suffix)
    if parser is None:
        raise IngestError(f"unsupported file type '{suffix or name}': use one of {', '.join(sorted(PARSERS))}")
    if not data:
        raise IngestError("the file is empty (0 bytes)")
    return parser(data)


def chunk_sections(sections: list[Section], doc_id: str, source: str, size: int, overlap: int, content_hash: str) -> list[Chunk]:
    splitter = RecursiveCharacterTextSplitter(chunk_size=size, chunk_overlap=min(overlap, size // 2))
    chunks: list[Chunk] = []
    for section in sections:
        for piece in splitter.split_text(section.text):
            if not piece.strip():
                continue
            extra = {"content_hash": content_hash}
            if section.heading:
                extra["heading"] = section.heading
            chunks.append(Chunk(piece, source, doc_id, len(chunks), page=section.page, extra=extra))
    return chunks


def document_id(workspace: str, content_hash: str) -> str:
    """Identify a file by its content within a workspace, so an identical re-upload is the same document."""
    return hashlib.sha256(f"{workspace}\0{content_hash}".encode()).hexdigest()[:20]


def ingest_bytes(
    memory: WorkspaceMemory,
    name: str,
    data: bytes,
    *,
    chunk_size: int = 800,
    chunk_overlap: int = 120,
    progress: Progress | None = None,
) -> IngestResult:
    """Parse, chunk and store one file; never raise for a bad file, report it instead."""
    started = time.perf_counter()
    source = safe_name(name)
    report = progress or (lambda stage, frac: None)
    doc_id = ""
    try:
        report("parsing", 0.0)
        sections = parse(source, data)
        content_hash = hashlib.sha256(data).hexdigest()
        doc_id = document_id(memory.name, content_hash)
        report("chunking", 0.2)
        chunks = chunk_sections(sections, doc_id, source, chunk_size, chunk_overlap, content_hash)
        if not chunks:
            raise IngestError("no text found in the file")
        report("embedding", 0.3)
        memory.add("documents", chunks, on_batch=lambda done, total: report("embedding", 0.3 + 0.7 * done / total))
        report("done", 1.0)
        pages = max((s.page for s in sections), default=0)
        return IngestResult(source, "ok", len(chunks), doc_id=doc_id, pages=pages,
                            seconds=round(time.perf_counter() - started, 3))
    except IngestError as exc:
        return IngestResult(source, "error", error=str(exc), seconds=round(time.perf_counter() - started, 3))
    except Exception as exc:  # a failure midway must not leave half a document behind
        if doc_id:
            memory.delete_document(doc_id)
        return IngestResult(source, "error", error=f"could not store the file: {exc}",
                            seconds=round(time.perf_counter() - started, 3))


def ingest_path(memory: WorkspaceMemory, path: Path, **kwargs) -> IngestResult:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return IngestResult(safe_name(str(path)), "error", error=f"cannot read {path}: {exc.strerror or exc}")
    return ingest_bytes(memory, Path(path).name, data, **kwargs)
