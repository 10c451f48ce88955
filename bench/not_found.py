"""Calibrate when the crew says "the documents do not answer this": the relevance of the best
passages found, on answerable questions and on questions the documents do not answer.

    .venv/bin/python bench/not_found.py --data-dir DIR [--holdout] [--json]

DIR is a data dir `bench/quality.py --data-dir DIR` filled (one workspace per set). For each
question the researcher's search (top_k passages, hybrid) gives the two signals the gate reads
(crew.grounding.extractive.relevance): the share of the question's words in the best passage, and the best
cosine similarity; and the rule that comes first (crew.grounding.names): a name the question asks about that
no passage mentions. The table shows how many answerable questions wrongly get "not found" and how many
unanswerable ones rightly do, by the names alone, by the thresholds alone and by both (what the crew does);
for the thresholds, the pair on a grid that catches the most unanswerable questions, with the names rule in
place, while wrongly refusing at most 5 % of the answerable ones. Tune on the tuning sets only; --holdout
checks the choice.
"""

from __future__ import annotations

import argparse
import glob
from pathlib import Path

from _report import report

from crew.evaluation.questions import parse_questions
from crew.grounding.extractive import relevance
from crew.grounding.names import unmentioned
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
    signals = []  # (answerable, words, meaning, a name no passage mentions)
    for path in sorted(glob.glob(str(HERE / "sets" / ("*.holdout.txt" if a.holdout else "*.tune.txt")))):
        workspace = Path(path).name.split(".")[0]
        for q in parse_questions(Path(path).read_bytes(), Path(path).name):
            hits = crew.search_documents(workspace, q.text, k=settings.top_k)
            words, meaning = relevance(q.text, [h.text for h in hits], [h.similarity for h in hits])
            signals.append((q.source is not None, words, meaning, bool(unmentioned(q.text, [h.text for h in hits]))))
    answerable = [s for s in signals if s[0]]
    other = [s for s in signals if not s[0]]

    def rates(refuse) -> tuple[float, float]:
        """(answerable wrongly refused, unanswerable rightly refused) under a refusal rule."""
        return (sum(map(refuse, answerable)) / max(1, len(answerable)), sum(map(refuse, other)) / max(1, len(other)))

    best = None
    for w in WORDS:
        for m in MEANING:
            wrong, caught = rates(lambda s: s[3] or (s[1] < w and s[2] < m))
            if wrong <= MAX_WRONG and (best is None or (caught, -wrong) > (best[2], -best[3])):
                best = (w, m, caught, wrong)
    current = (settings.relevance_words, settings.relevance_meaning)
    names_only = rates(lambda s: s[3])
    thresholds_only = rates(lambda s: s[1] < current[0] and s[2] < current[1])
    cur_wrong, cur_caught = rates(lambda s: s[3] or (s[1] < current[0] and s[2] < current[1]))
    figures = {
        "answerable": len(answerable), "unanswerable": len(other),
        "current_thresholds": current, "current_wrong_not_found": round(cur_wrong, 3),
        "current_caught": round(cur_caught, 3),
        "names_only_wrong_not_found": round(names_only[0], 3), "names_only_caught": round(names_only[1], 3),
        "thresholds_only_wrong_not_found": round(thresholds_only[0], 3),
        "thresholds_only_caught": round(thresholds_only[1], 3),
        "best_thresholds": best[:2] if best else None, "best_caught": round(best[2], 3) if best else None,
        "best_wrong_not_found": round(best[3], 3) if best else None,
        "unanswerable_signals": [(round(x, 3), round(y, 3), n) for _, x, y, n in other],
        "answerable_lowest_meaning": sorted(round(y, 3) for _, _, y, _ in answerable)[:8],
    }
    report(
        f"'Not found' gate on the {'held-out' if a.holdout else 'tuning'} sets",
        [
            ("questions (answerable / not in the documents)", f"{len(answerable)} / {len(other)}", ""),
            ("names alone: answerable wrongly / unanswerable rightly refused",
             f"{figures['names_only_wrong_not_found']} / {figures['names_only_caught']}", "a name no passage mentions"),
            (f"thresholds alone ({current[0]}, {current[1]}): wrongly / rightly",
             f"{figures['thresholds_only_wrong_not_found']} / {figures['thresholds_only_caught']}", "words, meaning"),
            ("settings: words, meaning, and the names", f"{current[0]}, {current[1]}", "what the crew does"),
            ("  answerable wrongly refused", figures["current_wrong_not_found"], "goal <= 0.05"),
            ("  unanswerable rightly refused", figures["current_caught"], ""),
            ("best on this set: words, meaning", f"{best[0]}, {best[1]}" if best else "-",
             f"grid with the names, wrong <= {MAX_WRONG}"),
            ("  answerable wrongly refused", figures["best_wrong_not_found"], ""),
            ("  unanswerable rightly refused", figures["best_caught"], ""),
        ],
        figures,
        a.json,
    )


if __name__ == "__main__":
    main()
