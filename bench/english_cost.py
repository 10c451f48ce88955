"""What the English model (crew.retrieval.english) adds to ingest's embedding work, on stored chunks.

    PYTHONPATH=src .venv/bin/python bench/english_cost.py DATA_DIR WORKSPACE [--chunks 300] [--rounds 2] [--json]

Reads up to --chunks chunk texts (not windows) of a workspace's documents collection in an ingested data dir
(e.g. one bench/quality.py --data-dir left), then builds their Chroma rows as ingest does
(`windows.rows`: USE vectors of the chunks and their windows) with and without MiniLM vectors for the English
chunks. The two run in turns, --rounds times each, in one process, so load from others on the shared cores hits
both alike; the best time of each is reported with their ratio. Nothing is written.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _report import report

from crew.retrieval import windows
from crew.retrieval.embeddings import Embedder
from crew.retrieval.english import EnglishEmbedder
from crew.retrieval.memory import chroma_client, collection_name
from crew.retrieval.stemming import language_of


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data_dir", type=Path)
    p.add_argument("workspace")
    p.add_argument("--chunks", type=int, default=300)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()

    col = chroma_client(a.data_dir).get_collection(collection_name("crew", "documents", a.workspace))
    got = col.get(include=["documents", "metadatas"], limit=8 * a.chunks)
    rows = [(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"]) if not windows.is_window(i)]
    ids, texts, metas = (list(x) for x in zip(*rows[: a.chunks]))
    use, english = Embedder(), EnglishEmbedder()
    use.embed_query("warm up")
    english.embed_query("warm up")
    times: dict[str, list[float]] = {"use": [], "use_minilm": []}
    for _ in range(a.rounds):
        for label, en in (("use", None), ("use_minilm", english.embed_documents)):
            started = time.perf_counter()
            for s in range(0, len(ids), 64):
                windows.rows(ids[s : s + 64], texts[s : s + 64], metas[s : s + 64], use.embed_documents, en)
            times[label].append(time.perf_counter() - started)
    before, after = min(times["use"]), min(times["use_minilm"])
    n_english = sum(language_of(t) == "en" for t in texts)
    figures = {"chunks": len(ids), "english_chunks": n_english, "use_s": round(before, 2),
               "use_minilm_s": round(after, 2), "ratio": round(after / before, 2)}
    report("English model's ingest cost (bench/english_cost.py)", [
        ("chunks", f"{len(ids)} ({n_english} English)", f"workspace {a.workspace} of {a.data_dir}"),
        ("USE: chunks + windows, s", figures["use_s"], f"best of {a.rounds}"),
        ("USE + MiniLM on English chunks, s", figures["use_minilm_s"], f"best of {a.rounds}"),
        ("with / without MiniLM", figures["ratio"], "ratio, same run, in turns"),
    ], figures, a.json)


if __name__ == "__main__":
    main()
