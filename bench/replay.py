"""Replay recorded drafts through the turn's last step, without a model: what the grounded pipeline makes of drafts
the embedded model actually wrote.

    PYTHONPATH=$PWD/src .venv/bin/python bench/replay.py --data-dir DIR ROWS.json [ROWS.json ...]

ROWS are `bench/quality.py --rows` files of runs with answers; their free-generation answers are the writer's drafts
as written. Each is handed, with the evidence the researcher's memory search gives for its question today, to
`crew.grounding.settle.settle`: the draft kept as written, or quotes, or "not found". Run it with one engine's
`PYTHONPATH` and then another's on the same rows and data dir to see whether a change to the support check or the
quotes changes what a person gets from the same drafts; a model run cannot tell, its drafts change from run to run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from quality import workspace_of

from crew.engine.agents.researcher import evidence_of
from crew.engine.service import Crew
from crew.engine.tools.search_memory import search_memory
from crew.evaluation.metrics import key_terms_found
from crew.evaluation.questions import parse_questions
from crew.grounding.settle import Thresholds, settle, similarity_of
from crew.settings import ROLES, Settings

SETS = Path(__file__).resolve().parent / "sets"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", type=Path, required=True, help="the data dir the rows were made on")
    p.add_argument("rows", type=Path, nargs="+", help="bench/quality.py --rows files with free-generation answers")
    a = p.parse_args()
    settings = Settings(data_dir=a.data_dir, model="fake", web_search=False, **{f"model_{r}": None for r in ROLES})
    crew = Crew.from_settings(settings)
    terms = {q.text: q.terms for path in SETS.glob("*.txt") for q in parse_questions(path.read_bytes(), path.name)}
    kinds: dict[str, int] = {}
    rates: list[float] = []
    for rows_file in a.rows:
        for name, rows in json.loads(rows_file.read_text())["runs"].get("answers-free", {}).items():
            memory = crew.memory.workspace(workspace_of(name))
            for row in rows:
                if not row.get("answer"):
                    continue
                evidence = evidence_of(search_memory(memory, row["question"], k=settings.top_k).hits, question=1)
                settled = settle(row["question"], evidence, [row["answer"]], None, Thresholds(),
                                 similarity_of(memory.memory.embedder))
                kinds[settled.kind] = kinds.get(settled.kind, 0) + 1
                wanted = terms.get(row["question"], ())
                if wanted:
                    rates.append(len(key_terms_found(settled.answer, wanted)) / len(wanted))
    print("| drafts | kept as written | quoted | not found | key terms of the answers |\n| --- | --- | --- | --- | --- |")
    print(f"| {sum(kinds.values())} | {kinds.get('written', 0)} | {kinds.get('extractive', 0)} | "
          f"{kinds.get('not_found', 0)} | {sum(rates) / len(rates):.3f} |" if rates else "| 0 | - | - | - | - |")


if __name__ == "__main__":
    sys.exit(main())
