"""Search at 100k chunks on both backends: embedded Chroma + SQLite FTS5 against a `chroma run` server + Postgres
keywords, the same workspace and the same questions, taking turns question by question.

    PYTHONPATH=$PWD/src .venv/bin/python bench/search_scale.py [--json] [--chunks N] [--keep DIR]

The workspace is bench/_big_memory.py's (Zipf-distributed words, synthetic vectors, the seeds of bench/scale.py,
so the same chunks and questions as its 100k search). It is filled once, embedded, into `--keep DIR` (a temporary
dir without it); filling 100k chunks takes ~10 minutes here, so later runs reuse it. The server side serves a copy
of that Chroma dir with `chroma run` (the same files a server filled over HTTP would hold) and indexes the same
chunks' words in a fresh Postgres (tests/postgres.py), as `WorkspaceMemory.add` would. Both servers listen on
loopback and are stopped at the end.

Figures: hybrid search p50 / p95 (`WorkspaceMemory.search(q, k=5)` end to end, query embedding included) per
backend and their ratio; the vector and keyword searches alone, for where the time goes. Goal (issue 13): p95 <= 60 ms
through the server + Postgres.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.postgres, tests.servers

import numpy as np  # noqa: E402
from _big_memory import SyntheticVectors, fill, questions, search_times, texts  # noqa: E402
from _report import report  # noqa: E402

from crew.retrieval.embeddings import Embedder  # noqa: E402
from crew.retrieval.memory import Memory, chroma_client, collection_name  # noqa: E402
from crew.retrieval.pg_keywords import PgKeywordIndex  # noqa: E402
from crew.retrieval.windows import windows_of  # noqa: E402
from tests.postgres import PostgresServer  # noqa: E402
from tests.servers import ChromaServer  # noqa: E402

QUERIES = 200
PREFIX, WORKSPACE = "big", "big"  # bench/scale.py's


def embedded_workspace(directory: Path, corpus: list[str], embedder: Embedder) -> tuple[Memory, float | None]:
    """The embedded memory holding the corpus in `directory`, filled unless it already holds it; the fill's seconds."""
    memory = Memory(chroma_client(directory), embedder, prefix=PREFIX)
    ws = memory.workspace(WORKSPACE)
    if ws.count() == len(corpus) and ws.keyword_count() == len(corpus):
        return memory, None
    if ws.count():
        raise SystemExit(f"{directory} holds another workspace ({ws.count()} chunks): use an empty --keep dir")
    rows_per_chunk = 1 + max(len(windows_of(t)) for t in corpus[:1000])
    batch = max(1, min(1000, memory.client.get_max_batch_size() // rows_per_chunk))
    return memory, fill(ws, corpus, SyntheticVectors(embedder.dim), batch)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="print only a JSON object of the figures")
    p.add_argument("--chunks", type=int, default=100_000, help="chunks of the workspace")
    p.add_argument("--keep", type=Path, default=None, help="keep the filled embedded workspace here, for later runs")
    a = p.parse_args()
    load_before, started = os.getloadavg()[0], time.monotonic()
    rng = np.random.default_rng(11)  # bench/scale.py's big_search: the same corpus, then the same questions
    corpus = texts(a.chunks, rng, ROOT)
    queries = questions(corpus, QUERIES, rng)
    embedder = Embedder()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as servers:
        keep = a.keep or Path(tmp) / "embedded"
        local, fill_s = embedded_workspace(keep, corpus, embedder)
        shutil.copytree(keep / "chroma", Path(tmp) / "server" / "chroma")
        chroma = ChromaServer(Path(tmp) / "server" / "chroma")
        servers.callback(chroma.stop)
        chroma.start()
        pg = servers.enter_context(PostgresServer())
        keywords = PgKeywordIndex(pg.create_database("big"))
        servers.callback(keywords.close)
        key = collection_name(PREFIX, "documents", WORKSPACE)
        t = time.perf_counter()
        for start in range(0, len(corpus), 2000):  # the rows WorkspaceMemory.add writes (bench/_big_memory.fill's ids)
            keywords.add(key, [(f"d{i // 100}-{i:06d}", f"d{i // 100}", corpus[i])
                               for i in range(start, min(start + 2000, len(corpus)))])
        pg_fill_s = time.perf_counter() - t
        remote = Memory(chroma_client(Path(tmp) / "client", chroma.host, chroma.port), embedder, prefix=PREFIX,
                        keywords=keywords)
        spaces = {"sqlite": local.workspace(WORKSPACE), "postgres": remote.workspace(WORKSPACE)}
        assert spaces["postgres"].count() == spaces["postgres"].keyword_count() == len(corpus)
        times = {mode: search_times(spaces, queries, mode) for mode in ("hybrid", "vector", "keyword")}
        local.keywords.close()

    def pct(values: list[float], q: float) -> float:
        return float(np.percentile(values, q))

    def both(mode: str, name: str) -> str:
        return f"{pct(times[mode][name], 50):.1f} / {pct(times[mode][name], 95):.1f}"

    k = f"{a.chunks // 1000}k" if a.chunks % 1000 == 0 else str(a.chunks)
    hy = times["hybrid"]
    figures = {
        f"search_p95_ms_sqlite_{k}": round(pct(hy["sqlite"], 95), 2),
        f"search_p95_ms_pg_{k}": round(pct(hy["postgres"], 95), 2),
        f"pg_vs_sqlite_p95_{k}": round(pct(hy["postgres"], 95) / pct(hy["sqlite"], 95), 3),
    }
    report(
        f"Search at {k} chunks: embedded + FTS5 vs chroma run + Postgres keywords",
        [
            ("filled (s)", "reused" if fill_s is None else f"{fill_s:.0f}",
             f"{a.chunks} chunks embedded; Postgres keywords {pg_fill_s:.0f} s"),
            (f"search p50 / p95, embedded + FTS5, {k} (ms)", both("hybrid", "sqlite"),
             f"{QUERIES} queries, k=5, hybrid, incl. query embedding"),
            (f"search p50 / p95, chroma run + PG keywords, {k} (ms)", both("hybrid", "postgres"), "goal p95 <= 60"),
            (f"pg_vs_sqlite_p95_{k}", figures[f"pg_vs_sqlite_p95_{k}"], "ratio"),
            (f"vector only p50 / p95, embedded / chroma run, {k} (ms)",
             f"{both('vector', 'sqlite')} / {both('vector', 'postgres')}", "query embedding + HNSW"),
            (f"keyword only p50 / p95, FTS5 / PG, {k} (ms)",
             f"{both('keyword', 'sqlite')} / {both('keyword', 'postgres')}", "BM25"),
            ("load average (1 min), whole run", f"{load_before:.2f} -> {os.getloadavg()[0]:.2f}",
             f"{(time.monotonic() - started) / 60:.1f} min, 2 shared cores"),
        ],
        figures,
        a.json,
    )


if __name__ == "__main__":
    main()
