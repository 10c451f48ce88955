"""How fast documents go in, end to end, and what ingest costs on top of the embedding model.

    .venv/bin/python bench/ingest.py [--json] [--pages 500] [--files 5] [--rss-pages 100,300]

A generated corpus of PDFs (reportlab, seeded prose, ~2,500 characters a page) is ingested with
the app's own pipeline (PDFium -> sections -> langchain splitter -> embed -> Chroma + keyword
index -> library), on a fresh data dir.

Memory and before/after: one PDF of each --rss-pages size is ingested in a child process of its
own, once as the app does now and once as before (pypdf's text extraction and batches of 32 in
the embedder). Peak RSS is the highest resident memory sampled every 20 ms during the ingest
(the model and Chroma already loaded: "before ingest" is the RSS then); "per 100 pages" is the
growth of the peak from the smallest to the largest file, per 100 pages: bounded memory shows ~0. Parse speed compares pypdf and PDFium on the same generated pages (and on Debian's
maint-guide.es.pdf when scripts/corpus has unpacked it).

pages_per_s: pages / wall time of the whole ingest (parse, chunk, embed, store, list).
embed_ratio: chunks per second of the embedding stage inside ingest (embedding *and* storing in
Chroma and the keyword index, timed by the progress callback) / chunks per second of the raw
embedders on the same chunks (USE on each chunk and its windows, crew.retrieval.windows, and MiniLM on each
English chunk, crew.retrieval.english, as the app's ingest does: a "chunk" here costs all of those). The raw runs are paired with ingest's own batch by batch (the same
64 texts, by turns right before and right after), so load from others on the shared 2 cores hits
both alike; their time is taken out of the stage time and of the wall time.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _report import report

from crew.retrieval.embeddings import Embedder
from crew.retrieval.english import EnglishEmbedder
from crew.documents.ingest import chunk_sections, ingest_bytes
from crew.documents.library import Library
from crew.retrieval.memory import Memory, chroma_client
from crew.retrieval.windows import is_window
from crew.documents.parsers import PARSERS, ParseOptions, parse
from crew.documents.parsers.base import IngestError, Parsed, Section
from crew.settings import Settings

MAINT_GUIDE = (Path(os.environ.get("CREW_CORPUS", Path(__file__).parent / "out" / "corpus"))
               / "maint-guide-es" / "usr" / "share" / "doc" / "maint-guide-es" / "maint-guide.es.pdf")

WORDS = (
    "the of and to in a is that for it as was with be by on not he this are or his from at which but have an they "
    "you were her she there been one all we their has would when if so what can more out up about into than them "
    "river water survey report budget council energy market price policy school health study results method data "
    "table figure growth region station sample average annual rate level system network service contract project "
    "measure value range report section analysis review period total cost north south east west city village "
    "committee member meeting decision proposal summary appendix chapter evidence source model program change"
).split()


def prose(rng: random.Random, chars: int) -> str:
    out, size = [], 0
    while size < chars:
        n = rng.randint(8, 22)
        words = [rng.choice(WORDS) for _ in range(n)]
        if rng.random() < 0.3:
            words.insert(rng.randrange(n), f"{rng.randint(1, 9999)}")
        sentence = " ".join(words).capitalize() + "."
        out.append(sentence)
        size += len(sentence) + 1
    return " ".join(out)


def make_pdf(rng: random.Random, pages: int, chars_per_page: int = 2500) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for _ in range(pages):
        text = prose(rng, chars_per_page)
        y, line = 800, ""
        for word in text.split():
            if len(line) + len(word) + 1 > 95:
                c.drawString(40, y, line)
                y, line = y - 13, word
            else:
                line = f"{line} {word}".strip()
        c.drawString(40, y, line)
        c.showPage()
    c.save()
    return buf.getvalue()


def pypdf_parse(data: bytes, options: ParseOptions = ParseOptions(), tick=lambda f: None) -> Parsed:
    """The PDF parser before PDFium (pypdf's extract_text per page), for the before/after figures."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    total = len(reader.pages)
    sections = []
    for number in range(1, total + 1):
        text = reader.pages[number - 1].extract_text() or ""
        if text.strip():
            sections.append(Section(text.strip(), page=number))
        tick(number / total)
    if not sections:
        raise IngestError("no text")
    return Parsed(sections, pages=total)


def rss_mb() -> float:
    """This process's resident memory now (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakRss:
    """Sample the resident memory every 20 ms while a block runs; `peak` is the highest seen (the
    process's own high-water mark, ru_maxrss, also counts what came before the block)."""

    def __enter__(self) -> "PeakRss":
        self.before = self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def child_ingest(pages: int, how: str) -> dict:
    """Ingest one generated PDF of `pages` pages the way `how` says ("now" or "before"); run in a
    child process, so its peak RSS is its own."""
    batch = 8
    if how == "before":
        PARSERS[".pdf"] = ("pdf", pypdf_parse)
        batch = 32
    pdf = make_pdf(random.Random(pages), pages)
    embedder = Embedder(batch_size=batch)
    embedder(["warm up the model"])
    with tempfile.TemporaryDirectory() as tmp:
        memory = Memory(chroma_client(Path(tmp)), embedder)
        library = Library.beside(Path(tmp), memory)
        with PeakRss() as rss:
            started = time.perf_counter()
            res = ingest_bytes(memory.workspace("bench"), "big.pdf", pdf, library=library)
            seconds = time.perf_counter() - started
    assert res.status == "ok", res.error
    return {"pages": pages, "how": how, "peak_rss_mb": round(rss.peak, 1), "base_rss_mb": round(rss.before, 1),
            "pages_per_s": round(pages / seconds, 2), "chunks": res.chunks}


def rss_runs(sizes: list[int]) -> list[dict]:
    runs = []
    for how in ("before", "now"):
        for pages in sizes:
            out = subprocess.run([sys.executable, __file__, "--child", f"{pages}:{how}"], capture_output=True,
                                 text=True, check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return runs


def parse_rates(pdfs: list[bytes]) -> dict[str, float]:
    """Pages per second of text extraction alone, pypdf and PDFium on the same files, by turns."""
    pdfium_parse = PARSERS[".pdf"][1]
    spent = {"pypdf": 0.0, "pdfium": 0.0}
    pages = 0
    for data in pdfs:
        for name, fn in (("pypdf", pypdf_parse), ("pdfium", pdfium_parse)):
            t = time.perf_counter()
            n = fn(data).pages
            spent[name] += time.perf_counter() - t
        pages += n
    return {name: round(pages / s, 1) for name, s in spent.items()}


class Paired:
    """The embedder ingest is given: it also runs the raw Embedder on every batch it gets, by turns
    just before and just after, and keeps that time apart. Load from others on the machine then hits
    raw and ingest alike, and the raw time is taken out of ingest's own."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.raw_s = 0.0
        self.calls = 0

    def _raw(self, texts: list[str]) -> None:
        t = time.perf_counter()
        self.embedder.embed_documents(texts)
        self.raw_s += time.perf_counter() - t

    def embed_documents(self, texts: list[str]):
        self.calls += 1
        if self.calls % 2:
            self._raw(texts)
            return self.embedder.embed_documents(texts)
        out = self.embedder.embed_documents(texts)
        self._raw(texts)
        return out

    def __getattr__(self, name: str):  # window, token count, model id: the embedder's own
        return getattr(self.embedder, name)


def chunk_texts(name: str, data: bytes, settings: Settings, embedder: Embedder) -> list[str]:
    """The chunk texts ingest will embed, made by the same parser and splitter."""
    parsed = parse(name, data, ParseOptions(chunk_size=settings.chunk_size))
    chunks = chunk_sections(parsed.sections, "d", name, settings.chunk_size, settings.chunk_overlap, "h",
                            tokens=embedder.count_tokens, max_tokens=embedder.max_tokens)
    return [c.text for c in chunks]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--json", action="store_true", help="print only a JSON object of the figures")
    p.add_argument("--pages", type=int, default=500)
    p.add_argument("--files", type=int, default=5)
    p.add_argument("--rss-pages", default="100,300", help="sizes of the single files whose peak RSS is measured")
    p.add_argument("--child", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        pages, how = a.child.split(":")
        print(json.dumps(child_ingest(int(pages), how)))
        return
    load_before = os.getloadavg()[0]
    rng = random.Random(42)
    per_file = a.pages // a.files
    corpus = [(f"report-{i + 1:02d}.pdf", make_pdf(rng, per_file)) for i in range(a.files)]
    settings = Settings()
    embedder, english = Embedder(), EnglishEmbedder()
    embedder.embed_documents(["warm up the model"])
    english.embed_documents(["warm up the English model"])

    paired, paired_en = Paired(embedder), Paired(english)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        memory = Memory(chroma_client(data), paired, english=paired_en)  # as the app's ingest: both models
        library = Library.beside(data, memory)
        ws = memory.workspace("bench")
        marks: list[dict[str, float]] = []

        def timed(stage: str, fraction: float, m: dict) -> None:
            m.setdefault(stage, time.perf_counter())

        texts = [chunk_texts(name, pdf, settings, embedder) for name, pdf in corpus]
        wall = 0.0
        results = []
        for name, pdf in corpus:
            m = {"start": time.perf_counter()}
            marks.append(m)
            raw_before = paired.raw_s + paired_en.raw_s
            res = ingest_bytes(ws, name, pdf, library=library, chunk_size=settings.chunk_size,
                               chunk_overlap=settings.chunk_overlap, progress=lambda s, f, m=m: timed(s, f, m))
            m["end"] = time.perf_counter()
            m["raw"] = paired.raw_s + paired_en.raw_s - raw_before  # spent inside the embedding stage, not by ingest
            wall += m["end"] - m["start"] - m["raw"]
            assert res.status == "ok", res.error
            results.append(res)
        raw_s = paired.raw_s + paired_en.raw_s

        pages = sum(r.pages for r in results)
        chunks = sum(r.chunks for r in results)
        embed_s = sum(m["done"] - m["embedding"] - m["raw"] for m in marks)
        parse_s = sum(m["chunking"] - m["parsing"] for m in marks)
        chunk_s = sum(m["embedding"] - m["chunking"] for m in marks)
        assert len(library.documents("bench")) == a.files
        rows = [memory.collection("documents", "bench").get(where={"doc_id": r.doc_id}, include=["documents"])
                for r in results]
        stored = [sorted(t for i, t in zip(got["ids"], got["documents"]) if not is_window(i)) for got in rows]
        assert stored == [sorted(t) for t in texts]  # raw runs on exactly the chunks ingest embedded
        inside = chunks / embed_s
        raw_rate = chunks / raw_s
        figures = {
            "pages_per_s": round(pages / wall, 2),
            "embed_ratio": round(inside / raw_rate, 3),
            "pages": pages,
            "chunks": chunks,
            "wall_s": round(wall, 2),
            "embed_chunks_per_s_inside": round(inside, 1),
            "embed_chunks_per_s_raw": round(raw_rate, 1),
        }
    rates = parse_rates([pdf for _, pdf in corpus])
    real = parse_rates([MAINT_GUIDE.read_bytes()]) if MAINT_GUIDE.is_file() else {}
    sizes = sorted(int(n) for n in a.rss_pages.split(",") if n.strip())
    runs = rss_runs(sizes) if sizes else []
    by = {(r["how"], r["pages"]): r for r in runs}

    def growth(how: str) -> float:
        lo, hi = by[(how, sizes[0])], by[(how, sizes[-1])]
        return round((hi["peak_rss_mb"] - lo["peak_rss_mb"]) / max(1, hi["pages"] - lo["pages"]) * 100, 1)

    figures.update(parse_pages_per_s_pypdf=rates["pypdf"], parse_pages_per_s_pdfium=rates["pdfium"])
    if real:
        figures.update(maint_guide_pages_per_s_pypdf=real["pypdf"], maint_guide_pages_per_s_pdfium=real["pdfium"])
    for r in runs:
        figures[f"peak_rss_mb_{r['pages']}p_{r['how']}"] = r["peak_rss_mb"]
        figures[f"pages_per_s_{r['pages']}p_{r['how']}"] = r["pages_per_s"]
    if len(sizes) > 1:
        figures.update(rss_mb_per_100_pages_now=growth("now"), rss_mb_per_100_pages_before=growth("before"))
    rows = [
        ("pages", pages, f"{a.files} generated PDFs"),
        ("chunks", chunks, f"chunk_size {settings.chunk_size}, overlap {settings.chunk_overlap}"),
        ("wall s", round(wall, 2), "parse + chunk + embed + store + list, summed over files"),
        ("pages_per_s", figures["pages_per_s"], "end to end"),
        ("parse s", round(parse_s, 2), f"PDFium, {pages / parse_s:.0f} pages/s"),
        ("chunk s", round(chunk_s, 2), "langchain RecursiveCharacterTextSplitter"),
        ("embed+store s", round(embed_s, 2), "inside ingest"),
        ("chunks/s inside ingest", figures["embed_chunks_per_s_inside"], "embedding stage"),
        ("chunks/s raw Embedder", figures["embed_chunks_per_s_raw"], "same batches, paired with ingest's"),
        ("embed_ratio", figures["embed_ratio"], "goal >= 0.85"),
        ("parse pages/s pypdf -> PDFium", f"{rates['pypdf']} -> {rates['pdfium']}", "text extraction alone, same PDFs"),
        *([("maint-guide.es.pdf pages/s", f"{real['pypdf']} -> {real['pdfium']}", "pypdf -> PDFium, 69 real pages")]
          if real else []),
        *[(f"{r['pages']}-page PDF, {r['how']}", f"{r['peak_rss_mb']:.0f} MB peak, {r['pages_per_s']} pages/s",
           f"child process; {r['base_rss_mb']:.0f} MB before ingest, {r['chunks']} chunks"
           + ("; pypdf + embedder batches of 32" if r["how"] == "before" else "; PDFium + batches of 8"))
          for r in runs],
        *([("peak RSS per 100 pages", f"{growth('before')} -> {growth('now')} MB",
            f"before -> now; growth of the peak from {sizes[0]} to {sizes[-1]} pages")] if len(sizes) > 1 else []),
        ("load average (1 min)", f"{load_before:.2f} -> {os.getloadavg()[0]:.2f}", "others share the 2 cores"),
    ]
    report("Ingest throughput (bench/ingest.py)", rows, figures, a.json)


if __name__ == "__main__":
    main()
