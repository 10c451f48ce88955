"""Check every line of the labelled question sets against the documents they are written on.

    .venv/bin/python bench/sets/check.py [SET_FILE ...] [--notes]

Without files it checks every bench/sets/*.txt. Needs the corpus (`bash scripts/corpus`). For each question
line `question|source file|page[,page]|key;terms` it checks the fields, that the source is one of the set's
`# document:` files, that each page exists, that every key term is in the text of one of the labelled pages
(PDF text as pypdfium2 extracts it, HTML text as BeautifulSoup gets it; both lower-cased, accents folded,
white space collapsed), that each labelled page holds at least one key term, that no key term is given away
by the question, and that the question does not copy six words in a row from its pages. It prints the
counts per set and kind, and exits 1 on any failure. --notes also lists questions whose key terms all occur
on pages outside the label too (worth a look: a missing page, or terms too common).
"""

from __future__ import annotations

import argparse
import re
import sys
import warnings
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from corpus import CorpusMissing, Document, set_documents  # noqa: E402

from crew.retrieval.stemming import fold as accents_folded  # noqa: E402

SETS = Path(__file__).resolve().parent
LANGUAGES = ("en", "es")
MAX_TERMS = 4
COPY_RUN = 6  # this many words of the question in a row on the page count as a copied sentence
ASKED_IN = re.compile(r"^#\s*asked in:\s*(\S+)\s*$")
WORD = re.compile(r"\w+")


def fold(text: str) -> str:
    """Lower-case, strip accents, one space for any run of white space."""
    return " ".join(accents_folded(text).split())


@dataclass
class Question:
    file: Path
    line_no: int
    text: str
    source: str
    pages: list[int]
    terms: list[str]
    asked_in: str

    @property
    def where(self) -> str:
        return f"{self.file.name}:{self.line_no}"

    @property
    def not_found(self) -> bool:
        return self.source == "-"


@dataclass
class SetFile:
    path: Path
    documents: list[Document]
    questions: list[Question] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def parse_set(path: Path) -> SetFile:
    """Read a set file; malformed lines become errors (with their line number), not exceptions."""
    result = SetFile(path, set_documents(path))
    asked_in = ""
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if marker := ASKED_IN.match(line):
            asked_in = marker.group(1)
            if asked_in not in LANGUAGES:
                result.errors.append(f"{path.name}:{n}: unknown language {asked_in!r} (use one of {LANGUAGES})")
            continue
        if not line or line.startswith("#"):
            continue
        where = f"{path.name}:{n}"
        fields = [f.strip() for f in line.split("|")]
        if len(fields) != 4:
            result.errors.append(f"{where}: {len(fields)} fields, want question|source file|page[,page]|key;terms")
            continue
        text, source, pages, terms = fields
        if not asked_in:
            result.errors.append(f"{where}: no `# asked in: es|en` line above it")
        if not text.endswith("?"):
            result.errors.append(f"{where}: the question does not end with '?'")
        if pages == "-":
            page_list = []
        elif re.fullmatch(r"\d+(,\d+)*", pages):
            page_list = [int(p) for p in pages.split(",")]
        else:
            result.errors.append(f"{where}: pages {pages!r} is neither '-' nor comma-separated numbers")
            continue
        term_list = [] if terms == "-" else [t.strip() for t in terms.split(";")]
        result.questions.append(Question(path, n, text, source, page_list, term_list, asked_in))
    return result


