"""Serving a team: concurrent turns overlap, what a Chroma server costs per search, and the same on Postgres.

    PYTHONPATH=$PWD/src .venv/bin/python bench/scale.py [--json] [--chunks N]

On SQLite + embedded Chroma (one crew, one data dir):
concurrency_ratio: wall of 10 concurrent turns (10 workspaces, `fake?delay=0.2`) / wall of 1.
server_vs_embedded_p95: search p95 through a `chroma run` server / embedded client, 10k chunks.

On Postgres + a `chroma run` server (issue 13), in the same run:
pg_concurrency_ratio: 10 concurrent turns in 10 workspaces, 5 on each of two crews with their own empty data
dirs sharing the one Postgres and the one Chroma server, / one turn alone; with the turns that failed
(pg_errors) and those whose answer or citations lacked their workspace's token or held another's
(pg_crosstalk). pg_vs_sqlite_turn: median wall of one turn (`fake?delay=0.1`, 7 turns each, taking turns)
on Postgres + Chroma server / on SQLite + embedded Chroma, and the same at delay 0 (the crew's own work).
pg_vs_sqlite_p95_100k: hybrid search p95 at 100k chunks (bench/_big_memory.py) through the Chroma server
+ Postgres keywords / embedded Chroma + SQLite FTS5.

Postgres (tests/postgres.py: initdb + pg_ctl in a temp dir, loopback TCP, its socket in that dir) and the
Chroma server (tests/servers.py) are started here and stopped at the end, also on an error, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from _big_memory import SyntheticVectors, questions, search_times  # noqa: E402
from _big_memory import fill as fill_big  # noqa: E402
from _big_memory import texts as big_texts  # noqa: E402
from _report import report  # noqa: E402
from _team import close_crew, open_crew, turn_costs, two_instances  # noqa: E402

from crew.engine.service import Crew  # noqa: E402
from crew.models.fake import FakeCrewModel  # noqa: E402
from crew.retrieval.embeddings import Embedder  # noqa: E402
from crew.retrieval.memory import Chunk, Memory, chroma_client  # noqa: E402
from crew.retrieval.pg_keywords import PgKeywordIndex  # noqa: E402
from crew.retrieval.windows import windows_of  # noqa: E402
from crew.settings import ROLES, Settings  # noqa: E402
from tests.postgres import PostgresServer  # noqa: E402
from tests.servers import ChromaServer  # noqa: E402

N_CHUNKS = 10_000
QUERIES = 200
BIG = 100_000
TURNS = 7


def concurrency(data: Path, embedder: Embedder) -> tuple[float, float]:
    model = FakeCrewModel(delay=0.2)
    crew = Crew.from_settings(Settings(data_dir=data, model="fake", web_search=False), models={r: model for r in ROLES},
                              embedder=embedder)
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
    """Store the chunks, with their precomputed vectors, in the one workspace the searches use (the texts are
    too short to have windows: one row each)."""
    chunks = [Chunk(text=t, source="s.md", doc_id=f"d{i // 100}", position=i) for i, t in enumerate(texts)]
    by_text = dict(zip(texts, vectors))
    memory.workspace("w3").add("documents", chunks, batch=500, embed=lambda ts: np.stack([by_text[t] for t in ts]))


def search_p95(memory: Memory, queries: list[str]) -> tuple[float, float]:
    ws = memory.workspace("w3")
    ws.search(queries[0], k=5)
    times = []
    for q in queries:
        t = time.perf_counter()
        ws.search(q, k=5, kinds=("documents",))
        times.append((time.perf_counter() - t) * 1000)
    return float(np.percentile(times, 95)), float(np.percentile(times, 50))


def turn_cost(tmp: Path, pg: PostgresServer, chroma: ChromaServer, embedder: Embedder, delay: float) -> dict:
    """Median wall of one turn on SQLite + embedded Chroma, Postgres + Chroma server, Postgres + embedded Chroma."""
    tag = f"{delay:g}".replace(".", "_")
    server = {"chroma_host": chroma.host, "chroma_port": chroma.port}
    crews = {"sqlite": open_crew(tmp / f"cost-{tag}-sqlite", delay, embedder)}
    crews["postgres"] = open_crew(tmp / f"cost-{tag}-pg", delay, embedder,
                                  database_url=pg.create_database(f"cost_{tag}_pg"), **server)
    crews["postgres_embedded_chroma"] = open_crew(tmp / f"cost-{tag}-pg-local", delay, embedder,
                                                  database_url=pg.create_database(f"cost_{tag}_pg_local"))
    try:
        return turn_costs(crews, TURNS)
    finally:
        for crew in crews.values():
            close_crew(crew)


def big_search(tmp: Path, pg: PostgresServer, chroma: ChromaServer, embedder: Embedder, n: int) -> dict:
    """Fill a workspace of n chunks on each side, then time the same questions on both, taking turns."""
    rng = np.random.default_rng(11)
    corpus = big_texts(n, rng, ROOT)
    queries = questions(corpus, QUERIES, rng)
    keywords = PgKeywordIndex(pg.create_database("big"))
    try:
        local = Memory(chroma_client(tmp / "big-embedded"), embedder, prefix="big")  # FTS5 file beside it
        remote = Memory(chroma_client(tmp / "big-server", chroma.host, chroma.port), embedder, prefix="big",
                        keywords=keywords)
        rows_per_chunk = 1 + max(len(windows_of(t)) for t in corpus[:1000])
        batch = max(1, min(1000, min(m.client.get_max_batch_size() for m in (local, remote)) // rows_per_chunk))
        spaces = {"sqlite": local.workspace("big"), "postgres": remote.workspace("big")}
        # Both sides fill at once (one in this process, one in the Chroma server's and Postgres's): on 2 shared
        # cores 100k chunks take tens of minutes each. Each side's time is its wall under the other's load.
        with ThreadPoolExecutor(max_workers=2) as pool:
            filling = {name: pool.submit(fill_big, ws, corpus, SyntheticVectors(embedder.dim), batch)
                       for name, ws in spaces.items()}
            load = {name: f.result() for name, f in filling.items()}
        rows = sum(1 + len(windows_of(t)) for t in corpus)
        counts = {name: (m.collection("documents", "big").count(), spaces[name].keyword_count())
                  for name, m in (("sqlite", local), ("postgres", remote))}
        assert counts == {"sqlite": (rows, n), "postgres": (rows, n)}, counts
        times = {mode: search_times(spaces, queries, mode) for mode in ("hybrid", "vector", "keyword")}
        local.keywords.close()
    finally:
        keywords.close()
    return {"load_s": load, "chroma_rows": rows, "times": times}


def _exit_on_term(signum, frame) -> None:
    raise SystemExit(128 + signum)  # unwinds the `with` blocks, so both servers stop


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="print only a JSON object of the figures")
    p.add_argument("--chunks", type=int, default=BIG, help="chunks of the big workspace (RESULTS.md: 100000)")
    a = p.parse_args()
    signal.signal(signal.SIGTERM, _exit_on_term)
    load_before, started = os.getloadavg()[0], time.monotonic()
    embedder = Embedder()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as servers:
        tmp_path = Path(tmp)
        single, ten = concurrency(tmp_path / "turns", embedder)

        pg = servers.enter_context(PostgresServer())
        server = ChromaServer(tmp_path / "server")
        servers.callback(server.stop)
        server.start()
        team = two_instances(tmp_path, pg.create_database("team"), server, embedder)
        costs = {delay: turn_cost(tmp_path, pg, server, embedder, delay) for delay in (0.1, 0.0)}

        rng = np.random.default_rng(7)
        words = "tea coffee kettle water leaf oxidised roast brew cup caffeine aroma milk sugar spice".split()
        texts = [" ".join(rng.choice(words, 12)) + f" item {i}" for i in range(N_CHUNKS)]
        vectors = embedder.embed_documents(texts)
        queries = [" ".join(rng.choice(words, 4)) for _ in range(QUERIES)]
        embedded = Memory(chroma_client(tmp_path / "embedded"), embedder, prefix="bench")
        fill(embedded, vectors, texts)
        remote = Memory(chroma_client(tmp_path, server.host, server.port), embedder, prefix="bench")
        fill(remote, vectors, texts)
        p95_embedded, p50_embedded = search_p95(embedded, queries)
        p95_server, p50_server = search_p95(remote, queries)

        big = big_search(tmp_path, pg, server, embedder, a.chunks)
    minutes = (time.monotonic() - started) / 60

    k = f"{a.chunks // 1000}k" if a.chunks % 1000 == 0 else str(a.chunks)
    hy, vec, kw = (big["times"][m] for m in ("hybrid", "vector", "keyword"))
    figures = {
        "wall_1_turn_s": round(single, 3),
        "wall_10_concurrent_s": round(ten, 3),
        "concurrency_ratio": round(ten / single, 3),
        "search_p95_ms_embedded_10k": round(p95_embedded, 2),
        "search_p95_ms_server_10k": round(p95_server, 2),
        "server_vs_embedded_p95": round(p95_server / p95_embedded, 3),
        "pg_wall_1_turn_s": round(team["single_s"], 3),
        "pg_wall_10_concurrent_s": round(team["wall_s"], 3),
        "pg_concurrency_ratio": round(team["wall_s"] / team["single_s"], 3),
        "pg_errors": team["errors"],
        "pg_crosstalk": team["crosstalk"],
        "turn_s_sqlite": round(costs[0.1]["sqlite"], 3),
        "turn_s_pg": round(costs[0.1]["postgres"], 3),
        "turn_s_pg_embedded_chroma": round(costs[0.1]["postgres_embedded_chroma"], 3),
        "pg_vs_sqlite_turn": round(costs[0.1]["postgres"] / costs[0.1]["sqlite"], 3),
        "pg_vs_sqlite_turn_delay0": round(costs[0.0]["postgres"] / costs[0.0]["sqlite"], 3),
        f"search_p95_ms_sqlite_{k}": round(pct(hy["sqlite"], 95), 2),
        f"search_p95_ms_pg_{k}": round(pct(hy["postgres"], 95), 2),
        f"pg_vs_sqlite_p95_{k}": round(pct(hy["postgres"], 95) / pct(hy["sqlite"], 95), 3),
        f"load_s_sqlite_{k}": round(big["load_s"]["sqlite"], 1),
        f"load_s_pg_{k}": round(big["load_s"]["postgres"], 1),
    }

    def both(times: dict[str, list[float]], name: str) -> str:
        return f"{pct(times[name], 50):.1f} / {pct(times[name], 95):.1f}"

    failed = "; ".join(f"{o.workspace}: {o.status}{' ' + o.error if o.error else ''}{' cross-talk' if o.crosstalk else ''}"
                       for o in team["failed"])
    c1, c0 = costs[0.1], costs[0.0]
    report(
        "Team scale: concurrent turns and Chroma server searches; the same on Postgres (issue 13)",
        [
            ("1 turn, fake?delay=0.2 (s)", figures["wall_1_turn_s"], "SQLite + embedded Chroma, one crew"),
            ("10 concurrent turns, 10 workspaces (s)", figures["wall_10_concurrent_s"], ""),
            ("concurrency_ratio (10 / 1)", figures["concurrency_ratio"], "goal <= 2"),
            ("search p50 / p95, embedded, 10k chunks (ms)", f"{p50_embedded:.1f} / {p95_embedded:.1f}", f"{QUERIES} queries, k=5, incl. query embedding"),
            ("search p50 / p95, chroma server, 10k chunks (ms)", f"{p50_server:.1f} / {p95_server:.1f}", "loopback HTTP"),
            ("server_vs_embedded_p95", figures["server_vs_embedded_p95"], "ratio, reported"),
            ("PG: 1 turn alone, fake?delay=0.2 (s)", figures["pg_wall_1_turn_s"], "Postgres + chroma run, crew A"),
            ("PG: 10 concurrent turns, 10 workspaces, 2 crews (s)", figures["pg_wall_10_concurrent_s"], "5 workspaces on each crew, own empty data dirs"),
            ("pg_concurrency_ratio (10 / 1)", figures["pg_concurrency_ratio"], "goal <= 2"),
            ("pg_errors", figures["pg_errors"], f"of {team['turns']} turns; goal 0" + (f" ({failed})" if failed else "")),
            ("pg_crosstalk", figures["pg_crosstalk"], "answer/citations without own token or with another's; goal 0"),
            ("1 turn, fake?delay=0.1, SQLite / PG / PG + embedded Chroma (s)",
             f"{c1['sqlite']:.3f} / {c1['postgres']:.3f} / {c1['postgres_embedded_chroma']:.3f}", f"median of {TURNS} each, taking turns"),
            ("pg_vs_sqlite_turn (PG + chroma run / SQLite + embedded)", figures["pg_vs_sqlite_turn"], "ratio"),
            ("1 turn, fake (no delay), SQLite / PG / PG + embedded Chroma (s)",
             f"{c0['sqlite']:.3f} / {c0['postgres']:.3f} / {c0['postgres_embedded_chroma']:.3f}", "the crew's own work"),
            ("pg_vs_sqlite_turn_delay0", figures["pg_vs_sqlite_turn_delay0"], "ratio"),
            (f"load {k} chunks, embedded + FTS5 / chroma run + PG, side by side (s)",
             f"{big['load_s']['sqlite']:.0f} / {big['load_s']['postgres']:.0f}", f"{big['chroma_rows']} Chroma rows each (chunks + windows)"),
            (f"search p50 / p95, embedded + FTS5, {k} (ms)", both(hy, "sqlite"), f"{QUERIES} queries, k=5, hybrid, incl. query embedding"),
            (f"search p50 / p95, chroma run + PG keywords, {k} (ms)", both(hy, "postgres"), "goal p95 <= 60"),
            (f"pg_vs_sqlite_p95_{k}", figures[f"pg_vs_sqlite_p95_{k}"], "ratio"),
            (f"vector only p50 / p95, embedded / chroma run, {k} (ms)", f"{both(vec, 'sqlite')} / {both(vec, 'postgres')}", "query embedding + HNSW"),
            (f"keyword only p50 / p95, FTS5 / PG, {k} (ms)", f"{both(kw, 'sqlite')} / {both(kw, 'postgres')}", "BM25"),
            ("load average (1 min), whole run", f"{load_before:.2f} -> {os.getloadavg()[0]:.2f}", f"{minutes:.1f} min, 2 shared cores"),
        ],
        figures,
        a.json,
    )


if __name__ == "__main__":
    main()
