"""Soak: 200 turns over 20 workspaces, 8 at a time, on the fake model with a per-call delay.

Passes when no turn errs, no answer cites another workspace's document, and the process's
resident memory after the last 50 turns is within 10 % of what it was after the first 50
(a leak of even a few hundred KB a turn shows up here). Timing is printed, never asserted.
"""

from __future__ import annotations

import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

import pytest

from crew.engine.service import Crew
from crew.settings import Settings

TURNS = 200
WORKSPACES = 20
PARALLEL = 8
WINDOW = 50


def rss_bytes() -> int:
    """Resident set size of this process now (not the peak, which can only grow)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def document(i: int) -> bytes:
    return (f"# Workspace {i} notes\n\nThe tea kept by team {i} is blend number {i * 7 + 3}, "
            f"stored in cupboard ws{i}-marker. Team {i} brews it for {i % 5 + 2} minutes.\n").encode()


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads RSS from /proc")
def test_two_hundred_turns_over_twenty_workspaces(tmp_path, embedder):
    settings = Settings(data_dir=tmp_path / "data", model="fake?delay=0.05", web_search=False)
    crew = Crew.from_settings(settings, embedder=embedder)
    own_chunks: dict[str, set[str]] = {}
    for i in range(WORKSPACES):
        ws = f"team-{i}"
        stored = crew.ingest(ws, f"team-{i}.md", document(i))
        assert stored.status == "ok", stored.error
        own_chunks[ws] = {f"{stored.doc_id}-{n:06d}" for n in range(stored.chunks)}

    def one(n: int) -> dict:
        ws = f"team-{n % WORKSPACES}"
        result = crew.run_turn(ws, f"soak-{n}", f"Which tea blend does team {n % WORKSPACES} keep, and where?").run()
        return {"n": n, "ws": ws, "status": result.status, "error": result.error, "limit": result.limit_hit,
                "cited": [c["chunk_id"] for c in result.citations], "texts": [c["text"] for c in result.citations]}

    started = time.perf_counter()
    done: list[dict] = []
    rss: list[int] = []
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        for future in as_completed([pool.submit(one, n) for n in range(TURNS)]):
            done.append(future.result())
            rss.append(rss_bytes())
    seconds = time.perf_counter() - started

    failed = [d for d in done if d["status"] != "done" or d["error"] or d["limit"]]
    assert failed == [], failed[:3]
    uncited = [d for d in done if not d["cited"]]
    assert uncited == [], uncited[:3]
    foreign = [(d["ws"], c) for d in done for c in d["cited"] if c not in own_chunks[d["ws"]]]
    assert foreign == [], foreign[:3]
    assert all(f"ws{d['ws'].split('-')[1]}-marker" in " ".join(d["texts"]) for d in done)

    first, last = statistics.median(rss[:WINDOW]), statistics.median(rss[-WINDOW:])
    print(f"\nsoak: {TURNS} turns in {seconds:.1f} s ({TURNS / seconds:.1f} turns/s); "
          f"RSS median first {WINDOW}: {first / 2**20:.1f} MiB, last {WINDOW}: {last / 2**20:.1f} MiB "
          f"({(last / first - 1) * 100:+.1f} %)")
    assert last <= first * 1.10, f"RSS grew from {first / 2**20:.1f} MiB to {last / 2**20:.1f} MiB"
    # Every turn left a complete trace in its own workspace.
    assert sum(len(crew.traces.turns(f"team-{i}", limit=1000)) for i in range(WORKSPACES)) == TURNS
