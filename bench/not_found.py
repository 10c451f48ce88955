"""Calibrate when the crew says "the documents do not answer this": the relevance of the best
passages found, on answerable questions and on questions the documents do not answer.

    .venv/bin/python bench/not_found.py --data-dir DIR [--holdout] [--json]

DIR is a data dir `bench/quality.py --data-dir DIR` filled (one workspace per set). For each
question the researcher's search (top_k passages, hybrid) gives the two signals the gate reads
(crew.extractive.relevance): the share of the question's words in the best passage, and the best
cosine similarity. The table shows, for each pair of thresholds on a grid, how many answerable
questions would wrongly get "not found" and how many unanswerable ones rightly would; the chosen
pair is the one catching the most unanswerable questions while wrongly refusing at most 5 % of
the answerable ones. Tune on the tuning sets only; --holdout checks the choice.
"""

from __future__ import annotations

import argparse
import glob
from pathlib import Path

from _report import report

from crew.evaluation.questions import parse_questions
from crew.grounding.extractive import relevance
from crew.engine.service import Crew
from crew.settings import Settings

HERE = Path(__file__).resolve().parent
WORDS = [round(0.05 * i, 2) for i in range(0, 13)]
MEANING = [round(0.10 + 0.02 * i, 2) for i in range(0, 26)] + [1.01]
MAX_WRONG = 0.05


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--holdout", action="store_true")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    settings = Settings(data_dir=a.data_dir, model="fake", web_search=False)
    crew = Crew.from_settings(settings)
    signals = []  # (answerable, words, meaning)
    for path in sorted(glob.glob(str(HERE / "sets" / ("*.holdout.txt" if a.holdout else "*.tune.txt")))):
        workspace = Path(path).name.split(".")[0]
        for q in parse_questions(Path(path).read_bytes(), Path(path).name):
            hits = crew.search_documents(workspace, q.text, k=settings.top_k)
            words, meaning = relevance(q.text, [h.text for h in hits], [h.similarity for h in hits])
            signals.append((q.source is not None, words, meaning))
    answerable = [s for s in signals if s[0]]
    other = [s for s in signals if not s[0]]
    best = None
    for w in WORDS:
        for m in MEANING:
            wrong = sum(1 for _, x, y in answerable if x < w and y < m) / max(1, len(answerable))
            caught = sum(1 for _, x, y in other if x < w and y < m) / max(1, len(other))
            if wrong <= MAX_WRONG and (best is None or (caught, -wrong) > (best[2], -best[3])):
                best = (w, m, caught, wrong)
    current = (settings.relevance_words, settings.relevance_meaning)
    cur_wrong = sum(1 for _, x, y in answerable if x < current[0] and y < current[1]) / max(1, len(answerable))
    cur_caught = sum(1 for _, x, y in other if x < current[0] and y < current[1]) / max(1, len(other))
    figures = {
        "answerable": len(answerable), "unanswerable": len(other),
        "current_thresholds": current, "current_wrong_not_found": round(cur_wrong, 3),
        "current_caught": round(cur_caught, 3),
        "best_thresholds": best[:2] if best else None, "best_caught": round(best[2], 3) if best else None,
        "best_wrong_not_found": round(best[3], 3) if best else None,
        "unanswerable_signals": [(round(x, 3), round(y, 3)) for _, x, y in other],
        "answerable_lowest_meaning": sorted(round(y, 3) for _, _, y in answerable)[:8],
    }
    report(
        f"'Not found' gate on the {'held-out' if a.holdout else 'tuning'} sets",
        [
            ("questions (answerable / not in the documents)", f"{len(answerable)} / {len(other)}", ""),
            ("settings: words, meaning", f"{current[0]}, {current[1]}", ""),
            ("  answerable wrongly refused", figures["current_wrong_not_found"], "goal <= 0.05"),
            ("  unanswerable rightly refused", figures["current_caught"], ""),
            ("best on this set: words, meaning", f"{best[0]}, {best[1]}" if best else "-", f"grid, wrong <= {MAX_WRONG}"),
            ("  answerable wrongly refused", figures["best_wrong_not_found"], ""),
            ("  unanswerable rightly refused", figures["best_caught"], ""),
        ],
        figures,
        a.json,
    )


if __name__ == "__main__":
    main()
