"""Retrieval quality and speed: recall@5 of hybrid vs vector-only vs keyword-only on real questions,
and query latency at 10k and 100k chunks.

    .venv/bin/python bench/retrieval.py [--json] [--no-latency] [--max-pages N]

The memory runs as the app's does: USE vectors, and all-MiniLM-L6-v2 vectors for English chunks ranking
English questions too (crew.retrieval.english). The same run measures hybrid search without the English
model as well (the same collection searched by a memory that has none): recall and latency, a ratio.

Corpus (Debian's python3-doc, installed by `bash scripts/setup --dev`): every HTML page of the
Python documentation, read by the app's own HTML parser and splitter (settings' chunk size and
overlap), except the FAQ pages and the generated navigation pages (genindex, modindex, search,
and contents.html, the full table of contents, which repeats every FAQ question verbatim).
Labelled set: the FAQ's sources (`_sources/faq/*.rst.txt`) hold 176 question headings; the 174
whose answer has 40+ characters are used, and each answer (the text under its heading, without
the heading) is added to the corpus as its own document. A question scores a hit at 5 when any of
the top 5 chunks comes from its answer. All recall figures use real embeddings (cached between runs in
$XDG_CACHE_HOME/crew-bench, ~/.cache/crew-bench by default: one vector per distinct text, ~180 MB, outside the
repository).

Latency: `WorkspaceMemory.search` end to end (query embedding, Chroma HNSW query, FTS5 BM25
query, fusion, fetch of keyword-only hits) for every FAQ question, after a warm-up. At 10k the
chunks are the first 10,000 real chunks with their real vectors. At 100k the real chunk texts are
repeated to 100,000 (each copy tagged so texts differ) and the vectors are synthetic: each copy's
real vector plus Gaussian noise, renormalised (its windows' and English vectors likewise). Embedding 100k chunks on this shared 2-core
machine would take about an hour; HNSW and FTS5 costs depend on the count and the text, not on
where the vectors came from.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from _report import report

from crew.retrieval.embeddings import Embedder
from crew.retrieval.english import EnglishEmbedder
from crew.documents.ingest import chunk_sections
from crew.retrieval.memory import Chunk, Memory, chroma_client
from crew.documents.parsers import ParseOptions, Section, parse
from crew.settings import Settings

DOCS = Path("/usr/share/doc/python3/html")
UNDERLINE = re.compile(r"([=\-^~\"'`#*+])\1{2,}")
COPY_MARK = re.compile(r" ?\[copy \d+\]$")
SKIP = re.compile(r"^(genindex[^/]*|py-modindex|search|contents|faq/[^/]*)\.html$")


def faq_pairs() -> list[tuple[str, str]]:
    """(question, answer) for every question heading of the FAQ sources, answer without its heading."""
    pairs = []
    for path in sorted((DOCS / "_sources" / "faq").glob("*.rst.txt")):
        lines = path.read_text().split("\n")
        heads = [i for i in range(len(lines) - 1)
                 if lines[i].strip() and UNDERLINE.fullmatch(lines[i + 1].strip())
                 and len(lines[i + 1].strip()) >= len(lines[i].strip()) and not UNDERLINE.fullmatch(lines[i].strip())]
        for n, i in enumerate(heads):
            title = lines[i].strip()
            if not title.endswith("?"):
                continue
            end = heads[n + 1] if n + 1 < len(heads) else len(lines)
            answer = "\n".join(lines[i + 2 : end]).strip()
            if len(answer) >= 40:
                pairs.append((title, answer))
    return pairs


def corpus_chunks(settings: Settings, embedder: Embedder, max_pages: int | None) -> list[Chunk]:
    pages = sorted(p for p in glob.glob(str(DOCS / "**" / "*.html"), recursive=True)
                   if not SKIP.search(p.replace(str(DOCS) + "/", "")))
    if max_pages:
        pages = pages[:max_pages]
    chunks: list[Chunk] = []
    opts = ParseOptions(chunk_size=settings.chunk_size)
    for p in pages:
        rel = p.replace(str(DOCS) + "/", "")
        parsed = parse(rel, Path(p).read_bytes(), opts)
        doc = "doc-" + hashlib.sha1(rel.encode()).hexdigest()[:12]
        chunks += chunk_sections(parsed.sections, doc, rel, settings.chunk_size, settings.chunk_overlap, "x",
                                 tokens=embedder.count_tokens, max_tokens=embedder.max_tokens)
    return chunks


def answer_chunks(pairs: list[tuple[str, str]], settings: Settings, embedder: Embedder) -> list[Chunk]:
    out = []
    for n, (_, answer) in enumerate(pairs):
        out += chunk_sections([Section(answer)], f"faq-{n:03d}", f"faq answer {n}", settings.chunk_size,
                              settings.chunk_overlap, "x", tokens=embedder.count_tokens, max_tokens=embedder.max_tokens)
    return out


def cache_dir() -> Path:
    """Where embeddings are kept between runs: a user cache, not the working tree (they are ~180 MB)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "crew-bench"


