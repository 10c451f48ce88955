"""What the crew machinery costs on top of model time, and whether researchers really overlap.

    .venv/bin/python bench/overhead.py [--json]

overhead_fraction: a turn with `fake?delay=0.1`, (wall - sum of model delays) / wall.
parallel_ratio: wall of a turn with 4 sub-questions / 1 sub-question, `delay=1`; the researchers
consult the model once each (web tools on, answering instantly), so serial research would give ~1.75.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from _report import args, report

from crew.engine.agents.researcher import WebTools
from crew.models.fake import FakeCrewModel
from crew.retrieval.memory import Chunk
from crew.engine.service import Crew
from crew.settings import ROLES, Settings
from crew.engine.tools import ToolResult


def crew_with(data: Path, delay: float, subquestions: int) -> Crew:
    model = FakeCrewModel(delay=delay, subquestions=subquestions)
    tools = WebTools(web_search=lambda q: ToolResult(True, "nothing found"), fetch_page=None)
    settings = Settings(data_dir=data, model="fake", web_search=True, research_steps=1)
    return Crew.from_settings(settings, models={r: model for r in ROLES}, tools=tools)


def timed_turn(crew: Crew) -> tuple[float, int]:
    t = time.perf_counter()
    events = list(crew.run_turn("bench", "bench", "How much caffeine is in green tea?"))
    wall = time.perf_counter() - t
    calls = sum(1 for e in events if e.kind == "llm_call")
    assert events[-1].data["status"] == "done", events[-1].data
    return wall, calls


def main() -> None:
    a = args(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        crew = crew_with(data, 0.1, 1)
        crew.memory.workspace("bench").add("documents", [
            Chunk(text=f"Green tea fact {i}: a cup has about {20 + i} mg of caffeine.", source="tea.md", doc_id="tea", position=i)
            for i in range(50)
        ])
        timed_turn(crew)  # warm-up: loads the embedding model and opens the stores
        runs = [timed_turn(crew) for _ in range(5)]
        walls = [w for w, _ in runs]
        delays = [c * 0.1 for _, c in runs]
        fractions = [(w - d) / w for w, d in zip(walls, delays)]
        overhead = statistics.median(fractions)

        one = crew_with(data, 1.0, 1)
        four = crew_with(data, 1.0, 4)
        wall_one, calls_one = timed_turn(one)
        wall_four, calls_four = timed_turn(four)
    figures = {
        "overhead_fraction": round(overhead, 4),
        "turn_wall_s": round(statistics.median(walls), 3),
        "model_delay_s": round(statistics.median(delays), 3),
        "wall_1_subquestion_s": round(wall_one, 3),
        "wall_4_subquestions_s": round(wall_four, 3),
        "parallel_ratio": round(wall_four / wall_one, 3),
    }
    report(
        "Crew overhead and parallel research (fake model)",
        [
            ("turn wall, fake?delay=0.1 (s)", figures["turn_wall_s"], "median of 5 turns"),
            ("sum of model delays (s)", figures["model_delay_s"], "model calls x 0.1 s"),
            ("overhead_fraction", figures["overhead_fraction"], "(wall - delays) / wall, goal <= 0.05"),
            ("wall, 1 sub-question, delay=1 (s)", figures["wall_1_subquestion_s"], f"{calls_one} model calls"),
            ("wall, 4 sub-questions, delay=1 (s)", figures["wall_4_subquestions_s"], f"{calls_four} model calls"),
            ("parallel_ratio", figures["parallel_ratio"], "4 vs 1, goal <= 1.3"),
        ],
        figures,
        a.json,
    )


if __name__ == "__main__":
    main()
