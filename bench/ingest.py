"""How fast documents go in, end to end, and what ingest costs on top of the embedding model.

    .venv/bin/python bench/ingest.py [--json] [--pages 500] [--files 5]

A generated corpus of PDFs (reportlab, seeded prose, ~2,500 characters a page) is ingested with
the app's own pipeline (pypdf -> sections -> langchain splitter -> embed -> Chroma + keyword
index -> library), on a fresh data dir.

pages_per_s: pages / wall time of the whole ingest (parse, chunk, embed, store, list).
embed_ratio: chunks per second of the embedding stage inside ingest (embedding *and* storing in
Chroma and the keyword index, timed by the progress callback) / chunks per second of the raw
Embedder on the same chunks. The raw runs are paired with ingest's own batch by batch (the same
64 texts, by turns right before and right after), so load from others on the shared 2 cores hits
both alike; their time is taken out of the stage time and of the wall time.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import tempfile
import time
from pathlib import Path

from _report import report

from crew.embeddings import Embedder
from crew.ingest import chunk_sections, ingest_bytes
from crew.library import Library
from crew.memory import Memory, chroma_client
from crew.parsers import ParseOptions, parse
from crew.settings import Settings

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
    a = p.parse_args()
    load_before = os.getloadavg()[0]
    rng = random.Random(42)
    per_file = a.pages // a.files
    corpus = [(f"report-{i + 1:02d}.pdf", make_pdf(rng, per_file)) for i in range(a.files)]
    settings = Settings()
    embedder = Embedder()
    embedder.embed_documents(["warm up the model"])

    paired = Paired(embedder)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        memory = Memory(chroma_client(data), paired)
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
            raw_before = paired.raw_s
            res = ingest_bytes(ws, name, pdf, library=library, chunk_size=settings.chunk_size,
                               chunk_overlap=settings.chunk_overlap, progress=lambda s, f, m=m: timed(s, f, m))
            m["end"] = time.perf_counter()
            m["raw"] = paired.raw_s - raw_before  # spent inside the embedding stage, not by ingest
            wall += m["end"] - m["start"] - m["raw"]
            assert res.status == "ok", res.error
            results.append(res)
        raw_s = paired.raw_s

        pages = sum(r.pages for r in results)
        chunks = sum(r.chunks for r in results)
        embed_s = sum(m["done"] - m["embedding"] - m["raw"] for m in marks)
        parse_s = sum(m["chunking"] - m["parsing"] for m in marks)
        chunk_s = sum(m["embedding"] - m["chunking"] for m in marks)
        assert len(library.documents("bench")) == a.files
        stored = [sorted(memory.collection("documents", "bench").get(where={"doc_id": r.doc_id}, include=["documents"])["documents"])
                  for r in results]
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
    rows = [
        ("pages", pages, f"{a.files} generated PDFs"),
        ("chunks", chunks, f"chunk_size {settings.chunk_size}, overlap {settings.chunk_overlap}"),
        ("wall s", round(wall, 2), "parse + chunk + embed + store + list, summed over files"),
        ("pages_per_s", figures["pages_per_s"], "end to end"),
        ("parse s", round(parse_s, 2), f"pypdf, {pages / parse_s:.0f} pages/s"),
        ("chunk s", round(chunk_s, 2), "langchain RecursiveCharacterTextSplitter"),
        ("embed+store s", round(embed_s, 2), "inside ingest"),
        ("chunks/s inside ingest", figures["embed_chunks_per_s_inside"], "embedding stage"),
        ("chunks/s raw Embedder", figures["embed_chunks_per_s_raw"], "same batches, paired with ingest's"),
        ("embed_ratio", figures["embed_ratio"], "goal >= 0.85"),
        ("load average (1 min)", f"{load_before:.2f} -> {os.getloadavg()[0]:.2f}", "others share the 2 cores"),
    ]
    report("Ingest throughput (bench/ingest.py)", rows, figures, a.json)


if __name__ == "__main__":
    main()