def embed_cached(embedder, texts: list[str]) -> np.ndarray:
    """Real embeddings of texts, kept per text in `cache_dir()` so a rerun does not spend minutes again."""
    path = cache_dir() / f"retrieval-vectors-{re.sub(r'[^A-Za-z0-9.]+', '-', embedder.model_id)}.npz"  # one file per model
    known: dict[str, np.ndarray] = {}
    if path.is_file():
        saved = np.load(path)
        known = dict(zip(saved["keys"].tolist(), saved["vectors"]))
    keys = [hashlib.sha256(t.encode()).hexdigest()[:24] for t in texts]
    missing = sorted({k: t for k, t in zip(keys, texts) if k not in known}.items())
    for start in range(0, len(missing), 512):
        part = missing[start : start + 512]
        for (k, _), v in zip(part, embedder.embed_documents([t for _, t in part])):
            known[k] = v
    if missing:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, keys=np.array(list(known)), vectors=np.stack(list(known.values())))
    return np.stack([known[k] for k in keys]) if keys else np.zeros((0, embedder.dim), dtype=np.float32)


def hits_at_5(ws, pairs, mode: str, checked: bool = False) -> list[bool]:
    """For each question: is a chunk of its answer among the top 5?"""
    out = []
    for n, (question, _) in enumerate(pairs):
        found = ws.search(question, k=5, mode=mode, checked=checked)
        out.append(any(h.doc_id == f"faq-{n:03d}" for h in found))
    return out