@cache
def pdf_pages(path: Path) -> list[str]:
    """Folded text of every page, as pypdfium2 extracts it."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(path)
    try:
        return [fold(doc[i].get_textpage().get_text_range()) for i in range(len(doc))]
    finally:
        doc.close()


# Block elements end a line; inline ones (the highlighter's spans in `python3 -m venv`) must not add spaces.
BLOCKS = ["p", "div", "section", "li", "dt", "dd", "pre", "blockquote", "tr", "td", "th", "br",
          "h1", "h2", "h3", "h4", "h5", "h6", "title"]


@cache
def html_text(path: Path) -> str:
    """Folded text of an HTML page, as BeautifulSoup gets it, one line per block element."""
    from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

    with warnings.catch_warnings():  # XHTML pages (DocBook's) read right as HTML
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(path.read_bytes(), "lxml")
    for tag in soup.find_all(BLOCKS):
        tag.append("\n")
    return fold(soup.get_text())


def has_term(text: str, term: str) -> bool:
    return fold(term) in text


def in_question(question: str, term: str) -> bool:
    """Is the term (as whole words) already in the question?"""
    return re.search(rf"(?<!\w){re.escape(fold(term))}(?!\w)", fold(question)) is not None


def copied_run(question: str, text: str) -> str | None:
    """The first COPY_RUN words in a row of the question that appear verbatim in text, if any."""
    words = WORD.findall(fold(question))
    flat = " ".join(WORD.findall(text))
    for i in range(len(words) - COPY_RUN + 1):
        run = " ".join(words[i : i + COPY_RUN])
        if f" {run} " in f" {flat} ":
            return run
    return None


def check_question(q: Question, docs: dict[str, Document], notes: list[str]) -> list[str]:
    """The problems of one question line (empty when it is right)."""
    if q.not_found:
        wrong = [] if (not q.pages and not q.terms) else ["a not-found line has '-' as page and key terms"]
        return [f"{q.where}: {w}" for w in wrong]
    errors = []
    if not 1 <= len(q.terms) <= MAX_TERMS or any(not t for t in q.terms):
        errors.append(f"1 to {MAX_TERMS} non-empty key terms, got {q.terms}")
    doc = docs.get(q.source)
    if doc is None:
        return [f"{q.where}: unknown source {q.source!r} (not in the `# document:` lines)"] + errors
    try:
        path = doc.path()
    except CorpusMissing as e:
        return [f"{q.where}: {e}"]
    if path.suffix == ".pdf":
        pages = pdf_pages(path)
        if not q.pages:
            return [f"{q.where}: a PDF source needs page numbers"] + errors
        missing = [p for p in q.pages if not 1 <= p <= len(pages)]
        if missing:
            return [f"{q.where}: page {missing} not in {q.source} (1..{len(pages)})"] + errors
        texts = {p: pages[p - 1] for p in q.pages}
    else:
        if q.pages:
            errors.append("an HTML source takes '-' as page")
        texts = {0: html_text(path)}
    for term in q.terms:
        if not any(has_term(t, term) for t in texts.values()):
            errors.append(f"key term {term!r} is on none of the labelled pages")
        if in_question(q.text, term):
            errors.append(f"key term {term!r} is already in the question")
    for p, text in texts.items():
        if p and not any(has_term(text, term) for term in q.terms):
            errors.append(f"page {p} holds none of the key terms")
        if run := copied_run(q.text, text):
            errors.append(f"copies the page: {run!r}")
    if path.suffix == ".pdf" and q.terms and not errors:
        elsewhere = [n for n, text in enumerate(pdf_pages(path), start=1)
                     if n not in q.pages and all(has_term(text, t) for t in q.terms)]
        if elsewhere:
            notes.append(f"{q.where}: all key terms also on pages {elsewhere[:8]}")
    return [f"{q.where}: {e}" for e in errors]


def kind(q: Question, docs: dict[str, Document]) -> str:
    if q.not_found:
        return f"not found ({q.asked_in})"
    doc = docs.get(q.source)
    if doc is None:
        return "?"
    if doc.language == q.asked_in:
        return f"{q.asked_in} on {doc.language}"
    return f"cross {q.asked_in} on {doc.language}"


def check_sets(paths: list[Path]) -> tuple[list[str], list[str], dict[str, Counter]]:
    """(errors, notes, counts per set file by kind) for the given set files."""
    errors: list[str] = []
    notes: list[str] = []
    counts: dict[str, Counter] = {}
    seen: dict[str, str] = {}
    for path in paths:
        parsed = parse_set(path)
        errors += parsed.errors
        if not parsed.documents:
            errors.append(f"{path.name}: no `# document: <package> <language> <path>` header line")
        docs: dict[str, Document] = {}
        for d in parsed.documents:
            if d.language not in LANGUAGES:
                errors.append(f"{path.name}: document {d.name} has unknown language {d.language!r}")
            if d.name in docs:
                errors.append(f"{path.name}: two documents named {d.name}; base names must be unique")
            docs[d.name] = d
        partner = _partner(path)
        if partner and partner.is_file() and set_documents(partner) != parsed.documents:
            errors.append(f"{path.name}: its `# document:` lines differ from {partner.name}'s")
        counts[path.name] = Counter()
        for q in parsed.questions:
            key = fold(q.text)
            if key in seen:
                errors.append(f"{q.where}: the same question as {seen[key]}")
            seen[key] = q.where
            errors += check_question(q, docs, notes)
            counts[path.name][kind(q, docs)] += 1
    return errors, notes, counts


def _partner(path: Path) -> Path | None:
    """The other part of a split set (tune <-> holdout)."""
    for a, b in ((".tune.txt", ".holdout.txt"), (".holdout.txt", ".tune.txt")):
        if path.name.endswith(a):
            return path.with_name(path.name.removesuffix(a) + b)
    return None


def table(counts: dict[str, Counter]) -> str:
    kinds = sorted({k for c in counts.values() for k in c})
    total = Counter()
    for c in counts.values():
        total.update(c)
    width = max(len(n) for n in [*counts, "all"])
    rows = [f"| {'set file'.ljust(width)} | " + " | ".join(kinds) + " | total |",
            f"| {'-' * width} | " + " | ".join("-" * len(k) for k in kinds) + " | ----- |"]
    for name, c in [*counts.items(), ("all", total)]:
        cells = " | ".join(str(c[k]).rjust(len(k)) for k in kinds)
        rows.append(f"| {name.ljust(width)} | {cells} | {str(sum(c.values())).rjust(5)} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("files", nargs="*", type=Path, help="set files (default: every bench/sets/*.txt)")
    p.add_argument("--notes", action="store_true", help="also list key terms found outside the labelled pages")
    args = p.parse_args(argv)
    paths = args.files or sorted(SETS.glob("*.txt"))
    errors, notes, counts = check_sets(paths)
    print(table(counts))
    if args.notes:
        print("\n".join(["", f"{len(notes)} notes:", *notes]))
    if errors:
        print("\n".join(["", f"{len(errors)} failures:", *errors]))
        return 1
    print(f"\nAll {sum(sum(c.values()) for c in counts.values())} questions pass.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
