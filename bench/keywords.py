"""Keyword-only retrieval on the labelled sets: page recall@5 and MRR of crew's BM25 index alone.

    .venv/bin/python bench/keywords.py [--json] [--sets 'DIR/*.tune.txt'] [--corpus DIR] [--faq N]
                                       [--keywords sqlite|postgres|postgres-ts_rank_cd] [--latency N]

The same questions, passages and language groups as bench/embedders.py (read there): every passage
goes into a `KeywordIndex` in memory, each question is run through `prepare` and `rank` as a search
does, and a question scores a hit at 5 when one of the 5 best passages is on a labelled page.

--keywords postgres puts them in a `PgKeywordIndex` on a temporary server (tests/postgres.py) instead
(`postgres-ts_rank_cd`: ranked by Postgres's own ts_rank_cd, no idf). --latency N then repeats the
passages (each copy tagged, as bench/retrieval.py does) to N chunks in a collection of their own and
times `prepare` + `rank` (n=10) for every question, after a warm-up: keyword search alone, no fusion.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from pathlib import Path

from embedders import load_data, score

from crew.retrieval.keywords import KeywordIndex


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true")
    p.add_argument("--sets", default=None)
    p.add_argument("--corpus", default=None)
    p.add_argument("--faq", type=int, default=0)
    p.add_argument("--keywords", choices=("sqlite", "postgres", "postgres-ts_rank_cd"), default="sqlite")
    p.add_argument("--latency", type=int, default=0, help="also time searches over this many chunks")
    a = p.parse_args()
    questions, passages, groups = load_data(a.sets, a.corpus, a.faq)
    with open_index(a.keywords) as index:
        index.add("bench", [(str(i), "d", text) for i, (_, _, text) in enumerate(passages)])
        ranked = []
        for q in questions:
            best, _ = index.rank(index.prepare("bench", q.text), 50)
            ranked.append([int(cid) for cid, _ in best])
        quality = score(questions, passages, ranked, groups)
        latency = timings(index, passages, questions, a.latency) if a.latency else None
    if a.json:
        print(json.dumps({"passages": len(passages), "keywords": a.keywords, "quality": quality, "latency": latency}))
        return
    print(f"## Keyword-only retrieval (bench/keywords.py --keywords {a.keywords}): {len(questions)} questions,"
          f" {len(passages)} passages\n")
    print("| group | questions | recall@5 | MRR |\n| --- | --- | --- | --- |")
    for g, r in quality.items():
        print(f"| {g} | {r['n']} | {r['recall5']:.3f} | {r['mrr']:.3f} |")
    if latency:
        print(f"\nkeyword search at {latency['chunks']} chunks: p50 {latency['p50_ms']} ms, p95 {latency['p95_ms']} ms"
              f" (indexing took {latency['index_s']} s)")


@contextlib.contextmanager
def open_index(backend: str):
    if backend == "sqlite":
        index = KeywordIndex(":memory:")
        yield index
        index.close()
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for tests/postgres.py
    from tests.postgres import PostgresServer

    from crew.retrieval.pg_keywords import PgKeywordIndex

    with PostgresServer() as server:
        index = PgKeywordIndex(server.url, ranking="ts_rank_cd" if backend.endswith("ts_rank_cd") else "bm25")
        try:
            yield index
        finally:
            index.close()


def timings(index, passages, questions, n: int) -> dict:
    started = time.perf_counter()
    done, copy = 0, 0
    while done < n:
        take = min(len(passages), n - done)
        index.add("latency", [(f"{copy}-{i}", f"d{copy}-{i // 20}", f"{text} [copy {copy}]")
                              for i, (_, _, text) in enumerate(passages[:take])])
        done, copy = done + take, copy + 1
    index_s = time.perf_counter() - started
    for q in questions[:10]:  # warm-up
        index.rank(index.prepare("latency", q.text), 10)
    ms = []
    for q in questions:
        t = time.perf_counter()
        index.rank(index.prepare("latency", q.text), 10)
        ms.append((time.perf_counter() - t) * 1000)
    ms.sort()
    return {"chunks": index.count("latency"), "index_s": round(index_s, 1), "p50_ms": round(statistics.median(ms), 2),
            "p95_ms": round(ms[max(0, int(round(0.95 * len(ms))) - 1)], 2)}


if __name__ == "__main__":
    main()