def latencies(ws, questions: list[str], checked: bool = False) -> list[float]:
    """Milliseconds per search as the researcher makes it (both kinds of record, k=5)."""
    for q in questions[:10]:
        ws.search(q, k=5, checked=checked)  # warm-up
    out = []
    for q in questions:
        t = time.perf_counter()
        ws.search(q, k=5, checked=checked)
        out.append((time.perf_counter() - t) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--json", action="store_true", help="print only a JSON object of the figures")
    p.add_argument("--no-latency", action="store_true", help="skip the 10k/100k latency part")
    p.add_argument("--max-pages", type=int, default=None, help="use only the first N pages (a quick look)")
    a = p.parse_args()
    if not (DOCS / "_sources" / "faq").is_dir():
        raise SystemExit("python3-doc is not installed: run `bash scripts/setup --dev` (it installs it with apt)")

    load_before = os.getloadavg()[0]
    settings = Settings()
    embedder, english = Embedder(), EnglishEmbedder()
    pairs = faq_pairs()
    docs = corpus_chunks(settings, embedder, a.max_pages)
    answers = answer_chunks(pairs, settings, embedder)
    everything = docs + answers
    figures: dict = {"questions": len(pairs), "corpus_chunks": len(everything)}
    rows: list[tuple[str, object, str]] = [
        ("questions", len(pairs), "FAQ question headings with an answer"),
        ("corpus chunks", len(everything), f"{len(docs)} from the docs + {len(answers)} from the answers"),
    ]

    with tempfile.TemporaryDirectory() as tmp:
        memory = Memory(chroma_client(Path(tmp)), embedder, english=english)
        # The same collections as a memory without the English model searches them (`checked`: the
        # stored id names the English model too): the baseline of this run.
        use_only = Memory(memory.client, embedder, keywords=memory.keywords)
        ws = memory.workspace("recall")
        cached = lambda texts: embed_cached(embedder, texts)  # noqa: E731 (chunks and their windows)
        cached_en = lambda texts: embed_cached(english, texts)  # noqa: E731 (English chunks)
        started = time.perf_counter()
        ws.add("documents", everything, batch=500, embed=cached, english=cached_en)  # ~5 rows a chunk: under Chroma's 5,461
        figures["store_s"] = round(time.perf_counter() - started, 1)
        rows.append(("store s", figures["store_s"], "embed (vectors not in bench/out/ yet) and store the corpus"))
        for mode, label, view, checked in (("hybrid", "hybrid", ws, False),
                                           ("hybrid", "hybrid_without_english", use_only.workspace("recall"), True),
                                           ("vector", "vector", ws, False), ("keyword", "keyword", ws, False)):
            hits = hits_at_5(view, pairs, mode, checked)
            r = round(sum(hits) / len(hits), 3)
            halves = [round(sum(hits[i::2]) / len(hits[i::2]), 3) for i in (0, 1)]
            figures[f"recall5_{label}"] = r
            rows.append((f"recall5_{label}", r, f"answer in the top 5; even/odd questions {halves[0]:.3f} / {halves[1]:.3f}"))
        figures["recall5_hybrid_vs_without_english"] = round(figures["recall5_hybrid"] / figures["recall5_hybrid_without_english"], 3)
        rows.append(("recall5 hybrid / without English model", figures["recall5_hybrid_vs_without_english"], "ratio, same run"))

        if not a.no_latency:
            questions = [q for q, _ in pairs]
            ten = memory.workspace("lat10k")
            n10 = min(10_000, len(everything))
            ten.add("documents", everything[:n10], batch=500, embed=cached, english=cached_en)
            lat10 = latencies(ten, questions)

            hundred = memory.workspace("lat100k")
            rng = np.random.default_rng(0)
            target, done, copy = 100_000, 0, 0
            while done < target:
                take = min(len(everything), target - done)
                part = [Chunk(f"{c.text} [copy {copy}]", c.source, f"{c.doc_id}-c{copy}", c.position, extra=c.extra)
                        for c in everything[:take]]
                hundred.add("documents", part, batch=800, embed=lambda texts: _noisy(cached, texts, rng),
                            english=lambda texts: _noisy(cached_en, texts, rng))
                done += take
                copy += 1
            assert hundred.count() == target
            lat100 = latencies(hundred, questions)
            lat100_use = latencies(use_only.workspace("lat100k"), questions, checked=True)
            # Where the time goes at 100k, one method alone.
            vec_only = [_timed(hundred, q, "vector") for q in questions]
            kw_only = [_timed(hundred, q, "keyword") for q in questions]
            figures.update({
                "p50_ms_10k": round(pct(lat10, 50), 2), "p95_ms_10k": round(pct(lat10, 95), 2),
                "p50_ms_100k": round(pct(lat100, 50), 2), "p95_ms_100k": round(pct(lat100, 95), 2),
            })
            rows += [
                ("p50_ms_10k", figures["p50_ms_10k"], f"hybrid search end to end, {len(questions)} queries, real vectors"),
                ("p95_ms_10k", figures["p95_ms_10k"], ""),
                ("p50_ms_100k", figures["p50_ms_100k"], "100k chunks, synthetic vectors (see docstring)"),
                ("p95_ms_100k", figures["p95_ms_100k"], "goal <= 50 ms"),
                ("p50 / p95 ms 100k without English model", f"{pct(lat100_use, 50):.1f} / {pct(lat100_use, 95):.1f}",
                 f"p95 with / without: {pct(lat100, 95) / pct(lat100_use, 95):.2f} (same run)"),
                ("p95_ms_100k vector only", round(pct(vec_only, 95), 2), "query embedding + Chroma HNSW"),
                ("p95_ms_100k keyword only", round(pct(kw_only, 95), 2), "SQLite FTS5 BM25"),
                ("median ms 100k vector/keyword", f"{statistics.median(vec_only):.1f} / {statistics.median(kw_only):.1f}", ""),
            ]
    rows.append(("load average (1 min)", f"{load_before:.2f} -> {os.getloadavg()[0]:.2f}",
                 "others share the 2 cores: latency moves with their load"))
    report("Retrieval (bench/retrieval.py)", rows, figures, a.json)


def _noisy(cached, texts: list[str], rng) -> np.ndarray:
    """The cached vectors of texts without their "[copy n]" mark, moved a little: copies that are not duplicates."""
    vectors = cached([COPY_MARK.sub("", t) for t in texts])
    noisy = vectors + rng.normal(0, 0.02, size=vectors.shape).astype(np.float32)
    return noisy / np.linalg.norm(noisy, axis=1, keepdims=True)


def _timed(ws, q: str, mode: str) -> float:
    t = time.perf_counter()
    ws.search(q, k=5, mode=mode)
    return (time.perf_counter() - t) * 1000


if __name__ == "__main__":
    main()
