"""Read a labelled question file and check it against a workspace's documents.

One question per line, `#` comments and blank lines allowed:

    question|source file|page[,page]|key;terms

`page` is `-` for a source without pages (HTML, Markdown, text: the right file counts). A
question the documents do not answer has `-` as source, page and key terms; it is answered right
when the crew says it found nothing. Anything wrong stops the whole file before a question runs,
with one line that names the file and the line to fix.

Two comment lines are also read, when present (bench/sets/README.md): `# asked in: es` gives the
language of the questions below it, and `# document: <package> <language> <path>` the language of
a document, so a question in another language than its document counts as cross-language
without guessing either language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Mapping

FORMAT = "question|source file|page[,page]|key;terms"
# A question file is a few hundred lines of text; anything this big is the wrong file.
MAX_BYTES = 1_000_000
NONE = "-"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ASKED_IN = re.compile(r"^#\s*asked in:\s*(\S+)\s*$", re.I)
_DOCUMENT = re.compile(r"^#\s*document:\s*\S+\s+(\S+)\s+(.+?)\s*$", re.I)


class QuestionFileError(ValueError):
    """The file cannot be used as it is; the message is one line naming the file and the line."""


@dataclass(frozen=True)
class Question:
    """One labelled question: where its answer is and which words a right answer holds."""

    line: int
    text: str
    source: str | None  # None: the documents do not answer it
    pages: tuple[int, ...] = ()  # empty: any place in the source counts
    terms: tuple[str, ...] = ()
    language: str | None = None  # as a `# asked in:` line says; None: not said
    source_language: str | None = None  # as the source's `# document:` line says; None: not said

    @property
    def answerable(self) -> bool:
        return self.source is not None


def _show(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def check_size(name: str, size: int) -> None:
    """Refuse a file too big to be a question file (callers check before reading it whole)."""
    if size > MAX_BYTES:
        raise QuestionFileError(f"{name}: the file is {size / 1_000_000:.1f} MB; a question file may be at most "
                                f"{MAX_BYTES // 1_000_000} MB of text")


def _decode(data: bytes, name: str) -> str:
    check_size(name, len(data))
    if not data.strip():
        raise QuestionFileError(f"{name}: the file is empty: write one question a line as {FORMAT}")
    if b"\0" in data:
        line = data[: data.index(b"\0")].count(b"\n") + 1
        raise QuestionFileError(f"{name}, line {line}: binary content (a NUL byte): a question file is plain UTF-8 text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise QuestionFileError(f"{name}, line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x}): "
                                "save the file as UTF-8") from None
    if found := _CONTROL.search(text):
        line = text[: found.start()].count("\n") + 1
        raise QuestionFileError(f"{name}, line {line}: binary content (control character "
                                f"U+{ord(found.group()):04X}): a question file is plain UTF-8 text")
    return text


def _pages(field: str, where: str) -> tuple[int, ...]:
    if field == NONE:
        return ()
    pages = []
    for part in field.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1:
            raise QuestionFileError(f"{where}: page {_show(part)} is not a page number: write 12, 12,13 or - "
                                    "for a source without pages")
        pages.append(int(part))
    return tuple(dict.fromkeys(pages))


def parse_line(raw: str, where: str, line: int) -> Question:
    """Read one question line; `where` ("file, line n") starts any error message."""
    fields = [f.strip() for f in raw.rsplit("|", 3)]  # a question may itself hold a '|'
    if len(fields) < 4:
        raise QuestionFileError(f"{where}: {len(fields)} field{'s' if len(fields) != 1 else ''} where 4 are needed "
                                f"({FORMAT}): {_show(raw)}")
    text, source, pages, terms = fields
    if not text:
        raise QuestionFileError(f"{where}: the question is empty")
    if source == NONE:
        if pages != NONE or terms != NONE:
            raise QuestionFileError(f"{where}: a question the documents do not answer has - as page and key terms "
                                    f"(write: question|-|-|-)")
        return Question(line, text, None)
    if not source:
        raise QuestionFileError(f"{where}: the source file is missing (write - if the documents do not answer it)")
    if not pages:
        raise QuestionFileError(f"{where}: the page is missing: write 12, 12,13 or - for a source without pages")
    found = tuple(t for t in (" ".join(t.split()) for t in terms.split(";")) if t and t != NONE)
    if not found:
        raise QuestionFileError(f"{where}: the key terms are missing: list words a right answer holds, "
                                "separated by ;")
    return Question(line, text, source, _pages(pages, where), found)


def parse_questions(data: bytes, name: str) -> list[Question]:
    """Read a whole question file; raise QuestionFileError at the first problem."""
    text = _decode(data, name)
    questions = []
    asked_in: str | None = None
    documents: dict[str, str] = {}  # document name -> its language
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("#"):
            if said := _ASKED_IN.match(stripped):
                asked_in = said.group(1).lower()
            elif said := _DOCUMENT.match(stripped):
                documents[PurePosixPath(said.group(2)).name] = said.group(1).lower()
        elif stripped:
            q = parse_line(stripped, f"{name}, line {number}", number)
            questions.append(replace(q, language=asked_in))
    questions = [replace(q, source_language=documents.get(PurePosixPath(q.source).name)) if q.source else q
                 for q in questions]
    if not questions:
        raise QuestionFileError(f"{name}: no questions, only comments and blank lines: write one a line as {FORMAT}")
    return questions


def document_name(source: str, pages_by_name: Mapping[str, int]) -> str | None:
    """The workspace's document a label names: its exact name, else its base name (labels may keep a path)."""
    if source in pages_by_name:
        return source
    base = PurePosixPath(source.replace("\\", "/")).name
    return base if base in pages_by_name else None


def check_questions(questions: list[Question], pages_by_name: Mapping[str, int], name: str,
                    workspace: str) -> list[Question]:
    """Check every label against the workspace's documents (name -> page count, 0 without pages).

    Returns the questions with each source spelled as the workspace's document is named.
    """
    if not pages_by_name:
        raise QuestionFileError(f"workspace {workspace} has no documents: add the files the questions are about "
                                f"first (crew ingest FILE --workspace {workspace}, or the Documents page)")
    known = sorted(pages_by_name)
    listed = ", ".join(known[:5]) + (f" and {len(known) - 5} more" if len(known) > 5 else "")
    out = []
    for q in questions:
        where = f"{name}, line {q.line}"
        if not q.answerable:
            out.append(q)
            continue
        doc = document_name(q.source, pages_by_name)
        if doc is None:
            raise QuestionFileError(f"{where}: unknown source {_show(q.source)}: not a document of workspace "
                                    f"{workspace} (it has {listed})")
        count = pages_by_name[doc]
        if q.pages and count == 0:
            raise QuestionFileError(f"{where}: {doc} has no pages: write - as the page")
        if beyond := [p for p in q.pages if p > count]:
            raise QuestionFileError(f"{where}: page {beyond[0]} does not exist: {doc} has {count} "
                                    f"page{'s' if count != 1 else ''}")
        out.append(replace(q, source=doc))
    return out
