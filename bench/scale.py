"""Serving a team: concurrent turns overlap, and what a Chroma server costs per search.

    .venv/bin/python bench/scale.py [--json]

concurrency_ratio: wall of 10 concurrent turns (10 workspaces, `fake?delay=0.2`) / wall of 1.
server_vs_embedded_p95: search p95 through a `chroma run` server / embedded client, 10k chunks.
Both stores are started here, on loopback, and measured in the same run.
"""

from __future__ import annotations

import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from _report import args, report  # noqa: E402

from crew.retrieval.embeddings import Embedder  # noqa: E402
from crew.models.fake import FakeCrewModel  # noqa: E402
from crew.retrieval.memory import Chunk, Memory, chroma_client  # noqa: E402
from crew.engine.service import Crew  # noqa: E402
from crew.settings import ROLES, Settings  # noqa: E402
from tests.servers import ChromaServer  # noqa: E402

N_CHUNKS = 10_000
QUERIES = 200


def concurrency(data: Path) -> tuple[float, float]:
    model = FakeCrewModel(delay=0.2)
    crew = Crew.from_settings(Settings(data_dir=data, model="fake", web_search=False), models={r: model for r in ROLES})
    names = [f"w{i}" for i in range(10)]
    for ws in names:
        crew.ingest(ws, "notes.md", f"Notes of {ws}: the kettle boils at 100 degrees.".encode())
    crew.run_turn("w0", "b", "warm-up").run()

    def turn(ws: str) -> str:
        return crew.run_turn(ws, "b", "When does the kettle boil?").run().status

    t = time.perf_counter()
    assert turn("w0") == "done"
    single = time.perf_counter() - t
    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(turn, names))
    ten = time.perf_counter() - t
    assert statuses == ["done"] * 10, statuses
    return single, ten


def fill(memory: Memory, vectors: np.ndarray, texts: list[str]) -> None:
    """Store the chunks, with their precomputed vectors, in the one workspace the searches use."""
    chunks = [Chunk(text=t, source="s.md", doc_id=f"d{i // 100}", position=i) for i, t in enumerate(texts)]
    memory.workspace("w3").add("documents", chunks, batch=500, vectors=vectors.tolist())


def search_p95(memory: Memory, queries: list[str]) -> float:
    ws = memory.workspace("w3")
    ws.search(queries[0], k=5)
    times = []
    for q in queries:
        t = time.perf_counter()
        ws.search(q, k=5, kinds=("documents",))
        times.append((time.perf_counter() - t) * 1000)
    return float(np.percentile(times, 95)), float(np.percentile(times, 50))


def main() -> None:
    a = args(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        single, ten = concurrency(tmp_path / "turns")

        embedder = Embedder()
        rng = np.random.default_rng(7)
        words = "tea coffee kettle water leaf oxidised roast brew cup caffeine aroma milk sugar spice".split()
        texts = [" ".join(rng.choice(words, 12)) + f" item {i}" for i in range(N_CHUNKS)]
        vectors = embedder.embed_documents(texts)
        queries = [" ".join(rng.choice(words, 4)) for _ in range(QUERIES)]

        embedded = Memory(chroma_client(tmp_path / "embedded"), embedder, prefix="bench")
        fill(embedded, vectors, texts)
        server = ChromaServer(tmp_path / "server")
        server.start()
        try:
            remote = Memory(chroma_client(tmp_path, server.host, server.port), embedder, prefix="bench")
            fill(remote, vectors, texts)
            p95_embedded, p50_embedded = search_p95(embedded, queries)
            p95_server, p50_server = search_p95(remote, queries)
        finally:
            server.stop()

    figures = {
        "wall_1_turn_s": round(single, 3),
        "wall_10_concurrent_s": round(ten, 3),
        "concurrency_ratio": round(ten / single, 3),
        "search_p95_ms_embedded_10k": round(p95_embedded, 2),
        "search_p95_ms_server_10k": round(p95_server, 2),
        "server_vs_embedded_p95": round(p95_server / p95_embedded, 3),
    }
    report(
        "Team scale: concurrent turns and Chroma server searches",
        [
            ("1 turn, fake?delay=0.2 (s)", figures["wall_1_turn_s"], ""),
            ("10 concurrent turns, 10 workspaces (s)", figures["wall_10_concurrent_s"], ""),
            ("concurrency_ratio (10 / 1)", figures["concurrency_ratio"], "goal <= 2"),
            ("search p50 / p95, embedded, 10k chunks (ms)", f"{p50_embedded:.1f} / {p95_embedded:.1f}", f"{QUERIES} queries, k=5, incl. query embedding"),
            ("search p50 / p95, chroma server, 10k chunks (ms)", f"{p50_server:.1f} / {p95_server:.1f}", "loopback HTTP"),
            ("server_vs_embedded_p95", figures["server_vs_embedded_p95"], "ratio, reported"),
        ],
        figures,
        a.json,
    )


if __name__ == "__main__":
    main()
