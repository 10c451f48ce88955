"""Where the labelled question sets' documents are: Debian packages unpacked by `bash scripts/corpus`.

Each package's file tree sits in ${CREW_CORPUS:-bench/out/corpus}/<package>/ (a relative CREW_CORPUS is taken
from the repository root, as scripts/corpus does). A set file (bench/sets/*.txt) names its documents in
header lines `# document: <package> <language> <path inside the package>`; `set_documents` reads them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class CorpusMissing(FileNotFoundError):
    """A corpus file is not on this machine; the message says how to get it."""


@dataclass(frozen=True)
class Document:
    """One document of a question set: where it comes from and what language it is written in."""

    package: str
    language: str
    relative_path: str

    @property
    def name(self) -> str:
        """The base name a person would upload it as, and the name set lines use."""
        return Path(self.relative_path).name

    def path(self) -> Path:
        return corpus_file(self.package, self.relative_path)


def corpus_root() -> Path:
    root = Path(os.environ.get("CREW_CORPUS", "bench/out/corpus"))
    return root if root.is_absolute() else ROOT / root


def corpus_file(package: str, relative_path: str) -> Path:
    """The unpacked file `relative_path` (e.g. usr/share/doc/x/y.pdf) of Debian package `package`."""
    path = corpus_root() / package / relative_path.lstrip("/")
    if not path.is_file():
        raise CorpusMissing(f"{path} is missing: run `bash scripts/corpus` to fetch and unpack the "
                            f"Debian package {package} (scripts/setup --dev runs it too)")
    return path


def set_documents(set_file: Path) -> list[Document]:
    """The documents a set file's `# document:` header lines name, in order (paths not checked)."""
    docs = []
    for line in Path(set_file).read_text(encoding="utf-8").splitlines():
        if line.startswith("# document:"):
            package, language, relative_path = line.removeprefix("# document:").split(maxsplit=2)
            docs.append(Document(package, language, relative_path.strip()))
    return docs


# The batches written on 2026-12-02 by reading the pages only, never running a search, and not tuned on before
# that day (bench/sets/split.py appended them below a `# Batch <file>` line). The questions before them were
# looked at for weeks while the engine was tuned and overstate it: "fresh" figures are reported apart.
FRESH_BATCHES = ("maint-guide-es.batch2.txt", "debian-reference-es.batch2.txt", "developers-reference.batch3.txt",
                 "maint-guide-es.batch3.txt", "debian-reference-es.batch3.txt", "developers-reference.batch4.txt")


# Short questions as people type them into the chat ("¿Qué es un NMU?", "What does dch do?"), 2-8 words, written on
# 2026-12-03 the same way (pages only, no search run). The sets' other questions are long paraphrases.
SHORT_BATCHES = ("maint-guide-es.batch-short.txt", "debian-reference-es.batch-short.txt",
                 "developers-reference.batch-short.txt", "python-docs.batch-short.txt")


def batch_lines(set_file: Path, batches: tuple[str, ...]) -> set[int]:
    """The 1-based numbers of a set file's lines that lie in one of `batches` (below a `# Batch <file>` line)."""
    out: set[int] = set()
    inside = False
    for number, line in enumerate(Path(set_file).read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("# Batch "):
            inside = line.split()[2] in batches
        elif inside:
            out.add(number)
    return out


def fresh_lines(set_file: Path) -> set[int]:
    """The 1-based numbers of a set file's lines that lie in one of FRESH_BATCHES."""
    return batch_lines(set_file, FRESH_BATCHES)


def short_lines(set_file: Path) -> set[int]:
    """The 1-based numbers of a set file's lines that lie in one of SHORT_BATCHES."""
    return batch_lines(set_file, SHORT_BATCHES)
