"""Turns for bench/scale.py: two Crew instances sharing one Postgres and one Chroma server, and one turn's
cost on each backend.

Each workspace's note carries a token of its own in its first sentence (the sentence the fake writer
quotes), so an answer that cites another workspace's passage shows it: that is cross-talk.
"""

from __future__ import annotations

import secrets
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from crew.engine.service import Crew
from crew.models.fake import FakeCrewModel
from crew.settings import ROLES, Settings

QUESTION = "When does the kettle boil?"  # the same words in every workspace: leaks would match


def open_crew(data: Path, delay: float, embedder=None, **settings) -> Crew:
    """A crew on its own data dir whose every role is the fake model, `delay` seconds a call."""
    model = FakeCrewModel(delay=delay)
    return Crew.from_settings(Settings(data_dir=data, model="fake", web_search=False, **settings),
                              models={r: model for r in ROLES}, embedder=embedder)


def close_crew(crew: Crew) -> None:
    """Close every store a crew opened (Postgres pools included), before the servers stop."""
    crew.chats.close()
    crew.traces.close()
    crew.library().close()
    crew.memory.keywords.close()
    crew.checkpointer.conn.close()  # the checkpointer's pool (Postgres) or connection (SQLite)


def write_notes(crew: Crew, workspaces: list[str], tokens: dict[str, str]) -> None:
    for ws in workspaces:
        note = f"Notes of {ws}: the kettle boils at 100 degrees, code {tokens[ws]}. Keep the lid on.\n"
        result = crew.ingest(ws, "notes.md", note.encode())
        assert result.status == "ok", (ws, result)


@dataclass
class Outcome:
    """What one turn of the concurrent batch did."""

    workspace: str
    status: str
    error: str | None
    crosstalk: bool  # its own token missing from the answer or a citation, or another's present


def check(workspace: str, result, tokens: dict[str, str]) -> Outcome:
    own, others = tokens[workspace], [t for ws, t in tokens.items() if ws != workspace]
    texts = [result.answer] + [str(c.get("text", "")) for c in result.citations]
    crosstalk = (not result.citations or any(own not in t for t in texts)
                 or any(o in t for o in others for t in texts))
    return Outcome(workspace, result.status, result.error, crosstalk)


def two_instances(tmp: Path, url: str, chroma, embedder, turns: int = 10) -> dict:
    """`turns` concurrent turns in as many workspaces, half on each of two crews (own empty data dirs, same
    Postgres and Chroma server); and one turn alone, on the first crew, for the ratio."""
    server = {"database_url": url, "chroma_host": chroma.host, "chroma_port": chroma.port}
    a = open_crew(tmp / "pg-a", 0.2, embedder, **server)
    b = open_crew(tmp / "pg-b", 0.2, embedder, **server)
    try:
        names = [f"t{i}" for i in range(turns)]
        owner = {ws: (a if i < turns // 2 else b) for i, ws in enumerate(names)}
        tokens = {ws: f"KTL{i:02d}{secrets.token_hex(3).upper()}" for i, ws in enumerate(names)}
        write_notes(a, names[: turns // 2], tokens)
        write_notes(b, names[turns // 2 :], tokens)
        for crew, ws in ((a, names[0]), (b, names[-1])):
            crew.run_turn(ws, "warm", "warm-up").run()

        def turn(ws: str) -> Outcome:
            try:
                return check(ws, owner[ws].run_turn(ws, "b", QUESTION).run(), tokens)
            except Exception as e:  # an error is a figure here, not the end of the bench
                return Outcome(ws, "raised", f"{type(e).__name__}: {e}", False)

        t = time.perf_counter()
        alone = turn(names[0])
        single = time.perf_counter() - t
        assert alone.status == "done", alone
        t = time.perf_counter()
        with ThreadPoolExecutor(max_workers=turns) as pool:
            outcomes = list(pool.map(turn, names))
        wall = time.perf_counter() - t
    finally:
        close_crew(a)
        close_crew(b)
    return {
        "single_s": single, "wall_s": wall, "turns": turns,
        "errors": sum(o.status != "done" for o in outcomes),
        "crosstalk": sum(o.crosstalk for o in outcomes),
        "failed": [o for o in outcomes if o.status != "done" or o.crosstalk],
    }


def turn_costs(crews: dict[str, Crew], turns: int = 7) -> dict[str, float]:
    """Median wall of one turn (a new chat each time) per crew, the crews taking turns so load drifts alike."""
    for crew in crews.values():
        write_notes(crew, ["o"], {"o": "KTL99COST"})
        crew.run_turn("o", None, "warm-up").run()
    times: dict[str, list[float]] = {name: [] for name in crews}
    for _ in range(turns):
        for name, crew in crews.items():
            t = time.perf_counter()
            result = crew.run_turn("o", None, QUESTION).run()
            times[name].append(time.perf_counter() - t)
            assert result.status == "done", (name, result.status, result.error)
    return {name: statistics.median(ts) for name, ts in times.items()}
